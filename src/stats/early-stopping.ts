/**
 * Capacity with stated confidence (MLPerf Inference's early-stopping rule): a claim "the q-th
 * percentile of latency is within the bound", checked with n requests of which k exceeded the
 * bound, holds at confidence c when the one-sided upper confidence bound of the exceedance rate
 * (Clopper–Pearson: the c-quantile of Beta(k + 1, n − k)) is at most 1 − q — equivalently, when
 * P(Binomial(n, 1 − q) ≤ k) ≤ 1 − c: were the true exceedance rate as high as 1 − q, seeing k or
 * fewer would be that unlikely. Checked against SciPy in early-stopping.test.ts
 * (fixtures/early-stopping.json from fixtures/make_early_stopping.py).
 */
import { betaQuantile } from './distributions.js';
import { incompleteBeta } from './trend.js';

/** P(X ≤ k) for X ~ Binomial(n, p), through the regularised incomplete beta I_{1−p}(n − k, k + 1). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  return incompleteBeta(n - k, k + 1, 1 - p);
}

/** One-sided upper confidence bound of a binomial proportion (k of n), Clopper–Pearson. */
export function upperConfidenceBound(k: number, n: number, confidence: number): number {
  if (n <= 0 || k >= n) return 1;
  return betaQuantile(confidence, k + 1, n - k);
}

/**
 * The fewest requests n (≥ k + 1) with which k exceedances still support the claim: the smallest n
 * with P(Binomial(n, 1 − q) ≤ k) ≤ 1 − c. The CDF falls as n grows, so doubling then bisecting finds it.
 */
export function minRequestsFor(k: number, percentile: number, confidence: number): number {
  const p = 1 - percentile;
  const alpha = 1 - confidence;
  const holds = (n: number): boolean => binomialCdf(k, n, p) <= alpha;
  let lo = k; // fails (n = k: every request exceeded)
  let hi = Math.max(k + 1, 1);
  for (let i = 0; i < 200 && !holds(hi); i++) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (holds(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

export interface PercentileClaim {
  /** The claimed percentile as a fraction (0.99 for p99). */
  percentile: number;
  /** Confidence of the claim (0.99). */
  confidence: number;
  /** Requests checked against the bound. */
  requests: number;
  /** Of them, over the bound. */
  exceeded: number;
  /** Observed exceedance rate k / n. */
  exceedance_rate: number;
  /** One-sided upper confidence bound of the exceedance rate. */
  upper_bound: number;
  /** The claim holds at the stated confidence: upper_bound ≤ 1 − percentile. */
  enough: boolean;
  /** The fewest requests with which the observed number of exceedances would support the claim. */
  min_requests: number;
  /** More requests needed (0 when enough), assuming no further exceedances. */
  more_needed: number;
  /** The fewest requests that can support the claim at all (none over the bound). */
  min_requests_zero: number;
}

/** Whether n requests with k over the bound suffice to claim the percentile at the confidence. */
export function percentileClaim(
  requests: number,
  exceeded: number,
  percentile: number,
  confidence = 0.99,
): PercentileClaim {
  const n = Math.max(0, Math.floor(requests));
  const k = Math.min(n, Math.max(0, Math.floor(exceeded)));
  const upper = upperConfidenceBound(k, n, confidence);
  const minN = minRequestsFor(k, percentile, confidence);
  const enough = n > 0 && binomialCdf(k, n, 1 - percentile) <= 1 - confidence;
  return {
    percentile,
    confidence,
    requests: n,
    exceeded: k,
    exceedance_rate: n > 0 ? k / n : 0,
    upper_bound: upper,
    enough,
    min_requests: minN,
    more_needed: enough ? 0 : Math.max(0, minN - n),
    min_requests_zero: minRequestsFor(0, percentile, confidence),
  };
}
