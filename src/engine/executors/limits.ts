/**
 * Default cap on requests in flight for open workloads: ten seconds' worth of arrivals (at least
 * 100), so a stalled target shows up as latency, not as a generator that runs out of memory.
 */
export function defaultMaxInFlight(peakRate: number): number {
  return Math.max(100, Math.ceil(peakRate * 10));
}

/**
 * This shard's part of a scenario's in-flight cap (the cap is the scenario's, not each worker
 * thread's): split like the arrivals, at least 1 per shard.
 */
export function shardMaxInFlight(cap: number, shard: { index: number; count: number }): number {
  const n = Math.floor(cap);
  return Math.max(1, Math.floor(n / shard.count) + (shard.index < n % shard.count ? 1 : 0));
}
