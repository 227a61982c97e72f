/**
 * Preflight's default canary classifier. It answers what Kayenta's users complain of
 * (docs/release-comparisons.md "Statistics"):
 * - per-request values: not only the location (Hodges–Lehmann shift with Mann-Whitney), but also
 *   the tail (exact quantile test: the share above the pooled p99 — or below the pooled p1 for
 *   `decrease` metrics — compared by Fisher's exact test; p99 difference with a distribution-free
 *   interval) and the spread (Mann-Whitney on absolute deviations from each arm's median), so a
 *   candidate with the same median and a 10× worse p99 is High;
 * - event counts: Fisher's exact test, so 3 errors of 1,000 against 0 is judged exactly;
 * - every test it ran is returned with its estimate, interval and p-values (Holm over the metric's tests).
 * Confidence 0.98 as Kayenta's. Tolerance: a significant change is harmful only when its effect
 * (ratio candidate / control: means for the location under `meanRatio`, else P(candidate > control)
 * under `cles`; the p99 or p1 for the tail; the median absolute deviation for the spread; the rate
 * for counts) is beyond `effectSize.allowedIncrease` / `allowedDecrease`; beyond
 * `criticalIncrease` / `criticalDecrease` the reason says so.
 */
import type { CanaryClass, StatTest } from '../../core/comparison.js';
import type { CanaryMetricConfig } from '../../plan/comparison.js';
import type { Binned } from '../../stats/binned.js';
import { binnedTotal } from '../../stats/binned.js';
import { normQuantile } from '../../stats/distributions.js';
import { fisherExact, newcombeDifference } from '../../stats/exact.js';
import { adjustPValues } from '../../stats/multiple.js';
import { binnedQuantile } from '../../stats/quantile-bootstrap.js';
import { rankShiftTest } from '../../stats/rank-binned.js';
import type { CanaryClassifier, MetricClassification, MetricData } from '../types.js';

/** Kayenta's confidence level; the tests of one metric are Holm-adjusted at 1 − this. */
export const PREFLIGHT_CLASSIFIER_CONFIDENCE = 0.98;

interface Finding {
  test: StatTest;
  /** Which way the candidate moved (+1 higher, −1 lower, 0 none), and the effect ratio for the tolerance. */
  sign: number;
  ratio: number;
  /** Whether a significant move counts as an increase (High) or a decrease (Low) for the direction rule. */
  kind: 'location' | 'tail' | 'spread' | 'rate';
}

function mean(b: Binned): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < b.values.length; i++) {
    s += b.values[i] * b.counts[i];
    n += b.counts[i];
  }
  return n > 0 ? s / n : NaN;
}

function merge(a: Binned, b: Binned): Binned {
  const values: number[] = [];
  const counts: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.values.length || j < b.values.length) {
    const v = Math.min(i < a.values.length ? a.values[i] : Infinity, j < b.values.length ? b.values[j] : Infinity);
    let c = 0;
    while (i < a.values.length && a.values[i] === v) c += a.counts[i++];
    while (j < b.values.length && b.values[j] === v) c += b.counts[j++];
    values.push(v);
    counts.push(c);
  }
  return { values, counts };
}

/** Bins inside [lo, hi]. */
function within(b: Binned, lo: number, hi: number): Binned {
  const values: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < b.values.length; i++) {
    if (b.values[i] >= lo && b.values[i] <= hi) {
      values.push(b.values[i]);
      counts.push(b.counts[i]);
    }
  }
  return { values, counts };
}

/** Kayenta's outlier rule: IQR fences × factor, widened to at least p1 … p99. */
function removeOutliers(b: Binned, factor: number): Binned {
  const q1 = binnedQuantile(b, 0.25);
  const q3 = binnedQuantile(b, 0.75);
  const iqr = q3 - q1;
  return within(
    b,
    Math.min(q1 - factor * iqr, binnedQuantile(b, 0.01)),
    Math.max(q3 + factor * iqr, binnedQuantile(b, 0.99)),
  );
}

/** |x − median|, ascending, as a binned sample. */
function absoluteDeviations(b: Binned): Binned {
  const m = binnedQuantile(b, 0.5);
  const below: Array<[number, number]> = [];
  const above: Array<[number, number]> = [];
  for (let i = 0; i < b.values.length; i++) {
    if (b.counts[i] <= 0) continue;
    (b.values[i] < m ? below : above).push([Math.abs(b.values[i] - m), b.counts[i]]);
  }
  below.reverse();
  const a: Binned = { values: below.map((x) => x[0]), counts: below.map((x) => x[1]) };
  const c: Binned = { values: above.map((x) => x[0]), counts: above.map((x) => x[1]) };
  return merge(a, c);
}

/** Count of values above (or below) a threshold. */
function countBeyond(b: Binned, threshold: number, upper: boolean): number {
  let c = 0;
  for (let i = 0; i < b.values.length; i++)
    if (upper ? b.values[i] > threshold : b.values[i] < threshold) c += b.counts[i];
  return c;
}

/**
 * Distribution-free interval of the q-quantile (order statistics with binomial ranks, normal
 * approximation of the ranks), at `level`; ranks beyond the sample are clamped to its extremes.
 */
function quantileInterval(b: Binned, q: number, level: number): [number, number] {
  const n = binnedTotal(b);
  const z = normQuantile(1 - (1 - level) / 2);
  const sd = Math.sqrt(n * q * (1 - q));
  const lowRank = Math.floor(n * q - z * sd);
  const highRank = Math.ceil(n * q + z * sd) + 1;
  const at = (rank: number): number => binnedQuantile(b, Math.min(n, Math.max(1, rank)) / n);
  // Too few values for the rank: clamped to the observed extreme (results stay finite for JSON).
  return [at(lowRank), at(highRank)];
}

function valueTests(control: Binned, experiment: Binned, config: CanaryMetricConfig, confidence: number): Finding[] {
  const name = config.name;
  const out: Finding[] = [];
  // Location.
  const loc = rankShiftTest(control, experiment, { confidence });
  const meanRatio = mean(experiment) / mean(control);
  out.push({
    test: {
      metric: `${name}.median`,
      method: `hodges-lehmann/mann-whitney${loc.method === 'exact' ? '-exact' : ''}`,
      control: binnedQuantile(control, 0.5),
      candidate: binnedQuantile(experiment, 0.5),
      estimate: loc.estimate,
      scale: 'difference',
      ci: loc.ci,
      confidence,
      pValue: loc.pValue,
      unit: '',
      outcome: 'inconclusive',
    },
    sign: Math.sign(loc.probabilityCandidateGreater - 0.5),
    ratio: config.effectSize.measure === 'cles' ? loc.probabilityCandidateGreater : meanRatio,
    kind: 'location',
  });
  // Tail(s): share beyond the pooled quantile, Fisher exact.
  const pooled = merge(control, experiment);
  const tails = config.direction === 'increase' ? [0.99] : config.direction === 'decrease' ? [0.01] : [0.01, 0.99];
  const nx = binnedTotal(control);
  const ny = binnedTotal(experiment);
  const each = Math.sqrt(confidence); // two arms' intervals together cover at ≥ confidence
  for (const q of tails) {
    const upper = q > 0.5;
    const threshold = binnedQuantile(pooled, q);
    const cx = countBeyond(control, threshold, upper);
    const cy = countBeyond(experiment, threshold, upper);
    const f = fisherExact(cy, ny - cy, cx, nx - cx);
    const qc = binnedQuantile(control, q);
    const qe = binnedQuantile(experiment, q);
    const [cl, cu] = quantileInterval(control, q, each);
    const [el, eu] = quantileInterval(experiment, q, each);
    const share = (c: number, n: number): number => c / n;
    // More of the candidate beyond the pooled quantile = a worse upper (or lower) tail.
    const moved = Math.sign(share(cy, ny) - share(cx, nx)) * (upper ? 1 : -1);
    out.push({
      test: {
        metric: `${name}.p${Math.round(q * 100)}`,
        method: 'quantile-exceedance-fisher',
        control: qc,
        candidate: qe,
        estimate: qe - qc,
        scale: 'difference',
        ci: [el - cu, eu - cl],
        confidence,
        pValue: f.pValue,
        unit: '',
        outcome: 'inconclusive',
      },
      sign: moved,
      ratio: qe / qc,
      kind: 'tail',
    });
  }
  // Spread: Mann-Whitney on absolute deviations from each arm's median.
  const dc = absoluteDeviations(control);
  const de = absoluteDeviations(experiment);
  const sp = rankShiftTest(dc, de, { confidence });
  out.push({
    test: {
      metric: `${name}.spread`,
      method: 'mann-whitney-abs-deviation',
      control: binnedQuantile(dc, 0.5),
      candidate: binnedQuantile(de, 0.5),
      estimate: sp.estimate,
      scale: 'difference',
      ci: sp.ci,
      confidence,
      pValue: sp.pValue,
      unit: '',
      outcome: 'inconclusive',
    },
    sign: Math.sign(sp.probabilityCandidateGreater - 0.5),
    ratio: binnedQuantile(de, 0.5) / binnedQuantile(dc, 0.5),
    kind: 'spread',
  });
  return out;
}

function countTest(
  control: { events: number; total: number },
  experiment: { events: number; total: number },
  config: CanaryMetricConfig,
  confidence: number,
): Finding {
  const f = fisherExact(
    experiment.events,
    experiment.total - experiment.events,
    control.events,
    control.total - control.events,
  );
  const d = newcombeDifference(experiment.events, experiment.total, control.events, control.total, confidence);
  const rc = control.events / control.total;
  const re = experiment.events / experiment.total;
  return {
    test: {
      metric: config.name,
      method: 'fisher-exact/newcombe',
      control: rc,
      candidate: re,
      estimate: d.difference,
      scale: 'difference',
      ci: d.ci,
      confidence,
      pValue: f.pValue,
      unit: 'fraction',
      outcome: 'inconclusive',
    },
    sign: Math.sign(re - rc),
    ratio: rc > 0 ? re / rc : re > 0 ? Infinity : 1,
    kind: 'rate',
  };
}

function short(v: number): string {
  return Number.isFinite(v) ? v.toPrecision(3) : String(v);
}

export const preflightClassifier: CanaryClassifier = (
  data: MetricData,
  config: CanaryMetricConfig,
): MetricClassification => {
  const confidence = PREFLIGHT_CLASSIFIER_CONFIDENCE;
  const alpha = 1 - confidence;
  let findings: Finding[];
  if (data.kind === 'counts') {
    if (!(data.control.total > 0) || !(data.experiment.total > 0)) {
      return {
        classification: 'NoData',
        reason: `${config.name}: no requests in ${data.control.total > 0 ? 'experiment' : 'control'}`,
        tests: [],
      };
    }
    findings = [countTest(data.control, data.experiment, config, confidence)];
  } else {
    let control = data.control;
    let experiment = data.experiment;
    if (config.outliers.strategy === 'remove') {
      control = removeOutliers(control, config.outliers.factor);
      experiment = removeOutliers(experiment, config.outliers.factor);
    }
    if (binnedTotal(control) === 0 || binnedTotal(experiment) === 0) {
      return {
        classification: 'NoData',
        reason: `${config.name}: no values in ${binnedTotal(control) === 0 ? 'control' : 'experiment'}`,
        tests: [],
      };
    }
    findings = valueTests(control, experiment, config, confidence);
  }
  const adjusted = adjustPValues(
    findings.map((f) => f.test.pValue),
    'holm',
  );
  const { allowedIncrease, allowedDecrease, criticalIncrease, criticalDecrease } = config.effectSize;
  const reasons: string[] = [];
  let high = false;
  let low = false;
  findings.forEach((f, i) => {
    const t = f.test;
    t.adjustedPValue = adjusted[i];
    const significant = adjusted[i] < alpha;
    if (!significant || f.sign === 0) {
      t.outcome = Number.isFinite(adjusted[i]) ? 'no-difference' : 'inconclusive';
      return;
    }
    // Tolerance: for `cles` the location's effect is P(candidate > control) against the allowed
    // values; every other effect is a ratio, which must also differ from 1.
    const clesLocation = config.effectSize.measure === 'cles' && f.kind === 'location';
    const ratios = config.effectSize.measure !== 'cles';
    const up = clesLocation || ratios ? allowedIncrease : 1;
    const down = clesLocation || ratios ? allowedDecrease : 1;
    // A wider spread is harmful whichever way the metric should move: it counts as the harmful direction.
    const sign = f.kind === 'spread' ? (config.direction === 'decrease' ? -1 : 1) : f.sign;
    const effect = f.kind === 'spread' && config.direction === 'decrease' ? 1 / f.ratio : f.ratio;
    const beyond = clesLocation
      ? sign > 0
        ? effect >= up
        : effect <= down
      : sign > 0
        ? effect >= up && effect > 1
        : effect <= down && effect < 1;
    const harmfulDirection = config.direction === 'either' || (config.direction === 'increase' ? sign > 0 : sign < 0);
    if (!harmfulDirection) {
      t.outcome = 'better';
      return;
    }
    if (!beyond) {
      t.outcome = 'no-difference';
      reasons.push(`${t.metric}: significant but within tolerance (effect ${short(effect)}).`);
      return;
    }
    t.outcome = 'worse';
    const critical =
      sign > 0
        ? criticalIncrease !== undefined && effect >= criticalIncrease
        : criticalDecrease !== undefined && effect <= criticalDecrease;
    if (sign > 0) high = true;
    else low = true;
    reasons.push(
      `${critical ? 'critical: ' : ''}${t.metric} ${f.kind === 'spread' ? 'spread wider' : sign > 0 ? 'higher' : 'lower'}: ${short(t.control)} → ${short(t.candidate)} (effect ${short(effect)}, estimate ${short(t.estimate)}, ${Math.round(confidence * 100)}% CI ${short(t.ci[0])} to ${short(t.ci[1])}), p = ${short(t.pValue)}, Holm ${short(adjusted[i])}.`,
    );
  });
  const classification: CanaryClass = high ? 'High' : low ? 'Low' : 'Pass';
  return {
    classification,
    reason:
      reasons.length > 0
        ? reasons.join(' ')
        : `${config.name}: no significant harmful difference (${findings.length} tests, Holm, α = ${short(alpha)}).`,
    tests: findings.map((f) => f.test),
  };
};
