import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { CanaryMetricConfig } from '../../plan/comparison.js';
import {
  cles,
  hodgesLehmannInterval,
  type KayentaSettings,
  kayentaClassifier,
  kayentaClassify,
  meanRatio,
  percentile,
  removeOutliers,
  sampleOf,
  sampleOfBinned,
} from './kayenta.js';
import { binOf, latencies } from './test-canary-data.js';

/** src/comparison/canary/fixtures (tests run from dist/src/comparison/canary). */
const FIXTURES = fileURLToPath(new URL('../../../../src/comparison/canary/fixtures/', import.meta.url));
const load = (name: string) => JSON.parse(readFileSync(FIXTURES + name, 'utf8'));

interface SuiteCase {
  name: string;
  experiment: number[];
  control: number[];
  tolerance: number;
  confidence: number;
  direction: 'increase' | 'decrease' | 'either';
  effectSizeThresholds: [number, number];
  criticalThresholds: [number, number];
  effectSizeMeasure: 'meanRatio' | 'cles';
  critical: boolean;
  nanStrategy: 'remove' | 'replace';
  expected: string;
  expectedCritical?: boolean;
  deviationNaN?: boolean;
}

function metric(over: Partial<CanaryMetricConfig> = {}): CanaryMetricConfig {
  return {
    name: 'latency',
    metric: 'latency',
    group: 'latency',
    direction: 'either',
    critical: false,
    mustHaveData: false,
    nanStrategy: 'remove',
    outliers: { strategy: 'keep', factor: 3 },
    effectSize: { measure: 'meanRatio', allowedIncrease: 1, allowedDecrease: 1 },
    ...over,
  };
}

const binned = (values: number[], counts: number[]) => ({ values, counts });

describe("Kayenta's classifier: Kayenta's own test cases (ClassifierSuite.scala)", () => {
  const suite = load('kayenta-classifier-suite.json') as { cases: SuiteCase[] };
  for (const c of suite.cases) {
    it(c.name, () => {
      const s: KayentaSettings = {
        tolerance: c.tolerance,
        confidence: c.confidence,
        direction: c.direction,
        nanStrategy: c.nanStrategy,
        critical: c.critical,
        mustHaveData: false,
        effectSizeMeasure: c.effectSizeMeasure,
        effectSizeThresholds: c.effectSizeThresholds,
        criticalThresholds: c.criticalThresholds,
        seed: 7,
      };
      const r = kayentaClassify(sampleOf(c.control), sampleOf(c.experiment), s);
      assert.equal(r.classification, c.expected);
      if (c.expectedCritical !== undefined) assert.equal(r.critical, c.expectedCritical);
      if (c.deviationNaN !== undefined) assert.equal(Number.isNaN(r.deviation), c.deviationNaN);
    });
  }
});

describe("Kayenta's statistics against R's wilcox.test (fixtures/hodges-lehmann-ci.R)", () => {
  const cases = load('hodges-lehmann-ci.json') as Array<{
    name: string;
    confidence: number;
    experiment: number[];
    control: number[];
    estimate: number;
    ci: [number, number];
    pValue: number;
  }>;
  for (const c of cases) {
    it(c.name, () => {
      const r = hodgesLehmannInterval(sampleOf(c.experiment), sampleOf(c.control), c.confidence);
      // Same solver path as R's uniroot: the estimate agrees to the bit; the interval's roots start
      // from a normal quantile and the p-value from a normal CDF approximated to ~1e-9 / ~1e-7.
      assert.ok(Math.abs(r.estimate - c.estimate) <= 1e-9, `estimate ${r.estimate} vs R ${c.estimate}`);
      assert.ok(Math.abs(r.lower - c.ci[0]) <= 1e-6, `lower ${r.lower} vs R ${c.ci[0]}`);
      assert.ok(Math.abs(r.upper - c.ci[1]) <= 1e-6, `upper ${r.upper} vs R ${c.ci[1]}`);
      assert.ok(Math.abs(r.pValue - c.pValue) <= 1e-6 + 1e-3 * c.pValue, `p ${r.pValue} vs R ${c.pValue}`);
    });
  }

  it('binned input gives the same interval as the expanded values', () => {
    const c = cases.find((k) => k.name.startsWith('heavy ties'))!;
    const count = (xs: number[]) => {
      const m = new Map<number, number>();
      for (const v of xs) m.set(v, (m.get(v) ?? 0) + 1);
      const values = [...m.keys()].sort((a, b) => a - b);
      return binned(
        values,
        values.map((v) => m.get(v)!),
      );
    };
    const a = hodgesLehmannInterval(sampleOf(c.experiment), sampleOf(c.control), 0.98);
    const b = hodgesLehmannInterval(sampleOfBinned(count(c.experiment)), sampleOfBinned(count(c.control)), 0.98);
    assert.deepEqual(a, b);
  });
});

describe("Kayenta's percentiles and effect sizes (StatisticSuite.scala)", () => {
  it('percentiles interpolate linearly (R type 7)', () => {
    const basic = sampleOf([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5]);
    assert.ok(Math.abs(percentile(basic, 5) - 0.175) < 1e-4);
    assert.equal(percentile(basic, 50), 1.75);
    assert.equal(percentile(basic, 100), 3.5);
    assert.equal(percentile(sampleOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 50), 4.5);
    const nist = sampleOf([
      95.1772, 95.1567, 95.1937, 95.1959, 95.1442, 95.061, 95.1591, 95.1195, 95.1772, 95.0925, 95.199, 95.1682,
    ]);
    assert.ok(Math.abs(percentile(nist, 90) - 95.19568) < 1e-9);
  });

  it('mean ratio and CLES', () => {
    const ones = sampleOf([1, 1, 1, 1, 1]);
    assert.equal(meanRatio(ones, ones), 1);
    assert.equal(meanRatio(ones, sampleOf([10, 10, 10, 10, 10])), 10);
    assert.ok(Number.isNaN(meanRatio(sampleOf([0, 0, 0, 0, 0]), sampleOf([10, 10, 10, 10, 10]))));
    const same = sampleOf([1, 2, 3, 4, 5]);
    assert.equal(cles(same, same), 0.5);
    assert.equal(cles(sampleOf([25.3, 25.2, 24.6, 24.4, 26.4]), sampleOf([2.3, 2.6, 3.3, 2.9, 1.4])), 0);
  });

  it('outlier removal keeps values inside max(p99, Q3 + 3·IQR) and drops the far one', () => {
    const values = Array.from({ length: 200 }, (_, i) => 10 + (i % 10));
    values.push(10_000);
    const kept = removeOutliers(sampleOf(values), 3);
    assert.equal(kept.n, 200);
    assert.equal(kept.values[kept.values.length - 1], 19);
    // With only a few values, p1/p99 widen the fences: nothing is dropped.
    assert.equal(removeOutliers(sampleOf([1, 2, 3, 100]), 3).n, 4);
  });
});

describe("Kayenta's false-positive rate (seeded simulation)", () => {
  it('identical variants: at most 2% of 1,000 comparisons flagged (its interval is at 98%; measured: 0)', () => {
    let flagged = 0;
    const n = 1000;
    for (let i = 0; i < n; i++) {
      const d = {
        kind: 'values' as const,
        control: binOf(latencies(200, 20, 1000 + 2 * i)),
        experiment: binOf(latencies(200, 20, 1001 + 2 * i)),
      };
      if (kayentaClassifier(d, metric()).classification !== 'Pass') flagged++;
    }
    assert.ok(flagged / n <= 0.02, `${flagged} of ${n} flagged`);
  });
});

describe('kayentaClassifier (the CanaryClassifier)', () => {
  it('identical data → Pass with the reason', () => {
    const b = binned([10, 20, 30], [5, 5, 5]);
    const r = kayentaClassifier({ kind: 'values', control: b, experiment: b }, metric());
    assert.equal(r.classification, 'Pass');
    assert.match(r.reason!, /identical/);
  });

  it('all tied on each side but different → seeded noise, High, reproducible', () => {
    const d = { kind: 'values' as const, control: binned([5], [40]), experiment: binned([50], [40]) };
    const a = kayentaClassifier(d, metric());
    const b = kayentaClassifier(d, metric());
    assert.equal(a.classification, 'High');
    assert.deepEqual(a, b);
    assert.match(a.reason!, /noise/);
  });

  it('uses the per-window series when given', () => {
    const d = {
      kind: 'values' as const,
      control: binned([10], [100]),
      experiment: binned([10], [100]),
      controlSeries: [10, 11, 10, 12, 11, 10, 11, 10, 12, 11],
      experimentSeries: [30, 31, 32, 30, 33, 31, 30, 32, 31, 30],
    };
    const r = kayentaClassifier(d, metric());
    assert.equal(r.classification, 'High');
    assert.match(r.reason!, /per-window series/);
  });

  it('missing data: NoData; with mustHaveData (not critical) a failing metric; critical → critical', () => {
    const d = { kind: 'values' as const, control: binned([10], [5]), experiment: binned([], []) };
    assert.equal(kayentaClassifier(d, metric()).classification, 'NoData');
    assert.equal(kayentaClassifier(d, metric({ mustHaveData: true })).failed, true);
    assert.equal(kayentaClassifier(d, metric({ critical: true })).critical, true);
  });

  it('direction: a decrease is not flagged when only an increase is harmful', () => {
    const d = {
      kind: 'values' as const,
      control: binned([50, 51, 52, 53], [10, 10, 10, 10]),
      experiment: binned([10, 11, 12, 13], [10, 10, 10, 10]),
    };
    assert.equal(kayentaClassifier(d, metric({ direction: 'either' })).classification, 'Low');
    assert.equal(kayentaClassifier(d, metric({ direction: 'increase' })).classification, 'Pass');
  });

  it('exposes the test: estimate, 98% interval and p-value', () => {
    const d = {
      kind: 'values' as const,
      control: binned([10, 11, 12], [30, 30, 30]),
      experiment: binned([20, 21, 22], [30, 30, 30]),
    };
    const r = kayentaClassifier(d, metric());
    assert.equal(r.tests.length, 1);
    const t = r.tests[0];
    assert.equal(t.confidence, 0.98);
    assert.ok(Math.abs(t.estimate - 10) < 1e-9);
    assert.ok(t.ci[0] <= 10 && t.ci[1] >= 10);
    assert.ok(t.pValue < 1e-6);
  });
});
