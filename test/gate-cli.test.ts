/**
 * `preflight run --gate-port`: a real CLI child process runs a progressive canary against the
 * reference model server (in-process, loopback, port 0) and serves its verdict over HTTP — polled
 * here during the run and during `--gate-linger` as Argo Rollouts' Web provider (`/verdict`) and
 * Flagger's webhooks (`/gate`) would; the process then exits by itself with the usual code.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, preflight, root } from './helpers/cli.js';
import { startServer, type ServerHandle } from '../src/server/index.js';

const examples = path.join(root, 'examples');
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-gate-'));
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

function canaryPlan(candidateVersion: string, steps: string, duration: string): string {
  return `
target: { url: ${server.url}, ready: /v2/health/ready }
scenarios:
  live:
    executor: constant-arrival-rate
    rate: 200/s
    duration: ${duration}
    protocol: kserve-v2
    model: digits
    data:
      file: ${path.join(examples, 'data', 'digits-test.csv')}
      inputs: [ { name: input, columns: p0..p63, datatype: FP32 } ]
      label: label
      order: shuffle
      batch: 1
    quality: { task: classification, prediction: argmax }
comparison:
  kind: canary
  variants: [ { name: stable, version: v1 }, { name: canary, version: ${candidateVersion} } ]
  canary:
    metrics:
      - { metric: latency, direction: increase, group: latency }
      - { metric: error_rate, direction: increase, group: errors, critical: true }
      - { metric: accuracy, direction: decrease, group: quality, critical: true }
    steps: ${steps}
options: { maxDispatchLag: 1s, interval: 500ms }
`;
}

interface Poll {
  at: number;
  phase: 'run' | 'linger' | 'exited';
  path: string;
  status: number;
  body: { verdict?: string; proceed?: boolean; step?: number; share?: number; reasons?: string[] };
}

/**
 * Runs the CLI with a gate on a free port and polls /verdict and /gate every 100 ms until the
 * process exits (bounded: 60 s). Phases from its stderr: `run` until the linger line, then `linger`.
 */
async function runWithGate(planFile: string, extra: string[]) {
  const child = spawn(process.execPath, [cli, 'run', planFile, '--gate-port', '0', '--no-report', ...extra], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let code: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.on('close', (c) => {
      code = c;
      clearTimeout(kill);
      resolve();
    }),
  );
  const polls: Poll[] = [];
  const t0 = Date.now();
  let url: string | undefined;
  for (let i = 0; i < 600 && code === undefined; i++) {
    url ??= /gate: (http:\/\/[^\s/]+)\/verdict/.exec(stderr)?.[1];
    if (url) {
      for (const p of ['/verdict', '/gate']) {
        const phase = /the run is over/.test(stderr) ? 'linger' : 'run';
        try {
          const res = await fetch(url + p, {
            method: p === '/gate' ? 'POST' : 'GET',
            body: p === '/gate' ? '{}' : undefined,
          });
          polls.push({
            at: Date.now() - t0,
            phase,
            path: p,
            status: res.status,
            body: (await res.json()) as Poll['body'],
          });
        } catch {
          polls.push({ at: Date.now() - t0, phase: 'exited', path: p, status: 0, body: {} });
        }
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await exited;
  return { code, stdout, stderr, polls, url };
}

const FLAGGER: Record<string, number> = { pass: 200, marginal: 409, fail: 412, inconclusive: 503 };

test('--gate-port, canary v1 against v1 in 3 steps: 503 before a judgement, then each step’s verdict live, the final one during --gate-linger; exits by itself', async () => {
  const dir = tmp();
  const file = path.join(dir, 'canary.yaml');
  fs.writeFileSync(
    file,
    canaryPlan(
      'v1',
      '[ { share: 50%, duration: 2s }, { share: 50%, duration: 2s }, { share: 100%, duration: 2s } ]',
      '6s',
    ),
  );
  const r = await runWithGate(file, ['-o', path.join(dir, 'out'), '--gate-linger', '3s']);
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'summary.json'), 'utf8'));
  const verdict: string = summary.comparison.verdict;
  assert.equal(r.code, { pass: 0, marginal: 3, fail: 3, inconclusive: 4 }[verdict], r.stderr);
  assert.ok(r.url && /^http:\/\/127\.0\.0\.1:\d+$/.test(r.url), `loopback by default: ${r.url}`);
  const run = r.polls.filter((p) => p.phase === 'run');
  const linger = r.polls.filter((p) => p.phase === 'linger');
  // Before the first step's judgement: not yet.
  assert.equal(run[0].status, 503, JSON.stringify(run[0]));
  assert.equal(run[0].body.verdict, 'pending');
  // During the run, a step's judgement: 200 JSON on /verdict; Flagger's code on /gate.
  const live = run.filter((p) => p.path === '/verdict' && p.status === 200);
  assert.ok(live.length > 0, `a judgement served during the run: ${JSON.stringify(run.map((p) => [p.at, p.status]))}`);
  assert.ok(live[0].body.step! >= 1 && live[0].body.share === 0.5, JSON.stringify(live[0].body));
  for (const p of run.filter((x) => x.path === '/gate' && x.body.verdict && x.body.verdict !== 'pending'))
    assert.equal(p.status, FLAGGER[p.body.verdict!], JSON.stringify(p));
  // After the run, during the linger: the final verdict (as summary.json), then the process exits.
  assert.ok(linger.length >= 4, `polled during the linger: ${linger.length}`);
  const last = linger.filter((p) => p.path === '/verdict').at(-1)!;
  assert.equal(last.status, 200);
  assert.equal(last.body.verdict, verdict);
  assert.equal(linger.filter((p) => p.path === '/gate').at(-1)!.status, FLAGGER[verdict]);
  const lingerMs = linger.at(-1)!.at - linger[0].at;
  assert.ok(lingerMs > 1500 && lingerMs < 10_000, `lingered ≈ 3 s: ${lingerMs} ms`);
  assert.match(r.stderr, /gate: .*serving its final verdict .* for 3s/);
});

test('--gate-port, canary v2 (less accurate) in 2 steps: step 1 fails — Flagger 412, Argo JSON verdict fail, exit 3', async () => {
  const dir = tmp();
  const file = path.join(dir, 'canary.yaml');
  fs.writeFileSync(file, canaryPlan('v2', '[ { share: 50%, duration: 3s }, { share: 100%, duration: 3s } ]', '6s'));
  const r = await runWithGate(file, ['-o', path.join(dir, 'out'), '--gate-linger', '2s']);
  assert.equal(r.code, 3, r.stderr);
  const linger = r.polls.filter((p) => p.phase === 'linger');
  const v = linger.filter((p) => p.path === '/verdict').at(-1)!;
  assert.equal(v.status, 200);
  assert.equal(v.body.verdict, 'fail');
  assert.equal(v.body.proceed, false);
  assert.equal(linger.filter((p) => p.path === '/gate').at(-1)!.status, 412);
});

test('--gate-port: a plan that is not a canary, a host in the port, a bad linger, --gate-host alone — exit 2 before any load', async () => {
  const dir = tmp();
  const canary = path.join(dir, 'canary.yaml');
  fs.writeFileSync(canary, canaryPlan('v1', '[ { share: 50%, duration: 1s } ]', '1s'));
  const cases: Array<[string[], RegExp]> = [
    [[path.join(examples, 'ab-digits.yaml'), '--gate-port', '0'], /no canary comparison/],
    [[canary, '--gate-port', '0.0.0.0:8080'], /--gate-port must be a port number[\s\S]*--gate-host/],
    [[canary, '--gate-port', '0', '--gate-linger', '2h'], /--gate-linger must be 0 to 1h/],
    [[canary, '--gate-port', '0', '--gate-linger', 'soon'], /soon/],
    [[canary, '--gate-host', '0.0.0.0'], /--gate-host needs --gate-port/],
    [[canary, '--gate-port', '0', '--gate-host', 'example.com'], /must be an IP address/],
  ];
  for (const [args, re] of cases) {
    const r = await preflight(['run', ...args, '-o', path.join(dir, 'out')], { timeoutMs: 30_000 });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.doesNotMatch(r.stderr, /gate: http/, 'no gate was started');
  }
});
