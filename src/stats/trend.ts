/**
 * Linear trend of a time series with autocorrelated noise (soak drift: per-bucket latency, error
 * rate, memory). Neighbouring windows of a load test are correlated, so the ordinary least-squares
 * standard error of the slope is too small and plain t-tests call noise a trend.
 *
 * Method (Santer et al. 2000, J. Geophys. Res. 105(D6):7337): fit the OLS slope b; estimate the
 * lag-1 autocorrelation r of the residuals; correct its small-sample bias (r + (2 + 4r)/n, after
 * Kendall / Marriott–Pope; clamped to [0, 0.95]); use the effective sample size
 * n_eff = n (1 − r)/(1 + r) in the residual variance and the degrees of freedom:
 *   se(b) = sqrt( Σe² / (n_eff − 2) / Σ(x − x̄)² ),  t = b / se(b),  df = n_eff − 2.
 * Checked by simulation (src/stats/trend.test.ts and docs/profiles.md): with white and AR(1) noise
 * (φ up to 0.8) and n ≥ 60 points the false-positive rate stays near α; it is somewhat above α for
 * very short, strongly correlated series (n ≈ 20–30, φ ≥ 0.5), which is why soak also requires a
 * practically relevant change before it calls drift.
 */

/** ln Γ(x), Lanczos (g = 7, n = 9); accurate to ~1e-15 for x > 0. */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 500; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 3e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (bt * betaContinuedFraction(a, b, x)) / a
    : 1 - (bt * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` (> 0, not necessarily integer) degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const tail = 0.5 * incompleteBeta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (bisection on the CDF; |error| < 1e-10). */
export function studentTQuantile(p: number, df: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p === 0.5) return 0;
  let lo = -1;
  let hi = 1;
  while (studentTCdf(lo, df) > p) lo *= 2;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface TrendResult {
  /** Points used (finite y). */
  n: number;
  /** OLS slope (y units per x unit) and intercept. */
  slope: number;
  intercept: number;
  /** Lag-1 autocorrelation of the residuals: raw, and bias-corrected as used. */
  r1: number;
  r1Corrected: number;
  /** Effective sample size n(1 − r)/(1 + r). */
  nEff: number;
  /** Standard error of the slope, autocorrelation-adjusted; and the plain OLS one. */
  se: number;
  seOls: number;
  t: number;
  df: number;
  /** Two-sided p-value of slope = 0. */
  pValue: number;
  /** Confidence interval of the slope at 1 − alpha. */
  ci: [number, number];
  confidence: number;
  /** Mean of y (to express the change relative to the level). */
  mean: number;
  method: 'ols-ar1-effective-n';
}

/**
 * Linear trend of `y` against `x` (default 0, 1, 2, …), with the autocorrelation-adjusted t-test of
 * the module comment. Non-finite y values are dropped (with their x). Fewer than 4 points: pValue NaN.
 */
export function linearTrend(y: readonly number[], x?: readonly number[], opts: { alpha?: number } = {}): TrendResult {
  const alpha = opts.alpha ?? 0.05;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < y.length; i++) {
    const xi = x ? x[i] : i;
    if (Number.isFinite(y[i]) && Number.isFinite(xi)) {
      xs.push(xi);
      ys.push(y[i]);
    }
  }
  const n = ys.length;
  const mean = n > 0 ? ys.reduce((a, b) => a + b, 0) / n : NaN;
  const empty: TrendResult = {
    n,
    slope: NaN,
    intercept: NaN,
    r1: NaN,
    r1Corrected: NaN,
    nEff: NaN,
    se: NaN,
    seOls: NaN,
    t: NaN,
    df: NaN,
    pValue: NaN,
    ci: [NaN, NaN],
    confidence: 1 - alpha,
    mean,
    method: 'ols-ar1-effective-n',
  };
  if (n < 4) return empty;
  const xm = xs.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - xm) ** 2;
    sxy += (xs[i] - xm) * (ys[i] - mean);
  }
  if (sxx === 0) return empty;
  const slope = sxy / sxx;
  const intercept = mean - slope * xm;
  const e = ys.map((v, i) => v - intercept - slope * xs[i]);
  let sse = 0;
  let lag = 0;
  for (let i = 0; i < n; i++) {
    sse += e[i] * e[i];
    if (i > 0) lag += e[i] * e[i - 1];
  }
  const r1 = sse > 0 ? lag / sse : 0;
  const r1Corrected = Math.min(0.95, Math.max(0, r1 + (2 + 4 * r1) / n));
  const nEff = Math.max(3, (n * (1 - r1Corrected)) / (1 + r1Corrected));
  const seOls = Math.sqrt(sse / (n - 2) / sxx);
  const se = Math.sqrt(sse / (nEff - 2) / sxx);
  const df = Math.max(1, nEff - 2);
  // A perfect line (se 0): infinitely significant unless flat.
  const perfect = se === 0;
  const t = perfect ? (slope === 0 ? 0 : Math.sign(slope) * Infinity) : slope / se;
  const pValue = perfect ? (slope === 0 ? 1 : 0) : Math.min(1, 2 * (1 - studentTCdf(Math.abs(t), df)));
  const halfWidth = perfect ? 0 : studentTQuantile(1 - alpha / 2, df) * se;
  return {
    n,
    slope,
    intercept,
    r1,
    r1Corrected,
    nEff,
    se,
    seOls,
    t,
    df,
    pValue,
    ci: [slope - halfWidth, slope + halfWidth],
    confidence: 1 - alpha,
    mean,
    method: 'ols-ar1-effective-n',
  };
}
