/**
 * A/B judge: per metric an effect estimate, interval, p-value and power; corrected for several
 * metrics; underpowered = inconclusive.
 *
 * Tests (candidate − control): latency.median by Hodges–Lehmann with Mann-Whitney; latency.p90 and
 * latency.p99 by a moving-block bootstrap over the measurement windows; error_rate by Fisher's exact
 * test with Newcombe's interval; accuracy by McNemar's exact test when both arms scored the same
 * rows (paired), else the two-proportion score test with Newcombe's interval. The family's p-values
 * are adjusted by Holm or Benjamini–Hochberg (plan.correction). Intervals are at 1 − alpha,
 * unadjusted. Power is computed for each test's minimum effect at the Bonferroni level alpha/k
 * (conservative for Holm and BH). The methods and their checks: docs/release-comparisons.md
 * "Statistics".
 */
import type { AbResult, StatTest } from '../core/comparison.js';
import type { AbPlan } from '../plan/comparison.js';
import type { Binned } from '../stats/binned.js';
import { binnedTotal } from '../stats/binned.js';
import { fisherExact, mcnemarExact, newcombeDifference } from '../stats/exact.js';
import { adjustPValues } from '../stats/multiple.js';
import {
  mcnemarPower,
  mcnemarSampleSize,
  normalTestPower,
  rankTestPower,
  rankTestSampleSize,
  scaledSampleSize,
  shiftSuperiority,
  twoProportionPower,
  twoProportionSampleSize,
} from '../stats/power.js';
import { binnedQuantile, quantileDifferenceBootstrap } from '../stats/quantile-bootstrap.js';
import { rankShiftTest } from '../stats/rank-binned.js';
import { MsprtMonitor, msprtInterval, proportionDifference } from '../stats/sequential.js';
import type { ComparisonInput, Judgement } from './types.js';

/** Minimum effects used when the plan gives none for a metric (documented in docs/release-comparisons.md). */
export const DEFAULT_MINIMUM_EFFECTS = {
  /** Latency metrics: this share of the control's value (10%). */
  latencyRelative: 0.1,
  /** Error rate: 1 percentage point. */
  error_rate: 0.01,
  /** Accuracy: 1 percentage point. */
  accuracy: 0.01,
} as const;

/** Resamples of the quantile bootstrap and its seed (fixed: the same data gives the same verdict). */
const BOOTSTRAP_RESAMPLES = 2000;
const BOOTSTRAP_SEED = 12;
/**
 * Fewer windows per arm than this: p90/p99 untested (inconclusive). With 10 windows the block
 * bootstrap's interval is too narrow (simulated false-positive rate 0.086 at α = 0.05 for p90);
 * from 20 windows on it is at or under α (ab-simulation.test.ts).
 */
const MIN_WINDOWS = 20;

/** Which change is harmful. */
const HARM: Record<string, 'increase' | 'decrease'> = {
  'latency.median': 'increase',
  'latency.p90': 'increase',
  'latency.p99': 'increase',
  error_rate: 'increase',
  accuracy: 'decrease',
};

interface Draft {
  test: StatTest;
  /** Sign of the effect (+1 candidate larger, −1 smaller) when the estimate alone is 0. */
  sign: number;
  /** Power as a function of the per-test alpha; requests per arm needed for plan.power. */
  power: (alpha: number) => number;
  needed: (alpha: number) => number;
  /** Why there is no p-value, when there is none. */
  missing?: string;
}

/** A test not yet adjusted or classified: every difference here is candidate − control. */
function draftTest(
  t: Pick<StatTest, 'metric' | 'method' | 'control' | 'candidate' | 'estimate' | 'ci' | 'pValue' | 'unit'>,
  confidence: number,
  minimumEffect: number,
): StatTest {
  return { ...t, scale: 'difference', confidence, minimumEffect, outcome: 'inconclusive' };
}

function harmonic(a: number, b: number): number {
  return a > 0 && b > 0 ? 2 / (1 / a + 1 / b) : 0;
}

function latencyMedian(input: ComparisonInput, plan: AbPlan, confidence: number): Draft {
  const c = input.control.latency;
  const e = input.candidate.latency;
  const r = rankShiftTest(c, e, { confidence });
  const control = binnedQuantile(c, 0.5);
  const m = plan.minimumEffects['latency.median'] ?? DEFAULT_MINIMUM_EFFECTS.latencyRelative * control;
  const sup = r.nControl > 0 ? shiftSuperiority(m, c) : NaN;
  return {
    test: draftTest(
      {
        metric: 'latency.median',
        method: `hodges-lehmann/mann-whitney${r.method === 'exact' ? '-exact' : ''}`,
        control,
        candidate: binnedQuantile(e, 0.5),
        estimate: r.estimate,
        ci: r.ci,
        pValue: r.pValue,
        unit: 'ms',
      },
      confidence,
      m,
    ),
    sign: Math.sign(r.probabilityCandidateGreater - 0.5),
    power: (a) => rankTestPower(sup, r.nControl, r.nCandidate, a),
    needed: (a) => rankTestSampleSize(sup, plan.power, a),
  };
}

function latencyQuantiles(input: ComparisonInput, plan: AbPlan, confidence: number): Draft[] {
  const cw = input.control.latencyWindows;
  const ew = input.candidate.latencyWindows;
  const qs = [0.9, 0.99];
  const names = ['latency.p90', 'latency.p99'];
  const enough = cw.length >= MIN_WINDOWS && ew.length >= MIN_WINDOWS;
  const boot = enough
    ? quantileDifferenceBootstrap(cw, ew, {
        quantiles: qs,
        resamples: BOOTSTRAP_RESAMPLES,
        confidence,
        seed: BOOTSTRAP_SEED,
      })
    : undefined;
  const n = harmonic(binnedTotal(input.control.latency), binnedTotal(input.candidate.latency));
  return qs.map((q, i) => {
    const d = boot?.differences[i];
    // The bootstrap's own values (merged windows) when it ran, so estimate = candidate − control.
    const control = d?.control ?? binnedQuantile(input.control.latency, q);
    const candidate = d?.candidate ?? binnedQuantile(input.candidate.latency, q);
    const m = plan.minimumEffects[names[i]] ?? DEFAULT_MINIMUM_EFFECTS.latencyRelative * control;
    const se = d?.standardError ?? NaN;
    return {
      test: draftTest(
        {
          metric: names[i],
          method: 'block-bootstrap',
          control,
          candidate,
          estimate: d?.estimate ?? candidate - control,
          ci: d?.ci ?? [NaN, NaN],
          pValue: d?.pValue ?? NaN,
          unit: 'ms',
        },
        confidence,
        m,
      ),
      sign: d ? Math.sign(d.ci[0] + d.ci[1]) : 0,
      power: (a) => (d ? normalTestPower(m, se, a) : NaN),
      needed: (a) => (d ? scaledSampleSize(n, se, m, plan.power, a) : NaN),
      missing: enough ? undefined : `fewer than ${MIN_WINDOWS} measurement windows per arm for the block bootstrap`,
    };
  });
}

function errorRate(input: ComparisonInput, plan: AbPlan, confidence: number): Draft {
  const c = input.control;
  const e = input.candidate;
  const diff = newcombeDifference(e.errors, e.requests, c.errors, c.requests, confidence);
  const fisher = fisherExact(e.errors, e.requests - e.errors, c.errors, c.requests - c.errors);
  const m = plan.minimumEffects.error_rate ?? DEFAULT_MINIMUM_EFFECTS.error_rate;
  const p0 = c.requests > 0 ? c.errors / c.requests : NaN;
  const n = harmonic(c.requests, e.requests);
  return {
    test: draftTest(
      {
        metric: 'error_rate',
        method: 'fisher-exact/newcombe',
        control: p0,
        candidate: e.requests > 0 ? e.errors / e.requests : NaN,
        estimate: diff.difference,
        ci: diff.ci,
        pValue: c.requests > 0 && e.requests > 0 ? fisher.pValue : NaN,
        unit: 'fraction',
      },
      confidence,
      m,
    ),
    sign: Math.sign(diff.difference),
    power: (a) => twoProportionPower(p0, Math.min(1, p0 + m), n, a),
    needed: (a) => twoProportionSampleSize(p0, Math.min(1, p0 + m), plan.power, a),
  };
}

function accuracy(input: ComparisonInput, plan: AbPlan, confidence: number): Draft | undefined {
  const m = plan.minimumEffects.accuracy ?? DEFAULT_MINIMUM_EFFECTS.accuracy;
  const pc = input.paired;
  if (pc) {
    const pairs = pc.bothCorrect + pc.controlOnly + pc.candidateOnly + pc.neither;
    if (pairs <= 0) return undefined;
    const r = mcnemarExact(pc.controlOnly, pc.candidateOnly, pairs, confidence);
    const psi = r.discordant / pairs;
    return {
      test: draftTest(
        {
          metric: 'accuracy',
          method: 'mcnemar-exact',
          control: (pc.bothCorrect + pc.controlOnly) / pairs,
          candidate: (pc.bothCorrect + pc.candidateOnly) / pairs,
          estimate: r.difference,
          ci: r.ci,
          pValue: r.pValue,
          unit: 'fraction',
        },
        confidence,
        m,
      ),
      sign: Math.sign(r.difference),
      power: (a) => mcnemarPower(psi, m, pairs, a),
      needed: (a) => mcnemarSampleSize(psi, m, plan.power, a),
    };
  }
  const c = input.control;
  const e = input.candidate;
  if (!(c.scored && e.scored)) return undefined;
  const r = newcombeDifference(e.correct ?? 0, e.scored, c.correct ?? 0, c.scored, confidence);
  const p0 = r.p2;
  const n = harmonic(c.scored, e.scored);
  return {
    test: draftTest(
      {
        metric: 'accuracy',
        method: 'two-proportion-score/newcombe',
        control: r.p2,
        candidate: r.p1,
        estimate: r.difference,
        ci: r.ci,
        pValue: r.pValue,
        unit: 'fraction',
      },
      confidence,
      m,
    ),
    sign: Math.sign(r.difference),
    power: (a) => twoProportionPower(p0, Math.max(0, p0 - m), n, a),
    needed: (a) => twoProportionSampleSize(p0, Math.max(0, p0 - m), plan.power, a),
  };
}

function fmt(v: number, unit: StatTest['unit']): string {
  if (!Number.isFinite(v)) return String(v);
  if (unit === 'fraction') return `${(v * 100).toPrecision(3)} pp`;
  return `${v.toPrecision(3)}${unit === 'ms' ? ' ms' : ''}`;
}

function fmtP(p: number | undefined): string {
  if (p === undefined || !Number.isFinite(p)) return 'n/a';
  return p < 1e-4 ? p.toExponential(1) : p.toPrecision(2);
}

/** The tests of an A/B comparison, adjusted and classified, with the verdict and its reasons. */
export function judgeAb(input: ComparisonInput, plan: AbPlan): Judgement<AbResult> {
  const confidence = 1 - plan.alpha;
  const drafts: Draft[] = [
    latencyMedian(input, plan, confidence),
    ...latencyQuantiles(input, plan, confidence),
    errorRate(input, plan, confidence),
  ];
  const acc = accuracy(input, plan, confidence);
  if (acc) drafts.push(acc);
  const adjusted = adjustPValues(
    drafts.map((d) => d.test.pValue),
    plan.correction,
  );
  const k = adjusted.filter((p) => Number.isFinite(p)).length;
  const powerAlpha = plan.correction === 'none' || k === 0 ? plan.alpha : plan.alpha / k;
  const perArm = harmonic(input.control.requests, input.candidate.requests);
  const ratePerArm = input.durationS > 0 ? perArm / input.durationS : NaN;
  const deciding: string[] = [];
  const others: string[] = [];
  for (const [i, d] of drafts.entries()) {
    const t = d.test;
    t.adjustedPValue = adjusted[i];
    const power = d.power(powerAlpha);
    t.power = Number.isFinite(power) ? power : undefined;
    const est = `${fmt(t.estimate, t.unit)} (${Math.round(confidence * 100)}% CI ${fmt(t.ci[0], t.unit)} to ${fmt(t.ci[1], t.unit)})`;
    const ps = `p = ${fmtP(t.pValue)}${plan.correction === 'none' ? '' : `, ${plan.correction}-adjusted ${fmtP(t.adjustedPValue)}`}`;
    if (!Number.isFinite(adjusted[i])) {
      t.outcome = 'inconclusive';
      others.push(`${t.metric}: ${d.missing ?? 'not enough data to test'} — inconclusive.`);
      continue;
    }
    if (adjusted[i] < plan.alpha) {
      const sign = Math.sign(t.estimate) || d.sign;
      const harmful = HARM[t.metric] === 'increase' ? sign > 0 : sign < 0;
      t.outcome = harmful ? 'worse' : 'better';
      (harmful ? deciding : others).push(`${t.metric} ${t.outcome}: ${est}, ${ps}.`);
      continue;
    }
    if (t.power !== undefined && t.power >= plan.power) {
      t.outcome = 'no-difference';
      others.push(
        `${t.metric}: no significant difference, ${est}, ${ps}; power ${t.power.toFixed(2)} to detect ${fmt(t.minimumEffect ?? NaN, t.unit)}.`,
      );
      continue;
    }
    t.outcome = 'inconclusive';
    const needed = d.needed(powerAlpha);
    const more =
      Number.isFinite(needed) && needed > 0
        ? `; about ${Math.ceil(needed)} requests per arm needed${Number.isFinite(ratePerArm) && ratePerArm > 0 ? ` (≈ ${Math.ceil(needed / ratePerArm)} s at this rate)` : ''}`
        : '';
    others.push(
      `${t.metric}: no significant difference (${ps}) but power ${t.power === undefined ? 'n/a' : t.power.toFixed(2)} < ${plan.power} to detect ${fmt(t.minimumEffect ?? NaN, t.unit)} — inconclusive${more}.`,
    );
  }
  const tests = drafts.map((d) => d.test);
  const worse = tests.filter((t) => t.outcome === 'worse');
  const undecided = tests.filter((t) => t.outcome === 'inconclusive');
  const verdict = worse.length > 0 ? 'fail' : undecided.length > 0 || tests.length === 0 ? 'inconclusive' : 'pass';
  const family = `${tests.length} metrics, ${plan.correction === 'none' ? 'uncorrected' : plan.correction}, α = ${plan.alpha}`;
  const headline =
    verdict === 'fail'
      ? `Candidate worse on ${worse.map((t) => t.metric).join(', ')} (${family}).`
      : verdict === 'pass'
        ? `No significant harmful difference (${family}); every test had power ≥ ${plan.power} for its minimum effect.`
        : `Inconclusive: ${undecided.map((t) => t.metric).join(', ')} not decided — underpowered for the minimum effect or too little data (${family}).`;
  return {
    result: {
      tests,
      alpha: plan.alpha,
      correction: plan.correction,
      paired: input.paired !== undefined,
      // The run decides whether it stopped early (sequentialLook at each look); the judge names the method.
      ...(plan.sequential ? { sequential: { method: 'msprt-normal-mixture', stoppedEarly: false } } : {}),
    },
    verdict,
    reasons: [headline, ...deciding, ...others],
  };
}

/** What to plan an A/B run for: the effects worth detecting and what is known beforehand. */
export interface AbSampleSizeQuery {
  alpha: number;
  power: number;
  correction: AbPlan['correction'];
  /** Metrics in the family (for the Bonferroni level alpha/k used for power; default 5). */
  metrics?: number;
  /** Accuracy: the control's expected accuracy and the drop worth detecting; `discordance` (share of rows the arms disagree on) for a paired design. */
  accuracy?: { baseline: number; drop: number; discordance?: number };
  /** Error rate: the control's expected rate and the increase worth detecting. */
  errorRate?: { baseline: number; increase: number };
  /** Median latency: the shift worth detecting (ms) and the spread, observed (a control run's binned latency) or assumed (σ in ms). */
  latencyShift?: { shiftMs: number; spread: Binned | { sd: number } };
  /** Planned total request rate and the candidate's share, to turn requests into seconds. */
  ratePerS?: number;
  candidateShare?: number;
}

/**
 * Before a run: requests per arm needed for each metric asked about (two proportions or McNemar
 * for accuracy, two proportions for the error rate, Noether's formula for the median), and the
 * time at the planned rate — the arm with the smaller share sets it.
 */
export function abSampleSize(
  q: AbSampleSizeQuery,
): Array<{ metric: string; method: string; perArm: number; seconds?: number }> {
  const k = q.metrics ?? 5;
  const a = q.correction === 'none' ? q.alpha : q.alpha / k;
  const out: Array<{ metric: string; method: string; perArm: number }> = [];
  if (q.accuracy) {
    const { baseline, drop, discordance } = q.accuracy;
    out.push(
      discordance !== undefined
        ? {
            metric: 'accuracy',
            method: 'mcnemar (Connor 1987)',
            perArm: mcnemarSampleSize(discordance, drop, q.power, a),
          }
        : {
            metric: 'accuracy',
            method: 'two proportions',
            perArm: twoProportionSampleSize(baseline, baseline - drop, q.power, a),
          },
    );
  }
  if (q.errorRate) {
    const { baseline, increase } = q.errorRate;
    out.push({
      metric: 'error_rate',
      method: 'two proportions',
      perArm: twoProportionSampleSize(baseline, baseline + increase, q.power, a),
    });
  }
  if (q.latencyShift) {
    const p = shiftSuperiority(q.latencyShift.shiftMs, q.latencyShift.spread);
    out.push({
      metric: 'latency.median',
      method: 'mann-whitney (Noether 1987)',
      perArm: rankTestSampleSize(p, q.power, a),
    });
  }
  const share = q.candidateShare ?? 0.5;
  const slowest = q.ratePerS && q.ratePerS > 0 ? q.ratePerS * Math.min(share, 1 - share) : 0;
  return out.map((r) => ({
    ...r,
    perArm: Math.ceil(r.perArm),
    ...(slowest > 0 && Number.isFinite(r.perArm) ? { seconds: Math.ceil(r.perArm / slowest) } : {}),
  }));
}

/** Always-valid state of a sequential A/B comparison across looks (one monitor per metric). */
export interface SequentialState {
  monitors: Map<string, MsprtMonitor>;
}

export function newSequentialState(): SequentialState {
  return { monitors: new Map() };
}

export interface SequentialLook {
  /** Stop now: on harm, or because every metric is conclusively within its minimum effect. */
  stop: boolean;
  reason?: string;
  harm: boolean;
  metrics: Array<{
    metric: string;
    estimate: number;
    pValue: number;
    ci: [number, number];
    /** Per arm, in `unit`; the minimum effect (τ) and which sign of the estimate is harmful. */
    control: number;
    candidate: number;
    minimumEffect: number;
    harmful: 'increase' | 'decrease';
    unit: StatTest['unit'];
  }>;
  /** The per-look level alpha / k (Bonferroni over the metrics monitored). */
  level: number;
}

function meanAndVariance(b: Binned): { n: number; mean: number; variance: number } {
  let n = 0;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < b.values.length; i++) {
    n += b.counts[i];
    s += b.counts[i] * b.values[i];
    s2 += b.counts[i] * b.values[i] * b.values[i];
  }
  const mean = n > 0 ? s / n : NaN;
  return { n, mean, variance: n > 1 ? Math.max(0, (s2 - n * mean * mean) / (n - 1)) : NaN };
}

/**
 * Sequential mode (plan.sequential): one look at the cumulative data so far. mSPRT with a normal
 * mixture (τ = the metric's minimum effect) on the latency mean, the error rate and the accuracy
 * (paired difference when paired), Bonferroni over those metrics; the running always-valid
 * p-values live in `state`. Stops on a harmful difference, or when every metric's always-valid
 * interval lies within ± its minimum effect. Looking after every batch keeps the false-positive
 * rate ≤ alpha (src/stats/sequential.ts).
 */
export function sequentialLook(input: ComparisonInput, plan: AbPlan, state: SequentialState): SequentialLook {
  const c = input.control;
  const e = input.candidate;
  const rows: Array<{
    metric: string;
    estimate: number;
    variance: number;
    minimum: number;
    harmful: (d: number) => boolean;
    control: number;
    candidate: number;
    unit: StatTest['unit'];
  }> = [];
  const lc = meanAndVariance(c.latency);
  const le = meanAndVariance(e.latency);
  if (lc.n > 1 && le.n > 1) {
    rows.push({
      metric: 'latency.mean',
      estimate: le.mean - lc.mean,
      variance: lc.variance / lc.n + le.variance / le.n,
      minimum: plan.minimumEffects['latency.mean'] ?? DEFAULT_MINIMUM_EFFECTS.latencyRelative * lc.mean,
      harmful: (d) => d > 0,
      control: lc.mean,
      candidate: le.mean,
      unit: 'ms',
    });
  }
  if (c.requests > 0 && e.requests > 0) {
    const d = proportionDifference(c.errors, c.requests, e.errors, e.requests);
    rows.push({
      metric: 'error_rate',
      ...d,
      minimum: plan.minimumEffects.error_rate ?? DEFAULT_MINIMUM_EFFECTS.error_rate,
      harmful: (x) => x > 0,
      control: c.errors / c.requests,
      candidate: e.errors / e.requests,
      unit: 'fraction',
    });
  }
  const accMin = plan.minimumEffects.accuracy ?? DEFAULT_MINIMUM_EFFECTS.accuracy;
  const pc = input.paired;
  const pairs = pc ? pc.bothCorrect + pc.controlOnly + pc.candidateOnly + pc.neither : 0;
  if (pc && pairs > 0) {
    const d = (pc.candidateOnly - pc.controlOnly) / pairs;
    const disc = (pc.candidateOnly + pc.controlOnly) / pairs;
    rows.push({
      metric: 'accuracy',
      estimate: d,
      variance: (disc - d * d) / pairs,
      minimum: accMin,
      harmful: (x) => x < 0,
      control: (pc.bothCorrect + pc.controlOnly) / pairs,
      candidate: (pc.bothCorrect + pc.candidateOnly) / pairs,
      unit: 'fraction',
    });
  } else if (c.scored && e.scored) {
    const d = proportionDifference(c.correct ?? 0, c.scored, e.correct ?? 0, e.scored);
    rows.push({
      metric: 'accuracy',
      ...d,
      minimum: accMin,
      harmful: (x) => x < 0,
      control: (c.correct ?? 0) / c.scored,
      candidate: (e.correct ?? 0) / e.scored,
      unit: 'fraction',
    });
  }
  const a = plan.alpha / Math.max(1, rows.length);
  const metrics = rows.map((r) => {
    let m = state.monitors.get(r.metric);
    if (!m) {
      m = new MsprtMonitor(r.minimum * r.minimum);
      state.monitors.set(r.metric, m);
    }
    return {
      metric: r.metric,
      estimate: r.estimate,
      pValue: m.look(r.estimate, r.variance),
      ci: msprtInterval(r.estimate, r.variance, m.tau2, a),
      control: r.control,
      candidate: r.candidate,
      minimumEffect: r.minimum,
      harmful: r.harmful(1) ? ('increase' as const) : ('decrease' as const),
      unit: r.unit,
    };
  });
  const harmed = rows.filter((r, i) => metrics[i].pValue <= a && r.harmful(r.estimate));
  if (harmed.length > 0) {
    return {
      stop: true,
      harm: true,
      reason: `Sequential (mSPRT): ${harmed.map((r) => r.metric).join(', ')} worse, always-valid p ≤ ${a.toPrecision(2)}.`,
      metrics,
      level: a,
    };
  }
  const settled =
    rows.length > 0 && rows.every((r, i) => metrics[i].ci[0] > -r.minimum && metrics[i].ci[1] < r.minimum);
  return settled
    ? {
        stop: true,
        harm: false,
        reason: 'Sequential (mSPRT): every metric within its minimum effect (always-valid intervals).',
        metrics,
        level: a,
      }
    : { stop: false, harm: false, metrics, level: a };
}

/** What the run saw of its sequential looks (ComparisonCollector). */
export interface SequentialProgress {
  looks: number;
  stoppedEarly: boolean;
  reason?: string;
  stoppedAt?: { requests: number; seconds: number };
}

/**
 * The verdict of a sequential A/B run: a final look at all the data (an always-valid p-value or
 * interval holds at any stopping time, also after the drain that followed a stop), judged by the
 * always-valid figures only — a fixed-sample test on data whose size the looks chose is not valid,
 * and the looks' chance to stop on false harm would add to its alpha. Per metric: `worse` / `better`
 * when the always-valid p ≤ alpha/k (Bonferroni; `adjustedPValue` = k·p), `no-difference` when the
 * always-valid interval lies within ± the minimum effect (an equivalence answer: it needs no power
 * figure, the interval already excludes the minimum effect), else `inconclusive`.
 */
export function judgeAbSequential(
  input: ComparisonInput,
  plan: AbPlan,
  state: SequentialState,
  progress: SequentialProgress,
): Judgement<AbResult> {
  const look = sequentialLook(input, plan, state);
  const k = look.metrics.length;
  const confidence = 1 - look.level;
  const deciding: string[] = [];
  const others: string[] = [];
  const tests: StatTest[] = look.metrics.map((m) => {
    const t: StatTest = {
      ...draftTest(
        {
          metric: m.metric,
          method: 'msprt-normal-mixture',
          control: m.control,
          candidate: m.candidate,
          estimate: m.estimate,
          ci: m.ci,
          pValue: m.pValue,
          unit: m.unit,
        },
        confidence,
        m.minimumEffect,
      ),
      adjustedPValue: Math.min(1, m.pValue * k),
    };
    const est = `${fmt(t.estimate, t.unit)} (always-valid ${(confidence * 100).toPrecision(3)}% CI ${fmt(t.ci[0], t.unit)} to ${fmt(t.ci[1], t.unit)})`;
    const ps = `always-valid p = ${fmtP(t.pValue)}, Bonferroni-adjusted ${fmtP(t.adjustedPValue)}`;
    if (m.pValue <= look.level && t.estimate !== 0) {
      const harmful = m.harmful === 'increase' ? t.estimate > 0 : t.estimate < 0;
      t.outcome = harmful ? 'worse' : 'better';
      (harmful ? deciding : others).push(`${t.metric} ${t.outcome}: ${est}, ${ps}.`);
    } else if (t.ci[0] > -m.minimumEffect && t.ci[1] < m.minimumEffect) {
      t.outcome = 'no-difference';
      others.push(`${t.metric}: no difference beyond ${fmt(m.minimumEffect, t.unit)}: ${est}, ${ps}.`);
    } else {
      others.push(
        `${t.metric}: not decided — the always-valid interval still reaches ± ${fmt(m.minimumEffect, t.unit)} (${est}, ${ps}); inconclusive.`,
      );
    }
    return t;
  });
  const worse = tests.filter((t) => t.outcome === 'worse');
  const undecided = tests.filter((t) => t.outcome === 'inconclusive');
  const verdict = worse.length > 0 ? 'fail' : undecided.length > 0 || k === 0 ? 'inconclusive' : 'pass';
  const family = `${k} metrics, mSPRT always-valid, Bonferroni, α = ${plan.alpha}`;
  const looks = `${progress.looks} looks with the final one`;
  const how = progress.stoppedEarly
    ? `stopped early${progress.stoppedAt ? ` at ${progress.stoppedAt.requests} requests, ${progress.stoppedAt.seconds.toFixed(1)} s` : ''}; ${looks}`
    : `not stopped early; ${looks}`;
  const headline =
    verdict === 'fail'
      ? `Candidate worse on ${worse.map((t) => t.metric).join(', ')} (sequential, ${how}; ${family}).`
      : verdict === 'pass'
        ? `No harmful difference: every always-valid interval within its minimum effect (sequential, ${how}; ${family}).`
        : `Inconclusive: ${undecided.map((t) => t.metric).join(', ') || 'no metric'} not decided (sequential, ${how}; ${family}).`;
  return {
    result: {
      tests,
      alpha: plan.alpha,
      correction: 'bonferroni',
      paired: input.paired !== undefined,
      sequential: { method: 'msprt-normal-mixture', ...progress, judgedBy: 'always-valid' },
    },
    verdict,
    reasons: [headline, ...deciding, ...others],
  };
}
