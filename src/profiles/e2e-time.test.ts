/**
 * End to end, profiles about time: spike recovery against a server with a known drain time, soak
 * drift (a server whose latency and memory grow) against one that is only noisy, load steps, burst
 * vs smooth arrivals, a rollout whose cut-over is known, and replay of a trace with data rows.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ExitCode } from '../core/exit-codes.js';
import type { IntervalRecord, Summary } from '../core/results.js';
import { parsePlan } from '../plan/index.js';
import { runProfile } from './run-profile.js';
import { capacityServer, driftServer, tempDirs, type TestServer } from './test-servers.js';
import type { DriftMetric } from './analysis.js';

const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
});
const dirs = tempDirs('preflight-profile-');
after(() => dirs.removeAll());
const tmp = (): string => dirs.make();

async function profile(url: string, yaml: string, baseDir?: string) {
  const plan = parsePlan(`target: { url: ${url}, timeout: 10s }\n${yaml}`, baseDir ? { baseDir } : {});
  const outDir = tmp();
  const r = await runProfile(plan, { outDir });
  const summary = JSON.parse(fs.readFileSync(path.join(outDir, 'summary.json'), 'utf8')) as Summary;
  return { ...r, written: summary };
}

function keep(s: TestServer): TestServer {
  closers.push(() => s.close());
  return s;
}

test('spike: recovery time matches the backlog a 200/s server needs to drain', async () => {
  const srv = keep(await capacityServer({ capacity: 200 }));
  // 400/s for 2 s against 200/s leaves ≈ 400 queued; at 50/s the server drains 150/s → ≈ 2.7 s.
  const r = await profile(
    srv.url,
    'profile: { type: spike, rate: 50/s, spikeRate: 400/s, before: 5s, spike: 2s, after: 8s }\nscenario: { request: { path: / } }\nthresholds: [ p99 < 100ms ]\n',
  );
  const n = r.answer.numbers;
  assert.equal(n['recovered'], true, r.answer.answer);
  const rec = n['recovery_s'] as number;
  assert.ok(rec >= 1 && rec <= 5, `recovery ${rec} s (expected ≈ 2.7 s): ${r.answer.answer}`);
  assert.ok((n['worst_p99_ms'] as number) > 500, `worst ${n['worst_p99_ms']}`);
  const marks = r.answer.marks!.map((m) => m.label);
  assert.deepEqual(marks, ['spike starts', 'spike ends', 'recovered']);
  assert.equal(r.exitCode, ExitCode.Passed);
  assert.deepEqual(
    r.written.thresholds.map((t) => t.expression),
    ['before.p99 < 100ms'],
  );
});

const SOAK = `profile: { type: soak, rate: 40/s, duration: 10s, warmup: 1s, minChange: 30%, memory: { url: URL/metrics } }
scenario: { request: { path: / } }
options: { interval: 250ms }
`;

test('soak: latency and memory that grow steadily are flagged as drift, per hour, with memory in the intervals', async () => {
  const srv = keep(
    await driftServer({
      baseMs: 2,
      growMsPerS: 1,
      jitterMs: 2,
      baseBytes: 100e6,
      growBytesPerS: 8e6,
      noiseBytes: 1e6,
      seed: 7,
    }),
  );
  const r = await profile(srv.url, SOAK.replace('URL', srv.url));
  const drift = r.answer['drift'] as DriftMetric[];
  const by = (m: string) => drift.find((d) => d.metric === m)!;
  assert.equal(by('p50').drifting, true, r.answer.answer);
  assert.ok(Math.abs(by('p50').per_hour - 3600) < 1200, `p50 ${by('p50').per_hour} ms/h, true 3600`);
  assert.equal(by('memory').drifting, true);
  const trueMiBPerH = (8e6 * 3600) / 2 ** 20;
  assert.ok(
    Math.abs(by('memory').per_hour - trueMiBPerH) < 0.25 * trueMiBPerH,
    `memory ${by('memory').per_hour} MiB/h, true ${trueMiBPerH}`,
  );
  assert.equal(r.answer.verdict, 'failed');
  assert.equal(r.exitCode, ExitCode.ThresholdsFailed);
  assert.match(r.answer.answer, /^Drift over/);
  const lines = fs
    .readFileSync(path.join(r.outDir, 'intervals.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as IntervalRecord);
  assert.ok(lines.filter((l) => l.target_memory_bytes !== undefined).length >= 20, 'memory in the intervals');
  assert.ok(r.written.target_memory && r.written.target_memory.last_bytes > r.written.target_memory.first_bytes);
});

test('soak: a server that is only noisy is not called drifting', async () => {
  const srv = keep(
    // Latency well above the client's own scheduling noise (a GC pause or a busy CI core adds a few
    // ms to a window's p99), so the test judges the server's noise, not the test machine's.
    await driftServer({
      baseMs: 20,
      growMsPerS: 0,
      jitterMs: 8,
      baseBytes: 200e6,
      growBytesPerS: 0,
      noiseBytes: 5e6,
      seed: 11,
    }),
  );
  const r = await profile(srv.url, SOAK.replace('URL', srv.url));
  const drift = r.answer['drift'] as DriftMetric[];
  assert.deepEqual(
    drift.filter((d) => d.drifting).map((d) => d.metric),
    [],
    r.answer.answer,
  );
  assert.equal(drift.find((d) => d.metric === 'memory')!.significant, false);
  assert.equal(r.answer.verdict, 'passed');
  assert.match(r.answer.answer, /^No drift over/);
});

test('load: steps up to a peak within capacity pass; a peak above it fails at the step that exceeds it', async () => {
  const srv = keep(await capacityServer({ capacity: 200 }));
  const tpl = 'scenario: { request: { path: / }, gracefulStop: 1s }\nthresholds: [ p99 < 100ms, error_rate < 1% ]\n';
  const ok = await profile(
    srv.url,
    `profile: { type: load, rate: 150/s, steps: 3, stepDuration: 1s, hold: 2s }\n${tpl}`,
  );
  assert.equal(ok.answer.verdict, 'passed', ok.answer.answer);
  assert.equal(ok.answer.numbers['steps_passed'], 3);
  assert.deepEqual(
    ok.written.thresholds.map((t) => t.scenario),
    ['step-1', 'step-1', 'step-2', 'step-2', 'step-3', 'step-3'],
  );
  const bad = await profile(
    srv.url,
    `profile: { type: load, rate: 400/s, steps: 2, stepDuration: 2s, hold: 2s }\n${tpl}`,
  );
  assert.equal(bad.answer.verdict, 'failed');
  assert.equal(bad.exitCode, ExitCode.ThresholdsFailed);
  assert.equal(bad.answer.numbers['highest_passing_rate'], 200);
  assert.match(bad.answer.answer, /^Does not meet the SLO at 400\/s: step 2 \(400\/s\) failed/);
});

test('burst: gamma-distributed arrivals raise the tail latency compared with smooth ones', async () => {
  const srv = keep(await capacityServer({ capacity: 200 }));
  const r = await profile(
    srv.url,
    'profile: { type: burst, rate: 120/s, burstiness: 4, duration: 3s }\nscenario: { request: { path: / } }\n',
  );
  const ratio = r.answer.numbers['p99_bursty_over_smooth'] as number;
  assert.ok(ratio > 1.5, `p99 ratio ${ratio}: ${r.answer.answer}`);
  assert.match(r.answer.answer, /^Bursty arrivals \(gamma gaps, burstiness 4\)/);
  assert.ok(r.written.scenarios['bursty'].requests > 200 && r.written.scenarios['smooth'].requests > 300);
});

test('rollout: the cut-over window of a deploy that fails requests for 2 s', async () => {
  let downUntil = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/deploy') {
        downUntil = performance.now() + 2000;
        res.end('deploying');
      } else if (performance.now() < downUntil) {
        res.writeHead(503);
        res.end('restarting');
      } else setTimeout(() => res.end('ok'), 2);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A generous latency margin: this test is about errors at cut-over, and a shared CI machine's
  // occasional slow window must not read as "not steady".
  const r = await profile(
    url,
    'profile: { type: rollout, rate: 50/s, duration: 10s, at: 3s, http: { method: POST, url: /deploy }, recovery: { margin: 100ms } }\nscenario: { request: { path: / } }\nthresholds: [ error_rate < 1% ]\n',
  );
  const n = r.answer.numbers;
  assert.equal(n['action_ok'], true);
  const cut = n['cutover_errors'] as number;
  assert.ok(cut >= 70 && cut <= 130, `cut-over errors ${cut} (≈ 100 expected): ${r.answer.answer}`);
  const steady = n['time_to_steady_s'] as number;
  assert.ok(steady >= 2 && steady <= 4, `steady after ${steady} s`);
  const phases = r.answer['phases'] as Record<string, { errors: number } | null>;
  assert.equal(phases['before']!.errors, 0);
  assert.equal(phases['after']!.errors, 0);
  assert.equal(r.exitCode, ExitCode.ThresholdsFailed, 'the users saw errors: the threshold over the run fails');
  assert.ok(r.answer.marks!.some((m) => /action: POST \/deploy/.test(m.label)));
});

test('replay: requests follow the trace times, and its row column picks the data row', async () => {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = tmp();
  fs.writeFileSync(
    path.join(dir, 'items.csv'),
    'id\n' + Array.from({ length: 20 }, (_, i) => `item${i}`).join('\n') + '\n',
  );
  const rows = Array.from({ length: 60 }, (_, i) => (i * 7) % 20);
  fs.writeFileSync(
    path.join(dir, 'trace.jsonl'),
    rows.map((row, i) => JSON.stringify({ ts: 1_700_000_000_000 + i * 40, row })).join('\n') + '\n',
  );
  const r = await profile(
    url,
    'profile: { type: replay, trace: { file: trace.jsonl, time: ts, unit: ms, row: row }, speed: 2 }\nscenario: { request: { path: "/{{id}}" }, data: { file: items.csv } }\n',
    dir,
  );
  assert.equal(r.written.scenarios['replay'].requests, 60);
  assert.equal(r.written.scenarios['replay'].model, 'open');
  assert.deepEqual([...seen].sort(), rows.map((x) => `/item${x}`).sort());
  // 60 requests 40 ms apart at speed 2: about 1.2 s.
  assert.ok(r.written.scenarios['replay'].durationS < 3, String(r.written.scenarios['replay'].durationS));
  assert.match(r.answer.answer, /^Replayed 60 requests of trace\.jsonl/);
});
