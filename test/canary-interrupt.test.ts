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
import { preflight, root } from './helpers/cli.js';
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

function plan(log: string, onInterrupt?: string): string {
  const act = (what: string) =>
    `{ run: [ ${JSON.stringify(process.execPath)}, -e, "require('fs').appendFileSync(process.argv[1], process.argv[2] + ' ' + process.argv[3] + '\\\\n')", ${JSON.stringify(log)}, ${what}, "{{share}}" ] }`;
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
  // SIGTERM 3 s in: step 1 (30%, 10 s) is under way.
  const r = await preflight(['run', file, '-o', out, '--no-report'], {
    signal: 'SIGTERM',
    signalAfterMs: 3000,
    timeoutMs: 40_000,
  });
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
