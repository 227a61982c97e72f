import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Batcher, FEATURES, type JobResult } from './batcher.js';
import { LINEAR_MODEL_MODULE } from './testing.js';

const batchers: Batcher[] = [];
after(async () => {
  for (const b of batchers) await b.close();
});

async function batcher(computeTimeMs = 0, onReady?: (i: number) => void): Promise<Batcher> {
  const b = new Batcher({
    instances: 1,
    maxBatchSize: 1,
    maxQueueDelayMs: 0,
    maxQueue: 100,
    unbounded: false,
    versions: ['v1'],
    modelModule: LINEAR_MODEL_MODULE,
    modelOptions: {},
    computeTimeMs,
    onInstanceReady: onReady,
  });
  batchers.push(b);
  await b.start();
  return b;
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

function job(b: Batcher): Promise<JobResult> {
  return new Promise((resolve) => {
    const ok = b.submit({ version: 'v1', input: new Float32Array(FEATURES), rows: 1, enqueuedAt: 0, done: resolve });
    if (!ok) resolve({ ok: false, message: 'shed', queueUs: 0 });
  });
}

test('scaleTo: added instances serve only after the start-up delay; those still starting are removed first', async () => {
  const ready: number[] = [];
  const b = await batcher(0, (i) => ready.push(i));
  const t0 = performance.now();
  b.scaleTo(3, 400);
  assert.deepEqual(b.counts(), { ready: 1, starting: 2 });
  b.scaleTo(2, 400); // one of the starting ones goes
  assert.deepEqual(b.counts(), { ready: 1, starting: 1 });
  await until(() => b.counts().ready === 2, 'the added instance is ready');
  assert.ok(performance.now() - t0 >= 395, `ready after ${performance.now() - t0} ms`);
  assert.equal(ready.length, 1, 'the removed instance never became ready');
  assert.deepEqual(b.counts(), { ready: 2, starting: 0 });
});

test('scaleTo: a busy instance removed finishes its batch first; the pool then serves on', async () => {
  const b = await batcher(300);
  b.scaleTo(2, 0);
  await until(() => b.counts().ready === 2, 'two ready');
  // Two batches of 300 ms running, one per instance; scale to 1 while both are busy.
  const running = [job(b), job(b)];
  await sleep(50);
  b.scaleTo(1, 0);
  assert.deepEqual(b.counts(), { ready: 1, starting: 0 });
  const results = await Promise.all(running);
  for (const r of results) assert.equal(r.ok, true, JSON.stringify(r));
  const again = await job(b);
  assert.equal(again.ok, true);
});
