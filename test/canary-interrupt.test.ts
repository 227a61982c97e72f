/**
 * A progressive canary interrupted mid-step (SIGTERM to a real CLI child, as a CI cancel or a
 * Ctrl-C sends) against the reference model server: with `canary.onInterrupt: rollback` (the
 * default) the rollback action runs at the router's share — traffic back to the control, as Argo
 * Rollouts' abort does; with `hold` the router stays. The actions are commands that record their calls.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { cli, preflight, root } from './helpers/cli.js';
import { startServer, type ServerHandle } from '../src/server/index.js';
import type { Summary } from '../src/core/results.js';

const examples = path.join(root, 'examples');
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-interrupt-'));
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

/** A command action that appends `<what> <share>` to `log`, after `delayMs`. */
const recorder = (log: string, what: string, delayMs = 0) =>
  `{ run: [ ${JSON.stringify(process.execPath)}, -e, "setTimeout(() => require('fs').appendFileSync(process.argv[1], process.argv[2] + ' ' + process.argv[3] + '\\\\n'), ${delayMs})", ${JSON.stringify(log)}, ${what}, "{{share}}" ] }`;

function plan(log: string, onInterrupt?: string): string {
  const act = (what: string) => recorder(log, what);
  return `
target: { url: ${server.url}, ready: /v2/health/ready }
scenarios:
  live:
    executor: constant-arrival-rate
    rate: 100/s
    duration: 20s
    protocol: kserve-v2
    model: digits
    data:
      file: ${path.join(examples, 'data', 'digits-test.csv')}
      inputs: [ { name: input, columns: p0..p63, datatype: FP32 } ]
      label: label
      batch: 1
    quality: { task: classification, prediction: argmax }
comparison:
  kind: canary
  variants: [ { name: stable, version: v1 }, { name: canary, version: v1 } ]
  canary:
    steps: [ { share: 30%, duration: 10s }, { share: 60%, duration: 10s } ]
    actions: { step: ${act('step')}, promote: ${act('promote')}, rollback: ${act('rollback')} }
${onInterrupt ? `    onInterrupt: ${onInterrupt}\n` : ''}options: { maxDispatchLag: 1s, interval: 500ms }
`;
}

async function interrupted(onInterrupt?: string) {
  const dir = tmp();
  const log = path.join(dir, 'actions.log');
  const file = path.join(dir, 'canary.yaml');
  fs.writeFileSync(file, plan(log, onInterrupt));
  const out = path.join(dir, 'out');
  const child = spawn(process.execPath, [cli, 'run', file, '-o', out, '--no-report'], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.resume();
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const kill = setTimeout(() => child.kill('SIGKILL'), 40_000);
  // SIGTERM once step 1 (30%, 10 s) is under way: the progress line shows the load running, then 1 s more.
  for (let i = 0; i < 300 && !/\[\d+s\/20s\]/.test(stderr); i++) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  child.kill('SIGTERM');
  const r = { code: await closed, stderr };
  clearTimeout(kill);
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  return { r, lines, summary };
}

test('canary interrupted mid-step (SIGTERM), onInterrupt default (rollback): the rollback action runs at the step’s share; exit 130', async () => {
  const { r, lines, summary } = await interrupted();
  assert.equal(r.code, 130, r.stderr);
  assert.equal(summary.status, 'interrupted');
  assert.deepEqual(lines, ['step 30', 'rollback 30'], 'the first step, then back to the control on the interruption');
  const step = summary.comparison!.canary!.steps?.[0];
  assert.match(step?.action ?? '', /interrupted: rollback: Command node exited 0/, JSON.stringify(step));
});

test('canary interrupted mid-step, onInterrupt: hold — no rollback, the router stays at its share (and says so)', async () => {
  const { r, lines, summary } = await interrupted('hold');
  assert.equal(r.code, 130, r.stderr);
  assert.deepEqual(lines, ['step 30'], 'no rollback, no further step');
  const step = summary.comparison!.canary!.steps?.[0];
  assert.match(
    step?.action ?? '',
    /interrupted: the router holds at 30% \(canary\.onInterrupt: hold\)/,
    JSON.stringify(step),
  );
});

test('a failed step whose rollback is slow: no later step is judged (or acted on) while it runs', async () => {
  // Regression: the stop took effect only once the rollback action returned; meanwhile the next
  // step's windows came in and it was judged live — a second step in the result (seen under load
  // with haproxy's admin socket; here a rollback that takes 4 s).
  const dir = tmp();
  const log = path.join(dir, 'actions.log');
  const file = path.join(dir, 'canary.yaml');
  fs.writeFileSync(
    file,
    `
target: { url: ${server.url}, ready: /v2/health/ready }
scenarios:
  live:
    executor: constant-arrival-rate
    rate: 200/s
    duration: 8s
    protocol: kserve-v2
    model: digits
    data:
      file: ${path.join(examples, 'data', 'digits-test.csv')}
      inputs: [ { name: input, columns: p0..p63, datatype: FP32 } ]
      label: label
      batch: 1
    quality: { task: classification, prediction: argmax }
comparison:
  kind: canary
  variants: [ { name: stable, version: v1 }, { name: canary, version: v2 } ]
  canary:
    metrics:
      - { metric: accuracy, direction: decrease, group: quality, critical: true }
    steps: [ { share: 50%, duration: 2s }, { share: 50%, duration: 2s }, { share: 50%, duration: 4s } ]
    actions: { step: ${recorder(log, 'step')}, rollback: ${recorder(log, 'rollback', 4000)} }
options: { maxDispatchLag: 1s, interval: 500ms }
`,
  );
  const out = path.join(dir, 'out');
  const r = await preflight(['run', file, '-o', out, '--no-report'], { timeoutMs: 40_000 });
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  const c = summary.comparison!;
  assert.equal(c.verdict, 'fail', c.reasons.join(' | '));
  assert.equal(r.code, 3);
  assert.equal(c.canary!.steps!.length, 1, JSON.stringify(c.canary!.steps));
  assert.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), ['step 50', 'rollback 50']);
});

test('an abortOnFail threshold that fails mid-rollout rolls back (whatever onInterrupt says); exit 3', async () => {
  // Regression: the run stopped at once but left the router at the step's share — the canary kept
  // its traffic after the release gate had failed.
  const dir = tmp();
  const log = path.join(dir, 'actions.log');
  const file = path.join(dir, 'canary.yaml');
  const thresholds = `thresholds:\n  - { threshold: p50 < 1us, abortOnFail: true }\n`;
  fs.writeFileSync(file, plan(log, 'hold') + thresholds);
  const out = path.join(dir, 'out');
  const r = await preflight(['run', file, '-o', out, '--no-report'], { timeoutMs: 40_000 });
  assert.equal(r.code, 3, r.stderr);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  assert.equal(summary.status, 'aborted');
  assert.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), ['step 30', 'rollback 30']);
  const step = summary.comparison!.canary!.steps?.[0];
  assert.match(
    step?.action ?? '',
    /aborted \(abortOnFail: p50 < 1us\): rollback: Command node exited 0/,
    JSON.stringify(step),
  );
});
