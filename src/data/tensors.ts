/**
 * Columns → model inputs. Each input is a flat, row-major typed array of `rowCount × width`
 * values (BYTES inputs: strings), built once per shard; requests slice it by row.
 */
import { DATATYPES } from '../plan/syntax.js';
import type { DataPlan } from '../plan/types.js';
import type { Column, Dataset } from './dataset.js';
import { expandColumns, requireColumns, rowWhere } from './dataset.js';
import type { ProblemList } from './problems.js';

export interface TensorInput {
  name: string;
  /** KServe v2 datatype: FP32, INT64, BYTES, … */
  datatype: string;
  columns: string[];
  /** Elements per row. */
  width: number;
  /** Per-row shape (product = width), default [width]. */
  rowShape: number[];
  /** rowCount × width values, row-major. BYTES: strings. Float32Array when every value is exactly a float32 (half the memory). */
  data: Float64Array | Float32Array | string[];
  rowCount: number;
}

export type Labels = { kind: 'number'; values: Float64Array | Float32Array } | { kind: 'string'; values: string[] };

const INT_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);
export const KSERVE_DATATYPES: ReadonlySet<string> = new Set<string>(DATATYPES);

export function isIntegerType(dt: string): boolean {
  return INT_TYPES.has(dt);
}

/** Product of dims (−1 counts as 1). */
export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d < 0 ? 1 : d;
  return p;
}

/**
 * Builds the tensor inputs named in `plan.inputs`, or — when absent — one input `defaultName` of
 * every numeric column except the label (FP32). Problems go to `problems` (nothing thrown).
 */
export function buildTensorInputs(
  ds: Dataset,
  plan: Pick<DataPlan, 'inputs' | 'label'>,
  problems: ProblemList,
  defaultName = 'input',
): TensorInput[] {
  const specs =
    plan.inputs && plan.inputs.length > 0
      ? plan.inputs.map((i) => ({
          name: i.name,
          columns: expandColumns(i.columns),
          datatype: (i.datatype || 'FP32').toUpperCase(),
          shape: i.shape,
        }))
      : [
          {
            name: defaultName,
            columns: ds.columnNames.filter((c) => c !== plan.label && ds.columns.get(c)?.kind === 'number'),
            datatype: 'FP32',
            shape: undefined as number[] | undefined,
          },
        ];
  const out: TensorInput[] = [];
  for (const spec of specs) {
    if (!KSERVE_DATATYPES.has(spec.datatype)) {
      problems.add({
        file: ds.file,
        message: `input "${spec.name}": unknown datatype ${spec.datatype}`,
        hint: [...KSERVE_DATATYPES].join(', '),
      });
      continue;
    }
    if (spec.columns.length === 0) {
      problems.add({
        file: ds.file,
        message: `input "${spec.name}" has no columns`,
        hint: 'list the columns, e.g. `columns: [p0..p63]`',
      });
      continue;
    }
    if (!requireColumns(ds, spec.columns, problems, `input "${spec.name}"`)) continue;
    const t =
      spec.columns.length === 1 && ds.columns.get(spec.columns[0])!.kind === 'json'
        ? fromArrayColumn(ds, spec, problems)
        : fromColumns(ds, spec, problems);
    if (!t) continue;
    if (spec.shape && spec.shape.length > 0) {
      const rowShape = spec.shape[0] === -1 ? spec.shape.slice(1) : spec.shape;
      if (product(rowShape) !== t.width || rowShape.some((d) => d < 0)) {
        problems.add({
          file: ds.file,
          message: `input "${spec.name}": shape [${spec.shape.join(', ')}] does not hold ${t.width} values per row`,
        });
        continue;
      }
      t.rowShape = rowShape;
    }
    out.push(t);
  }
  return out;
}

function checkValue(ds: Dataset, dt: string, v: number, row: number, col: string, problems: ProblemList): void {
  if (!Number.isFinite(v)) {
    problems.add({
      ...rowWhere(ds, row, col),
      message: `row ${row + 1}, column "${col}": ${v} is not a finite number`,
    });
  } else if (INT_TYPES.has(dt) && !Number.isInteger(v)) {
    problems.add({
      ...rowWhere(ds, row, col),
      message: `row ${row + 1}, column "${col}": ${v} is not an integer (datatype ${dt})`,
    });
  } else if (dt.startsWith('UINT') && v < 0) {
    problems.add({
      ...rowWhere(ds, row, col),
      message: `row ${row + 1}, column "${col}": ${v} is negative (datatype ${dt})`,
    });
  }
}

function numberOf(col: Column, row: number): number {
  if (col.kind === 'number') return col.values[row];
  const v = col.values[row];
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === 'true') return 1;
    if (t === 'false') return 0;
    return t === '' ? NaN : Number(t);
  }
  return NaN;
}

function describeCell(col: Column, row: number): string {
  const v = col.values[row];
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 37)}…` : s;
}

function fromColumns(
  ds: Dataset,
  spec: { name: string; columns: string[]; datatype: string },
  problems: ProblemList,
): TensorInput | null {
  const width = spec.columns.length;
  const n = ds.rowCount;
  const cols = spec.columns.map((c) => ds.columns.get(c)!);
  const tensor = (data: TensorInput['data']): TensorInput => ({
    name: spec.name,
    datatype: spec.datatype,
    columns: spec.columns,
    width,
    rowShape: [width],
    data,
    rowCount: n,
  });
  if (spec.datatype === 'BYTES') {
    const data: string[] = new Array(n * width);
    for (let r = 0; r < n; r++)
      for (let k = 0; k < width; k++) {
        const c = cols[k];
        data[r * width + k] =
          c.kind === 'number'
            ? String(c.values[r])
            : typeof c.values[r] === 'string'
              ? (c.values[r] as string)
              : JSON.stringify(c.values[r]);
      }
    return tensor(data);
  }
  // columns held as Float32Array hold only exact float32 values: the tensor can too
  const narrow = cols.every((c) => c.kind === 'number' && c.values instanceof Float32Array);
  const data = narrow ? new Float32Array(n * width) : new Float64Array(n * width);
  const before = problems.size;
  for (let k = 0; k < width; k++) {
    const c = cols[k];
    const name = spec.columns[k];
    for (let r = 0; r < n; r++) {
      if (ds.flawed(r)) continue; // reported as a wrong-width row
      const v = numberOf(c, r);
      if (Number.isNaN(v) && c.kind !== 'number') {
        problems.add({
          ...rowWhere(ds, r, name),
          message: `row ${r + 1}, column "${name}": ${describeCell(c, r)} is not a number`,
          hint: `input "${spec.name}" (${spec.datatype}) needs a number in every row of its columns`,
        });
        continue;
      }
      checkValue(ds, spec.datatype, v, r, name, problems);
      data[r * width + k] = v;
    }
  }
  if (problems.size > before) return null;
  return tensor(data);
}

/** One column whose cells are (nested) arrays, e.g. JSON Lines `{"pixels": [[…], …]}`. */
function fromArrayColumn(
  ds: Dataset,
  spec: { name: string; columns: string[]; datatype: string },
  problems: ProblemList,
): TensorInput | null {
  const col = ds.columns.get(spec.columns[0])!;
  const name = spec.columns[0];
  const n = ds.rowCount;
  let width = -1;
  let rowShape: number[] = [];
  let data: Float64Array | string[] | null = null;
  const before = problems.size;
  for (let r = 0; r < n; r++) {
    const v = col.values[r];
    const shape: number[] = [];
    const flat: unknown[] = [];
    if (!flattenShaped(v, shape, flat, 0)) {
      problems.add({
        ...rowWhere(ds, r, name),
        message: `row ${r + 1}, column "${name}": ragged or non-array value ${describeCell(col, r)}`,
      });
      continue;
    }
    if (width < 0) {
      width = flat.length;
      rowShape = shape.length > 0 ? shape : [1];
      data = spec.datatype === 'BYTES' ? new Array<string>(n * width) : new Float64Array(n * width);
    } else if (flat.length !== width) {
      problems.add({
        ...rowWhere(ds, r, name),
        message: `row ${r + 1}, column "${name}": ${flat.length} values, expected ${width} (wrong width)`,
      });
      continue;
    }
    for (let k = 0; k < width; k++) {
      const x = flat[k];
      if (spec.datatype === 'BYTES') {
        (data as string[])[r * width + k] = typeof x === 'string' ? x : JSON.stringify(x);
      } else {
        const num = typeof x === 'number' ? x : typeof x === 'boolean' ? (x ? 1 : 0) : NaN;
        if (typeof x !== 'number' && typeof x !== 'boolean') {
          problems.add({
            ...rowWhere(ds, r, name),
            message: `row ${r + 1}, column "${name}"[${k}]: ${JSON.stringify(x)} is not a number`,
          });
          continue;
        }
        checkValue(ds, spec.datatype, num, r, name, problems);
        (data as Float64Array)[r * width + k] = num;
      }
    }
  }
  if (problems.size > before || !data || width <= 0) {
    if (problems.size === before)
      problems.add({ file: ds.file, message: `input "${spec.name}": column "${name}" holds no values` });
    return null;
  }
  return { name: spec.name, datatype: spec.datatype, columns: spec.columns, width, rowShape, data, rowCount: n };
}

function flattenShaped(v: unknown, shape: number[], out: unknown[], depth: number, state = { leafDepth: -1 }): boolean {
  if (Array.isArray(v)) {
    if (state.leafDepth >= 0 && depth >= state.leafDepth) return false;
    if (depth === shape.length) shape.push(v.length);
    else if (shape[depth] !== v.length) return false;
    for (const x of v) if (!flattenShaped(x, shape, out, depth + 1, state)) return false;
    return true;
  }
  if (state.leafDepth < 0) state.leafDepth = depth;
  else if (state.leafDepth !== depth) return false;
  out.push(v);
  return v === null || typeof v !== 'object';
}

/** The label column as numbers (when every cell is numeric, or required by regression) or strings. */
export function buildLabels(
  ds: Dataset,
  column: string,
  task: 'classification' | 'regression',
  problems: ProblemList,
): Labels | null {
  if (!requireColumns(ds, [column], problems, 'label')) return null;
  const col = ds.columns.get(column)!;
  if (col.kind === 'number') return { kind: 'number', values: col.values };
  if (task === 'classification') {
    // numeric-looking strings stay strings; predictions are compared as text when labels are text
    return { kind: 'string', values: col.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))) };
  }
  const vals = new Float64Array(ds.rowCount);
  const before = problems.size;
  for (let r = 0; r < ds.rowCount; r++) {
    if (ds.flawed(r)) continue;
    const v = numberOf(col, r);
    if (!Number.isFinite(v))
      problems.add({
        ...rowWhere(ds, r, column),
        message: `row ${r + 1}, label "${column}": ${describeCell(col, r)} is not a number (regression)`,
      });
    vals[r] = v;
  }
  return problems.size > before ? null : { kind: 'number', values: vals };
}
