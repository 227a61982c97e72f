import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blockBootstrapCI,
  blockBootstrapDiffCI,
  defaultBlockLength,
  movingBlockIndices,
  quantileSorted,
} from './bootstrap.js';
import { Rng } from '../core/random.js';

const mean = (s: readonly number[]): number => s.reduce((a, b) => a + b, 0) / s.length;

/** AR(1) series around `mu` (autocorrelated like consecutive load-test windows). */
function ar1(n: number, mu: number, phi: number, sd: number, seed: number): number[] {
  const r = new Rng(seed);
  const out: number[] = [];
  let e = 0;
  for (let i = 0; i < n; i++) {
    e = phi * e + r.normal(0, sd);
    out.push(mu + e);
  }
  return out;
}

test('default block length is round(n^(1/3))', () => {
  assert.equal(defaultBlockLength(1), 1);
  assert.equal(defaultBlockLength(8), 2);
  assert.equal(defaultBlockLength(60), 4);
  assert.equal(defaultBlockLength(1000), 10);
});

test('moving-block indices are runs of consecutive windows, n in total', () => {
  const r = new Rng(3);
  const idx = movingBlockIndices(20, 4, r);
  assert.equal(idx.length, 20);
  for (let k = 0; k < 20; k += 4) for (let j = 1; j < 4; j++) assert.equal(idx[k + j], idx[k] + j);
  assert.ok(idx.every((i) => i >= 0 && i < 20));
});

test('type-7 quantiles', () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([1, 2, 3, 4], 0), 1);
  assert.equal(quantileSorted([1, 2, 3, 4], 1), 4);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
});

test('same seed → same interval (deterministic)', () => {
  const a = ar1(40, 10, 0.5, 1, 1);
  const b = ar1(40, 12, 0.5, 1, 2);
  const r1 = blockBootstrapDiffCI(a, b, mean, mean, { seed: 7 });
  const r2 = blockBootstrapDiffCI(a, b, mean, mean, { seed: 7 });
  assert.deepEqual(r1, r2);
  assert.equal(r1.resamples, 2000);
  assert.deepEqual(r1.blockLength, [3, 3]);
  const r3 = blockBootstrapDiffCI(a, b, mean, mean, { seed: 8 });
  assert.notEqual(r1.low, r3.low);
});

test('the CI of a difference contains the true difference and excludes 0 (synthetic AR(1))', () => {
  // True means 10 and 12: difference 2.
  const a = ar1(60, 10, 0.6, 1, 11);
  const b = ar1(60, 12, 0.6, 1, 12);
  const r = blockBootstrapDiffCI(a, b, mean, mean, { seed: 1, resamples: 2000 });
  assert.ok(r.low < 2 && r.high > 2, `[${r.low}, ${r.high}] should contain 2`);
  assert.ok(r.low > 0, `[${r.low}, ${r.high}] should exclude 0`);
  assert.ok(Math.abs(r.estimate - (mean(b) - mean(a))) < 1e-12);
});

test('coverage: over 40 synthetic pairs the 95% CI contains the true difference most of the time', () => {
  let covered = 0;
  for (let k = 0; k < 40; k++) {
    const a = ar1(48, 50, 0.5, 3, 100 + k);
    const b = ar1(48, 53, 0.5, 3, 200 + k);
    const r = blockBootstrapDiffCI(a, b, mean, mean, { seed: k + 1, resamples: 500 });
    if (r.low <= 3 && r.high >= 3) covered++;
  }
  // Percentile block bootstrap undercovers a little with autocorrelation and n = 48; 95% nominal.
  assert.ok(covered >= 32, `covered ${covered}/40`);
});

test('one-sample interval of a median', () => {
  const x = ar1(50, 100, 0.3, 5, 5);
  const median = (s: readonly number[]): number =>
    quantileSorted(
      [...s].sort((p, q) => p - q),
      0.5,
    );
  const r = blockBootstrapCI(x, median, { seed: 3 });
  assert.ok(r.low <= r.estimate && r.estimate <= r.high);
  assert.ok(r.low < 100 && r.high > 100, `[${r.low}, ${r.high}]`);
});
