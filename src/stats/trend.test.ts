import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearTrend, studentTCdf, studentTQuantile } from './trend.js';
import { Rng } from '../core/random.js';

const close = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** AR(1) noise e_t = φ e_{t−1} + N(0, sd²), started from 0. */
function ar1(n: number, phi: number, sd: number, seed: number): number[] {
  const r = new Rng(seed);
  const out: number[] = [];
  let e = 0;
  for (let i = 0; i < n; i++) {
    e = phi * e + r.normal(0, sd);
    out.push(e);
  }
  return out;
}

test('Student t CDF and quantiles match tables', () => {
  close(studentTCdf(0, 5), 0.5, 1e-12, 'median');
  close(studentTCdf(2.015048, 5), 0.95, 1e-6, 't(5) 95%');
  close(studentTCdf(-2.228139, 10), 0.025, 1e-6, 't(10) 2.5%');
  close(studentTQuantile(0.975, 30), 2.042272, 1e-5, 't(30) 97.5%');
  close(studentTQuantile(0.975, 1), 12.7062, 1e-3, 't(1) 97.5%');
  close(studentTQuantile(0.975, 1e6), 1.959966, 1e-4, 'large df → normal');
  close(studentTQuantile(0.975, 7.5), (2.364624 + 2.306004) / 2, 0.03, 'fractional df between neighbours');
});

test('a straight line is recovered exactly; a flat series has p = 1', () => {
  const y = Array.from({ length: 20 }, (_, i) => 3 + 0.5 * i);
  const r = linearTrend(y);
  close(r.slope, 0.5, 1e-12, 'slope');
  close(r.intercept, 3, 1e-12, 'intercept');
  assert.equal(r.pValue, 0);
  assert.equal(linearTrend(Array(10).fill(7)).pValue, 1);
  assert.ok(Number.isNaN(linearTrend([1, 2, 3]).pValue), 'too few points');
});

test('x values are used as given (slope per x unit)', () => {
  const x = [0, 60, 120, 180, 240, 300];
  const y = x.map((v) => 100 + v / 60);
  close(linearTrend(y, x).slope, 1 / 60, 1e-12, 'slope per second');
});

test('a trend in AR(1) noise is detected', () => {
  let detected = 0;
  for (let s = 0; s < 50; s++) {
    // 60 points, AR(1) φ = 0.5 noise (sd 1), trend adding 6 sd over the run.
    const y = ar1(60, 0.5, 1, 100 + s).map((v, i) => v + (6 * i) / 60);
    const r = linearTrend(y);
    if (r.pValue < 0.05 && r.slope > 0) detected++;
    assert.ok(r.ci[0] <= r.slope && r.slope <= r.ci[1]);
  }
  assert.ok(detected >= 45, `detected ${detected}/50`);
});

test('white and AR(1) noise is not called a trend (false positives near α over many seeds)', () => {
  const seeds = 400;
  for (const phi of [0, 0.5, 0.8]) {
    let fp = 0;
    for (let s = 0; s < seeds; s++) if (linearTrend(ar1(60, phi, 1, 10_000 * (phi + 1) + s)).pValue < 0.05) fp++;
    // α = 5 % → expect ≈ 20 of 400; the plain OLS t-test gives ≈ 35 % at φ = 0.8.
    assert.ok(fp <= 36, `φ=${phi}: ${fp}/${seeds} false positives`);
  }
});

test('plain OLS standard errors would call AR(1) noise a trend far more often', () => {
  let olsFp = 0;
  let adjFp = 0;
  for (let s = 0; s < 200; s++) {
    const r = linearTrend(ar1(60, 0.8, 1, 777 + s));
    if (Math.abs(r.slope / r.seOls) > 2.0) olsFp++;
    if (r.pValue < 0.05) adjFp++;
  }
  assert.ok(olsFp > 2 * adjFp, `OLS ${olsFp} vs adjusted ${adjFp}`);
});

test('a perfect line: infinitely significant unless flat, an interval of zero width', () => {
  const up = linearTrend([1, 3, 5, 7, 9, 11]);
  assert.equal(up.slope, 2);
  assert.equal(up.se, 0);
  assert.equal(up.t, Infinity);
  assert.equal(up.pValue, 0);
  assert.deepEqual(up.ci, [2, 2]);
  const flat = linearTrend([4, 4, 4, 4, 4]);
  assert.equal(flat.slope, 0);
  assert.equal(flat.t, 0);
  assert.equal(flat.pValue, 1);
  assert.deepEqual(flat.ci, [0, 0]);
});
