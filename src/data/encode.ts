/**
 * JSON encoding of tensor rows, done once per request body (pre-encoded at prepare time where the
 * data is small). Numbers are written with String() (shortest round-trip form), BOOL as
 * true/false, BYTES as JSON strings.
 */
import type { TensorInput } from './tensors.js';

function scalar(t: TensorInput, i: number): string {
  if (t.datatype === 'BYTES') return JSON.stringify((t.data as string[])[i]);
  const v = (t.data as Float64Array)[i];
  if (t.datatype === 'BOOL') return v !== 0 ? 'true' : 'false';
  return Number.isFinite(v) ? String(v) : 'null';
}

/** Flat row-major JSON array of the given rows: `[r0c0, r0c1, …, r1c0, …]`. */
export function flatRowsJson(t: TensorInput, rows: ArrayLike<number>): string {
  const w = t.width;
  const parts: string[] = new Array(rows.length * w);
  let k = 0;
  for (let r = 0; r < rows.length; r++) {
    const base = rows[r] * w;
    for (let j = 0; j < w; j++) parts[k++] = scalar(t, base + j);
  }
  return `[${parts.join(',')}]`;
}

/** One row nested to its row shape, e.g. [8, 8] → `[[…8…], …]`; [w] → `[…]`. */
export function rowJson(t: TensorInput, row: number, shape: readonly number[] = t.rowShape): string {
  const base = row * t.width;
  let pos = 0;
  const rec = (d: number): string => {
    const n = shape[d];
    const parts: string[] = new Array(n);
    if (d === shape.length - 1) {
      for (let i = 0; i < n; i++) parts[i] = scalar(t, base + pos++);
    } else {
      for (let i = 0; i < n; i++) parts[i] = rec(d + 1);
    }
    return `[${parts.join(',')}]`;
  };
  if (shape.length === 0) return scalar(t, base);
  return rec(0);
}

/** Rows nested: `[row0, row1, …]`. */
export function rowsJson(t: TensorInput, rows: ArrayLike<number>, shape: readonly number[] = t.rowShape): string {
  const parts: string[] = new Array(rows.length);
  for (let r = 0; r < rows.length; r++) parts[r] = rowJson(t, rows[r], shape);
  return `[${parts.join(',')}]`;
}
