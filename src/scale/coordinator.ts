/**
 * `preflight coordinator`: the scale-out run IS `run()` with remote shards (RemoteShards, a
 * ShardSource): the workers' windows come from the run's JetStream stream through a durable
 * consumer and are merged exactly as worker threads' are; thresholds, verdict, abortOnFail and the
 * results folder are run()'s, once, for the whole run. This module adds the start barrier (all
 * workers ready → one start time ahead, in each worker's own clock), liveness (heartbeats), resume
 * after a restart (the stream is replayed; windows are deduplicated), and `summary.scale_out`.
 */
import { AckPolicy, DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { PreflightError, type PreflightErrorCode } from '../core/errors.js';
import type { ScaleOutSummary, ScaleOutWorker, Summary } from '../core/results.js';
import { absoluteNow, type ShardBatch, type ShardHandle } from '../engine/index.js';
import type { Plan } from '../plan/types.js';
import { run, type RunOptions, type RunResult, type ShardSource } from '../run/index.js';
import { connectNats, ensureStream, epochNow, type Nats } from './nats.js';
import {
  decodeBatch,
  decodeJson,
  encodeJson,
  planDigest,
  subjects,
  type ControlMsg,
  type DoneMsg,
  type ErrorMsg,
  type HelloMsg,
  type ReadyMsg,
} from './protocol.js';

export interface CoordinatorOptions {
  workers: number;
  natsUrl: string;
  runId: string;
  /** How long to wait for every worker to be ready; default 120 s. */
  readyTimeoutMs?: number;
  /** A started worker silent this long is lost; default 5 s. */
  heartbeatTimeoutMs?: number;
  /** How far ahead of now the start is set once all are ready; default 1500 ms. */
  startLeadMs?: number;
  log?: (line: string) => void;
}

interface WorkerState {
  hello?: HelloMsg;
  ready?: ReadyMsg;
  /** Set when it was lost (died, silent, failed) after it was ready. */
  lost?: string;
  lastSeen: number;
  requests: number;
  windows: number;
  /** Per shard of its segment: the next window index expected after the last received (for the lost share). */
  reached: Map<number, number>;
  overWindows: number;
}

interface Slot {
  onBatch: (b: ShardBatch) => void;
  onFailure: (e: Error) => void;
  resolveReady: () => void;
  rejectReady: (e: unknown) => void;
  resolveDone: () => void;
  ended: boolean;
}

export class RemoteShards implements ShardSource {
  readonly count: number;
  private readonly T: number;
  private readonly N: number;
  private readonly s: ReturnType<typeof subjects>;
  private readonly slots = new Map<number, Slot>();
  private readonly workers: WorkerState[];
  private readonly seen = new Set<string>();
  private duplicates = 0;
  private startMsg: Extract<ControlMsg, { type: 'start' }> | null = null;
  private startIsNew = false;
  private liveness: NodeJS.Timeout | null = null;
  private stopSent = false;
  private caughtUp = false;
  private resumeUntilSeq = 0;
  private readonly readyWaiters: Array<() => void> = [];
  private readyFailure: Error | null = null;
  private timers: NodeJS.Timeout[] = [];
  private messages: ConsumerMessages | null = null;
  private subs: Subscription[] = [];
  private readonly digest: string;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly plan: Plan,
    private readonly o: CoordinatorOptions,
    private readonly nats: Nats,
  ) {
    this.T = Math.max(1, plan.options.workers);
    this.N = o.workers;
    this.count = this.N * this.T;
    this.s = subjects(o.runId);
    this.workers = Array.from({ length: this.N }, () => ({
      lastSeen: Date.now(),
      requests: 0,
      windows: 0,
      reached: new Map(),
      overWindows: 0,
    }));
    this.digest = planDigest(plan);
    this.log = o.log ?? (() => {});
  }

  /** Connects, checks the run id is not finished, and answers clock probes at once (workers wait for them). */
  static async open(plan: Plan, o: CoordinatorOptions): Promise<RemoteShards> {
    const nats = await connectNats(o.natsUrl, 30_000);
    try {
      const r = new RemoteShards(plan, o, nats);
      await r.init();
      return r;
    } catch (e) {
      await nats.nc.close().catch(() => {});
      throw e;
    }
  }

  private async init(): Promise<void> {
    const { nc, jsm } = this.nats;
    await ensureStream(jsm, this.o.runId);
    const last = await jsm.streams.getMessage(this.s.stream, { last_by_subj: this.s.ctl }).catch(() => null);
    if (last && decodeJson<ControlMsg>(last.data).type === 'end')
      throw new PreflightError(
        'E_SCALE_OUT',
        `run id "${this.o.runId}" has already finished (its results were written)`,
        {
          problems: [
            {
              message: 'a coordinator resumes an unfinished run with the same id; a finished one is not run again',
              hint: 'give the new run its own id: --run-id or PREFLIGHT_RUN_ID',
            },
          ],
        },
      );
    this.resumeUntilSeq = (await jsm.streams.info(this.s.stream)).state.last_seq;
    this.caughtUp = this.resumeUntilSeq === 0;
    this.subs.push(
      nc.subscribe(this.s.clock, {
        callback: (_e, m) => {
          m.respond(encodeJson({ t: epochNow() }));
        },
      }),
      nc.subscribe(this.s.heartbeats, {
        callback: (_e, m) => {
          const i = Number(m.subject.slice(m.subject.lastIndexOf('.') + 1));
          if (this.workers[i]) this.workers[i].lastSeen = Date.now();
        },
      }),
    );
    // A durable consumer of everything the workers (and this coordinator) published. Recreated from
    // the stream's first message: the merge state of a coordinator that restarted died with it, and
    // replaying every stored window (deduplicated) rebuilds it.
    const name = 'coordinator';
    await jsm.consumers.delete(this.s.stream, name).catch(() => false);
    await jsm.consumers.add(this.s.stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: 10_000,
    });
    if (this.resumeUntilSeq > 0)
      this.log(`reading the ${this.resumeUntilSeq} message(s) already stored for run ${this.o.runId}`);
    const readyTimeout = this.o.readyTimeoutMs ?? 120_000;
    this.timers.push(
      setTimeout(() => {
        if (this.allReady()) return;
        const missing = this.workers
          .map((w, i) => (w.ready ? null : `${i} (${w.hello ? `up on ${w.hello.host}, not ready` : 'never seen'})`))
          .filter((x) => x !== null);
        this.failReady(
          new PreflightError(
            'E_SCALE_OUT',
            `${missing.length} of ${this.N} worker(s) not ready within ${Math.round(readyTimeout / 1000)} s: ${missing.join(', ')}`,
            {
              problems: [
                {
                  message: `workers must run the same plan with --workers ${this.N}, run id "${this.o.runId}" and NATS URL ${this.o.natsUrl}`,
                  hint: 'check the worker pods (kubectl logs), or give them longer: --ready-timeout',
                },
              ],
            },
          ),
        );
      }, readyTimeout),
    );
  }

  /** Starts consuming once every shard is open (each batch then has its handler). */
  private async consume(): Promise<void> {
    const c = await this.nats.js.consumers.get(this.s.stream, 'coordinator');
    this.messages = await c.consume();
    for await (const m of this.messages) {
      try {
        this.handle(m.subject, m.data);
      } catch (e) {
        this.log(`dropped an unreadable message on ${m.subject}: ${(e as Error).message}`);
      }
      m.ack();
      if (!this.caughtUp && m.seq >= this.resumeUntilSeq) {
        this.caughtUp = true;
        this.checkReady();
      }
    }
  }

  private handle(subject: string, data: Uint8Array): void {
    if (subject === this.s.ctl) {
      const c = decodeJson<ControlMsg>(data);
      if (c.type === 'start') this.startMsg = c;
      if (c.type === 'stop') this.stopSent = true;
      return;
    }
    const parts = subject.split('.');
    const i = Number(parts[3]);
    const kind = parts[4];
    const w = this.workers[i];
    if (w === undefined) return this.log(`ignored a message from worker ${parts[3]} (this run has ${this.N})`);
    w.lastSeen = Math.max(w.lastSeen, Date.now());
    if (kind === 'hello') {
      const h = decodeJson<HelloMsg>(data);
      w.hello = h;
      const wrong = [
        h.workers !== this.N ? `--workers ${h.workers} (the coordinator has ${this.N})` : null,
        h.threads !== this.T ? `options.workers ${h.threads} (the coordinator's plan has ${this.T})` : null,
        h.plan !== this.digest ? 'a different plan' : null,
      ].filter((x) => x !== null);
      if (wrong.length > 0)
        this.failReady(
          new PreflightError('E_SCALE_OUT', `worker ${i} (${h.host}) runs ${wrong.join(', ')}`, {
            problems: [{ message: 'every worker must run the coordinator’s plan file with the same --workers' }],
          }),
        );
      this.log(`worker ${i} up on ${h.host} (pid ${h.pid})`);
    } else if (kind === 'ready') {
      w.ready = decodeJson<ReadyMsg>(data);
      this.log(
        `worker ${i} ready (clock offset ${w.ready.offsetMs.toFixed(2)} ms ± ${(w.ready.rttMs / 2).toFixed(2)})`,
      );
      this.checkReady();
    } else if (kind === 'batch') {
      const b = decodeBatch(data);
      const key = `${b.shard}.${b.index}`;
      if (this.seen.has(key)) {
        this.duplicates++;
        return;
      }
      this.seen.add(key);
      const slot = this.slots.get(b.shard);
      if (!slot || slot.ended || w.lost) return; // after it was declared lost: not merged (its windows were given up)
      w.windows++;
      for (const sn of b.snapshots) if (sn.group === undefined) w.requests += sn.counters.requests ?? 0;
      w.reached.set(b.shard, Math.max(w.reached.get(b.shard) ?? 0, b.index + 1));
      const lagMs = Math.max(b.health.generatorLag.max / 1000, b.health.eventLoopDelayMs.max);
      if (lagMs > this.plan.options.maxDispatchLagMs) w.overWindows++;
      slot.onBatch(b);
    } else if (kind === 'done') {
      const d = decodeJson<DoneMsg>(data);
      const slot = this.slots.get(d.shard);
      if (slot && !slot.ended) {
        slot.ended = true;
        slot.resolveDone();
      }
    } else if (kind === 'error') {
      const e = decodeJson<ErrorMsg>(data);
      this.log(`worker ${i}: ${e.message}`);
      if (!w.ready && !e.late)
        this.failReady(new PreflightError(e.code as PreflightErrorCode, `worker ${i}: ${e.message}`));
      else if (e.shard !== undefined) this.loseShard(i, e.shard, e.message);
      else if (!e.late) this.loseWorker(i, e.message);
    }
  }

  private allReady(): boolean {
    return this.workers.every((w) => w.ready !== undefined);
  }

  private checkReady(): void {
    if (!this.caughtUp || !this.allReady() || this.readyFailure) return;
    for (const f of this.readyWaiters.splice(0)) f();
  }

  private failReady(e: Error): void {
    if (this.readyFailure || (this.allReady() && this.caughtUp)) return;
    this.readyFailure = e;
    for (const slot of this.slots.values()) slot.rejectReady(e);
  }

  private loseShard(i: number, shard: number, why: string): void {
    const slot = this.slots.get(shard);
    if (!slot || slot.ended) return;
    this.workers[i].lost ??= why;
    slot.ended = true;
    slot.onFailure(new Error(why));
    slot.resolveDone();
  }

  private loseWorker(i: number, why: string): void {
    if (this.workers[i].lost !== undefined) return;
    this.log(`worker ${i} lost: ${why}`);
    for (let t = 0; t < this.T; t++) this.loseShard(i, i * this.T + t, why);
    this.workers[i].lost = why;
  }

  open(index: number, onBatch: (b: ShardBatch) => void, onFailure: (err: Error) => void): ShardHandle {
    let slot!: Slot;
    const ready = new Promise<void>((resolveReady, rejectReady) => {
      slot = { onBatch, onFailure, resolveReady, rejectReady, resolveDone: () => {}, ended: false };
    });
    const done = new Promise<void>((r) => (slot.resolveDone = r));
    this.slots.set(index, slot);
    if (this.readyFailure) slot.rejectReady(this.readyFailure);
    else this.readyWaiters.push(slot.resolveReady);
    if (this.slots.size === this.count)
      this.consume().catch((e: unknown) => this.failReady(new PreflightError('E_SCALE_OUT', (e as Error).message)));
    // Only worker 0's first shard speaks for all: one start, one stop.
    const lead = index === 0;
    return {
      ready,
      start: () => {
        if (lead) this.announceStart();
      },
      stop: (drainMs) => {
        if (lead) this.announceStop(drainMs);
        // Nothing more will come from a shard whose worker is gone; the others end with their final windows.
        if (this.workers[Math.floor(index / this.T)].lost !== undefined && !slot.ended) {
          slot.ended = true;
          slot.resolveDone();
        }
      },
      done,
    };
  }

  /** The start time: the one a resumed run announced before, else now + the lead (in this process's hrtime). */
  startTime(): bigint {
    const nowEpoch = epochNow();
    if (this.startMsg === null) {
      this.startMsg = {
        type: 'start',
        t0EpochMs: nowEpoch + (this.o.startLeadMs ?? 1500),
        announcedAtEpochMs: nowEpoch,
      };
      this.startIsNew = true;
    }
    return absoluteNow() + BigInt(Math.round((this.startMsg.t0EpochMs - nowEpoch) * 1e6));
  }

  private announceStart(): void {
    if (this.liveness) return;
    // Resumed: the workers have the start already.
    if (this.startIsNew && this.startMsg)
      void this.nats.js.publish(this.s.ctl, encodeJson(this.startMsg)).catch((e: unknown) => {
        this.log(`could not publish the start: ${(e as Error).message}`);
      });
    // Liveness from now on: a worker silent for the heartbeat timeout is lost.
    const limit = this.o.heartbeatTimeoutMs ?? 5000;
    this.liveness = setInterval(() => {
      const now = Date.now();
      this.workers.forEach((w, i) => {
        const open = Array.from({ length: this.T }, (_, t) => this.slots.get(i * this.T + t)).some(
          (x) => x && !x.ended,
        );
        if (open && now - w.lastSeen > limit)
          this.loseWorker(
            i,
            `no heartbeat for ${((now - w.lastSeen) / 1000).toFixed(1)} s (the process died or hangs)`,
          );
      });
    }, 500);
    this.timers.push(this.liveness);
  }

  private announceStop(drainMs: number): void {
    if (this.stopSent) return;
    this.stopSent = true;
    void this.nats.js.publish(this.s.ctl, encodeJson({ type: 'stop', drainMs } satisfies ControlMsg)).catch(() => {});
  }

  finish(summary: Summary): { warnings: string[]; failures: string[] } {
    const so = this.plan.options.scaleOut ?? { tolerateLoss: 0, maxClockSkewMs: 50 };
    const interval = this.plan.options.intervalMs;
    // The run's length in windows: as far as any worker's windows reached (summary.durationS also counts the pre-load checks).
    const reachedMs = (w: WorkerState) => Math.max(0, ...w.reached.values()) * interval;
    const endMs = Math.max(1, ...this.workers.map(reachedMs));
    const perWorker: ScaleOutWorker[] = this.workers.map((w, i) => {
      const pw: ScaleOutWorker = {
        index: i,
        host: w.hello?.host ?? '?',
        pid: w.hello?.pid ?? 0,
        clock_offset_ms: round(w.ready?.offsetMs ?? 0),
        clock_rtt_ms: round(w.ready?.rttMs ?? 0),
        requests: w.requests,
        windows: w.windows,
        status: 'ok',
      };
      if (w.lost !== undefined) {
        pw.status = 'lost';
        pw.reason = w.lost;
      } else if (w.overWindows >= 3 && w.overWindows > 0.1 * w.windows) {
        pw.status = 'overloaded';
        pw.reason = `its generator stalled for more than ${this.plan.options.maxDispatchLagMs} ms in ${w.overWindows} of ${w.windows} windows`;
      }
      return pw;
    });
    // A lost worker took its segment (1/N of the load) for the time after its last window.
    let lost = 0;
    const lostShare = new Map<number, number>();
    this.workers.forEach((w, i) => {
      if (w.lost === undefined) return;
      const reachedMs = Math.min(
        ...Array.from({ length: this.T }, (_, t) => (w.reached.get(i * this.T + t) ?? 0) * interval),
      );
      const share = Math.max(0, Math.min(1, 1 - reachedMs / endMs)) / this.N;
      lostShare.set(i, share);
      lost += share;
    });
    const start = this.startMsg;
    const section: ScaleOutSummary = {
      run_id: this.o.runId,
      transport: 'nats',
      workers: this.N,
      threads_per_worker: this.T,
      shards: this.count,
      start: start ? new Date(start.t0EpochMs).toISOString() : '',
      start_lead_ms: start ? round(start.t0EpochMs - start.announcedAtEpochMs) : 0,
      max_clock_offset_ms: round(Math.max(0, ...perWorker.map((w) => Math.abs(w.clock_offset_ms)))),
      max_clock_uncertainty_ms: round(Math.max(0, ...perWorker.map((w) => w.clock_rtt_ms / 2))),
      clock_skew_limit_ms: so.maxClockSkewMs,
      lost_share: round4(lost),
      tolerate_loss: so.tolerateLoss,
      duplicate_windows: this.duplicates,
      resumed: this.startMsg !== null && !this.startIsNew,
      per_worker: perWorker,
    };
    summary.scale_out = section;
    const warnings: string[] = [];
    const failures: string[] = [];
    const pct = (x: number) => `${round(x * 100)}%`;
    for (const w of perWorker) {
      const who = `worker ${w.index} of ${this.N} (${w.host}, pid ${w.pid})`;
      if (Math.abs(w.clock_offset_ms) > so.maxClockSkewMs)
        warnings.push(
          `${who}: its clock is ${w.clock_offset_ms} ms off the coordinator's (options.scaleOut.maxClockSkew ${so.maxClockSkewMs} ms): the start was corrected for it, but wall-clock times it reports are off`,
        );
      if (w.clock_rtt_ms / 2 > so.maxClockSkewMs)
        warnings.push(
          `${who}: its clock offset could only be measured to within ${round(w.clock_rtt_ms / 2)} ms (> ${so.maxClockSkewMs} ms): its windows may not line up with the others'`,
        );
      if (w.status === 'overloaded') warnings.push(`${who} was overloaded: ${w.reason}`);
      if (w.status === 'lost') {
        const line = `${who} was lost mid-run (${w.reason}): ${pct(lostShare.get(w.index) ?? 0)} of the planned load was not sent`;
        if (lost > so.tolerateLoss) failures.push(line);
        else warnings.push(`${line} (tolerated: options.scaleOut.tolerateLoss ${pct(so.tolerateLoss)})`);
      }
    }
    if (lost > 0 && lost > so.tolerateLoss)
      failures.push(
        `lost workers took ${pct(lost)} of the planned load with them, more than options.scaleOut.tolerateLoss (${pct(so.tolerateLoss)})`,
      );
    if (this.duplicates > 0)
      warnings.push(
        `${this.duplicates} window(s) were delivered twice (a restart or a retried publish) and merged once`,
      );
    return { warnings, failures };
  }

  /** Marks the run finished in the stream (a later coordinator with this id does not resume it) and disconnects. */
  async close(finished: boolean): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    if (finished)
      await this.nats.js.publish(this.s.ctl, encodeJson({ type: 'end' } satisfies ControlMsg)).catch(() => {});
    await this.messages?.close().catch(() => {});
    for (const s of this.subs) s.unsubscribe();
    await this.nats.nc.drain().catch(() => {});
  }
}

/** The coordinator: run() over the workers' shards. */
export async function runCoordinator(
  plan: Plan,
  o: CoordinatorOptions,
  runOpts: Omit<RunOptions, 'shards'> = {},
  runner: (plan: Plan, opts: RunOptions) => Promise<RunResult> = run,
): Promise<RunResult> {
  const shards = await RemoteShards.open(plan, o);
  try {
    return await runner(plan, { ...runOpts, shards });
  } finally {
    // Ended — finished, interrupted or failed before the start: workers still waiting for a start
    // exit, and a coordinator started again with this id refuses it. (Only a crash leaves it open.)
    await shards.close(true);
  }
}

const round = (x: number) => Math.round(x * 100) / 100;
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
