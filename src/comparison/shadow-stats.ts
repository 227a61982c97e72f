/**
 * McNemar's exact test on correctness of primary vs candidate (same inputs), local to the shadow
 * judge until src/stats has its own (the lead swaps it at merge). Only the discordant pairs count:
 * b = primary right and candidate wrong, c = candidate right and primary wrong. Under "equally
 * accurate" c ~ Binomial(b + c, ½):
 *
 * - p-value: two-sided exact, min(1, 2 · P(X ≤ min(b, c))) (equal to SciPy's `binomtest(c, b + c)`:
 *   the distribution is symmetric);
 * - interval of the accuracy difference (candidate − primary) = (c − b) / n: conditional on the
 *   discordant count m = b + c, the Clopper–Pearson interval [lo, hi] of c / m, mapped by
 *   d = (m / n)(2θ − 1) (with no discordant pair: ± the Clopper–Pearson upper bound of 0 / n);
 * - power to detect an accuracy drop of `minimumEffect` (δ) at α: Connor's (1987) normal
 *   approximation with the discordant share ψ estimated from the data (at least δ, since a change
 *   of δ needs at least δ discordant):  Φ((δ√n − z₁₋α/₂ √ψ) / √(ψ − δ²)).
 */
import { normalCdf, normalQuantile } from '../stats/proportion.js';
import { incompleteBeta } from '../stats/trend.js';

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  return incompleteBeta(n - k, k + 1, 1 - p);
}

/** Two-sided exact McNemar p-value from the discordant counts. */
export function mcnemarExactP(b: number, c: number): number {
  const m = b + c;
  if (m === 0) return 1;
  return Math.min(1, 2 * binomialCdf(Math.min(b, c), m, 0.5));
}

/** The x with I_x(a, b) = q (bisection; |error| < 1e-12). */
function betaQuantile(q: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (incompleteBeta(a, b, mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Clopper–Pearson (exact) interval of a binomial proportion x / n at `confidence`. */
export function clopperPearson(x: number, n: number, confidence: number): [number, number] {
  if (n === 0) return [0, 1];
  const a = (1 - confidence) / 2;
  return [x === 0 ? 0 : betaQuantile(a, x, n - x + 1), x === n ? 1 : betaQuantile(1 - a, x + 1, n - x)];
}

export interface McNemarResult {
  /** (c − b) / n: candidate accuracy − primary accuracy. */
  estimate: number;
  ci: [number, number];
  pValue: number;
  power: number;
}

function zeroDiscordantCi(n: number, confidence: number): [number, number] {
  const hi = clopperPearson(0, n, confidence)[1];
  return [-hi, hi];
}

/** b = primary-only correct, c = candidate-only correct, n = all scored pairs. */
export function mcnemar(
  b: number,
  c: number,
  n: number,
  opts: { confidence: number; alpha: number; minimumEffect: number },
): McNemarResult {
  const m = b + c;
  if (n === 0) return { estimate: Number.NaN, ci: [Number.NaN, Number.NaN], pValue: 1, power: 0 };
  const [lo, hi] = clopperPearson(c, m, opts.confidence);
  const share = m / n;
  const delta = opts.minimumEffect;
  const psi = Math.min(1, Math.max(m / n, delta));
  const sd = Math.sqrt(psi - delta * delta);
  const power =
    sd > 0
      ? normalCdf((delta * Math.sqrt(n) - normalQuantile(1 - opts.alpha / 2) * Math.sqrt(psi)) / sd)
      : delta > 0
        ? 1
        : 0;
  return {
    estimate: (c - b) / n,
    // No discordant pair: the conditional interval is empty; bound the discordant share instead.
    ci: m === 0 ? zeroDiscordantCi(n, opts.confidence) : [share * (2 * lo - 1), share * (2 * hi - 1)],
    pValue: mcnemarExactP(b, c),
    power,
  };
}
