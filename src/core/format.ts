/**
 * The one number formatting module, for every layer that writes numbers for people: reports, the
 * terminal and profile answers. Report style ("12.3 ms": three significant digits, zeros trimmed)
 * and the `terminal` style ("12.3ms": fixed decimals per range, so live columns do not jitter).
 * Locale-independent on purpose (golden tests, CI logs): no toLocaleString.
 */

/** Integer with thin grouping: 12345 → "12,345". */
export function fmtInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  const s = Math.round(Math.abs(n)).toString();
  const grouped = s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (n < 0 ? '-' : '') + grouped;
}

/** Three significant digits, no exponent for the ranges we show: 0.0123, 1.23, 12.3, 123, 1,234. */
export function fmtNum(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 10 ** digits) return fmtInt(n);
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  return trimZeros(n.toFixed(Math.min(decimals, 6)));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Milliseconds: "0.42 ms", "12.3 ms", "812 ms", "1.23 s", "12.3 s". */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (Math.abs(ms) >= 1000) return `${fmtNum(ms / 1000)} s`;
  return `${fmtNum(ms)} ms`;
}

/** Per second: "39.8/s". */
export function fmtRate(perS: number | null | undefined): string {
  if (perS === null || perS === undefined || !Number.isFinite(perS)) return '–';
  return `${fmtNum(perS)}/s`;
}

/** Fraction as percent: 0.01234 → "1.23%"; exact 0 → "0%". */
export function fmtPct(fraction: number | null | undefined, digits = 3): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return '–';
  return `${fmtNum(fraction * 100, digits)}%`;
}

/** Signed relative change: +12.3%, −4.1%. */
export function fmtSignedPct(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return '–';
  const s = fmtNum(Math.abs(pct), 3);
  return `${pct > 0 ? '+' : pct < 0 ? '−' : '±'}${s}%`;
}

/** Signed percentage points from a fraction difference: +0.42 pp. */
export function fmtSignedPp(diffFraction: number | null | undefined): string {
  if (diffFraction === null || diffFraction === undefined || !Number.isFinite(diffFraction)) return '–';
  const pp = Math.round(diffFraction * 100 * 100) / 100;
  return `${pp > 0 ? '+' : pp < 0 ? '−' : '±'}${fmtNum(Math.abs(pp), 3)} pp`;
}

/** p-value: "<0.001", "0.032", "0.41". */
export function fmtP(p: number | null | undefined): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  if (p < 0.001) return '<0.001';
  return fmtNum(p, 2);
}

/** Seconds: "30 s", "2 m 05 s". */
export function fmtDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  if (s < 120) return `${fmtNum(s)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 120) return `${m} m ${String(rest).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

/** Seconds in report style, never switching unit: "45 s", "300 s" (profile answers quote settings this way). */
export function fmtSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '–';
  return `${fmtNum(s)} s`;
}

/** Milliseconds in report style, never switching unit: "1,250 ms" (profile answers compare ms with ms). */
export function fmtMillis(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  return `${fmtNum(ms)} ms`;
}

/**
 * The terminal style: compact ("12.3ms", "1.23s", "12.3k", "0.50%", "1m05s"), fixed decimals
 * per range; '—' for a missing duration.
 */
export const terminal = {
  ms(ms: number | undefined | null): string {
    if (ms === undefined || ms === null || Number.isNaN(ms)) return '—';
    if (ms >= 10_000) return `${(ms / 1000).toFixed(1)}s`;
    if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
    if (ms >= 100) return `${ms.toFixed(0)}ms`;
    if (ms >= 10) return `${ms.toFixed(1)}ms`;
    return `${ms.toFixed(2)}ms`;
  },
  num(n: number): string {
    if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
    if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
    return Number.isInteger(n) ? String(n) : n.toFixed(1);
  },
  /** Fraction as percent: two decimals, three below 0.1%. */
  pct(x: number): string {
    return `${(x * 100).toFixed(x > 0 && x < 0.001 ? 3 : 2)}%`;
  },
  /** Seconds, whole: "45s", "1m05s". */
  duration(s: number): string {
    const m = Math.floor(s / 60);
    const sec = Math.floor(s % 60);
    return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
  },
};
