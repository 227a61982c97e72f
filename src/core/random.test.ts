import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, mulberry32 } from './random.js';

test('mulberry32 matches the reference sequence (seed 42, computed independently in Python)', () => {
  const r = mulberry32(42);
  assert.deepEqual([r(), r(), r()], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
});

test('same seed, same sequence; different seeds differ', () => {
  const a = new Rng(123);
  const b = new Rng(123);
  const c = new Rng(124);
  const sa = Array.from({ length: 20 }, () => a.float());
  assert.deepEqual(
    sa,
    Array.from({ length: 20 }, () => b.float()),
  );
  assert.notDeepEqual(
    sa,
    Array.from({ length: 20 }, () => c.float()),
  );
});

test('uniform ints and normals have the expected moments', () => {
  const r = new Rng(9);
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 20000; i++) counts[r.int(10)]++;
  for (const c of counts) assert.ok(c > 1800 && c < 2200, `bucket ${c}`);
  let sum = 0;
  let sq = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const x = r.normal(5, 2);
    sum += x;
    sq += x * x;
  }
  const mean = sum / n;
  const sd = Math.sqrt(sq / n - mean * mean);
  assert.ok(Math.abs(mean - 5) < 0.06, `mean ${mean}`);
  assert.ok(Math.abs(sd - 2) < 0.06, `sd ${sd}`);
});
