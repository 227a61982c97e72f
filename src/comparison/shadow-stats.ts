/**
 * McNemar's exact test on correctness of primary vs candidate (same inputs), as the shadow judge
 * reports it: src/stats's exact test and Connor's power, in the shadow's terms. Only the discordant
 * pairs count: b = primary right and candidate wrong, c = candidate right and primary wrong.
 */
import { binomialTest, mcnemarExact } from '../stats/exact.js';
import { mcnemarPower } from '../stats/power.js';

/** Two-sided exact McNemar p-value (SciPy's `binomtest(c, b + c)`); 1 with no discordant pair. */
export function mcnemarExactP(b: number, c: number): number {
  return b + c === 0 ? 1 : binomialTest(c, b + c, 0.5);
}

export interface McNemarResult {
  /** (c − b) / n: candidate accuracy − primary accuracy. */
  estimate: number;
  ci: [number, number];
  pValue: number;
  /** Power to detect an accuracy change of `minimumEffect`, the discordant share estimated from the data. */
  power: number;
}

/** b = primary-only correct, c = candidate-only correct, n = all scored pairs. */
export function mcnemar(
  b: number,
  c: number,
  n: number,
  opts: { confidence: number; alpha: number; minimumEffect: number },
): McNemarResult {
  if (n === 0) return { estimate: Number.NaN, ci: [Number.NaN, Number.NaN], pValue: 1, power: 0 };
  const r = mcnemarExact(b, c, n, opts.confidence);
  return {
    estimate: r.difference,
    ci: r.ci,
    pValue: r.pValue,
    power: mcnemarPower((b + c) / n, opts.minimumEffect, n, opts.alpha),
  };
}
