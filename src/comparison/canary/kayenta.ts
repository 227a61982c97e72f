/**
 * Kayenta's NetflixACAJudge metric classifier, reimplemented (spinnaker/kayenta, kayenta-judge:
 * NetflixACAJudge.scala, classifiers/metric/MannWhitneyClassifier.scala, stats/EffectSizes.scala,
 * detectors/IQRDetector.scala; kayenta-mannwhitney: MannWhitney.scala, itself a port of R's
 * `wilcox.test(conf.int = TRUE, exact = FALSE)`). What it does, in Kayenta's order:
 *
 * 1. NaN values removed (`nanStrategy: remove`) or replaced by 0 (`replace`); then, with
 *    `outliers.strategy: remove`, values outside [min(p1, Q1 − f·IQR), max(p99, Q3 + f·IQR)] dropped
 *    (percentiles with linear interpolation, R type 7; f = `outliers.factor`, 3 by default).
 * 2. Either side empty → NoData (a `remove` strategy; with `replace` → Pass), identical sorted
 *    samples → Pass, one value shared by both sides → Pass.
 * 3. Both sides constant but different → tiny Gaussian noise (σ = 1e-5 × the value) added to each,
 *    so the rank test can run — seeded here (core/random.ts), where Kayenta's is unseeded.
 * 4. Hodges–Lehmann shift of experiment − control and its asymptotic, continuity-corrected
 *    confidence interval at 0.98; tolerance band ±0.25 × |estimate|. High when the interval's lower
 *    bound is above the band and the effect size ≥ `allowedIncrease` (an effect size that cannot be
 *    computed, NaN, skips that check); Low mirrors it with `allowedDecrease`; a direction that is not
 *    harmful is never flagged. Effect size: `meanRatio` (experiment mean / control mean, NaN when
 *    either is 0) or `cles` (P(experiment > control) + ½ P(tie)).
 * 5. A critical metric classified High (Low) with effect size ≥ `criticalIncrease` (≤
 *    `criticalDecrease`) is a critical failure (the score becomes 0); so is a critical metric with
 *    no data.
 *
 * Samples are handled as sorted distinct values with counts, so a binned per-request sample is
 * judged exactly as Kayenta would judge the expanded series, without expanding it.
 */
import type { CanaryClass, StatTest } from '../../core/comparison.js';
import { Rng } from '../../core/random.js';
import type { CanaryMetricConfig, MetricDirection } from '../../plan/comparison.js';
import type { Binned } from '../../stats/binned.js';
import { normalCdf, normalQuantile } from '../../stats/proportion.js';
import type { CanaryClassifier, MetricClassification, MetricData } from '../types.js';

/** Kayenta's fixed constants (NetflixACAJudge): confidence of the interval and the tolerance fraction. */
export const KAYENTA_CONFIDENCE = 0.98;
export const KAYENTA_TOLERANCE = 0.25;
/** Seed of the noise added to constant samples (Kayenta's is unseeded; ours is reproducible). */
export const KAYENTA_NOISE_SEED = 0x6b617965;

/** A sample as ascending distinct values with their (positive) counts. */
export interface WeightedSample {
  values: Float64Array;
  counts: Float64Array;
  n: number;
}

/** Run-length merge of ascending values with their counts (counts ≤ 0 dropped). */
function fromSorted(values: ArrayLike<number>, counts: ArrayLike<number> | undefined): WeightedSample {
  const vs = new Float64Array(values.length);
  const cs = new Float64Array(values.length);
  let k = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const c = counts ? counts[i] : 1;
    if (!(c > 0)) continue;
    n += c;
    if (k > 0 && vs[k - 1] === values[i]) cs[k - 1] += c;
    else {
      vs[k] = values[i];
      cs[k] = c;
      k++;
    }
  }
  return { values: vs.slice(0, k), counts: cs.slice(0, k), n };
}

/** Values with Kayenta's NaN strategy applied (`remove` drops NaN, `replace` turns it into 0). */
export function sampleOf(values: ArrayLike<number>, nanStrategy: 'remove' | 'replace' = 'remove'): WeightedSample {
  const xs: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isNaN(v)) xs.push(v);
    else if (nanStrategy === 'replace') xs.push(0);
  }
  return fromSorted(Float64Array.from(xs).sort(), undefined);
}

/** A binned sample (HDR buckets) as a weighted sample; NaN buckets handled as `sampleOf` does. */
export function sampleOfBinned(b: Binned, nanStrategy: 'remove' | 'replace' = 'remove'): WeightedSample {
  const vs: number[] = [];
  const cs: number[] = [];
  let ascending = true;
  for (let i = 0; i < b.values.length; i++) {
    let v = b.values[i];
    if (Number.isNaN(v)) {
      if (nanStrategy === 'remove') continue;
      v = 0;
    }
    if (vs.length > 0 && v < vs[vs.length - 1]) ascending = false;
    vs.push(v);
    cs.push(b.counts[i]);
  }
  if (ascending) return fromSorted(vs, cs);
  const order = vs.map((_, i) => i).sort((i, j) => vs[i] - vs[j]);
  return fromSorted(
    order.map((i) => vs[i]),
    order.map((i) => cs[i]),
  );
}

/** Value at 0-based position k of the sorted expanded sample. */
function valueAt(s: WeightedSample, k: number): number {
  let seen = 0;
  for (let i = 0; i < s.values.length; i++) {
    seen += s.counts[i];
    if (k < seen) return s.values[i];
  }
  return s.values[s.values.length - 1];
}

/** Percentile p (0–100) with linear interpolation between order statistics (R type 7, as Kayenta's). */
export function percentile(s: WeightedSample, p: number): number {
  if (s.n === 0) return NaN;
  const h = ((s.n - 1) * p) / 100;
  const lo = Math.floor(h);
  const a = valueAt(s, lo);
  if (lo + 1 >= s.n) return a;
  return a + (h - lo) * (valueAt(s, lo + 1) - a);
}

/** Kayenta's IQRDetector with reduced sensitivity: fences widened to at least p1 / p99; outside values dropped. */
export function removeOutliers(s: WeightedSample, factor: number): WeightedSample {
  if (s.n === 0) return s;
  const q1 = percentile(s, 25);
  const q3 = percentile(s, 75);
  const iqr = q3 - q1;
  const lower = Math.min(percentile(s, 1), q1 - factor * iqr);
  const upper = Math.max(percentile(s, 99), q3 + factor * iqr);
  const vs: number[] = [];
  const cs: number[] = [];
  for (let i = 0; i < s.values.length; i++) {
    const v = s.values[i];
    if (v >= lower && v <= upper) {
      vs.push(v);
      cs.push(s.counts[i]);
    }
  }
  return fromSorted(vs, cs);
}

export function mean(s: WeightedSample): number {
  let sum = 0;
  for (let i = 0; i < s.values.length; i++) sum += s.values[i] * s.counts[i];
  return sum / s.n;
}

/** Kayenta's meanRatio: experiment mean / control mean; NaN when either mean is 0. */
export function meanRatio(control: WeightedSample, experiment: WeightedSample): number {
  const c = mean(control);
  const e = mean(experiment);
  return c === 0 || e === 0 ? NaN : e / c;
}

/**
 * Walk the merged sorted samples x − shift and y: rank sum of x (ties averaged) and Σ(t³ − t) over
 * tie groups. O(distinct values).
 */
function rankSumShifted(x: WeightedSample, y: WeightedSample, shift: number): { rx: number; tieTerm: number } {
  let i = 0;
  let j = 0;
  let rank = 0; // ranks used so far
  let rx = 0;
  let tieTerm = 0;
  const nx = x.values.length;
  const ny = y.values.length;
  while (i < nx || j < ny) {
    const vx = i < nx ? x.values[i] - shift : Infinity;
    const vy = j < ny ? y.values[j] : Infinity;
    let cx = 0;
    let cy = 0;
    if (vx <= vy) cx = x.counts[i++];
    if (vy <= vx) cy = y.counts[j++];
    const t = cx + cy;
    const avg = rank + (t + 1) / 2;
    rx += cx * avg;
    if (t > 1) tieTerm += t * t * t - t;
    rank += t;
  }
  return { rx, tieTerm };
}

/** Common language effect size as Kayenta computes it: P(experiment > control) + ½ P(tie). */
export function cles(control: WeightedSample, experiment: WeightedSample): number {
  const m = experiment.n;
  const n = control.n;
  const { rx } = rankSumShifted(experiment, control, 0);
  return (2 * rx - m * (m + 1)) / (2 * n * m);
}

export interface ShiftInterval {
  /** Hodges–Lehmann estimate of the shift experiment − control. */
  estimate: number;
  lower: number;
  upper: number;
  /** Two-sided p-value of the asymptotic, continuity-corrected Mann-Whitney test of no shift. */
  pValue: number;
}

/**
 * R's `wilcox.test(experiment, control, conf.int = TRUE, exact = FALSE, correct = TRUE)` interval
 * and estimate, as Kayenta's MannWhitney.scala computes them: roots of the standardised rank
 * statistic in the shift μ, found by the same Brent/zeroin solver with the same tolerance (1e-4,
 * absolute). Throws when every value is tied.
 */
export function hodgesLehmannInterval(
  experiment: WeightedSample,
  control: WeightedSample,
  confidence: number,
): ShiftInterval {
  const x = experiment;
  const y = control;
  const nx = x.n;
  const ny = y.n;
  const N = nx + ny;
  const wdiff = (mu: number, zq: number): number => {
    const { rx, tieTerm } = rankSumShifted(x, y, mu);
    const dz = rx - (nx * (nx + 1)) / 2 - (nx * ny) / 2;
    const correction = Math.sign(dz) * 0.5;
    const sigma = Math.sqrt(((nx * ny) / 12) * (N + 1 - tieTerm / (N * (N - 1))));
    if (sigma === 0) throw new Error('cannot compute a confidence interval when all observations are tied');
    return (dz - correction) / sigma - zq;
  };
  const muMin = x.values[0] - y.values[y.values.length - 1];
  const muMax = x.values[x.values.length - 1] - y.values[0];
  const root = (zq: number): number => {
    const fLo = wdiff(muMin, zq);
    const fHi = wdiff(muMax, zq);
    if (fLo <= 0) return muMin;
    if (fHi >= 0) return muMax;
    return zeroin(muMin, muMax, fLo, fHi, (mu) => wdiff(mu, zq));
  };
  const zq = normalQuantile((1 - confidence) / 2);
  const z0 = wdiff(0, 0);
  return {
    // Kayenta solves the estimate without the endpoint checks the interval's roots get.
    estimate: zeroin(muMin, muMax, wdiff(muMin, 0), wdiff(muMax, 0), (mu) => wdiff(mu, 0)),
    lower: root(-zq),
    upper: root(zq),
    pValue: Math.min(1, 2 * normalCdf(-Math.abs(z0))),
  };
}

/**
 * Brent's root finder in the form of R's zeroin (R_zeroin2: inverse quadratic interpolation,
 * secant or bisection), with R's and Kayenta's absolute tolerance 1e-4 and at most 1,000
 * iterations. The rank statistic is a step function with flat zero stretches, so *which* point of a
 * stretch is returned depends on the solver's path: the same algorithm gives the same estimate.
 */
export function zeroin(ax: number, bx: number, fa0: number, fb0: number, f: (x: number) => number): number {
  const EPS = 2.220446049250313e-16;
  const tol = 1e-4;
  let a = ax;
  let b = bx;
  let fa = fa0;
  let fb = fb0;
  let c = a;
  let fc = fa;
  if (fa === 0) return a;
  if (fb === 0) return b;
  for (let it = 0; it <= 1000; it++) {
    const prevStep = b - a;
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tolAct = 2 * EPS * Math.abs(b) + tol / 2;
    let newStep = (c - b) / 2;
    if (Math.abs(newStep) <= tolAct || fb === 0) return b;
    if (Math.abs(prevStep) >= tolAct && Math.abs(fa) > Math.abs(fb)) {
      const cb = c - b;
      let p: number;
      let q: number;
      if (a === c) {
        const t1 = fb / fa;
        p = cb * t1;
        q = 1 - t1;
      } else {
        const qa = fa / fc;
        const t1 = fb / fc;
        const t2 = fb / fa;
        p = t2 * (cb * qa * (qa - t1) - (b - a) * (t1 - 1));
        q = (qa - 1) * (t1 - 1) * (t2 - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      if (p < 0.75 * cb * q - Math.abs(tolAct * q) / 2 && p < Math.abs((prevStep * q) / 2)) newStep = p / q;
    }
    if (Math.abs(newStep) < tolAct) newStep = newStep > 0 ? tolAct : -tolAct;
    a = b;
    fa = fb;
    b += newStep;
    fb = f(b);
    if ((fb > 0 && fc > 0) || (fb < 0 && fc < 0)) {
      c = a;
      fc = fa;
    }
  }
  return b;
}

function expandWithNoise(s: WeightedSample, rng: Rng): WeightedSample {
  const sigma = s.values[0] * 1e-5;
  const out: number[] = new Array(s.n);
  for (let k = 0; k < s.n; k++) out[k] = s.values[0] + rng.normal(0, sigma);
  return sampleOf(out);
}

function sameSample(a: WeightedSample, b: WeightedSample): boolean {
  if (a.values.length !== b.values.length) return false;
  for (let i = 0; i < a.values.length; i++) {
    if (a.values[i] !== b.values[i] || a.counts[i] !== b.counts[i]) return false;
  }
  return true;
}

/** Settings of Kayenta's MannWhitneyClassifier; the judge fixes tolerance 0.25 and confidence 0.98. */
export interface KayentaSettings {
  tolerance: number;
  confidence: number;
  direction: MetricDirection;
  nanStrategy: 'remove' | 'replace';
  critical: boolean;
  mustHaveData: boolean;
  effectSizeMeasure: 'meanRatio' | 'cles';
  /** [allowedDecrease, allowedIncrease] and [criticalDecrease, criticalIncrease], as Kayenta's tuples. */
  effectSizeThresholds: [number, number];
  criticalThresholds: [number, number];
  seed: number;
}

export interface KayentaClassification {
  classification: CanaryClass;
  /** Kayenta's `critical` flag on the result: a critical failure, which sets the score to 0. */
  critical: boolean;
  /** Kayenta's NodataFailMetric (missing data with mustHaveData, not critical). */
  nodataFail: boolean;
  reason?: string;
  /** Mean ratio (Kayenta's `deviation`, shown as the change) and the effect size checked. */
  deviation: number;
  effectSize: number;
  interval?: ShiftInterval;
  noiseAdded: boolean;
}

/** Default effect-size threshold of a measure when the plan gives none (Kayenta: cles 0.5, meanRatio 1.0). */
export function defaultEffect(measure: 'meanRatio' | 'cles'): number {
  return measure === 'cles' ? 0.5 : 1.0;
}

/** Kayenta's MannWhitneyClassifier.classify on already-transformed samples (NaN/outlier handling done). */
export function kayentaClassify(
  control: WeightedSample,
  experiment: WeightedSample,
  s: KayentaSettings,
): KayentaClassification {
  const base = { critical: false, nodataFail: false, deviation: 1, effectSize: NaN, noiseAdded: false };
  if (experiment.n === 0 || control.n === 0) {
    if (s.nanStrategy === 'remove') {
      const reason = 'Missing data for the metric';
      if (s.mustHaveData && !s.critical) return { ...base, classification: 'NoData', nodataFail: true, reason };
      return { ...base, classification: 'NoData', critical: s.critical, reason };
    }
    return { ...base, classification: 'Pass' };
  }
  if (sameSample(experiment, control)) {
    return { ...base, classification: 'Pass', reason: 'The canary and baseline data are identical' };
  }
  if (experiment.values.length === 1 && control.values.length === 1 && experiment.values[0] === control.values[0]) {
    return { ...base, classification: 'Pass' };
  }
  let x = experiment;
  let y = control;
  const noiseAdded = x.values.length === 1 && y.values.length === 1;
  if (noiseAdded) {
    const rng = new Rng(s.seed);
    x = expandWithNoise(x, rng);
    y = expandWithNoise(y, rng);
  }
  const interval = hodgesLehmannInterval(x, y, s.confidence);
  const deviation = meanRatio(y, x);
  const effectSize = s.effectSizeMeasure === 'cles' ? cles(y, x) : deviation;
  const bound = s.tolerance * Math.abs(interval.estimate);
  const effectHigh = Number.isNaN(effectSize) || effectSize >= s.effectSizeThresholds[1];
  const effectLow = Number.isNaN(effectSize) || effectSize <= s.effectSizeThresholds[0];
  const isHigh = (s.direction === 'increase' || s.direction === 'either') && interval.lower > bound && effectHigh;
  const isLow = (s.direction === 'decrease' || s.direction === 'either') && interval.upper < -bound && effectLow;
  const classification: CanaryClass = isHigh ? 'High' : isLow ? 'Low' : 'Pass';
  const critical =
    s.critical &&
    ((classification === 'High' && (Number.isNaN(effectSize) || effectSize >= s.criticalThresholds[1])) ||
      (classification === 'Low' && (Number.isNaN(effectSize) || effectSize <= s.criticalThresholds[0])));
  return { classification, critical, nodataFail: false, deviation, effectSize, interval, noiseAdded };
}

/** The settings NetflixACAJudge uses for a metric of the plan. */
export function kayentaSettings(config: CanaryMetricConfig): KayentaSettings {
  const e = config.effectSize;
  const d = defaultEffect(e.measure);
  return {
    tolerance: KAYENTA_TOLERANCE,
    confidence: KAYENTA_CONFIDENCE,
    direction: config.direction,
    nanStrategy: config.nanStrategy,
    critical: config.critical,
    mustHaveData: config.mustHaveData,
    effectSizeMeasure: e.measure,
    effectSizeThresholds: [e.allowedDecrease, e.allowedIncrease],
    criticalThresholds: [e.criticalDecrease ?? d, e.criticalIncrease ?? d],
    seed: KAYENTA_NOISE_SEED,
  };
}

/** Per-request 0/1 indicators of a count (events of total), as a weighted sample. */
function indicatorSample(c: { events: number; total: number }): WeightedSample {
  return fromSorted([0, 1], [c.total - c.events, c.events]);
}

const fmt = (v: number): string => (Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v));

/**
 * NetflixACAJudge's per-metric step (transform, then classify) on one metric's data. Kayenta judges
 * a series: `controlSeries`/`experimentSeries` when given, else the per-request values (binned,
 * judged exactly without expansion); counts become per-request 0/1 indicators (1 = event).
 */
export const kayentaClassifier: CanaryClassifier = (data: MetricData, config: CanaryMetricConfig) =>
  classifyWithKayenta(data, config);

export function classifyWithKayenta(data: MetricData, config: CanaryMetricConfig): MetricClassification {
  const s = kayentaSettings(config);
  let control: WeightedSample;
  let experiment: WeightedSample;
  let what: string;
  let unit: StatTest['unit'] = '';
  if (data.kind === 'counts') {
    control = indicatorSample(data.control);
    experiment = indicatorSample(data.experiment);
    what = 'per-request 0/1 indicators';
    unit = 'fraction';
  } else if (data.controlSeries && data.experimentSeries) {
    control = sampleOf(data.controlSeries, s.nanStrategy);
    experiment = sampleOf(data.experimentSeries, s.nanStrategy);
    what = 'per-window series';
    unit = 'ms';
  } else {
    control = sampleOfBinned(data.control, s.nanStrategy);
    experiment = sampleOfBinned(data.experiment, s.nanStrategy);
    what = 'per-request values';
    unit = 'ms';
  }
  if (config.outliers.strategy === 'remove') {
    control = removeOutliers(control, config.outliers.factor);
    experiment = removeOutliers(experiment, config.outliers.factor);
  }
  let k: KayentaClassification;
  try {
    k = kayentaClassify(control, experiment, s);
  } catch (err) {
    // Kayenta's Error label: not scored as a class; reported as no data with the cause.
    return {
      classification: 'NoData',
      reason: `${config.name}: classification failed (${(err as Error).message}).`,
      tests: [],
      critical: false,
      failed: false,
    };
  }
  const tests: StatTest[] = [];
  let reason: string;
  if (k.interval) {
    const iv = k.interval;
    const worse = k.classification !== 'Pass';
    tests.push({
      metric: config.name,
      method: 'hodges-lehmann/mann-whitney (kayenta)',
      control: mean(control),
      candidate: mean(experiment),
      estimate: iv.estimate,
      scale: 'difference',
      ci: [iv.lower, iv.upper],
      confidence: s.confidence,
      pValue: iv.pValue,
      minimumEffect: s.tolerance * Math.abs(iv.estimate),
      unit,
      outcome: worse ? 'worse' : 'no-difference',
    });
    const measure = s.effectSizeMeasure === 'cles' ? 'CLES' : 'mean ratio';
    reason =
      `${config.name}: ${k.classification}${k.critical ? ' (critical)' : ''} — Kayenta judged ${control.n} vs ${experiment.n} ${what}; ` +
      `shift ${fmt(iv.estimate)} (${Math.round(s.confidence * 100)}% CI ${fmt(iv.lower)} to ${fmt(iv.upper)}, p = ${fmt(iv.pValue)}), ` +
      `tolerance ±${fmt(s.tolerance * Math.abs(iv.estimate))}, ${measure} ${fmt(k.effectSize)}` +
      `${k.noiseAdded ? '; both sides were constant, so tiny seeded noise was added as Kayenta does' : ''}.`;
  } else {
    reason = `${config.name}: ${k.classification}${k.critical ? ' (critical)' : ''} — ${
      k.reason ?? 'every value is the same on both sides'
    } (${control.n} vs ${experiment.n} ${what}).`;
  }
  return { classification: k.classification, reason, tests, critical: k.critical, failed: k.nodataFail };
}
