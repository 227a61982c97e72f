/**
 * An iteration budget with more worker threads than users (found by the segment properties in
 * src/engine/executors/segments.test.ts): the budget used to be split over every shard, so a shard
 * without users kept a share it could never send, and with no duration the run never ended. Now
 * only shards that get a user share the budget: every request is sent and the run ends by itself.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ExitCode } from '../src/core/exit-codes.js';
import { run } from '../src/run/index.js';
import { plan, scenario } from './helpers/plans.js';
import { delayServer, type TestServer } from './helpers/servers.js';

const servers: TestServer[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-iter-shards-'));
after(async () => {
  for (const s of servers) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('iterations: 2 users on 3 worker threads send all 10 requests and the run ends', async () => {
  const srv = await delayServer(1);
  servers.push(srv);
  const ac = new AbortController();
  const guard = setTimeout(() => ac.abort(), 30_000); // before the fix: a hang, ended here as interrupted
  try {
    const { summary, exitCode } = await run(
      plan(srv.url, [scenario('it', { executor: 'iterations', maxRequests: 10, concurrency: 2 })], { workers: 3 }),
      { outDir: path.join(dir, 'r1'), signal: ac.signal },
    );
    assert.equal(exitCode, ExitCode.Passed);
    assert.equal(summary.scenarios.it.requests, 10);
    assert.equal(srv.hits, 10);
  } finally {
    clearTimeout(guard);
  }
});
