/**
 * Release comparisons end to end against the reference model server (in-process, loopback, port 0):
 * the plan's `comparison:` splits (A/B), pairs or mirrors (shadow) one scenario to its variants —
 * digits v1 and v2 on one server, or a second server — and each variant's measurements, the paired
 * correctness and the shadow counts reach summary.comparison. The judges are checked by their own
 * tests; here the structure and the per-variant measurements, which are the judges' input.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { run } from '../src/run/index.js';
import { closedPort, httpServer } from './helpers/servers.js';
import { preflight, root } from './helpers/cli.js';
import { startServer, type ServerHandle } from '../src/server/index.js';

const examples = path.join(root, 'examples');
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-release-'));
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

/** A kserve-v2 digits scenario (held-out rows, batch 1, scored) with a comparison section. */
function planText(
  url: string,
  comparison: string,
  opts: { rate?: number; duration?: string; thresholds?: string[] } = {},
): string {
  return `
target: { url: ${url}, ready: /v2/health/ready }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: ${opts.rate ?? 150}/s
    duration: ${opts.duration ?? '2s'}
    protocol: kserve-v2
    model: digits
    data:
      file: data/digits-test.csv
      inputs: [ { name: input, columns: p0..p63, datatype: FP32 } ]
      label: label
      batch: 1
    quality: { task: classification, prediction: argmax }
comparison:
${comparison}
options: { maxDispatchLag: 1s }
${opts.thresholds ? `thresholds:\n${opts.thresholds.map((t) => `  - ${t}`).join('\n')}` : ''}
`;
}

const load = (text: string) => parsePlan(text, { baseDir: examples });

test('A/B v1 against v2, paired: both arms measured in their groups, the same rows, v2 less accurate; summary.comparison and its thresholds', async () => {
  const plan = load(
    planText(
      server.url,
      `  kind: ab
  variants: [ { name: v1, version: v1 }, { name: v2, version: v2 } ]
  ab: { paired: true }`,
      {
        rate: 200,
        thresholds: ['comparison.verdict != fail', 'ab.accuracy.diff > -50pp', 'steady/v2.accuracy < 0.97'],
      },
    ),
  );
  const outDir = tmp();
  const { summary } = await run(plan, { outDir });
  const g = summary.scenarios['steady'].groups!;
  const v1 = g['v1'];
  const v2 = g['v2'];
  assert.ok(v1.requests > 100 && v2.requests > 100, `both arms sent: ${v1.requests}, ${v2.requests}`);
  assert.ok(Math.abs(v1.requests - v2.requests) <= 2, 'an even split, slot by slot');
  assert.equal(v1.requests + v2.requests, summary.scenarios['steady'].requests, 'every request is in one variant');
  const acc = (s: typeof v1) => s.counters['quality.correct'] / s.counters['quality.scored'];
  assert.ok(acc(v1) > acc(v2), `v1 ${acc(v1)} more accurate than v2 ${acc(v2)}`);
  const c = summary.comparison!;
  assert.equal(c.kind, 'ab');
  assert.equal(c.control, 'v1');
  assert.equal(c.candidate, 'v2');
  assert.ok(c.ab, 'the A/B section');
  assert.equal(c.ab.paired, true);
  // A real difference (v2 ≈ 6 pp less accurate on the same rows): the judge says so.
  assert.equal(c.verdict, 'fail', c.reasons.join(' | '));
  const accuracy = c.ab.tests.find((t) => t.metric === 'accuracy')!;
  assert.equal(accuracy.outcome, 'worse', JSON.stringify(accuracy));
  assert.ok(accuracy.estimate < 0 && accuracy.ci[1] < 0);
  // Paired: each slot's row went to both arms; the joined rows are (nearly) every slot.
  const p = c.paired!;
  const joined = p.bothCorrect + p.controlOnly + p.candidateOnly + p.neither;
  assert.ok(joined >= Math.min(v1.requests, v2.requests) - 2, `joined ${joined} rows`);
  assert.ok(
    p.controlOnly > p.candidateOnly,
    `v1 alone right (${p.controlOnly}) more often than v2 alone (${p.candidateOnly})`,
  );
  // Each window's joined rows are in intervals.ndjson (the scenario's own line), and add up to the total.
  const lines = fs
    .readFileSync(path.join(outDir, 'intervals.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { group?: string; comparison?: { paired?: typeof p } });
  const perWindow = lines.filter((l) => l.group === undefined && l.comparison?.paired);
  assert.ok(perWindow.length >= 2);
  assert.equal(
    perWindow.reduce((a, l) => a + l.comparison!.paired!.controlOnly, 0),
    p.controlOnly,
  );
  assert.equal(summary.thresholds.length, 3);
  assert.ok(
    summary.thresholds.every((t) => t.value !== null || /no test of accuracy/.test(t.note ?? '')),
    JSON.stringify(summary.thresholds),
  );
  assert.equal(summary.thresholds[2].ok, true, 'a threshold on a variant group');
});

test('A/B v1 against v1, paired: the same model answers the same rows alike — not fail', async () => {
  // The judge's tests are real: on identical versions each comes out "worse" at about its alpha
  // (the latency ones are the only ones that can: the accuracy arms agree row for row). alpha 0.001
  // keeps this test's flake rate near 0.1% rather than 5%.
  const plan = load(
    planText(
      server.url,
      `  kind: ab
  variants: [ { name: a, version: v1 }, { name: b, version: v1 } ]
  ab: { paired: true, alpha: 0.001 }`,
    ),
  );
  const { summary } = await run(plan, { outDir: tmp() });
  const c = summary.comparison!;
  assert.notEqual(c.verdict, 'fail', c.reasons.join(' | '));
  assert.equal(c.paired!.controlOnly, 0, 'a deterministic model cannot be right on a row in one arm only');
  assert.equal(c.paired!.candidateOnly, 0);
  assert.ok(c.paired!.bothCorrect > 100);
});

test('shadow v1 / v1 / v2: every arrival goes to all three; every one compared', async () => {
  const plan = load(
    planText(
      server.url,
      `  kind: shadow
  variants: [ { name: primary, version: v1 }, { name: secondary, version: v1 }, { name: candidate, version: v2 } ]
  shadow: { ignore: [ $.id ] }`,
      { rate: 60 },
    ),
  );
  const { summary } = await run(plan, { outDir: tmp() });
  const g = summary.scenarios['steady'].groups!;
  const n = g['primary'].requests;
  assert.ok(n > 50);
  assert.equal(g['secondary'].requests, n, 'the same arrivals to each variant');
  assert.equal(g['candidate'].requests, n);
  assert.equal(summary.scenarios['steady'].requests, 3 * n);
  const c = summary.comparison!;
  assert.equal(c.kind, 'shadow');
  assert.equal(c.control, 'primary');
  assert.equal(c.shadow!.compared, n, 'requests compared = sent');
  assert.ok(g['candidate'].counters['quality.correct'] < g['primary'].counters['quality.correct']);
  // v2's probabilities differ from v1's on most rows, the secondary (v1 again) never: reported, a fail.
  assert.equal(c.verdict, 'fail', c.reasons.join(' | '));
  const reported = c.shadow!.fields.filter((f) => f.reported);
  assert.ok(reported.length > 0, JSON.stringify(c.shadow!.fields.slice(0, 5)));
  for (const f of reported) assert.ok(f.noiseRate === 0 && f.rawRate > 0.5, JSON.stringify(f));
  assert.ok(
    reported.some((f) => f.path.startsWith('$.outputs')),
    reported.map((f) => f.path).join(' '),
  );
  assert.match(
    c.reasons.join(' '),
    /\$\.outputs.* differs in \d+(\.\d)?% of requests against 0\.0% between primary and secondary/,
  );
});

test('canary v1 against v2 (no steps): v2 less accurate, accuracy is critical — fail', async () => {
  const plan = load(
    planText(
      server.url,
      `  kind: canary
  variants: [ { name: stable, version: v1 }, { name: canary, version: v2 } ]`,
      { rate: 150, duration: '3s' },
    ),
  );
  const { summary } = await run(plan, { outDir: tmp() });
  const c = summary.comparison!;
  assert.equal(c.kind, 'canary');
  assert.equal(c.verdict, 'fail', c.reasons.join(' | '));
  const accuracy = c.canary!.metrics.find((m) => m.name === 'accuracy')!;
  assert.equal(accuracy.classification, 'Low', accuracy.reason);
  assert.match(accuracy.reason ?? '', /^critical: accuracy lower: 9\d(\.\d+)?% → \d+(\.\d+)?% \(−/);
});

test('a variant that fails mid-run (its server stopped) is counted as errors and judged; no crash', async () => {
  const second = await startServer({ port: 0 });
  let closed = false;
  try {
    const plan = load(
      planText(
        server.url,
        `  kind: ab
  variants: [ { name: v1, version: v1 }, { name: v2, version: v2, url: ${second.url} } ]`,
        { rate: 100, duration: '3s' },
      ),
    );
    const stop = setTimeout(() => {
      closed = true;
      void second.close();
    }, 1200);
    const { summary } = await run(plan, { outDir: tmp() });
    clearTimeout(stop);
    const g = summary.scenarios['steady'].groups!;
    assert.ok(g['v1'].error_rate === 0, 'the control was unaffected');
    assert.ok(g['v2'].ok > 20, 'the candidate served before it stopped');
    const errs = Object.values(g['v2'].errors).reduce((a, b) => a + b, 0);
    assert.ok(errs > 20, `the candidate's failures are counted: ${JSON.stringify(g['v2'].errors)}`);
    assert.ok(summary.comparison, 'and judged');
    assert.equal(summary.comparison.candidate, 'v2');
  } finally {
    if (!closed) await second.close();
  }
});

test('an unreachable variant: exit 5 before any load, naming the variant', async () => {
  const port = await closedPort();
  const dir = tmp();
  const file = path.join(dir, 'plan.yaml');
  fs.writeFileSync(
    file,
    planText(
      server.url,
      `  kind: ab
  variants: [ { name: v1, version: v1 }, { name: far, url: http://127.0.0.1:${port} } ]`,
    ).replace('file: data/digits-test.csv', `file: ${path.join(examples, 'data', 'digits-test.csv')}`),
  );
  const r = await preflight(['run', file, '-o', path.join(dir, 'out')]);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /variant far/);
  assert.match(r.stderr, /Nothing was sent/);
  assert.ok(!fs.existsSync(path.join(dir, 'out', 'summary.json')));
});

test('a variant whose model metadata disagrees with the data: located error before load, naming the variant', async () => {
  const plan = load(
    planText(
      server.url,
      `  kind: ab
  variants: [ { name: v1, version: v1 }, { name: other, model: no-such-model } ]`,
    ),
  );
  await assert.rejects(run(plan, { outDir: tmp() }), (e: Error) => {
    assert.match(e.message, /variant `other`/);
    return true;
  });
});

test('canary steps: the split follows the steps, each step judged live, actions run with {{share}}', async () => {
  const dir = tmp();
  const log = path.join(dir, 'actions.log');
  // The step action writes 300 ms late: the actions must still reach the log (the router) in order.
  const act = (what: string, delayMs = 0) =>
    `{ run: [ ${JSON.stringify(process.execPath)}, -e, "setTimeout(() => require('fs').appendFileSync(process.argv[1], process.argv[2] + ' ' + process.argv[3] + '\\\\n'), ${delayMs})", ${JSON.stringify(log)}, ${what}, "{{share}}" ] }`;
  const plan = load(
    planText(
      server.url,
      `  kind: canary
  variants: [ { name: stable, version: v1 }, { name: canary, version: v1 } ]
  canary:
    steps: [ { share: 30%, duration: 1500ms }, { share: 60%, duration: 1500ms } ]
    actions: { step: ${act('step', 300)}, promote: ${act('promote')}, rollback: ${act('rollback')} }`,
      { rate: 100, duration: '3s' },
    ),
  );
  const records: Array<{ group?: string; start_s: number; requests: number }> = [];
  const { summary } = await run(plan, { outDir: path.join(dir, 'out'), onWindow: (r) => records.push(...r) });
  const c = summary.comparison!;
  assert.equal(c.kind, 'canary');
  const steps = c.canary!.steps!;
  assert.ok(steps.length >= 1);
  assert.equal(steps[0].share, 0.3);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'step 30', 'the first step’s action, before the load');
  // The first second is all step 1: about 30% of its requests on the canary.
  const first = (g: string) =>
    records.filter((r) => r.group === g && r.start_s < 1).reduce((a, r) => a + r.requests, 0);
  const share1 = first('canary') / (first('canary') + first('stable'));
  assert.ok(Math.abs(share1 - 0.3) < 0.08, `step 1 share ${share1}`);
  if (summary.endedEarly !== undefined) {
    // a failed step, or one without data to judge, rolls back (at its share) and ends the canary
    assert.equal(steps.length, 1);
    assert.equal(lines[1], 'rollback 30');
    assert.match(summary.endedEarly, /canary step 1 (failed|had no data to judge)/);
    assert.match(steps[0].action ?? '', /rollback: Command node exited 0/);
  } else {
    assert.equal(lines[1], 'step 60', 'on pass, the next step’s action with its share');
    // then the last step's promote (pass) or rollback at its share (fail), after it
    if (lines.length > 2) assert.match(lines[2], /^(promote 100|rollback 60)$/);
    const late = (g: string) =>
      records.filter((r) => r.group === g && r.start_s >= 2).reduce((a, r) => a + r.requests, 0);
    const share2 = late('canary') / (late('canary') + late('stable'));
    assert.ok(Math.abs(share2 - 0.6) < 0.1, `step 2 share ${share2}`);
  }
});

test('a variant whose model metadata disagrees with the data (another server, 32 inputs): exit 2 before load, naming it', async () => {
  // A KServe v2 server whose digits model takes 32 values per row, not the data's 64.
  const paths: string[] = [];
  const other = await httpServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    if (req.url?.endsWith('/ready')) return res.end('{"ready": true}');
    if (req.url === '/v2/models/digits')
      return res.end(
        JSON.stringify({
          name: 'digits',
          inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 32] }],
          outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }],
        }),
      );
    res.statusCode = 404;
    res.end('{}');
  });
  try {
    const dir = tmp();
    const file = path.join(dir, 'plan.yaml');
    fs.writeFileSync(
      file,
      planText(
        server.url,
        `  kind: ab
  variants: [ { name: v1, version: v1 }, { name: small, url: ${other.url} } ]`,
      ).replace('file: data/digits-test.csv', `file: ${path.join(examples, 'data', 'digits-test.csv')}`),
    );
    const r = await preflight(['run', file, '-o', path.join(dir, 'out')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /variant `small`/);
    assert.match(r.stderr, /32/);
    assert.ok(!fs.existsSync(path.join(dir, 'out', 'summary.json')));
    assert.ok(paths.length > 0 && !paths.some((p) => p.includes('/infer')), `nothing was sent: ${paths.join(' ')}`);
  } finally {
    await other.close();
  }
});

test('canary steps: a step action that fails rolls back and ends the rollout — no later promote', async () => {
  const dir = tmp();
  const log = path.join(dir, 'actions.log');
  const act = (what: string, exit = 0) =>
    `{ run: [ ${JSON.stringify(process.execPath)}, -e, "require('fs').appendFileSync(process.argv[1], process.argv[2] + ' ' + process.argv[3] + '\\\\n'); process.exit(${exit})", ${JSON.stringify(log)}, ${what}, "{{share}}" ] }`;
  const plan = load(
    planText(
      server.url,
      `  kind: canary
  variants: [ { name: stable, version: v1 }, { name: canary, version: v1 } ]
  canary:
    steps: [ { share: 30%, duration: 1500ms }, { share: 60%, duration: 1500ms } ]
    actions: { step: ${act('step', 1)}, promote: ${act('promote')}, rollback: ${act('rollback')} }`,
      { rate: 100, duration: '3s' },
    ),
  );
  const { summary } = await run(plan, { outDir: path.join(dir, 'out') });
  const c = summary.comparison!;
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(c.verdict, 'fail', c.reasons.join(' | '));
  // After step 1 (the before-load 'step 30'): its own failed step action, or — judged a fail at
  // about its alpha (v1 against v1) — a rollback; either way one rollback at 30% and nothing after.
  assert.deepEqual(
    lines.slice(1).filter((l) => l !== 'step 60'),
    ['rollback 30'],
    lines.join(', '),
  );
  assert.ok(!lines.includes('promote 100'), lines.join(', '));
});
