import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../core/random.js';
import type { Binned } from './binned.js';
import { rankShiftTest } from './rank-binned.js';

/** Log-normal values (median 20) on a 0.5 ms grid, binned. */
function sample(rng: Rng, n: number, shift = 0): Binned {
  const counts = new Float64Array(400);
  for (let i = 0; i < n; i++) counts[Math.min(399, Math.round((rng.logNormal(20, 0.3) + shift) * 2))]++;
  const values: number[] = [];
  const c: number[] = [];
  counts.forEach((k, i) => {
    if (k > 0) {
      values.push(i / 2);
      c.push(k);
    }
  });
  return { values, counts: c };
}

describe('Hodges–Lehmann interval on heavily tied (HDR-like) data', () => {
  it('interval ends are pairwise differences (closed at the jump), and cover a zero shift at ≥ 95% − MC margin', (t) => {
    const rng = new Rng(99);
    const runs = 1000;
    let covered = 0;
    let rejected = 0;
    for (let r = 0; r < runs; r++) {
      const res = rankShiftTest(sample(rng, 200), sample(rng, 200));
      // Differences of values on a 0.5 grid are multiples of 0.5: exactly, not a rounding error away.
      assert.ok(Number.isInteger(res.ci[0] * 2) && Number.isInteger(res.ci[1] * 2), `ci ${res.ci}`);
      if (res.ci[0] <= 0 && res.ci[1] >= 0) covered++;
      if (res.pValue < 0.05) rejected++;
    }
    const margin = 3 * Math.sqrt((0.05 * 0.95) / runs);
    t.diagnostic(
      `coverage ${(covered / runs).toFixed(3)}, Mann-Whitney rejections ${(rejected / runs).toFixed(3)} (α 0.05)`,
    );
    assert.ok(covered / runs >= 0.95 - margin, `coverage ${covered / runs}`);
    assert.ok(rejected / runs <= 0.05 + margin, `rejections ${rejected / runs}`);
  });
});

describe('rankShiftTest input', () => {
  it('rejects bins that are not strictly ascending, saying where', () => {
    assert.throws(
      () => rankShiftTest({ values: [1, 3, 2], counts: [1, 1, 1] }, { values: [1], counts: [1] }),
      /control: binned values must be finite and strictly ascending \(index 2: 2\)/,
    );
    assert.throws(
      () => rankShiftTest({ values: [1], counts: [1] }, { values: [1, 2], counts: [1, -1] }),
      /candidate: count at index 1/,
    );
  });
});
