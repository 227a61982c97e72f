import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateProfile } from './rate-profile.js';
import { concurrencyAt, createArrivals } from './arrivals.js';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('constant rate: arrival i at i/rate; Λ is linear', () => {
  const p = RateProfile.constant(200, 30);
  const table: Array<[number, number]> = [
    [0, 0],
    [1, 0.005],
    [200, 1],
    [5999, 29.995],
  ];
  for (const [u, t] of table) close(p.timeAt(u), t);
  close(p.cumulativeAt(10), 2000);
  assert.equal(p.totalArrivals, 6000);
  assert.equal(p.timeAt(6000), Infinity, 'half-open: the 6001st arrival would be at 30 s, outside');
});

test('linear ramp 0→10/s over 10 s: Λ(t) = t²/2, so arrival n at √(2n)', () => {
  const p = new RateProfile(0, [{ durationS: 10, target: 10 }]);
  for (const n of [0, 1, 2, 8, 18, 32, 49.9]) close(p.timeAt(n), Math.sqrt(2 * n), 1e-9);
  close(p.rateAt(5), 5);
  close(p.cumulativeAt(4), 8);
});

test('stages: ramp up, hold, ramp down; Λ and Λ⁻¹ are inverses', () => {
  const p = new RateProfile(10, [
    { durationS: 5, target: 50 },
    { durationS: 10, target: 50 },
    { durationS: 5, target: 0 },
  ]);
  close(p.totalArrivals, 150 + 500 + 125);
  for (let t = 0; t < 20; t += 0.37) close(p.timeAt(p.cumulativeAt(t)), t, 1e-6);
  close(p.rateAt(2.5), 30);
  close(p.rateAt(17.5), 25);
});

test('zero-duration stage jumps the rate (spike)', () => {
  const p = new RateProfile(10, [
    { durationS: 2, target: 10 },
    { durationS: 0, target: 100 },
    { durationS: 1, target: 100 },
  ]);
  close(p.totalArrivals, 20 + 100);
  close(p.timeAt(20), 2);
  close(p.timeAt(70), 2.5);
});

test('poisson arrivals are seeded, and their count matches the rate', () => {
  const a = createArrivals('poisson', 7);
  const b = createArrivals('poisson', 7);
  for (let i = 0; i < 100; i++) assert.equal(a.next(), b.next());
  const p = RateProfile.constant(1000, 10);
  const arr = createArrivals('poisson', 3);
  let n = 0;
  while (p.timeAt(arr.next()) !== Infinity) n++;
  // 10,000 expected; Poisson sd = 100 → 5 sd bound.
  assert.ok(Math.abs(n - 10000) < 500, `count ${n}`);
});

test('gamma arrivals: mean gap 1, burstiness is the coefficient of variation', () => {
  for (const b of [1, 3]) {
    const arr = createArrivals('gamma', 11, b);
    let prev = 0;
    const gaps: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const u = arr.next();
      gaps.push(u - prev);
      prev = u;
    }
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
    assert.ok(Math.abs(mean - 1) < 0.08, `mean ${mean}`);
    assert.ok(Math.abs(sd / mean - b) < 0.15 * b, `cv ${sd / mean} for b=${b}`);
  }
});

test('concurrency stages interpolate linearly', () => {
  const stages = [
    { durationS: 10, target: 16 },
    { durationS: 20, target: 16 },
  ];
  const table: Array<[number, number]> = [
    [0, 0],
    [5, 8],
    [10, 16],
    [25, 16],
    [40, 16],
  ];
  for (const [t, c] of table) assert.equal(concurrencyAt(0, stages, t), c);
});
