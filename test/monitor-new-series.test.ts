/**
 * A counter series created mid-run (client libraries create a labelled counter at its first
 * increment: a failure counter at the first failure) counted from 0, not from its first reading —
 * else the counts before that reading are lost. And `plus` adds a second counter (successes +
 * failures): the figure the resilience profile's retry amplification reads.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { run } from '../src/run/index.js';
import type { TargetWindowRecord } from '../src/core/results.js';
import { httpServer, type TestServer } from './helpers/servers.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('a counter series that appears mid-run counts from 0; plus adds its rate to another counter', async () => {
  let scrapes = 0;
  // ok_total: +10 a scrape. failed_total{reason="x"}: absent for the first 4 scrapes, then 40 and constant.
  const exporter = await httpServer((_req, res) => {
    scrapes++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    const lines = ['# TYPE ok_total counter', `ok_total ${scrapes * 10}`, '# TYPE failed_total counter'];
    if (scrapes > 4) lines.push('failed_total{reason="x"} 40');
    res.end(`${lines.join('\n')}\n`);
  });
  const target = await httpServer((_req, res) => res.end('ok'));
  servers.push(exporter, target);
  const plan = parsePlan(`
target: { url: ${target.url} }
scenarios:
  s: { executor: constant-arrival-rate, rate: 10/s, duration: 5s, request: { path: / } }
monitor:
  scrape: [ ${exporter.url}/metrics ]
  metrics:
    failed: { metric: failed_total, kind: counter, unit: per_s }
    all: { metric: ok_total, plus: failed_total, kind: counter, unit: per_s }
    ok: { metric: ok_total, kind: counter, unit: per_s }
options: { interval: 500ms }
`);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-new-series-'));
  dirs.push(out);
  await run(plan, { outDir: out });
  const recs = fs
    .readFileSync(path.join(out, 'target-metrics.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TargetWindowRecord);
  const total = (name: string) =>
    recs.reduce((a, r) => a + (typeof r.values[name] === 'number' ? (r.values[name] as number) * r.duration_s : 0), 0);
  // The 40 failures happened while the load ran: all of them are counted (before: 0).
  assert.ok(
    Math.abs(total('failed') - 40) < 8,
    `failed ${total('failed')}: ${JSON.stringify(recs.map((r) => r.values))}`,
  );
  assert.ok(
    Math.abs(total('all') - total('ok') - total('failed')) < 1,
    `all ${total('all')} = ok ${total('ok')} + failed ${total('failed')}`,
  );
});
