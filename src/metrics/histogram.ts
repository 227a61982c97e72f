/**
 * HDR histograms: µs resolution, 3 significant digits, 1 µs … 1 h. Exactly mergeable and
 * serialisable (compressed base64, the HdrHistogram interchange format), so worker threads and,
 * later, other machines can be merged without loss.
 */
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { DurationStats } from '../core/results.js';

export type { Histogram };

/** Largest trackable value: one hour in µs. Larger values are clamped (and would mean a broken run). */
export const HIGHEST_TRACKABLE_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: 3,
    autoResize: false,
    bitBucketSize: 32,
    useWebAssembly: false,
  });
}

/** Records a value, clamped into the trackable range (0 and negatives become 1: sub-µs). */
export function recordClamped(h: Histogram, value: number): void {
  if (value < 1) value = 1;
  else if (value > HIGHEST_TRACKABLE_US) value = HIGHEST_TRACKABLE_US;
  h.recordValue(Math.round(value));
}

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  const decoded = hdr.decodeFromCompressedBase64(encoded, 32, false);
  // Normalise to our range so adds never fail on differing layouts.
  const h = newHistogram();
  h.add(decoded);
  return h;
}

/**
 * A window's histogram as raw counts, for the per-window hand-off between threads: copying the
 * non-zero index range of the counts array is a few µs (the compressed-base64 encoding is a
 * deflate, ~0.2–1 ms per histogram), and its buffer can be transferred (no copy on postMessage).
 * Exact: the same counts, and the recorder's exact min and max.
 */
export interface RawHistogram {
  /** Index of counts[0] in the full counts array. */
  offset: number;
  counts: Uint32Array;
  total: number;
  /** µs; 0 and 0 when empty. */
  min: number;
  max: number;
}

/** The internals we read and write (hdr-histogram-js's typed-array histogram; checked by the round-trip tests). */
interface CountsAccess {
  _counts: Uint32Array;
  countsArrayIndex(value: number): number;
  setTotalCount(n: number): void;
  maxValue: number;
  minNonZeroValue: number;
}

const internals = (h: Histogram) => h as unknown as CountsAccess;

// Fail at load, clearly, if a new hdr-histogram-js changed the internals read here.
{
  const probe = internals(newHistogram());
  if (
    !(probe._counts instanceof Uint32Array) ||
    typeof probe.countsArrayIndex !== 'function' ||
    typeof probe.setTotalCount !== 'function'
  ) {
    throw new Error(
      'hdr-histogram-js internals changed (expected a Uint32Array _counts): src/metrics/histogram.ts needs updating',
    );
  }
}

/**
 * Reusable buffers for raw counts, in power-of-two sizes (1 KiB … 128 KiB; a full counts array is
 * 92 KiB). The thread that sends copies each window's counts into one — a memcpy into warm memory —
 * instead of allocating: a fresh typed array costs about 1 µs per KiB here (zeroing, page faults,
 * GC of external memory), which for a hundred wide histograms is tens of ms. The coordinator sends
 * the buffers back once it has merged them.
 */
export class CountsPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private bytes = 0;
  /** `capBytes`: buffers kept at most (beyond it, returned ones are left to the GC). */
  constructor(private readonly capBytes = 64 * 2 ** 20) {}

  /** A view of `n` counts on a pooled buffer (allocated when none of that size is free). */
  take(n: number): Uint32Array {
    const size = Math.max(1024, 2 ** Math.ceil(Math.log2(n * 4)));
    const buf = this.free.get(size)?.pop();
    if (buf === undefined) return new Uint32Array(new ArrayBuffer(size), 0, n);
    this.bytes -= size;
    return new Uint32Array(buf, 0, n);
  }

  /** Buffers handed back (of the pool's sizes). */
  give(buffers: ArrayBuffer[]): void {
    for (const b of buffers) {
      const size = b.byteLength;
      if (size < 1024 || (size & (size - 1)) !== 0 || this.bytes + size > this.capBytes) continue;
      let list = this.free.get(size);
      if (list === undefined) this.free.set(size, (list = []));
      list.push(b);
      this.bytes += size;
    }
  }

  /** Bytes held, free for reuse. */
  get size(): number {
    return this.bytes;
  }
}

/** Index range of a non-empty histogram's counts that can be non-zero. */
function usedRange(h: Histogram): [number, number] {
  const x = internals(h);
  // A recorded 0 (never here: recordClamped makes it 1) lands at index 0 and is not the min.
  const lo = x._counts[0] !== 0 ? 0 : x.countsArrayIndex(h.minNonZeroValue);
  return [lo, x.countsArrayIndex(h.maxValue)];
}

/**
 * Copies a histogram's counts (only the range from its min to its max) into a RawHistogram: into
 * a pooled buffer when a pool is given, else a new array of just that range.
 */
export function toRaw(h: Histogram, pool?: CountsPool): RawHistogram {
  if (h.totalCount === 0) return { offset: 0, counts: new Uint32Array(0), total: 0, min: 0, max: 0 };
  const x = internals(h);
  const [lo, hi] = usedRange(h);
  let counts: Uint32Array;
  if (pool === undefined) counts = x._counts.slice(lo, hi + 1);
  else {
    counts = pool.take(hi + 1 - lo);
    counts.set(x._counts.subarray(lo, hi + 1));
  }
  return { offset: lo, counts, total: h.totalCount, min: h.minNonZeroValue, max: h.maxValue };
}

/**
 * toRaw() and a reset that clears only the used range: the library's reset() clears the whole
 * 90 KiB counts array, which over a hundred histograms is megabytes of memory traffic per window.
 */
export function takeRaw(h: Histogram, pool?: CountsPool): RawHistogram {
  const raw = toRaw(h, pool);
  if (raw.total > 0) {
    const x = internals(h);
    x._counts.fill(0, raw.offset, raw.offset + raw.counts.length);
    x.setTotalCount(0);
    x.maxValue = 0;
    x.minNonZeroValue = Number.MAX_SAFE_INTEGER;
  }
  return raw;
}

/** Adds raw counts into `into` (same layout: every histogram here comes from newHistogram()). */
export function addRaw(into: Histogram, r: RawHistogram): void {
  if (r.total === 0) return;
  const x = internals(into);
  const c = x._counts;
  for (let i = 0; i < r.counts.length; i++) c[r.offset + i] += r.counts[i];
  x.setTotalCount(into.totalCount + r.total);
  if (r.max > x.maxValue) x.maxValue = r.max;
  if (r.min < x.minNonZeroValue) x.minNonZeroValue = r.min;
}

/** A histogram holding a RawHistogram's counts. */
export function fromRaw(r: RawHistogram): Histogram {
  const h = newHistogram();
  addRaw(h, r);
  return h;
}

/** Adds an encoded histogram into `into`. */
export function addEncoded(into: Histogram, encoded: string): void {
  into.add(hdr.decodeFromCompressedBase64(encoded, 32, false));
}

const US_PER_MS = 1000;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Percentiles of a µs histogram, in ms. Empty histogram → all zero with count 0. */
export function durationStats(h: Histogram): DurationStats {
  const count = h.totalCount;
  if (count === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  const ms = (us: number) => round3(us / US_PER_MS);
  return {
    count,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/** Small form used per interval. */
export function shortStats(h: Histogram): { p50: number; p90: number; p99: number; max: number } | null {
  if (h.totalCount === 0) return null;
  const ms = (us: number) => round3(us / US_PER_MS);
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
  };
}

/**
 * How many recorded values are above `value` (µs), to the histogram's resolution (3 significant
 * digits): a value in the same bucket as `value` counts as not above. For "k of n requests exceeded
 * the latency bound" (the capacity claim's early-stopping rule).
 */
export function countAbove(h: Histogram, value: number): number {
  const a = internals(h);
  if (value >= HIGHEST_TRACKABLE_US) return 0;
  const from = a.countsArrayIndex(Math.max(1, Math.floor(value))) + 1;
  let n = 0;
  for (let i = from; i < a._counts.length; i++) n += a._counts[i];
  return n;
}
