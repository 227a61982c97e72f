/**
 * The generator's verdict on itself (summary.generator): is the run's timing trustworthy?
 */
import type { GeneratorHealth } from '../core/results.js';
import { httpClientOf } from '../engine/index.js';
import { durationStats, type Histogram } from '../metrics/index.js';
import type { Plan } from '../plan/types.js';
import { emptyHealth } from './summary.js';
import type { WindowMerger } from './window-merger.js';

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
  h.event_loop_delay_ms = {
    p50: p50s.length ? round(p50s[p50s.length >> 1]) : 0,
    p99: round(p99max),
    max: round(i.eventLoopMaxMs),
  };
  if (i.cpu) h.cpu_percent = i.cpu;
  const over = i.windowMaxLagMs.filter((m) => m > limit);
  h.windows_over_limit = { count: over.length, of: i.windowMaxLagMs.length, limit_ms: limit };
  if (lag.count > 0 && lag.p99 > limit)
    h.reasons.push(`generator dispatch lag p99 ${lag.p99} ms > ${limit} ms: the load generator could not send on time`);
  // One slow window (a GC pause, JIT warm-up) does not make a run invalid; a tenth of them does.
  const slow = i.eventLoopP99s.filter((p) => p > limit).length;
  if (slow > 0 && slow > MAX_SHARE_OVER * i.eventLoopP99s.length) {
    h.reasons.push(
      `event-loop delay p99 exceeded ${limit} ms in ${slow} of ${i.eventLoopP99s.length} windows (worst ${round(p99max)} ms)`,
    );
  }
  // The tail: a stall that recurs (say every window boundary) holds up sends *and* receives — it
  // distorts the p99 of TTFT and the inter-token max while the lag p99 may stay under the limit.
  if (over.length >= MIN_WINDOWS_OVER && over.length > MAX_SHARE_OVER * i.windowMaxLagMs.length) {
    h.reasons.push(
      `the generator stalled for more than ${limit} ms in ${over.length} of ${i.windowMaxLagMs.length} windows (worst ${round(Math.max(...over))} ms): recurring stalls distort the tail latencies`,
    );
  }
  h.overloaded = h.reasons.length > 0;
  return h;
}

/** The run's generator health from what the merged windows recorded and the process CPU. */
export function generatorHealth(plan: Plan, merger: WindowMerger, cpu: CpuSampler): GeneratorHealth {
  return judgeHealth({
    workers: Math.max(1, plan.options.workers),
    httpClient: httpClientOf(plan),
    limitMs: plan.options.maxDispatchLagMs,
    generatorLag: merger.generatorLag,
    eventLoopP50s: merger.eventLoopP50s,
    eventLoopP99s: merger.eventLoopP99s,
    eventLoopMaxMs: merger.eventLoopDelayMs.max,
    windowMaxLagMs: merger.windowMaxLagMs,
    cpu: cpu.result(),
  });
}

/**
 * Whole-process CPU (all threads: the shards' workers and the merging main thread), sampled as merged
 * windows arrive. A sample is CPU % of one core over a span of at least half a window: shorter spans,
 * when windows arrive together, say nothing.
 */
export class CpuSampler {
  private readonly samples: number[] = [];
  /** CPU and wall time over the sampled spans, for a time-weighted mean. */
  private totalUs = 0;
  private wallUs = 0;
  private prev = process.cpuUsage();
  private prevT = process.hrtime.bigint();

  constructor(private readonly intervalMs: number) {}

  /** Called once per merged window. */
  sample(): void {
    const now = process.hrtime.bigint();
    const wallUs = Number(now - this.prevT) / 1000;
    if (wallUs < this.intervalMs * 500) return;
    const cpu = process.cpuUsage(this.prev);
    this.samples.push(((cpu.user + cpu.system) / wallUs) * 100);
    this.totalUs += cpu.user + cpu.system;
    this.wallUs += wallUs;
    this.prev = process.cpuUsage();
    this.prevT = now;
  }

  /** Mean (time-weighted) and max CPU %, or undefined before any span was long enough. */
  result(): { mean: number; max: number } | undefined {
    if (this.samples.length === 0) return undefined;
    return { mean: round((this.totalUs / this.wallUs) * 100), max: round(Math.max(...this.samples)) };
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
