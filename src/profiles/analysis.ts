/**
 * The analysis behind profile answers, as pure functions over series of windows (WindowPoint) and
 * step results. Each rule and its defaults is documented in docs/profiles.md.
 */
import type { ScenarioSummary, ThresholdResult } from '../core/results.js';
import type { RecoveryRule, SteadyRule, ThresholdPlan } from '../plan/types.js';
import { linearTrend } from '../stats/trend.js';
import { evaluateThresholds } from '../verdict/index.js';
import type { WindowPoint } from './windows.js';

const round = (x: number, d = 3): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Type-7 quantile of unsorted values. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (h - lo) * (s[hi] - s[lo]);
}

// ---- thresholds on a step -------------------------------------------------------------------

export interface StepCheck {
  ok: boolean;
  thresholds: ThresholdResult[];
  /** Why it failed, in words. */
  reasons: string[];
}

/**
 * Unscoped thresholds evaluated on one step or phase (its ScenarioSummary), plus an optional error
 * limit and minimum throughput (fraction of `offered`).
 */
export function checkStep(
  thresholds: readonly ThresholdPlan[],
  subject: ScenarioSummary,
  extra: { errorLimit?: number; minThroughput?: number; offered?: number } = {},
): StepCheck {
  const results = evaluateThresholds(thresholds, { total: subject, scenarios: {} });
  const reasons: string[] = results
    .filter((r) => !r.ok)
    .map((r) =>
      r.value === null ? `${r.expression} (${r.note ?? 'no data'})` : `${r.expression} (was ${round(r.value)})`,
    );
  if (extra.errorLimit !== undefined && subject.error_rate > extra.errorLimit)
    reasons.push(`error rate ${round(subject.error_rate * 100, 2)}% > limit ${round(extra.errorLimit * 100, 2)}%`);
  if (
    extra.minThroughput !== undefined &&
    extra.offered !== undefined &&
    subject.throughput < extra.minThroughput * extra.offered
  ) {
    reasons.push(
      `throughput ${round(subject.throughput, 1)}/s < ${round(extra.minThroughput * 100, 1)}% of the offered ${round(extra.offered, 1)}/s`,
    );
  }
  if (subject.requests === 0) reasons.push('no requests completed');
  return { ok: reasons.length === 0, thresholds: results, reasons };
}

// ---- stress: breaking point and failure mode -------------------------------------------------

export interface BreakingPoint {
  /** Rate of the last step that held (null: none held). */
  lastGood: number | null;
  /** Rate of the step after it: the first of the failing steps that end the test (null: nothing failed at the end). */
  firstBad: number | null;
  /** Index of that first failing step, -1 when none. */
  index: number;
  /** Indices of failing steps followed by a step that held again (transient failures, not the break). */
  transient: number[];
}

/**
 * The breaking point of steps run in order: the last step that held, and the failing step after
 * it (every later step failed too). A failing step followed by one that holds again is transient.
 */
export function breakingPoint(steps: ReadonlyArray<{ rate: number; ok: boolean }>): BreakingPoint {
  let last = -1;
  steps.forEach((s, i) => {
    if (s.ok) last = i;
  });
  const transient = steps.map((s, i) => (!s.ok && i < last ? i : -1)).filter((i) => i >= 0);
  if (last === steps.length - 1)
    return { lastGood: steps.length ? steps[last].rate : null, firstBad: null, index: -1, transient };
  return { lastGood: last >= 0 ? steps[last].rate : null, firstBad: steps[last + 1].rate, index: last + 1, transient };
}

export type FailureMode = 'graceful' | 'catastrophic' | 'degraded';

export interface FailureEvidence {
  mode: FailureMode;
  /** The rule that decided, in words. */
  reasons: string[];
  requests: number;
  /** Responses 429/503 (shed) over requests. */
  shed_fraction: number;
  /** Timeouts and connection errors over requests. */
  hard_error_fraction: number;
  /** Other failures (500, 4xx other than 429, invalid responses, failed checks) over requests. */
  other_error_fraction: number;
  errors: Record<string, number>;
  /** Per-window p50 at the start and the end of the broken span (ms), their ratio, and the trend test. */
  p50_start_ms: number | null;
  p50_end_ms: number | null;
  latency_growth: number | null;
  latency_trend_ms_per_s: number | null;
  latency_trend_p: number | null;
  latency_growing: boolean;
  /** Requests in flight at the end of the span vs the start. */
  in_flight_start: number;
  in_flight_end: number;
  /** Arrivals sent late (waiting for an in-flight slot) over requests. */
  late_fraction: number;
}

/** Limits of the failure-mode rule (documented in docs/profiles.md). */
export const FAILURE_RULE = { hardErrors: 0.01, shedShare: 0.5, growth: 2, trendP: 0.01 };

/**
 * How a target fails, from the windows of its failing steps (in time order):
 *   catastrophic — timeouts / connection errors ≥ 1% of requests, or latency growing without bound
 *                  (per-window p50 rising with a significant trend, p < 0.01, to ≥ 2× its value at
 *                  the start of the span);
 *   graceful     — otherwise, when at least half the failures are shed responses (429/503): the
 *                  target refuses what it cannot serve and latency stays bounded;
 *   degraded     — otherwise: latency above the SLO but bounded, or errors other than shedding.
 */
export function failureMode(points: readonly WindowPoint[]): FailureEvidence {
  const pts = points.filter((p) => p.requests > 0);
  const requests = pts.reduce((a, p) => a + p.requests, 0);
  const errors: Record<string, number> = {};
  let shed = 0;
  let late = 0;
  for (const p of pts) {
    for (const k in p.errors) errors[k] = (errors[k] ?? 0) + p.errors[k];
    shed += (p.counters['status.429'] ?? 0) + (p.counters['status.503'] ?? 0);
    late += p.late;
  }
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  const hard = (errors['timeout'] ?? 0) + (errors['connection_refused'] ?? 0) + (errors['connection_reset'] ?? 0);
  const other = Math.max(0, failed - hard - shed);
  const frac = (x: number): number => (requests > 0 ? round(x / requests, 4) : 0);
  const p50s = pts.map((p) => p.p50).filter((x): x is number => x !== null);
  const third = Math.max(1, Math.floor(p50s.length / 3));
  const start = p50s.length ? median(p50s.slice(0, third)) : null;
  const end = p50s.length ? median(p50s.slice(-third)) : null;
  const growth = start !== null && end !== null && start > 0 ? end / start : null;
  const tr =
    p50s.length >= 4
      ? linearTrend(
          p50s,
          pts.filter((p) => p.p50 !== null).map((p) => p.start_s),
        )
      : null;
  const growing =
    tr !== null && tr.slope > 0 && tr.pValue < FAILURE_RULE.trendP && growth !== null && growth >= FAILURE_RULE.growth;
  const ev: FailureEvidence = {
    mode: 'degraded',
    reasons: [],
    requests,
    shed_fraction: frac(shed),
    hard_error_fraction: frac(hard),
    other_error_fraction: frac(other),
    errors,
    p50_start_ms: start,
    p50_end_ms: end,
    latency_growth: growth === null ? null : round(growth, 2),
    latency_trend_ms_per_s: tr ? round(tr.slope, 3) : null,
    latency_trend_p: tr ? tr.pValue : null,
    latency_growing: growing,
    in_flight_start: pts.length ? pts[0].in_flight : 0,
    in_flight_end: pts.length ? pts[pts.length - 1].in_flight : 0,
    late_fraction: frac(late),
  };
  const pct = (x: number): string => `${round(x * 100, 1)}%`;
  if (ev.hard_error_fraction >= FAILURE_RULE.hardErrors)
    ev.reasons.push(`${pct(ev.hard_error_fraction)} of requests timed out or lost their connection`);
  if (growing)
    ev.reasons.push(
      `latency grew without bound: p50 ${round(start!, 1)} → ${round(end!, 1)} ms (×${round(growth!, 1)}, +${round(tr!.slope, 2)} ms/s, p ${tr!.pValue < 0.001 ? '< 0.001' : `= ${round(tr!.pValue, 3)}`})`,
    );
  if (ev.reasons.length > 0) ev.mode = 'catastrophic';
  else if (failed > 0 && shed >= FAILURE_RULE.shedShare * failed) {
    ev.mode = 'graceful';
    ev.reasons.push(
      `${pct(ev.shed_fraction)} of requests were shed with 429/503 while latency stayed bounded (p50 ${start === null ? '–' : round(start, 1)} → ${end === null ? '–' : round(end, 1)} ms)`,
    );
  } else {
    ev.mode = 'degraded';
    ev.reasons.push(
      failed > 0
        ? `${pct(failed / Math.max(1, requests))} of requests failed, mostly not by shedding (${Object.entries(errors)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}); latency stayed bounded`
        : 'latency rose above the SLO but stayed bounded; nothing was shed',
    );
  }
  return ev;
}

// ---- recovery (spike, rollout) ---------------------------------------------------------------

export interface Recovery {
  recovered: boolean;
  /** Seconds from the end of the event to the start of the first of N good windows (null: never). */
  recovery_s: number | null;
  /** Run time (s) when steady again. */
  recovered_at_s: number | null;
  /** Baseline reference: the 90th percentile of the baseline windows' p99, and its error rate. */
  baseline_p99_ms: number | null;
  baseline_error_rate: number;
  /** A window is good when its p99 ≤ this and its error rate ≤ limit_error_rate. */
  limit_p99_ms: number | null;
  limit_error_rate: number;
  baseline_windows: number;
}

/**
 * Recovery after an event (a spike, a rollout action) that ends at `eventEndS`: the baseline is the
 * windows inside [fromS, toS); its reference p99 is the 90th percentile of their per-window p99 (so
 * ordinary baseline windows meet it), and its error rate is the baseline's overall error rate. A
 * window after the event is good when p99 ≤ max(ref × (1 + latencyTolerance), ref + marginMs) and
 * error rate ≤ baseline + errorTolerance; a window in which nothing completed is not good. The
 * target has recovered at the first of `windows` consecutive good windows from the one in which the
 * event ended; the recovery time is from the event's end to that window's start (0 when the window
 * the event ended in is already good).
 */
export function recoveryTime(
  points: readonly WindowPoint[],
  baseline: { fromS: number; toS: number },
  eventEndS: number,
  rule: RecoveryRule,
): Recovery {
  const eps = 1e-6;
  const base = points.filter(
    (p) => p.start_s >= baseline.fromS - eps && p.start_s + p.duration_s <= baseline.toS + eps && p.requests > 0,
  );
  const p99s = base.map((p) => p.p99).filter((x): x is number => x !== null);
  const ref = p99s.length ? quantile(p99s, 0.9) : null;
  const baseReq = base.reduce((a, p) => a + p.requests, 0);
  const baseErr = baseReq > 0 ? base.reduce((a, p) => a + (p.requests - p.ok), 0) / baseReq : 0;
  const limitP99 = ref === null ? null : Math.max(ref * (1 + rule.latencyTolerance), ref + rule.marginMs);
  const limitErr = baseErr + rule.errorTolerance;
  const good = (p: WindowPoint): boolean =>
    p.requests > 0 && p.p99 !== null && (limitP99 === null || p.p99 <= limitP99) && p.error_rate <= limitErr + eps;
  const after = points.filter((p) => p.start_s + p.duration_s > eventEndS + eps);
  let at: WindowPoint | null = null;
  for (let i = 0; i + rule.windows <= after.length; i++) {
    let all = true;
    for (let k = 0; k < rule.windows; k++) if (!good(after[i + k])) all = false;
    if (all) {
      at = after[i];
      break;
    }
  }
  return {
    recovered: at !== null,
    recovery_s: at ? round(Math.max(0, at.start_s - eventEndS), 3) : null,
    recovered_at_s: at ? at.start_s : null,
    baseline_p99_ms: ref === null ? null : round(ref),
    baseline_error_rate: round(baseErr, 6),
    limit_p99_ms: limitP99 === null ? null : round(limitP99),
    limit_error_rate: round(limitErr, 6),
    baseline_windows: base.length,
  };
}

// ---- sweep: steady state and the knee ---------------------------------------------------------

export interface SteadyCheck {
  steady: boolean;
  /** max/min − 1 over the last windows (Infinity when a value is missing or zero). */
  throughput_spread: number;
  p99_spread: number;
  windows: number;
}

/**
 * perf_analyzer's stability rule: the last `rule.windows` measurement windows agree when, for
 * throughput and for p99 separately, max/min − 1 ≤ tolerance.
 */
export function steadyState(
  points: readonly WindowPoint[],
  rule: Pick<SteadyRule, 'tolerance' | 'windows'>,
): SteadyCheck {
  const last = points.slice(-rule.windows);
  const spread = (xs: Array<number | null>): number => {
    if (xs.some((x) => x === null || !(x > 0))) return Infinity;
    const v = xs as number[];
    return Math.max(...v) / Math.min(...v) - 1;
  };
  if (last.length < rule.windows)
    return { steady: false, throughput_spread: Infinity, p99_spread: Infinity, windows: last.length };
  const t = spread(last.map((p) => p.throughput));
  const l = spread(last.map((p) => p.p99));
  return {
    steady: t <= rule.tolerance + 1e-12 && l <= rule.tolerance + 1e-12,
    throughput_spread: round(t, 4),
    p99_spread: round(l, 4),
    windows: last.length,
  };
}

export interface Knee {
  /** Index into the points, or -1 when the curve has no knee (it never bends up). */
  index: number;
  x: number | null;
  y: number | null;
  /** Kneedle difference x̂ − ŷ at the knee (0…1; larger is a sharper knee). */
  score: number;
}

/**
 * Knee of a throughput–latency curve by Kneedle (Satopää et al. 2011) for a convex, increasing
 * curve: points in order of offered load, x = throughput and y = latency normalised to [0, 1]; the
 * knee is the point furthest below the diagonal (max of x̂ − ŷ): the last point before latency
 * rises faster than throughput. No knee when fewer than 3 points or the maximum is below `minScore`.
 */
export function kneedle(points: ReadonlyArray<{ x: number; y: number }>, minScore = 0.1): Knee {
  const none: Knee = { index: -1, x: null, y: null, score: 0 };
  if (points.length < 3) return none;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!(x1 > x0) || !(y1 > y0)) return none;
  let best = -Infinity;
  let idx = -1;
  points.forEach((p, i) => {
    const d = (p.x - x0) / (x1 - x0) - (p.y - y0) / (y1 - y0);
    if (d > best + 1e-12) {
      best = d;
      idx = i;
    }
  });
  if (best < minScore || idx === points.length - 1) return { ...none, score: round(Math.max(0, best), 4) };
  return { index: idx, x: points[idx].x, y: points[idx].y, score: round(best, 4) };
}

// ---- capacity: bracket, then bisect ----------------------------------------------------------

export interface Probe {
  rate: number;
  ok: boolean;
}

export interface SearchState {
  done: boolean;
  /** Next rate to probe (when not done). */
  next?: number;
  /** Highest rate that held so far (0: none) and lowest that failed (null: none). */
  lo: number;
  hi: number | null;
  /** Why the search stopped. */
  reason?: string;
}

const roundRate = (r: number): number =>
  r >= 100 ? Math.round(r) : r >= 10 ? Math.round(r * 10) / 10 : Math.round(r * 100) / 100;

/**
 * The capacity search, one probe at a time: double from `start` until a probe fails (or `maxRate`
 * holds), then bisect between the highest rate that held and the lowest that failed until
 * hi − lo ≤ precision (relative to lo, or absolute). When even `start` fails, halve down to
 * `minRate` first. Pure: the next probe follows from the probes so far.
 */
export function capacitySearch(
  probes: readonly Probe[],
  opts: {
    start: number;
    maxRate: number;
    precision: { relative?: number; absolute?: number };
    minRate?: number;
    maxSteps?: number;
  },
): SearchState {
  const minRate = opts.minRate ?? opts.start / 64;
  const okRates = probes.filter((p) => p.ok).map((p) => p.rate);
  const badRates = probes.filter((p) => !p.ok).map((p) => p.rate);
  const hi = badRates.length ? Math.min(...badRates) : null;
  const lo = okRates.filter((r) => hi === null || r < hi).reduce((a, b) => Math.max(a, b), 0);
  if (probes.length === 0) return { done: false, next: roundRate(opts.start), lo: 0, hi: null };
  if (opts.maxSteps !== undefined && probes.length >= opts.maxSteps)
    return { done: true, lo, hi, reason: `stopped after ${probes.length} probes (maxSteps)` };
  if (hi === null) {
    if (lo >= opts.maxRate)
      return { done: true, lo, hi, reason: `sustained the maximum rate tried (${opts.maxRate}/s)` };
    return { done: false, next: roundRate(Math.min(opts.maxRate, lo * 2)), lo, hi };
  }
  if (lo === 0) {
    if (hi / 2 < minRate) return { done: true, lo, hi, reason: `even ${roundRate(hi)}/s failed (lowest tried)` };
    return { done: false, next: roundRate(hi / 2), lo, hi };
  }
  const width = hi - lo;
  const enough =
    opts.precision.absolute !== undefined
      ? width <= opts.precision.absolute + 1e-9
      : width <= (opts.precision.relative ?? 0.05) * lo + 1e-9;
  if (enough)
    return { done: true, lo, hi, reason: `bracketed within the precision (${roundRate(lo)}–${roundRate(hi)}/s)` };
  const next = roundRate((lo + hi) / 2);
  if (next <= lo || next >= hi) return { done: true, lo, hi, reason: 'the bracket cannot be split further' };
  return { done: false, next, lo, hi };
}

// ---- soak: drift --------------------------------------------------------------------------------

export interface DriftMetric {
  metric: string;
  /** Points in the regression and the unit of the values. */
  n: number;
  unit: string;
  mean: number;
  /** Slope per hour, its confidence interval and the two-sided p-value. */
  per_hour: number;
  ci_per_hour: [number, number];
  p_value: number;
  /** Change over the analysed span (slope × span) and relative to the mean. */
  change: number;
  relative_change: number | null;
  /** Effective sample size and lag-1 autocorrelation used. */
  n_eff: number;
  r1: number;
  significant: boolean;
  /** Significant, in the bad direction, and at least the minimum change. */
  drifting: boolean;
}

/**
 * Drift of each series over time (x in seconds): the autocorrelation-adjusted linear trend of
 * src/stats/trend.ts. A metric drifts when the slope is significant at `alpha`, points the bad way
 * (up, for latency, errors and memory), and the change over the analysed span is practically
 * relevant: ≥ minChange × mean (latency, memory) or ≥ minErrorChange absolute (error rate).
 */
export function driftOf(
  metric: string,
  unit: string,
  xs: readonly number[],
  ys: readonly number[],
  opts: { alpha: number; minChange: number; minErrorChange: number },
): DriftMetric {
  const tr = linearTrend(ys, xs, { alpha: opts.alpha });
  const span = xs.length > 1 ? Math.max(...xs) - Math.min(...xs) : 0;
  const perHour = tr.slope * 3600;
  const change = tr.slope * span;
  const rel = tr.mean !== 0 && Number.isFinite(tr.mean) ? change / Math.abs(tr.mean) : null;
  const significant = Number.isFinite(tr.pValue) && tr.pValue < opts.alpha;
  const relevant = metric === 'error_rate' ? change >= opts.minErrorChange : rel !== null && rel >= opts.minChange;
  return {
    metric,
    n: tr.n,
    unit,
    mean: round(tr.mean, 6),
    per_hour: round(perHour, 6),
    ci_per_hour: [round(tr.ci[0] * 3600, 6), round(tr.ci[1] * 3600, 6)],
    p_value: Number.isFinite(tr.pValue) ? Number(tr.pValue.toPrecision(3)) : NaN,
    change: round(change, 6),
    relative_change: rel === null ? null : round(rel, 4),
    n_eff: round(tr.nEff, 1),
    r1: round(tr.r1Corrected, 3),
    significant,
    drifting: significant && tr.slope > 0 && relevant,
  };
}
