/**
 * Datasets from CSV, JSON Lines and JSON arrays, streamed from the file (src/data/read.ts) and kept
 * column-wise: numeric columns in Float32Array (every value exactly a float32) or Float64Array,
 * text in string arrays, nested JSON values (arrays, objects, chat messages) as parsed values.
 * Every problem (unreadable or non-UTF-8 file, wrong width, missing or non-numeric cells) is
 * collected and thrown as one DataError before the run starts.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { Problem } from '../core/errors.js';
import { CsvParser } from './csv.js';
import { readTextChunks } from './read.js';
import type { ReadOptions } from './read.js';
import { ProblemList } from './problems.js';

export type DataFormat = 'csv' | 'jsonl' | 'json';

export type Column =
  | { kind: 'number'; values: Float64Array | Float32Array }
  | { kind: 'string'; values: string[] }
  | { kind: 'json'; values: unknown[] };

export interface Dataset {
  readonly file: string;
  readonly format: DataFormat;
  readonly rowCount: number;
  /** Columns in file order (CSV header order; JSON: first-seen key order). */
  readonly columnNames: readonly string[];
  readonly columns: ReadonlyMap<string, Column>;
  /** 1-based source line of a row (CSV, JSON Lines); undefined for JSON arrays. */
  line(row: number): number | undefined;
  /** JSON formats: rows (first few) where a column is missing, and how many in all. */
  missing(column: string): { count: number; rows: number[] } | undefined;
  /**
   * Problems found while loading that leave the data usable (wrong-width rows, duplicate header
   * names, bad JSON lines): consumers add theirs to this list and throw it once, so a user sees
   * them all together.
   */
  readonly problems: ProblemList;
  /** A row already reported as malformed (wrong width): its cells are NaN / '' and not reported again. */
  flawed(row: number): boolean;
}

/** Format from the file extension: .csv, .jsonl/.ndjson, .json. */
export function inferFormat(file: string): DataFormat | undefined {
  const f = file.toLowerCase();
  if (f.endsWith('.csv')) return 'csv';
  if (f.endsWith('.jsonl') || f.endsWith('.ndjson')) return 'jsonl';
  if (f.endsWith('.json')) return 'json';
  return undefined;
}

/** Resolves a data file against the plan's folder (plan source '<inline>' → current directory). */
export function resolveDataFile(file: string, planSource: string | undefined): string {
  if (isAbsolute(file)) return file;
  const base = planSource && planSource !== '<inline>' ? resolve(planSource, '..') : process.cwd();
  return resolve(base, file);
}

/**
 * Expands column specs: `p0..p63` (or `p0..63`) → p0, p1, …, p63; plain names are kept.
 */
export function expandColumns(spec: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of spec) {
    const m = /^(.*?)(\d+)\s*\.\.\s*(.*?)(\d+)$/.exec(s.trim());
    if (m && (m[3] === '' || m[3] === m[1])) {
      const a = Number(m[2]);
      const b = Number(m[4]);
      const step = a <= b ? 1 : -1;
      for (let k = a; step > 0 ? k <= b : k >= b; k += step) out.push(`${m[1]}${k}`);
    } else {
      out.push(s.trim());
    }
  }
  return out;
}

const MISSING_KEEP = 21;

export interface LoadOptions extends ReadOptions {}

/**
 * Loads a dataset, streaming the file. Problems that leave no usable data (unreadable, not
 * UTF-8, empty, header only, not JSON) throw a DataError at once; the others (wrong width,
 * duplicate header names, bad JSON lines) are kept in `dataset.problems`, so the checks of the
 * columns a scenario uses can add theirs before everything is reported together.
 */
export async function loadDataset(file: string, format?: DataFormat, opts: LoadOptions = {}): Promise<Dataset> {
  const problems = new ProblemList();
  const fmt = format ?? inferFormat(file);
  if (!fmt) {
    problems.add({
      file,
      message: 'unknown data format',
      hint: 'use a .csv, .jsonl/.ndjson or .json file, or set `format`',
    });
    problems.throwIfAny('data');
  }
  const ds =
    fmt === 'csv' ? await loadCsv(file, problems, opts) : await loadJson(file, fmt as 'jsonl' | 'json', problems, opts);
  if (ds.rowCount === 0) {
    if (problems.size === 0)
      problems.add({
        file,
        message: 'data file has no rows',
        hint: fmt === 'csv' ? 'a CSV dataset is a header line and at least one row' : undefined,
      });
    problems.throwIfAny('data');
  }
  return ds;
}

function makeDataset(
  file: string,
  format: DataFormat,
  rowCount: number,
  names: string[],
  columns: Map<string, Column>,
  lines: Int32Array | null,
  missing: Map<string, { count: number; rows: number[] }>,
  problems: ProblemList,
  flawed: ReadonlySet<number> = new Set(),
): Dataset {
  return {
    file,
    format,
    rowCount,
    columnNames: names,
    columns,
    problems,
    line: (row) => (lines ? lines[row] : undefined),
    missing: (c) => missing.get(c),
    flawed: (row) => flawed.has(row),
  };
}

function isNumericText(s: string): boolean {
  // Number('') is 0 and Number(' ') is 0: reject blanks explicitly
  if (s.length === 0) return false;
  const c = s.charCodeAt(0);
  if (c === 32 || c === 9) {
    const t = s.trim();
    if (t.length === 0) return false;
  }
  return Number.isFinite(Number(s));
}

/**
 * A numeric column that grows by doubling: Float32Array while every value is exactly a float32
 * (small integers, halves: pixel data, labels), which halves its memory, else Float64Array.
 */
class NumCol {
  a: Float32Array | Float64Array = new Float32Array(1024);
  n = 0;
  /** `size.rows`: the expected row count (from the file size), so columns grow once, not by doubling many times. */
  constructor(private readonly size: { rows: number }) {}
  push(v: number): void {
    if (this.a instanceof Float32Array && Math.fround(v) !== v && !Number.isNaN(v)) this.a = Float64Array.from(this.a);
    if (this.n === this.a.length) {
      const cap = Math.max(this.a.length * 2, this.size.rows);
      const b = this.a instanceof Float32Array ? new Float32Array(cap) : new Float64Array(cap);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  done(): Float32Array | Float64Array {
    // a little slack is cheaper than a copy of every column at the end
    return this.a.length - this.n <= this.n / 8 ? this.a.subarray(0, this.n) : this.a.slice(0, this.n);
  }
}

class I32 {
  a = new Int32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
  done(): Int32Array {
    return this.a.slice(0, this.n);
  }
}

/**
 * CSV, in one streamed pass: numeric columns go straight into Float64Arrays (8 bytes a cell, not
 * a string each). A column that turns out to hold text after its first row is read again, as
 * text, in a second pass over the file (rare: mixed columns).
 */
async function loadCsv(file: string, problems: ProblemList, opts: LoadOptions): Promise<Dataset> {
  let header: string[] | null = null;
  let headerLine = 0;
  let nums: Array<NumCol | null> = [];
  let texts: Array<string[] | null> = [];
  const lines = new I32();
  const flawed = new Set<number>();
  const flipped = new Set<number>();
  let rows = 0;
  const size = { rows: 0 };
  let bytes = 0;
  let fileBytes = 0;
  try {
    fileBytes = (await stat(file)).size;
  } catch {
    // reported by the read below
  }
  const parser = new CsvParser((rec) => {
    if (!header) {
      header = rec.cells.map((c) => c.trim());
      headerLine = rec.line;
      const seen = new Set<string>();
      header.forEach((h, k) => {
        if (h === '')
          problems.add({
            file,
            line: rec.line,
            message: `header column ${k + 1} has no name`,
            hint: 'every column needs a name in the header line',
          });
        else if (seen.has(h))
          problems.add({
            file,
            line: rec.line,
            message: `duplicate column "${h}" in header`,
            hint: 'column names must be unique',
          });
        seen.add(h);
      });
      nums = header.map(() => null);
      texts = header.map(() => null);
      return;
    }
    const h = header;
    const r = rows++;
    lines.push(rec.line);
    const cells = rec.cells;
    const bad = cells.length !== h.length;
    if (bad) {
      problems.add({
        file,
        line: rec.line,
        message: `row ${r + 1} has ${cells.length} cell${cells.length === 1 ? '' : 's'}, header has ${h.length}`,
        hint: 'wrong width: check for a missing or extra delimiter (or an unclosed quote)',
      });
      // kept (as NaN / '') so later rows keep their row numbers; its cells say nothing of a column's kind
      flawed.add(r);
    }
    for (let k = 0; k < h.length; k++) {
      const cell = bad ? undefined : cells[k];
      const t = texts[k];
      if (t) {
        t.push(cell ?? '');
        continue;
      }
      let f = nums[k];
      if (cell === undefined) {
        if (!f) f = nums[k] = new NumCol(size);
        f.push(NaN);
      } else if (isNumericText(cell)) {
        if (!f) f = nums[k] = new NumCol(size);
        f.push(Number(cell));
      } else if (f && f.n > 0 && !allFlawed(f.n, flawed)) {
        // a text cell after numeric ones: read this column again as text
        nums[k] = null;
        texts[k] = [];
        flipped.add(k);
      } else {
        // text from its first (sound) row on
        const arr: string[] = new Array<string>(f ? f.n : 0).fill('');
        arr.push(cell);
        nums[k] = null;
        texts[k] = arr;
      }
    }
  });
  const readProblem = await readTextChunks(
    file,
    (t) => {
      parser.push(t);
      bytes += t.length;
      // rows expected in the whole file, from the bytes per row so far (+5%)
      if (rows > 0) size.rows = Math.ceil((fileBytes / bytes) * rows * 1.05);
    },
    opts,
  );
  if (readProblem) {
    problems.add(readProblem);
    problems.throwIfAny('data');
  }
  parser.end();
  if (!header) {
    problems.add({
      file,
      message: 'CSV file is empty (no header)',
      hint: 'a CSV dataset is a header line of column names, then one row per line',
    });
    problems.throwIfAny('data');
  }
  const names: string[] = header!;
  if (rows === 0) {
    problems.add({
      file,
      line: headerLine,
      message: 'CSV file has a header but no rows',
      hint: 'add data rows below the header line',
    });
    problems.throwIfAny('data');
  }
  if (flipped.size > 0) {
    const cols = [...flipped];
    for (const k of cols) texts[k] = [];
    let seenHeader = false;
    const again = new CsvParser((rec) => {
      if (!seenHeader) {
        seenHeader = true;
        return;
      }
      const bad = rec.cells.length !== names.length;
      for (const k of cols) {
        const t = texts[k]!;
        if (t.length < rows) t.push(bad ? '' : rec.cells[k]);
      }
    });
    const p2 = await readTextChunks(file, (t) => again.push(t), opts);
    if (p2) {
      problems.add(p2);
      problems.throwIfAny('data');
    }
    again.end();
  }
  const columns = new Map<string, Column>();
  for (let k = 0; k < names.length; k++) {
    const t = texts[k];
    if (t) columns.set(names[k], { kind: 'string', values: t });
    else
      columns.set(names[k], { kind: 'number', values: nums[k] ? nums[k]!.done() : new Float64Array(rows).fill(NaN) });
  }
  return makeDataset(file, 'csv', rows, names, columns, lines.done(), new Map(), problems, flawed);
}

function allFlawed(n: number, flawed: ReadonlySet<number>): boolean {
  if (flawed.size < n) return false;
  for (let r = 0; r < n; r++) if (!flawed.has(r)) return false;
  return true;
}

async function loadJson(
  file: string,
  format: 'jsonl' | 'json',
  problems: ProblemList,
  opts: LoadOptions,
): Promise<Dataset> {
  const rows: Array<Record<string, unknown>> = [];
  const lines: number[] = [];
  const empty = () => makeDataset(file, format, 0, [], new Map(), null, new Map(), problems);
  if (format === 'jsonl') {
    let lineNo = 0;
    let rest = '';
    const onLine = (raw: string): void => {
      lineNo++;
      const ln = raw.trim();
      if (ln === '') return;
      let v: unknown;
      try {
        v = JSON.parse(ln);
      } catch (err) {
        problems.add({
          file,
          line: lineNo,
          message: `not valid JSON: ${(err as Error).message}`,
          hint: 'JSON Lines: one JSON object per line',
        });
        return;
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        problems.add({ file, line: lineNo, message: 'each line must be a JSON object', hint: 'e.g. {"prompt": "…"}' });
        return;
      }
      rows.push(v as Record<string, unknown>);
      lines.push(lineNo);
    };
    const readProblem = await readTextChunks(
      file,
      (text) => {
        let start = 0;
        for (;;) {
          const end = text.indexOf('\n', start);
          if (end < 0) break;
          onLine(rest + text.slice(start, end));
          rest = '';
          start = end + 1;
        }
        rest += text.slice(start);
      },
      opts,
    );
    if (readProblem) {
      problems.add(readProblem);
      problems.throwIfAny('data');
    }
    if (rest !== '') onLine(rest);
    if (lineNo === 0 || (rows.length === 0 && problems.size === 0)) {
      problems.add({
        file,
        message: lineNo === 0 ? 'data file is empty' : 'data file has no rows',
        hint: 'JSON Lines: one JSON object per line',
      });
    }
    if (rows.length === 0) problems.throwIfAny('data');
  } else {
    const parts: string[] = [];
    const readProblem = await readTextChunks(file, (t) => parts.push(t), opts);
    if (readProblem) {
      problems.add(readProblem);
      problems.throwIfAny('data');
    }
    const text = parts.join('');
    parts.length = 0;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      problems.add({
        file,
        ...(text.trim() === ''
          ? { message: 'data file is empty' }
          : { message: `not valid JSON: ${(err as Error).message}` }),
      });
      problems.throwIfAny('data');
      return empty();
    }
    const arr = Array.isArray(v)
      ? v
      : v !== null && typeof v === 'object' && Array.isArray((v as { rows?: unknown }).rows)
        ? (v as { rows: unknown[] }).rows
        : null;
    if (!arr) {
      problems.add({ file, message: 'a .json dataset must be an array of objects (or {"rows": [...]})' });
      problems.throwIfAny('data');
      return empty();
    }
    arr.forEach((item, k) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        problems.add({ file, path: `[${k}]`, message: `row ${k + 1} is not a JSON object` });
      else rows.push(item as Record<string, unknown>);
    });
  }
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const key of Object.keys(r)) {
      if (!seen.has(key)) {
        seen.add(key);
        names.push(key);
      }
    }
  }
  const columns = new Map<string, Column>();
  const missing = new Map<string, { count: number; rows: number[] }>();
  for (const name of names) {
    let allNum = true;
    let allStr = true;
    const miss = { count: 0, rows: [] as number[] };
    for (let r = 0; r < rows.length; r++) {
      if (!Object.prototype.hasOwnProperty.call(rows[r], name)) {
        miss.count++;
        if (miss.rows.length < MISSING_KEEP) miss.rows.push(r);
        continue;
      }
      const v = rows[r][name];
      if (typeof v !== 'number') allNum = false;
      if (typeof v !== 'string') allStr = false;
    }
    if (miss.count > 0) missing.set(name, miss);
    if (allNum) {
      const vals = new Float64Array(rows.length);
      for (let r = 0; r < rows.length; r++) {
        const v = rows[r][name];
        vals[r] = typeof v === 'number' ? v : NaN;
      }
      columns.set(name, { kind: 'number', values: vals });
    } else if (allStr) {
      columns.set(name, {
        kind: 'string',
        values: rows.map((r) => (typeof r[name] === 'string' ? (r[name] as string) : '')),
      });
    } else {
      columns.set(name, { kind: 'json', values: rows.map((r) => r[name]) });
    }
  }
  return makeDataset(
    file,
    format,
    rows.length,
    names,
    columns,
    format === 'jsonl' ? Int32Array.from(lines) : null,
    missing,
    problems,
  );
}

/** Location of a row for a Problem (file + line, or JSON array index). */
export function rowWhere(ds: Dataset, row: number, column?: string): Pick<Problem, 'file' | 'line' | 'path'> {
  const line = ds.line(row);
  return {
    file: ds.file,
    ...(line !== undefined ? { line } : {}),
    path: ds.format === 'json' ? `[${row}]${column ? `.${column}` : ''}` : (column ?? undefined),
  };
}

/** Reports columns absent from the dataset (and, for JSON formats, rows lacking them). Returns true when all present. */
export function requireColumns(ds: Dataset, names: readonly string[], problems: ProblemList, role: string): boolean {
  let ok = true;
  const absent = names.filter((n) => !ds.columns.has(n));
  if (absent.length > 0) {
    ok = false;
    const shown =
      absent.length > 8 ? `${absent.slice(0, 8).join(', ')}, … (${absent.length} in all)` : absent.join(', ');
    problems.add({
      file: ds.file,
      message: `missing column${absent.length === 1 ? '' : 's'} ${shown} (${role})`,
      hint: `columns present: ${ds.columnNames.slice(0, 12).join(', ')}${ds.columnNames.length > 12 ? ', …' : ''}`,
    });
  }
  for (const n of names) {
    const m = ds.missing(n);
    if (!m) continue;
    ok = false;
    for (const r of m.rows) problems.add({ ...rowWhere(ds, r, n), message: `row ${r + 1} has no "${n}" (${role})` });
    for (let k = m.rows.length; k < m.count; k++) problems.total++;
  }
  return ok;
}

/** Text of a cell, for templates: numbers via String(), JSON values via JSON.stringify. */
export function cellText(col: Column, row: number): string {
  if (col.kind === 'number') return String(col.values[row]);
  if (col.kind === 'string') return col.values[row];
  const v = col.values[row];
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
}
