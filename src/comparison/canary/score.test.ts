import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CanaryClass } from '../../core/comparison.js';
import { Rng } from '../../core/random.js';
import type { CanaryClassifier } from '../types.js';
import { defaultCanaryMetrics } from './defaults.js';
import { judgeCanary } from './judge.js';
import { metricData, round2, scoreMetrics } from './score.js';
import { canaryPlan, input, latencies, variant } from './test-canary-data.js';

const m = (name: string, group: string, classification: CanaryClass, criticalFailure = false, failed = false) => ({
  name,
  group,
  classification,
  criticalFailure,
  failed,
});
const T = { pass: 95, marginal: 75 };

describe("Kayenta's scoring (ScorerSuite.scala cases)", () => {
  // spinnaker/kayenta kayenta-judge/src/test/scala/com/netflix/kayenta/judge/ScorerSuite.scala
  const cases: Array<[string, Record<string, number>, ReturnType<typeof m>[], number]> = [
    ['Single Metric Pass', {}, [m('a', 'g', 'Pass')], 100],
    ['Single Metric Fail', {}, [m('a', 'g', 'High')], 0],
    ['Single group Nodata', {}, [m('a', 'g', 'NoData')], 0],
    ['Two Groups, one Pass, one Nodata', {}, [m('a', 'p', 'Pass'), m('b', 'p', 'Pass'), m('c', 'n', 'NoData')], 100],
    ['One Group, Two Metrics', {}, [m('a', 'g', 'Pass'), m('b', 'g', 'High')], 50],
    ['One Group, Three Metrics', {}, [m('a', 'g', 'Pass'), m('b', 'g', 'High'), m('c', 'g', 'Low')], 33.33],
    [
      'Two Groups, Three Metrics',
      { g1: 75, g2: 25 },
      [m('a', 'g1', 'Pass'), m('b', 'g1', 'Pass'), m('c', 'g2', 'High')],
      75,
    ],
    [
      'Two Groups, Three Metrics (Equal Weight)',
      { g1: 50, g2: 50 },
      [m('a', 'g1', 'Pass'), m('b', 'g1', 'High'), m('c', 'g2', 'High')],
      25,
    ],
    [
      'Two Groups, Three Metrics (Equal Weight), one NoData',
      { g1: 50, g2: 50 },
      [m('a', 'g1', 'Pass'), m('b', 'g1', 'NoData'), m('c', 'g2', 'High')],
      50,
    ],
    ['one good (normal), one fail (critical)', {}, [m('a', 'g', 'Pass'), m('b', 'g', 'High', true)], 0],
    ['one low (normal), one good (critical)', {}, [m('a', 'g', 'Low'), m('b', 'g', 'Pass')], 50],
    ['one good (normal), one nodata (critical)', {}, [m('a', 'g', 'Pass'), m('b', 'g', 'NoData', true)], 0],
    [
      'Two Groups (Unequal Weight), Four Metrics',
      { g1: 15, g2: 85 },
      [m('a', 'g1', 'High'), m('b', 'g1', 'Low'), m('c', 'g1', 'Pass'), m('d', 'g2', 'High')],
      5,
    ],
  ];
  for (const [name, weights, metrics, expected] of cases) {
    it(name, () => assert.equal(scoreMetrics(metrics, weights, T).score, expected));
  }

  it('unweighted groups share what the weights leave; a failing no-data metric counts as a failure', () => {
    const r = scoreMetrics(
      [m('a', 'w', 'Pass'), m('b', 'x', 'Pass'), m('c', 'y', 'NoData', false, true), m('d', 'y', 'Pass')],
      { w: 40 },
      T,
    );
    assert.deepEqual(r.groups, {
      w: { score: 100, weight: 40 },
      x: { score: 100, weight: 30 },
      y: { score: 50, weight: 30 },
    });
    assert.equal(r.score, 85);
    assert.equal(r.classification, 'marginal');
  });

  it('NoData in half the metrics → 0', () => {
    const r = scoreMetrics([m('a', 'g', 'Pass'), m('b', 'h', 'NoData')], {}, T);
    assert.equal(r.score, 0);
    assert.match(r.forcedZero!, /1 of 2 metrics had no data/);
  });

  it('rounds half up to 2 decimals as Java Precision.round', () => {
    assert.equal(round2(66.666666), 66.67);
    assert.equal(round2(2.675), 2.68);
    assert.equal(round2(100 / 3), 33.33);
  });
});

describe('metric data from what run() measured', () => {
  it('latency → values, error_rate → errors of requests, accuracy → incorrect of scored', () => {
    const c = variant('v1', [10, 11, 12], 1, { scored: 100, correct: 98 });
    const k = variant('v2', [10, 11, 13], 2, { scored: 100, correct: 92 });
    const [lat, err, acc] = defaultCanaryMetrics(true).map((cfg) => metricData(input(c, k), cfg));
    assert.equal(lat.kind, 'values');
    assert.deepEqual(err, { kind: 'counts', control: { events: 1, total: 3 }, experiment: { events: 2, total: 3 } });
    assert.deepEqual(acc, {
      kind: 'counts',
      control: { events: 2, total: 100 },
      experiment: { events: 8, total: 100 },
    });
  });
});

/** The preflight classifier, when the other half of the issue has been merged; else undefined. */
async function preflightClassifier(): Promise<CanaryClassifier | undefined> {
  const url = new URL('./preflight-classifier.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) return undefined;
  const mod = (await import(url.href)) as { preflightClassifier?: CanaryClassifier };
  return mod.preflightClassifier;
}

/** Same median, 10× worse p99: the top 1.5% of the candidate's requests are 10× slower. */
function tailCase() {
  return input(variant('v1', latencies(2000, 20, 1)), variant('v2', latencies(2000, 20, 2, 0.015, 10)));
}

/** 3 failed of 1,000 against none. */
function errorsCase() {
  return input(variant('v1', latencies(1000, 20, 3)), variant('v2', latencies(1000, 20, 4), 3));
}

describe('false positives of the whole judgement (seeded simulation)', () => {
  it('identical variants (latency, 1% errors, 95% accuracy): at most 6% not pass in 300 (3 metrics × 2%; measured: 0)', () => {
    const binomial = (rng: Rng, n: number, p: number) => {
      let k = 0;
      for (let i = 0; i < n; i++) if (rng.float() < p) k++;
      return k;
    };
    let notPass = 0;
    const n = 300;
    for (let i = 0; i < n; i++) {
      const rng = new Rng(5000 + i);
      const make = (name: string, seed: number) =>
        variant(name, latencies(500, 20, seed), binomial(rng, 500, 0.01), {
          scored: 500,
          correct: binomial(rng, 500, 0.95),
        });
      if (judgeCanary(input(make('a', 9000 + 2 * i), make('b', 9001 + 2 * i)), canaryPlan()).verdict !== 'pass')
        notPass++;
    }
    assert.ok(notPass / n <= 0.06, `${notPass} of ${n} not pass`);
  });
});

describe('judgeCanary end to end', () => {
  it('identical variants pass with score 100', () => {
    const v = variant('v1', latencies(1000, 20, 5), 2, { scored: 500, correct: 490 });
    const j = judgeCanary(input(v, { ...v, name: 'v1b' }), canaryPlan());
    assert.equal(j.verdict, 'pass');
    assert.equal(j.result.score, 100);
    assert.deepEqual(
      j.result.metrics.map((x) => x.name),
      ['latency', 'error_rate', 'accuracy'],
    );
  });

  it('a candidate 30% slower throughout fails on latency (score 50 of two groups)', () => {
    const j = judgeCanary(
      input(variant('v1', latencies(1000, 20, 6)), variant('v2', latencies(1000, 26, 7))),
      canaryPlan(),
    );
    assert.equal(j.result.metrics[0].classification, 'High');
    assert.equal(j.result.score, 50);
    assert.equal(j.verdict, 'fail');
    assert.match(j.reasons[0], /Canary score 50 \(fail/);
  });

  it('v2 clearly less accurate (98.5% vs 92%) fails: accuracy is critical', () => {
    const lat = latencies(1000, 20, 8);
    const j = judgeCanary(
      input(
        variant('v1', lat, 0, { scored: 1000, correct: 985 }),
        variant('v2', lat, 0, { scored: 1000, correct: 920 }),
      ),
      canaryPlan({ judge: 'preflight' }),
    );
    const acc = j.result.metrics.find((x) => x.name === 'accuracy')!;
    assert.equal(acc.classification, 'Low');
    assert.equal(j.result.score, 0);
    assert.equal(j.verdict, 'fail');
    // Said in accuracy's own terms, though judged on the incorrect share.
    assert.match(
      acc.reason ?? '',
      /^critical: accuracy lower: 98\.5% → 92% \(−6\.5 pp, 98% CI −\d+(\.\d+)? pp to −\d+(\.\d+)? pp\), p < 0\.001 \(fisher-exact\/newcombe\)\.$/,
    );
    const t = acc.tests[0];
    assert.deepEqual([t.control, t.candidate, t.outcome], [0.985, 0.92, 'worse']);
    assert.ok(Math.abs(t.estimate + 0.065) < 1e-12 && t.ci[0] < t.estimate && t.estimate < t.ci[1] && t.ci[1] < 0);
    // Kayenta's judge: the same words, its own method.
    const kj = judgeCanary(
      input(
        variant('v1', lat, 0, { scored: 1000, correct: 985 }),
        variant('v2', lat, 0, { scored: 1000, correct: 920 }),
      ),
      canaryPlan({ judge: 'kayenta' }),
    );
    assert.deepEqual([kj.result.score, kj.verdict], [0, 'fail']);
    const k = kj.result.metrics.find((x) => x.name === 'accuracy')!;
    assert.equal(k.classification, 'Low');
    assert.match(
      k.reason ?? '',
      /^critical: accuracy lower: 98\.5% → 92% \(−6\.5 pp; hodges-lehmann\/mann-whitney \(kayenta\) shift ±0 pp, 98% CI .* pp\), p < 0\.001\.$/,
    );
  });

  it('no data at all → inconclusive', () => {
    const j = judgeCanary(input(variant('v1', []), variant('v2', [])), canaryPlan());
    assert.equal(j.verdict, 'inconclusive');
    assert.match(j.reasons[0], /No canary metric had data/);
  });

  it("Kayenta passes a candidate with the same median and a 10× worse p99 (the users' complaint, kayenta#780)", () => {
    const j = judgeCanary(tailCase(), canaryPlan({ judge: 'kayenta' }));
    assert.equal(j.result.metrics[0].classification, 'Pass');
    assert.equal(j.verdict, 'pass');
  });

  it('Kayenta passes 3 failed of 1,000 against none (kayenta#426: blind to sparse errors)', () => {
    const j = judgeCanary(errorsCase(), canaryPlan({ judge: 'kayenta' }));
    assert.equal(j.result.metrics[1].name, 'error_rate');
    assert.equal(j.result.metrics[1].classification, 'Pass');
  });

  it('judge: preflight fails the same median with a 10× p99, and judges 3 of 1,000 errors by an exact test', async (t) => {
    if (!(await preflightClassifier())) {
      t.skip('preflight-classifier.js is not in this branch yet (written in parallel; runs after the merge)');
      return;
    }
    // Picked by name, as a plan does: this also checks judge.ts's TODO(merge) was resolved.
    const plan = canaryPlan({ judge: 'preflight' });
    const tail = judgeCanary(tailCase(), plan);
    assert.equal(tail.verdict, 'fail', tail.reasons.join(' '));
    // 3 of 1,000 against 0 is not evidence of harm: Fisher's exact p = 0.2496 (a normal approximation
    // would say 0.083). The answer is Pass with the exact test and its interval shown, not a guess.
    const errors = judgeCanary(errorsCase(), plan);
    const errorMetric = errors.result.metrics.find((m) => m.name === 'error_rate');
    assert.ok(errorMetric, errors.reasons.join(' '));
    assert.equal(errorMetric.classification, 'Pass');
    const exact = errorMetric.tests.find((x) => x.method.startsWith('fisher-exact'));
    assert.ok(exact, JSON.stringify(errorMetric.tests));
    assert.ok(Math.abs(exact.pValue - 0.2496) < 0.001, `p = ${exact.pValue}`);
    assert.equal(judgeCanary(errorsCase(), canaryPlan({ judge: 'kayenta' })).verdict, 'pass');
  });
});
