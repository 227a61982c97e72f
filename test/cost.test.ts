/**
 * Capacity and cost end to end (docs/cost.md): `preflight run` against the reference server with a
 * `cost:` section → summary.cost from the measured throughput, in every report, and a budget
 * threshold that fails → exit 3; bad price files → located errors from `preflight validate`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Summary } from '../src/core/results.js';
import { parsePlan } from '../src/plan/index.js';
import { fakeOpenai } from '../src/protocols/testing/fake-servers.js';
import { run } from '../src/run/index.js';
import { startServer, type ServerHandle } from '../src/server/index.js';
import { preflight, root } from './helpers/cli.js';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-cost-'));
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

const PRICES = `currency: EUR
instances:
  box.small: { onDemand: 0.40, spot: 0.12, gpus: 0 }
  gpu.one: { onDemand: 1.20, gpus: 1, gpu: L4 }
`;

function plan(cost: string, thresholds: string): string {
  return `target: { url: ${server.url} }
options: { maxDispatchLag: 1s }
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 40/s
    duration: 2s
    protocol: kserve-v2
    model: digits
    synthetic: { distribution: uniform, low: 0, high: 16 }
cost:
${cost}
thresholds: [ ${thresholds} ]
`;
}

test('a run with a cost section: summary.cost from the measured throughput, in every report; a broken budget exits 3', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'prices.yaml'), PRICES);
  fs.writeFileSync(
    path.join(dir, 'plan.yaml'),
    plan(
      '  prices: prices.yaml\n  instance: box.small\n  peak: 1000/s\n  headroom: 25%\n  minReplicas: 3',
      'p99 < 2s, cost.per_1k < 1, cost.monthly <= 1',
    ),
  );
  const out = path.join(dir, 'out');
  const r = await preflight(['run', path.join(dir, 'plan.yaml'), '-o', out], { timeoutMs: 60_000 });
  assert.equal(r.code, 3, r.stdout + r.stderr);
  const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  const c = s.cost;
  assert.ok(c, 'summary.cost');
  // The capacity is the run's successful throughput (one tested replica).
  const cap = s.total.ok_throughput ?? s.total.throughput;
  assert.ok(cap > 20, `throughput ${cap}`);
  assert.equal(c.capacity_per_replica, cap);
  assert.match(c.capacity_source, /successful throughput/);
  // replicas = max(3, ceil(1000 × 1.25 / cap)); per 1k at full use = 0.40 / (3.6 × cap)
  assert.equal(c.replicas, Math.max(3, Math.ceil((1000 * 1.25) / cap)));
  assert.ok(Math.abs(c.on_demand.per_1k_full_use - 0.4 / (3.6 * cap)) < 1e-12);
  assert.ok(Math.abs(c.on_demand.monthly_full - c.replicas * 0.4 * 730) < 1e-9);
  assert.ok(Math.abs((c.spot?.monthly_full ?? 0) - c.replicas * 0.12 * 730) < 1e-9);
  assert.equal(c.currency, 'EUR');
  // The thresholds: the per-1k budget holds, the monthly budget of 1 EUR does not → exit 3.
  const byExpr = new Map(s.thresholds.map((t) => [t.expression, t]));
  assert.equal(byExpr.get('cost.per_1k < 1')?.ok, true);
  assert.equal(byExpr.get('cost.monthly <= 1')?.ok, false);
  assert.equal(byExpr.get('cost.monthly <= 1')?.value, c.headline.monthly);
  assert.equal(s.verdict, 'failed');
  // Terminal, summary.md, report.html.
  assert.match(r.stdout, /cost \(EUR\)/);
  assert.match(r.stdout, /per 1k inferences, full use/);
  assert.match(fs.readFileSync(path.join(out, 'summary.md'), 'utf8'), /### Cost \(EUR\)/);
  assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /<section id="cost">/);
});

test('a fixed capacity and a daily curve: replicas per hour follow the curve; within budget exits 0', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'prices.yaml'), PRICES);
  fs.writeFileSync(
    path.join(dir, 'plan.yaml'),
    plan(
      '  prices: prices.yaml\n  instance: gpu.one\n  capacity: 100/s\n  headroom: 0%\n  curve: { 0: 100/s, 12: 400/s }',
      'p99 < 2s, cost.monthly <= 5000, cost.replicas <= 4',
    ),
  );
  const out = path.join(dir, 'out');
  const r = await preflight(['run', path.join(dir, 'plan.yaml'), '-o', out], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const c = (JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary).cost;
  assert.ok(c?.curve);
  // Points 0 → 100/s and 12 → 400/s, joined linearly both ways round: hour 6 = 250/s, hour 18 = 250/s.
  assert.equal(c.curve.rates_per_s[6], 250);
  assert.equal(c.curve.rates_per_s[18], 250);
  assert.equal(c.peak_per_s, 400);
  assert.equal(c.replicas, 4);
  assert.equal(c.capacity_source, 'the plan (cost.capacity)');
  // Replica-hours: Σ ceil(rate_h / 100) over the day; monthly = that × 1.20 × 730 / 24.
  const rh = c.curve.rates_per_s.reduce((a, x) => a + Math.ceil(x / 100 - 1e-9), 0);
  assert.equal(c.curve.replica_hours_per_day, rh);
  assert.ok(Math.abs((c.on_demand.monthly_curve ?? 0) - (rh * 1.2 * 730) / 24) < 1e-9);
  assert.equal(c.headline.monthly, c.on_demand.monthly_curve);
  assert.equal(c.spot, null);
});

test('bad price files and cost sections: located errors, with hints', async () => {
  const dir = tmp();
  fs.writeFileSync(
    path.join(dir, 'prices.yaml'),
    'currency: EUR\ninstances:\n  box.small: { onDemand: -0.40 }\n  gpu.one: { spot: 0.5 }\n',
  );
  fs.writeFileSync(
    path.join(dir, 'plan.yaml'),
    plan('  prices: prices.yaml\n  instance: box.smal\n  curve: [10/s, 20/s, 30/s]', 'p99 < 2s, cost.per_1kk < 1'),
  );
  const r = await preflight(['validate', path.join(dir, 'plan.yaml')], { timeoutMs: 30_000 });
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const text = r.stdout + r.stderr;
  // The price file's own problems point into it.
  assert.match(text, /prices\.yaml:3:\d+: .*-0\.4.*\(instances\.box\.small\.onDemand\)/);
  assert.match(text, /prices\.yaml:4:\d+: .*missing `onDemand`/);
  // The plan's problems point into the plan.
  assert.match(
    text,
    /plan\.yaml:\d+:\d+: unknown instance type `box\.smal`[^\n]*\n\s+hint: did you mean `box\.small`\?/,
  );
  assert.match(text, /plan\.yaml:\d+:\d+: a daily curve has 24 hourly rates \(hours 0 to 23\), got 3/);
  assert.match(text, /unknown cost figure `cost\.per_1kk`[^\n]*\n\s+hint: did you mean `cost\.per_1k`\?/);

  // A missing price file: located at the plan's `prices` key.
  fs.writeFileSync(
    path.join(dir, 'plan2.yaml'),
    plan('  prices: nowhere.yaml\n  instance: x\n  peak: 10/s', 'p99 < 2s'),
  );
  const r2 = await preflight(['validate', path.join(dir, 'plan2.yaml')], { timeoutMs: 30_000 });
  assert.equal(r2.code, 2);
  assert.match(r2.stdout + r2.stderr, /plan2\.yaml:\d+:\d+: price file `nowhere\.yaml` not found \(cost\.prices\)/);

  // No peak and no curve; cost thresholds without a cost section.
  fs.writeFileSync(path.join(dir, 'prices-ok.yaml'), PRICES);
  fs.writeFileSync(path.join(dir, 'plan3.yaml'), plan('  prices: prices-ok.yaml\n  instance: gpu.one', 'p99 < 2s'));
  const r3 = await preflight(['validate', path.join(dir, 'plan3.yaml')], { timeoutMs: 30_000 });
  assert.equal(r3.code, 2);
  assert.match(r3.stdout + r3.stderr, /cost needs the expected `peak` traffic/);
});

test('preflight cost on two results folders: side by side, per correct inference from the measured accuracy', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'prices.yaml'), PRICES);
  const data = path.join(root, 'examples', 'data', 'digits-test.csv');
  const runOne = async (name: string, rate: number) => {
    fs.writeFileSync(
      path.join(dir, `${name}.yaml`),
      `target: { url: ${server.url} }
options: { maxDispatchLag: 1s }
scenarios:
  s:
    executor: constant-arrival-rate
    rate: ${rate}/s
    duration: 2s
    protocol: kserve-v2
    model: digits
    data: { file: ${JSON.stringify(data)}, inputs: [ { name: input, columns: p0..p63, datatype: FP32 } ], label: label }
    quality: { task: classification, prediction: argmax }
`,
    );
    const out = path.join(dir, name);
    const r = await preflight(['run', path.join(dir, `${name}.yaml`), '-o', out, '--no-report', '-q'], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return out;
  };
  const v1 = await runOne('v1', 20);
  const v2 = await runOne('v2', 40);
  const r = await preflight(
    ['cost', v1, v2, '--prices', path.join(dir, 'prices.yaml'), '--instance', 'box.small', '--peak', '400/s', '--json'],
    { timeoutMs: 30_000 },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const j = JSON.parse(r.stdout) as Record<
    string,
    {
      cost: {
        accuracy: number;
        capacity_per_replica: number;
        headline: { per_1k: number };
        on_demand: { per_1k_correct_actual: number };
      };
    }
  > & {
    comparison: { per_1k_correct: { a: number; b: number; ratio: number }; cheaper: string; text: string };
  };
  const a = j[v1].cost;
  const b = j[v2].cost;
  // The capacity is each run's successful throughput; the accuracy its measured one.
  for (const [c, folder] of [
    [a, v1],
    [b, v2],
  ] as const) {
    const s = JSON.parse(fs.readFileSync(path.join(folder, 'summary.json'), 'utf8')) as Summary;
    assert.equal(c.capacity_per_replica, s.total.ok_throughput ?? s.total.throughput);
    assert.equal(c.accuracy, s.total['accuracy']);
    assert.ok(c.accuracy > 0.8, `accuracy ${c.accuracy}`);
    // per 1k correct = per 1k / accuracy
    assert.ok(Math.abs(c.on_demand.per_1k_correct_actual - c.headline.per_1k / c.accuracy) < 1e-12);
  }
  assert.ok(
    Math.abs(
      j.comparison.per_1k_correct.ratio - b.on_demand.per_1k_correct_actual / a.on_demand.per_1k_correct_actual,
    ) < 1e-12,
  );
  assert.equal(j.comparison.cheaper, j.comparison.per_1k_correct.ratio < 1 ? 'b' : 'a');
  assert.match(j.comparison.text, /cheaper per correct inference/);
  // Without --json: the tables and the side-by-side lines.
  const t = await preflight(
    ['cost', v1, v2, '--prices', path.join(dir, 'prices.yaml'), '--instance', 'box.small', '--peak', '400/s'],
    {
      timeoutMs: 30_000,
    },
  );
  assert.equal(t.code, 0);
  assert.match(t.stdout, /side by side/);
  assert.match(t.stdout, /per 1k correct inferences/);
  // Bad arguments: exit 2 with a hint.
  const bad = await preflight([
    'cost',
    v1,
    '--prices',
    path.join(dir, 'prices.yaml'),
    '--instance',
    'box.smal',
    '--peak',
    '1/s',
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /did you mean `box\.small`\?/);
});

test('text generation: the capacity is the goodput, and the cost per 1M output tokens uses the measured tokens per request', async () => {
  const srv = await fakeOpenai({ firstMs: 20, gapMs: 5, chunks: 4, usageTokens: 8 });
  try {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'prices.yaml'), PRICES);
    fs.writeFileSync(path.join(dir, 'prompts.jsonl'), `${JSON.stringify({ prompt: 'p' })}\n`);
    const plan = parsePlan(
      `target: { url: "${srv.url}", ready: false }
options: { maxDispatchLag: 1s }
scenarios:
  chat:
    executor: constant-arrival-rate
    protocol: openai
    model: tiny
    rate: 10/s
    duration: 2s
    openai: { endpoint: completions, stream: true, slo: { e2e: 5s } }
    data: { file: prompts.jsonl }
cost: { prices: prices.yaml, instance: gpu.one, peak: 50/s, headroom: 0% }
`,
      { baseDir: dir },
    );
    const { summary } = await run(plan, { outDir: path.join(dir, 'out') });
    const c = summary.cost;
    assert.ok(c);
    assert.equal(c.capacity_per_replica, summary.total['goodput']);
    assert.match(c.capacity_source, /goodput/);
    const t = summary.total;
    // tokens per inference = tokens_out / ok; per 1M tokens = per 1k × 1000 / tokens per inference
    const tokens = (t.counters['tokens_out'] ?? 0) / t.ok;
    assert.ok(tokens > 0, 'tokens measured');
    assert.equal(c.tokens_per_inference, tokens);
    assert.ok(
      Math.abs((c.on_demand.per_1m_tokens_full_use ?? 0) - (c.on_demand.per_1k_full_use * 1000) / tokens) < 1e-12,
    );
    assert.ok(Math.abs((c.on_demand.per_1m_tokens_actual ?? 0) - (c.on_demand.per_1k_actual * 1000) / tokens) < 1e-12);
  } finally {
    await srv.close();
  }
});
