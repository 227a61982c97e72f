/**
 * The `preflight` command end to end, as a user runs it: a child process, real servers on
 * loopback, exit codes, files written, Ctrl-C.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closedPort, delayServer, type TestServer } from './helpers/servers.js';
import { cli, preflight, root } from './helpers/cli.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-cli-'));

function writePlan(dir: string, text: string): string {
  const file = path.join(dir, 'plan.yaml');
  fs.writeFileSync(file, text);
  return file;
}

test('validate reports every problem at once with file:line:column and hints (exit 2)', async () => {
  const dir = tmp();
  const file = writePlan(
    dir,
    `target:
  url: http://127.0.0.1:9
scenarios:
  steady:
    executor: constant-arival-rate
    rate: 200/x
    durration: 30s
thresholds:
  - p99 < 250
`,
  );
  const r = await preflight(['validate', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /plan\.yaml:5:\d+/);
  assert.match(r.stderr, /constant-arrival-rate/, 'hint for the misspelt executor');
  assert.match(r.stderr, /plan\.yaml:6:\d+/);
  assert.match(r.stderr, /plan\.yaml:7:\d+.*\n.*duration/, 'did you mean duration');
  assert.match(r.stderr, /plan\.yaml:9:\d+/);
});

test('--help after a command prints the usage (exit 0)', async () => {
  for (const cmd of ['run', 'validate', 'compare']) {
    const r = await preflight([cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, /preflight run <plan\.yaml>/);
  }
});

test('schema prints a JSON Schema naming every executor', async () => {
  const r = await preflight(['schema']);
  assert.equal(r.code, 0);
  const schema = JSON.parse(r.stdout);
  const text = JSON.stringify(schema);
  for (const e of [
    'constant-arrival-rate',
    'ramping-arrival-rate',
    'constant-concurrency',
    'ramping-concurrency',
    'iterations',
  ])
    assert.ok(text.includes(e), e);
});

test('run: passes (exit 0), fails thresholds (exit 3), writes results, keeps secrets out of output', async () => {
  const srv = await delayServer(2);
  servers.push(srv);
  const dir = tmp();
  const plan = (threshold: string) => `target:
  url: ${srv.url}
  headers: { authorization: "Bearer \${MODEL_TOKEN}" }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 50/s
    duration: 1s
    request: { method: GET, path: /health }
thresholds:
  - ${threshold}
`;
  const out = path.join(dir, 'out-pass');
  const pass = await preflight(['run', writePlan(dir, plan('p99 < 5s')), '--out', out], {
    env: { MODEL_TOKEN: 'tok-abcdef-123456' },
  });
  assert.equal(pass.code, 0, pass.stderr);
  assert.match(pass.stdout, /verdict: PASSED/);
  assert.match(pass.stdout, /latency/);
  assert.match(pass.stdout, /service time/);
  for (const f of [
    'summary.json',
    'intervals.ndjson',
    'plan.resolved.json',
    'report.html',
    'summary.md',
    'junit.xml',
    'intervals.csv',
  ])
    assert.ok(fs.existsSync(path.join(out, f)), f);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.verdict, 'passed');
  assert.equal(summary.scenarios.steady.requests, 50);
  for (const k of ['p50', 'p90', 'p99', 'p999', 'max']) {
    assert.equal(typeof summary.scenarios.steady.latency_ms[k], 'number');
    assert.equal(typeof summary.scenarios.steady.service_time_ms[k], 'number');
  }
  assert.ok(!(pass.stdout + pass.stderr).includes('tok-abcdef-123456'));
  for (const f of fs.readdirSync(out))
    assert.ok(!fs.readFileSync(path.join(out, f), 'utf8').includes('tok-abcdef-123456'), `${f} leaks the token`);

  const fail = await preflight(
    ['run', writePlan(dir, plan('p99 < 1us')), '--out', path.join(dir, 'out-fail'), '--quiet'],
    { env: { MODEL_TOKEN: 'x-token-value' } },
  );
  assert.equal(fail.code, 3);
  assert.match(fail.stdout, /✗/);
  assert.match(fail.stdout, /verdict: FAILED/);
});

// A single-run profile (load) and a multi-step one (sweep: every step is its own run) alike.
for (const [kind, profile, failure] of [
  [
    'a profile run',
    'options: { workers: 2 }\nprofile: { type: load, rate: 40/s, steps: 2, stepDuration: 1s, hold: 2s }',
    /worker 2 of 2 died mid-run/,
  ],
  [
    'a multi-step profile (sweep)',
    'options: { workers: 2, interval: 250ms }\nprofile: { type: sweep, levels: [20/s, 40/s], steady: { window: 250ms, windows: 2, tolerance: 1%, maxStepDuration: 2500ms } }',
    /step-1: worker 2 of 2 died mid-run/,
  ],
] as const)
  test(`${kind} whose worker thread dies mid-run is invalid (exit 4), as a plain run is`, async () => {
    const srv = await delayServer(1);
    servers.push(srv);
    const dir = tmp();
    const file = writePlan(
      dir,
      `target: { url: ${srv.url} }\n${profile}\nscenario: { request: { path: /health } }\nthresholds: [ p99 < 5s ]\n`,
    );
    const out = path.join(dir, 'out');
    const r = await preflight(['run', file, '--out', out, '--quiet', '--no-report'], {
      env: { PREFLIGHT_TEST_CRASH_WORKER: '1:600' },
    });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.verdict, 'invalid');
    assert.equal(summary.exitCode, 4);
    assert.match(summary.generator.worker_failures.join(' '), failure);
    assert.ok(Object.keys(summary.profiles).length === 1, 'the answer is still written');
  });

test('run: unreachable target exits 5 before any load; bad arguments exit 2', async () => {
  const port = await closedPort();
  const dir = tmp();
  const file = writePlan(
    dir,
    `target: { url: "http://127.0.0.1:${port}" }\nscenarios:\n  s: { executor: constant-arrival-rate, rate: 10/s, duration: 1s, request: { path: / } }\n`,
  );
  const r = await preflight(['run', file, '--out', path.join(dir, 'out')]);
  assert.equal(r.code, 5);
  assert.match(r.stderr, /connection refused/);
  const bad = await preflight(['run', file, '--workers', 'many']);
  assert.equal(bad.code, 2);
  const unknown = await preflight(['frobnicate']);
  assert.equal(unknown.code, 2);
  const missing = await preflight(['run', path.join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 2);
});

test('run: Ctrl-C stops within a second, keeps partial results marked interrupted (exit 130)', async () => {
  const srv = await delayServer(5);
  servers.push(srv);
  const dir = tmp();
  const out = path.join(dir, 'out');
  const file = writePlan(
    dir,
    `target: { url: "${srv.url}" }\nscenarios:\n  long: { executor: constant-arrival-rate, rate: 50/s, duration: 60s, request: { path: / } }\n`,
  );
  const started = Date.now();
  const r = await preflight(['run', file, '--out', out], { signal: 'SIGINT', signalAfterMs: 2500 });
  const elapsed = Date.now() - started;
  assert.equal(r.code, 130, r.stderr);
  assert.ok(elapsed < 2500 + 4000, `took ${elapsed} ms (includes process start and report writing)`);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'interrupted');
  assert.equal(summary.verdict, 'interrupted');
  assert.ok(summary.scenarios.long.requests > 20);
  assert.ok(fs.readFileSync(path.join(out, 'intervals.ndjson'), 'utf8').trim().split('\n').length >= 1);
  assert.match(r.stdout, /INTERRUPTED/);
});

test('compare: a run compared with itself shows no regression (exit 0)', async () => {
  const srv = await delayServer(1);
  servers.push(srv);
  const dir = tmp();
  const out = path.join(dir, 'out');
  const file = writePlan(
    dir,
    `target: { url: "${srv.url}" }\nscenarios:\n  s: { executor: constant-arrival-rate, rate: 50/s, duration: 3s, request: { path: / } }\n`,
  );
  assert.equal((await preflight(['run', file, '--out', out, '--quiet'])).code, 0);
  const r = await preflight(['compare', out, out]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /regression\b.*▲/);
});

test('run --baseline: a known slowdown is a significant regression (exit 6); comparison.json written', async () => {
  const fast = await delayServer(2);
  const slow = await delayServer(25);
  servers.push(fast, slow);
  const dir = tmp();
  const plan = (url: string) =>
    writePlan(
      dir,
      `target: { url: "${url}" }\nscenarios:\n  s: { executor: constant-arrival-rate, rate: 40/s, duration: 4s, request: { path: / } }\n`,
    );
  const base = path.join(dir, 'base');
  assert.equal((await preflight(['run', plan(fast.url), '--out', base, '--quiet'])).code, 0);
  const cand = path.join(dir, 'cand');
  const r = await preflight(['run', plan(slow.url), '--out', cand, '--baseline', base]);
  assert.equal(r.code, 6, r.stdout + r.stderr);
  assert.match(r.stdout, /regression/i);
  const cmp = JSON.parse(fs.readFileSync(path.join(cand, 'comparison.json'), 'utf8'));
  assert.equal(cmp.verdict, 'regression');
  assert.ok(
    fs.readFileSync(path.join(cand, 'report.html'), 'utf8').includes('baseline'),
    'the report shows the comparison',
  );
});

test('serve: the same entry as server/main.js: first stdout line `listening on URL`, the model on stderr, SIGTERM exits 0', async () => {
  const linear = path.join(root, 'dist', 'src', 'server', 'linear-model.js');
  const child = spawn(process.execPath, [cli, 'serve', '--port', '0', '--instances', '1', '--model-module', linear], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  try {
    // Waits for the first line (bounded by the killer: a dead child ends the wait).
    const first = await new Promise<string>((resolve, reject) => {
      const check = (): void => {
        const nl = stdout.indexOf('\n');
        if (nl >= 0) resolve(stdout.slice(0, nl));
      };
      child.stdout.on('data', check);
      child.once('exit', () => reject(new Error(`serve exited early: ${stdout}${stderr}`)));
    });
    const m = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first);
    assert.ok(m, first);
    assert.equal((await fetch(`${m[1]}/v2/health/ready`)).status, 200);
    assert.match(stderr, /preflight reference server: model digits versions v1, v2 \(.+\), serving v1/);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('demo --short: starts the reference server, runs, writes the report, stops (exit 0)', async () => {
  const dir = tmp();
  const out = path.join(dir, 'demo');
  const r = await preflight(['demo', '--short', '--out', out], { timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /verdict: PASSED/);
  assert.match(r.stdout, /accuracy/);
  assert.match(r.stdout, new RegExp(`report: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(r.stderr, /stopped the reference model server/);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.ok(summary.scenarios.steady.accuracy >= 0.95);
  assert.ok(fs.existsSync(path.join(out, 'report.html')));
});
