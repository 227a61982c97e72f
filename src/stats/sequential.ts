/**
 * Sequential testing that may look at the data as often as it likes: the mixture sequential
 * probability ratio test (mSPRT) with a normal mixture, as in Johari, Koomen, Pekelis & Walsh,
 * "Always valid inference" (Operations Research 70(3), 2022; KDD 2017). For an estimate θ̂ of a
 * difference (of means or proportions) with variance V, and a mixing distribution N(0, τ²) over the
 * true difference, the mixture likelihood ratio against θ = 0 is
 *   Λ = √(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²))),
 * and the always-valid p-value is the running minimum of 1/Λ over the looks. Rejecting when it
 * falls to α keeps the false-positive rate ≤ α however often one looks (the ratio is a
 * non-negative martingale under H0; Ville's inequality). The matching always-valid interval is
 *   θ̂ ± √(V (V + τ²)/τ² · (2 ln(1/α) + ln((V + τ²)/V))).
 * Normal theory: valid for sums of many requests (the CLT), which is the regime of a load test.
 * τ² is best of the order of the squared effect worth detecting (the minimum effect).
 */

/** Mixture likelihood ratio Λ for estimate θ̂ with variance V, mixing variance τ². */
export function msprtLikelihoodRatio(estimate: number, variance: number, tau2: number): number {
  if (!(variance > 0) || !(tau2 > 0)) return estimate === 0 || !(tau2 > 0) ? 1 : Infinity;
  const s = variance + tau2;
  return Math.sqrt(variance / s) * Math.exp((tau2 * estimate * estimate) / (2 * variance * s));
}

/** Always-valid interval of the difference at level 1 − alpha. */
export function msprtInterval(estimate: number, variance: number, tau2: number, alpha: number): [number, number] {
  if (!(variance > 0)) return [estimate, estimate];
  const s = variance + tau2;
  const half = Math.sqrt(((variance * s) / tau2) * (2 * Math.log(1 / alpha) + Math.log(s / variance)));
  return [estimate - half, estimate + half];
}

/** One metric's always-valid p-value across looks (the running minimum of 1/Λ). */
export class MsprtMonitor {
  private p = 1;
  constructor(readonly tau2: number) {}

  /** Adds a look at the cumulative data: estimate and its variance. Returns the always-valid p-value. */
  look(estimate: number, variance: number): number {
    if (Number.isFinite(estimate) && Number.isFinite(variance)) {
      this.p = Math.min(this.p, 1 / msprtLikelihoodRatio(estimate, variance, this.tau2));
    }
    return this.p;
  }

  get pValue(): number {
    return this.p;
  }
}

/** Difference of two proportions x2/n2 − x1/n1 and its plug-in variance, for the monitor. */
export function proportionDifference(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
): { estimate: number; variance: number } {
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  return { estimate: p2 - p1, variance: (p1 * (1 - p1)) / n1 + (p2 * (1 - p2)) / n2 };
}
