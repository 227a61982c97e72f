import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../core/random.js';
import { normCdf } from './distributions.js';
import { MsprtMonitor, msprtInterval, msprtLikelihoodRatio, proportionDifference } from './sequential.js';

/** Streams of two arms, looked at every `batch` requests per arm up to `max`; returns the share rejected (and when). */
function simulate(
  rng: Rng,
  streams: number,
  max: number,
  batch: number,
  pA: number,
  pB: number,
  tau2: number,
  alpha: number,
): { msprt: number; naive: number; meanStop: number } {
  let msprt = 0;
  let naive = 0;
  let stopSum = 0;
  for (let s = 0; s < streams; s++) {
    const m = new MsprtMonitor(tau2);
    let a = 0;
    let b = 0;
    let stoppedM = false;
    let stoppedN = false;
    for (let n = batch; n <= max; n += batch) {
      for (let i = 0; i < batch; i++) {
        if (rng.float() < pA) a++;
        if (rng.float() < pB) b++;
      }
      const d = proportionDifference(a, n, b, n);
      if (!stoppedM && m.look(d.estimate, d.variance) <= alpha) {
        stoppedM = true;
        stopSum += n;
      }
      // A fixed-horizon z test re-run at every look ("peeking").
      if (!stoppedN && d.variance > 0 && 2 * normCdf(-Math.abs(d.estimate) / Math.sqrt(d.variance)) < alpha)
        stoppedN = true;
    }
    if (stoppedM) msprt++;
    else stopSum += max;
    if (stoppedN) naive++;
  }
  return { msprt: msprt / streams, naive: naive / streams, meanStop: stopSum / streams };
}

describe('mSPRT (always-valid sequential test)', () => {
  it('likelihood ratio and interval by their closed forms', () => {
    // θ̂ = 0: Λ = √(V/(V+τ²)) < 1.
    assert.equal(msprtLikelihoodRatio(0, 1, 3), 0.5);
    const v = 0.0001;
    const tau2 = 0.0004;
    const lr = msprtLikelihoodRatio(0.03, v, tau2);
    assert.ok(Math.abs(lr - Math.sqrt(0.2) * Math.exp((tau2 * 0.0009) / (2 * v * (v + tau2)))) < 1e-9 * lr);
    const [lo, hi] = msprtInterval(0.03, v, tau2, 0.05);
    // At the interval's ends the ratio equals 1/α.
    assert.ok(Math.abs(msprtLikelihoodRatio(hi - 0.03, v, tau2) - 20) < 1e-6 && Math.abs(lo + hi - 0.06) < 1e-12);
  });

  it('identical arms looked at 100 times: false-positive rate ≤ alpha (peeking a z test does not)', (t) => {
    const r = simulate(new Rng(31), 1000, 5000, 50, 0.1, 0.1, 0.02 ** 2, 0.05);
    const margin = 3 * Math.sqrt((0.05 * 0.95) / 1000);
    t.diagnostic(
      `1,000 streams × 100 looks: mSPRT false-positive rate ${r.msprt.toFixed(3)}; peeking z test ${r.naive.toFixed(3)}`,
    );
    assert.ok(r.msprt <= 0.05 + margin, `mSPRT false-positive rate ${r.msprt}`);
    assert.ok(r.naive > 0.1, `peeking z test ${r.naive}`);
  });

  it('a 3 pp error-rate increase is caught, usually long before the end', (t) => {
    const r = simulate(new Rng(32), 300, 5000, 50, 0.1, 0.13, 0.02 ** 2, 0.05);
    t.diagnostic(
      `0.10 → 0.13: detected ${r.msprt.toFixed(3)}, mean stop at ${r.meanStop.toFixed(0)} of 5,000 requests per arm`,
    );
    assert.ok(r.msprt > 0.9 && r.meanStop < 3000, JSON.stringify(r));
  });
});
