/**
 * Quality under load: turning a decoded response into per-row predictions, scoring them against
 * labels, and golden outputs (save from a reference run, compare later within a tolerance).
 *
 * Counters (summed over shards and windows):
 *   quality.requests   responses that were scored (2xx, protocol-valid)
 *   quality.rows       data rows those responses carried
 *   quality.scored     rows with a prediction compared to the label
 *   quality.correct    classification: prediction == label
 *   quality.abs_err_sum / quality.sq_err_sum   regression: Σ|pred − label| and Σ(pred − label)² (float sums)
 *   quality.empty      rows whose output was empty (no values)
 *   quality.malformed  rows whose output could not be read as a prediction
 *   quality.truncated  rows missing from a response that carried fewer predictions than rows sent
 *   golden.compared / golden.agree / golden.missing (row not in the golden file) / golden.shape_mismatch
 *   max golden.max_diff_e6: largest |output − golden| over every compared element, × 1e6, rounded
 */
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Recorder } from '../core/types.js';
import type { Labels } from './tensors.js';
import { DataError } from '../core/errors.js';
import { ensureDirAsync } from '../core/output-path.js';
import { flattenNumbers } from './json.js';

/** Per-row raw outputs decoded from a response (vector, number, string, {label: score} …). */
export type RowValue = unknown;

/** The index of the largest value (first on ties); -1 for an empty vector or one with NaN only. */
export function argmax(v: ArrayLike<number>): number {
  let best = -1;
  let bv = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x > bv) {
      bv = x;
      best = i;
    }
  }
  return best;
}

export type Prediction = { kind: 'value'; value: number | string } | { kind: 'empty' } | { kind: 'malformed' };

/**
 * Classification: vector → argmax index; {label: score} → label with the top score; number or
 * string → itself. Regression: number → itself; vector → its first value.
 */
export function predictionOf(raw: RowValue, task: 'classification' | 'regression'): Prediction {
  if (typeof raw === 'number') return Number.isFinite(raw) ? { kind: 'value', value: raw } : { kind: 'malformed' };
  if (typeof raw === 'string') {
    if (task === 'regression') {
      const n = Number(raw);
      return raw.trim() !== '' && Number.isFinite(n) ? { kind: 'value', value: n } : { kind: 'malformed' };
    }
    return raw === '' ? { kind: 'empty' } : { kind: 'value', value: raw };
  }
  if (raw === null || raw === undefined) return { kind: 'empty' };
  if (Array.isArray(raw) || ArrayBuffer.isView(raw)) {
    const flat: number[] = [];
    if (ArrayBuffer.isView(raw)) for (const x of raw as unknown as ArrayLike<number> & Iterable<number>) flat.push(x);
    else if (!flattenNumbers(raw, flat)) {
      // a list of strings (e.g. a label list) with one entry: take it
      if ((raw as unknown[]).length === 1) return predictionOf((raw as unknown[])[0], task);
      return { kind: 'malformed' };
    }
    if (flat.length === 0) return { kind: 'empty' };
    if (task === 'regression')
      return Number.isFinite(flat[0]) ? { kind: 'value', value: flat[0] } : { kind: 'malformed' };
    const i = argmax(flat);
    return i < 0 ? { kind: 'malformed' } : { kind: 'value', value: i };
  }
  if (typeof raw === 'object') {
    const entries = Object.entries(raw as Record<string, unknown>);
    if (entries.length === 0) return { kind: 'empty' };
    if (task === 'regression') return { kind: 'malformed' };
    let best: string | undefined;
    let bv = -Infinity;
    for (const [k, v] of entries) {
      if (typeof v !== 'number') return { kind: 'malformed' };
      if (v > bv) {
        bv = v;
        best = k;
      }
    }
    return best === undefined ? { kind: 'malformed' } : { kind: 'value', value: best };
  }
  return { kind: 'malformed' };
}

/** Classification: does the prediction equal the label (numbers compared as numbers, text as text)? */
export function isCorrect(pred: number | string, labels: Labels, row: number): boolean {
  if (labels.kind === 'number') {
    const l = labels.values[row];
    const p = typeof pred === 'number' ? pred : pred.trim() === '' ? NaN : Number(pred);
    return p === l;
  }
  return String(pred) === labels.values[row];
}

/** Numeric vector of a row's output for golden comparison ({label: score} → its values in key order). */
export function outputVector(raw: RowValue): number[] | null {
  const out: number[] = [];
  if (ArrayBuffer.isView(raw)) {
    for (const x of raw as unknown as Iterable<number>) out.push(x);
    return out;
  }
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw))
    return flattenNumbers(Object.values(raw), out) ? out : null;
  return flattenNumbers(raw, out) ? out : null;
}

/** Max |a − b| element-wise; Infinity when lengths differ or only one side is NaN. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) && Number.isNaN(y)) continue;
      return Infinity;
    }
    if (x === y) continue; // also equal infinities
    const d = Math.abs(x - y);
    if (d > m) m = d;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Golden files: JSON Lines, one {"row": <data row index>, "output": [numbers]} per line, sorted by row.
// JSON has no non-finite numbers: NaN is written as null, ±Infinity as the strings "Infinity" /
// "-Infinity", so an output read back is the output saved.

/** A golden output value as written to JSON. */
function goldenCell(x: number): number | string | null {
  if (Number.isFinite(x)) return x;
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return null;
}

/** Golden output cells back to numbers (null → NaN, "±Infinity" → ±Infinity); false when not numbers. */
function goldenNumbers(v: unknown, out: number[]): boolean {
  if (v === 'Infinity') return (out.push(Infinity), true);
  if (v === '-Infinity') return (out.push(-Infinity), true);
  if (Array.isArray(v)) {
    for (const x of v) if (!goldenNumbers(x, out)) return false;
    return true;
  }
  return flattenNumbers(v, out);
}

export type GoldenOutputs = Map<number, Float64Array>;

/** Reads a golden file; DataError listing every bad line (capped). */
export function readGolden(file: string): GoldenOutputs {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DataError([
      {
        file,
        message: `cannot read golden outputs: ${(err as Error).message}`,
        hint: 'create it with a reference run using `quality.saveGolden`',
      },
    ]);
  }
  const out: GoldenOutputs = new Map();
  const problems: Array<{ file: string; line: number; message: string }> = [];
  let bad = 0;
  text.split('\n').forEach((ln, i) => {
    const t = ln.trim();
    if (!t) return;
    try {
      const v = JSON.parse(t) as { row?: unknown; output?: unknown };
      const flat: number[] = [];
      if (typeof v.row !== 'number' || !Number.isInteger(v.row) || !goldenNumbers(v.output, flat))
        throw new Error('expected {"row": <integer>, "output": [numbers]}');
      out.set(v.row, Float64Array.from(flat));
    } catch (err) {
      bad++;
      if (problems.length < 20) problems.push({ file, line: i + 1, message: (err as Error).message });
    }
  });
  if (bad > 0) {
    const list = problems.slice();
    if (bad > problems.length) list.push({ file, line: 0, message: `… and ${bad - problems.length} more problems` });
    throw new DataError(list, `golden file ${file} has ${bad} bad line${bad === 1 ? '' : 's'}`);
  }
  return out;
}

function goldenLines(rows: Map<number, number[] | Float64Array>): string {
  const keys = [...rows.keys()].sort((a, b) => a - b);
  let s = '';
  for (const k of keys) s += `${JSON.stringify({ row: k, output: Array.from(rows.get(k)!, goldenCell) })}\n`;
  return s;
}

export function partFile(file: string, shard: { index: number; count: number }): string {
  return join(dirname(file), `.${basename(file)}.part-${shard.index}-of-${shard.count}`);
}

/**
 * Writes this shard's golden outputs. With one shard: the file itself. With several: a part file
 * beside it (`.name.part-k-of-n`); the shard that finds every part present merges them into the
 * file (rows sorted, first output kept for a row seen twice) and removes the parts.
 * Returns true when the merged file was written by this call.
 */
export async function writeGoldenShard(
  file: string,
  shard: { index: number; count: number },
  rows: Map<number, number[]>,
): Promise<boolean> {
  // Not mkdir({ recursive }): under /proc that never returns (see core/output-path.ts).
  const problem = await ensureDirAsync(dirname(file));
  if (problem) throw new Error(`cannot write golden outputs to ${file}: ${problem.message}`);
  if (shard.count <= 1) {
    await atomicWrite(file, goldenLines(rows));
    return true;
  }
  const part = partFile(file, shard);
  await atomicWrite(part, goldenLines(rows));
  const names = await readdir(dirname(file));
  const prefix = `.${basename(file)}.part-`;
  const suffix = `-of-${shard.count}`;
  const parts = names.filter((n) => n.startsWith(prefix) && n.endsWith(suffix));
  if (parts.length < shard.count) return false;
  const merged = new Map<number, number[]>();
  for (const p of parts.sort()) {
    let text: string;
    try {
      text = await readFile(join(dirname(file), p), 'utf8');
    } catch {
      return false; // another shard merged and removed it first
    }
    for (const ln of text.split('\n')) {
      if (!ln.trim()) continue;
      const v = JSON.parse(ln) as { row: number; output: unknown };
      const flat: number[] = [];
      goldenNumbers(v.output, flat);
      if (!merged.has(v.row)) merged.set(v.row, flat);
    }
  }
  await atomicWrite(file, goldenLines(merged));
  await Promise.all(parts.map((p) => rm(join(dirname(file), p), { force: true })));
  return true;
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  await writeFile(tmp, text, 'utf8');
  await rename(tmp, file);
}

/** Adds one row's measurements to the recorder; shared by every adapter through the quality hook. */
export function recordRegression(rec: Recorder, pred: number, label: number): void {
  const e = pred - label;
  rec.count('quality.abs_err_sum', Math.abs(e));
  rec.count('quality.sq_err_sum', e * e);
}
