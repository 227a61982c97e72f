/**
 * Partial windows: the run's last window ends when the run does, so it can be a few milliseconds
 * long (4 ms with 2 requests). As a rate it would read 500/s, and its accuracy is that of a
 * handful of answers; drawn like a full window it looks like a spike or a dip that never happened.
 */
import type { IntervalRecord } from '../core/results.js';

/** A window shorter than half the longest window of the same records is partial. */
export const PARTIAL_FRACTION = 0.5;

/** Predicate: is this record a partial window (among `recs`, one scenario's windows)? */
export function partialWindowTest(recs: readonly IntervalRecord[]): (r: IntervalRecord) => boolean {
  let full = 0;
  for (const r of recs) if (Number.isFinite(r.duration_s) && r.duration_s > full) full = r.duration_s;
  return (r) => full > 0 && Number.isFinite(r.duration_s) && r.duration_s < PARTIAL_FRACTION * full;
}
