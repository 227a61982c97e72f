/**
 * Target metrics beside the load, against real servers on loopback: the reference server's
 * Triton-style /metrics scraped during a run (queue and compute time present and plausible, the
 * success counter's rate matching the run's throughput), a real Prometheus scraping the reference
 * server and queried with query_range, unreachable and optional sources, bad PromQL, and a series
 * that vanishes mid-run (a gap, never a zero).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { run } from '../src/run/index.js';
import { runProfile } from '../src/profiles/index.js';
import { startServer, type ServerHandle } from '../src/server/index.js';
import type { PreflightError } from '../src/core/errors.js';
import type { TargetWindowRecord } from '../src/core/results.js';
import { closedPort, httpServer, type TestServer } from './helpers/servers.js';
import { root } from './helpers/cli.js';
import { prometheusSkip, startPrometheus, type Prometheus } from './helpers/prometheus.js';

const examples = path.join(root, 'examples');
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-monitor-'));
  dirs.push(d);
  return d;
};

let server: ServerHandle;
before(async () => {
  server = await startServer({ port: 0 });
});
after(async () => {
  await server?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function kservePlan(url: string, monitor: string, opts: { rate?: number; duration?: string; extra?: string } = {}) {
  return parsePlan(
    `
target: { url: ${url}, ready: /v2/health/ready }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: ${opts.rate ?? 80}/s
    duration: ${opts.duration ?? '5s'}
    protocol: kserve-v2
    model: digits
    data:
      file: data/digits-test.csv
      inputs: [ { name: input, columns: p0..p63, datatype: FP32 } ]
      batch: 1
monitor:
${monitor}
options: { maxDispatchLag: 1s }
${opts.extra ?? ''}
`,
    { baseDir: examples },
  );
}

const readRecords = (dir: string): TargetWindowRecord[] =>
  fs
    .readFileSync(path.join(dir, 'target-metrics.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as TargetWindowRecord);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

test("the reference server's /metrics scraped during a run: queue and compute time, rates matching the throughput", async (t) => {
  const plan = kservePlan(
    server.url,
    `  scrape: [ ${server.url}/metrics ]
  preset: [ triton, process ]`,
    { extra: 'thresholds: [ "target.queue_time.max < 5s", "target.memory.max < 16GB", "target.cpu.mean < 10000%" ]' },
  );
  const out = tmp();
  const { summary, exitCode } = await run(plan, { outDir: out });
  const tm = summary.target_metrics!;
  t.diagnostic(JSON.stringify(tm));
  for (const name of ['queue_time', 'compute_time', 'request_time', 'inference_rate', 'batch_size', 'cpu', 'memory'])
    assert.ok(tm[name], `${name} read`);
  // GPU metrics: the reference server exports none; a preset's missing metrics are left out, not gaps.
  assert.equal(tm['gpu'], undefined);
  assert.equal(tm['queue_time'].unit, 'ms');
  assert.equal(tm['queue_time'].source, 'scrape');
  assert.ok(tm['queue_time'].windows >= 3, `${tm['queue_time'].windows} windows`);
  assert.ok(tm['queue_time'].mean! >= 0 && tm['queue_time'].mean! < 1000, 'queue time plausible');
  assert.ok(tm['compute_time'].mean! > 0 && tm['compute_time'].mean! < 1000, 'compute time plausible');
  // The server's own time is at least its queue time, and at most what the client measured.
  assert.ok(tm['request_time'].mean! >= tm['queue_time'].mean! * 0.99);
  assert.ok(tm['request_time'].mean! <= summary.total.latency_ms.mean * 1.5 + 1);
  assert.ok(tm['batch_size'].mean! >= 1, 'a batch holds at least a row');
  assert.ok(tm['memory'].max! > 10e6, 'resident memory in bytes');
  // Counters → rates: the success counter's rate in the load's middle windows is the run's throughput (±10 %).
  const recs = readRecords(out);
  const n = recs.length;
  const middle = recs
    .slice(1, n - 1)
    .map((r) => r.values['inference_rate'])
    .filter((v): v is number => typeof v === 'number');
  assert.ok(middle.length >= 2, `${middle.length} middle windows`);
  const rate = median(middle);
  t.diagnostic(
    `target inference rate ${rate.toFixed(1)}/s vs Preflight throughput ${summary.total.throughput.toFixed(1)}/s`,
  );
  assert.ok(
    Math.abs(rate - summary.total.throughput) <= 0.1 * summary.total.throughput,
    `${rate} vs ${summary.total.throughput}`,
  );
  assert.equal(
    summary.thresholds.filter((x) => x.expression.startsWith('target.')).every((x) => x.ok && x.value !== null),
    true,
    JSON.stringify(summary.thresholds),
  );
  assert.ok(summary.bottleneck, 'bottleneck words');
  assert.match(summary.bottleneck!.text, /dominated/);
  assert.ok([0, 4].includes(exitCode), `exit ${exitCode}`); // 4: a stalled shared machine
});

test('an unreachable exporter is said before the load (exit 5); with optional: true a warning, and the run goes on', async () => {
  const port = await closedPort();
  const plan = kservePlan(server.url, `  scrape: [ http://127.0.0.1:${port}/metrics ]\n  preset: triton`, {
    duration: '1s',
  });
  const out = tmp();
  await assert.rejects(run(plan, { outDir: out }), (e: PreflightError) => {
    assert.equal(e.code, 'E_TARGET_UNREACHABLE');
    assert.equal(e.exitCode, 5);
    assert.equal(e.problems[0].path, 'monitor.scrape[0]');
    assert.match(e.problems[0].message, /cannot reach/);
    return true;
  });
  assert.equal(fs.existsSync(path.join(out, 'intervals.ndjson')), false, 'nothing was sent');
  const optional = kservePlan(
    server.url,
    `  scrape: [ http://127.0.0.1:${port}/metrics ]\n  preset: triton\n  optional: true`,
    { duration: '1s' },
  );
  const { summary } = await run(optional, { outDir: tmp() });
  assert.ok(summary.total.ok > 0);
  assert.ok(
    summary.warnings.some((w) => /monitor \(optional\).*cannot reach/.test(w)),
    summary.warnings.join('\n'),
  );
  assert.deepEqual(summary.target_metrics, {});
});

test('a series that vanishes mid-run is a gap (null), never a zero; a counter reset is not a negative rate', async () => {
  let scrapes = 0;
  const exporter: TestServer = await httpServer((_req, res) => {
    scrapes++;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    // queue_depth: present for the first 3 scrapes, then gone. jobs_total: restarts from 0 at scrape 4.
    const lines = ['# TYPE jobs_total counter', `jobs_total ${scrapes < 4 ? 100 + scrapes * 10 : (scrapes - 4) * 10}`];
    if (scrapes <= 3) lines.push('# TYPE queue_depth gauge', 'queue_depth 7');
    res.end(`${lines.join('\n')}\n`);
  });
  const target = await httpServer((_req, res) => res.end('ok'));
  try {
    const plan = parsePlan(`
target: { url: ${target.url} }
scenarios:
  s: { executor: constant-arrival-rate, rate: 20/s, duration: 6s, request: { path: / } }
monitor:
  scrape: [ ${exporter.url}/metrics ]
  metrics:
    depth: queue_depth
    jobs: { metric: jobs_total, kind: counter, unit: per_s }
options: { interval: 1s }
`);
    const out = tmp();
    const { summary } = await run(plan, { outDir: out });
    const recs = readRecords(out);
    const depth = recs.map((r) => r.values['depth']);
    assert.ok(depth.includes(7), JSON.stringify(depth));
    assert.ok(
      depth.slice(-2).every((v) => v === null),
      `vanished → null: ${JSON.stringify(depth)}`,
    );
    assert.ok(!depth.includes(0), 'never a zero');
    const jobs = recs.map((r) => r.values['jobs']).filter((v): v is number => typeof v === 'number');
    assert.ok(jobs.length >= 4, JSON.stringify(jobs));
    assert.ok(
      jobs.every((v) => v >= 0),
      `rates across the reset stay non-negative: ${JSON.stringify(jobs)}`,
    );
    assert.equal(summary.target_metrics!['depth'].max, 7);
    assert.ok(summary.target_metrics!['depth'].windows < summary.target_metrics!['depth'].of);
  } finally {
    await exporter.close();
    await target.close();
  }
});

test('credentials from the environment reach the exporter and appear in no output (files, warnings, errors)', async () => {
  const token = 'tok-7f3a9c2e-monitor';
  const exporter: TestServer = await httpServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      // A server that echoes what it got: the error shown must not carry the secret either.
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(`unauthorized: ${req.headers.authorization ?? 'no header'}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end('# TYPE up gauge\nup 1\n');
  });
  const target = await httpServer((_req, res) => res.end('ok'));
  const planText = (auth: string) => `
target: { url: ${target.url} }
scenarios:
  s: { executor: constant-arrival-rate, rate: 10/s, duration: 1s, request: { path: / } }
monitor:
  scrape: [ { url: ${exporter.url}/metrics, auth: { bearer: "${auth}" } } ]
  metrics: { up: up }
`;
  try {
    const out = tmp();
    const plan = parsePlan(planText('${MON_TOKEN}'), { env: { MON_TOKEN: token } });
    const { summary } = await run(plan, { outDir: out });
    assert.equal(summary.target_metrics!['up'].max, 1, 'the token reached the exporter');
    for (const f of fs.readdirSync(out))
      assert.ok(!fs.readFileSync(path.join(out, f), 'utf8').includes(token), `${f} holds the token`);
    // A wrong token: 401 with an echo of the header — exit 5, and the message carries no secret.
    const wrong = 'wrong-4b1d8e-secret';
    const bad = parsePlan(planText('${MON_TOKEN}'), { env: { MON_TOKEN: wrong } });
    await assert.rejects(run(bad, { outDir: tmp() }), (e: PreflightError) => {
      assert.equal(e.exitCode, 5);
      const shown = `${e.message}\n${JSON.stringify(e.problems)}`;
      assert.match(shown, /HTTP 401/);
      assert.ok(!shown.includes(wrong), shown);
      return true;
    });
  } finally {
    await exporter.close();
    await target.close();
  }
});

test('a sweep with monitor: each step reads the target; where the time goes is part of the answer', async () => {
  const plan = parsePlan(
    `
target: { url: ${server.url} }
profile:
  type: sweep
  levels: [ 40/s, 160/s ]
  steady: { window: 1s, tolerance: 50%, windows: 2, maxStepDuration: 3s }
  cooldown: 0s
scenario:
  protocol: kserve-v2
  model: digits
  synthetic: { distribution: uniform, low: 0, high: 16 }
monitor:
  scrape: [ ${server.url}/metrics ]
  preset: triton
options: { maxDispatchLag: 1s }
`,
    { baseDir: examples },
  );
  const out = tmp();
  const r = await runProfile(plan, { outDir: out });
  const answer = r.summary.profiles!['sweep'] as { answer: string; numbers: Record<string, unknown> };
  const b = r.summary.bottleneck!;
  assert.equal(b.levels.length, 2, JSON.stringify(b));
  assert.ok(b.levels[0].rate < b.levels[1].rate);
  assert.match(answer.answer, /Inside the target: (queue|compute)-dominated/);
  assert.ok('queue_dominated_from_rate' in answer.numbers);
  assert.ok(fs.existsSync(path.join(out, 'steps', '1', 'target-metrics.ndjson')));
});

const skipProm = prometheusSkip();
let prom: Prometheus | undefined;
after(async () => {
  await prom?.stop();
});

test('a real Prometheus scraping the reference server, queried with query_range after the run', {
  skip: skipProm,
}, async (t) => {
  prom = await startPrometheus({ targets: [new URL(server.url).host], scrapeInterval: '1s' });
  // Let Prometheus take its first scrapes (rate() needs two in its window): up to 30 s, polled.
  for (let i = 0; i < 60; i++) {
    const r = await fetch(
      `${prom.url}/api/v1/query?query=${encodeURIComponent('count_over_time(up{job="target"}[10s])')}`,
    );
    const body = (await r.json()) as { data?: { result?: { value: [number, string] }[] } };
    if (Number(body.data?.result?.[0]?.value[1] ?? 0) >= 4) break;
    await new Promise((res) => setTimeout(res, 500));
  }
  const plan = kservePlan(
    server.url,
    `  prometheus: { url: ${prom.url}, rateWindow: 3s }
  preset: triton
  metrics:
    up: { promql: 'up{job="target"}' }
  margin: 5s`,
    { duration: '6s' },
  );
  const out = tmp();
  const { summary } = await run(plan, { outDir: out });
  const tm = summary.target_metrics!;
  t.diagnostic(JSON.stringify(tm));
  t.diagnostic(
    readRecords(out)
      .map((r) => `${r.t}:${JSON.stringify(r.values['queue_time'])}/${JSON.stringify(r.values['inference_rate'])}`)
      .join(' '),
  );
  assert.equal(tm['queue_time']?.source, 'prometheus');
  assert.ok(tm['queue_time'].windows >= 5, `${tm['queue_time'].windows} windows`);
  assert.ok(tm['compute_time'].mean! > 0 && tm['compute_time'].mean! < 1000);
  assert.equal(tm['up'].max, 1);
  const recs = readRecords(out);
  assert.ok(
    recs.some((r) => r.t < 0),
    'the margin before the load is in the file',
  );
  // rate() over a 3 s window lags the load's edges: compare the middle of the run, ±20 %.
  const inside = recs.filter((r) => r.t >= 3 && r.t < 5).map((r) => r.values['inference_rate']);
  const nums = inside.filter((v): v is number => typeof v === 'number');
  assert.ok(nums.length >= 1, JSON.stringify(inside));
  const rate = median(nums);
  t.diagnostic(`Prometheus rate ${rate.toFixed(1)}/s vs Preflight ${summary.total.throughput.toFixed(1)}/s`);
  assert.ok(Math.abs(rate - summary.total.throughput) <= 0.2 * summary.total.throughput, `${rate}`);

  // Bad PromQL: the server's error, located, before the load (exit 2).
  const bad = kservePlan(
    server.url,
    `  prometheus: ${prom.url}\n  metrics:\n    broken: { promql: 'sum(rate(x[5m])' }`,
    {
      duration: '1s',
    },
  );
  const badOut = tmp();
  await assert.rejects(run(bad, { outDir: badOut }), (e: PreflightError) => {
    assert.equal(e.code, 'E_PLAN_INVALID');
    assert.equal(e.problems[0].path, 'monitor.metrics.broken.promql');
    assert.match(e.problems[0].message, /Prometheus rejected .*parse error|unclosed|expected/i);
    return true;
  });
  assert.equal(fs.existsSync(path.join(badOut, 'intervals.ndjson')), false);
});
