/**
 * Adapters' end-of-run reports travel with each shard's last batch: read after `finish()`, only
 * for scenarios that started, failures of finish()/report() reported rather than thrown, and
 * merged by the coordinator into `summary.scenarios[x].adapter`.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Adapter } from '../src/core/types.js';
import { LoadShard, absoluteNow, type ShardBatch } from '../src/engine/index.js';
import { delayServer, type TestServer } from './helpers/servers.js';
import { plan, scenario } from './helpers/plans.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

test('the last batch carries each started scenario’s report, read after finish()', async () => {
  const srv = await delayServer(1);
  servers.push(srv);
  const finished: string[] = [];
  const fake = (name: string): Adapter => ({
    protocol: 'http',
    bodyMode: 'none',
    request: () => ({ method: 'GET', path: '/', headers: {} }),
    async finish() {
      await new Promise((r) => setTimeout(r, 20));
      finished.push(name);
      if (name === 'broken') throw new Error('cannot write golden file');
    },
    report() {
      if (name === 'odd') return { fn: () => 1 }; // not cloneable: cannot cross threads
      return { name, finishedBefore: finished.includes(name) };
    },
  });
  const p = plan(srv.url, [
    scenario('a', { rate: 20, durationMs: 300 }),
    scenario('broken', { rate: 20, durationMs: 300 }),
    scenario('odd', { rate: 20, durationMs: 300 }),
    scenario('never', { rate: 20, durationMs: 300, startTimeMs: 60_000 }),
  ]);
  const batches: ShardBatch[] = [];
  const shard = await LoadShard.create(
    p,
    { index: 0, count: 1 },
    async (sc) => fake(sc.name),
    (b) => batches.push(b),
  );
  shard.start(absoluteNow());
  setTimeout(() => shard.stop(1000), 800); // `never` has not started by then
  await shard.done;
  const last = batches[batches.length - 1];
  assert.equal(last.final, true);
  assert.ok(
    batches.slice(0, -1).every((b) => b.adapterReports === undefined),
    'only the last batch',
  );
  const r = last.adapterReports!;
  assert.deepEqual(Object.keys(r).sort(), ['a', 'broken', 'odd']);
  assert.deepEqual(r.a, { name: 'a', finishedBefore: true });
  assert.deepEqual(r.broken, { name: 'broken', finishedBefore: true, finish_error: 'cannot write golden file' });
  assert.match(String((r.odd as { report_error: string }).report_error), /clone/i);
  assert.ok(last.snapshots.length > 0);
  assert.deepEqual(
    finished.sort(),
    ['a', 'broken', 'odd'],
    'a scenario that never started is not finished (nothing to flush)',
  );
});

test('run(): reports are merged into summary.scenarios[x].adapter (plain http: only the shard count)', async () => {
  const srv = await delayServer(0);
  servers.push(srv);
  const { run } = await import('../src/run/index.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-reports-'));
  const { summary } = await run(plan(srv.url, [scenario('s', { rate: 20, durationMs: 200 })]), { outDir: dir });
  assert.deepEqual(summary.scenarios.s.adapter, { shards: 1 });
  assert.equal(summary.warnings.filter((w) => w.includes('could not finish')).length, 0);
  fs.rmSync(dir, { recursive: true, force: true });
});
