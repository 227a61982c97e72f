/**
 * Sequential A/B in a live run (`comparison.ab.sequential: true`) against the reference model server
 * (in-process, loopback, port 0): after each merged window the run looks at both arms' cumulative
 * data (mSPRT, one always-valid state for the run) and stops the load early on harm or on a
 * settled answer; the verdict then comes from the always-valid figures.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Summary } from '../src/core/results.js';
import { parsePlan } from '../src/plan/index.js';
import { run } from '../src/run/index.js';
import { preflight, root } from './helpers/cli.js';
import { startServer, type ServerHandle } from '../src/server/index.js';

const examples = path.join(root, 'examples');
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-seq-'));
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

function planText(url: string, variants: string, ab: string, duration: string): string {
  return `
target: { url: ${url}, ready: /v2/health/ready }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 200/s
    duration: ${duration}
    protocol: kserve-v2
    model: digits
    data:
      file: ${path.join(examples, 'data', 'digits-test.csv')}
      inputs: [ { name: input, columns: p0..p63, datatype: FP32 } ]
      label: label
      batch: 1
    quality: { task: classification, prediction: argmax }
comparison:
  kind: ab
  variants: ${variants}
  ab: ${ab}
options: { maxDispatchLag: 1s, interval: 500ms }
thresholds:
  - comparison.verdict != fail
`;
}

test('sequential A/B, v1 against v2 (98.5% vs 92%), 60 s planned: stopped early on harm, verdict fail from the always-valid tests', async () => {
  const dir = tmp();
  const file = path.join(dir, 'plan.yaml');
  fs.writeFileSync(
    file,
    planText(
      server.url,
      '[ { name: v1, version: v1 }, { name: v2, version: v2 } ]',
      '{ paired: true, sequential: true }',
      '60s',
    ),
  );
  const out = path.join(dir, 'out');
  const started = Date.now();
  const r = await preflight(['run', file, '-o', out], { timeoutMs: 90_000 });
  const wallS = (Date.now() - started) / 1000;
  assert.equal(r.code, 3, r.stderr + r.stdout);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  const c = summary.comparison!;
  const q = c.ab!.sequential!;
  assert.equal(c.verdict, 'fail', c.reasons.join(' | '));
  assert.equal(q.stoppedEarly, true, JSON.stringify(q));
  assert.match(q.reason ?? '', /accuracy worse/);
  assert.equal(q.judgedBy, 'always-valid');
  assert.ok(q.looks !== undefined && q.looks >= 2, `looks ${q.looks}`);
  assert.ok(q.stoppedAt && q.stoppedAt.seconds < 30, `stopped at ${JSON.stringify(q.stoppedAt)} (planned 60 s)`);
  assert.ok(summary.durationS < 40 && wallS < 55, `load ${summary.durationS} s, wall ${wallS} s`);
  assert.equal(summary.status, 'completed');
  assert.match(summary.endedEarly ?? '', /accuracy worse.*stopped after \d+ requests/);
  // The verdict's tests are the always-valid ones, not a fixed-sample test after optional stopping.
  const acc = c.ab!.tests.find((t) => t.metric === 'accuracy')!;
  assert.equal(acc.method, 'msprt-normal-mixture');
  assert.equal(acc.outcome, 'worse');
  assert.ok(acc.ci[1] < 0, JSON.stringify(acc));
  assert.equal(c.ab!.correction, 'bonferroni');
  // Terminal and summary.md say it.
  assert.match(r.stdout + r.stderr, /stopped early/);
  const md = fs.readFileSync(path.join(out, 'summary.md'), 'utf8');
  assert.match(md, /sequential \(msprt-normal-mixture, \d+ looks\): stopped early at [\d,]+ requests/);
  console.log(
    `# v2 caught after ${q.stoppedAt!.requests} requests, ${q.stoppedAt!.seconds} s (${q.looks} looks; load ${summary.durationS.toFixed(1)} s of 60 s)`,
  );
});

test('sequential A/B, v1 against v1: never stopped on harm; not fail', async () => {
  const plan = parsePlan(
    planText(
      server.url,
      '[ { name: a, version: v1 }, { name: b, version: v1 } ]',
      '{ paired: true, sequential: true, alpha: 0.01 }',
      '10s',
    ),
    { baseDir: examples },
  );
  const { summary } = await run(plan, { outDir: tmp() });
  const c = summary.comparison!;
  const q = c.ab!.sequential!;
  assert.notEqual(c.verdict, 'fail', c.reasons.join(' | '));
  assert.doesNotMatch(q.reason ?? '', /worse/);
  assert.ok(
    c.ab!.tests.every((t) => t.outcome !== 'worse'),
    JSON.stringify(c.ab!.tests),
  );
  if (q.stoppedEarly) {
    assert.equal(c.verdict, 'pass', 'a settled stop: every always-valid interval within its minimum effect');
    assert.match(summary.endedEarly ?? '', /within its minimum effect/);
  }
  console.log(
    `# v1 vs v1: ${q.stoppedEarly ? `settled after ${q.stoppedAt!.requests} requests, ${q.stoppedAt!.seconds} s` : 'ran to the end'}; verdict ${c.verdict}`,
  );
});
