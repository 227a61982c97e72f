import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PlanError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import type { ShadowPlan } from '../plan/comparison.js';
import {
  diffyField,
  judgeShadow,
  MAX_EXAMPLE_CHARS,
  MAX_TRACKED_PATHS,
  mergeShadowCounts,
  ShadowAccumulator,
  type ShadowCounts,
  type ShadowExchange,
  shadowPlanProblems,
  shadowVerdict,
  STATUS_PATH,
  UNTRACKED_PATH,
} from './shadow.js';
import { compareScores, compareText, TEXT_TOKEN_LIMIT } from './shadow-ml.js';
import { mcnemar, mcnemarExactP } from './shadow-stats.js';

/** SciPy reference values (src/comparison/fixtures/shadow-reference.py; tests run from dist/src/comparison). */
const REF = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../src/comparison/fixtures/shadow-reference.json', import.meta.url)),
    'utf8',
  ),
) as {
  mcnemar: Array<{ b: number; c: number; p: number; ciLow: number; ciHigh: number }>;
  jensenShannon: Array<{ a: number[]; b: number[]; js: number; maxAbs: number; meanAbs: number }>;
};

const PLAN: ShadowPlan = {
  ignore: [],
  tolerance: { absolute: 0, relative: 0 },
  relativeThreshold: 20,
  absoluteThreshold: 0.03,
  allowSideEffects: true,
  topK: 3,
  maxExamples: 3,
};

const ok = (body: unknown, prediction?: ShadowExchange['prediction']): ShadowExchange => ({
  status: 200,
  body,
  ...(prediction ? { prediction } : {}),
});

const close = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("Diffy's rule at its boundaries: every comparison strict", () => {
  const d = (raw: number, noise: number, total: number, plan = PLAN) => diffyField('$.x', raw, noise, total, plan);
  // raw must exceed noise
  assert.equal(d(50, 50, 1000).reported, false);
  assert.equal(d(40, 60, 1000).reported, false, 'raw below noise: the candidate is quieter, not different');
  // relative = |7 − 4| / 11 = 27.3% > 20; absolute = 3 / total
  assert.equal(d(6, 4, 100).relative, 20);
  assert.equal(d(6, 4, 100).reported, false, 'relative exactly 20 is not > 20');
  assert.equal(d(7, 4, 100).reported, true);
  assert.equal(d(7, 4, 10_000).absolute, 0.03);
  assert.equal(d(7, 4, 10_000).reported, false, 'absolute exactly 0.03 is not > 0.03');
  assert.equal(d(7, 4, 9_999).reported, true);
  // a field the primary never varies on: one difference in 3,000 is already > 0.03%
  assert.equal(d(1, 0, 3_000).reported, true);
  assert.equal(d(1, 0, 3_334).reported, false);
  // thresholds are configurable
  assert.equal(d(7, 4, 100, { ...PLAN, relativeThreshold: 30 }).reported, false);
  assert.equal(d(7, 4, 100, { ...PLAN, absoluteThreshold: 3 }).reported, false);
  assert.equal(d(7, 4, 100, { ...PLAN, absoluteThreshold: 2.99 }).reported, true);
  const r = d(70, 10, 1000);
  assert.deepEqual([r.rawRate, r.noiseRate, r.relative, r.absolute], [0.07, 0.01, 75, 6]);
  assert.deepEqual([d(0, 0, 0).relative, d(0, 0, 0).absolute, d(0, 0, 0).reported], [0, 0, false]);
});

/** A KServe v2 response for input `i` with noise of its own: a random id, a timestamp, jittering floats. */
function kserve(i: number, rng: Rng, opts: { jitter: number; datatype?: string; flaky?: boolean }): unknown {
  const data = Array.from({ length: 10 }, (_, k) => (k === i % 10 ? 0.91 : 0.01) + rng.normal(0, opts.jitter));
  return {
    model_name: 'digits',
    model_version: '1',
    id: `req-${Math.floor(rng.float() * 1e12).toString(36)}`,
    created: 1_790_000_000_000 + i * 10 + rng.int(5),
    outputs: [{ name: 'probabilities', shape: [1, 10], datatype: opts.datatype ?? 'FP32', data }],
    ...(opts.flaky ? { warning: 'cache miss' } : {}),
  };
}

/**
 * The candidate differs in `$.outputs[0].datatype` for a known ~7% of inputs; ids, timestamps and the
 * probabilities are noisy in all three variants, and `$.warning` appears at random in 3% of every
 * variant's answers. Counts are taken in windows and merged after a JSON round trip, as run() does.
 */
function simulate(plan: ShadowPlan, n: number, seed: number): { counts: ShadowCounts; changed: number } {
  const rng = new Rng(seed);
  const acc = new ShadowAccumulator(plan);
  const windows: ShadowCounts[] = [];
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const differs = rng.float() < 0.07;
    if (differs) changed++;
    const p = kserve(i, rng, { jitter: 1e-6, flaky: rng.float() < 0.03 });
    const s = kserve(i, rng, { jitter: 1e-6, flaky: rng.float() < 0.03 });
    const c = kserve(i, rng, { jitter: 1e-6, flaky: rng.float() < 0.03, datatype: differs ? 'FP16' : 'FP32' });
    acc.observe(ok(p), ok(s), ok(c));
    if (i % 500 === 499) windows.push(JSON.parse(JSON.stringify(acc.take())));
  }
  windows.push(JSON.parse(JSON.stringify(acc.take())));
  return { counts: mergeShadowCounts(windows), changed };
}

test('simulation: only the field that really differs is reported, with its rate; noisy fields cancel out', () => {
  const n = 4000;
  const { counts, changed } = simulate(PLAN, n, 12);
  const result = judgeShadow(counts, PLAN);
  assert.equal(result.compared, n);
  const reported = result.fields.filter((f) => f.reported);
  assert.deepEqual(
    reported.map((f) => f.path),
    ['$.outputs[0].datatype'],
  );
  const f = reported[0];
  assert.equal(f.rawRate, changed / n, 'the rate is the share of inputs the candidate changed');
  close(f.rawRate, 0.07, 0.015, 'near the simulated 7%');
  assert.equal(f.noiseRate, 0);
  assert.deepEqual(f.examples, [
    { primary: 'FP32', candidate: 'FP16' },
    { primary: 'FP32', candidate: 'FP16' },
    { primary: 'FP32', candidate: 'FP16' },
  ]);
  // The noisy fields were seen differing, by primary vs candidate and primary vs secondary alike.
  const byPath = new Map(result.fields.map((x) => [x.path, x]));
  for (const p of ['$.id', '$.created', '$.outputs[0].data[3]', '$.warning']) {
    const x = byPath.get(p);
    assert.ok(x, `${p} listed`);
    assert.equal(x.reported, false, p);
    assert.ok(x.noiseRate > 0, p);
  }
  close(byPath.get('$.warning')!.rawRate, byPath.get('$.warning')!.noiseRate, 0.015, 'flaky field: raw ≈ noise');
  assert.equal(shadowVerdict(result, PLAN).verdict, 'fail');
  assert.match(shadowVerdict(result, PLAN).reasons[0], /^\$\.outputs\[0\]\.datatype differs in \d\.\d% of requests/);

  // Ignore list and tolerance remove the noisy paths from the list altogether.
  const quiet = { ...PLAN, ignore: ['$.id', '$.created'], tolerance: { absolute: 1e-4, relative: 0 } };
  const q = judgeShadow(simulate(quiet, n, 12).counts, quiet);
  assert.deepEqual(q.fields.map((x) => x.path).sort(), ['$.outputs[0].datatype', '$.warning']);
  assert.equal(q.fields.find((x) => x.reported)?.rawRate, changed / n);

  // The same candidate without the change: nothing reported, the verdict passes.
  const same = { ...quiet };
  const acc = new ShadowAccumulator(same);
  const rng = new Rng(99);
  for (let i = 0; i < 2000; i++)
    acc.observe(
      ok(kserve(i, rng, { jitter: 1e-6 })),
      ok(kserve(i, rng, { jitter: 1e-6 })),
      ok(kserve(i, rng, { jitter: 1e-6 })),
    );
  const r = judgeShadow(acc.take(), same);
  assert.deepEqual(r.fields, []);
  assert.equal(r.agreement, 1, 'without predictions: the share of identical responses');
  assert.deepEqual(shadowVerdict(r, same).verdict, 'pass');
});

test('windows merged equal one accumulator; counts survive JSON', () => {
  const rng = new Rng(5);
  const whole = new ShadowAccumulator(PLAN);
  const part = new ShadowAccumulator(PLAN);
  const windows: ShadowCounts[] = [];
  for (let i = 0; i < 600; i++) {
    const p = kserve(i, rng, { jitter: 0, flaky: i % 7 === 0 });
    const c = kserve(i, rng, { jitter: 0.001, flaky: i % 5 === 0 });
    const pred = { scores: [i % 3, 1, 2], label: i % 3 };
    const ex = [ok(p, pred), ok(p, pred), ok(c, { scores: [1, i % 3, 2] })] as const;
    whole.observe(...ex, i % 3);
    part.observe(...ex, i % 3);
    if (i % 100 === 99) windows.push(JSON.parse(JSON.stringify(part.take())));
  }
  const a = judgeShadow(whole.take(), PLAN);
  const b = judgeShadow(mergeShadowCounts(windows), PLAN);
  // the same up to float summation order, as JSON
  const round = (x: unknown) =>
    JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'number' ? Number(v.toPrecision(12)) : v)));
  assert.deepEqual(round(b), round(a));
  assert.ok(a.ml?.topKOverlap !== undefined && a.correctness !== undefined);
});

test('status codes and error classes are a path of their own; a failed request has no body to compare', () => {
  const acc = new ShadowAccumulator(PLAN);
  const body = { y: 1 };
  for (let i = 0; i < 100; i++) {
    const failed: ShadowExchange =
      i % 10 === 0
        ? { status: 0, body: null, errorClass: 'timeout' }
        : i % 10 === 1
          ? { status: 503, body: 'busy', errorClass: 'http_5xx' }
          : ok(body);
    acc.observe(ok(body), ok(body), failed);
  }
  const r = judgeShadow(acc.take(), PLAN);
  assert.deepEqual(
    r.fields.map((f) => [f.path, f.rawRate, f.reported]),
    [
      [STATUS_PATH, 0.2, true],
      ['$', 0.1, true],
    ],
  );
  assert.deepEqual(r.fields[0].examples?.slice(0, 2), [
    { primary: '200', candidate: '0 timeout' },
    { primary: '200', candidate: '503 http_5xx' },
  ]);
  assert.equal(r.agreement, 0.8);
});

test('a secondary that fails often does not turn noisy fields into reported ones', () => {
  const acc = new ShadowAccumulator(PLAN);
  const rng = new Rng(4);
  const failed: ShadowExchange = { status: 0, body: null, errorClass: 'connect' };
  for (let i = 0; i < 1000; i++) {
    const body = () => ({ id: rng.int(1e9), y: 1 });
    acc.observe(ok(body()), i % 5 < 2 ? failed : ok(body()), ok(body()));
  }
  const r = judgeShadow(acc.take(), PLAN);
  const id = r.fields.find((f) => f.path === '$.id');
  assert.equal(id?.reported, false);
  assert.equal(id.rawRate, id.noiseRate, 'raw and noise over the same requests');
  assert.equal(r.agreement, 0, 'the candidate answered differently every time, secondary or not');
  assert.deepEqual(
    r.fields.map((f) => [f.path, f.reported]),
    [
      ['$.id', false],
      [STATUS_PATH, false],
    ],
  );
});

test('bounded memory: distinct paths capped, the rest counted as untracked and still judged', () => {
  const acc = new ShadowAccumulator(PLAN);
  const rng = new Rng(3);
  const n = 3 * MAX_TRACKED_PATHS;
  for (let i = 0; i < n; i++) {
    // every answer carries a key of its own (a map keyed by request id)
    const key = `k${Math.floor(rng.float() * 1e12)}`;
    acc.observe(ok({ stable: 1 }), ok({ stable: 1 }), ok({ stable: 1, [key]: 1 }));
  }
  const counts = acc.take();
  assert.equal(Object.keys(counts.fields).length, MAX_TRACKED_PATHS);
  assert.equal(counts.untracked.raw, n - MAX_TRACKED_PATHS);
  assert.equal(counts.untracked.differences, n - MAX_TRACKED_PATHS);
  // merging windows keeps the cap too
  const merged = mergeShadowCounts([counts, JSON.parse(JSON.stringify(counts)), counts]);
  assert.equal(Object.keys(merged.fields).length, MAX_TRACKED_PATHS);
  assert.ok(JSON.stringify(merged).length < 2 * JSON.stringify(counts).length);
  const r = judgeShadow(counts, PLAN);
  const u = r.fields.find((f) => f.path === UNTRACKED_PATH);
  assert.ok(u?.reported, 'differences on untracked paths are judged as one field');
  assert.equal(u.rawRate, (n - MAX_TRACKED_PATHS) / n);
  assert.match(shadowVerdict(r, PLAN).reasons.join('\n'), /^\(untracked\) differs in .* add map-like fields/m);
});

test('examples: bounded in number and size, secrets redacted before truncation', () => {
  const secret = 'sk-live-0123456789abcdef';
  const acc = new ShadowAccumulator({ ...PLAN, maxExamples: 2 }, { secrets: [secret] });
  const long = `${'x'.repeat(MAX_EXAMPLE_CHARS - 5)}${secret}tail`;
  for (let i = 0; i < 10; i++)
    acc.observe(
      ok({ text: long, api_key: 'pk-1', nested: { authorization: 'Bearer abc', v: 1 }, echo: `key=${secret}` }),
      ok({ text: long, api_key: 'pk-1', nested: { authorization: 'Bearer abc', v: 1 }, echo: `key=${secret}` }),
      ok({ text: `${long}!`, api_key: `pk-${i}`, nested: { authorization: 'Bearer xyz', v: 2 }, echo: 'x' }),
    );
  const r = judgeShadow(acc.take(), { ...PLAN, maxExamples: 2 });
  const out = JSON.stringify(r);
  assert.ok(!out.includes(secret.slice(0, 8)), 'no part of the secret');
  assert.ok(!out.includes('pk-1') && !out.includes('Bearer'), 'secret-named keys masked');
  const text = r.fields.find((f) => f.path === '$.text');
  assert.equal(text?.examples?.length, 2);
  assert.equal(text.examples[0].primary, `${'x'.repeat(MAX_EXAMPLE_CHARS - 5)}***ta…`);
  assert.equal(r.fields.find((f) => f.path === '$.echo')?.examples?.[0].primary, 'key=***');
  assert.deepEqual(r.fields.find((f) => f.path === '$.nested.v')?.examples?.[0], { primary: 1, candidate: 2 });
  // credentials by key at any depth; token counts are not credentials
  const acc3 = new ShadowAccumulator(PLAN);
  acc3.observe(
    ok({ credentials: { value: 'c1' }, usage: { completion_tokens: 7 }, access_token: 5 }),
    ok({ credentials: { value: 'c1' }, usage: { completion_tokens: 7 }, access_token: 5 }),
    ok({ credentials: { value: 'c2' }, usage: { completion_tokens: 9 }, access_token: 6 }),
  );
  assert.deepEqual(
    judgeShadow(acc3.take(), PLAN).fields.map((f) => [f.path, f.examples]),
    [
      ['$.access_token', [{ primary: '***', candidate: '***' }]],
      ['$.credentials.value', [{ primary: '***', candidate: '***' }]],
      ['$.usage.completion_tokens', [{ primary: 7, candidate: 9 }]],
    ],
  );
  // a subtree missing on one side is shown as (masked) JSON
  const acc2 = new ShadowAccumulator(PLAN);
  acc2.observe(ok({ o: { token: 't', a: [1, 2] } }), ok({ o: { token: 't', a: [1, 2] } }), ok({}));
  const ex = judgeShadow(acc2.take(), PLAN).fields[0];
  assert.equal(ex.path, '$.o');
  assert.deepEqual(ex.examples, [{ primary: { token: '***', a: [1, 2] }, candidate: undefined }]);
});

test('McNemar exact p-value and interval match SciPy binomtest (fixture)', () => {
  for (const r of REF.mcnemar) {
    const what = `b=${r.b} c=${r.c}`;
    close(mcnemarExactP(r.b, r.c), r.p, 1e-9 * Math.max(1, r.p) + 1e-12, `${what} p`);
    const n = r.b + r.c + 100;
    const m = mcnemar(r.b, r.c, n, { confidence: 0.95, alpha: 0.05, minimumEffect: 0.01 });
    assert.equal(m.pValue, mcnemarExactP(r.b, r.c));
    if (r.b + r.c === 0) continue;
    const share = (r.b + r.c) / n;
    close(m.ci[0], share * (2 * r.ciLow - 1), 1e-8, `${what} ci low`);
    close(m.ci[1], share * (2 * r.ciHigh - 1), 1e-8, `${what} ci high`);
    close(m.estimate, (r.c - r.b) / n, 1e-15, `${what} estimate`);
  }
});

/** Digits-like classifiers: per row, whether each version is right, as logits over 10 classes. */
function classifierRun(n: number, seed: number, accP: number, accC: number, plan = PLAN) {
  const rng = new Rng(seed);
  const acc = new ShadowAccumulator(plan);
  const logits = (truth: number, right: boolean) => {
    const wrong = (truth + 1 + rng.int(9)) % 10;
    return Array.from({ length: 10 }, (_, k) => (k === (right ? truth : wrong) ? 4 : rng.normal(0, 0.5)));
  };
  for (let i = 0; i < n; i++) {
    const truth = rng.int(10);
    // primary and secondary are the same model: the same answer; the candidate's errors are its own
    const pRight = rng.float() < accP;
    const p = logits(truth, pRight);
    // equal accuracies: the same model (a second copy of v1) answers the same
    const c = accP === accC ? [...p] : logits(truth, rng.float() < accC);
    const body = { y: argmaxOf(p) };
    acc.observe(ok(body, { scores: p }), ok(body, { scores: p }), ok({ y: argmaxOf(c) }, { scores: c }), truth);
  }
  return judgeShadow(acc.take(), plan);
}
const argmaxOf = (v: number[]) => v.indexOf(Math.max(...v));

test('with labels: v2 (92%) against v1 (98.5%) is worse by McNemar; v1 against v1 passes', () => {
  const worse = classifierRun(2000, 7, 0.985, 0.92);
  const c = worse.correctness!;
  assert.equal(c.method, 'mcnemar-exact');
  assert.equal(c.outcome, 'worse');
  close(c.control, 0.985, 0.01, 'primary accuracy');
  close(c.candidate, 0.92, 0.015, 'candidate accuracy');
  assert.ok(c.pValue < 1e-10 && c.ci[1] < 0 && c.ci[0] < c.estimate && c.estimate < c.ci[1]);
  assert.ok(worse.agreement < 0.95 && worse.ml!.topKOverlap < 1 && worse.ml!.jsDivergence > 0);
  const v = shadowVerdict(worse, PLAN);
  assert.equal(v.verdict, 'fail');
  assert.match(v.reasons[0], /^candidate is less accurate: accuracy 9\d\.\d% \(candidate\) vs 9\d\.\d% \(primary\)/);

  const same = classifierRun(2000, 8, 0.985, 0.985);
  assert.equal(same.correctness?.outcome, 'no-difference');
  assert.equal(same.agreement, 1);
  assert.equal(same.ml?.jsDivergence, 0);
  assert.deepEqual(shadowVerdict(same, PLAN), {
    verdict: 'pass',
    reasons: [
      "no field differs beyond the primary's own noise over 2000 requests",
      `no accuracy difference: ${shadowVerdict(same, PLAN).reasons[1].slice('no accuracy difference: '.length)}`,
    ],
  });
  // too few rows to see a 1 pp drop: inconclusive, never "no difference"
  const small = classifierRun(150, 9, 0.985, 0.985);
  assert.equal(small.correctness?.outcome, 'inconclusive');
  assert.equal(shadowVerdict(small, PLAN).verdict, 'inconclusive');
  assert.equal(
    shadowVerdict(classifierRun(50, 9, 0.985, 0.985), PLAN).reasons[0],
    'only 50 requests compared; at least 100 are needed',
  );
});

test('McNemar false-positive rate of identical versions stays at or under alpha (seeded simulation)', () => {
  const rng = new Rng(2026);
  const sims = 2000;
  let rejected = 0;
  for (let s = 0; s < sims; s++) {
    // two equally good (90%) but independently erring versions on 300 rows
    let b = 0;
    let c = 0;
    for (let i = 0; i < 300; i++) {
      const p = rng.float() < 0.9;
      const q = rng.float() < 0.9;
      if (p && !q) b++;
      else if (q && !p) c++;
    }
    if (mcnemarExactP(b, c) < 0.05) rejected++;
  }
  // 74 of 2000 (3.7%) with this seed: the exact test is conservative
  assert.ok(rejected / sims <= 0.05, `false-positive rate ${rejected}/${sims}`);
  assert.ok(rejected > 0.02 * sims, `not vacuous: ${rejected}/${sims}`);
});

test('scores: absolute differences and Jensen–Shannon divergence match SciPy (fixture); top-k overlap', () => {
  for (const r of REF.jensenShannon) {
    const x = compareScores(r.a, r.b, 3);
    close(x.jsDivergence, r.js, 1e-12, `js ${r.a}`);
    close(x.maxAbsDiff, r.maxAbs, 1e-12, `max ${r.a}`);
    close(x.meanAbsDiff, r.meanAbs, 1e-12, `mean ${r.a}`);
  }
  assert.equal(compareScores([0.7, 0.2, 0.1], [0.6, 0.3, 0.1], 3).softmax, false);
  assert.equal(compareScores([2, 1, 0.1, -1], [0.7, 0.2, 0.1, 0], 3).softmax, true);
  assert.equal(compareScores([5, 4, 3, 2, 1], [1, 4, 3, 2, 5], 3).topKOverlap, 2 / 3);
  assert.equal(compareScores([5, 4, 3, 2, 1], [1, 2, 3, 4, 5], 2).topKOverlap, 0);
  assert.equal(compareScores([5, 4], [4, 5], 3).topKOverlap, 1, 'k bounded by the length');
});

test('text: token-level edit distance, exact matches, long texts bounded', () => {
  assert.deepEqual(compareText('the cat sat', 'the cat sat'), {
    distance: 0,
    normalised: 0,
    exact: true,
    truncated: false,
  });
  assert.equal(compareText('the cat sat', 'the cat sat down').distance, 1);
  assert.equal(compareText('a b c', 'c b a').distance, 2);
  assert.equal(compareText('  a  b ', 'a b').distance, 0);
  assert.equal(compareText('  a  b ', 'a b').exact, false);
  assert.equal(compareText('kitten sitting on', 'sitting kitten on').normalised, 2 / 3);
  const words = (n: number, w: string) => Array.from({ length: n }, (_, i) => `${w}${i}`).join(' ');
  const long = compareText(`start ${words(2000, 'a')} end`, `start ${words(2000, 'b')} end`);
  assert.equal(long.truncated, true);
  assert.equal(long.distance, 2000, `upper bound: ${TEXT_TOKEN_LIMIT} substitutions plus the remainder`);
  const acc = new ShadowAccumulator(PLAN);
  acc.observe(ok('x', { text: 'a b c' }), ok('x', { text: 'a b c' }), ok('x', { text: 'a b c' }));
  acc.observe(ok('x', { text: 'a b c' }), ok('x', { text: 'a b c' }), ok('x', { text: 'a b d e' }));
  const r = judgeShadow(acc.take(), PLAN);
  assert.deepEqual(
    [r.ml?.textEditDistance, r.ml?.textExactMatch, r.ml?.textNormalisedEditDistance],
    [1, 0.5, (0 + 2 / 4) / 2],
  );
});

test('verdict: nothing compared is inconclusive; labels of either type compare as text', () => {
  const empty = judgeShadow(new ShadowAccumulator(PLAN).take(), PLAN);
  assert.equal(empty.compared, 0);
  assert.ok(Number.isNaN(empty.agreement));
  assert.equal(shadowVerdict(empty, PLAN).verdict, 'inconclusive');
  const acc = new ShadowAccumulator(PLAN);
  acc.observe(ok(1, { label: 3 }), ok(1, { label: '3' }), ok(1, { label: '3' }), 3);
  const r = judgeShadow(acc.take(), PLAN);
  assert.equal(r.agreement, 1);
  assert.equal(r.ml?.noiseLabelAgreement, 1);
  assert.equal(r.ml?.candidateAccuracy, 1);
  // a candidate that fails gives no prediction: that is disagreement, not a request left out
  const acc2 = new ShadowAccumulator(PLAN);
  acc2.observe(ok(1, { label: 3 }), ok(1, { label: 3 }), ok(1, { label: 3 }), 3);
  acc2.observe(ok(1, { label: 3 }), ok(1, { label: 3 }), { status: 0, body: null, errorClass: 'timeout' }, 3);
  const r2 = judgeShadow(acc2.take(), PLAN);
  assert.equal(r2.agreement, 0.5);
  assert.equal(r2.ml?.candidateAccuracy, 0.5);
  assert.equal(r2.ml?.noiseLabelAgreement, 1);
});

test('a bad shadow configuration is a located plan error', () => {
  const bad: ShadowPlan = {
    ...PLAN,
    ignore: ['$.id', 'created', '$.a[x]'],
    tolerance: { absolute: -1, relative: 0 },
    topK: 0,
  };
  const problems = shadowPlanProblems(bad);
  assert.deepEqual(
    problems.map((p) => p.path),
    [
      'comparison.shadow.ignore[1]',
      'comparison.shadow.ignore[2]',
      'comparison.shadow.tolerance.absolute',
      'comparison.shadow.topK',
    ],
  );
  assert.match(problems[0].message, /must start with "\$"/);
  assert.match(problems[0].hint ?? '', /\$\.outputs\[\*\]\.id/);
  assert.throws(
    () => new ShadowAccumulator(bad),
    (e: unknown) => e instanceof PlanError && e.code === 'E_PLAN_INVALID' && e.problems.length === 4,
  );
  assert.deepEqual(shadowPlanProblems(PLAN), []);
});

test("McNemar power (Connor's approximation) agrees with the exact test's simulated power", () => {
  // measured with these seeds: simulated 0.990 / 0.578 / 0.863 / 0.943 against 0.980 / 0.609 / 0.886 / 0.945
  const cases: Array<[n: number, discordant: number, drop: number]> = [
    [2000, 0.05, 0.02],
    [1000, 0.08, 0.02],
    [3000, 0.03, 0.01],
    [500, 0.1, 0.05],
  ];
  for (const [n, psi, d] of cases) {
    const rng = new Rng(11);
    const sims = 400;
    const pb = (psi + d) / 2;
    const pc = (psi - d) / 2;
    let rejected = 0;
    for (let s = 0; s < sims; s++) {
      let b = 0;
      let c = 0;
      for (let i = 0; i < n; i++) {
        const u = rng.float();
        if (u < pb) b++;
        else if (u < pb + pc) c++;
      }
      if (mcnemarExactP(b, c) < 0.05 && c < b) rejected++;
    }
    const m = Math.round(psi * n);
    const power = mcnemar(m / 2, m / 2, n, { confidence: 0.95, alpha: 0.05, minimumEffect: d }).power;
    close(power, rejected / sims, 0.06, `n=${n} ψ=${psi} δ=${d}`);
  }
});
