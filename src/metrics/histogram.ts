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
  return { p50: ms(h.getValueAtPercentile(50)), p90: ms(h.getValueAtPercentile(90)), p99: ms(h.getValueAtPercentile(99)), max: ms(h.maxValue) };
}
