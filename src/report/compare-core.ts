/**
 * The decision of a baseline comparison: is the candidate run significantly worse than the baseline,
 * by more than the tolerance? Pure (no files, no terminal, no exit codes beyond the one mapping of
 * the verdict): two loaded runs and typed tolerances in, per-metric statistics and verdicts out.
 * Presentation (comparison.json, terminal table, report sections) is compare.ts; parsing
 * `--tolerance` strings is the CLI's. See docs/reports.md ("Comparing runs") for the statistics.
 *
 * Per scenario present in both runs and per metric:
 *   latency.p50/p99, service_time.p50/p99 — Mann-Whitney U over the per-window percentiles, plus a
 *     moving-block bootstrap CI for the difference of the whole-run percentile (windows resampled,
 *     their exact HDR histograms merged). Significant when both agree (p < α and CI excludes 0).
 *   throughput — Mann-Whitney U over per-window throughput (+ block-bootstrap CI of the mean).
 *   error_rate, accuracy — two-proportion z-test on the whole-run counts (+ Newcombe CI).
 * Verdict per metric: regression (worse beyond tolerance and significant), improved (better beyond
 * tolerance and significant), inconclusive (beyond tolerance but not significant, or no data),
 * unchanged (within tolerance).
 */
import { PreflightError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import type { IntervalRecord, ScenarioSummary } from '../core/results.js';
import { blockBootstrapDiffCI } from '../stats/bootstrap.js';
import { mannWhitneyU } from '../stats/mann-whitney.js';
import { twoProportionTest, wilsonInterval } from '../stats/proportion.js';
import { fmtNum, fmtP, fmtRate, fmtSignedPct, fmtSignedPp } from './format.js';
import { HistogramPool, decodeSparse } from './hdr.js';
import type { SparseHistogram } from './hdr.js';
import { scenarioIntervals } from './load.js';
import type { LoadedResults } from './load.js';
import { partialWindowTest } from './windows.js';

export type ComparisonMetric =
  | 'latency.p50'
  | 'latency.p99'
  | 'service_time.p50'
  | 'service_time.p99'
  | 'throughput'
  | 'error_rate'
  | 'accuracy';

export const COMPARISON_METRICS: readonly ComparisonMetric[] = [
  'latency.p50',
  'latency.p99',
  'service_time.p50',
  'service_time.p99',
  'throughput',
  'error_rate',
  'accuracy',
];

/**
 * How much worse the candidate may be before it counts as a regression. `maxRegressionPct`:
 * relative to the baseline value (latency, throughput); `maxRegressionPp`: percentage points
 * (error_rate, accuracy).
 */
export interface Tolerance {
  metric: ComparisonMetric;
  maxRegressionPct?: number;
  maxRegressionPp?: number;
}

/** Defaults: latency and service time 10 %, throughput 10 %, error rate 1 pp, accuracy 1 pp. */
export const DEFAULT_TOLERANCES: readonly Tolerance[] = [
  { metric: 'latency.p50', maxRegressionPct: 10 },
  { metric: 'latency.p99', maxRegressionPct: 10 },
  { metric: 'service_time.p50', maxRegressionPct: 10 },
  { metric: 'service_time.p99', maxRegressionPct: 10 },
  { metric: 'throughput', maxRegressionPct: 10 },
  { metric: 'error_rate', maxRegressionPp: 1 },
  { metric: 'accuracy', maxRegressionPp: 1 },
];

/** Metrics whose tolerance is in percentage points; the others take a percentage. */
export const PROPORTION_METRICS: ReadonlySet<ComparisonMetric> = new Set<ComparisonMetric>(['error_rate', 'accuracy']);

/** Defaults overridden by `overrides` (the last one for a metric wins). */
export function resolveTolerances(overrides: readonly Tolerance[] = []): Tolerance[] {
  const byMetric = new Map<ComparisonMetric, Tolerance>(DEFAULT_TOLERANCES.map((t) => [t.metric, { ...t }]));
  for (const t of overrides) {
    if (!COMPARISON_METRICS.includes(t.metric)) {
      const message = `unknown metric "${t.metric}" in tolerance`;
      throw new PreflightError('E_ARGS', message, { problems: [{ file: '<args>', message }] });
    }
    byMetric.set(t.metric, { ...t });
  }
  return COMPARISON_METRICS.map((m) => byMetric.get(m)).filter((t): t is Tolerance => t !== undefined);
}

export interface CompareOptions {
  /** Significance level (default 0.05). */
  alpha?: number;
  /** Confidence of the intervals (default 0.95). */
  confidence?: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Bootstrap PRNG seed (default 1). */
  seed?: number;
}

export type MetricVerdict = 'regression' | 'improved' | 'unchanged' | 'inconclusive';

export interface MetricComparison {
  metric: ComparisonMetric;
  unit: 'ms' | 'per_s' | 'fraction';
  better: 'lower' | 'higher';
  /** Whole-run values from each summary.json. */
  baseline: number | null;
  candidate: number | null;
  /** candidate − baseline, in the metric's unit. */
  diff: number | null;
  /** Relative change in % of the baseline (null when the baseline is 0 or missing). */
  changePct: number | null;
  test: {
    name: 'mann-whitney-u' | 'two-proportion-z';
    /** What was tested, e.g. "per-window p99". */
    over: string;
    nBaseline: number;
    nCandidate: number;
    u?: number;
    z: number;
    pValue: number;
  } | null;
  /** Confidence interval of `diff`. */
  ci: {
    low: number;
    high: number;
    confidence: number;
    method:
      | 'block-bootstrap-merged-hdr'
      | 'block-bootstrap-window-percentiles'
      | 'block-bootstrap-window-mean'
      | 'newcombe-wilson';
    resamples?: number;
    blockLength?: [number, number];
  } | null;
  pValue: number | null;
  significant: boolean;
  tolerance: { pct?: number; pp?: number };
  /** Worse than the baseline by more than the tolerance (point estimate). */
  beyondTolerance: boolean;
  verdict: MetricVerdict;
  /** One line for people. */
  reason: string;
}

/** One side of a comparison: what the decision reads of a results folder. */
export type ComparedRun = Pick<LoadedResults, 'summary' | 'intervals'>;

export interface ScenarioDecision {
  scenario: string;
  metrics: MetricComparison[];
  verdict: MetricVerdict;
}

export interface ComparisonDecision {
  alpha: number;
  confidence: number;
  resamples: number;
  seed: number;
  /** Every metric's tolerance, defaults filled in. */
  tolerances: Tolerance[];
  scenarios: ScenarioDecision[];
  /** regression > inconclusive > improved > unchanged over all metrics. */
  verdict: MetricVerdict;
  warnings: string[];
}

const RANK: Record<MetricVerdict, number> = { unchanged: 0, improved: 1, inconclusive: 2, regression: 3 };

function worst(verdicts: MetricVerdict[]): MetricVerdict {
  let v: MetricVerdict = 'unchanged';
  for (const x of verdicts) if (RANK[x] > RANK[v]) v = x;
  return v;
}

/** Compare two runs (baseline first). Pure apart from CPU: deterministic for a given seed. */
export function decideComparison(
  baseline: ComparedRun,
  candidate: ComparedRun,
  tolerances: readonly Tolerance[] = [],
  opts: CompareOptions = {},
): ComparisonDecision {
  const tol = resolveTolerances(tolerances);
  const alpha = opts.alpha ?? 0.05;
  const confidence = opts.confidence ?? 0.95;
  const resamples = opts.resamples ?? 2000;
  const seed = opts.seed ?? 1;
  const warnings: string[] = [];
  for (const [side, r] of [
    ['baseline', baseline],
    ['candidate', candidate],
  ] as const) {
    if (r.summary.verdict === 'invalid')
      warnings.push(`the ${side} run is marked invalid (load generator overloaded): its numbers cannot be trusted`);
    if (r.summary.status && r.summary.status !== 'completed')
      warnings.push(`the ${side} run did not complete (${r.summary.status}); it is compared on what it measured`);
    if (r.intervals.length === 0)
      warnings.push(`the ${side} run has no intervals.ndjson records: per-window tests are impossible`);
  }
  const names = Object.keys(candidate.summary.scenarios).filter((n) => n in baseline.summary.scenarios);
  for (const n of Object.keys(baseline.summary.scenarios))
    if (!(n in candidate.summary.scenarios)) warnings.push(`scenario "${n}" is only in the baseline`);
  for (const n of Object.keys(candidate.summary.scenarios))
    if (!(n in baseline.summary.scenarios)) warnings.push(`scenario "${n}" is only in the candidate`);
  const scenarios: ScenarioDecision[] = [];
  for (const name of names) {
    const sb = baseline.summary.scenarios[name];
    const sc = candidate.summary.scenarios[name];
    const ib = scenarioIntervals(baseline.intervals, name);
    const ic = scenarioIntervals(candidate.intervals, name);
    if (sb.target_rate && sc.target_rate && Math.abs(sc.target_rate - sb.target_rate) / sb.target_rate > 0.01) {
      warnings.push(
        `scenario "${name}": target rates differ (${fmtRate(sb.target_rate)} vs ${fmtRate(sc.target_rate)}); throughput and latency are not like for like`,
      );
    }
    const ctx: Ctx = { alpha, confidence, resamples, seed, tol };
    const hb = windowHistograms(ib);
    const hc = windowHistograms(ic);
    const metrics: MetricComparison[] = [
      latencyMetric(ctx, 'latency.p50', sb.latency_ms?.p50, sc.latency_ms?.p50, ib, ic, hb.latency, hc.latency),
      latencyMetric(ctx, 'latency.p99', sb.latency_ms?.p99, sc.latency_ms?.p99, ib, ic, hb.latency, hc.latency),
      latencyMetric(
        ctx,
        'service_time.p50',
        sb.service_time_ms?.p50,
        sc.service_time_ms?.p50,
        ib,
        ic,
        hb.service_time,
        hc.service_time,
      ),
      latencyMetric(
        ctx,
        'service_time.p99',
        sb.service_time_ms?.p99,
        sc.service_time_ms?.p99,
        ib,
        ic,
        hb.service_time,
        hc.service_time,
      ),
      throughputMetric(ctx, sb, sc, ib, ic),
      proportionMetric(ctx, 'error_rate', errorsOf(sb), sb.requests ?? 0, errorsOf(sc), sc.requests ?? 0),
    ];
    const accB = accuracyCounts(sb);
    const accC = accuracyCounts(sc);
    if (accB && accC)
      metrics.push(proportionMetric(ctx, 'accuracy', accB.correct, accB.scored, accC.correct, accC.scored));
    scenarios.push({
      scenario: name,
      metrics,
      verdict: worst(metrics.map((m) => m.verdict)),
    });
  }
  if (names.length === 0) warnings.push('no scenario is in both runs: nothing to compare');
  const verdict = names.length === 0 ? 'inconclusive' : worst(scenarios.map((s) => s.verdict));
  return { alpha, confidence, resamples, seed, tolerances: tol, scenarios, verdict, warnings };
}

/** The exit code of a comparison's verdict: ExitCode.Regression on a regression, else ExitCode.Passed. */
export function comparisonExitCode(verdict: MetricVerdict): ExitCode {
  return verdict === 'regression' ? ExitCode.Regression : ExitCode.Passed;
}

// ───────────────────────────── metrics ─────────────────────────────

interface Ctx {
  alpha: number;
  confidence: number;
  resamples: number;
  seed: number;
  tol: Tolerance[];
}

interface WindowHistograms {
  latency: Array<SparseHistogram | null>;
  service_time: Array<SparseHistogram | null>;
}

/** One window's HDR histogram, decoded (null where absent or unreadable). */
export function decodeWindowHdr(b64: string | undefined): SparseHistogram | null {
  if (!b64) return null;
  try {
    return decodeSparse(b64);
  } catch {
    return null;
  }
}

function windowHistograms(records: readonly IntervalRecord[]): WindowHistograms {
  return {
    latency: records.map((r) => decodeWindowHdr(r.hdr?.latency)),
    service_time: records.map((r) => decodeWindowHdr(r.hdr?.service_time)),
  };
}

export function sumValues(o: Record<string, number> | undefined): number {
  let s = 0;
  if (o) for (const v of Object.values(o)) if (Number.isFinite(v)) s += v;
  return s;
}

function errorsOf(s: ScenarioSummary): number {
  if (s.errors && Object.keys(s.errors).length > 0) return sumValues(s.errors);
  return Math.max(0, (s.requests ?? 0) - (s.ok ?? 0));
}

function accuracyCounts(s: ScenarioSummary): { correct: number; scored: number } | null {
  const scored = s.counters?.['quality.scored'];
  const correct = s.counters?.['quality.correct'];
  if (!Number.isFinite(scored) || !Number.isFinite(correct) || scored <= 0) return null;
  return { correct, scored };
}

function toleranceFor(ctx: Ctx, metric: ComparisonMetric): { pct?: number; pp?: number } {
  const t = ctx.tol.find((x) => x.metric === metric);
  return { pct: t?.maxRegressionPct, pp: t?.maxRegressionPp };
}

function finite(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

/** Assemble the verdict from the pieces (shared by every metric). */
function decide(
  ctx: Ctx,
  metric: ComparisonMetric,
  unit: MetricComparison['unit'],
  better: 'lower' | 'higher',
  baseline: number | null,
  candidate: number | null,
  test: MetricComparison['test'],
  ci: MetricComparison['ci'],
  significantOverride?: boolean,
): MetricComparison {
  const tolerance = toleranceFor(ctx, metric);
  const diff = finite(baseline) && finite(candidate) ? candidate - baseline : null;
  const changePct = diff !== null && finite(baseline) && baseline !== 0 ? (diff / Math.abs(baseline)) * 100 : null;
  const pValue = test && Number.isFinite(test.pValue) ? test.pValue : null;
  let significant = pValue !== null && pValue < ctx.alpha;
  if (significantOverride !== undefined) significant = significantOverride;
  const sign = better === 'lower' ? 1 : -1; // > 0 → worse
  let worseBy: number | null = null; // in tolerance units (% or pp)
  let tolValue: number | null = null;
  if (tolerance.pp !== undefined) {
    tolValue = tolerance.pp;
    worseBy = diff === null ? null : sign * diff * 100;
  } else if (tolerance.pct !== undefined) {
    tolValue = tolerance.pct;
    worseBy =
      changePct !== null
        ? sign * changePct
        : diff === null
          ? null
          : diff === 0
            ? 0
            : sign * diff > 0
              ? Infinity
              : -Infinity;
  }
  const beyondTolerance = worseBy !== null && tolValue !== null && worseBy > tolValue;
  const betterBeyond = worseBy !== null && tolValue !== null && -worseBy > tolValue;
  const tolText =
    tolerance.pp !== undefined
      ? `${fmtNum(tolerance.pp)} pp`
      : tolerance.pct !== undefined
        ? `${fmtNum(tolerance.pct)}%`
        : 'none';
  const change = unit === 'fraction' ? fmtSignedPp(diff) : fmtSignedPct(changePct);
  const pText = pValue === null ? '' : pValue < 0.001 ? 'p<0.001' : `p=${fmtP(pValue)}`;
  let verdict: MetricVerdict;
  let reason: string;
  if (diff === null) {
    verdict = 'inconclusive';
    reason = `no data in the ${finite(baseline) ? 'candidate' : 'baseline'}`;
  } else if (pValue === null) {
    verdict = beyondTolerance || betterBeyond ? 'inconclusive' : 'unchanged';
    reason = `too few windows to test (${change})`;
  } else if (beyondTolerance) {
    verdict = significant ? 'regression' : 'inconclusive';
    reason = significant
      ? `worse by ${change.replace(/^[+−]/, '')}, beyond the ${tolText} tolerance (${pText})`
      : `worse by ${change.replace(/^[+−]/, '')}, beyond ${tolText}, but not significant (${pText})`;
  } else if (betterBeyond) {
    verdict = significant ? 'improved' : 'inconclusive';
    reason = significant
      ? `better by ${change.replace(/^[+−]/, '')} (${pText})`
      : `better by ${change.replace(/^[+−]/, '')}, but not significant (${pText})`;
  } else {
    verdict = 'unchanged';
    reason = significant
      ? `${change}: significant but within the ${tolText} tolerance (${pText})`
      : `no significant change (${change}, ${pText})`;
  }
  return {
    metric,
    unit,
    better,
    baseline,
    candidate,
    diff,
    changePct,
    test,
    ci,
    pValue,
    significant,
    tolerance,
    beyondTolerance,
    verdict,
    reason,
  };
}

function latencyMetric(
  ctx: Ctx,
  metric: ComparisonMetric,
  baseValue: number | undefined,
  candValue: number | undefined,
  ib: readonly IntervalRecord[],
  ic: readonly IntervalRecord[],
  hb: Array<SparseHistogram | null>,
  hc: Array<SparseHistogram | null>,
): MetricComparison {
  const family = metric.startsWith('latency') ? 'latency_ms' : 'service_time_ms';
  const pct = metric.endsWith('p50') ? 'p50' : 'p99';
  const q = pct === 'p50' ? 0.5 : 0.99;
  const perWindow = (recs: readonly IntervalRecord[]): number[] =>
    recs.map((r) => (r[family] as { p50: number; p99: number } | null)?.[pct]).filter((v): v is number => finite(v));
  const wb = perWindow(ib);
  const wc = perWindow(ic);
  let test: MetricComparison['test'] = null;
  if (wb.length >= 2 && wc.length >= 2) {
    const mw = mannWhitneyU(wb, wc);
    test = {
      name: 'mann-whitney-u',
      over: `per-window ${pct}`,
      nBaseline: wb.length,
      nCandidate: wc.length,
      u: mw.u,
      z: mw.z,
      pValue: mw.pValue,
    };
  }
  let ci: MetricComparison['ci'] = null;
  const bootOpts = { resamples: ctx.resamples, confidence: ctx.confidence, seed: ctx.seed };
  const hbOk = hb.filter((h): h is SparseHistogram => h !== null && h.total > 0);
  const hcOk = hc.filter((h): h is SparseHistogram => h !== null && h.total > 0);
  if (hbOk.length >= 2 && hcOk.length >= 2) {
    // Exact: resample windows (moving blocks), merge their HDR histograms, take the percentile.
    const pb = new HistogramPool(hbOk);
    const pc = new HistogramPool(hcOk);
    const ib2 = hbOk.map((_, i) => i);
    const ic2 = hcOk.map((_, i) => i);
    const r = blockBootstrapDiffCI(
      ib2,
      ic2,
      (s) => pb.quantiles(s, [q])[0] / 1000,
      (s) => pc.quantiles(s, [q])[0] / 1000,
      bootOpts,
    );
    ci = {
      low: r.low,
      high: r.high,
      confidence: r.confidence,
      method: 'block-bootstrap-merged-hdr',
      resamples: r.resamples,
      blockLength: r.blockLength as [number, number],
    };
  } else if (wb.length >= 2 && wc.length >= 2) {
    // Approximation without histograms: mean of the per-window percentiles.
    const mean = (s: readonly number[]): number => s.reduce((a, b) => a + b, 0) / s.length;
    const r = blockBootstrapDiffCI(wb, wc, mean, mean, bootOpts);
    ci = {
      low: r.low,
      high: r.high,
      confidence: r.confidence,
      method: 'block-bootstrap-window-percentiles',
      resamples: r.resamples,
      blockLength: r.blockLength as [number, number],
    };
  }
  const pOk = test !== null && test.pValue < ctx.alpha;
  const ciOk = ci === null || ci.low > 0 || ci.high < 0;
  return decide(
    ctx,
    metric,
    'ms',
    'lower',
    finite(baseValue) ? baseValue : null,
    finite(candValue) ? candValue : null,
    test,
    ci,
    test ? pOk && ciOk : undefined,
  );
}

function throughputMetric(
  ctx: Ctx,
  sb: ScenarioSummary,
  sc: ScenarioSummary,
  ib: readonly IntervalRecord[],
  ic: readonly IntervalRecord[],
): MetricComparison {
  // a partial window's rate (a few requests in a few ms) is not a sample of the per-window throughput
  const pb = partialWindowTest(ib);
  const pc = partialWindowTest(ic);
  const wb = ib
    .filter((r) => !pb(r))
    .map((r) => r.throughput)
    .filter(finite);
  const wc = ic
    .filter((r) => !pc(r))
    .map((r) => r.throughput)
    .filter(finite);
  let test: MetricComparison['test'] = null;
  let ci: MetricComparison['ci'] = null;
  if (wb.length >= 2 && wc.length >= 2) {
    const mw = mannWhitneyU(wb, wc);
    test = {
      name: 'mann-whitney-u',
      over: 'per-window throughput',
      nBaseline: wb.length,
      nCandidate: wc.length,
      u: mw.u,
      z: mw.z,
      pValue: mw.pValue,
    };
    const mean = (s: readonly number[]): number => s.reduce((a, b) => a + b, 0) / s.length;
    const r = blockBootstrapDiffCI(wb, wc, mean, mean, {
      resamples: ctx.resamples,
      confidence: ctx.confidence,
      seed: ctx.seed,
    });
    ci = {
      low: r.low,
      high: r.high,
      confidence: r.confidence,
      method: 'block-bootstrap-window-mean',
      resamples: r.resamples,
      blockLength: r.blockLength as [number, number],
    };
  }
  return decide(
    ctx,
    'throughput',
    'per_s',
    'higher',
    finite(sb.throughput) ? sb.throughput : null,
    finite(sc.throughput) ? sc.throughput : null,
    test,
    ci,
  );
}

function proportionMetric(
  ctx: Ctx,
  metric: 'error_rate' | 'accuracy',
  xb: number,
  nb: number,
  xc: number,
  nc: number,
): MetricComparison {
  const better = metric === 'error_rate' ? 'lower' : 'higher';
  if (nb <= 0 || nc <= 0)
    return decide(ctx, metric, 'fraction', better, nb > 0 ? xb / nb : null, nc > 0 ? xc / nc : null, null, null);
  const t = twoProportionTest(xb, nb, xc, nc);
  const test: MetricComparison['test'] = {
    name: 'two-proportion-z',
    over: metric === 'error_rate' ? 'failed / requests' : 'correct / scored',
    nBaseline: nb,
    nCandidate: nc,
    z: t.z,
    pValue: t.pValue,
  };
  // Newcombe's hybrid score interval for pc − pb from the two Wilson intervals.
  const wb = wilsonInterval(xb, nb, ctx.confidence);
  const wc = wilsonInterval(xc, nc, ctx.confidence);
  const d = wc.estimate - wb.estimate;
  const ci: MetricComparison['ci'] = {
    low: d - Math.sqrt((wc.estimate - wc.low) ** 2 + (wb.high - wb.estimate) ** 2),
    high: d + Math.sqrt((wc.high - wc.estimate) ** 2 + (wb.estimate - wb.low) ** 2),
    confidence: ctx.confidence,
    method: 'newcombe-wilson',
  };
  return decide(ctx, metric, 'fraction', better, xb / nb, xc / nc, test, ci);
}
