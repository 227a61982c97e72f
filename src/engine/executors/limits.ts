/**
 * Default cap on requests in flight for open workloads: ten seconds' worth of arrivals (at least
 * 100), so a stalled target shows up as latency, not as a generator that runs out of memory.
 */
export function defaultMaxInFlight(peakRate: number): number {
  return Math.max(100, Math.ceil(peakRate * 10));
}
