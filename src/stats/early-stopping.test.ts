/**
 * The early-stopping rule against SciPy (fixtures/early-stopping.json, made once by
 * fixtures/make_early_stopping.py: beta.ppf, binom.cdf and a one-by-one scan for the minimum n).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../core/random.js';
import { binomialCdf, minRequestsFor, percentileClaim, upperConfidenceBound } from './early-stopping.js';

interface Case {
  n: number;
  k: number;
  percentile: number;
  confidence: number;
  upper: number;
  cdf: number;
  enough: boolean;
  min_n: number;
}
const REF = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../src/stats/fixtures/early-stopping.json', import.meta.url)), 'utf8'),
) as { cases: Case[] };

function close(actual: number, expected: number, rel: number, abs: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected) + abs,
    `${what}: got ${actual}, expected ${expected}`,
  );
}

describe('early stopping (MLPerf rule) against SciPy', () => {
  it('has the fixture', () => assert.ok(REF.cases.length >= 90));
  for (const c of REF.cases) {
    const what = `n=${c.n} k=${c.k} q=${c.percentile} c=${c.confidence}`;
    it(what, () => {
      close(upperConfidenceBound(c.k, c.n, c.confidence), c.upper, 1e-9, 1e-15, `upper ${what}`);
      close(binomialCdf(c.k, c.n, 1 - c.percentile), c.cdf, 1e-8, 1e-300, `cdf ${what}`);
      assert.equal(minRequestsFor(c.k, c.percentile, c.confidence), c.min_n, `min n ${what}`);
      const claim = percentileClaim(c.n, c.k, c.percentile, c.confidence);
      assert.equal(claim.enough, c.enough, `enough ${what}`);
      assert.equal(claim.enough, claim.upper_bound <= 1 - c.percentile, `the two forms agree ${what}`);
      assert.equal(claim.more_needed, c.enough ? 0 : c.min_n - c.n);
    });
  }

  it('worked example of docs/cost.md: p99 at 99 % needs 459 requests with none over the bound', () => {
    // 0.99^458 = 0.01009 > 0.01, 0.99^459 = 0.00999 <= 0.01
    const claim = percentileClaim(300, 0, 0.99, 0.99);
    assert.equal(claim.enough, false);
    assert.equal(claim.min_requests_zero, 459);
    assert.equal(claim.more_needed, 159);
  });
});

describe('early stopping: false claims by seeded simulation', () => {
  /** Share of `trials` runs of n requests, each over the bound with probability p, that the rule calls enough. */
  function claimRate(n: number, p: number, trials: number, seed: number): number {
    const rand = mulberry32(seed);
    const verdict = new Map<number, boolean>();
    let enough = 0;
    for (let t = 0; t < trials; t++) {
      let k = 0;
      for (let i = 0; i < n; i++) if (rand() < p) k++;
      let v = verdict.get(k);
      if (v === undefined) verdict.set(k, (v = percentileClaim(n, k, 0.99, 0.99).enough));
      if (v) enough++;
    }
    return enough / trials;
  }

  it('a p99 that is exactly at the bound (1 % over it) is claimed in at most 1 % of runs', () => {
    // The exact (Clopper–Pearson) rule is conservative: ≤ 1 %, plus three standard errors of the simulation.
    const trials = 20_000;
    const rate = claimRate(1000, 0.01, trials, 20261204);
    assert.ok(rate <= 0.01 + 3 * Math.sqrt((0.01 * 0.99) / trials), `false claims ${rate}`);
  });

  it('a p99 well within the bound (0.2 % over it) is claimed with 5,000 requests nearly always', () => {
    const rate = claimRate(5000, 0.002, 2000, 7);
    assert.ok(rate > 0.95, `claimed in ${rate}`);
  });
});
