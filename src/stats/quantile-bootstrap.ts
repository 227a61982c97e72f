/**
 * Difference of latency quantiles (p50/p90/p99, candidate − control) by a moving-block bootstrap
 * over measurement windows (Künsch 1989): per arm, windows are resampled in blocks of consecutive
 * windows (keeping the correlation between neighbouring windows — a GC pause, a queue building up),
 * the resampled windows' histograms merged, and the quantile taken; the interval is the percentile
 * interval of the resampled differences. Works on binned windows (decoded HDR histograms) on a
 * shared value grid per arm (cumulative counts), so a resample costs a few binary searches over
 * that grid, never a pass over requests or buckets.
 * p-value: the percentile-bootstrap test that inverts the interval, 2·min(#{d* ≤ 0} + 1, #{d* ≥ 0} + 1)/(B + 1).
 */
import { Rng } from '../core/random.js';
import type { Binned } from './binned.js';
import { defaultBlockLength, movingBlockIndices, quantileSorted } from './bootstrap.js';

/** Value at quantile q with HdrHistogram's rule: the smallest value whose cumulative count ≥ ⌈q·N⌉. */
export function binnedQuantile(b: Binned, q: number): number {
  let total = 0;
  for (let i = 0; i < b.counts.length; i++) total += b.counts[i];
  if (total <= 0) return NaN;
  const want = countAtQuantile(q, total);
  let cum = 0;
  for (let i = 0; i < b.values.length; i++) {
    cum += b.counts[i];
    if (cum >= want) return b.values[i];
  }
  return b.values[b.values.length - 1];
}

function countAtQuantile(q: number, total: number): number {
  const fp = Math.min(1, Math.max(0, q)) * total;
  // The 1e-12 guard keeps 0.99 · 100 from becoming 99.00000000000001 → 100.
  return Math.max(1, Math.ceil(fp - fp * 1e-12));
}

/**
 * The windows of one arm on a shared value grid, as cumulative counts (transposed: grid point-major,
 * so one probe reads the windows' counts contiguously). A resample is a multiplicity per window; a
 * merged quantile is a binary search over the grid of Σ multiplicity × cumulative count — about
 * log₂(grid) × windows operations instead of a pass over every window's buckets.
 */
class WindowPool {
  private readonly grid: Float64Array;
  private readonly cumT: Float64Array;
  private readonly totals: Float64Array;
  readonly size: number;

  constructor(windows: readonly Binned[]) {
    const all = new Set<number>();
    for (const w of windows) for (let i = 0; i < w.values.length; i++) if (w.counts[i] > 0) all.add(w.values[i]);
    this.grid = Float64Array.from([...all].sort((a, b) => a - b));
    const g = this.grid.length;
    const n = windows.length;
    this.size = n;
    this.cumT = new Float64Array(g * n);
    this.totals = new Float64Array(n);
    windows.forEach((w, k) => {
      // Walk the window's ascending buckets along the grid.
      let i = 0;
      let cum = 0;
      for (let p = 0; p < g; p++) {
        while (i < w.values.length && w.values[i] <= this.grid[p]) cum += w.counts[i++];
        this.cumT[p * n + k] = cum;
      }
      this.totals[k] = cum;
    });
  }

  /** Quantiles of the merge of the windows with these multiplicities, into `out`. */
  quantiles(weights: Float64Array, qs: readonly number[], out: Float64Array): void {
    const n = this.size;
    const g = this.grid.length;
    let total = 0;
    for (let k = 0; k < n; k++) total += weights[k] * this.totals[k];
    out.fill(NaN);
    if (total <= 0 || g === 0) return;
    const cumT = this.cumT;
    let lo = 0; // qs ascending: each search starts where the previous ended
    for (let j = 0; j < qs.length; j++) {
      const want = countAtQuantile(qs[j], total);
      let a = lo;
      let b = g - 1;
      while (a < b) {
        const mid = (a + b) >> 1;
        let s = 0;
        const base = mid * n;
        for (let k = 0; k < n; k++) s += weights[k] * cumT[base + k];
        if (s >= want) b = mid;
        else a = mid + 1;
      }
      out[j] = this.grid[a];
      lo = a;
    }
  }
}

/** Multiplicity of each of n windows in one moving-block resample. */
function blockWeights(n: number, blockLength: number, rng: Rng, out: Float64Array): Float64Array {
  out.fill(0);
  for (const i of movingBlockIndices(n, blockLength, rng)) out[i]++;
  return out;
}

export interface QuantileBootstrapOptions {
  /** Quantiles in (0, 1] (default [0.5, 0.9, 0.99]). */
  quantiles?: readonly number[];
  /** Resamples (default 2000; clamped to 100 … 20,000). */
  resamples?: number;
  /** Windows per block (default round(n^(1/3)) per arm). */
  blockLength?: number;
  confidence?: number;
  /** Seed of the resampling (default 1): same input and seed → same interval. */
  seed?: number;
}

export interface QuantileDifference {
  quantile: number;
  control: number;
  candidate: number;
  /** candidate − control on the merged windows. */
  estimate: number;
  ci: [number, number];
  pValue: number;
  /** Standard deviation of the resampled differences (for power). */
  standardError: number;
}

export interface QuantileBootstrapResult {
  differences: QuantileDifference[];
  resamples: number;
  blockLength: [number, number];
  confidence: number;
  seed: number;
  method: 'moving-block-percentile';
}

/** Quantile differences candidate − control by moving-block bootstrap over each arm's windows (in time order). */
export function quantileDifferenceBootstrap(
  controlWindows: readonly Binned[],
  candidateWindows: readonly Binned[],
  opts: QuantileBootstrapOptions = {},
): QuantileBootstrapResult {
  const qs = [...(opts.quantiles ?? [0.5, 0.9, 0.99])];
  for (let i = 1; i < qs.length; i++) if (!(qs[i] >= qs[i - 1])) throw new RangeError('quantiles must be ascending');
  const resamples = Math.min(20_000, Math.max(100, Math.round(opts.resamples ?? 2000)));
  const confidence = opts.confidence ?? 0.95;
  const seed = opts.seed ?? 1;
  const a = new WindowPool(controlWindows);
  const b = new WindowPool(candidateWindows);
  const la = opts.blockLength ?? defaultBlockLength(a.size);
  const lb = opts.blockLength ?? defaultBlockLength(b.size);
  const qa = new Float64Array(qs.length);
  const qb = new Float64Array(qs.length);
  a.quantiles(new Float64Array(a.size).fill(1), qs, qa);
  b.quantiles(new Float64Array(b.size).fill(1), qs, qb);
  const base = {
    resamples,
    blockLength: [la, lb] as [number, number],
    confidence,
    seed,
    method: 'moving-block-percentile' as const,
  };
  if (a.size === 0 || b.size === 0) {
    return {
      ...base,
      differences: qs.map((q, i) => ({
        quantile: q,
        control: qa[i],
        candidate: qb[i],
        estimate: NaN,
        ci: [NaN, NaN] as [number, number],
        pValue: NaN,
        standardError: NaN,
      })),
    };
  }
  const rng = new Rng(seed);
  const diffs = qs.map(() => new Float64Array(resamples));
  const ra = new Float64Array(qs.length);
  const rb = new Float64Array(qs.length);
  const wa = new Float64Array(a.size);
  const wb = new Float64Array(b.size);
  for (let r = 0; r < resamples; r++) {
    a.quantiles(blockWeights(a.size, la, rng, wa), qs, ra);
    b.quantiles(blockWeights(b.size, lb, rng, wb), qs, rb);
    for (let i = 0; i < qs.length; i++) diffs[i][r] = rb[i] - ra[i];
  }
  const tail = (1 - confidence) / 2;
  const differences = qs.map((q, i) => {
    const d = diffs[i].filter((v) => Number.isFinite(v)).sort();
    let below = 0;
    let above = 0;
    let sum = 0;
    let sum2 = 0;
    for (const v of d) {
      if (v <= 0) below++;
      if (v >= 0) above++;
      sum += v;
      sum2 += v * v;
    }
    const n = d.length;
    const mean = n > 0 ? sum / n : NaN;
    return {
      quantile: q,
      control: qa[i],
      candidate: qb[i],
      estimate: qb[i] - qa[i],
      ci: [quantileSorted(d, tail), quantileSorted(d, 1 - tail)] as [number, number],
      pValue: n > 0 ? Math.min(1, (2 * (Math.min(below, above) + 1)) / (n + 1)) : NaN,
      standardError: n > 1 ? Math.sqrt(Math.max(0, (sum2 - n * mean * mean) / (n - 1))) : NaN,
    };
  });
  return { ...base, differences };
}
