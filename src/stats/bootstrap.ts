/**
 * Moving-block bootstrap (Künsch 1989) for time series of measurement windows. Consecutive windows
 * of a load test are correlated (a GC pause, a queue that builds up), so resampling single windows
 * would understate the uncertainty; resampling runs of `blockLength` consecutive windows keeps most
 * of that correlation. Confidence intervals are percentile intervals of the resampled statistic.
 */
import { Rng } from '../core/random.js';

export interface BootstrapOptions {
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** Block length in items; default round(n^(1/3)), at least 1. */
  blockLength?: number;
  /** Two-sided confidence level (default 0.95). */
  confidence?: number;
  /** PRNG seed (default 1): same inputs and seed → same interval. */
  seed?: number;
}

export interface BootstrapInterval {
  /** The statistic on the original data (for a difference: stat(b) − stat(a)). */
  estimate: number;
  low: number;
  high: number;
  confidence: number;
  resamples: number;
  /** Block length used (per sample, for a difference: of a then b). */
  blockLength: number | [number, number];
  seed: number;
  method: 'moving-block-percentile';
}

/** Default block length for n items: round(n^(1/3)), clamped to [1, n]. */
export function defaultBlockLength(n: number): number {
  if (n <= 1) return 1;
  return Math.max(1, Math.min(n, Math.round(Math.cbrt(n))));
}

/**
 * One moving-block resample of indices 0..n−1: blocks of `blockLength` consecutive indices with
 * uniformly random starts (0..n−blockLength), concatenated and cut to n.
 */
export function movingBlockIndices(n: number, blockLength: number, rng: Rng): number[] {
  const out: number[] = [];
  if (n <= 0) return out;
  const l = Math.max(1, Math.min(n, Math.floor(blockLength)));
  const starts = n - l + 1;
  while (out.length < n) {
    const s = rng.int(starts);
    for (let k = 0; k < l && out.length < n; k++) out.push(s + k);
  }
  return out;
}

/** Type-7 (linear interpolation) quantile of sorted values, q in [0, 1]. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0];
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function percentileInterval(values: number[], confidence: number): { low: number; high: number } {
  const finite = values.filter((v) => Number.isFinite(v)).sort((x, y) => x - y);
  const alpha = (1 - confidence) / 2;
  return { low: quantileSorted(finite, alpha), high: quantileSorted(finite, 1 - alpha) };
}

/**
 * Confidence interval for `statistic(items)` by moving-block bootstrap over `items` (in time order).
 * `statistic` receives a resample (items may repeat) and must not keep it.
 */
export function blockBootstrapCI<T>(
  items: readonly T[],
  statistic: (sample: readonly T[]) => number,
  opts: BootstrapOptions = {},
): BootstrapInterval {
  const resamples = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const seed = opts.seed ?? 1;
  const l = opts.blockLength ?? defaultBlockLength(items.length);
  const estimate = statistic(items);
  const rng = new Rng(seed);
  const stats: number[] = [];
  const buf: T[] = new Array<T>(items.length);
  for (let r = 0; r < resamples && items.length > 0; r++) {
    const idx = movingBlockIndices(items.length, l, rng);
    for (let k = 0; k < idx.length; k++) buf[k] = items[idx[k]];
    stats.push(statistic(buf));
  }
  const { low, high } = percentileInterval(stats, confidence);
  return { estimate, low, high, confidence, resamples, blockLength: l, seed, method: 'moving-block-percentile' };
}

/**
 * Confidence interval for the difference statistic(b) − statistic(a) of two independent series
 * (baseline a, candidate b), each resampled by moving blocks with its own default block length.
 */
export function blockBootstrapDiffCI<A, B = A>(
  a: readonly A[],
  b: readonly B[],
  statisticA: (sample: readonly A[]) => number,
  statisticB: (sample: readonly B[]) => number,
  opts: BootstrapOptions = {},
): BootstrapInterval {
  const resamples = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const seed = opts.seed ?? 1;
  const la = opts.blockLength ?? defaultBlockLength(a.length);
  const lb = opts.blockLength ?? defaultBlockLength(b.length);
  const estimate = statisticB(b) - statisticA(a);
  const rng = new Rng(seed);
  const diffs: number[] = [];
  const bufA: A[] = new Array<A>(a.length);
  const bufB: B[] = new Array<B>(b.length);
  if (a.length > 0 && b.length > 0) {
    for (let r = 0; r < resamples; r++) {
      const ia = movingBlockIndices(a.length, la, rng);
      for (let k = 0; k < ia.length; k++) bufA[k] = a[ia[k]];
      const ib = movingBlockIndices(b.length, lb, rng);
      for (let k = 0; k < ib.length; k++) bufB[k] = b[ib[k]];
      diffs.push(statisticB(bufB) - statisticA(bufA));
    }
  }
  const { low, high } = percentileInterval(diffs, confidence);
  return { estimate, low, high, confidence, resamples, blockLength: [la, lb], seed, method: 'moving-block-percentile' };
}
