/**
 * The target's own metrics (plan `monitor:`) in every report: terminal lines, summary.md rows, and
 * report.html's table and charts on the load's time axis (seconds since the load started, as the
 * scenario charts; the margins before and after the load are drawn too). Read from summary.json's
 * target_metrics and bottleneck, and target-metrics.ndjson.
 */
import type { Summary, TargetMetricSummary, TargetWindowRecord } from '../core/results.js';
import { fmtMs, fmtNum, fmtRate } from '../core/format.js';
import type { ChartSeries, ChartSpec } from './chart-spec.js';

function fmtBytes(b: number): string {
  const a = Math.abs(b);
  if (a >= 1e9) return `${fmtNum(b / 1e9)} GB`;
  if (a >= 1e6) return `${fmtNum(b / 1e6)} MB`;
  if (a >= 1e3) return `${fmtNum(b / 1e3)} kB`;
  return `${fmtNum(b)} B`;
}

/** A target metric's value in its unit. */
export function fmtTarget(unit: string, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  switch (unit) {
    case 'percent':
      return `${fmtNum(v)}%`;
    case 'bytes':
      return fmtBytes(v);
    case 'bytes_per_s':
      return `${fmtBytes(v)}/s`;
    case 'ms':
      return fmtMs(v);
    case 'per_s':
      return fmtRate(v);
    default:
      return fmtNum(v);
  }
}

/** A `target.<name>.<stat>` threshold's value in the metric's unit (growth per hour); null for other thresholds. */
export function fmtTargetThreshold(
  summary: Pick<Summary, 'target_metrics'>,
  expression: string,
  v: number | null,
): string | null {
  const m = /^target\.([a-z][a-z0-9_]*)\.([a-z0-9]+)/.exec(expression.trim());
  if (!m) return null;
  const unit = summary.target_metrics?.[m[1]]?.unit ?? '';
  const s = fmtTarget(unit, v);
  return m[2] === 'growth' && s !== '–' ? `${s}/h` : s;
}

/** One row per target metric: name, unit, min, mean, max, last, growth/h (formatted). */
export function targetRows(summary: Pick<Summary, 'target_metrics'>): string[][] {
  return Object.entries(summary.target_metrics ?? {}).map(([name, t]: [string, TargetMetricSummary]) => [
    name,
    fmtTarget(t.unit, t.min),
    fmtTarget(t.unit, t.mean),
    fmtTarget(t.unit, t.max),
    fmtTarget(t.unit, t.last),
    // A trend per hour means something for sizes (memory growth); for rates and times it is noise.
    t.growth_per_hour !== undefined && t.unit === 'bytes' ? `${fmtTarget(t.unit, t.growth_per_hour)}/h` : '',
    `${t.windows}/${t.of}${t.kind === 'histogram' ? ` · p99 ${fmtTarget(t.unit, t.p99)}` : ''}`,
  ]);
}

export const TARGET_HEAD = ['target metric', 'min', 'mean', 'max', 'last', 'growth', 'windows'];

/** summary.md lines (empty when the run read no target metrics). */
export function targetMarkdown(summary: Pick<Summary, 'target_metrics' | 'bottleneck'>): string[] {
  const rows = targetRows(summary);
  if (rows.length === 0 && !summary.bottleneck) return [];
  const out = ['### Target metrics', ''];
  if (rows.length > 0) {
    out.push(`| ${TARGET_HEAD.join(' | ')} |`, `|${TARGET_HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const r of rows) out.push(`| \`${r[0]}\` | ${r.slice(1).join(' | ')} |`);
    out.push('');
  }
  if (summary.bottleneck) out.push(`**Bottleneck:** ${summary.bottleneck.text}`, '');
  return out;
}

export const ALERT_HEAD = ['alert', 'expected', 'pending', 'firing', 'resolved', 'false alarms', ''];

// One decimal: the figures are ± one query step (1 s) anyway.
const secs = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v.toFixed(1)} s`);

/** Alert checks (plan `monitor.alerts`): one row each; latencies from the cause's start (pending, firing) and end (resolved). */
export function alertRows(summary: Pick<Summary, 'alerts'>): string[][] {
  return (summary.alerts ?? []).map((a) => [
    a.name,
    a.expect === 'never'
      ? 'never fires'
      : `fires ≤ ${a.fires_within_s} s of ${a.cause?.name ?? '?'}${a.resolves_within_s !== undefined ? `, resolves ≤ ${a.resolves_within_s} s` : ''}`,
    secs(a.pending_after_s),
    a.expect === 'never' ? (a.fired ? 'fired' : 'no') : a.fired ? secs(a.firing_after_s) : 'never',
    secs(a.resolved_after_s),
    String(a.false_alarms),
    a.ok ? 'ok' : 'FAILED',
  ]);
}

/** One sentence per alert check that Alertmanager was read for (plan `monitor.alertmanager`). */
export function alertmanagerLines(summary: Pick<Summary, 'alerts'>): string[] {
  const out: string[] = [];
  for (const a of summary.alerts ?? []) {
    const v = a.alertmanager;
    if (!v) continue;
    if (!v.reached) {
      out.push(`${a.name}: never reached Alertmanager${a.expect === 'never' ? ' (no one was paged)' : ''}.`);
      continue;
    }
    const when =
      v.seen_after_s !== null && a.cause
        ? `${v.seen_after_s.toFixed(1)} s after \`${a.cause.name}\` started`
        : `at ${secs(v.seen_s)} into the load`;
    const why = [
      ...(v.silenced_by.length > 0 ? [`silenced by ${v.silenced_by.join(', ')}`] : []),
      ...(v.inhibited_by.length > 0 ? [`inhibited by ${v.inhibited_by.join(', ')}`] : []),
    ];
    out.push(
      `${a.name}: reached Alertmanager ${when} (± ${v.poll_s} s; startsAt ${secs(v.starts_at_s)}), ` +
        `${v.states.join(' → ') || 'state unknown'}${why.length ? ` (${why.join('; ')})` : ''}` +
        `${v.receivers.length ? `, receivers ${v.receivers.join(', ')}` : ', no receiver'} — ` +
        `${v.would_notify ? 'it would notify (after the route’s group_wait)' : 'no one would be notified'}.`,
    );
  }
  return out;
}

/** summary.md lines of the alert checks (empty without them). */
export function alertMarkdown(summary: Pick<Summary, 'alerts'>): string[] {
  const rows = alertRows(summary);
  if (rows.length === 0) return [];
  const out = ['### Alert checks', '', `| ${ALERT_HEAD.join(' | ')} |`, `|${ALERT_HEAD.map(() => '---').join('|')}|`];
  for (const r of rows) out.push(`| \`${r[0]}\` | ${r.slice(1).join(' | ')} |`);
  out.push('', '<sub>pending and firing: seconds after the cause started; resolved: after it ended.</sub>', '');
  const am = alertmanagerLines(summary);
  if (am.length > 0) out.push(...am.map((l) => `- Alertmanager: ${l}`), '');
  for (const a of summary.alerts ?? []) for (const why of a.reasons) out.push(`- ✗ ${why}`);
  if ((summary.alerts ?? []).some((a) => !a.ok)) out.push('');
  return out;
}

const PALETTE = ['#2563eb', '#d97706', '#dc2626', '#0d9488', '#7c3aed', '#16a34a', '#db2777', '#6b7280'];

/** Charts of target-metrics.ndjson, one per unit, on the load's time axis; Preflight's throughput beside the target's rates. */
export function targetChartSpecs(
  records: readonly TargetWindowRecord[],
  summary: Pick<Summary, 'target_metrics'>,
  throughput: ReadonlyMap<number, number>,
): Omit<ChartSpec, 'id'>[] {
  const tm = summary.target_metrics ?? {};
  if (records.length === 0 || Object.keys(tm).length === 0) return [];
  const recs = [...records].sort((a, b) => a.t - b.t);
  const xs = recs.map((r) => r.start_s);
  const value = (r: TargetWindowRecord, name: string): number | null => {
    const v = r.values[name];
    if (typeof v === 'number') return v;
    if (v && typeof v === 'object') return v.mean;
    return null;
  };
  const byUnit = new Map<string, string[]>();
  for (const [name, t] of Object.entries(tm)) byUnit.set(t.unit, [...(byUnit.get(t.unit) ?? []), name]);
  const Y: Record<string, { label: string; unit: ChartSpec['y']['unit']; div: number }> = {
    percent: { label: '%', unit: '%', div: 1 },
    bytes: { label: 'MB', unit: '', div: 1e6 },
    bytes_per_s: { label: 'MB/s', unit: '', div: 1e6 },
    ms: { label: 'ms', unit: 'ms', div: 1 },
    per_s: { label: 'per second', unit: '/s', div: 1 },
  };
  const specs: Omit<ChartSpec, 'id'>[] = [];
  for (const [unit, names] of byUnit) {
    const y = Y[unit] ?? { label: unit, unit: '' as const, div: 1 };
    const series: ChartSeries[] = names.map((n, i) => ({
      label: n,
      values: recs.map((r) => {
        const v = value(r, n);
        return v === null ? null : v / y.div;
      }),
      color: PALETTE[i % PALETTE.length],
      width: 2,
    }));
    if (unit === 'per_s' && throughput.size > 0)
      series.push({
        label: 'Preflight throughput',
        values: recs.map((r) => throughput.get(r.t) ?? null),
        color: '#9ca3af',
        dash: true,
        width: 1.5,
      });
    specs.push({
      title: `Target: ${names.join(', ')}`,
      x: { label: 'time (s)', kind: 'time' },
      y: { label: y.label, unit: y.unit, min: 0 },
      xs,
      series,
    });
  }
  return specs;
}

/** Tolerant read of target-metrics.ndjson: bad lines skipped (and counted). */
export function parseTargetWindows(text: string): { records: TargetWindowRecord[]; skipped: number } {
  const records: TargetWindowRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as TargetWindowRecord;
      if (typeof r?.t === 'number' && typeof r.start_s === 'number' && r.values && typeof r.values === 'object')
        records.push(r);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}
