/**
 * A shard of the load seen from the main thread: in-process (workers: 1) or in a worker thread.
 * Both look the same to the coordinator: ready → start(t0) → batches… → done. `onBatch` must have
 * read the batch's raw counts when it returns: their buffers then go back to the shard for reuse.
 */
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { PreflightError, type Problem, type PreflightErrorCode } from '../core/errors.js';
import type { Plan } from '../plan/types.js';
import { rawBuffers } from '../metrics/metric-set.js';
import { LoadShard, type AdapterFactory, type ShardBatch } from './shard.js';

/** A batch's counts buffers (snapshots and health), to move between threads and back to the shard's pool. */
export function batchBuffers(b: ShardBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const s of b.snapshots) rawBuffers(s, out);
  if (b.health.generatorLag.counts.byteLength > 0) out.push(b.health.generatorLag.counts.buffer as ArrayBuffer);
  return out;
}

export interface ShardHandle {
  /** Resolves when adapters are prepared (rejects with the PreflightError a pre-load check raised). */
  readonly ready: Promise<void>;
  start(t0Abs: bigint): void;
  stop(drainMs: number): void;
  readonly done: Promise<void>;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'batch'; batch: ShardBatch }
  | { type: 'done' }
  | { type: 'error'; error: { code: string; message: string; problems?: Problem[]; stack?: string } };

export function localShard(
  plan: Plan,
  shard: { index: number; count: number },
  adapters: AdapterFactory,
  onBatch: (b: ShardBatch) => void,
  /** Called if the shard fails after it was ready (see LoadShard.done), as workerShard's. */
  onFailure: (err: Error) => void = () => {},
): ShardHandle {
  let load: LoadShard | null = null;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const ready = LoadShard.create(plan, shard, adapters, (b) => {
    onBatch(b);
    load?.recycle(batchBuffers(b));
  }).then((s) => {
    load = s;
    s.done.then(resolveDone, (e: unknown) => {
      onFailure(e instanceof Error ? e : new Error(String(e)));
      resolveDone();
    });
  });
  ready.catch(() => resolveDone());
  return {
    ready,
    start: (t0) => load!.start(t0),
    stop: (ms) => load?.stop(ms),
    done,
  };
}

/**
 * Worker threads kept between runs (profiles and tests run many in one process): a new thread
 * costs 0.1–1 s of module loading. Idle ones do not keep the process alive and end after a while.
 * Only a worker that finished its run cleanly is kept. They share this process's environment
 * (SHARE_ENV), as a new worker would see it.
 */
const idle: Worker[] = [];
const MAX_IDLE = 8;
const IDLE_MS = 30_000;
/** An idle worker's own listeners and timer, removed when it is taken again. */
const idleState = new Map<Worker, { timer: NodeJS.Timeout; onExit: () => void; onError: () => void }>();

function acquireWorker(): Worker {
  const w = idle.pop();
  if (w === undefined) return new Worker(new URL('./worker.js', import.meta.url), { env: SHARE_ENV });
  const st = idleState.get(w)!;
  idleState.delete(w);
  clearTimeout(st.timer);
  w.off('exit', st.onExit);
  w.off('error', st.onError);
  w.ref();
  return w;
}

function releaseWorker(w: Worker): void {
  if (idle.length >= MAX_IDLE) {
    void w.terminate();
    return;
  }
  const drop = () => {
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
    const st = idleState.get(w);
    if (st) clearTimeout(st.timer);
    idleState.delete(w);
  };
  const timer = setTimeout(() => {
    drop();
    void w.terminate();
  }, IDLE_MS);
  timer.unref();
  // An idle worker that fails is dropped (its 'exit' follows the 'error').
  const onExit = drop;
  const onError = () => {};
  w.on('exit', onExit);
  w.on('error', onError);
  idleState.set(w, { timer, onExit, onError });
  w.unref();
  idle.push(w);
}

/**
 * A shard in a worker thread. `onFailure` is called if the worker dies after it was ready without
 * finishing (a crash mid-run): the coordinator must not wait for its windows, and must say so.
 */
export function workerShard(
  plan: Plan,
  shard: { index: number; count: number },
  onBatch: (b: ShardBatch) => void,
  onFailure: (err: Error) => void = () => {},
): ShardHandle {
  const worker = acquireWorker();
  worker.postMessage({ type: 'init', plan, shard });
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => ((resolveReady = res), (rejectReady = rej)));
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let isReady = false;
  let finished = false;
  const fail = (err: Error) => {
    if (isReady && !finished) onFailure(err);
    finished = true;
  };
  const detach = () => {
    worker.off('message', onMessage);
    worker.off('error', onError);
    worker.off('exit', onExit);
  };
  const onMessage = (m: WorkerMessage) => {
    if (m.type === 'ready') {
      isReady = true;
      resolveReady();
    } else if (m.type === 'batch') {
      onBatch(m.batch);
      // Back to the worker's pool (moved, not copied).
      if (!finished) {
        const buffers = batchBuffers(m.batch);
        worker.postMessage({ type: 'recycle', buffers }, buffers);
      }
    } else if (m.type === 'done') {
      finished = true;
      detach();
      releaseWorker(worker);
      resolveDone();
    } else if (m.type === 'error') {
      // Preparing failed part-way (pools may be open), or the running shard failed (a failure of
      // this worker, as a crash is): this thread is not reused.
      const err = new PreflightError(m.error.code as PreflightErrorCode, m.error.message, {
        problems: m.error.problems,
      });
      fail(err);
      detach();
      void worker.terminate();
      rejectReady(err);
      resolveDone();
    }
  };
  const onError = (e: Error) => {
    fail(e);
    rejectReady(e);
    resolveDone();
  };
  const onExit = (code: number) => {
    fail(new Error(`worker thread exited (code ${code}) before finishing`));
    rejectReady(new Error('worker exited before it was ready'));
    resolveDone();
  };
  worker.on('message', onMessage);
  worker.on('error', onError);
  worker.on('exit', onExit);
  return {
    ready,
    start: (t0) => worker.postMessage({ type: 'start', t0: t0.toString() }),
    stop: (ms) => {
      if (!finished) worker.postMessage({ type: 'stop', drainMs: ms });
    },
    done,
  };
}
