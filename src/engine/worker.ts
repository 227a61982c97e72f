/**
 * Worker-thread entry: runs shards, one run after another (the thread is kept for the next run:
 * starting one costs 0.1–1 s of module loading), and posts their window batches to the main thread.
 * Messages in: init (plan, shard) → start → stop / recycle; out: ready | error, batch…, done.
 */
import { parentPort } from 'node:worker_threads';
import { PreflightError } from '../core/errors.js';
import type { Plan } from '../plan/types.js';
import { createAdapter } from '../protocols/index.js';
import { LoadShard, type ShardBatch } from './shard.js';
import { batchBuffers, type WorkerMessage } from './shard-handle.js';

const port = parentPort!;
const post = (m: WorkerMessage) => port.postMessage(m);
/** The counts' buffers are moved, not copied: posting a window costs the sending thread next to nothing. */
const postBatch = (batch: ShardBatch) =>
  port.postMessage({ type: 'batch', batch } satisfies WorkerMessage, batchBuffers(batch));

let load: LoadShard | null = null;
/** A stop that arrived while the shard was being prepared. */
let stopEarly: number | null = null;

port.on(
  'message',
  (m: {
    type: string;
    plan?: Plan;
    shard?: { index: number; count: number };
    t0?: string;
    drainMs?: number;
    buffers?: ArrayBuffer[];
  }) => {
    if (m.type === 'init') void init(m.plan!, m.shard!);
    else if (m.type === 'start' && load !== null) {
      load.start(BigInt(m.t0!));
      blockForTests(load.done);
    } else if (m.type === 'stop') {
      if (load !== null) load.stop(m.drainMs ?? 0);
      else stopEarly = m.drainMs ?? 0;
    } else if (m.type === 'recycle') load?.recycle(m.buffers ?? []);
  },
);

async function init(plan: Plan, shard: { index: number; count: number }): Promise<void> {
  load = null;
  stopEarly = null;
  try {
    const l = await LoadShard.create(plan, shard, createAdapter, postBatch);
    load = l;
    l.done
      .then(() => {
        if (load === l) load = null;
        post({ type: 'done' });
      })
      .catch((e: unknown) => {
        // The running shard failed: this worker's failure (the main thread drops the thread).
        if (load === l) load = null;
        postError(e);
      });
    post({ type: 'ready' });
    if (stopEarly !== null) l.stop(stopEarly);
    crashForTests(shard.index);
  } catch (e) {
    postError(e);
  }
}

/** Preparing failed, or the running shard did: the main thread rejects `ready` or reports a failed worker. */
function postError(e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  post({
    type: 'error',
    error: {
      code: e instanceof PreflightError ? e.code : 'E_INTERNAL',
      message: err.message,
      problems: e instanceof PreflightError ? e.problems : undefined,
      stack: err.stack,
    },
  });
}

/**
 * Test hook: PREFLIGHT_TEST_CRASH_WORKER="<index>:<ms>" makes worker <index> throw an uncaught error
 * <ms> after it is ready, so the tests can check what a run does when a worker dies mid-run.
 */
function crashForTests(shardIndex: number): void {
  const spec = process.env['PREFLIGHT_TEST_CRASH_WORKER'];
  const m = spec === undefined ? null : /^(\d+):(\d+)$/.exec(spec);
  if (m === null || Number(m[1]) !== shardIndex) return;
  setTimeout(() => {
    throw new Error('crash requested by PREFLIGHT_TEST_CRASH_WORKER');
  }, Number(m[2]));
}

/**
 * Test hook: PREFLIGHT_TEST_BLOCK_WORKER="<ms>:<everyMs>" makes every worker block its event loop
 * for <ms> every <everyMs> while it runs, so the tests can check that the generator notices its
 * own stalls (the load runs in worker threads, where a test's server cannot block it).
 */
function blockForTests(done: Promise<void>): void {
  const spec = process.env['PREFLIGHT_TEST_BLOCK_WORKER'];
  const m = spec === undefined ? null : /^(\d+):(\d+)$/.exec(spec);
  if (m === null) return;
  const ms = Number(m[1]);
  const timer = setInterval(
    () => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        /* block the event loop */
      }
    },
    Math.max(1, Number(m[2])),
  );
  // (a rejected `done` is reported by init's chain; here it only ends the hook)
  done.then(
    () => clearInterval(timer),
    () => clearInterval(timer),
  );
}
