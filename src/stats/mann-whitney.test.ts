import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mannWhitneyU, rankWithTies } from './mann-whitney.js';

const close = (actual: number, expected: number, tol: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs expected ${expected}`);

// Worked example with ties (checked by hand and against SciPy 1.17 mannwhitneyu, method='asymptotic'):
//   a = 1.1 2.3 2.3 3.0 4.2 5.0          (n1 = 6)
//   b = 2.3 3.0 4.8 5.5 6.1 7.0 7.0      (n2 = 7)
// Pooled ranks: 1.1→1, 2.3→3 (×3), 3.0→5.5 (×2), 4.2→7, 4.8→8, 5.0→9, 5.5→10, 6.1→11, 7.0→12.5 (×2)
// R_a = 1+3+3+5.5+7+9 = 28.5, U_a = 28.5 − 6·7/2 = 7.5, U_b = 42 − 7.5 = 34.5, mean = 21
// Tie term Σ(t³−t) = 24 + 6 + 6 = 36; σ² = (42/12)·(14 − 36/(13·12)) = 48.192308, σ = 6.942068
// z (no continuity) = 13.5/σ = 1.944665, p = 0.051815; with continuity z = 13/σ = 1.872641, p = 0.061118.
const A = [1.1, 2.3, 2.3, 3.0, 4.2, 5.0];
const B = [2.3, 3.0, 4.8, 5.5, 6.1, 7.0, 7.0];

test('ranks with ties are averaged and the tie term is Σ(t³−t)', () => {
  const { ranks, tieTerm } = rankWithTies([...A, ...B]);
  assert.deepEqual(ranks, [1, 3, 3, 5.5, 7, 9, 3, 5.5, 8, 10, 11, 12.5, 12.5]);
  assert.equal(tieTerm, 36);
});

test('Mann-Whitney U with ties, continuity-corrected normal approximation (default)', () => {
  const r = mannWhitneyU(A, B);
  assert.equal(r.method, 'asymptotic');
  assert.equal(r.ties, true);
  assert.equal(r.uA, 7.5);
  assert.equal(r.uB, 34.5);
  assert.equal(r.u, 7.5);
  close(r.z, 1.8726408, 1e-6, 'z');
  close(r.pValue, 0.061118, 1e-6, 'p');
  close(r.probabilityBGreater, 34.5 / 42, 1e-12, 'P(b > a)');
});

test('Mann-Whitney U with ties, no continuity correction', () => {
  const r = mannWhitneyU(A, B, { continuity: false });
  close(r.z, 1.9446655, 1e-6, 'z');
  close(r.pValue, 0.0518153, 1e-6, 'p');
});

test('swapping the samples flips z and keeps p', () => {
  const r1 = mannWhitneyU(A, B);
  const r2 = mannWhitneyU(B, A);
  close(r2.z, -r1.z, 1e-12, 'z');
  close(r2.pValue, r1.pValue, 1e-12, 'p');
  assert.equal(r2.u, r1.u);
});

test('exact p-value for small samples without ties', () => {
  // Complete separation of 3 vs 3: P(U = 0) = 1/C(6,3) = 1/20, two-sided 0.1 (SciPy: 0.1).
  const r = mannWhitneyU([1, 2, 3], [4, 5, 6]);
  assert.equal(r.method, 'exact');
  assert.equal(r.u, 0);
  close(r.pValue, 0.1, 1e-12, 'p');
  // 4 vs 5: U_a = 0+2+5+5 = 12 (SciPy's statistic), U_b = 8; exact two-sided p = 2·P(U ≥ 12)
  // = 92/126 = 0.7301587 (SciPy: 0.7301587301587302).
  const r2 = mannWhitneyU([1, 5, 9, 12], [3, 4, 6, 7, 8]);
  assert.equal(r2.uA, 12);
  assert.equal(r2.u, 8);
  close(r2.pValue, 0.7301587301587302, 1e-12, 'p');
  // Asymptotic for the same data (SciPy: 0.7133031738784577).
  close(
    mannWhitneyU([1, 5, 9, 12], [3, 4, 6, 7, 8], { method: 'asymptotic' }).pValue,
    0.7133031738784577,
    1e-6,
    'p asymptotic',
  );
});

test('identical samples: no evidence of a shift', () => {
  const x = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  const r = mannWhitneyU(x, x);
  assert.equal(r.uA, 50);
  assert.equal(r.z, 0);
  assert.equal(r.pValue, 1);
  const tied = mannWhitneyU([3, 3, 3, 3, 3, 3, 3, 3, 3], [3, 3, 3, 3, 3, 3, 3, 3, 3]);
  assert.equal(tied.pValue, 1);
});

test('a clear shift in 30 windows is highly significant; empty input gives NaN', () => {
  const a = Array.from({ length: 30 }, (_, i) => 20 + (i % 7) * 0.3);
  const b = a.map((v) => v * 1.3);
  const r = mannWhitneyU(a, b);
  assert.ok(r.z > 4, `z ${r.z}`);
  assert.ok(r.pValue < 1e-5, `p ${r.pValue}`);
  assert.ok(Number.isNaN(mannWhitneyU([], [1, 2]).pValue));
  assert.ok(Number.isNaN(mannWhitneyU([NaN], [1, 2]).pValue));
});
