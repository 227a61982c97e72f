/**
 * Replay: an open workload whose intended send times come from a trace file (CSV / JSON Lines),
 * scaled by `speed`. Latency counts from each request's intended time, as for the arrival-rate
 * executors; with `maxInFlight` requests outstanding, due requests wait (late) and those still
 * waiting at the end are `unsent`.
 *
 * Sharding: request i of the trace goes to shard i mod n with sequence number ⌊i / n⌋, so with
 * sequential data order it carries data row i (cycling). With a `row` column, the request for row r
 * goes to shard r mod n with sequence number ⌊r / n⌋, which the data layer maps back to row r
 * (order sequential, batch 1; see src/data/order.ts).
 */
import { loadTrace, type Trace } from '../../data/trace.js';
import type { ExecutorConfigOf } from '../../plan/types.js';
import { recordClamped } from '../../metrics/histogram.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import { nowNs } from '../clock.js';
import { ExecutorBase, type Executor, type Shard } from './executor.js';
import { generatorLag } from './open-model.js';
import { defaultMaxInFlight, shardMaxInFlight } from './limits.js';

/** This shard's part of a trace: intended times (s) and sequence numbers, in time order. */
export function shardOfTrace(
  trace: Trace,
  shard: Shard,
  limits: { durationS?: number; maxRequests?: number } = {},
): { timesS: Float64Array; seqs: Float64Array } {
  const times: number[] = [];
  const seqs: number[] = [];
  const n = Math.min(trace.timesS.length, limits.maxRequests ?? Infinity);
  for (let i = 0; i < n; i++) {
    const t = trace.timesS[i];
    if (limits.durationS !== undefined && t >= limits.durationS) break;
    const key = trace.rows ? trace.rows[i] : i;
    if (key % shard.count !== shard.index) continue;
    times.push(t);
    seqs.push(Math.floor(key / shard.count));
  }
  return { timesS: Float64Array.from(times), seqs: Float64Array.from(seqs) };
}

/** Peak rate of a trace over 1-second buckets (for the default in-flight cap). */
function peakRate(timesS: Float64Array): number {
  let peak = 0;
  let j = 0;
  for (let i = 0; i < timesS.length; i++) {
    while (timesS[i] - timesS[j] >= 1) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}

export class ReplayExecutor extends ExecutorBase {
  private startNs = 0;
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private blocked = false;
  private lastGaugeS = 0;
  private gaugeIdx = 0;

  constructor(
    rt: ScenarioRuntime,
    private readonly timesS: Float64Array,
    private readonly seqs: Float64Array,
    private readonly maxInFlight: number,
  ) {
    super(rt);
  }

  run(startNs: number): Promise<void> {
    this.startNs = startNs;
    this.loop(true);
    return this.done;
  }

  private dueNs(i: number): number {
    return this.startNs + this.timesS[i] * 1e9;
  }

  private loop(fromTimer: boolean): void {
    this.timer = null;
    if (this.stopped) return;
    let now = nowNs();
    while (this.next < this.timesS.length && this.dueNs(this.next) <= now) {
      if (this.rt.inFlight >= this.maxInFlight) {
        this.blocked = true;
        break;
      }
      const due = this.dueNs(this.next);
      if (fromTimer && !this.blocked) recordClamped(generatorLag, (now - due) / 1000);
      this.rt.send(due, this.seqs[this.next], this);
      this.next++;
      now = nowNs();
    }
    if (this.next >= this.timesS.length) return this.finishIssuing();
    if (!this.blocked || this.rt.inFlight < this.maxInFlight) {
      this.blocked = false;
      this.timer = setTimeout(this.onTimer, Math.min(1000, Math.max(0, (this.dueNs(this.next) - now) / 1e6)));
    }
    // Blocked: afterRequest resumes when a slot frees.
  }

  private readonly onTimer = (): void => this.loop(true);

  protected override afterRequest(): void {
    if (this.blocked && !this.stopped) {
      this.blocked = false;
      if (this.timer !== null) clearTimeout(this.timer);
      this.loop(false);
    }
  }

  protected halt(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    // Requests that were due but never sent are counted, not dropped silently.
    const now = nowNs();
    while (this.next < this.timesS.length && this.dueNs(this.next) <= now) {
      this.unsent++;
      this.next++;
    }
  }

  /** Scheduled rate since the previous call (this shard's share), from the trace. */
  gauges(): Record<string, number> {
    const t = Math.max(0, (nowNs() - this.startNs) / 1e9);
    const dt = t - this.lastGaugeS;
    let n = 0;
    while (this.gaugeIdx < this.timesS.length && this.timesS[this.gaugeIdx] <= t) {
      n++;
      this.gaugeIdx++;
    }
    this.lastGaugeS = t;
    return { target_rate: dt > 0 ? n / dt : 0 };
  }
}

export function replay(rt: ScenarioRuntime, p: ExecutorConfigOf<'replay'>, shard: Shard): Executor {
  const trace = loadTrace(p.trace);
  const mine = shardOfTrace(trace, shard, {
    durationS: p.durationMs !== undefined ? p.durationMs / 1000 : undefined,
    maxRequests: p.maxRequests,
  });
  return new ReplayExecutor(
    rt,
    mine.timesS,
    mine.seqs,
    shardMaxInFlight(p.maxInFlight ?? defaultMaxInFlight(peakRate(trace.timesS)), shard),
  );
}
