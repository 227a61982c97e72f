/**
 * Open workload: requests arrive on a schedule regardless of how fast the target answers, so
 * latency counts from each arrival's *intended* time (no coordinated omission). Arrival i is at
 * start + Λ⁻¹(uᵢ); shard k of n sends the arrivals with i ≡ k (mod n), so shards together send
 * exactly the one schedule.
 *
 * Saturation: with `maxInFlight` requests outstanding, due arrivals wait for a free slot and are
 * sent late — still timed from their intended start, counted as `late`; those still waiting when
 * the scenario ends are counted as `unsent`. Nothing is dropped silently.
 */
import type { ArrivalProcess, RateProfile } from '../../pacing/index.js';
import { recordClamped, newHistogram } from '../../metrics/histogram.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import { nowNs } from '../clock.js';
import { ExecutorBase, type Shard } from './executor.js';

/** Generator-caused lag (not waiting for a slot), per shard; read by the health monitor. */
export const generatorLag = newHistogram();

export class OpenModelExecutor extends ExecutorBase {
  private startNs = 0;
  private endNs = 0;
  /** Global arrival index of the next arrival and its intended time. */
  private i = 0;
  private nextNs = Infinity;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private blocked = false;
  private readonly limit: number;

  constructor(
    rt: ScenarioRuntime,
    private readonly profile: RateProfile,
    private readonly arrivals: ArrivalProcess,
    private readonly shard: Shard,
    private readonly maxInFlight: number,
    maxRequests: number | undefined,
  ) {
    super(rt);
    this.limit = maxRequests ?? Infinity;
  }

  run(startNs: number): Promise<void> {
    this.startNs = startNs;
    this.endNs = startNs + this.profile.durationS * 1e9;
    this.advanceToMine();
    this.loop(true);
    return this.done;
  }

  /** Moves to the next arrival that belongs to this shard. */
  private advanceToMine(): void {
    for (;;) {
      if (this.i >= this.limit) {
        this.nextNs = Infinity;
        return;
      }
      const u = this.arrivals.next();
      const idx = this.i++;
      // Another shard's arrival: drawn (every shard walks the one sequence) but not mapped to a
      // time, so Λ⁻¹ costs each shard its own share of the rate, not the whole run's. Past the
      // end, the next arrival of ours is past it too (u only grows) and stops the loop.
      if (idx % this.shard.count !== this.shard.index) continue;
      const t = this.profile.timeAt(u);
      this.nextNs = t === Infinity ? Infinity : this.startNs + t * 1e9;
      return;
    }
  }

  private loop(fromTimer: boolean): void {
    this.timer = null;
    if (this.stopped) return;
    let now = nowNs();
    while (this.nextNs <= now) {
      if (this.rt.inFlight >= this.maxInFlight) {
        this.blocked = true;
        break; // resumes from afterRequest when a slot frees
      }
      if (fromTimer && !this.blocked) recordClamped(generatorLag, (now - this.nextNs) / 1000);
      this.rt.send(this.nextNs, this.seq++, this);
      this.advanceToMine();
      now = nowNs();
    }
    if (this.nextNs === Infinity) return this.finishIssuing();
    if (now >= this.endNs) {
      // Past the end with arrivals still waiting for a slot: they are never sent.
      this.countUnsent();
      return this.finishIssuing();
    }
    if (!this.blocked || this.rt.inFlight < this.maxInFlight) {
      this.blocked = false;
      const waitMs = Math.max(0, (this.nextNs - now) / 1e6);
      this.timer = setTimeout(this.onTimer, Math.min(waitMs, 1000));
    } else {
      // Check again at the end time even if no slot frees.
      this.timer = setTimeout(this.onTimer, Math.max(1, Math.min(1000, (this.endNs - now) / 1e6)));
    }
  }

  private readonly onTimer = (): void => this.loop(true);

  protected override afterRequest(): void {
    if (this.blocked && !this.stopped) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.blocked = false;
      this.loop(false);
      if (this.rt.inFlight >= this.maxInFlight && this.nextNs <= nowNs()) this.blocked = true;
    }
  }

  private countUnsent(): void {
    while (this.nextNs !== Infinity && this.nextNs < this.endNs) {
      this.unsent++;
      this.advanceToMine();
    }
  }

  protected halt(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.nextNs !== Infinity && this.nextNs <= Math.min(nowNs(), this.endNs))
      this.countUnsentUntil(Math.min(nowNs(), this.endNs));
  }

  private countUnsentUntil(t: number): void {
    while (this.nextNs !== Infinity && this.nextNs <= t) {
      this.unsent++;
      this.advanceToMine();
    }
  }

  private lastGaugeS = 0;

  /** Mean scheduled rate since the previous call (this shard's share): exact, from Λ. */
  gauges(): Record<string, number> {
    const t = Math.min(this.profile.durationS, Math.max(0, (nowNs() - this.startNs) / 1e9));
    const dt = t - this.lastGaugeS;
    const rate = dt > 0 ? (this.profile.cumulativeAt(t) - this.profile.cumulativeAt(this.lastGaugeS)) / dt : 0;
    this.lastGaugeS = t;
    return { target_rate: rate / this.shard.count };
  }
}
