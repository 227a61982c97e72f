/**
 * Monotonic time in ns as a double (exact to well under 1 µs for months), from process.hrtime.
 * Worker threads share the same monotonic clock, so an absolute bigint start is passed to them
 * and converted locally.
 */
const EPOCH = process.hrtime.bigint();

export function nowNs(): number {
  return Number(process.hrtime.bigint() - EPOCH);
}

/** Converts an absolute hrtime (bigint) into this thread's nowNs() scale. */
export function fromAbsolute(abs: bigint): number {
  return Number(abs - EPOCH);
}

export function absoluteNow(): bigint {
  return process.hrtime.bigint();
}
