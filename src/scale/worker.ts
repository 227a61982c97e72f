/**
 * `preflight worker`: one process of a scale-out run. Runs its segment of every scenario — global
 * shards i·T … i·T + T − 1 of N·T, each in a worker thread as `preflight run` does — and publishes
 * every shard window to the run's JetStream stream from this (main) thread, so nothing waits on the
 * threads that send. Measures its clock against the coordinator's, says ready, starts at the
 * coordinator's start time (in its own clock), and exits 0 once every window is stored.
 */
import os from 'node:os';
import { DeliverPolicy } from '@nats-io/jetstream';
import { PreflightError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import { absoluteNow, workerShard, type ShardBatch, type ShardHandle } from '../engine/index.js';
import type { Plan } from '../plan/types.js';
import { connectNats, ensureStream, epochNow, Publisher, sleep } from './nats.js';
import {
  decodeJson,
  encodeBatch,
  encodeJson,
  planDigest,
  segmentShards,
  subjects,
  type ControlMsg,
  type ErrorMsg,
  type HelloMsg,
  type ReadyMsg,
} from './protocol.js';

export interface WorkerOptions {
  index: number;
  workers: number;
  natsUrl: string;
  runId: string;
  /** How long to wait for NATS and for the coordinator to answer clock probes; default 10 min. */
  waitMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** A start this much in the past (worker clock) means the run went on without this worker. */
const LATE_MS = 1000;
const CLOCK_PROBES = 8;
const HEARTBEAT_MS = 1000;

export async function runWorker(plan: Plan, o: WorkerOptions): Promise<number> {
  const log = o.log ?? (() => {});
  const T = Math.max(1, plan.options.workers);
  if (!(Number.isInteger(o.index) && o.index >= 0 && o.index < o.workers))
    throw new PreflightError('E_ARGS', `worker index ${o.index} is not in 0…${o.workers - 1}`, {
      problems: [{ message: 'the index comes from --index or JOB_COMPLETION_INDEX, the count from --workers' }],
    });
  const waitMs = o.waitMs ?? 600_000;
  const s = subjects(o.runId);
  const { nc, js, jsm } = await connectNats(o.natsUrl, waitMs, o.signal);
  const pub = new Publisher(js);
  const heartbeat = setInterval(() => nc.publish(s.heartbeat(o.index), ''), HEARTBEAT_MS);
  const handles: ShardHandle[] = [];
  let started = false;
  const err = (m: Omit<ErrorMsg, 'index'>) =>
    pub.publish(s.worker(o.index, 'error'), encodeJson({ index: o.index, ...m } satisfies ErrorMsg)).catch(() => {});
  try {
    await ensureStream(jsm, o.runId);
    nc.publish(s.heartbeat(o.index), '');
    await pub.publish(
      s.worker(o.index, 'hello'),
      encodeJson({
        index: o.index,
        workers: o.workers,
        threads: T,
        host: os.hostname(),
        pid: process.pid,
        plan: planDigest(plan),
      } satisfies HelloMsg),
    );
    // The coordinator's control, from the start of the stream (a start published before we came is seen).
    const control = await (
      await js.consumers.get(s.stream, { filter_subjects: s.ctl, deliver_policy: DeliverPolicy.All })
    ).consume();
    let onControl: (m: ControlMsg) => void = () => {};
    const pending: ControlMsg[] = [];
    void (async () => {
      for await (const m of control) {
        const c = decodeJson<ControlMsg>(m.data);
        pending.push(c);
        onControl(c);
      }
    })().catch(() => {});

    let shardFailed = false;
    for (const seg of segmentShards(o.index, o.workers, T)) {
      const onBatch = (b: ShardBatch) => {
        // Encoded now (the raw counts' buffers go back to the thread when this returns), sent in order.
        void pub.publish(s.worker(o.index, 'batch'), encodeBatch(b), `b.${b.shard}.${b.index}`).catch(() => {});
      };
      handles.push(
        workerShard(plan, seg, onBatch, (e) => {
          shardFailed = true;
          log(`shard ${seg.index} failed: ${e.message}`);
          void err({ shard: seg.index, code: 'E_INTERNAL', message: e.message });
        }),
      );
    }
    await Promise.all(handles.map((h) => h.ready));
    const clock = await measureClock(nc, s.clock, waitMs, o.signal);
    log(`clock offset ${clock.offsetMs.toFixed(2)} ms (round trip ${clock.rttMs.toFixed(2)} ms)`);
    await pub.publish(s.worker(o.index, 'ready'), encodeJson({ index: o.index, ...clock } satisfies ReadyMsg));

    // Wait for the start (or a stop / an end before it), then run to the end.
    const first = await new Promise<ControlMsg>((resolve) => {
      const early = pending.find((c) => c.type === 'start' || c.type === 'end');
      if (early) return resolve(early);
      onControl = (c) => {
        if (c.type === 'start' || c.type === 'end') resolve(c);
      };
      o.signal?.addEventListener('abort', () => resolve({ type: 'end' }), { once: true });
      // A coordinator that went away for good before the start: give up after the wait.
      setTimeout(() => resolve({ type: 'end' }), waitMs).unref();
    });
    const startLocal = first.type === 'start' ? first.t0EpochMs + clock.offsetMs : -Infinity;
    if (first.type !== 'start' || startLocal < epochNow() - LATE_MS) {
      const why =
        first.type === 'start'
          ? `the run started ${((epochNow() - startLocal) / 1000).toFixed(1)} s ago without this worker (a restarted pod cannot rejoin)`
          : 'the run ended (or no start came) before this worker started';
      log(why);
      for (const h of handles) h.stop(0);
      await err({ code: 'E_SCALE_OUT', message: why, late: true });
      await Promise.all(handles.map((h) => h.done));
      await pub.drained();
      return ExitCode.RunInvalid;
    }
    started = true;
    const t0 = absoluteNow() + BigInt(Math.round((startLocal - epochNow()) * 1e6));
    for (const h of handles) h.start(t0);
    log(`started: ${handles.length} thread(s), shards ${o.index * T}–${o.index * T + T - 1} of ${o.workers * T}`);
    onControl = (c) => {
      if (c.type === 'stop') for (const h of handles) h.stop(c.drainMs);
    };
    // A stop that came with the start (replayed together): applied now.
    for (const c of pending) if (c.type === 'stop') for (const h of handles) h.stop(c.drainMs);
    const onAbort = () => {
      for (const h of handles) h.stop(0);
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    await Promise.all(handles.map((h) => h.done));
    o.signal?.removeEventListener('abort', onAbort);
    if (o.signal?.aborted) await err({ code: 'E_INTERRUPTED', message: 'the worker was stopped (SIGTERM or Ctrl-C)' });
    // Every window stored, then each shard's `done` (after its windows: one ordered publisher).
    for (const seg of segmentShards(o.index, o.workers, T))
      await pub.publish(s.worker(o.index, 'done'), encodeJson({ index: o.index, shard: seg.index }), `d.${seg.index}`);
    await pub.drained();
    log(`done: ${pub.messages} messages, ${pub.bytes} bytes published`);
    control.stop();
    return o.signal?.aborted ? ExitCode.Interrupted : shardFailed ? ExitCode.RunInvalid : ExitCode.Passed;
  } catch (e) {
    // Said in the stream, so the coordinator names this worker's failure at once (not after its ready timeout).
    if (!started) {
      const pe = e instanceof PreflightError ? e : null;
      await err({ code: pe?.code ?? 'E_INTERNAL', message: (e as Error).message });
      await pub.drained().catch(() => {});
    }
    throw e;
  } finally {
    clearInterval(heartbeat);
    for (const h of handles) h.stop(0);
    await nc.drain().catch(() => {});
  }
}

/**
 * NTP-style probes of the coordinator's clock: offset = worker time at the probe's midpoint −
 * coordinator time; the probe with the shortest round trip wins (its asymmetry error is at most half
 * of it). Retried until the coordinator answers (it may start after the workers).
 */
async function measureClock(
  nc: import('@nats-io/transport-node').NatsConnection,
  subject: string,
  waitMs: number,
  signal?: AbortSignal,
): Promise<{ offsetMs: number; rttMs: number }> {
  const until = Date.now() + waitMs;
  let best: { offsetMs: number; rttMs: number } | null = null;
  let got = 0;
  while (got < CLOCK_PROBES) {
    if (signal?.aborted) throw new PreflightError('E_INTERRUPTED', 'interrupted while waiting for the coordinator');
    if (Date.now() > until)
      throw new PreflightError('E_SCALE_OUT', `no coordinator answered within ${Math.round(waitMs / 1000)} s`, {
        problems: [{ message: 'is `preflight coordinator` running with the same run id and NATS URL?' }],
      });
    const t1 = epochNow();
    try {
      const r = await nc.request(subject, '', { timeout: 1000 });
      const t4 = epochNow();
      const tc = decodeJson<{ t: number }>(r.data).t;
      const p = { offsetMs: (t1 + t4) / 2 - tc, rttMs: t4 - t1 };
      if (best === null || p.rttMs < best.rttMs) best = p;
      got++;
    } catch {
      await sleep(500); // no coordinator yet
    }
  }
  return best!;
}
