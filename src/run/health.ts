/**
 * The generator's verdict on itself (summary.generator): is the run's timing trustworthy?
 */
import type { GeneratorHealth } from '../core/results.js';
import { durationStats, type Histogram } from '../metrics/index.js';
import { emptyHealth } from './summary.js';

export interface HealthInputs {
  workers: number;
  httpClient: GeneratorHealth['http_client'];
  /** options.maxDispatchLag, ms. */
  limitMs: number;
  /** Generator-caused dispatch lag (µs), whole run, all shards. */
  generatorLag: Histogram;
  /** Per shard window: event-loop delay p50 and p99 (ms). */
  eventLoopP50s: number[];
  eventLoopP99s: number[];
  eventLoopMaxMs: number;
  /** Per shard window: the worst of its dispatch lag and event-loop delay (ms). */
  windowMaxLagMs: number[];
  cpu?: { mean: number; max: number };
}

/** A stall in one window (a GC pause, JIT warm-up) is tolerated; in this many windows and … */
export const MIN_WINDOWS_OVER = 3;
/** … more than this share of them, it recurs and distorts the tail (p99 of TTFT, inter-token max). */
export const MAX_SHARE_OVER = 0.1;

export function judgeHealth(i: HealthInputs): GeneratorHealth {
  const h = emptyHealth(i.workers, i.httpClient);
  const limit = i.limitMs;
  const lag = durationStats(i.generatorLag);
  h.dispatch_lag_ms = { p50: lag.p50, p99: lag.p99, max: lag.max };
  // p50: the median window's median; p99: the worst window's p99 (the overload rule counts windows).
  const p50s = [...i.eventLoopP50s].sort((a, b) => a - b);
  const p99max = Math.max(0, ...i.eventLoopP99s);
  h.event_loop_delay_ms = { p50: p50s.length ? round(p50s[p50s.length >> 1]) : 0, p99: round(p99max), max: round(i.eventLoopMaxMs) };
  if (i.cpu) h.cpu_percent = i.cpu;
  const over = i.windowMaxLagMs.filter((m) => m > limit);
  h.windows_over_limit = { count: over.length, of: i.windowMaxLagMs.length, limit_ms: limit };
  if (lag.count > 0 && lag.p99 > limit) h.reasons.push(`generator dispatch lag p99 ${lag.p99} ms > ${limit} ms: the load generator could not send on time`);
  // One slow window (a GC pause, JIT warm-up) does not make a run invalid; a tenth of them does.
  const slow = i.eventLoopP99s.filter((p) => p > limit).length;
  if (slow > 0 && slow > MAX_SHARE_OVER * i.eventLoopP99s.length) {
    h.reasons.push(`event-loop delay p99 exceeded ${limit} ms in ${slow} of ${i.eventLoopP99s.length} windows (worst ${round(p99max)} ms)`);
  }
  // The tail: a stall that recurs (say every window boundary) holds up sends *and* receives — it
  // distorts the p99 of TTFT and the inter-token max while the lag p99 may stay under the limit.
  if (over.length >= MIN_WINDOWS_OVER && over.length > MAX_SHARE_OVER * i.windowMaxLagMs.length) {
    h.reasons.push(`the generator stalled for more than ${limit} ms in ${over.length} of ${i.windowMaxLagMs.length} windows (worst ${round(Math.max(...over))} ms): recurring stalls distort the tail latencies`);
  }
  h.overloaded = h.reasons.length > 0;
  return h;
}

const round = (x: number) => Math.round(x * 100) / 100;
