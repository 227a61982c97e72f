/**
 * Datasets from CSV, JSON Lines and JSON arrays, loaded once per shard and kept column-wise:
 * numeric columns in Float64Array, text in string arrays, nested JSON values (arrays, objects,
 * chat messages) as parsed values. Every problem (unreadable file, wrong width, missing or
 * non-numeric cells) is collected and thrown as one DataError before the run starts.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Problem } from '../core/errors.js';
import { parseCsv } from './csv.js';
import { ProblemList } from './problems.js';

export type DataFormat = 'csv' | 'jsonl' | 'json';

export type Column =
  | { kind: 'number'; values: Float64Array }
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

/** Loads a dataset; throws DataError (every problem, capped) when it cannot be read or is malformed. */
export function loadDataset(file: string, format?: DataFormat): Dataset {
  const problems = new ProblemList();
  const fmt = format ?? inferFormat(file);
  if (!fmt) {
    problems.add({ file, message: 'unknown data format', hint: 'use a .csv, .jsonl/.ndjson or .json file, or set `format`' });
    problems.throwIfAny('data');
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.add({ file, message: `cannot read data file${code ? ` (${code})` : ''}: ${(err as Error).message}` });
    problems.throwIfAny('data');
    throw err; // unreachable
  }
  const ds = fmt === 'csv' ? loadCsv(file, text, problems) : loadJson(file, text, fmt as 'jsonl' | 'json', problems);
  problems.throwIfAny('data');
  if (ds.rowCount === 0) {
    problems.add({ file, message: 'data file has no rows' });
    problems.throwIfAny('data');
  }
  return ds;
}

function makeDataset(file: string, format: DataFormat, rowCount: number, names: string[], columns: Map<string, Column>, lines: Int32Array | null, missing: Map<string, { count: number; rows: number[] }>): Dataset {
  return {
    file,
    format,
    rowCount,
    columnNames: names,
    columns,
    line: (row) => (lines ? lines[row] : undefined),
    missing: (c) => missing.get(c),
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

function loadCsv(file: string, text: string, problems: ProblemList): Dataset {
  let header: string[] | null = null;
  let raw: string[][] = [];
  const lines: number[] = [];
  parseCsv(text, (rec) => {
    if (!header) {
      header = rec.cells.map((c) => c.trim());
      const seen = new Set<string>();
      header.forEach((h, k) => {
        if (h === '') problems.add({ file, line: rec.line, message: `header column ${k + 1} has no name` });
        else if (seen.has(h)) problems.add({ file, line: rec.line, message: `duplicate column "${h}" in header` });
        seen.add(h);
      });
      raw = header.map(() => []);
      return;
    }
    if (rec.cells.length !== header.length) {
      problems.add({
        file,
        line: rec.line,
        message: `row ${lines.length + 1} has ${rec.cells.length} cell${rec.cells.length === 1 ? '' : 's'}, header has ${header.length}`,
        hint: 'wrong width: check for a missing or extra delimiter',
      });
      // keep the row so later problems still carry the right row numbers
    }
    const h = header;
    for (let k = 0; k < h.length; k++) raw[k].push(rec.cells[k] ?? '');
    lines.push(rec.line);
  });
  if (!header) {
    problems.add({ file, message: 'CSV file is empty (no header)' });
    return makeDataset(file, 'csv', 0, [], new Map(), null, new Map());
  }
  const names: string[] = header;
  const columns = new Map<string, Column>();
  for (let k = 0; k < names.length; k++) {
    const cells = raw[k];
    let numeric = true;
    for (let r = 0; r < cells.length; r++) {
      if (!isNumericText(cells[r])) {
        numeric = false;
        break;
      }
    }
    if (numeric) {
      const v = new Float64Array(cells.length);
      for (let r = 0; r < cells.length; r++) v[r] = Number(cells[r]);
      columns.set(names[k], { kind: 'number', values: v });
    } else {
      columns.set(names[k], { kind: 'string', values: cells });
    }
    raw[k] = [];
  }
  return makeDataset(file, 'csv', lines.length, names, columns, Int32Array.from(lines), new Map());
}

function loadJson(file: string, text: string, format: 'jsonl' | 'json', problems: ProblemList): Dataset {
  const rows: Array<Record<string, unknown>> = [];
  const lines: number[] = [];
  if (format === 'jsonl') {
    let lineNo = 0;
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      lineNo++;
      const ln = text.slice(start, end).trim();
      start = end + 1;
      if (ln === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(ln);
      } catch (err) {
        problems.add({ file, line: lineNo, message: `not valid JSON: ${(err as Error).message}` });
        continue;
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        problems.add({ file, line: lineNo, message: 'each line must be a JSON object' });
        continue;
      }
      rows.push(v as Record<string, unknown>);
      lines.push(lineNo);
    }
  } else {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      problems.add({ file, message: `not valid JSON: ${(err as Error).message}` });
      return makeDataset(file, format, 0, [], new Map(), null, new Map());
    }
    const arr = Array.isArray(v) ? v : v !== null && typeof v === 'object' && Array.isArray((v as { rows?: unknown }).rows) ? (v as { rows: unknown[] }).rows : null;
    if (!arr) {
      problems.add({ file, message: 'a .json dataset must be an array of objects (or {"rows": [...]})' });
      return makeDataset(file, format, 0, [], new Map(), null, new Map());
    }
    arr.forEach((item, k) => {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) problems.add({ file, path: `[${k}]`, message: `row ${k + 1} is not a JSON object` });
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
      columns.set(name, { kind: 'string', values: rows.map((r) => (typeof r[name] === 'string' ? (r[name] as string) : '')) });
    } else {
      columns.set(name, { kind: 'json', values: rows.map((r) => r[name]) });
    }
  }
  return makeDataset(file, format, rows.length, names, columns, format === 'jsonl' ? Int32Array.from(lines) : null, missing);
}

/** Location of a row for a Problem (file + line, or JSON array index). */
export function rowWhere(ds: Dataset, row: number, column?: string): Pick<Problem, 'file' | 'line' | 'path'> {
  const line = ds.line(row);
  return {
    file: ds.file,
    ...(line !== undefined ? { line } : {}),
    path: ds.format === 'json' ? `[${row}]${column ? `.${column}` : ''}` : column ?? undefined,
  };
}

/** Reports columns absent from the dataset (and, for JSON formats, rows lacking them). Returns true when all present. */
export function requireColumns(ds: Dataset, names: readonly string[], problems: ProblemList, role: string): boolean {
  let ok = true;
  const absent = names.filter((n) => !ds.columns.has(n));
  if (absent.length > 0) {
    ok = false;
    const shown = absent.length > 8 ? `${absent.slice(0, 8).join(', ')}, … (${absent.length} in all)` : absent.join(', ');
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
  return typeof v === 'string' ? v : JSON.stringify(v) ?? '';
}
