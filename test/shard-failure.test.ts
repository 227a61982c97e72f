/**
 * A failure of a shard's own promise chains (not of a request) surfaces as that shard's failure —
 * the coordinator hears of it (onFailure) — never as an unhandled rejection. Real server on loopback.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { absoluteNow, localShard } from '../src/engine/index.js';
import { createAdapter } from '../src/protocols/index.js';
import { httpServer, type TestServer } from './helpers/servers.js';
import { plan, scenario } from './helpers/plans.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

test('a last batch that cannot be sent fails the shard (onFailure), not an unhandled rejection', async () => {
  const srv = await httpServer((_req, res) => res.end('ok'));
  servers.push(srv);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const p = plan(srv.url, [scenario('s', { executor: 'iterations', concurrency: 1, maxRequests: 3 })]);
    const failures: Error[] = [];
    const batches: boolean[] = [];
    const h = localShard(
      p,
      { index: 0, count: 1 },
      createAdapter,
      (b) => {
        batches.push(b.final);
        if (b.final) throw new Error('cannot send the last batch');
      },
      (e) => failures.push(e),
    );
    await h.ready;
    h.start(absoluteNow());
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 10_000)));
    assert.notEqual(await Promise.race([h.done, bounded]), 'timeout', 'the shard ends');
    clearTimeout(timer);
    // an unhandled rejection is reported on a later turn
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(srv.hits, 3);
    assert.ok(batches.includes(true), 'the last batch was attempted');
    assert.deepEqual(
      failures.map((e) => e.message),
      ['cannot send the last batch'],
    );
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
