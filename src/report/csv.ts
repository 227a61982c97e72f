/**
 * intervals.csv: the per-window series for spreadsheets and notebooks. One row per window per
 * scenario (and per group), rows ordered by window then scenario then group (scenario row first).
 *
 * Columns, in this order: the fixed columns below; then `err_<class>` for the error classes seen
 * (known classes in ERROR_CLASSES order, then others alphabetically); then `counter.<name>` for every
 * counter seen (alphabetical); then `<histogram>_p50_ms,_p90_ms,_p99_ms,_max_ms` for every extra
 * histogram seen (alphabetical). Missing values are empty cells.
 */
import { writeFileAtomic } from '../core/results-files.js';
import { join } from 'node:path';
import { ERROR_CLASSES } from '../core/types.js';
import type { IntervalRecord } from '../core/results.js';
import { loadResults } from './load.js';

export const CSV_FIXED_COLUMNS = [
  'scenario',
  'group',
  't',
  'start_s',
  'duration_s',
  'requests',
  'ok',
  'errors',
  'error_rate',
  'throughput',
  'target_rate',
  'in_flight',
  'vus',
  'late',
  'latency_p50_ms',
  'latency_p90_ms',
  'latency_p99_ms',
  'latency_max_ms',
  'service_time_p50_ms',
  'service_time_p90_ms',
  'service_time_p99_ms',
  'service_time_max_ms',
] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(10))) : '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text (header + rows, \n line ends). */
export function renderCsv(intervals: readonly IntervalRecord[]): string {
  const errSeen = new Set<string>();
  const counterSeen = new Set<string>();
  const histSeen = new Set<string>();
  for (const r of intervals) {
    for (const k of Object.keys(r.errors ?? {})) errSeen.add(k);
    for (const k of Object.keys(r.counters ?? {})) counterSeen.add(k);
    for (const k of Object.keys(r.histograms_ms ?? {})) histSeen.add(k);
  }
  const known = ERROR_CLASSES.filter((c) => errSeen.has(c));
  const other = [...errSeen].filter((c) => !(ERROR_CLASSES as readonly string[]).includes(c)).sort();
  const errCols = [...known, ...other];
  const counterCols = [...counterSeen].sort();
  const histCols = [...histSeen].sort();
  const header = [
    ...CSV_FIXED_COLUMNS,
    ...errCols.map((c) => `err_${c}`),
    ...counterCols.map((c) => `counter.${c}`),
    ...histCols.flatMap((h) => {
      const base = h.replace(/_ms$/, '');
      return [`${base}_p50_ms`, `${base}_p90_ms`, `${base}_p99_ms`, `${base}_max_ms`];
    }),
  ];
  const rows = [...intervals].sort(
    (a, b) =>
      a.t - b.t ||
      a.scenario.localeCompare(b.scenario) ||
      (a.group === undefined ? -1 : 0) - (b.group === undefined ? -1 : 0) ||
      (a.group ?? '').localeCompare(b.group ?? ''),
  );
  const lines = [header.join(',')];
  for (const r of rows) {
    const errTotal = Object.values(r.errors ?? {}).reduce((a, b) => a + b, 0);
    const cells: unknown[] = [
      r.scenario,
      r.group ?? '',
      r.t,
      r.start_s,
      r.duration_s,
      r.requests,
      r.ok,
      errTotal,
      r.requests > 0 ? errTotal / r.requests : null,
      r.throughput,
      r.target_rate,
      r.in_flight,
      r.vus,
      r.late,
      r.latency_ms?.p50,
      r.latency_ms?.p90,
      r.latency_ms?.p99,
      r.latency_ms?.max,
      r.service_time_ms?.p50,
      r.service_time_ms?.p90,
      r.service_time_ms?.p99,
      r.service_time_ms?.max,
      ...errCols.map((c) => r.errors?.[c] ?? 0),
      ...counterCols.map((c) => r.counters?.[c] ?? 0),
      ...histCols.flatMap((h) => {
        const st = r.histograms_ms?.[h];
        return [st?.p50, st?.p90, st?.p99, st?.max];
      }),
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Write DIR/intervals.csv. Returns its path. */
export async function writeCsv(dir: string): Promise<string> {
  const r = await loadResults(dir);
  const p = join(dir, 'intervals.csv');
  await writeFileAtomic(p, renderCsv(r.intervals));
  return p;
}
