import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { Rng } from '../core/random.js';
import type { Binned } from './binned.js';
import { binnedQuantile, quantileDifferenceBootstrap } from './quantile-bootstrap.js';

/** HDR-like binning: 3 significant decimal digits (≈0.1% buckets), in ms. */
function hdrBin(samples: number[]): Binned {
  const m = new Map<number, number>();
  for (const s of samples) {
    const mag = 10 ** (Math.floor(Math.log10(s)) - 2);
    const v = Math.round(s / mag) * mag;
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  const values = [...m.keys()].sort((a, b) => a - b);
  return { values: Float64Array.from(values), counts: Float64Array.from(values, (v) => m.get(v) ?? 0) };
}

function windows(rng: Rng, n: number, perWindow: number, median: number, shift = 0, tailShare = 0, tailFactor = 1) {
  return Array.from({ length: n }, () =>
    hdrBin(
      Array.from({ length: perWindow }, () => {
        const v = rng.logNormal(median, 0.4) + shift;
        return rng.float() < tailShare ? v * tailFactor : v;
      }),
    ),
  );
}

describe('block bootstrap of quantile differences over binned windows', () => {
  it('binnedQuantile follows HdrHistogram’s rule (smallest value with cumulative count ≥ ⌈qN⌉)', () => {
    const b: Binned = { values: [1, 2, 5, 9], counts: [3, 3, 3, 1] };
    const expanded = [1, 1, 1, 2, 2, 2, 5, 5, 5, 9];
    for (const q of [0, 0.1, 0.3, 0.31, 0.5, 0.6, 0.61, 0.9, 0.99, 1]) {
      const want = expanded[Math.max(1, Math.ceil(q * expanded.length - 1e-9)) - 1];
      assert.equal(binnedQuantile(b, q), want, `q=${q}`);
    }
    assert.ok(Number.isNaN(binnedQuantile({ values: [], counts: [] }, 0.5)));
  });

  it('finds a known p99 regression and not a p50 one; same seed → same interval', () => {
    const rng = new Rng(7);
    const control = windows(rng, 40, 300, 50);
    const candidate = windows(rng, 40, 300, 50, 0, 0.03, 4);
    const r = quantileDifferenceBootstrap(control, candidate, { seed: 3 });
    const [p50, , p99] = r.differences;
    assert.ok(p99.estimate > 50 && p99.ci[0] > 0 && p99.pValue < 0.01, JSON.stringify(p99));
    assert.ok(p50.ci[0] < 5 && p50.ci[1] > -5, JSON.stringify(p50));
    assert.deepEqual(quantileDifferenceBootstrap(control, candidate, { seed: 3 }).differences, r.differences);
  });

  it('a +5 ms shift: p50 interval covers 5 and excludes 0', () => {
    const rng = new Rng(11);
    const r = quantileDifferenceBootstrap(windows(rng, 60, 200, 40), windows(rng, 60, 200, 40, 5), {
      quantiles: [0.5],
    });
    const d = r.differences[0];
    assert.ok(d.ci[0] < 5 && d.ci[1] > 5 && d.ci[0] > 0, JSON.stringify(d));
  });

  it('60 windows × 2 arms of realistic HDR buckets, 2,000 resamples: measured time', (t) => {
    const rng = new Rng(5);
    const control = windows(rng, 60, 2000, 50);
    const candidate = windows(rng, 60, 2000, 52);
    const buckets = control.reduce((s, w) => s + w.values.length, 0) / control.length;
    quantileDifferenceBootstrap(control, candidate, { resamples: 200 }); // warm-up (JIT)
    const t0 = performance.now();
    const r = quantileDifferenceBootstrap(control, candidate, { resamples: 2000 });
    const ms = performance.now() - t0;
    t.diagnostic(
      `quantile bootstrap: ${ms.toFixed(0)} ms for 2×60 windows, ${buckets.toFixed(0)} buckets/window, 2000 resamples`,
    );
    assert.equal(r.resamples, 2000);
    assert.ok(ms < 5000, `took ${ms} ms`);
  });
});
