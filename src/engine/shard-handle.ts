/**
 * A shard of the load seen from the main thread: in-process (workers: 1) or in a worker thread.
 * Both look the same to the coordinator: ready → start(t0) → batches… → done. `onBatch` must have
 * read the batch's raw counts when it returns: their buffers then go back to the shard for reuse.
 */
import { Worker } from 'node:worker_threads';
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

export function localShard(plan: Plan, shard: { index: number; count: number }, adapters: AdapterFactory, onBatch: (b: ShardBatch) => void): ShardHandle {
  let load: LoadShard | null = null;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const ready = LoadShard.create(plan, shard, adapters, (b) => {
    onBatch(b);
    load?.recycle(batchBuffers(b));
  }).then((s) => {
    load = s;
    s.done.then(resolveDone);
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
 * A shard in a worker thread. `onFailure` is called if the worker dies after it was ready without
 * finishing (a crash mid-run): the coordinator must not wait for its windows, and must say so.
 */
export function workerShard(plan: Plan, shard: { index: number; count: number }, onBatch: (b: ShardBatch) => void, onFailure: (err: Error) => void = () => {}): ShardHandle {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { plan, shard } });
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
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'ready') {
      isReady = true;
      resolveReady();
    } else if (m.type === 'batch') {
      onBatch(m.batch);
      // Back to the worker's pool (moved, not copied); ignored once the worker has exited.
      if (!finished) {
        const buffers = batchBuffers(m.batch);
        worker.postMessage({ type: 'recycle', buffers }, buffers);
      }
    }
    else if (m.type === 'done') {
      finished = true;
      resolveDone();
    }
    else if (m.type === 'error') {
      const err = new PreflightError(m.error.code as PreflightErrorCode, m.error.message, { problems: m.error.problems });
      rejectReady(err);
      resolveDone();
    }
  });
  worker.on('error', (e) => {
    fail(e);
    rejectReady(e);
    resolveDone();
  });
  worker.on('exit', (code) => {
    fail(new Error(`worker thread exited (code ${code}) before finishing`));
    rejectReady(new Error('worker exited before it was ready'));
    resolveDone();
  });
  return {
    ready,
    start: (t0) => worker.postMessage({ type: 'start', t0: t0.toString() }),
    stop: (ms) => worker.postMessage({ type: 'stop', drainMs: ms }),
    done,
  };
}
