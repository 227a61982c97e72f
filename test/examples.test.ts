/**
 * The example plans of examples/ end to end against the built-in reference model server, started
 * in-process: each plan is loaded from its file as a user would run it, pointed at the server and
 * shortened in code (≤ 2 s of load, ≤ 100 requests/s), run, and its answer checked — the protocol's
 * own figures are there and plausible (accuracy, TTFT/TPOT, goodput, golden agreement and worst
 * rows). Every example must also pass `preflight validate`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlan } from '../src/plan/index.js';
import type { Plan } from '../src/plan/types.js';
import { run, runCheckPlan } from '../src/run/index.js';
import { parsePlan } from '../src/plan/index.js';
import type { ScenarioSummary, Summary } from '../src/core/results.js';
import type { AdapterReport, GoldenSection } from '../src/protocols/index.js';
import { startServer, type ServerHandle } from '../src/server/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const examplesDir = path.join(root, 'examples');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-examples-'));
  dirs.push(d);
  return d;
};

/** The example plans this file runs (the demo plans have their own tests). */
const EXAMPLES = [
  'kserve-accuracy',
  'tfserving',
  'torchserve',
  'openai-streaming',
  'traffic-mix',
  'golden-save',
  'golden-compare',
  'http-basic',
  'ab-digits',
  'canary-digits',
  'shadow-digits',
];

let server: ServerHandle;
before(async () => {
  server = await startServer({ port: 0 });
});
after(async () => {
  await server?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const LOAD_BUDGET_MS = 2000;
const MAX_RATE = 100;

/** When the plan's last scenario is planned to end (ms), count-bounded scenarios aside. */
function plannedEnd(plan: Plan): number {
  let end = 0;
  for (const s of plan.scenarios) {
    if (s.durationMs !== undefined) end = Math.max(end, s.startTimeMs + s.durationMs);
  }
  return end;
}

/**
 * The plan pointed at the test server, with its timeline scaled down to LOAD_BUDGET_MS (start
 * times, durations and stages alike, so phases keep their order and proportions) and arrival
 * rates capped at MAX_RATE. Generator-overload limits are relaxed: the server shares this process.
 */
function shorten(plan: Plan, url: string): Plan {
  const end = plannedEnd(plan);
  const f = end > LOAD_BUDGET_MS ? LOAD_BUDGET_MS / end : 1;
  const ms = (x: number) => Math.max(1, Math.round(x * f));
  const arrival = (s: Plan['scenarios'][number]) => s.executor.endsWith('arrival-rate');
  return {
    ...plan,
    target: { ...plan.target, url },
    options: { ...plan.options, maxDispatchLagMs: 1000 },
    scenarios: plan.scenarios.map((s) => {
      const out = {
        ...s,
        startTimeMs: Math.round(s.startTimeMs * f),
        gracefulStopMs: Math.min(s.gracefulStopMs, 2000),
      };
      if (out.durationMs !== undefined) out.durationMs = ms(out.durationMs);
      if ('rate' in out) out.rate = Math.min(out.rate, MAX_RATE);
      if ('startRate' in out) out.startRate = Math.min(out.startRate, MAX_RATE);
      if ('stages' in out) {
        out.stages = out.stages.map((st) => ({
          durationMs: ms(st.durationMs),
          target: arrival(s) ? Math.min(st.target, MAX_RATE) : st.target,
        }));
        out.durationMs = out.stages.reduce((a, st) => a + st.durationMs, 0);
      }
      return out;
    }),
  };
}

async function example(
  name: string,
  edit?: (p: Plan) => void,
): Promise<{ summary: Summary; plan: Plan; exitCode: number }> {
  const plan = shorten(await loadPlan(path.join(examplesDir, `${name}.yaml`)), server.url);
  edit?.(plan);
  const { summary, exitCode } = await run(plan, { outDir: tmp() });
  return { summary, plan, exitCode };
}

/** The run gave a real answer: requests completed, errors within tolerance, every threshold found its data. */
function assertReal(summary: Summary, maxErrorRate = 0.01): void {
  assert.notEqual(summary.status, 'interrupted');
  for (const [name, s] of Object.entries(summary.scenarios)) {
    assert.ok(s.requests > 0, `${name}: no requests`);
    assert.ok(s.error_rate <= maxErrorRate, `${name}: error rate ${s.error_rate}, errors ${JSON.stringify(s.errors)}`);
  }
  for (const t of summary.thresholds)
    assert.notEqual(t.value, null, `threshold ${t.expression} had no data: ${t.note ?? ''}`);
}

const golden = (s: ScenarioSummary) => s.golden as GoldenSection;
const adapter = (s: ScenarioSummary) => s.adapter as AdapterReport;

function validate(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'validate', file], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, out });
    });
  });
}

test('every example passes `preflight validate`; those run here say how to run them', async () => {
  // Every plan in examples/, not only those run below (profiles, faults, monitoring, alerts…): a user
  // copies them first.
  const all = fs
    .readdirSync(examplesDir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length));
  for (const n of EXAMPLES) assert.ok(all.includes(n), n);
  const results = [];
  for (let i = 0; i < all.length; i += 4) {
    const batch = all.slice(i, i + 4); // a few at a time: each is a node process
    results.push(
      ...(await Promise.all(batch.map(async (n) => ({ n, ...(await validate(path.join(examplesDir, `${n}.yaml`))) })))),
    );
  }
  assert.ok(results.length >= 25, `${results.length} examples`);
  for (const r of results) assert.equal(r.code, 0, `${r.n}: ${r.out}`);
  for (const n of EXAMPLES) {
    const text = fs.readFileSync(path.join(examplesDir, `${n}.yaml`), 'utf8');
    assert.match(text, /npx preflight serve --port 8000/, n);
    assert.ok(text.includes(`npx preflight run examples/${n}.yaml`), n);
    assert.match(text, /url: http:\/\/127\.0\.0\.1:8000/, n);
  }
});

test('checks: preflight check examples/checks.yaml passes against the reference server', async () => {
  const file = path.join(examplesDir, 'checks.yaml');
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.includes('npx preflight check examples/checks.yaml'));
  const v = await validate(file);
  assert.equal(v.code, 0, v.out);
  const plan = parsePlan(text.replaceAll('http://127.0.0.1:8000', server.url), { file, baseDir: examplesDir });
  const r = await runCheckPlan(plan, { outDir: tmp() });
  const bad = r.summary.checks!.results.filter(
    (c) => c.status !== 'pass' && c.status !== 'skipped' && c.status !== 'warn',
  );
  assert.deepEqual(bad, []);
  for (const t of r.summary.thresholds) assert.ok(t.ok, `${t.expression}: ${t.value ?? t.note}`);
  assert.equal(r.exitCode, 0);
});

test('kserve-accuracy: v1 stays accurate with batches under load; checks pass; the drop is measured', async () => {
  const { summary } = await example('kserve-accuracy');
  assertReal(summary);
  const { light, loaded } = summary.scenarios;
  assert.equal(loaded.errors.check_failed ?? 0, 0, 'model name and output shape checks');
  assert.ok((loaded.accuracy as number) >= 0.95, `loaded accuracy ${loaded.accuracy}`);
  assert.ok(typeof light.accuracy === 'number');
  // batches of 1–16 rows: more rows than requests were scored
  const q = loaded.quality as { rows: number; requests: number; scored: number };
  assert.ok(q.rows > 3 * q.requests, `rows ${q.rows} for ${q.requests} requests`);
  assert.equal(q.scored, q.rows);
  assert.equal(typeof loaded.accuracy_drop, 'number');
  assert.equal((loaded.quality as { accuracy_drop: { reference: string } }).accuracy_drop.reference, 'light');
});

test('tfserving: the row and columnar forms give the same accuracy', async () => {
  const { summary } = await example('tfserving');
  assertReal(summary);
  const { row, columnar } = summary.scenarios;
  for (const [n, s] of [
    ['row', row],
    ['columnar', columnar],
  ] as const) {
    assert.ok((s.accuracy as number) >= 0.95, `${n} accuracy ${s.accuracy}`);
    assert.equal(s.errors.check_failed ?? 0, 0, `${n}: predictions/outputs key present`);
  }
  // same shuffled rows, same model: same answers
  assert.ok(Math.abs((row.accuracy as number) - (columnar.accuracy as number)) < 0.03);
});

test('torchserve: closed-loop users, single rows and lists of rows, scored', async () => {
  const { summary } = await example('torchserve');
  assertReal(summary);
  const { single, batched } = summary.scenarios;
  assert.equal(single.model, 'closed');
  assert.ok((single.accuracy as number) >= 0.95, `single accuracy ${single.accuracy}`);
  assert.ok((batched.accuracy as number) >= 0.95, `batched accuracy ${batched.accuracy}`);
  const q = batched.quality as { rows: number; requests: number; truncated: number };
  assert.ok(q.rows >= 2 * q.requests);
  assert.equal(q.truncated, 0);
});

test('openai-streaming: TTFT, TPOT and e2e histograms, tokens and goodput against per-request SLOs', async () => {
  const { summary, plan } = await example('openai-streaming');
  assertReal(summary);
  const chat = summary.scenarios.chat;
  for (const h of ['ttft_ms', 'tpot_ms', 'itl_ms', 'e2e_ms']) assert.ok(chat.histograms[h]?.count > 0, `${h} recorded`);
  const ttft = chat.histograms.ttft_ms;
  const tpot = chat.histograms.tpot_ms;
  // the simulator: 20 ms prefill, 10 ms per token, 8 sequences at once — far from saturated at 10/s
  // (upper bounds are loose: the server shares this process and two cores with the generator)
  assert.ok(ttft.p50 >= 18 && ttft.p50 < 150, `ttft p50 ${ttft.p50}`);
  assert.ok(tpot.p50 >= 9 && tpot.p50 < 30, `tpot p50 ${tpot.p50}`);
  const gen = chat.generation as {
    goodput: number;
    good: number;
    good_ratio: number;
    tokens_out: number;
    tokens_source: { usage: number };
    finish: Record<string, number>;
  };
  assert.ok(
    gen.good > 0 && gen.good <= chat.ok && gen.good_ratio >= 0.5,
    `good ${gen.good} of ${chat.ok}, ratio ${gen.good_ratio}`,
  );
  // goodput's time base is the planned duration: the drain after it is not active time
  const activeS = Math.min(chat.durationS, plan.scenarios[0].durationMs! / 1000);
  assert.ok(
    Math.abs(gen.goodput - gen.good / activeS) < 0.01 * gen.goodput + 0.01,
    `goodput ${gen.goodput} = good / ${activeS} s`,
  );
  assert.equal(chat.goodput, gen.goodput);
  assert.equal(gen.tokens_source.usage, chat.ok, 'usage reported by every stream');
  assert.ok(gen.tokens_out >= 8 * chat.ok, `tokens ${gen.tokens_out}`);
  assert.equal(gen.finish.length, chat.ok, 'max_tokens reached (finish_reason length)');
});

test('traffic-mix: one mix over v1 and v2 of one model; per-version groups; v2 is the less accurate', async () => {
  const { summary } = await example('traffic-mix');
  assertReal(summary);
  const groups = summary.scenarios.steady.groups!;
  const v1 = groups['digits-v1'];
  const v2 = groups['digits-v2'];
  assert.equal(summary.scenarios.steady.errors.check_failed ?? 0, 0);
  assert.equal(v1.requests + v2.requests, summary.scenarios.steady.requests);
  assert.ok(v1.requests > 2 * v2.requests, `3:1 split: ${v1.requests} vs ${v2.requests}`);
  assert.ok((v1.accuracy as number) >= 0.95, `v1 accuracy ${v1.accuracy}`);
  assert.ok((v2.accuracy as number) < (v1.accuracy as number), `v2 ${v2.accuracy} < v1 ${v1.accuracy}`);
  assert.ok((v2.accuracy as number) > 0.8, `v2 accuracy ${v2.accuracy}`);
  const th = summary.thresholds.find((t) => t.expression.startsWith('steady/digits-v2.accuracy'));
  assert.ok(th && th.value !== null, 'per-version threshold evaluated');
});

test('http-basic: the README plan against the reference server', async () => {
  const { summary } = await example('http-basic');
  assertReal(summary);
  const { steady, users } = summary.scenarios;
  assert.equal(steady.protocol, 'http');
  assert.equal(steady.ok, steady.requests);
  assert.equal(steady.errors.check_failed ?? 0, 0, 'output shape [1, 10]');
  assert.equal(users.model, 'closed');
  assert.ok(users.ok > 16, `users ${users.ok}`);
});

test('golden: save from v1, compare (agreement 1), switch to v2 (agreement < 1, worst rows), also with 2 workers', async () => {
  const dir = tmp();
  const file = path.join(dir, 'golden-v1.jsonl');
  try {
    server.setVersion('v1');
    const saved = await example('golden-save', (p) => {
      p.scenarios[0].quality!.saveGolden = file;
    });
    assertReal(saved.summary);
    assert.equal(saved.summary.scenarios.record.requests, 539);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 539, 'one line per test row');
    assert.deepEqual(adapter(saved.summary.scenarios.record).golden_saved, [file]);

    const compare = (workers = 1) =>
      example('golden-compare', (p) => {
        p.scenarios[0].quality!.golden!.file = file;
        p.options.workers = workers;
      });

    // same version: every row agrees, and the largest difference is known (maxes reach the summary)
    const same = (await compare()).summary;
    assertReal(same);
    const g1 = golden(same.scenarios.canary);
    assert.ok(g1.compared > 100, `compared ${g1.compared}`);
    assert.equal(g1.agreement, 1);
    assert.equal(same.scenarios.canary.agreement, 1);
    assert.equal(g1.missing, 0);
    assert.notEqual(g1.max_diff, null, 'golden.max_diff comes from the summary maxes');
    assert.ok(g1.max_diff! <= 1e-5, `max diff ${g1.max_diff}`);
    assert.ok(same.thresholds.find((t) => t.expression.startsWith('canary.agreement'))!.ok);

    // roll out v2: the answers change, the worst rows say where and by how much
    server.setVersion('v2');
    const rolled = await compare();
    assertReal(rolled.summary);
    assert.equal(rolled.exitCode, 3, 'agreement threshold fails');
    const g2 = golden(rolled.summary.scenarios.canary);
    assert.ok(g2.agreement! < 0.9, `agreement ${g2.agreement}`);
    assertWorst(g2, adapter(rolled.summary.scenarios.canary), 1);
    // a worst row's difference is real: recompute it from v2's answer and the golden file
    const w = g2.worst![0];
    const gold = JSON.parse(lines[w.row]) as { row: number; output: number[] };
    assert.equal(gold.row, w.row);
    const out = await inferRow(w.row);
    const diff = Math.max(...out.map((x, i) => Math.abs(x - gold.output[i])));
    assert.ok(Math.abs(diff - w.max_diff) < 1e-6, `row ${w.row}: recomputed ${diff}, reported ${w.max_diff}`);

    // two worker threads: each shard reports its worst rows; the coordinator merges them
    const two = (await compare(2)).summary;
    assertReal(two);
    assertWorst(golden(two.scenarios.canary), adapter(two.scenarios.canary), 2);
  } finally {
    server.setVersion('v1');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Worst rows: five distinct rows, largest first, beyond the tolerance; the first is golden.max_diff. */
function assertWorst(g: GoldenSection, rep: AdapterReport, shards: number): void {
  assert.equal(rep.shards, shards);
  const worst = g.worst!;
  assert.ok(Array.isArray(worst), 'golden.worst present');
  assert.equal(worst.length, 5);
  assert.deepEqual(worst, rep.golden_worst);
  assert.equal(new Set(worst.map((w) => w.row)).size, 5);
  for (let i = 0; i < worst.length; i++) {
    assert.ok(Number.isInteger(worst[i].row) && worst[i].row >= 0 && worst[i].row < 539);
    assert.ok(worst[i].max_diff > g.tolerance!, `row ${worst[i].row}: ${worst[i].max_diff}`);
    if (i > 0) assert.ok(worst[i].max_diff <= worst[i - 1].max_diff, 'largest first');
  }
  // the merged maxima and the merged reports agree on the largest difference
  assert.ok(Math.abs(g.max_diff! - worst[0].max_diff) <= 1e-6, `max_diff ${g.max_diff} vs worst ${worst[0].max_diff}`);
}

/** The served version's output probabilities for one test-split row (KServe v2, batch 1). */
async function inferRow(row: number): Promise<number[]> {
  const lines = fs
    .readFileSync(path.join(examplesDir, 'data', 'digits-test.csv'), 'utf8')
    .trim()
    .split('\n');
  const header = lines[0].split(',');
  const cells = lines[row + 1].split(',').map(Number);
  const data = header
    .map((h, i) => [h, cells[i]] as const)
    .filter(([h]) => /^p\d+$/.test(h))
    .map(([, v]) => v);
  const res = await fetch(`${server.url}/v2/models/digits/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data }] }),
  });
  assert.equal(res.status, 200);
  const j = (await res.json()) as { outputs: Array<{ data: number[] }> };
  return j.outputs[0].data;
}

// Release comparisons: the judges are tested on their own; here each example's variants are measured
// under the same load (their groups) and the comparison reaches the summary.
test('ab-digits: v1 and v2 split evenly, the same rows to both, v2 less accurate; summary.comparison', async () => {
  const { summary } = await example('ab-digits');
  const g = summary.scenarios['steady'].groups!;
  assert.ok(Math.abs(g['v1'].requests - g['v2'].requests) <= 2);
  assert.ok(g['v1'].counters['quality.correct'] > g['v2'].counters['quality.correct']);
  assert.equal(summary.comparison?.kind, 'ab');
  assert.ok((summary.comparison?.paired?.controlOnly ?? 0) > 0);
  // Shortened to ≈ 100 rows per arm the accuracy drop may not reach significance after Holm; a
  // worse candidate is never a pass (the full example: fail, exit 3).
  assert.ok(['fail', 'inconclusive'].includes(summary.comparison!.verdict), summary.comparison!.reasons.join(' | '));
});

test('canary-digits: a tenth of the arrivals on the canary, judged', async () => {
  const { summary } = await example('canary-digits');
  const g = summary.scenarios['live'].groups!;
  const share = g['canary'].requests / (g['canary'].requests + g['stable'].requests);
  assert.ok(Math.abs(share - 0.1) < 0.02, `canary share ${share}`);
  assert.equal(summary.comparison?.kind, 'canary');
  assert.ok(summary.comparison?.canary);
});

test('shadow-digits: every request to primary, secondary and candidate; all compared', async () => {
  const { summary } = await example('shadow-digits');
  const g = summary.scenarios['mirrored'].groups!;
  assert.equal(g['secondary'].requests, g['primary'].requests);
  assert.equal(g['candidate'].requests, g['primary'].requests);
  assert.equal(summary.comparison?.shadow?.compared, g['primary'].requests);
  // v2's probabilities differ on most rows, v1's own noise is none: reported fields, a fail.
  assert.equal(summary.comparison?.verdict, 'fail', summary.comparison?.reasons.join(' | '));
  assert.ok(summary.comparison?.shadow?.fields.some((f) => f.reported && f.path.startsWith('$.outputs')));
});
