/**
 * HDR histograms from intervals.ndjson (compressed base64, µs) as compact sparse arrays, so reports
 * and the comparison can merge many windows cheaply and exactly (bucket resolution of the source).
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { JsHistogram } from 'hdr-histogram-js';

/** Non-empty buckets of one histogram: `values[i]` (µs, highest equivalent value) seen `counts[i]` times. */
export interface SparseHistogram {
  values: Float64Array;
  counts: Float64Array;
  total: number;
}

export const EMPTY_SPARSE: SparseHistogram = { values: new Float64Array(0), counts: new Float64Array(0), total: 0 };

/** Decode one compressed base64 histogram. Returns an empty histogram for '' and throws on garbage. */
export function decodeSparse(b64: string): SparseHistogram {
  if (!b64) return EMPTY_SPARSE;
  const h = decodeFromCompressedBase64(b64, 64, false) as unknown as JsHistogram;
  const values: number[] = [];
  const counts: number[] = [];
  let total = 0;
  for (let i = 0; i < h.countsArrayLength; i++) {
    const c = h.getCountAtIndex(i);
    if (c > 0) {
      values.push(h.highestEquivalentValue(h.valueFromIndex(i)));
      counts.push(c);
      total += c;
    }
  }
  h.destroy();
  return { values: Float64Array.from(values), counts: Float64Array.from(counts), total };
}

/** Merge sparse histograms (sum of counts per value). */
export function mergeSparse(list: readonly SparseHistogram[]): SparseHistogram {
  const acc = new Map<number, number>();
  for (const h of list)
    for (let i = 0; i < h.values.length; i++) acc.set(h.values[i], (acc.get(h.values[i]) ?? 0) + h.counts[i]);
  const values = [...acc.keys()].sort((a, b) => a - b);
  const counts = values.map((v) => acc.get(v) ?? 0);
  let total = 0;
  for (const c of counts) total += c;
  return { values: Float64Array.from(values), counts: Float64Array.from(counts), total };
}

/** Value (µs) at quantile q ∈ [0, 1], with HdrHistogram's rule (smallest value with cumulative count ≥ ⌈q·N⌉). */
export function sparseQuantile(h: SparseHistogram, q: number): number {
  if (h.total <= 0) return NaN;
  const want = countAtQuantile(q, h.total);
  let cum = 0;
  for (let i = 0; i < h.values.length; i++) {
    cum += h.counts[i];
    if (cum >= want) return h.values[i];
  }
  return h.values[h.values.length - 1];
}

function countAtQuantile(q: number, total: number): number {
  const fp = Math.min(1, Math.max(0, q)) * total;
  return Math.max(1, Math.ceil(fp - fp * 1e-12));
}

/**
 * Many windows' histograms on a shared value grid, for fast merged quantiles of any multiset of
 * windows (bootstrap resamples repeat windows).
 */
export class HistogramPool {
  private readonly grid: Float64Array;
  private readonly idx: Int32Array[];
  private readonly cnt: Float64Array[];
  private readonly acc: Float64Array;
  readonly size: number;

  constructor(windows: readonly SparseHistogram[]) {
    const all = new Set<number>();
    for (const w of windows) for (const v of w.values) all.add(v);
    this.grid = Float64Array.from([...all].sort((a, b) => a - b));
    const pos = new Map<number, number>();
    this.grid.forEach((v, i) => pos.set(v, i));
    this.idx = windows.map((w) => Int32Array.from(w.values, (v) => pos.get(v) ?? 0));
    this.cnt = windows.map((w) => w.counts);
    this.acc = new Float64Array(this.grid.length);
    this.size = windows.length;
  }

  /** Quantiles (µs) of the merge of windows `members` (indices into the pool, repeats allowed). */
  quantiles(members: readonly number[], qs: readonly number[]): number[] {
    const acc = this.acc;
    acc.fill(0);
    let total = 0;
    for (const m of members) {
      const ix = this.idx[m];
      const c = this.cnt[m];
      for (let k = 0; k < ix.length; k++) {
        acc[ix[k]] += c[k];
        total += c[k];
      }
    }
    if (total <= 0) return qs.map(() => NaN);
    const order = qs.map((q, i) => ({ want: countAtQuantile(q, total), i })).sort((a, b) => a.want - b.want);
    const out = new Array<number>(qs.length).fill(NaN);
    let cum = 0;
    let j = 0;
    for (let g = 0; g < acc.length && j < order.length; g++) {
      cum += acc[g];
      while (j < order.length && cum >= order[j].want) {
        out[order[j].i] = this.grid[g];
        j++;
      }
    }
    return out;
  }
}

/**
 * Percentile spectrum of a histogram for plotting on a log axis of 1/(1−p): x = 1 (p0) … N
 * (the last sample), values in ms. About `points` log-spaced x values plus the decades.
 */
export function percentileSpectrum(h: SparseHistogram, points = 120): { x: number[]; ms: number[] } {
  if (h.total <= 0) return { x: [], ms: [] };
  const xMax = Math.max(2, h.total);
  const xs = new Set<number>();
  const steps = Math.max(2, points);
  for (let k = 0; k < steps; k++) xs.add(Number((xMax ** (k / (steps - 1))).toPrecision(4)));
  xs.add(2);
  for (let d = 10; d <= xMax; d *= 10) xs.add(d);
  const sorted = [...xs].filter((x) => x >= 1 && x <= xMax).sort((a, b) => a - b);
  const x: number[] = [];
  const ms: number[] = [];
  for (const xv of sorted) {
    const q = 1 - 1 / xv;
    x.push(xv);
    ms.push(sparseQuantile(h, q) / 1000);
  }
  return { x, ms };
}

/** Build a compressed base64 histogram from µs values (tests, synthetic fixtures). */
export function encodeValues(valuesUs: Iterable<number>): string {
  const h = build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  for (const v of valuesUs) h.recordValue(Math.max(1, Math.round(v)));
  const s = encodeIntoCompressedBase64(h);
  h.destroy();
  return s;
}

/** Re-encode a compressed histogram with every value multiplied by `factor` (tests: injected slowdowns). */
export function scaleEncoded(b64: string, factor: number): string {
  const s = decodeSparse(b64);
  const h = build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  for (let i = 0; i < s.values.length; i++)
    h.recordValueWithCount(Math.max(1, Math.round(s.values[i] * factor)), s.counts[i]);
  const out = encodeIntoCompressedBase64(h);
  h.destroy();
  return out;
}
