/**
 * Report-side formatting: metric values by their unit, names in words. The number formatters
 * themselves are in src/core/format.ts (one module for reports, terminal and profiles).
 */
import type { GeneratorHealth } from '../core/results.js';
import { fmtDuration, fmtInt, fmtMs, fmtNum, fmtP, fmtPct, fmtRate, fmtSignedPp } from '../core/format.js';
import { CHECK_KIND_NAMES, checkFigures } from '../plan/check-kinds.js';

export {
  fmtDuration,
  fmtInt,
  fmtMillis,
  fmtMs,
  fmtNum,
  fmtP,
  fmtPct,
  fmtRate,
  fmtSeconds,
  fmtSignedPct,
  fmtSignedPp,
  terminal,
} from '../core/format.js';

/** Kind of quantity a metric (threshold expression or metric name) measures, by its name. */
export type MetricUnit = 'ms' | 's' | 'fraction' | 'fraction_diff' | 'per_s' | 'count';

export function unitOfMetric(expression: string): MetricUnit {
  const name = expression.split(/[<>=!]/)[0].toLowerCase();
  // A difference of two fractions (accuracy drop): percentage points, not percent.
  if (/accuracy_drop/.test(name)) return 'fraction_diff';
  if (/error_rate|accuracy|ratio|fraction|availability|success|quality|_pct|percent|goodput_ratio/.test(name))
    return 'fraction';
  if (/throughput|rps|per_s|rate\b|req\/s|goodput/.test(name)) return 'per_s';
  if (/_s$/.test(name.trim())) return 's';
  if (/latency|service_time|ttfb|ttft|itl|tpot|lag|_ms\b|duration|p\d|\bmax\b|\bmean\b|\bmin\b/.test(name)) return 'ms';
  return 'count';
}

/** A value in a metric's base unit (ms, fraction, per second), formatted for people. */
export function fmtMetricValue(expressionOrMetric: string, value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const cmp = comparisonValue(expressionOrMetric.split(/[<>=!]/)[0].trim(), value);
  if (cmp !== null) return cmp;
  const fig = fmtCheckFigure(expressionOrMetric.split(/[<>=!]/)[0].trim(), value);
  if (fig !== null) return fig;
  switch (unitOfMetric(expressionOrMetric)) {
    case 'ms':
      return fmtMs(value);
    case 's':
      return fmtDuration(value);
    case 'fraction':
      return fmtPct(value);
    case 'fraction_diff':
      return fmtSignedPp(value);
    case 'per_s':
      return fmtRate(value);
    default:
      return fmtNum(value);
  }
}

/** Release-comparison threshold values (`comparison.verdict`, `ab.accuracy.diff`, …); null for other metrics. */
function comparisonValue(name: string, v: number): string | null {
  if (name === 'comparison.verdict') return ['fail', 'inconclusive', 'marginal', 'pass'][v] ?? fmtNum(v);
  if (name === 'shadow.agreement') return fmtPct(v);
  if (!name.startsWith('ab.')) return null;
  if (name.endsWith('.p')) return fmtP(v);
  if (name.endsWith('.power')) return fmtPct(v);
  if (name.startsWith('ab.latency.')) return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${fmtMs(Math.abs(v))}`;
  return fmtSignedPp(v);
}

/**
 * Whether a scenario's scoring yields an accuracy: it scored rows and is not a regression task
 * (MAE/RMSE; its `quality.correct` counter does not exist, and 0 / scored would read "0%").
 */
export function scoresAccuracy(sc: { counters?: Record<string, number>; quality?: unknown }): boolean {
  const c = sc.counters ?? {};
  if (!((c['quality.scored'] ?? 0) > 0)) return false;
  const task = (sc.quality as { task?: unknown } | undefined)?.task;
  if (task === 'regression') return false;
  if (
    task === undefined &&
    c['quality.correct'] === undefined &&
    (c['quality.abs_err_sum'] !== undefined || c['quality.sq_err_sum'] !== undefined)
  )
    return false;
  return true;
}

/**
 * summary.generator.windows_over_limit in words ("stalled over 50 ms in 3 of 40 windows"), or null
 * when no window was over the limit (or the summary predates the field): shown only when non-zero.
 * `ms` formats the limit (report style by default; the terminal passes its own).
 */
export function windowsOverLimitText(
  g: Pick<GeneratorHealth, 'windows_over_limit'> | undefined,
  ms: (x: number) => string = fmtMs,
): string | null {
  const w = g?.windows_over_limit;
  if (!w || !(w.count > 0)) return null;
  return `stalled over ${ms(w.limit_ms)} in ${fmtInt(w.count)} of ${fmtInt(w.of)} windows`;
}

/** summary.generator.http_client in words. */
export const HTTP_CLIENT_NAME: Record<string, string> = {
  builtin: 'built-in HTTP/1.1',
  undici: 'undici',
};

/** Bytes for people: 512 B, 1.5 KB, 8 MB (binary multiples: a sweep doubles from 1 KB). */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1024 ** 3) return `${fmtNum(n / 1024 ** 3)} GB`;
  if (Math.abs(n) >= 1024 ** 2) return `${fmtNum(n / 1024 ** 2)} MB`;
  if (Math.abs(n) >= 1024) return `${fmtNum(n / 1024)} KB`;
  return `${fmtInt(n)} B`;
}

/** A check's figure (`network.connect.p99`, in its base unit) for people; null when the name is not a check figure. */
export function fmtCheckFigure(name: string, value: number | null | undefined): string | null {
  const kind = name.slice(0, name.indexOf('.'));
  if (!(CHECK_KIND_NAMES as readonly string[]).includes(kind)) return null;
  const unit = checkFigures([kind]).get(name);
  if (unit === undefined) return null;
  if (value === null || value === undefined) return '–';
  return unit === 'ms'
    ? fmtMs(value)
    : unit === 'bytes'
      ? fmtBytes(value)
      : unit === 'bytes_per_s'
        ? `${fmtBytes(value)}/s`
        : fmtNum(value);
}
