/**
 * The run's last window ends when the run does, so it is short (the drain: a few ms to tens of ms
 * holding the last few completions). A real run against a loopback server, then its HTML report:
 * that window is not drawn as a rate (it would read as a spike, "achieved 508/s, target 0"), and
 * the chart says why.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../src/run/index.js';
import { writeHtmlReport } from '../src/report/index.js';
import type { ReportData } from '../src/report/chart-spec.js';
import type { IntervalRecord } from '../src/core/results.js';
import { delayServer, type TestServer } from './helpers/servers.js';
import { plan, scenario } from './helpers/plans.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('the partial last window is not drawn as a throughput point; the chart notes it', async () => {
  const srv = await delayServer(40);
  servers.push(srv);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-partial-'));
  dirs.push(out);
  await run(plan(srv.url, [scenario('steady', { executor: 'constant-arrival-rate', rate: 50, durationMs: 2000 })]), {
    outDir: out,
  });
  const recs: IntervalRecord[] = fs
    .readFileSync(path.join(out, 'intervals.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const last = recs[recs.length - 1];
  assert.ok(recs.length >= 3, `windows: ${recs.map((r) => r.duration_s).join(', ')}`);
  // requests in flight at the planned end complete ≈ 40 ms later, in a window that short
  assert.ok(last.duration_s < 0.5, `last window ${last.duration_s} s is partial`);
  const html = fs.readFileSync(await writeHtmlReport(out), 'utf8');
  const data = JSON.parse(
    /<script type="application\/json" id="preflight-data">([\s\S]*?)<\/script>/.exec(html)![1],
  ) as ReportData;
  const thr = data.charts.find((c) => c.title === 'Throughput: achieved vs target')!;
  const achieved = thr.series.find((s) => s.label === 'achieved')!.values;
  const target = thr.series.find((s) => s.label === 'target')!.values;
  assert.equal(achieved.length, recs.length);
  assert.equal(achieved[achieved.length - 1], null, 'partial window not drawn');
  assert.equal(target[target.length - 1], null, 'nor its target');
  for (let i = 0; i < recs.length - 1; i++)
    if (recs[i].duration_s >= 0.5) assert.equal(achieved[i], recs[i].throughput, `full window ${i} drawn`);
  assert.match(html, /Not drawn: the partial window at 2 s \([\d.]+ ms, \d+ requests\)/);
});
