/**
 * Synthetic inputs: tensors shaped after model metadata, filled from a seeded uniform or normal
 * distribution, and payload-size sweeps (N-float payloads). Synthetic data is a pool of rows
 * (default 64) cycled through like a dataset, so requests can be pre-encoded once.
 */
import type { SyntheticPlan } from '../plan/types.js';
import { Rng, deriveSeed } from '../core/random.js';
import type { TensorInput } from './tensors.js';
import { isIntegerType, product } from './tensors.js';

export interface TensorSpecLike {
  name: string;
  datatype: string;
  /** Full shape from metadata, −1 for variable dimensions (the first is the batch dimension when −1). */
  shape: number[];
}

export const SYNTHETIC_POOL_ROWS = 64;

const INT_RANGES: Record<string, [number, number]> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
};

function draw(rng: Rng, plan: Pick<SyntheticPlan, 'distribution' | 'low' | 'high' | 'mean' | 'std'>): number {
  if (plan.distribution === 'normal') return (plan.mean ?? 0) + (plan.std ?? 1) * rng.normal();
  const lo = plan.low ?? 0;
  const hi = plan.high ?? 1;
  return lo + (hi - lo) * rng.float();
}

/**
 * Per-row dimensions of a model input: drops a leading −1 (batch); other −1 dimensions become 1.
 */
export function rowDimsOf(shape: readonly number[]): number[] {
  const dims = shape.length > 0 && shape[0] === -1 ? shape.slice(1) : shape.slice();
  return dims.map((d) => (d < 0 ? 1 : d));
}

/** A pool of `rows` synthetic rows for one model input. */
export function syntheticTensor(
  spec: TensorSpecLike,
  plan: Pick<SyntheticPlan, 'distribution' | 'low' | 'high' | 'mean' | 'std'>,
  seed: number,
  rows = SYNTHETIC_POOL_ROWS,
): TensorInput {
  const rowShape = rowDimsOf(spec.shape);
  const width = product(rowShape);
  const rng = new Rng(deriveSeed(seed, `synthetic.${spec.name}`));
  const dt = spec.datatype.toUpperCase();
  if (dt === 'BYTES') {
    const data: string[] = new Array(rows * width);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(rng.float() * 1e9).toString(36);
    return { name: spec.name, datatype: dt, columns: [], width, rowShape, data, rowCount: rows };
  }
  const data = new Float64Array(rows * width);
  const range = INT_RANGES[dt];
  for (let i = 0; i < data.length; i++) {
    let v = draw(rng, plan);
    if (dt === 'BOOL') v = v >= ((plan.low ?? 0) + (plan.high ?? 1)) / 2 ? 1 : 0;
    else if (isIntegerType(dt)) {
      v = Math.round(v);
      if (range) v = Math.min(range[1], Math.max(range[0], v));
      if (dt.startsWith('UINT') && v < 0) v = 0;
    } else if (dt === 'FP32' || dt === 'FP16') v = Math.fround(v);
    data[i] = v;
  }
  return { name: spec.name, datatype: dt, columns: [], width, rowShape, data, rowCount: rows };
}

/** N uniform floats in [0, 1) (seeded), e.g. for payload-size sweeps. */
export function floatPayload(n: number, seed = 1): Float32Array {
  const rng = new Rng(deriveSeed(seed, `payload.${n}`));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.float();
  return out;
}

/**
 * Payload-size sweep: for each size N, a KServe v2 infer body with one FP32 input `[1, N]`
 * (values from floatPayload) and its byte length.
 */
export function payloadSweep(
  sizes: readonly number[],
  opts: { inputName?: string; seed?: number; digits?: number } = {},
): Array<{ floats: number; body: Buffer; bytes: number }> {
  const name = opts.inputName ?? 'input';
  const digits = opts.digits ?? 6;
  return sizes.map((n) => {
    const v = floatPayload(n, opts.seed ?? 1);
    const parts: string[] = new Array(n);
    for (let i = 0; i < n; i++) parts[i] = v[i].toFixed(digits);
    const body = Buffer.from(
      `{"inputs":[{"name":${JSON.stringify(name)},"shape":[1,${n}],"datatype":"FP32","data":[${parts.join(',')}]}]}`,
    );
    return { floats: n, body, bytes: body.length };
  });
}
