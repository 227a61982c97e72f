/**
 * Request traces for the replay executor: a CSV or JSON Lines file with one request per record,
 * its time in a column (numbers in s/ms/us/ns, or ISO 8601 dates) and optionally the data row it
 * carries. Times become offsets (seconds) from the earliest one, divided by the speed factor, in
 * time order (records out of order are sorted, stably).
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
import type { TracePlan } from '../plan/types.js';
import { parseCsv } from './csv.js';

export interface Trace {
  /** Seconds from the start of the replay, non-decreasing (speed applied). */
  timesS: Float64Array;
  /** Data row of each request (when the trace has a row column). */
  rows?: Int32Array;
  /** Span of the replay, seconds (last time). */
  durationS: number;
}

const UNIT_S: Record<TracePlan['unit'], number> = { s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };
const MAX_PROBLEMS = 10;

/** Parses trace text (exported for tests; loadTrace reads the file). */
export function parseTrace(text: string, plan: Omit<TracePlan, 'file'> & { file?: string }): Trace {
  const file = plan.file ?? '<trace>';
  const problems: Problem[] = [];
  const times: number[] = [];
  const rows: number[] = [];
  const add = (line: number, t: unknown, r: unknown): void => {
    let v: number;
    if (typeof t === 'number') v = t * UNIT_S[plan.unit];
    else if (typeof t === 'string' && /^\s*[+-]?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(t))
      v = Number(t) * UNIT_S[plan.unit];
    else if (typeof t === 'string' && t.trim() !== '') v = Date.parse(t) / 1000;
    else v = NaN;
    if (!Number.isFinite(v)) {
      if (problems.length < MAX_PROBLEMS)
        problems.push({
          file,
          line,
          message: `\`${plan.time}\` is not a time: ${JSON.stringify(t ?? null).slice(0, 40)}`,
          hint: `numbers (unit ${plan.unit}) or ISO 8601 dates`,
        });
      return;
    }
    if (plan.row !== undefined) {
      const n = typeof r === 'number' ? r : typeof r === 'string' && /^\s*\d+\s*$/.test(r) ? Number(r) : NaN;
      if (!Number.isInteger(n) || n < 0) {
        if (problems.length < MAX_PROBLEMS)
          problems.push({
            file,
            line,
            message: `\`${plan.row}\` is not a row index (an integer ≥ 0): ${JSON.stringify(r ?? null).slice(0, 40)}`,
          });
        return;
      }
      rows.push(n);
    }
    times.push(v);
  };
  if (plan.format === 'csv') {
    let header: string[] | null = null;
    let ti = -1;
    let ri = -1;
    parseCsv(text, (rec) => {
      if (header === null) {
        header = rec.cells.map((c) => c.trim());
        ti = header.indexOf(plan.time);
        ri = plan.row === undefined ? -1 : header.indexOf(plan.row);
        if (ti < 0)
          problems.push({
            file,
            line: rec.line,
            message: `the trace has no column \`${plan.time}\``,
            hint: `columns: ${header.join(', ')}; set trace.time`,
          });
        if (plan.row !== undefined && ri < 0)
          problems.push({
            file,
            line: rec.line,
            message: `the trace has no column \`${plan.row}\``,
            hint: `columns: ${header.join(', ')}`,
          });
        return;
      }
      if (ti < 0 || (plan.row !== undefined && ri < 0)) return;
      if (rec.cells.length === 1 && rec.cells[0].trim() === '') return;
      add(rec.line, rec.cells[ti], ri >= 0 ? rec.cells[ri] : undefined);
    });
  } else {
    const lines = text.split('\n');
    lines.forEach((l, i) => {
      const s = l.trim();
      if (!s) return;
      let o: unknown;
      try {
        o = JSON.parse(s);
      } catch {
        if (problems.length < MAX_PROBLEMS) problems.push({ file, line: i + 1, message: 'not valid JSON' });
        return;
      }
      if (!o || typeof o !== 'object' || Array.isArray(o)) {
        if (problems.length < MAX_PROBLEMS)
          problems.push({ file, line: i + 1, message: 'expected a JSON object per line' });
        return;
      }
      const rec = o as Record<string, unknown>;
      add(i + 1, rec[plan.time], plan.row !== undefined ? rec[plan.row] : undefined);
    });
  }
  if (problems.length === 0 && times.length === 0) problems.push({ file, message: 'the trace has no requests' });
  if (problems.length > 0)
    throw new DataError(problems, `trace ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
  // Stable sort by time, then offsets from the first.
  const order = times.map((_, i) => i).sort((a, b) => times[a] - times[b] || a - b);
  const t0 = times[order[0]];
  const speed = plan.speed > 0 ? plan.speed : 1;
  const timesS = new Float64Array(order.length);
  order.forEach((k, i) => (timesS[i] = (times[k] - t0) / speed));
  const out: Trace = { timesS, durationS: timesS[timesS.length - 1] };
  if (plan.row !== undefined) out.rows = Int32Array.from(order.map((k) => rows[k]));
  return out;
}

export function loadTrace(plan: TracePlan): Trace {
  let text: string;
  try {
    text = readFileSync(plan.file, 'utf8');
  } catch (e) {
    throw new DataError([
      { file: plan.file, message: `cannot read trace file: ${(e as NodeJS.ErrnoException).code ?? String(e)}` },
    ]);
  }
  return parseTrace(text, plan);
}
