/**
 * `preflight run plan.yaml --time-scale F` on a plan of scenarios (not a profile), as a user runs
 * it: a child process against a loopback server. Durations and start times shrink; rates stay.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { delayServer, type TestServer } from './helpers/servers.js';
import { parsePlan, scalePlan } from '../src/plan/index.js';
import type { Summary } from '../src/core/results.js';
import { preflight } from './helpers/cli.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

// (a short run on shared cores: the generator-lag limit relaxed, as in the engine tests)
const PLAN = (url: string) => `target: { url: "${url}" }
options: { maxDispatchLag: 1s }
scenarios:
  first:
    executor: constant-arrival-rate
    rate: 20/s
    duration: 10s
    request: { path: / }
  second:
    executor: ramping-arrival-rate
    startTime: 10s
    startRate: 20/s
    stages: [ { duration: 10s, target: 20/s } ]
    request: { path: / }
thresholds:
  - threshold: error_rate < 50%
    abortOnFail: true
    delayAbortEval: 5s
`;

test('--time-scale 0.1 runs a plan of scenarios 10× shorter at the same rates', async () => {
  const srv = await delayServer(2);
  servers.push(srv);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-timescale-'));
  dirs.push(dir);
  const file = path.join(dir, 'plan.yaml');
  fs.writeFileSync(file, PLAN(srv.url));
  const out = path.join(dir, 'out');
  const r = await preflight(['run', file, '--time-scale', '0.1', '--out', out, '--quiet', '--no-report']);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  // 20/s for 1 s, then 20/s for 1 s from 1 s on: 20 + 20 arrivals, in about 2 s rather than 20
  assert.equal(s.scenarios.first.requests + s.scenarios.first.unsent, 20);
  assert.equal(s.scenarios.second.requests + s.scenarios.second.unsent, 20);
  assert.ok(s.durationS < 10, `run took ${s.durationS} s`);
  const resolved = JSON.parse(fs.readFileSync(path.join(out, 'plan.resolved.json'), 'utf8'));
  assert.deepEqual(
    resolved.scenarios.map((x: { startTimeMs: number }) => x.startTimeMs),
    [0, 1000],
  );
  assert.equal(resolved.options.intervalMs, 100);
});

test('scalePlan: schedule times scale; rates, concurrency, think time and timeouts stay; the original is unchanged', () => {
  const plan = parsePlan(`target: { url: "http://127.0.0.1:9", timeout: 2s }
scenarios:
  a: { executor: constant-concurrency, concurrency: 3, duration: 30s, startTime: 5s, gracefulStop: 4s, thinkTime: 100ms, request: { path: / } }
thresholds:
  - { threshold: p99 < 100ms, abortOnFail: true, delayAbortEval: 10s }
`);
  const s = scalePlan(plan, 0.1);
  const a = s.scenarios[0];
  assert.ok(a.executor === 'constant-concurrency');
  assert.deepEqual(
    [a.durationMs, a.startTimeMs, a.gracefulStopMs, s.thresholds[0].delayAbortEvalMs, s.options.intervalMs],
    [3000, 500, 400, 1000, 100],
  );
  assert.deepEqual([a.concurrency, a.thinkTimeMs, s.target.timeoutMs], [3, 100, 2000]);
  assert.equal(plan.scenarios[0].durationMs, 30_000);
});
