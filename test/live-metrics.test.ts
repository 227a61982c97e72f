/**
 * `preflight run --metrics-port` scraped by a real Prometheus (Debian's package, 1 s scrape interval) while
 * the run loads the reference server (10 % injected 500s): after the run, Prometheus' API agrees with
 * summary.json on requests, errors and rate. Without Prometheus the test skips and says so — except on
 * CI (`CI` set), where a missing Prometheus is a failure.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type ServerHandle } from '../src/server/index.js';
import type { Summary } from '../src/core/results.js';
import { preflight } from './helpers/cli.js';
import { freePort } from './helpers/child-process.js';
import { prometheusBinary, startPrometheus, type Prometheus } from './helpers/prometheus.js';

const missing = prometheusBinary() === undefined;
const skip =
  missing && !process.env['CI']
    ? 'prometheus is not installed (Debian: apt-get install prometheus — scripts/test.sh does it as root; required when CI is set)'
    : false;

let server: ServerHandle;
let prom: Prometheus;
let metricsPort: number;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-live-metrics-'));

before(async () => {
  server = await startServer({ port: 0, instances: 1, faults: { errorRate: 0.1 }, seed: 7 });
  if (skip) return;
  assert.ok(!missing, 'prometheus is required in CI (apt-get install -y prometheus; scripts/test.sh does it as root)');
  metricsPort = await freePort();
  prom = await startPrometheus({ targets: [`127.0.0.1:${metricsPort}`], scrapeInterval: '1s', job: 'preflight' });
});
after(async () => {
  await prom?.stop();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('Prometheus scraping a run agrees with summary.json on requests, errors and rate', { skip }, async () => {
  const plan = path.join(dir, 'plan.yaml');
  fs.writeFileSync(
    plan,
    `target: { url: ${server.url}, ready: /v2/health/ready }
scenarios:
  steady:
    executor: constant-arrival-rate
    protocol: kserve-v2
    model: digits
    rate: 60/s
    duration: 8s
    synthetic: { distribution: uniform, low: 0, high: 16 }
`,
  );
  const out = path.join(dir, 'out');
  const startS = Date.now() / 1000;
  // Linger past a few scrapes so the last one sees the final figures.
  const r = await preflight(
    ['run', plan, '--out', out, '--no-report', '--metrics-port', String(metricsPort), '--metrics-linger', '4s'],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`live metrics at http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
  const endS = Date.now() / 1000;
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  const sc = summary.scenarios['steady'];
  assert.ok(sc.errors['http_5xx'] > 0, 'the fault made some 500s');

  // The last scraped value of a series (range selectors skip the staleness marker written when the exporter went away).
  const last = async (q: string) => {
    const v = await prom.query(`last_over_time(${q}[5m])`);
    assert.equal(v.length, 1, `${q}: ${JSON.stringify(v)}`);
    return Number(v[0].value[1]);
  };
  const sel = 'job="preflight",scenario="steady",group=""';
  assert.equal(await last(`preflight_requests_total{${sel},outcome="ok"}`), sc.ok);
  assert.equal(await last(`preflight_requests_total{${sel},outcome="error"}`), sc.requests - sc.ok);
  assert.equal(await last(`preflight_errors_total{${sel},class="http_5xx"}`), sc.errors['http_5xx']);
  assert.equal(await last('preflight_run_info{status="completed"}'), 1);
  assert.equal(await last('preflight_run_exit_code'), 0);
  assert.equal(await last('preflight_run_progress_ratio'), 1);

  // The rate Prometheus computes mid-run, against the summary's throughput (median of the 1 s points over 3 s; ±25 %).
  const m = await prom.queryRange(`sum(rate(preflight_requests_total{${sel}}[3s]))`, startS, endS, 1);
  assert.equal(m.length, 1, JSON.stringify(m));
  // Points while the load ran: the first and last cover its ramp in and out.
  const rates = m[0].values
    .map(([, v]) => Number(v))
    .filter((v) => v > 0)
    .slice(1, -1);
  assert.ok(rates.length >= 2, `rate points: ${JSON.stringify(m[0].values)}`);
  const median = rates.sort((a, b) => a - b)[rates.length >> 1];
  assert.ok(
    Math.abs(median - sc.throughput) <= 0.25 * sc.throughput,
    `Prometheus rate ${median}/s vs summary throughput ${sc.throughput}/s`,
  );
  // The last window's latency gauges were scraped too.
  const p99 = await last(`preflight_window_latency_seconds{${sel},quantile="0.99"}`);
  assert.ok(p99 > 0 && p99 < 5, `p99 ${p99}`);
});

function shortPlan(): string {
  const plan = path.join(dir, 'short.yaml');
  fs.writeFileSync(
    plan,
    `target: { url: ${server.url}, ready: /v2/health/ready }
scenarios:
  s:
    executor: constant-arrival-rate
    protocol: kserve-v2
    model: digits
    rate: 20/s
    duration: 3s
    synthetic: { distribution: uniform, low: 0, high: 16 }
`,
  );
  return plan;
}

test('bad --metrics-* arguments are exit 2 before any request, with what to do', async () => {
  const plan = shortPlan();
  const cases: Array<[string[], RegExp]> = [
    [['--metrics-host', '127.0.0.1'], /--metrics-host needs --metrics-port/],
    [['--metrics-port', 'x'], /--metrics-port must be an integer 0–65535/],
    [['--metrics-port', '0', '--metrics-linger', '1h'], /--metrics-linger must be a duration up to 10m/],
    [['--metrics-port', '0', '--metrics-host', 'example'], /--metrics-host must be an IP address or localhost/],
    // An error after the exporter is up (a baseline that is no results folder): exit 2, the process does not hang.
    [['--metrics-port', '0', '--baseline', os.tmpdir()], /baseline|summary\.json|results/i],
    // The reference server's own port is taken.
    [['--metrics-port', String(server.port)], /--metrics-port \d+ on 127\.0\.0\.1 is already in use/],
  ];
  // An earlier run's results in --out stay as they are.
  fs.mkdirSync(path.join(dir, 'bad'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'bad', 'summary.json'), '{"earlier":true}');
  const before = (server.metricsText().match(/^nv_inference_request_success\{[^}]*\} (\d+)$/m) ?? [])[1];
  for (const [args, re] of cases) {
    const r = await preflight(['run', plan, '--out', path.join(dir, 'bad'), '--no-report', ...args], {
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const after = (server.metricsText().match(/^nv_inference_request_success\{[^}]*\} (\d+)$/m) ?? [])[1];
  assert.equal(after, before, 'no request was sent');
  assert.equal(fs.readFileSync(path.join(dir, 'bad', 'summary.json'), 'utf8'), '{"earlier":true}');
});

test('metrics served beyond loopback only when asked, and said on the terminal even when quiet', async () => {
  const r = await preflight([
    'run',
    shortPlan(),
    '--out',
    path.join(dir, 'open'),
    '--no-report',
    '--quiet',
    '--metrics-port',
    '0',
    '--metrics-host',
    '0.0.0.0',
  ]);
  // The run's own verdict (a busy machine can make a short run invalid, exit 4), not an argument error.
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'open', 'summary.json'), 'utf8')) as Summary;
  assert.equal(r.code, summary.exitCode, r.stderr);
  assert.match(r.stderr, /warning: live metrics are served beyond loopback, at http:\/\/0\.0\.0\.0:\d+\/metrics/);
});

test('a profile plan serves its live figures too, and the final state during the linger', async () => {
  const plan = path.join(dir, 'profile.yaml');
  fs.writeFileSync(
    plan,
    `target: { url: ${server.url}, ready: /v2/health/ready }
profile: { type: load, rate: 40/s, steps: 2, stepDuration: 1s, hold: 1s }
scenario:
  protocol: kserve-v2
  model: digits
  synthetic: { distribution: uniform, low: 0, high: 16 }
thresholds: [ error_rate < 50% ]
`,
  );
  const { spawn } = await import('node:child_process');
  const { cli } = await import('./helpers/cli.js');
  const child = spawn(
    process.execPath,
    [
      cli,
      'run',
      plan,
      '--out',
      path.join(dir, 'profile-out'),
      '--no-report',
      '--metrics-port',
      '0',
      '--metrics-linger',
      '20s',
    ],
    { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    let stderr = '';
    // The linger line says the run is over; then scrape the final figures and end the linger with Ctrl-C.
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const m = /live metrics at (\S+)/.exec(stderr);
        if (m && /serving the final metrics/.test(stderr)) resolve(m[1]);
      });
      child.once('exit', () => reject(new Error(`exited before the linger: ${stderr}`)));
    });
    const text = await (await fetch(url)).text();
    // The profile's steps are scenarios of their own (step-1, step-2, hold).
    const ok = [...text.matchAll(/^preflight_requests_total\{scenario="[^"]+",group="",outcome="ok"\} (\d+)$/gm)];
    assert.ok(ok.length >= 2 && ok.reduce((n, m) => n + Number(m[1]), 0) > 40, text);
    assert.match(text, /^preflight_run_info\{plan="[^"]*profile\.yaml",status="completed"\} 1$/m);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'profile-out', 'summary.json'), 'utf8')) as Summary;
    assert.equal(await exited, summary.exitCode, 'Ctrl-C during the linger ends it; the exit code stays the run’s');
    assert.match(text, new RegExp(`^preflight_run_exit_code ${summary.exitCode}$`, 'm'));
  } finally {
    clearTimeout(kill);
  }
});
