/**
 * Distribution functions to full double precision, for the release-comparison tests that are
 * checked against SciPy/R at ~1e-9 (proportion.ts's `normalCdf` is a 1.5e-7 approximation, fine for
 * its callers but not for these): the standard normal CDF and quantile, the beta quantile (for
 * Clopper–Pearson), and exact discrete distributions (binomial, hypergeometric) as normalised
 * probability arrays built by ratio recurrences from the mode (no factorials, so no overflow and
 * no loss of relative precision for large n).
 */
import { normalQuantile as acklamQuantile } from './proportion.js';
import { incompleteBeta } from './trend.js';

const SQRT_PI = Math.sqrt(Math.PI);

/** erfc(x) for x ≥ 0: series for erf below 2 (all terms positive), Lentz continued fraction above. */
function erfcNonNegative(x: number): number {
  if (x < 2) {
    // erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
      if (term < sum * 1e-17) break;
    }
    return 1 - (2 / SQRT_PI) * Math.exp(-x * x) * sum;
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), modified Lentz.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = x + a / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / SQRT_PI / f;
}

/** Standard normal CDF Φ(x), relative error ~1e-15 in both tails. */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  const z = x / Math.SQRT2;
  return z < 0 ? 0.5 * erfcNonNegative(-z) : 1 - 0.5 * erfcNonNegative(z);
}

/** Upper tail 1 − Φ(x), accurate for large x. */
export function normSf(x: number): number {
  return normCdf(-x);
}

/** Standard normal quantile Φ⁻¹(p): Acklam's approximation refined by one Halley step on `normCdf`. */
export function normQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  let x = acklamQuantile(p);
  for (let i = 0; i < 2; i++) {
    // Work in the tail that keeps precision.
    const e = x < 0 ? normCdf(x) - p : 1 - p - normCdf(-x);
    const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
    x = x - u / (1 + (x * u) / 2);
  }
  return x;
}

/** The p-quantile of Beta(a, b) (bisection on the regularised incomplete beta; relative error ~1e-13). */
export function betaQuantile(p: number, a: number, b: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 2000; i++) {
    const mid = (lo + hi) / 2;
    if (mid === lo || mid === hi) break;
    if (incompleteBeta(a, b, mid) < p) lo = mid;
    else hi = mid;
    if (hi - lo <= 1e-15 * hi) break;
  }
  return (lo + hi) / 2;
}

/** A discrete distribution on the integers `offset … offset + probs.length − 1`. */
export interface DiscreteDistribution {
  offset: number;
  probs: Float64Array;
}

/** Fill `w[k]` from the mode outwards with ratio(k) = P(k+1)/P(k), then normalise. */
function fromRatios(size: number, mode: number, ratio: (k: number) => number): Float64Array {
  const w = new Float64Array(size);
  w[mode] = 1;
  for (let k = mode; k + 1 < size; k++) w[k + 1] = w[k] * ratio(k);
  for (let k = mode; k > 0; k--) w[k - 1] = w[k] / ratio(k - 1);
  // Neumaier's compensated sum: accurate without sorting (supports can have 10⁵ points).
  let sum = 0;
  let comp = 0;
  for (let k = 0; k < size; k++) {
    const t = sum + w[k];
    comp += Math.abs(sum) >= Math.abs(w[k]) ? sum - t + w[k] : w[k] - t + sum;
    sum = t;
  }
  sum += comp;
  for (let k = 0; k < size; k++) w[k] /= sum;
  return w;
}

/** Binomial(n, p) probabilities of 0 … n. */
export function binomialDistribution(n: number, p: number): DiscreteDistribution {
  const probs = new Float64Array(n + 1);
  if (p <= 0) probs[0] = 1;
  else if (p >= 1) probs[n] = 1;
  else {
    const mode = Math.min(n, Math.floor((n + 1) * p));
    const odds = p / (1 - p);
    return { offset: 0, probs: fromRatios(n + 1, mode, (k) => ((n - k) / (k + 1)) * odds) };
  }
  return { offset: 0, probs };
}

/**
 * Hypergeometric: draws `n` from a population of `total` with `successes` successes; the number of
 * successes drawn, over its support max(0, n − (total − successes)) … min(n, successes).
 */
export function hypergeometricDistribution(total: number, successes: number, n: number): DiscreteDistribution {
  const lo = Math.max(0, n - (total - successes));
  const hi = Math.min(n, successes);
  const size = hi - lo + 1;
  const mode = Math.min(hi, Math.max(lo, Math.floor(((n + 1) * (successes + 1)) / (total + 2)))) - lo;
  const ratio = (i: number): number => {
    const k = i + lo;
    return ((successes - k) * (n - k)) / ((k + 1) * (total - successes - n + k + 1));
  };
  return { offset: lo, probs: fromRatios(size, mode, ratio) };
}

/**
 * Two-sided p-value of an observed value of a discrete statistic by the "minimum likelihood" rule
 * (R's binom.test and fisher.test, SciPy's fisher_exact and binomtest): the probability of all
 * outcomes no more likely than the observed one, with R's relative tolerance 1 + 1e-7.
 */
export function minLikelihoodPValue(dist: DiscreteDistribution, observed: number): number {
  const i = observed - dist.offset;
  if (i < 0 || i >= dist.probs.length) return NaN;
  const limit = dist.probs[i] * (1 + 1e-7);
  let p = 0;
  for (let k = 0; k < dist.probs.length; k++) if (dist.probs[k] <= limit) p += dist.probs[k];
  return Math.min(1, p);
}

/** P(X ≤ x) and P(X ≥ x) of a discrete distribution. */
export function discreteTails(dist: DiscreteDistribution, x: number): { lower: number; upper: number } {
  let lower = 0;
  let upper = 0;
  for (let k = 0; k < dist.probs.length; k++) {
    const v = k + dist.offset;
    if (v <= x) lower += dist.probs[k];
    if (v >= x) upper += dist.probs[k];
  }
  return { lower: Math.min(1, lower), upper: Math.min(1, upper) };
}
