/**
 * Closed workload: N virtual users, each sending its next request when the previous one finished
 * (plus optional think time). Intended start = actual send, so latency equals service time plus
 * any wait inside the connection pool — the summary says so.
 *
 * Shard k of n runs the users j with j ≡ k (mod n); iteration budgets are split the same way.
 */
import type { ScenarioRuntime, RequestOwner } from '../scenario-runtime.js';
import { EXECUTOR_DEFAULTS } from '../../plan/executors.js';
import { nowNs } from '../clock.js';
import { ExecutorBase, type Shard } from './executor.js';

class VirtualUser implements RequestOwner {
  retired = false;
  thinkTimer: NodeJS.Timeout | null = null;
  constructor(private readonly ex: ClosedModelExecutor) {}
  /** Bound once per user (not per request) for think-time timers. */
  readonly fire = (): void => {
    this.thinkTimer = null;
    this.ex.issue(this);
  };
  onRequestDone(): void {
    this.ex.requestDone(this);
  }
}

export interface ClosedModelOptions {
  /** Total users wanted at time t (seconds since start), across all shards. */
  usersAt(t: number): number;
  /** Whether the user count changes over time (enables the ramp controller). */
  ramping: boolean;
  /** Stop after this long; none when undefined. */
  durationS: number | undefined;
  /** Default: EXECUTOR_DEFAULTS.thinkTimeMs. */
  thinkTimeMs: number | undefined;
  /** Total requests across shards; undefined = unbounded (duration decides). */
  iterations?: number;
  /** Most users ever wanted at once (across shards): the shards beyond it never have a user. */
  peakUsers: number;
}

export class ClosedModelExecutor extends ExecutorBase {
  private readonly users: VirtualUser[] = [];
  private active = 0;
  private seq = 0;
  private budget: number;
  private startNs = 0;
  private endTimer: NodeJS.Timeout | null = null;
  private rampTimer: NodeJS.Timeout | null = null;
  private readonly thinkTimeMs: number;

  constructor(
    rt: ScenarioRuntime,
    private readonly shard: Shard,
    private readonly opts: ClosedModelOptions,
  ) {
    super(rt);
    this.budget = opts.iterations === undefined ? Infinity : budgetShare(opts.iterations, opts.peakUsers, shard);
    this.thinkTimeMs = opts.thinkTimeMs ?? EXECUTOR_DEFAULTS.thinkTimeMs;
  }

  run(startNs: number): Promise<void> {
    this.startNs = startNs;
    const durationS = this.opts.durationS;
    if (durationS !== undefined && durationS > 0 && Number.isFinite(durationS)) {
      this.endTimer = setTimeout(() => this.finishIssuing(), Math.max(0, (startNs + durationS * 1e9 - nowNs()) / 1e6));
    }
    this.adjust();
    if (this.opts.ramping) this.rampTimer = setInterval(() => this.adjust(), 100);
    if (this.budget === 0) this.finishIssuing();
    return this.done;
  }

  /** Brings this shard's user count to its share of the target. */
  private adjust(): void {
    if (this.stopped) return;
    const t = (nowNs() - this.startNs) / 1e9;
    const want = shareOf(Math.max(0, this.opts.usersAt(t)), this.shard);
    let live = this.users.filter((u) => !u.retired).length;
    while (live < want) {
      const u = new VirtualUser(this);
      this.users.push(u);
      this.active++;
      live++;
      this.issue(u);
    }
    for (let i = this.users.length - 1; i >= 0 && live > want; i--) {
      const u = this.users[i];
      if (u.retired) continue;
      u.retired = true;
      live--;
      if (u.thinkTimer !== null) {
        clearTimeout(u.thinkTimer);
        u.thinkTimer = null;
        this.leave(u);
      }
    }
  }

  issue(u: VirtualUser): void {
    if (this.stopped || u.retired || this.budget <= 0) return this.leave(u);
    this.budget--;
    const now = nowNs();
    this.rt.send(now, this.seq++, u);
  }

  requestDone(u: VirtualUser): void {
    // Let the base class see drain progress first.
    this.onRequestDone();
    if (this.stopped) return this.leave(u);
    if (this.budget <= 0) return this.leave(u);
    if (this.thinkTimeMs > 0) u.thinkTimer = setTimeout(u.fire, this.thinkTimeMs);
    else this.issue(u);
  }

  private leave(u: VirtualUser): void {
    const idx = this.users.indexOf(u);
    if (idx >= 0) {
      this.users.splice(idx, 1);
      this.active--;
    }
    if (this.active === 0 && this.budget <= 0 && !this.stopped) this.finishIssuing();
  }

  protected halt(): void {
    if (this.endTimer !== null) clearTimeout(this.endTimer);
    if (this.rampTimer !== null) clearInterval(this.rampTimer);
    this.endTimer = this.rampTimer = null;
    for (const u of this.users) {
      if (u.thinkTimer !== null) clearTimeout(u.thinkTimer);
      u.thinkTimer = null;
    }
  }

  gauges(): Record<string, number> {
    return { vus: this.stopped ? 0 : this.users.filter((u) => !u.retired).length };
  }
}

/**
 * This shard's part of an iteration budget. Only shards that ever get a user can spend one (users
 * go round-robin from shard 0), so the budget is split over those: with more shards than users a
 * share on a user-less shard would never be sent — and, with no duration, would never let the run end.
 */
export function budgetShare(total: number, peakUsers: number, shard: Shard): number {
  const active = Math.min(shard.count, Math.max(0, Math.floor(peakUsers)));
  return shard.index < active ? shareOf(total, { index: shard.index, count: active }) : 0;
}

/** This shard's share of a total that is split round-robin. */
export function shareOf(total: number, shard: Shard): number {
  const n = Math.floor(total);
  return Math.floor(n / shard.count) + (shard.index < n % shard.count ? 1 : 0);
}
