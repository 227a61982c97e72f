/**
 * Thresholds against a Summary → pass/fail per threshold, the run's verdict and exit code.
 *
 * Where a threshold's value comes from (the *subject* is `summary.scenarios[scenario]`, or
 * `summary.total` without a scenario; with a group, the subject's `groups[group]`):
 *
 *   generator_overloaded      summary.generator.overloaded (true = 1, false = 0)
 *   latency, service_time,    subject.latency_ms / service_time_ms / ttfb_ms / dispatch_lag_ms [stat]
 *   ttfb, dispatch_lag
 *   ttft, itl, tpot, e2e, …   subject.histograms['<metric>_ms'] [stat]
 *   errors                    sum of subject.errors;  errors.<class>: subject.errors[class] (absent = 0)
 *   error_rate                subject.error_rate (no data when no request completed or was cancelled)
 *   anything else, in order:  1. subject[metric] when it is a number (or boolean: 1/0)
 *                             2. subject[metric].value when subject[metric] is an object
 *                             3. the same in the sections quality, golden, generation, goodput
 *                             4. subject.counters[metric]
 *
 * A missing value is "no data": the threshold fails (ok: false, value: null) with a note saying why.
 * Percentiles of a histogram with count 0 are no data too.
 */
import { ExitCode } from '../core/exit-codes.js';
import type { DurationStats, ScenarioSummary, Summary, ThresholdResult, Verdict } from '../core/results.js';
import { METRICS, STAT_FIELD, VERDICT_RANK } from '../plan/thresholds.js';
import type { Comparator, ComparisonThreshold, ThresholdPlan } from '../plan/types.js';
import type { ComparisonSummary } from '../core/comparison.js';
import { checkFails, type CheckResult } from '../core/checks.js';

/** One line for a failed check: its id, status and failing findings. */
export function checkReason(c: CheckResult): string {
  const bad = c.findings.filter((f) => checkFails(f.status)).map((f) => f.what);
  return `check ${c.id} ${c.status === 'error' ? 'could not be carried out' : 'failed'}${bad.length ? `: ${bad.join('; ')}` : ''}`;
}

/** What evaluation needs of a summary: a final Summary, or a partial one built during the run. */
export type SummaryLike = Pick<Summary, 'total' | 'scenarios'> &
  Partial<
    Pick<
      Summary,
      'generator' | 'durationS' | 'comparison' | 'target_metrics' | 'profiles' | 'checks' | 'cost' | 'cost_note'
    >
  >;

export interface Measured {
  value: number | null;
  note?: string;
}

const SECTIONS = ['quality', 'golden', 'generation', 'goodput'] as const;

const noData = (note: string): Measured => ({ value: null, note });

function numeric(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

/** A number, or an object's numeric `value` (e.g. quality.accuracy_drop = { value, ci95, … }). */
function numberOrValue(v: unknown): number | null {
  const n = numeric(v);
  if (n !== null) return n;
  if (v && typeof v === 'object' && !Array.isArray(v)) return numeric((v as Record<string, unknown>)['value']);
  return null;
}

/** The generic lookup (steps 1–4 of the header comment). */
export function lookupMetric(subject: ScenarioSummary, metric: string): number | null {
  const direct = numberOrValue(subject[metric]);
  if (direct !== null) return direct;
  for (const section of SECTIONS) {
    const sec = subject[section];
    if (sec && typeof sec === 'object' && !Array.isArray(sec)) {
      const v = numberOrValue((sec as Record<string, unknown>)[metric]);
      if (v !== null) return v;
    }
  }
  const c = subject.counters?.[metric];
  return typeof c === 'number' && Number.isFinite(c) ? c : null;
}

function histogramOf(subject: ScenarioSummary, metric: string): DurationStats | undefined {
  const field = METRICS[metric]?.field;
  if (field) return subject[field] as DurationStats | undefined;
  return subject.histograms?.[`${metric}_ms`];
}

function subjectName(t: Pick<ThresholdPlan, 'scenario' | 'group'>): string {
  return t.scenario === undefined
    ? 'all scenarios'
    : t.group === undefined
      ? `scenario ${t.scenario}`
      : `${t.scenario}/${t.group}`;
}

/** The measured value of one threshold's metric. */
export function measure(
  t: Pick<
    ThresholdPlan,
    'scenario' | 'group' | 'metric' | 'stat' | 'comparison' | 'target' | 'answer' | 'check' | 'cost'
  >,
  summary: SummaryLike,
): Measured {
  if (t.cost !== undefined) {
    if (!summary.cost) return noData(summary.cost_note ?? 'no cost in the summary');
    return { value: numeric(summary.cost.headline[t.cost.field]) };
  }
  if (t.comparison !== undefined) return measureComparison(t.comparison, summary.comparison);
  if (t.check !== undefined) {
    // A check's figure (summary.checks): null when the check did not measure it (it failed first, or was skipped).
    const r = summary.checks?.results.find((x) => x.id === t.check!.id);
    if (!r) return noData(summary.checks ? `check ${t.check.id} did not run` : 'the checks did not run');
    const v = numeric(r.figures[t.check.figure]);
    return v === null ? noData(`${t.metric} not measured (check ${t.check.id}: ${r.status})`) : { value: v };
  }
  if (t.target !== undefined) return measureTarget(t.target, summary.target_metrics);
  if (t.answer !== undefined) {
    // A profile's answer: its headline number (null: e.g. a window that never recovered).
    const answer = summary.profiles?.[t.answer.profile] as { numbers?: Record<string, unknown> } | undefined;
    if (!answer) return noData(`no ${t.answer.profile} answer in the summary`);
    const v = numeric(answer.numbers?.[t.answer.field]);
    const why = answer.numbers?.[`${t.answer.field}_note`];
    return v === null ? noData(typeof why === 'string' ? why : `${t.metric} not measured`) : { value: v };
  }
  if (t.metric === 'generator_overloaded') {
    return summary.generator
      ? { value: summary.generator.overloaded ? 1 : 0 }
      : noData('no generator health in the summary');
  }
  let subject: ScenarioSummary | undefined = t.scenario === undefined ? summary.total : summary.scenarios?.[t.scenario];
  if (!subject) return noData(t.scenario === undefined ? 'no results' : `no results for scenario ${t.scenario}`);
  if (t.group !== undefined) {
    subject = subject.groups?.[t.group];
    if (!subject) return noData(`no results for group ${t.group} of scenario ${t.scenario}`);
  }
  const info = METRICS[t.metric];
  if (info?.kind === 'histogram') {
    const h = histogramOf(subject, t.metric);
    if (!h || !h.count) return noData(`no ${t.metric} recorded for ${subjectName(t)} (no completed requests)`);
    const v = numeric((h as unknown as Record<string, unknown>)[STAT_FIELD[t.stat ?? 'p99'] ?? t.stat ?? 'p99']);
    return v === null ? noData(`${t.metric}.${t.stat} not recorded for ${subjectName(t)}`) : { value: v };
  }
  if (t.metric === 'errors') {
    const errors = subject.errors ?? {};
    if (t.stat !== undefined) return { value: numeric(errors[t.stat]) ?? 0 };
    return { value: Object.values(errors).reduce((a: number, v) => a + (numeric(v) ?? 0), 0) };
  }
  if (t.metric === 'error_rate') {
    // Requests cancelled at the stop count (as failed): all cancelled is an error rate of 1, not "no data".
    if (!subject.requests && !subject.cancelled) return noData(`no requests for ${subjectName(t)}`);
    const v = numeric(subject.error_rate);
    return v === null ? noData(`error_rate not recorded for ${subjectName(t)}`) : { value: v };
  }
  const v = lookupMetric(subject, t.metric);
  if (v !== null) return { value: v };
  return noData(`${t.metric} not recorded for ${subjectName(t)}${subject.requests === 0 ? ' (no requests)' : ''}`);
}

/** A target metric's statistic from summary.target_metrics (`growth` is growth_per_hour). */
function measureTarget(t: { name: string; stat: string }, tm: Summary['target_metrics']): Measured {
  const m = tm?.[t.name];
  if (!m) return noData(`target metric ${t.name} was not read (no source exported it, or the monitor was unreachable)`);
  const v = numeric((m as unknown as Record<string, unknown>)[t.stat === 'growth' ? 'growth_per_hour' : t.stat]);
  if (v !== null) return { value: v };
  return noData(
    t.stat === 'growth'
      ? `target.${t.name}: too few values for a growth (${m.windows} of ${m.of} windows)`
      : `target.${t.name}.${t.stat}: no value (${m.windows} of ${m.of} windows had one)`,
  );
}

/** A comparison threshold's value from summary.comparison (see ComparisonThreshold). */
function measureComparison(c: ComparisonThreshold, cmp: ComparisonSummary | undefined): Measured {
  if (!cmp) return noData('no comparison in the summary (the run ended before it was judged)');
  switch (c.section) {
    case 'comparison':
      return { value: VERDICT_RANK[cmp.verdict] ?? null };
    case 'canary':
      if (!cmp.canary) return noData(`no canary result (the comparison is of kind ${cmp.kind})`);
      return c.field === 'score' && Number.isFinite(cmp.canary.score)
        ? { value: cmp.canary.score }
        : noData(`canary.${c.field} not recorded`);
    case 'shadow': {
      const sh = cmp.shadow;
      if (!sh) return noData(`no shadow result (the comparison is of kind ${cmp.kind})`);
      const v =
        c.field === 'agreement'
          ? sh.agreement
          : c.field === 'compared'
            ? sh.compared
            : c.field === 'differing_fields'
              ? sh.fields.filter((f) => f.reported).length
              : NaN;
      return Number.isFinite(v) ? { value: v } : noData(`shadow.${c.field} not recorded (no prediction compared)`);
    }
    case 'ab': {
      if (!cmp.ab) return noData(`no A/B result (the comparison is of kind ${cmp.kind})`);
      const test = cmp.ab.tests.find((x) => x.metric === c.test);
      if (!test) return noData(`the A/B judgement has no test of ${c.test}`);
      const v =
        c.field === 'diff'
          ? test.estimate
          : c.field === 'p'
            ? (test.adjustedPValue ?? test.pValue)
            : c.field === 'power'
              ? (test.power ?? NaN)
              : c.field === 'ci_low'
                ? test.ci[0]
                : test.ci[1];
      return Number.isFinite(v) ? { value: v } : noData(`ab.${c.test}.${c.field} not recorded`);
    }
  }
}

export function compare(value: number, op: Comparator, limit: number): boolean {
  switch (op) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '==':
      return value === limit;
    case '!=':
      return value !== limit;
  }
}

function evaluateOne(t: ThresholdPlan, summary: SummaryLike): ThresholdResult {
  const m = measure(t, summary);
  const r: ThresholdResult = {
    expression: t.expression,
    value: m.value,
    ok: m.value !== null && compare(m.value, t.op, t.value),
  };
  if (t.scenario !== undefined) r.scenario = t.scenario;
  if (m.note !== undefined) r.note = m.note;
  return r;
}

/** Every threshold against a (final) summary, in plan order. */
export function evaluateThresholds(thresholds: readonly ThresholdPlan[], summary: SummaryLike): ThresholdResult[] {
  return thresholds.map((t) => evaluateOne(t, summary));
}

export type LiveFailure = ThresholdResult & { threshold: ThresholdPlan };

/**
 * During the run: the `abortOnFail` thresholds that fail on the partial summary and whose
 * `delayAbortEvalMs` has passed. The delay is measured by `elapsedMs` (time since the run started;
 * default: `partial.durationS`). A threshold with no data yet never aborts the run.
 */
export function evaluateLive(
  thresholds: readonly ThresholdPlan[],
  partial: SummaryLike,
  elapsedMs?: number,
): LiveFailure[] {
  const elapsed = elapsedMs ?? (partial.durationS ?? 0) * 1000;
  const out: LiveFailure[] = [];
  for (const t of thresholds) {
    if (!t.abortOnFail || elapsed < t.delayAbortEvalMs) continue;
    const r = evaluateOne(t, partial);
    if (r.value !== null && !r.ok) out.push({ ...r, threshold: t });
  }
  return out;
}

/**
 * Scenarios that had requests to make and got not one successful answer (all failed, were cancelled
 * at the stop, or never sent): one reason each. Such a run measured nothing it can pass on — the
 * latency of failures, or none at all — so it is `invalid` even without thresholds.
 */
export function nothingServed(summary: Pick<Summary, 'scenarios'>): string[] {
  const out: string[] = [];
  for (const [name, s] of Object.entries(summary.scenarios)) {
    const cancelled = s.cancelled ?? 0;
    const unsent = s.unsent ?? 0;
    const attempted = s.requests + cancelled + unsent;
    if (attempted === 0 || s.ok > 0) continue;
    const parts: string[] = [];
    if (s.requests > 0) {
      const top = Object.entries(s.errors ?? {})
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`);
      parts.push(`${s.requests} failed${top.length ? ` (${top.join(', ')})` : ''}`);
    }
    if (cancelled > 0) parts.push(`${cancelled} never completed and were cancelled at the stop`);
    if (unsent > 0) parts.push(`${unsent} were never sent`);
    out.push(
      `no_request_succeeded: scenario ${name}: not one of its ${attempted} requests succeeded (${parts.join('; ')}). The run is invalid: there is no served request to measure.`,
    );
  }
  return out;
}

/**
 * A release comparison that fails the run (exit 3): verdict fail; inconclusive with
 * `comparison.inconclusive: fail`; a canary's marginal unless `canary.marginalPasses` (as Argo's
 * Job provider reads it). Otherwise marginal and inconclusive pass with a warning
 * (comparisonWarnings), or make the run invalid (comparisonInvalid); a threshold such as
 * `comparison.verdict == pass` gates them too.
 */
export function comparisonFailure(cmp: ComparisonSummary | undefined): string[] {
  if (!cmp) return [];
  const what = `the ${KIND_NAME[cmp.kind]} of ${cmp.candidate} against ${cmp.control}`;
  const why = cmp.reasons.length > 0 ? `: ${cmp.reasons.join('; ')}` : '';
  if (cmp.verdict === 'fail') return [`${what} failed${why}`];
  if (cmp.verdict === 'inconclusive' && cmp.inconclusive === 'fail')
    return [`${what} was inconclusive (comparison.inconclusive: fail)${why}`];
  if (cmp.verdict === 'marginal' && cmp.kind === 'canary' && !cmp.marginalPasses)
    return [`${what} was marginal (canary.marginalPasses: false)${why}`];
  return [];
}

/** An inconclusive comparison whose plan says `comparison.inconclusive: invalid` (a canary's default): exit 4. */
export function comparisonInvalid(cmp: ComparisonSummary | undefined): string[] {
  if (!cmp || cmp.verdict !== 'inconclusive' || cmp.inconclusive !== 'invalid') return [];
  const why = cmp.reasons.length > 0 ? `: ${cmp.reasons.join('; ')}` : '';
  return [`the ${KIND_NAME[cmp.kind]} of ${cmp.candidate} against ${cmp.control} had too little data to judge${why}`];
}

/** The warning of a comparison that passed without a clear answer (inconclusive, marginal). */
export function comparisonWarnings(cmp: ComparisonSummary | undefined): string[] {
  if (!cmp) return [];
  const why = cmp.reasons.length > 0 ? `: ${cmp.reasons.join('; ')}` : '';
  if (cmp.verdict === 'inconclusive' && (cmp.inconclusive ?? 'pass') === 'pass')
    return [
      `the ${KIND_NAME[cmp.kind]} of ${cmp.candidate} against ${cmp.control} was inconclusive (too little data to decide)${why}. Not a "no difference": run longer, or gate with comparison.inconclusive: fail.`,
    ];
  if (cmp.verdict === 'marginal' && (cmp.kind !== 'canary' || cmp.marginalPasses))
    return [`the canary of ${cmp.candidate} was marginal${why}`];
  return [];
}

const KIND_NAME: Record<ComparisonSummary['kind'], string> = {
  ab: 'A/B test',
  canary: 'canary',
  shadow: 'shadow comparison',
};

export interface VerdictOutcome {
  verdict: Verdict;
  exitCode: ExitCode;
  /** Human-readable reasons (failed thresholds, interruption, overload, dead workers, nothing served). */
  reasons: string[];
}

/** What decides a run's outcome beyond its summary: a profile's own answer. */
export interface OutcomeExtras {
  /** The profile's answer failed (a stress run broke catastrophically, a soak drifted, …). */
  profileFailed?: boolean;
}

/**
 * The one decider of a run's verdict and exit code, for plain runs and profiles alike, from what the
 * summary records. Precedence: interrupted (130) > thresholds or the profile's answer failed (3) >
 * the results cannot be trusted — generator overloaded, a worker thread died mid-run, or a scenario
 * served not one request (see nothingServed) — (4) > passed (0).
 */
export function decideOutcome(
  summary: Pick<Summary, 'status' | 'thresholds' | 'scenarios'> &
    Partial<Pick<Summary, 'generator' | 'comparison' | 'alerts' | 'checks'>>,
  extras: OutcomeExtras = {},
): VerdictOutcome {
  const failed = summary.thresholds.filter((r) => !r.ok);
  const reasons = failed.map(
    (r) => `${r.expression}: ${r.value === null ? (r.note ?? 'no data') : `measured ${r.value}`}`,
  );
  reasons.push(...comparisonFailure(summary.comparison));
  // A failed alert expectation (monitor.alerts) fails the run like a threshold.
  for (const a of summary.alerts ?? []) if (!a.ok) reasons.push(`alert ${a.reasons.join('; ')}`);
  // A failed or errored assumption check (plan `checks:`) fails the run like a threshold.
  for (const c of summary.checks?.results ?? []) if (checkFails(c.status)) reasons.push(checkReason(c));
  if (summary.status === 'interrupted')
    return { verdict: 'interrupted', exitCode: ExitCode.Interrupted, reasons: ['interrupted', ...reasons] };
  if (extras.profileFailed) reasons.unshift("the profile's answer failed");
  if (reasons.length > 0) return { verdict: 'failed', exitCode: ExitCode.ThresholdsFailed, reasons };
  const invalid = [
    ...(summary.generator?.overloaded
      ? ['the load generator was overloaded; latency figures include its own delay']
      : []),
    ...(summary.generator?.worker_failures ?? []),
    ...nothingServed(summary),
    ...comparisonInvalid(summary.comparison),
  ];
  if (invalid.length > 0) return { verdict: 'invalid', exitCode: ExitCode.RunInvalid, reasons: invalid };
  return { verdict: 'passed', exitCode: ExitCode.Passed, reasons: [] };
}
