/**
 * Which data rows each request carries. Built once per shard as a table of batches; the hot path
 * only indexes it.
 *
 * - The row order is a table of positions: `sequential` (0..N−1), `shuffle` (a seeded
 *   permutation) or `sample` (N draws with replacement, seeded; the table repeats after N draws).
 * - Batches cut that table into runs of `batch.min` rows, or of sizes drawn uniformly (seeded) from
 *   [min, max]; the last batch wraps around to the start so every batch is full.
 * - Sharding: with `count` shards, shard k sends batches k, k+count, k+2·count, … (mod the number
 *   of batches), i.e. request `seq` of shard k carries batch `(k + seq·count) mod B`. With one row
 *   per request and sequential order, shard k serves exactly the rows ≡ k (mod count).
 *
 * Every table derives from the plan seed only, so all shards agree on it and together they walk
 * the order exactly once per cycle, whatever the number of shards.
 */
import { Rng, deriveSeed, shuffleInPlace } from '../core/random.js';

export type RowOrder = 'sequential' | 'shuffle' | 'sample';

export interface BatchTable {
  /** Number of batches in one cycle. */
  readonly count: number;
  /** Rows of batch i (data row indices). */
  rows(i: number): Int32Array;
  /** Batch index of request `seq` for a shard. */
  batchOf(seq: number): number;
  /** Distinct batch indices this shard visits, in visiting order (for pre-encoding). */
  visited(): number[];
}

export function rowOrder(n: number, order: RowOrder, seed: number): Int32Array {
  const out = new Int32Array(n);
  if (order === 'sample') {
    const rng = new Rng(deriveSeed(seed, 'data.sample'));
    for (let i = 0; i < n; i++) out[i] = rng.int(n);
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = i;
  if (order === 'shuffle') shuffleInPlace(out, new Rng(deriveSeed(seed, 'data.shuffle')));
  return out;
}

export function buildBatchTable(
  n: number,
  opts: { order: RowOrder; batch: { min: number; max: number }; seed: number; shard: { index: number; count: number } },
): BatchTable {
  const order = rowOrder(n, opts.order, opts.seed);
  const min = Math.max(1, Math.floor(opts.batch.min));
  const max = Math.max(min, Math.floor(opts.batch.max));
  const starts: number[] = [];
  const sizes: number[] = [];
  if (min === max) {
    for (let p = 0; p < n; p += min) {
      starts.push(p);
      sizes.push(min);
    }
  } else {
    const rng = new Rng(deriveSeed(opts.seed, 'data.batch'));
    for (let p = 0; p < n; ) {
      const b = min + rng.int(max - min + 1);
      starts.push(p);
      sizes.push(b);
      p += b;
    }
  }
  const batches: Int32Array[] = starts.map((s, i) => {
    const size = sizes[i];
    if (s + size <= n) return order.subarray(s, s + size);
    const rows = new Int32Array(size);
    for (let k = 0; k < size; k++) rows[k] = order[(s + k) % n];
    return rows;
  });
  const B = batches.length;
  const k = ((opts.shard.index % B) + B) % B;
  const step = opts.shard.count % B;
  return {
    count: B,
    rows: (i) => batches[i],
    batchOf: (seq) => (k + (((seq % B) * step) % B)) % B,
    visited: () => {
      const seen = new Uint8Array(B);
      const out: number[] = [];
      for (let s = 0; s < B; s++) {
        const b = (k + (((s % B) * step) % B)) % B;
        if (seen[b]) break;
        seen[b] = 1;
        out.push(b);
      }
      return out;
    },
  };
}
