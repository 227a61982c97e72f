/**
 * src/stats checked against an independent implementation: reference values computed once with R
 * and SciPy by fixtures/make_fixtures.py and kept in fixtures/reference.json (no Python or R needed
 * here).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { betaQuantile, normCdf, normQuantile } from './distributions.js';
import {
  binomialTest,
  clopperPearson,
  fisherExact,
  mcnemarExact,
  newcombeDifference,
  poissonRateTest,
} from './exact.js';
import { adjustPValues } from './multiple.js';
import { mcnemarPower, mcnemarSampleSize, twoProportionPower, twoProportionSampleSize } from './power.js';
import { binnedQuantile } from './quantile-bootstrap.js';
import { hodgesLehmann, kthPairwiseDifference, rankShiftTest } from './rank-binned.js';

// biome-ignore lint/suspicious/noExplicitAny: the fixture file's shape is checked by the assertions below.
type Json = any;
const REF: Json = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../src/stats/fixtures/reference.json', import.meta.url)), 'utf8'),
  (_k, v) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v),
);

/** |actual − expected| ≤ rel·|expected| + abs (equal infinities pass). */
function close(actual: number, expected: number, rel: number, abs = 0, what = ''): void {
  if (actual === expected) return;
  const ok = Math.abs(actual - expected) <= rel * Math.abs(expected) + abs;
  assert.ok(ok, `${what}: got ${actual}, expected ${expected} (rel ${rel}, abs ${abs})`);
}

describe('distributions against SciPy', () => {
  it('normal CDF and quantile to ~1e-12 relative', () => {
    for (const [x, p] of REF.normalCdf) close(normCdf(x), p, 1e-12, 0, `normCdf(${x})`);
    for (const [p, x] of REF.normalPpf) close(normQuantile(p), x, 1e-12, 1e-14, `normQuantile(${p})`);
  });
  it('beta quantile (Clopper–Pearson bounds) to 1e-9 relative', () => {
    for (const [p, a, b, x] of REF.betaPpf) close(betaQuantile(p, a, b), x, 1e-9, 0, `betaQuantile(${p}, ${a}, ${b})`);
  });
});

describe('quantiles of binned samples against NumPy', () => {
  it("HdrHistogram's rule equals numpy.quantile(method='inverted_cdf') on the expanded sample", () => {
    for (const c of REF.quantiles) {
      c.q.forEach((q: number, i: number) => assert.equal(binnedQuantile(c.sample, q), c.numpy[i], `q=${q}`));
    }
  });
});

describe('exact tests against R and SciPy', () => {
  it("Fisher's exact test (two-sided) matches fisher.test and fisher_exact", () => {
    for (const f of REF.fisher) {
      const [[a, b], [c, d]] = f.table;
      const r = fisherExact(a, b, c, d);
      close(r.pValue, f.r.pValue, 1e-9, 0, `fisher ${JSON.stringify(f.table)} vs R`);
      close(r.pValue, f.scipy.pValue, 1e-9, 0, `fisher ${JSON.stringify(f.table)} vs SciPy`);
      close(r.oddsRatio, f.scipy.oddsRatio, 1e-12, 0, 'odds ratio');
    }
  });
  it('3 of 1,000 vs 0 of 1,000 is judged exactly (p ≈ 0.25, where the normal approximation says 0.08)', () => {
    const ref = REF.fisher.find((f: Json) => JSON.stringify(f.table) === '[[3,997],[0,1000]]');
    const r = fisherExact(3, 997, 0, 1000);
    close(r.pValue, ref.r.pValue, 1e-9, 0, 'fisher 3/1000 vs 0/1000');
    assert.ok(r.pValue > 0.24 && newcombeDifference(3, 1000, 0, 1000).pValue < 0.09);
  });
  it('binomial test and Clopper–Pearson interval match binom.test', () => {
    for (const b of REF.binom) {
      close(binomialTest(b.x, b.n, b.p), b.r.pValue, 1e-9, 0, `binom.test(${b.x}, ${b.n}, ${b.p})`);
      close(binomialTest(b.x, b.n, b.p), b.scipy.pValue, 1e-9, 0, 'binomtest');
      const [lo, hi] = clopperPearson(b.x, b.n);
      close(lo, b.r.ci[0], 1e-9, 1e-15, 'CP low');
      close(hi, b.r.ci[1], 1e-9, 1e-15, 'CP high');
    }
  });
  it('exact conditional Poisson rate test matches poisson.test (ratio, interval, p)', () => {
    for (const c of REF.poisson) {
      const r = poissonRateTest(c.x1, c.t1, c.x2, c.t2);
      const what = `poisson.test(c(${c.x1}, ${c.x2}), c(${c.t1}, ${c.t2}))`;
      close(r.pValue, c.r.pValue, 1e-9, 0, what);
      close(r.ratio, c.r.ratio, 1e-12, 0, `${what} ratio`);
      close(r.ratioCi[0], c.r.ratioCi[0], 1e-9, 1e-15, `${what} low`);
      close(r.ratioCi[1], c.r.ratioCi[1], 1e-9, 0, `${what} high`);
    }
  });
  it("Newcombe's hybrid score interval and the score-test p (prop.test without correction)", () => {
    for (const c of REF.newcombe) {
      const r = newcombeDifference(c.x1, c.n1, c.x2, c.n2);
      close(r.difference, c.difference, 1e-12, 1e-15, 'difference');
      close(r.ci[0], c.ci[0], 1e-9, 1e-15, 'Newcombe low');
      close(r.ci[1], c.ci[1], 1e-9, 1e-15, 'Newcombe high');
      close(r.pValue, c.r.pValue, 1e-9, 0, 'prop.test p');
    }
  });
  it('McNemar exact: p and the conditional interval of the paired difference', () => {
    for (const c of REF.mcnemar) {
      const r = mcnemarExact(c.b, c.c, c.pairs);
      close(r.pValue, c.r.pValue, 1e-9, 0, `mcnemar ${c.b}/${c.c} vs R`);
      close(r.pValue, c.scipy.pValue, 1e-9, 0, `mcnemar ${c.b}/${c.c} vs SciPy`);
      close(r.difference, c.difference, 1e-12, 0, 'difference');
      close(r.ci[0], c.ci[0], 1e-9, 1e-15, 'low');
      close(r.ci[1], c.ci[1], 1e-9, 1e-15, 'high');
    }
  });
  it('McNemar with no discordant pair: the interval is ± the Clopper–Pearson bound of 0 discordant (not [0, 0])', () => {
    const r = mcnemarExact(0, 0, 1000);
    // Clopper–Pearson upper bound for 0 of n in closed form: 1 − (α/2)^(1/n).
    const u = 1 - 0.025 ** (1 / 1000);
    close(r.ci[1], u, 1e-9, 0, 'upper');
    close(r.ci[0], -u, 1e-9, 0, 'lower');
    assert.equal(r.pValue, 1);
  });
  it("Holm and Benjamini–Hochberg match R's p.adjust", () => {
    const holm = adjustPValues(REF.padjust.p, 'holm');
    const bh = adjustPValues(REF.padjust.p, 'bh');
    REF.padjust.holm.forEach((v: number, i: number) => close(holm[i], v, 1e-12, 0, `holm[${i}]`));
    REF.padjust.BH.forEach((v: number, i: number) => close(bh[i], v, 1e-12, 0, `BH[${i}]`));
    assert.deepEqual(adjustPValues([0.2, NaN, 0.01], 'holm').map(Number.isNaN), [false, true, false]);
  });
});

describe('Mann-Whitney and Hodges–Lehmann on binned samples against R wilcox.test and SciPy', () => {
  for (const c of REF.wilcox) {
    it(`${c.name}: U, p, estimate, interval`, () => {
      const r = rankShiftTest(c.control, c.candidate, { confidence: c.confidence });
      assert.equal(r.method, c.exact ? 'exact' : 'normal');
      close(r.u, c.r.W, 1e-12, 0, 'U vs R');
      close(r.u, c.scipy.U, 1e-12, 0, 'U vs SciPy');
      close(r.pValue, c.r.pValue, 1e-9, 0, 'p vs R');
      close(r.pValue, c.scipy.pValue, 1e-9, 0, 'p vs SciPy');
      // Estimate: the median of all pairwise differences, checked by brute force.
      close(r.estimate, c.bruteForce.median, 1e-12, 1e-12, 'HL estimate');
      for (const [k, v] of Object.entries(c.bruteForce.k)) {
        close(kthPairwiseDifference(c.control, c.candidate, Number(k)), v as number, 0, 0, `k=${k}`);
      }
      if (c.exact) {
        // Order statistics of the differences: identical.
        close(r.ci[0], c.r.ci[0], 1e-12, 0, 'CI low');
        close(r.ci[1], c.r.ci[1], 1e-12, 0, 'CI high');
        close(r.estimate, c.r.estimate, 1e-12, 0, 'estimate vs R');
      } else {
        // R root-finds with uniroot(tol = 1e-4) on a step function; ours bisects to ~1e-12.
        close(r.ci[0], c.r.ci[0], 0, 5e-4, 'CI low');
        close(r.ci[1], c.r.ci[1], 0, 5e-4, 'CI high');
        // R's large-sample estimate is where the corrected statistic crosses 0: between the middle differences.
        assert.ok(c.r.estimate >= c.bruteForce.middle[0] - 5e-4 && c.r.estimate <= c.bruteForce.middle[1] + 5e-4);
      }
    });
  }
  it('never expands bins: a million requests in 2,000 buckets per arm', () => {
    const values = Float64Array.from({ length: 2000 }, (_, i) => 1 + i * 0.5);
    const a = Float64Array.from(values, (v) => Math.round(1000 * Math.exp(-((v - 300) ** 2) / 20000)));
    const b = Float64Array.from(values, (v) => Math.round(1000 * Math.exp(-((v - 302) ** 2) / 20000)));
    const r = rankShiftTest({ values, counts: a }, { values, counts: b });
    assert.ok(r.nControl > 1e5 && r.nCandidate > 1e5);
    close(r.estimate, 2, 0, 0.5, 'shift');
    assert.ok(r.ci[0] <= 2 && r.ci[1] >= 1.5 && r.pValue < 1e-6, JSON.stringify(r));
    close(hodgesLehmann({ values, counts: a }, { values, counts: a }), 0, 0, 0, 'identical');
  });
});

describe('power against R power.prop.test and the McNemar formula (Connor 1987) in SciPy', () => {
  it('two proportions: power for n, and n for 80% power', () => {
    for (const c of REF.powerProp) {
      close(twoProportionPower(c.p1, c.p2, c.n), c.r.power, 1e-9, 0, `power.prop.test(n=${c.n}, ${c.p1}, ${c.p2})`);
      close(twoProportionSampleSize(c.p1, c.p2, 0.8), c.r.nFor80, 1e-6, 0, `n for 80% (${c.p1}, ${c.p2})`);
    }
  });
  it('McNemar: pairs for the power, and the power for those pairs', () => {
    for (const c of REF.mcnemarPower) {
      const n = mcnemarSampleSize(c.discordance, c.difference, c.power, c.alpha);
      close(n, c.pairs, 1e-9, 0, `pairs ψ=${c.discordance} δ=${c.difference}`);
      close(mcnemarPower(c.discordance, c.difference, n, c.alpha), c.power, 1e-9, 0, 'power');
    }
  });
});
