/**
 * The canary scorer: each metric's data built from what run() measured, classified, then scored as
 * Kayenta's NetflixACAJudge scores (WeightedSumScorer + ThresholdScoreClassifier, spinnaker/kayenta
 * kayenta-judge/.../scorers/WeightedSumScorer.scala):
 * - per group: pass / (pass + high + low + failing no-data) × 100; a group with none of those (only
 *   NoData) is reported 0 and counts 100 in the sum;
 * - groups with a weight use it, the others share what is left of 100 equally; the sum is rounded to
 *   2 decimals (half up);
 * - any critical failure → 0; NoData in ≥ 50% of the metrics → 0 (critical first);
 * - score ≥ pass threshold → pass, ≥ marginal → marginal, else fail (defaults 95 / 75).
 */
import type { CanaryClass, CanaryMetricResult, CanaryResult, StatTest } from '../../core/comparison.js';
import { fmtNum, fmtP, fmtPct, fmtSignedPp } from '../../core/format.js';
import type { CanaryMetricConfig, CanaryPlan } from '../../plan/comparison.js';
import { binnedTotal } from '../../stats/binned.js';
import type { CanaryClassifier, ComparisonInput, MetricData, VariantData } from '../types.js';

const EMPTY = { values: [], counts: [] };

function valuesOf(v: VariantData, metric: string) {
  if (metric === 'latency') return v.latency;
  return v.durations[metric] ?? EMPTY;
}

/**
 * One metric's data for the classifier: latency and other durations → per-request values (binned);
 * error_rate → errors of requests; accuracy → incorrect answers of scored rows.
 */
export function metricData(input: ComparisonInput, config: CanaryMetricConfig): MetricData {
  const { control, candidate } = input;
  if (config.metric === 'error_rate') {
    return {
      kind: 'counts',
      control: { events: control.errors, total: control.requests },
      experiment: { events: candidate.errors, total: candidate.requests },
    };
  }
  if (config.metric === 'accuracy') {
    const incorrect = (v: VariantData) => ({ events: (v.scored ?? 0) - (v.correct ?? 0), total: v.scored ?? 0 });
    return { kind: 'counts', control: incorrect(control), experiment: incorrect(candidate) };
  }
  return { kind: 'values', control: valuesOf(control, config.metric), experiment: valuesOf(candidate, config.metric) };
}

const FLIP: Record<CanaryClass, CanaryClass> = { High: 'Low', Low: 'High', Pass: 'Pass', NoData: 'NoData' };

/**
 * Accuracy is judged on its incorrect answers (counts of events, like errors): the harmful
 * direction and the effect-size limits are turned around for the classifier, and its High / Low
 * turned back, so the result speaks of accuracy.
 */
function invertedForIncorrect(config: CanaryMetricConfig): CanaryMetricConfig {
  const dir = config.direction === 'increase' ? 'decrease' : config.direction === 'decrease' ? 'increase' : 'either';
  const e = config.effectSize;
  return {
    ...config,
    direction: dir,
    effectSize: {
      measure: e.measure,
      allowedIncrease: e.allowedDecrease,
      allowedDecrease: e.allowedIncrease,
      ...(e.criticalDecrease !== undefined ? { criticalIncrease: e.criticalDecrease } : {}),
      ...(e.criticalIncrease !== undefined ? { criticalDecrease: e.criticalIncrease } : {}),
    },
  };
}

/** A test on the incorrect share (a difference of fractions) restated for accuracy = 1 − that share. */
function asAccuracy(t: StatTest): StatTest {
  if (t.scale !== 'difference' || t.unit !== 'fraction') return t;
  return {
    ...t,
    control: 1 - t.control,
    candidate: 1 - t.candidate,
    estimate: -t.estimate,
    ci: [-t.ci[1], -t.ci[0]],
  };
}

/**
 * Accuracy's reason in its own terms (it is judged on the incorrect share):
 * `accuracy lower: 98.5% → 91.7% (−6.8 pp, 98% CI −9.1 pp to −4.6 pp), p < 0.001`.
 */
function accuracyReason(
  config: CanaryMetricConfig,
  classification: CanaryClass,
  tests: StatTest[],
  critical: boolean,
  fallback: string | undefined,
): string | undefined {
  const t = tests[0];
  if (t === undefined || t.scale !== 'difference' || t.unit !== 'fraction') return fallback;
  const p = fmtP(t.pValue);
  const how =
    classification === 'Low'
      ? `${critical ? 'critical: ' : ''}${config.name} lower`
      : classification === 'High'
        ? `${config.name} higher`
        : `${config.name}: no harmful difference`;
  // Preflight's estimate is the observed difference; Kayenta's is a Hodges–Lehmann shift of the 0/1
  // indicators (mostly 0): named as such.
  const diff = t.candidate - t.control;
  const estimate = Math.abs(t.estimate - diff) < 1e-9 ? '' : `; ${t.method} shift ${fmtSignedPp(t.estimate)}`;
  return (
    `${how}: ${fmtPct(t.control)} → ${fmtPct(t.candidate)} (${fmtSignedPp(diff)}${estimate}, ` +
    `${fmtNum(t.confidence * 100)}% CI ${fmtSignedPp(t.ci[0])} to ${fmtSignedPp(t.ci[1])}), ` +
    `p ${p.startsWith('<') ? `< ${p.slice(1)}` : `= ${p}`}${estimate ? '' : ` (${t.method})`}.`
  );
}

function counts(d: MetricData): [number, number] {
  if (d.kind === 'counts') return [d.control.total, d.experiment.total];
  return [binnedTotal(d.control), binnedTotal(d.experiment)];
}

/** Classify every metric: the classifier's answer, with Kayenta's failing-NoData and critical rules where it gives none. */
export function classifyMetrics(
  input: ComparisonInput,
  metrics: CanaryMetricConfig[],
  classifier: CanaryClassifier,
): Array<CanaryMetricResult & { criticalFailure: boolean }> {
  return metrics.map((config) => {
    const data = metricData(input, config);
    const accuracy = config.metric === 'accuracy';
    const c = classifier(data, accuracy ? invertedForIncorrect(config) : config);
    const classification = accuracy ? FLIP[c.classification] : c.classification;
    const failed = c.failed ?? (classification === 'NoData' && config.mustHaveData && !config.critical);
    const criticalFailure = c.critical ?? (config.critical && classification !== 'Pass');
    const [controlCount, experimentCount] = counts(data);
    const tests = accuracy ? c.tests.map(asAccuracy) : c.tests;
    const reason = accuracy ? accuracyReason(config, classification, tests, criticalFailure, c.reason) : c.reason;
    return {
      name: config.name,
      group: config.group,
      direction: config.direction,
      critical: config.critical,
      classification,
      failed,
      ...(reason ? { reason } : {}),
      controlCount,
      experimentCount,
      tests,
      criticalFailure,
    };
  });
}

/** Java's Precision.round(x, 2): half up, from the decimal form of the double. */
export function round2(x: number): number {
  if (!Number.isFinite(x)) return x;
  if (Math.abs(x) < 1e-9) return 0;
  const sign = x < 0 ? -1 : 1;
  const [int, frac = ''] = Math.abs(x).toFixed(12).split('.');
  const cents = Number(int) * 100 + Number(frac.slice(0, 2)) + (Number(frac[2] ?? '0') >= 5 ? 1 : 0);
  return (sign * cents) / 100;
}

export interface ScoreOutcome {
  score: number;
  classification: 'pass' | 'marginal' | 'fail';
  groups: Record<string, { score: number; weight: number }>;
  /** Why the score was forced to 0, if it was. */
  forcedZero?: string;
}

/** Kayenta's WeightedSumScorer and ThresholdScoreClassifier over classified metrics. */
export function scoreMetrics(
  results: Array<
    Pick<CanaryMetricResult, 'name' | 'group' | 'classification' | 'failed' | 'reason'> & { criticalFailure: boolean }
  >,
  groupWeights: Record<string, number>,
  thresholds: { pass: number; marginal: number },
): ScoreOutcome {
  const byGroup = new Map<string, { pass: number; total: number }>();
  for (const r of results) {
    const g = byGroup.get(r.group) ?? { pass: 0, total: 0 };
    if (r.classification === 'Pass') g.pass++;
    if (r.classification !== 'NoData' || r.failed) g.total++;
    byGroup.set(r.group, g);
  }
  const weightSum = Object.values(groupWeights).reduce((a, b) => a + b, 0);
  const unweighted = [...byGroup.keys()].filter((g) => !(g in groupWeights));
  const shared = unweighted.length > 0 ? (100 - weightSum) / unweighted.length : 0;
  const groups: Record<string, { score: number; weight: number }> = {};
  let sum = 0;
  for (const [name, g] of byGroup) {
    const score = g.total === 0 ? 0 : (g.pass / g.total) * 100;
    const weight = groupWeights[name] ?? shared;
    // As Kayenta: a group with only NoData is reported 0 but counts 100 in the sum (neither helps nor hurts).
    groups[name] = { score: round2(score), weight };
    sum += (g.total === 0 ? 100 : score) * (weight / 100);
  }
  let score = round2(sum);
  let forcedZero: string | undefined;
  const critical = results.find((r) => r.criticalFailure);
  const nodata = results.filter((r) => r.classification === 'NoData' && !r.failed).length;
  if (critical) {
    score = 0;
    forcedZero = `critical metric ${critical.name} was ${critical.classification}`;
  } else if (results.length > 0 && (nodata / results.length) * 100 >= 50) {
    score = 0;
    forcedZero = `${nodata} of ${results.length} metrics had no data (50% or more)`;
  }
  const classification = score >= thresholds.pass ? 'pass' : score >= thresholds.marginal ? 'marginal' : 'fail';
  return { score, classification, groups, ...(forcedZero ? { forcedZero } : {}) };
}

/** The whole canary judgement of one comparison (one step) with the given classifier. */
export function scoreCanary(
  input: ComparisonInput,
  plan: CanaryPlan,
  metrics: CanaryMetricConfig[],
  classifier: CanaryClassifier,
): { result: CanaryResult; noData: boolean; reasons: string[] } {
  const classified = classifyMetrics(input, metrics, classifier);
  const outcome = scoreMetrics(classified, plan.groupWeights, plan.thresholds);
  const metricResults: CanaryMetricResult[] = classified.map(({ criticalFailure: _c, ...m }) => m);
  const result: CanaryResult = {
    judge: plan.judge,
    score: outcome.score,
    thresholds: plan.thresholds,
    classification: outcome.classification,
    metrics: metricResults,
    groups: outcome.groups,
  };
  const noData = classified.length === 0 || classified.every((m) => m.classification === 'NoData');
  const tally = (c: CanaryClass) => classified.filter((m) => m.classification === c).length;
  const headline =
    `Canary score ${outcome.score} (${outcome.classification}; pass ≥ ${plan.thresholds.pass}, marginal ≥ ${plan.thresholds.marginal}) ` +
    `over ${classified.length} metrics: ${tally('Pass')} pass, ${tally('High')} high, ${tally('Low')} low, ${tally('NoData')} no data` +
    (outcome.forcedZero ? `; the score is 0 because ${outcome.forcedZero}.` : '.');
  const metricReasons = [
    ...classified.filter((m) => m.classification !== 'Pass'),
    ...classified.filter((m) => m.classification === 'Pass'),
  ]
    .map((m) => m.reason)
    .filter((r): r is string => r !== undefined);
  return { result, noData, reasons: [headline, ...metricReasons] };
}
