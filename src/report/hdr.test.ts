import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import {
  HistogramPool,
  decodeSparse,
  encodeValues,
  mergeSparse,
  percentileSpectrum,
  scaleEncoded,
  sparseQuantile,
} from './hdr.js';
import { Rng } from '../core/random.js';

function values(seed: number, n: number, median: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => Math.round(r.logNormal(median, 0.5)));
}

test('sparse quantiles equal HdrHistogram getValueAtPercentile', () => {
  const h = build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  for (const v of values(1, 5000, 20000)) h.recordValue(v);
  const s = decodeSparse(encodeIntoCompressedBase64(h));
  assert.equal(s.total, 5000);
  for (const p of [0.1, 1, 10, 50, 90, 99, 99.9, 100])
    assert.equal(sparseQuantile(s, p / 100), h.getValueAtPercentile(p), `p${p}`);
  h.destroy();
});

test('merged windows and pool quantiles equal one histogram of all values', () => {
  const windows = [1, 2, 3, 4].map((k) => values(k, 300, 10000 * k));
  const all = build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  for (const w of windows) for (const v of w) all.recordValue(v);
  const sparse = windows.map((w) => decodeSparse(encodeValues(w)));
  const merged = mergeSparse(sparse);
  const pool = new HistogramPool(sparse);
  const qs = [0.5, 0.9, 0.99];
  const fromPool = pool.quantiles([0, 1, 2, 3], qs);
  qs.forEach((q, i) => {
    assert.equal(sparseQuantile(merged, q), all.getValueAtPercentile(q * 100));
    assert.equal(fromPool[i], all.getValueAtPercentile(q * 100));
  });
  // Repeated members count twice.
  const twice = pool.quantiles([3, 3], [0.5]);
  assert.equal(twice[0], sparseQuantile(sparse[3], 0.5));
  all.destroy();
});

test('percentile spectrum runs from p0 to the last sample; scaling multiplies values', () => {
  const s = decodeSparse(encodeValues(values(9, 1000, 5000)));
  const sp = percentileSpectrum(s, 50);
  assert.equal(sp.x[0], 1);
  assert.ok(sp.x.includes(2) && sp.x.includes(10) && sp.x.includes(100) && sp.x.includes(1000));
  assert.equal(sp.x[sp.x.length - 1], 1000);
  for (let i = 1; i < sp.ms.length; i++) assert.ok(sp.ms[i] >= sp.ms[i - 1]);
  const scaled = decodeSparse(scaleEncoded(encodeValues([1000, 2000, 3000]), 1.5));
  assert.equal(scaled.total, 3);
  assert.ok(Math.abs(sparseQuantile(scaled, 0.5) - 3000) <= 3);
});
