/**
 * One shard of the load: every scenario's share, in one thread (the main thread, or a worker).
 * Emits one batch per metrics window with a snapshot per scenario (and group), plus its own health
 * (generator lag, event-loop delay). Window k covers [t0 + k·interval, t0 + (k+1)·interval);
 * every shard uses the same t0, so the main thread can merge windows exactly.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { request } from 'undici';
import type { Adapter, AdapterContext } from '../core/types.js';
import { CountsPool, takeRaw, type RawHistogram } from '../metrics/histogram.js';
import type { RawSnapshot } from '../metrics/metric-set.js';
import type { Plan, ScenarioPlan } from '../plan/types.js';
import { createExecutor, generatorLag, type Executor } from './executors/index.js';
import { createPool, type Transport } from './http-pool.js';
import { MAX_AWAITING_SOCKET, ScenarioRuntime } from './scenario-runtime.js';
import { fromAbsolute, nowNs } from './clock.js';
import { targetAgent, tlsFailure } from './target-tls.js';
import { ShadowAccumulator, type ShadowCounts } from '../comparison/shadow.js';
import type { PairedCounts } from '../comparison/types.js';
import type { VariantPlan } from '../plan/comparison.js';
import { shadowPredictor, type VariantArm } from './variants.js';

export interface ShardHealth {
  /** Raw HDR histogram (µs) of generator-caused dispatch lag in this window. */
  generatorLag: RawHistogram;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

export interface ShardBatch {
  shard: number;
  index: number;
  /**
   * Raw counts, not encodings: the hand-off runs on the thread that sends and receives, so it only
   * copies and resets; decoding, merging, encoding and writing are the coordinator's (main thread's).
   */
  snapshots: RawSnapshot[];
  /** Open model: arrivals never sent, per scenario, since the last batch. */
  unsent: Record<string, number>;
  cancelled: Record<string, number>;
  /** When each started scenario began and (once done) ended, ms since t0. */
  spans: Record<string, { startMs: number; endMs: number | null }>;
  health: ShardHealth;
  /** Last batch of this shard. */
  final: boolean;
  /**
   * Final batch only: each scenario's `adapter.report()` after `finish()` (scenarios that started
   * and whose adapter has a report). Merged across shards by the coordinator.
   */
  adapterReports?: Record<string, unknown>;
  /** Final batch only: per scenario, the first distinct failure messages per error class (ScenarioRuntime.errorReasons). */
  errorReasons?: Record<string, Record<string, string[]>>;
  /** A compared scenario's window: paired correctness (A/B, paired) or shadow counts, to be summed by the coordinator. */
  comparison?: Record<string, WindowComparison>;
}

/** What one window of a compared scenario adds beside its groups' metrics (mergeable). */
export interface WindowComparison {
  paired?: PairedCounts & { unpaired: number };
  shadow?: ShadowCounts;
}

export type AdapterFactory = (
  scenario: ScenarioPlan,
  plan: Plan,
  ctx: { shard: { index: number; count: number }; seed: number },
) => Promise<Adapter>;

interface Slot {
  plan: ScenarioPlan;
  rt: ScenarioRuntime;
  pool: Transport;
  executor: Executor;
  startNs: number;
  endNs: number | null;
  state: 'waiting' | 'running' | 'finished' | 'reported';
  timer: NodeJS.Timeout | null;
  unsentReported: number;
  cancelledReported: number;
  /** The scenario started (an adapter of a scenario stopped before its start has nothing to report). */
  started: boolean;
  /** The variants' pools besides `pool` (a compared scenario). */
  extraPools: Transport[];
  shadow: ShadowAccumulator | null;
}

/**
 * Plain requests for adapters' pre-load checks (readiness, metadata), with the plan's TLS options;
 * not the hot path (a connection per request, closed after it: nothing left open if prepare fails).
 */
function adapterContext(
  url: string,
  headers: Record<string, string>,
  shard: { index: number; count: number },
  seed: number,
  timeoutMs: number,
  tls: Plan['target']['tls'],
): AdapterContext {
  const origin = new URL(url).origin;
  return {
    origin,
    headers,
    shard,
    seed,
    async fetch(path, init = {}) {
      const dispatcher = targetAgent(tls);
      try {
        const res = await request(new URL(path, origin), {
          method: (init.method ?? 'GET') as 'GET',
          headers: { ...headers, ...(init.headers ?? {}) },
          body: init.body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          dispatcher,
        });
        const body = Buffer.from(await res.body.arrayBuffer());
        return { status: res.statusCode, body };
      } catch (e) {
        throw tlsFailure(origin, e, tls) ?? e;
      } finally {
        dispatcher.close().catch(() => {});
      }
    },
  };
}

/** Sampling interval of the event-loop monitor, ms. */
const ELD_RESOLUTION_MS = 10;

/**
 * Node's monitor records the time between its timer's firings, i.e. the interval *plus* the delay
 * (an idle loop reads ~10 ms): the delay is what exceeds the interval.
 */
function loopDelayMs(sampleNs: number): number {
  return Math.max(0, sampleNs / 1e6 - ELD_RESOLUTION_MS);
}

export class LoadShard {
  private readonly slots: Slot[] = [];
  private t0 = 0;
  private intervalNs = 1e9;
  private index = 0;
  private tickTimer: NodeJS.Timeout | null = null;
  private eld: IntervalHistogram | null = null;
  private finished = false;
  /** Buffers for the windows' raw counts; the coordinator gives them back through recycle(). */
  private readonly pool = new CountsPool();
  private resolveDone!: () => void;
  private rejectDone!: (e: unknown) => void;
  /**
   * Resolves when every scenario has finished and the last batch is sent. Rejects when one of the
   * shard's own promise chains failed (a bug, or a last batch that could not be sent): the load
   * stops and the shard's thread reports that as its failure (worker.ts, localShard).
   */
  readonly done: Promise<void> = new Promise((res, rej) => {
    this.resolveDone = res;
    this.rejectDone = rej;
  });

  private constructor(
    private readonly plan: Plan,
    private readonly shard: { index: number; count: number },
    private readonly emit: (b: ShardBatch) => void,
  ) {}

  /** Builds adapters (running their pre-load checks) and pools. Sends nothing yet. */
  static async create(
    plan: Plan,
    shard: { index: number; count: number },
    adapters: AdapterFactory,
    emit: (b: ShardBatch) => void,
  ): Promise<LoadShard> {
    const s = new LoadShard(plan, shard, emit);
    for (let i = 0; i < plan.scenarios.length; i++) {
      const sc = plan.scenarios[i];
      const seed = plan.options.seed + i * 7919;
      const cmp = plan.comparison?.scenario === sc.name ? plan.comparison : undefined;
      // A compared scenario: one adapter and pool per variant (the first one also serves as the scenario's own).
      const targets = cmp
        ? cmp.variants.map((v) => ({ variant: v, sc: variantScenario(sc, v) }))
        : [{ variant: undefined, sc }];
      const arms: VariantArm[] = [];
      const pools: Transport[] = [];
      const connections = sc.target?.connections ?? plan.target.connections;
      try {
        for (const t of targets) {
          const adapter = await adapters(t.sc, plan, { shard, seed });
          const url = t.sc.target?.url ?? plan.target.url;
          if (adapter.prepare) {
            try {
              await adapter.prepare(
                adapterContext(
                  url,
                  { ...plan.target.headers, ...(t.sc.target?.headers ?? {}) },
                  shard,
                  seed,
                  plan.target.timeoutMs,
                  plan.target.tls,
                ),
              );
            } catch (e) {
              // Say which variant: each has its own server, model or version.
              if (t.variant && e instanceof Error) {
                const who = `variant \`${t.variant.name}\``;
                e.message = `${who} (${url}): ${e.message}`;
                // located problems (metadata against the data) are printed one by one: each says which variant
                const problems = (e as { problems?: Array<{ message: string }> }).problems;
                for (const p of problems ?? []) p.message = `${who}: ${p.message}`;
              }
              throw e;
            }
          }
          const pool = createPool(new URL(url).origin, {
            connections: connections === undefined ? null : Math.max(1, Math.ceil(connections / shard.count)),
            connectTimeoutMs: plan.target.connectTimeoutMs,
            tls: plan.target.tls,
            client: plan.target.client,
            timeoutMs: sc.target?.timeoutMs ?? plan.target.timeoutMs,
          });
          pools.push(pool);
          arms.push({ name: t.variant?.name ?? sc.name, adapter, pool });
        }
      } catch (e) {
        for (const p of pools) p.destroy().catch(() => {});
        for (const slot of s.slots) for (const p of [slot.pool, ...slot.extraPools]) p.destroy().catch(() => {});
        throw e;
      }
      const rt = new ScenarioRuntime(
        sc,
        arms[0].adapter,
        arms[0].pool,
        sc.target?.timeoutMs ?? plan.target.timeoutMs,
        connections === undefined ? MAX_AWAITING_SOCKET : Infinity,
      );
      let shadow: ShadowAccumulator | null = null;
      if (cmp?.kind === 'shadow') {
        // The plan's secrets, redacted from the examples before they are cut to length (a secret cut
        // in two would escape the results writer's redaction).
        shadow = new ShadowAccumulator(cmp.shadow!, { secrets: plan.secrets });
        rt.useVariants({ kind: 'mirror', arms, shadow, predict: shadowPredictor(sc) });
      } else if (cmp) {
        const steps = cmp.canary?.steps ?? [];
        let at = 0;
        rt.useVariants({
          kind: 'split',
          arms,
          // Canary steps: the control gets 1 − share, the candidate the share (variants are in role order).
          weights: steps.length > 0 ? [1 - steps[0].share, steps[0].share] : cmp.variants.map((v) => v.weight),
          paired: cmp.ab?.paired === true,
          ...(steps.length > 0
            ? {
                schedule: steps.map((st) => {
                  const e = { atMs: at, weights: [1 - st.share, st.share] };
                  at += st.durationMs;
                  return e;
                }),
              }
            : {}),
        });
      }
      const executor = createExecutor(rt, shard, seed);
      s.slots.push({
        plan: sc,
        rt,
        pool: arms[0].pool,
        executor,
        startNs: 0,
        endNs: null,
        state: 'waiting',
        timer: null,
        unsentReported: 0,
        cancelledReported: 0,
        started: false,
        extraPools: pools.slice(1),
        shadow,
      });
    }
    return s;
  }

  /** Starts every scenario at t0 + its startTime. `t0Abs` is an absolute hrtime shared by all shards. */
  start(t0Abs: bigint): void {
    this.t0 = fromAbsolute(t0Abs);
    this.intervalNs = this.plan.options.intervalMs * 1e6;
    this.eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    this.eld.enable();
    for (const slot of this.slots) {
      // `after` (a count-bounded predecessor): started when that one ends here, see onScenarioDone
      if (slot.plan.after === undefined) this.startAt(slot, this.t0 + slot.plan.startTimeMs * 1e6);
    }
    this.scheduleTick();
  }

  /** Counts buffers of batches the coordinator has merged (see rawBuffers), for reuse by later windows. */
  recycle(buffers: ArrayBuffer[]): void {
    this.pool.give(buffers);
  }

  private startAt(slot: Slot, startNs: number): void {
    slot.startNs = startNs;
    const begin = () => {
      slot.timer = null;
      slot.rt.started(slot.startNs);
      slot.state = 'running';
      slot.started = true;
      slot.executor
        .run(slot.startNs)
        .then(() => this.onScenarioDone(slot))
        .catch((e: unknown) => this.failed(e));
    };
    const wait = (slot.startNs - nowNs()) / 1e6;
    if (wait <= 0) begin();
    else slot.timer = setTimeout(begin, wait);
  }

  /** Stops every scenario now; in-flight requests get `drainMs`, then are cancelled. */
  stop(drainMs: number): void {
    for (const slot of this.slots) {
      if (slot.state === 'waiting') {
        if (slot.timer !== null) clearTimeout(slot.timer);
        slot.state = 'reported'; // never started: nothing to report
      } else if (slot.state === 'running') {
        slot.executor.stop(drainMs);
      }
    }
    this.maybeFinish();
  }

  private onScenarioDone(slot: Slot): void {
    slot.endNs = nowNs();
    if (slot.state === 'running') slot.state = 'finished';
    // scenarios `after` this one start now (+ their startTime); not when the run is stopping (stop()
    // has marked them reported)
    for (const next of this.slots) {
      if (next.plan.after === slot.plan.name && next.state === 'waiting' && next.timer === null)
        this.startAt(next, slot.endNs + next.plan.startTimeMs * 1e6);
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.finished) return;
    if (this.slots.some((s) => s.state === 'running' || s.state === 'waiting')) return;
    this.finished = true;
    if (this.tickTimer !== null) clearTimeout(this.tickTimer);
    // The last window is measured now; it is sent once the adapters have finished (golden files
    // written), with their end-of-run reports.
    const last = this.collect(true);
    for (const slot of this.slots)
      if (Object.keys(slot.rt.errorReasons).length > 0)
        (last.errorReasons ??= {})[slot.plan.name] = slot.rt.errorReasons as Record<string, string[]>;
    for (const slot of this.slots) {
      for (const p of [slot.pool, ...slot.extraPools]) p.destroy().catch(() => {});
    }
    Promise.all(this.slots.map((s) => this.finishAdapter(s)))
      .then((errors) => {
        const reports = this.adapterReports(errors);
        if (reports) last.adapterReports = reports;
        this.emit(last);
      })
      .then(
        () => this.resolveDone(),
        (e: unknown) => this.failed(e),
      );
  }

  /** One of the shard's promise chains failed: stop the load and reject `done` (see there). */
  private failed(e: unknown): void {
    this.finished = true;
    if (this.tickTimer !== null) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    for (const slot of this.slots) {
      if (slot.timer !== null) clearTimeout(slot.timer);
      slot.timer = null;
      if (slot.state === 'running') slot.executor.stop(0);
      slot.pool.destroy().catch(() => {});
    }
    this.rejectDone(e);
  }

  /**
   * `adapter.finish()`; its failure (e.g. a golden file that cannot be written) is reported, not
   * thrown. A scenario that never started has nothing to flush (and must not, say, overwrite a
   * golden file with an empty one).
   */
  private async finishAdapter(slot: Slot): Promise<string | null> {
    if (!slot.started) return null;
    try {
      await slot.rt.adapter.finish?.();
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  /** Reports of the scenarios that started; each checked to be cloneable (it may cross threads). */
  private adapterReports(finishErrors: Array<string | null>): Record<string, unknown> | undefined {
    const out: Record<string, unknown> = {};
    let any = false;
    this.slots.forEach((slot, i) => {
      if (!slot.started) return;
      const err = finishErrors[i];
      let r: Record<string, unknown> | undefined;
      try {
        const raw = slot.rt.adapter.report?.();
        r = raw === undefined ? undefined : structuredClone(raw);
      } catch (e) {
        r = { report_error: e instanceof Error ? e.message : String(e) };
      }
      if (err !== null) r = { ...(r ?? {}), finish_error: err };
      if (r !== undefined) {
        out[slot.plan.name] = r;
        any = true;
      }
    });
    return any ? out : undefined;
  }

  private scheduleTick(): void {
    const next = this.t0 + (this.index + 1) * this.intervalNs;
    this.tickTimer = setTimeout(
      () => {
        this.tickTimer = null;
        this.tick(false);
        if (!this.finished) this.scheduleTick();
      },
      Math.max(0, (next - nowNs()) / 1e6),
    );
  }

  private tick(final: boolean): void {
    this.emit(this.collect(final));
  }

  /** This window's batch (snapshots, counts, health); marks finished scenarios as reported. */
  private collect(final: boolean): ShardBatch {
    const index = this.index++;
    const startMs = (index * this.intervalNs) / 1e6;
    const durationMs = final ? Math.max(1, (nowNs() - this.t0) / 1e6 - startMs) : this.intervalNs / 1e6;
    const snapshots: RawSnapshot[] = [];
    const unsent: Record<string, number> = {};
    const cancelled: Record<string, number> = {};
    const spans: ShardBatch['spans'] = {};
    const comparison: Record<string, WindowComparison> = {};
    const windowEndNs = this.t0 + (index + 1) * this.intervalNs;
    for (const slot of this.slots) {
      if (slot.state === 'waiting' || slot.state === 'reported') continue;
      // A scenario starting exactly at this window's end belongs to the next window.
      if (!final && slot.startNs >= windowEndNs) continue;
      spans[slot.plan.name] = {
        startMs: (slot.startNs - this.t0) / 1e6,
        endMs: slot.endNs === null ? null : (slot.endNs - this.t0) / 1e6,
      };
      const name = slot.plan.name;
      const gauges = { in_flight: slot.rt.inFlight, ...slot.executor.gauges() };
      snapshots.push(slot.rt.metrics.take(name, undefined, index, startMs, durationMs, gauges, this.pool));
      for (const [g, m] of slot.rt.groups) snapshots.push(m.take(name, g, index, startMs, durationMs, {}, this.pool));
      unsent[name] = slot.executor.unsent - slot.unsentReported;
      slot.unsentReported = slot.executor.unsent;
      cancelled[name] = slot.rt.cancelled - slot.cancelledReported;
      slot.cancelledReported = slot.rt.cancelled;
      if (slot.rt.paired !== null) (comparison[name] ??= {}).paired = slot.rt.paired.take();
      if (slot.shadow !== null) (comparison[name] ??= {}).shadow = slot.shadow.take();
      if (slot.state === 'finished') slot.state = 'reported';
    }
    // No monitor when the shard is stopped before it started (Ctrl-C while adapters were prepared).
    const eld = this.eld;
    const health: ShardHealth = {
      generatorLag: takeRaw(generatorLag, this.pool),
      eventLoopDelayMs:
        eld !== null && eld.count > 0
          ? { p50: loopDelayMs(eld.percentile(50)), p99: loopDelayMs(eld.percentile(99)), max: loopDelayMs(eld.max) }
          : { p50: 0, p99: 0, max: 0 },
    };
    eld?.reset();
    if (final) eld?.disable();
    const batch: ShardBatch = { shard: this.shard.index, index, snapshots, unsent, cancelled, spans, health, final };
    if (Object.keys(comparison).length > 0) batch.comparison = comparison;
    return batch;
  }
}

/** The scenario as one variant sees it: the variant's URL, headers, model and version over the scenario's. */
export function variantScenario(sc: ScenarioPlan, v: VariantPlan): ScenarioPlan {
  const target = { ...(sc.target ?? {}) };
  if (v.url !== undefined) target.url = v.url;
  if (v.headers !== undefined) target.headers = { ...(sc.target?.headers ?? {}), ...v.headers };
  const out: ScenarioPlan = { ...sc, target };
  if (v.model !== undefined) out.model = v.model;
  if (v.modelVersion !== undefined) out.modelVersion = v.modelVersion;
  return out;
}
