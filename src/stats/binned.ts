/**
 * Per-request values of one metric, binned: ascending distinct `values` with their `counts` (HDR
 * histogram buckets, already in the unit the caller wants). Structurally the same as
 * report/hdr.ts `SparseHistogram`, so a decoded histogram is passed as is — never arrays of samples.
 */
export interface Binned {
  readonly values: ArrayLike<number>;
  readonly counts: ArrayLike<number>;
}

/** Total count of a binned sample. */
export function binnedTotal(b: Binned): number {
  let n = 0;
  for (let i = 0; i < b.counts.length; i++) n += b.counts[i];
  return n;
}
