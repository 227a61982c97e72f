import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../core/random.js';
import type { CanaryMetricConfig } from '../../plan/comparison.js';
import type { Binned } from '../../stats/binned.js';
import { fisherExact } from '../../stats/exact.js';
import { preflightClassifier } from './preflight-classifier.js';

const LATENCY: CanaryMetricConfig = {
  name: 'latency',
  metric: 'latency',
  group: 'latency',
  direction: 'increase',
  critical: false,
  mustHaveData: false,
  nanStrategy: 'remove',
  outliers: { strategy: 'keep', factor: 3 },
  effectSize: { measure: 'meanRatio', allowedIncrease: 1, allowedDecrease: 1 },
};
const ERRORS: CanaryMetricConfig = { ...LATENCY, name: 'errors', metric: 'error_rate', group: 'errors' };

/** Log-normal latencies (ms) on a 0.1 ms grid; a share `tail` of them `factor` × slower. */
function sample(rng: Rng, n: number, median: number, sigma: number, tail = 0, factor = 1): Binned {
  const m = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    let v = rng.logNormal(median, sigma);
    if (rng.float() < tail) v *= factor;
    const b = Math.round(v * 10) / 10;
    m.set(b, (m.get(b) ?? 0) + 1);
  }
  const values = [...m.keys()].sort((a, b) => a - b);
  return { values, counts: values.map((v) => m.get(v) ?? 0) };
}

describe('preflightClassifier', () => {
  it('same median, 10× worse p99: High, found by the tail test, not the location test', () => {
    const rng = new Rng(1);
    const control = sample(rng, 5000, 50, 0.2);
    const experiment = sample(rng, 5000, 50, 0.2, 0.02, 10);
    const r = preflightClassifier({ kind: 'values', control, experiment }, LATENCY);
    assert.equal(r.classification, 'High', r.reason);
    const tail = r.tests.find((t) => t.metric === 'latency.p99');
    const loc = r.tests.find((t) => t.metric === 'latency.median');
    assert.equal(tail?.outcome, 'worse', JSON.stringify(tail));
    assert.equal(tail?.method, 'quantile-exceedance-fisher');
    assert.ok((tail?.candidate ?? 0) > 5 * (tail?.control ?? Infinity));
    assert.notEqual(loc?.outcome, 'worse');
    assert.match(r.reason ?? '', /latency\.p99 higher/);
    assert.deepEqual(
      r.tests.map((t) => t.metric),
      ['latency.median', 'latency.p99', 'latency.spread'],
    );
  });

  it('identical versions: Pass, every test shown with its p-values', () => {
    const rng = new Rng(2);
    const r = preflightClassifier(
      { kind: 'values', control: sample(rng, 3000, 50, 0.3), experiment: sample(rng, 3000, 50, 0.3) },
      LATENCY,
    );
    assert.equal(r.classification, 'Pass', r.reason);
    for (const t of r.tests)
      assert.ok(Number.isFinite(t.pValue) && t.adjustedPValue !== undefined && t.ci.every(Number.isFinite));
  });

  it('a wider spread with the same median is High (spread test)', () => {
    const rng = new Rng(3);
    const r = preflightClassifier(
      { kind: 'values', control: sample(rng, 3000, 50, 0.1), experiment: sample(rng, 3000, 50, 0.3) },
      LATENCY,
    );
    assert.equal(r.classification, 'High');
    assert.equal(r.tests.find((t) => t.metric === 'latency.spread')?.outcome, 'worse');
  });

  it('3 of 1,000 errors against 0 is judged by Fisher’s exact test (p ≈ 0.25): Pass; 30 of 1,000 is High', () => {
    const r = preflightClassifier(
      { kind: 'counts', control: { events: 0, total: 1000 }, experiment: { events: 3, total: 1000 } },
      ERRORS,
    );
    assert.equal(r.classification, 'Pass');
    assert.equal(r.tests[0].method, 'fisher-exact/newcombe');
    assert.equal(r.tests[0].pValue, fisherExact(3, 997, 0, 1000).pValue);
    const bad = preflightClassifier(
      { kind: 'counts', control: { events: 0, total: 1000 }, experiment: { events: 30, total: 1000 } },
      ERRORS,
    );
    assert.equal(bad.classification, 'High', bad.reason);
  });

  it('honours direction and tolerance', () => {
    const rng = new Rng(4);
    const control = sample(rng, 4000, 50, 0.2);
    const faster = sample(rng, 4000, 40, 0.2);
    const slower = sample(rng, 4000, 55, 0.2);
    assert.equal(preflightClassifier({ kind: 'values', control, experiment: faster }, LATENCY).classification, 'Pass');
    const either = { ...LATENCY, direction: 'either' as const };
    assert.equal(preflightClassifier({ kind: 'values', control, experiment: faster }, either).classification, 'Low');
    // 10% slower: High by default, Pass with 20% allowed, and the reason says critical beyond criticalIncrease.
    assert.equal(preflightClassifier({ kind: 'values', control, experiment: slower }, LATENCY).classification, 'High');
    const tolerant = { ...LATENCY, effectSize: { ...LATENCY.effectSize, allowedIncrease: 1.2 } };
    const t = preflightClassifier({ kind: 'values', control, experiment: slower }, tolerant);
    assert.equal(t.classification, 'Pass', t.reason);
    assert.match(t.reason ?? '', /within tolerance/);
    const crit = { ...LATENCY, effectSize: { ...LATENCY.effectSize, criticalIncrease: 1.05 } };
    assert.match(
      preflightClassifier({ kind: 'values', control, experiment: slower }, crit).reason ?? '',
      /^critical: /,
    );
  });

  it('no data is NoData', () => {
    const r = preflightClassifier(
      { kind: 'values', control: sample(new Rng(5), 100, 50, 0.2), experiment: { values: [], counts: [] } },
      LATENCY,
    );
    assert.equal(r.classification, 'NoData');
    assert.equal(
      preflightClassifier(
        { kind: 'counts', control: { events: 0, total: 0 }, experiment: { events: 0, total: 10 } },
        ERRORS,
      ).classification,
      'NoData',
    );
  });

  it('identical arms, 1,000 seeded canaries: false High/Low rate ≤ 0.02 + MC margin', (t) => {
    const rng = new Rng(6);
    const runs = 1000;
    let flagged = 0;
    const either = { ...LATENCY, direction: 'either' as const };
    for (let i = 0; i < runs; i++) {
      const r = preflightClassifier(
        { kind: 'values', control: sample(rng, 300, 50, 0.3), experiment: sample(rng, 300, 50, 0.3) },
        either,
      );
      if (r.classification !== 'Pass') flagged++;
    }
    const rate = flagged / runs;
    const limit = 0.02 + 3 * Math.sqrt((0.02 * 0.98) / runs);
    t.diagnostic(
      `preflight classifier, identical arms: false High/Low rate ${rate.toFixed(3)} (limit ${limit.toFixed(3)})`,
    );
    assert.ok(rate <= limit, `false High/Low rate ${rate} > ${limit}`);
  });
});
