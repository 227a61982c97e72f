/**
 * The early-stopping rule against SciPy (fixtures/early-stopping.json, made once by
 * fixtures/make_early_stopping.py: beta.ppf, binom.cdf and a one-by-one scan for the minimum n).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
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
