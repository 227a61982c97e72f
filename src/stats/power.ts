/**
 * Power and sample size, before a run (how many requests per arm to detect an effect) and after
 * it (the power the data had for the smallest effect worth detecting). All are the usual normal
 * approximations, stated per function; the exact tests they stand for (Fisher, McNemar exact)
 * have power close to these at the sample sizes a load test reaches.
 */
import type { Binned } from './binned.js';
import { normCdf, normQuantile } from './distributions.js';
import { probabilityAbove } from './rank-binned.js';

function zAlpha(alpha: number): number {
  return normQuantile(1 - alpha / 2);
}

/**
 * Power of the two-sided two-proportion test with n per arm (R's power.prop.test, strict = FALSE):
 * Φ((√n·|p1 − p2| − z_{α/2}·√((p1 + p2)(q1 + q2)/2)) / √(p1q1 + p2q2)).
 */
export function twoProportionPower(p1: number, p2: number, nPerArm: number, alpha = 0.05): number {
  const q1 = 1 - p1;
  const q2 = 1 - p2;
  const sd = Math.sqrt(p1 * q1 + p2 * q2);
  const d = Math.abs(p1 - p2);
  if (d === 0) return alpha / 2;
  if (sd === 0) return 1;
  return normCdf((Math.sqrt(nPerArm) * d - zAlpha(alpha) * Math.sqrt(((p1 + p2) * (q1 + q2)) / 2)) / sd);
}

/** Requests per arm for the two-proportion test to reach `power` (the closed form power.prop.test solves). */
export function twoProportionSampleSize(p1: number, p2: number, power = 0.8, alpha = 0.05): number {
  const d = Math.abs(p1 - p2);
  if (d === 0) return Infinity;
  const q1 = 1 - p1;
  const q2 = 1 - p2;
  const a = zAlpha(alpha) * Math.sqrt(((p1 + p2) * (q1 + q2)) / 2);
  const b = normQuantile(power) * Math.sqrt(p1 * q1 + p2 * q2);
  return ((a + b) / d) ** 2;
}

/**
 * Pairs for McNemar's test to detect a paired difference δ of proportions when a share ψ of pairs
 * is discordant (Connor 1987): n = (z_{α/2}√ψ + z_β√(ψ − δ²))² / δ².
 */
export function mcnemarSampleSize(discordance: number, difference: number, power = 0.8, alpha = 0.05): number {
  const d = Math.abs(difference);
  if (d === 0) return Infinity;
  const psi = Math.max(discordance, d);
  return (zAlpha(alpha) * Math.sqrt(psi) + normQuantile(power) * Math.sqrt(psi - d * d)) ** 2 / (d * d);
}

/** McNemar's power with `pairs` pairs (Connor 1987, the inverse of mcnemarSampleSize). */
export function mcnemarPower(discordance: number, difference: number, pairs: number, alpha = 0.05): number {
  const d = Math.abs(difference);
  if (d === 0) return alpha / 2;
  const psi = Math.max(discordance, d);
  const spread = Math.sqrt(psi - d * d);
  const num = d * Math.sqrt(pairs) - zAlpha(alpha) * Math.sqrt(psi);
  return spread === 0 ? (num > 0 ? 1 : 0) : normCdf(num / spread);
}

/**
 * Power of the Mann-Whitney test for n and m values when P(candidate > control) = P (Noether 1987):
 * Φ(|P − ½|·√(12nm/(n + m + 1)) − z_{α/2}).
 */
export function rankTestPower(probabilitySuperiority: number, n: number, m: number, alpha = 0.05): number {
  const e = Math.abs(probabilitySuperiority - 0.5);
  if (!(n > 0 && m > 0)) return 0;
  return normCdf(e * Math.sqrt((12 * n * m) / (n + m + 1)) - zAlpha(alpha));
}

/** Values per arm for the Mann-Whitney test (Noether 1987, equal arms): (z_{α/2} + z_β)² / (6 (P − ½)²). */
export function rankTestSampleSize(probabilitySuperiority: number, power = 0.8, alpha = 0.05): number {
  const e = Math.abs(probabilitySuperiority - 0.5);
  if (e === 0) return Infinity;
  return (zAlpha(alpha) + normQuantile(power)) ** 2 / (6 * e * e);
}

/**
 * P(candidate > control) when the candidate is the control shifted by `shift` (ms): from the
 * observed control sample (its own spread), or from an assumed normal spread σ: Φ(shift / (σ√2)).
 */
export function shiftSuperiority(shift: number, spread: Binned | { sd: number }): number {
  if ('sd' in spread) return spread.sd > 0 ? normCdf(shift / (spread.sd * Math.SQRT2)) : shift === 0 ? 0.5 : 1;
  return probabilityAbove(spread, spread, -shift);
}

/**
 * Power of a test whose estimate is approximately normal with standard error `se` (the bootstrap
 * quantile difference) against an effect of size `effect`, two-sided at α.
 */
export function normalTestPower(effect: number, se: number, alpha = 0.05): number {
  if (!(se > 0)) return Number.isFinite(se) && effect !== 0 ? 1 : NaN;
  const z = zAlpha(alpha);
  const e = Math.abs(effect) / se;
  return normCdf(e - z) + normCdf(-e - z);
}

/**
 * Requests needed for an approximately normal estimate, scaled from a pilot: the standard error
 * shrinks as 1/√n, so n = nObserved · ((z_{α/2} + z_β)·se / effect)².
 */
export function scaledSampleSize(nObserved: number, se: number, effect: number, power = 0.8, alpha = 0.05): number {
  if (effect === 0) return Infinity;
  return nObserved * (((zAlpha(alpha) + normQuantile(power)) * se) / Math.abs(effect)) ** 2;
}
