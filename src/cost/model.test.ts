/** The cost model against hand-computed cases (the arithmetic is in the comments). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PriceList } from '../core/cost.js';
import { compareCosts, computeCost, HOURS_PER_MONTH, replicasFor } from './model.js';

const PRICES: PriceList = {
  source: 'prices.yaml',
  currency: 'USD',
  instances: {
    'gpu-a': { onDemandPerHour: 1.006, spotPerHour: 0.4, gpus: 1, gpu: 'A10G' },
    'cpu-b': { onDemandPerHour: 2.0 },
    flat: { onDemandPerHour: 1.0 },
  },
};

const near = (actual: number | null | undefined, expected: number, what: string) =>
  assert.ok(
    actual !== null && actual !== undefined && Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );

describe('cost model', () => {
  it('replicas, monthly cost and cost per 1k at full and actual use (no curve), spot beside on-demand', () => {
    const c = computeCost({
      prices: PRICES,
      instance: 'gpu-a',
      capacityPerReplica: 120,
      capacitySource: 'test',
      peakPerS: 500,
      headroom: 0.3,
      minReplicas: 2,
    });
    // replicas = ceil(500 × 1.3 / 120) = ceil(5.4167) = 6 (≥ min 2)
    assert.equal(c.replicas, 6);
    assert.equal(c.hours_per_month, 730);
    // utilisation at the peak = 500 / (6 × 120) = 0.69444…
    near(c.utilisation_at_peak, 500 / 720, 'utilisation');
    // monthly (full) = 6 × 1.006 × 730 = 4406.28
    near(c.on_demand.monthly_full, 4406.28, 'monthly on-demand');
    assert.equal(c.on_demand.monthly_curve, null);
    // per 1k at full use = 1.006 / (3.6 × 120) = 1.006 / 432 = 0.00232870…
    near(c.on_demand.per_1k_full_use, 1.006 / 432, 'per 1k full');
    near(c.on_demand.per_1m_full_use, 1006 / 432, 'per 1M full');
    // per 1k actual = 6 × 1.006 / (3.6 × 500) = 6.036 / 1800 = 0.0033533…
    near(c.on_demand.per_1k_actual, 6.036 / 1800, 'per 1k actual');
    // spot: 6 × 0.40 × 730 = 1752; 0.40 / 432 per 1k at full use
    near(c.spot?.monthly_full, 1752, 'monthly spot');
    near(c.spot?.per_1k_full_use, 0.4 / 432, 'spot per 1k full');
    // headline = on-demand at actual use
    near(c.headline.per_1k, 6.036 / 1800, 'headline per 1k');
    near(c.headline.monthly, 4406.28, 'headline monthly');
    assert.equal(c.headline.replicas, 6);
    assert.equal(c.gpus, 1);
    assert.equal(c.on_demand.per_1m_tokens_full_use, null);
    assert.equal(c.on_demand.per_1k_correct_actual, null);
  });

  it('the minimum replicas win at a low peak', () => {
    // ceil(10 × 1.3 / 120) = 1 < min 2
    const c = computeCost({
      prices: PRICES,
      instance: 'gpu-a',
      capacityPerReplica: 120,
      capacitySource: 'test',
      peakPerS: 10,
      headroom: 0.3,
      minReplicas: 2,
    });
    assert.equal(c.replicas, 2);
    // per 1k actual = 2 × 1.006 / (3.6 × 10) = 0.055888…
    near(c.on_demand.per_1k_actual, 2.012 / 36, 'per 1k actual');
  });

  it('following a daily curve: replicas per hour, replica-hours, cost and utilisation', () => {
    // 12 hours at 40/s, 12 hours at 200/s; capacity 100/s; headroom 25 %; min 1; 2.00 per hour.
    const curve = [...Array(12).fill(40), ...Array(12).fill(200)];
    const c = computeCost({
      prices: PRICES,
      instance: 'cpu-b',
      capacityPerReplica: 100,
      capacitySource: 'test',
      peakPerS: 200,
      headroom: 0.25,
      minReplicas: 1,
      curve,
    });
    // per hour: ceil(40 × 1.25 / 100) = ceil(0.5) = 1; ceil(200 × 1.25 / 100) = ceil(2.5) = 3
    assert.deepEqual(c.curve?.replicas, [...Array(12).fill(1), ...Array(12).fill(3)]);
    // replica-hours per day = 12 × 1 + 12 × 3 = 48
    assert.equal(c.curve?.replica_hours_per_day, 48);
    // inferences per day = 12 × 3600 × 40 + 12 × 3600 × 200 = 1,728,000 + 8,640,000 = 10,368,000
    assert.equal(c.curve?.inferences_per_day, 10_368_000);
    // utilisation = 10,368,000 / (48 × 100 × 3600) = 0.6
    near(c.curve?.utilisation, 0.6, 'curve utilisation');
    // monthly following the curve = 48 × 2.00 × 730 / 24 = 2920; full = 3 × 2.00 × 730 = 4380
    near(c.on_demand.monthly_curve, 2920, 'monthly curve');
    near(c.on_demand.monthly_full, 4380, 'monthly full');
    // per 1k actual = 48 × 2.00 / 10,368,000 × 1000 = 0.00925926…
    near(c.on_demand.per_1k_actual, 96 / 10_368, 'per 1k actual');
    near(c.headline.monthly, 2920, 'headline monthly follows the curve');
    assert.equal(c.spot, null, 'no spot price, no spot figures');
    assert.ok(c.notes.some((n) => n.includes('no spot price')));
  });

  it('per 1M tokens for text generation, and a month of other length', () => {
    const c = computeCost({
      prices: PRICES,
      instance: 'gpu-a',
      capacityPerReplica: 8,
      capacitySource: 'test',
      peakPerS: 8,
      headroom: 0,
      minReplicas: 1,
      tokensPerInference: 250,
      hoursPerMonth: 720,
    });
    // replicas = ceil(8 / 8) = 1; per 1k = 1.006 / (3.6 × 8) = 0.034930…; per 1M tokens = per 1k × 1000 / 250
    assert.equal(c.replicas, 1);
    near(c.on_demand.per_1m_tokens_full_use, ((1.006 / 28.8) * 1000) / 250, 'per 1M tokens');
    near(c.on_demand.per_1m_tokens_actual, ((1.006 / 28.8) * 1000) / 250, 'per 1M tokens actual');
    // monthly = 1 × 1.006 × 720
    near(c.on_demand.monthly_full, 724.32, 'monthly at 720 h');
  });

  it('rounding: 100/s × 1.3 over 130/s is one replica, not two', () => {
    assert.equal(replicasFor(100, 130, 0.3, 1), 1);
    assert.equal(replicasFor(100.1, 130, 0.3, 1), 2);
    assert.equal(HOURS_PER_MONTH, 730);
  });

  it('two versions: v2 dearer per inference but cheaper per correct inference', () => {
    const base = {
      prices: PRICES,
      instance: 'flat',
      capacitySource: 'test',
      peakPerS: 1000,
      headroom: 0,
      minReplicas: 1,
    };
    // v1: 100/s per replica → 10 replicas → per 1k = 10 × 1.00 / 3600 = 0.0027778; accuracy 0.80 → 0.0034722
    const v1 = computeCost({ ...base, capacityPerReplica: 100, accuracy: 0.8 });
    // v2: 95/s → ceil(10.53) = 11 replicas → per 1k = 11 / 3600 = 0.0030556; accuracy 0.95 → 0.0032164
    const v2 = computeCost({ ...base, capacityPerReplica: 95, accuracy: 0.95 });
    near(v1.on_demand.per_1k_correct_actual, 10 / 3600 / 0.8, 'v1 per correct');
    near(v2.on_demand.per_1k_correct_actual, 11 / 3600 / 0.95, 'v2 per correct');
    const cmp = compareCosts(v1, v2);
    near(cmp.per_1k.ratio, 1.1, 'per 1k ratio');
    assert.equal(cmp.cheaper, 'b');
    assert.match(cmp.text, /v2 is cheaper per correct inference/);
    // Without accuracy, v1 is cheaper per inference.
    const cmp2 = compareCosts(
      computeCost({ ...base, capacityPerReplica: 100 }),
      computeCost({ ...base, capacityPerReplica: 95 }),
    );
    assert.equal(cmp2.cheaper, 'a');
    assert.match(cmp2.text, /accuracy unknown/);
  });

  it('refuses inputs the plan should have refused', () => {
    const base = { prices: PRICES, capacitySource: 't', peakPerS: 1, headroom: 0, minReplicas: 1 };
    assert.throws(() => computeCost({ ...base, instance: 'nope', capacityPerReplica: 1 }), RangeError);
    assert.throws(() => computeCost({ ...base, instance: 'flat', capacityPerReplica: 0 }), RangeError);
  });
});
