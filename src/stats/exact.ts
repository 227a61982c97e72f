/**
 * Exact and score-based tests for counts: error counts (Fisher's exact test, the exact conditional
 * Poisson rate-ratio test), accuracies (difference of two proportions with Newcombe's hybrid-score
 * interval; McNemar's exact test for paired correctness). None uses a normal approximation of a
 * count, so 0 vs 3 errors out of 1,000 is judged exactly. Checked against R/SciPy in exact.test.ts
 * (fixtures: fixtures/exact.json from fixtures/make_fixtures.py and fixtures/make_fixtures.R).
 */
import {
  betaQuantile,
  binomialDistribution,
  hypergeometricDistribution,
  minLikelihoodPValue,
  normCdf,
  normQuantile,
} from './distributions.js';

/** A two-sided confidence interval. */
export type Interval = [number, number];

/** Clopper–Pearson ("exact") interval of a binomial proportion: Beta quantiles, central. */
export function clopperPearson(x: number, n: number, confidence = 0.95): Interval {
  if (n <= 0) return [0, 1];
  const a = (1 - confidence) / 2;
  const low = x === 0 ? 0 : betaQuantile(a, x, n - x + 1);
  const high = x === n ? 1 : betaQuantile(1 - a, x + 1, n - x);
  return [low, high];
}

/** Wilson score interval (no continuity correction) — the building block of Newcombe's interval. */
export function wilsonScore(x: number, n: number, confidence = 0.95): Interval {
  if (n <= 0) return [0, 1];
  const z = normQuantile(1 - (1 - confidence) / 2);
  const p = x / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Exact binomial test of x successes in n trials against p (two-sided, R's binom.test rule). */
export function binomialTest(x: number, n: number, p = 0.5): number {
  if (n <= 0) return 1;
  return minLikelihoodPValue(binomialDistribution(n, p), x);
}

export interface FisherResult {
  /** Two-sided p-value (SciPy's fisher_exact / R's fisher.test rule). */
  pValue: number;
  /** Sample odds ratio (a·d)/(b·c) as SciPy reports it. */
  oddsRatio: number;
}

/**
 * Fisher's exact test of the 2×2 table [[a, b], [c, d]] (rows: arms; columns: event, no event),
 * two-sided: the probability, given the margins, of all tables no more likely than the observed.
 */
export function fisherExact(a: number, b: number, c: number, d: number): FisherResult {
  const total = a + b + c + d;
  const oddsRatio = b * c === 0 ? (a * d === 0 ? NaN : Infinity) : (a * d) / (b * c);
  if (total === 0 || a + b === 0 || c + d === 0 || a + c === 0 || b + d === 0) return { pValue: 1, oddsRatio };
  // a ~ Hypergeometric(total, a + c column successes, a + b row draws)
  const dist = hypergeometricDistribution(total, a + c, a + b);
  return { pValue: minLikelihoodPValue(dist, a), oddsRatio };
}

export interface RateComparison {
  /** Events per unit exposure of each arm. */
  rate1: number;
  rate2: number;
  /** rate1 / rate2 (Infinity when only arm 1 has events; NaN when neither has). */
  ratio: number;
  /** Exact (Clopper–Pearson based) interval of the ratio. */
  ratioCi: Interval;
  /** rate1 − rate2 and its interval (Newcombe hybrid score, exposures taken as trial counts). */
  difference: number;
  differenceCi: Interval;
  pValue: number;
  confidence: number;
}

/**
 * Exact conditional test of two Poisson rates (R's poisson.test(c(x1, x2), c(t1, t2))): given the
 * total x1 + x2, x1 is binomial with p = t1·r / (t1·r + t2); the ratio r = 1 under H0. The ratio's
 * interval maps the Clopper–Pearson interval of p. With exposures in requests the rate is an error
 * rate and the difference interval is Newcombe's (so it stays inside [−1, 1]).
 */
export function poissonRateTest(x1: number, t1: number, x2: number, t2: number, confidence = 0.95): RateComparison {
  const n = x1 + x2;
  const rate1 = t1 > 0 ? x1 / t1 : NaN;
  const rate2 = t2 > 0 ? x2 / t2 : NaN;
  const ratio = x2 === 0 ? (x1 === 0 ? NaN : Infinity) : rate1 / rate2;
  const diff = newcombeDifference(x1, t1, x2, t2, confidence);
  if (n === 0) {
    return {
      rate1,
      rate2,
      ratio,
      ratioCi: [0, Infinity],
      difference: diff.difference,
      differenceCi: diff.ci,
      pValue: 1,
      confidence,
    };
  }
  const [pl, pu] = clopperPearson(x1, n, confidence);
  const toRatio = (p: number): number => (p >= 1 ? Infinity : (p / (1 - p)) * (t2 / t1));
  return {
    rate1,
    rate2,
    ratio,
    ratioCi: [toRatio(pl), toRatio(pu)],
    difference: diff.difference,
    differenceCi: diff.ci,
    pValue: binomialTest(x1, n, t1 / (t1 + t2)),
    confidence,
  };
}

export interface ProportionDifference {
  p1: number;
  p2: number;
  /** p1 − p2. */
  difference: number;
  /** Newcombe's hybrid score interval (method 10, Newcombe 1998, Stat Med 17:873). */
  ci: Interval;
  /** Pooled two-proportion z test (= R's prop.test(correct = FALSE)), two-sided. */
  pValue: number;
  confidence: number;
}

/** Difference of two independent proportions x1/n1 − x2/n2 with Newcombe's interval and a score-test p-value. */
export function newcombeDifference(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
  confidence = 0.95,
): ProportionDifference {
  const p1 = n1 > 0 ? x1 / n1 : NaN;
  const p2 = n2 > 0 ? x2 / n2 : NaN;
  const difference = p1 - p2;
  if (!(n1 > 0 && n2 > 0)) return { p1, p2, difference, ci: [NaN, NaN], pValue: NaN, confidence };
  const [l1, u1] = wilsonScore(x1, n1, confidence);
  const [l2, u2] = wilsonScore(x2, n2, confidence);
  const low = difference - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const high = difference + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const pValue = se === 0 ? 1 : 2 * normCdf(-Math.abs(difference / se));
  return { p1, p2, difference, ci: [low, high], pValue, confidence };
}

export interface McNemarResult {
  /** Paired difference of proportions: (candidateOnly − controlOnly) / pairs. */
  difference: number;
  /** Exact conditional interval: Clopper–Pearson for θ = candidateOnly / discordant, mapped to (2θ − 1)·discordant / pairs. */
  ci: Interval;
  /** Exact McNemar: binomial test of candidateOnly among the discordant pairs against ½. */
  pValue: number;
  /** Odds ratio candidateOnly / controlOnly and its exact conditional interval. */
  oddsRatio: number;
  oddsRatioCi: Interval;
  discordant: number;
  pairs: number;
  confidence: number;
}

/**
 * McNemar's exact test for paired binary outcomes: `b` pairs where only arm 1 (control) is right,
 * `c` where only arm 2 (candidate) is; `pairs` in all. The difference is arm 2 − arm 1.
 */
export function mcnemarExact(b: number, c: number, pairs: number, confidence = 0.95): McNemarResult {
  const m = b + c;
  const difference = pairs > 0 ? (c - b) / pairs : NaN;
  if (m === 0) {
    // No discordant pair: the difference is within ± the share of pairs that could still be discordant.
    const u = pairs > 0 ? clopperPearson(0, pairs, confidence)[1] : 1;
    return {
      difference,
      ci: [-u, u],
      pValue: 1,
      oddsRatio: NaN,
      oddsRatioCi: [0, Infinity],
      discordant: 0,
      pairs,
      confidence,
    };
  }
  const [tl, tu] = clopperPearson(c, m, confidence);
  const scale = m / pairs;
  const odds = (t: number): number => (t >= 1 ? Infinity : t / (1 - t));
  return {
    difference,
    ci: [(2 * tl - 1) * scale, (2 * tu - 1) * scale],
    pValue: binomialTest(c, m, 0.5),
    oddsRatio: b === 0 ? Infinity : c / b,
    oddsRatioCi: [odds(tl), odds(tu)],
    discordant: m,
    pairs,
    confidence,
  };
}
