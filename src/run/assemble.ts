/**
 * The one summary assembler of a run: the merged windows and what happened (status, an early end,
 * generator health) → the Summary of summary.json, and the run's warnings from everything that
 * happened. Thresholds, verdict and exit code are decided afterwards (verdict/decideOutcome, applied
 * by settleOutcome). A multi-step profile's (sweep, capacity) top-level summary is assembled here too,
 * from its steps' summaries (assembleStepsSummary).
 */
import { fmtPct, fmtSeconds } from '../core/format.js';
import type { GeneratorHealth, ScenarioSummary, Summary, ThresholdResult } from '../core/results.js';
import type { ChecksSummary } from '../core/checks.js';
import { Accumulator } from '../metrics/index.js';
import type { Plan } from '../plan/types.js';
import { redact } from '../plan/index.js';
import { enrichSummary, mergeAdapterReports, type AdapterReport } from '../protocols/index.js';
import {
  comparisonWarnings,
  decideOutcome,
  nothingServed,
  type OutcomeExtras,
  type VerdictOutcome,
} from '../verdict/index.js';
import { httpClientOf } from '../engine/index.js';
import { plannedEndMs } from './progress.js';
import {
  combineReasons,
  describeTiming,
  emptyHealth,
  machineInfo,
  plannedMeanRate,
  scenarioSummary,
  toolVersion,
} from './summary.js';
import type { WindowMerger } from './window-merger.js';

/** The run as far as it got: its windows (in the merger) and what happened. */
export interface RunState {
  plan: Plan;
  merger: WindowMerger;
  startedAt: Date;
  /** Since run() began (it also counts the pre-load checks), ms. */
  elapsedMs: number;
  status: Summary['status'];
  endedEarly?: string;
  generator: GeneratorHealth;
  /** Where the spans of scenarios still running end (ms since load start): how far the merged windows reach (live) or now. */
  openEndMs: number;
  /**
   * A partial summary during the run (live abortOnFail checks): rates over the time the merged
   * windows cover, not over the planned duration.
   */
  live: boolean;
}

/** Everything that happened beside the windows, for the warnings. */
export interface RunEvents {
  status: Summary['status'];
  /** One line per worker thread that died mid-run. */
  shardFailures: readonly string[];
  /** The expressions of abortOnFail thresholds that stopped the run. */
  aborted: readonly string[];
}

/** The summary before thresholds, verdict and warnings (see runWarnings, decideOutcome). */
export function assembleSummary(r: RunState): Summary {
  const { plan, merger } = r;
  const secrets = plan.secrets;
  const scenarios: Summary['scenarios'] = {};
  for (const s of plan.scenarios) {
    const active = activeMs(r, s.name);
    const sum = scenarioSummary(merger.totals.get(s.name), s.executor, s.protocol, {
      unsent: merger.unsent.get(s.name),
      cancelled: merger.cancelled.get(s.name),
      targetRate: plannedMeanRate(s),
      activeMs: active,
      errorReasons: combineReasons(merger.errorReasons.get(s.name) ?? [], (m) => redact(m, secrets)),
    });
    const groups: Record<string, ReturnType<typeof scenarioSummary>> = {};
    for (const [key, acc] of merger.totals) {
      const [sc, g] = key.split('\u0000');
      if (sc === s.name && g !== undefined)
        groups[g] = scenarioSummary(acc, s.executor, s.protocol, { activeMs: active });
    }
    if (Object.keys(groups).length > 0) sum.groups = groups;
    // End-of-run adapter reports (worst golden rows, …), merged by the protocol layer.
    const report = mergeAdapterReports(s, merger.adapterReports(s.name));
    if (report) {
      const { groups: perGroup, ...own } = report;
      sum.adapter = own;
      for (const [g, rep] of Object.entries(perGroup ?? {})) if (groups[g]) groups[g].adapter = rep;
    }
    scenarios[s.name] = sum;
  }
  const total = totalSummary(plan, merger, runSpanMs(r));
  total.error_reasons = combineReasons(
    plan.scenarios.flatMap((s) => merger.errorReasons.get(s.name) ?? []),
    (m) => redact(m, secrets),
  );
  const summary: Summary = {
    format: 'preflight-summary/1',
    tool: { name: 'preflight', version: toolVersion(), node: process.version },
    machine: machineInfo(),
    plan: plan.source,
    startedAt: r.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    durationS: round(r.elapsedMs / 1000),
    status: r.status,
    verdict: 'passed',
    exitCode: 0,
    thresholds: [],
    warnings: [],
    generator: r.generator,
    total,
    scenarios,
  };
  if (r.endedEarly !== undefined) summary.endedEarly = r.endedEarly;
  enrichSummary(plan, summary);
  return summary;
}

/** The run's warnings, in one place, from the summary (thresholds evaluated) and what happened. */
export function runWarnings(plan: Plan, summary: Summary, ev: RunEvents): string[] {
  const w: string[] = [...describeTiming(plan)];
  if (plan.target.tls.insecure)
    w.push('TLS certificate verification was off (tls.insecure: true): the target was not authenticated.');
  w.push(...ev.shardFailures);
  if (ev.aborted.length > 0) w.push(`aborted early: ${ev.aborted.join(', ')} failed (abortOnFail)`);
  if (summary.generator.overloaded)
    w.push(
      `generator_overloaded: ${summary.generator.reasons.join('; ')}. Latency figures may include the generator's own delay.`,
    );
  for (const [name, s] of Object.entries(summary.scenarios)) {
    if (s.unsent > 0)
      w.push(
        `${name}: ${s.unsent} arrivals were due but never sent (in-flight cap reached); they are counted, not hidden.`,
      );
    // A handful of late sends (JIT warm-up, GC) is normal; say so when it is more than 1%.
    // `late` counts every request sent late, also those cancelled at the stop before they completed.
    if (s.late > 0.01 * (s.requests + s.cancelled)) {
      const of = s.cancelled > 0 ? `${s.requests} completed, ${s.cancelled} cancelled at the stop` : `of ${s.requests}`;
      w.push(
        `${name}: ${s.late} requests (${of}) were sent more than 10 ms after their intended time; the latency of those that completed includes the wait.`,
      );
    }
    // Cancelled at the stop: never completed, so counted as failed in error_rate (see results-format.md).
    if (s.cancelled > 0 && ev.status !== 'interrupted') {
      const sc = plan.scenarios.find((x) => x.name === name);
      const why =
        ev.status === 'aborted'
          ? 'when the run was aborted'
          : `when the graceful stop (${(sc?.gracefulStopMs ?? 0) / 1000} s) ended`;
      w.push(
        `${name}: ${s.cancelled} requests were still in flight ${why} and were cancelled; they count as failed in error_rate (${round(s.error_rate * 100)}%).`,
      );
    }
    const rep = s.adapter as AdapterReport | undefined;
    for (const e of rep?.finish_errors ?? []) w.push(`${name}: the adapter could not finish: ${e}`);
  }
  if (ev.status !== 'interrupted') w.push(...nothingServed(summary));
  w.push(...comparisonWarnings(summary.comparison));
  return w;
}

/**
 * The summary of `preflight check` (no load): the checks' results, no scenarios, the target untouched
 * by load. Verdict and exit code are decided afterwards (settleOutcome), as for a run.
 */
export function assembleChecksSummary(
  plan: Plan,
  checks: ChecksSummary,
  startedAt: Date,
  elapsedMs: number,
  interrupted: boolean,
): Summary {
  return {
    format: 'preflight-summary/1',
    tool: { name: 'preflight', version: toolVersion(), node: process.version },
    machine: machineInfo(),
    plan: plan.source,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    durationS: round(elapsedMs / 1000),
    status: interrupted ? 'interrupted' : 'completed',
    verdict: 'passed',
    exitCode: 0,
    thresholds: [],
    warnings: plan.target.tls.insecure
      ? ['TLS certificate verification was off (tls.insecure: true): the target was not authenticated.']
      : [],
    generator: emptyHealth(1, httpClientOf(plan)),
    total: scenarioSummary(undefined, 'none', 'none', { activeMs: 0 }),
    scenarios: {},
    checks,
  };
}

/** What a profile saw beside its run(s), for the warnings. */
export interface ProfileEvents {
  /** The target memory the plan asked for could not be sampled: how many samples failed, from where. */
  memoryUnsampled?: { failures: number; from: string };
}

/** A profile's own warnings (added to its run's), built here with the run's. */
export function profileWarnings(ev: ProfileEvents): string[] {
  const w: string[] = [];
  if (ev.memoryUnsampled)
    w.push(
      `target memory could not be sampled (${ev.memoryUnsampled.failures} failed samples from ${ev.memoryUnsampled.from})`,
    );
  return w;
}

/**
 * Decides the outcome (verdict/decideOutcome: the one decider) and records verdict and exit code in
 * the summary. Plain runs and every profile end here.
 */
export function settleOutcome(summary: Summary, extras: OutcomeExtras = {}): VerdictOutcome {
  const outcome = decideOutcome(summary, extras);
  summary.verdict = outcome.verdict;
  summary.exitCode = outcome.exitCode;
  return outcome;
}

/** One step of a multi-step profile: its run's summary (steps/<n>/summary.json) and what the profile saw. */
export interface StepRecord {
  name: string;
  /** The step's own summary as run() ended it: status, warnings, generator health, dead workers. */
  summary: Summary;
  /** Set when the step never became steady within its maximum time (its figures are from its last windows). */
  unsteady?: { maxStepMs: number; throughputSpread: number | null; p99Spread: number | null };
}

/** What a multi-step profile hands the assembler: its steps and what it measured across them. */
export interface StepsState {
  plan: Plan;
  steps: readonly StepRecord[];
  /** Every step's windows merged (the profile's whole span). */
  total: ScenarioSummary;
  /** The profile's thresholds (capacity: on its best step), evaluated by the profile. */
  thresholds: ThresholdResult[];
  /** Ctrl-C stopped a step or the search. */
  interrupted: boolean;
}

/**
 * The top-level summary of a multi-step profile (sweep, capacity): one scenario per step, the
 * steps' warnings and generator health (a worker that died in any step counts, not only in the
 * last). Verdict and exit code are decided afterwards (settleOutcome), as for a run.
 */
export function assembleStepsSummary(st: StepsState): Summary {
  const { plan, steps } = st;
  const first = steps[0]?.summary;
  const last = steps[steps.length - 1]?.summary;
  return {
    format: 'preflight-summary/1',
    tool: last?.tool ?? { name: 'preflight', version: toolVersion(), node: process.version },
    machine: last?.machine ?? machineInfo(),
    plan: plan.source,
    startedAt: first?.startedAt ?? new Date().toISOString(),
    endedAt: last?.endedAt ?? new Date().toISOString(),
    durationS: Math.round(steps.reduce((a, s) => a + s.summary.durationS, 0) * 1000) / 1000,
    status: st.interrupted ? 'interrupted' : 'completed',
    verdict: 'passed',
    exitCode: 0,
    thresholds: st.thresholds,
    warnings: stepsWarnings(steps),
    generator: stepsGenerator(plan, steps),
    total: st.total,
    scenarios: Object.fromEntries(steps.map((s) => [s.name, s.summary.scenarios[s.name]])),
  };
}

/** Each step's run warnings, named by step, and the steps that never became steady. */
function stepsWarnings(steps: readonly StepRecord[]): string[] {
  const w: string[] = [];
  // A step is one scenario by design: run()'s closed-workload note says nothing about the profile.
  for (const s of steps) for (const x of s.summary.warnings) if (!/closed workload/.test(x)) w.push(`${s.name}: ${x}`);
  for (const s of steps) {
    if (!s.unsteady || s.summary.status === 'interrupted') continue;
    const u = s.unsteady;
    w.push(
      `${s.name} never stabilised within ${fmtSeconds(u.maxStepMs / 1000)} (throughput spread ${fmtPct(u.throughputSpread)}, p99 spread ${fmtPct(u.p99Spread)}); its figures are from its last windows.`,
    );
  }
  return w;
}

/** The steps' generator health: the last step's figures; overload, stalls and dead workers of any step. */
function stepsGenerator(plan: Plan, steps: readonly StepRecord[]): GeneratorHealth {
  const last = steps[steps.length - 1]?.summary.generator;
  const overloaded = steps.filter((s) => s.summary.generator.overloaded);
  const workerFailures = steps.flatMap((s) =>
    (s.summary.generator.worker_failures ?? []).map((w) => `${s.name}: ${w}`),
  );
  const g: GeneratorHealth = {
    ...(last ?? emptyHealth(Math.max(1, plan.options.workers), httpClientOf(plan))),
    overloaded: overloaded.length > 0,
    reasons: overloaded.flatMap((s) => s.summary.generator.reasons.map((r) => `${s.name}: ${r}`)),
  };
  // Windows over the lag limit: counted over every step, not only the last.
  const over = steps.map((s) => s.summary.generator.windows_over_limit).filter((x) => x !== undefined);
  if (over.length > 0)
    g.windows_over_limit = {
      count: over.reduce((a, x) => a + x.count, 0),
      of: over.reduce((a, x) => a + x.of, 0),
      limit_ms: over[over.length - 1].limit_ms,
    };
  // A worker that died in any step makes the whole profile invalid, not only in the last one.
  if (workerFailures.length > 0) g.worker_failures = workerFailures;
  else delete g.worker_failures;
  return g;
}

/**
 * A scenario's active time: from its start to its last completion, but never shorter than its
 * planned duration unless it was cut short (an open workload's last arrival comes just before the end).
 */
function activeMs(r: RunState, name: string): number {
  const sp = r.merger.span(name);
  if (!sp) return 0;
  const measured = Math.max(0, (sp.endMs ?? r.openEndMs) - sp.startMs);
  if (r.live) return measured;
  const sc = r.plan.scenarios.find((x) => x.name === name)!;
  const end = plannedEndMs(sc);
  return r.status === 'completed' && r.endedEarly === undefined && end !== null
    ? Math.max(measured, end - sc.startTimeMs)
    : measured;
}

/** From the first scenario's start to the last one's end. */
function runSpanMs(r: RunState): number {
  const spans = r.merger.scenariosSeen.map((n) => r.merger.span(n)!);
  if (spans.length === 0) return 0;
  const start = Math.min(...spans.map((s) => s.startMs));
  const end = Math.max(...spans.map((s) => s.endMs ?? r.openEndMs));
  return Math.max(0, end - start);
}

function totalSummary(plan: Plan, merger: WindowMerger, spanMs: number) {
  // All scenarios merged exactly: histograms added, counters summed. Time = run span covered by windows.
  const accs = plan.scenarios.map((s) => merger.totals.get(s.name)).filter((a): a is Accumulator => a !== undefined);
  const merged = mergeAccumulators(accs, spanMs);
  const unsent = plan.scenarios.reduce((a, s) => a + (merger.unsent.get(s.name) ?? 0), 0);
  const cancelled = plan.scenarios.reduce((a, s) => a + (merger.cancelled.get(s.name) ?? 0), 0);
  const kinds = new Set(plan.scenarios.map((s) => s.executor));
  const protocols = new Set(plan.scenarios.map((s) => s.protocol));
  return scenarioSummary(
    merged,
    kinds.size === 1 ? [...kinds][0] : 'mixed',
    protocols.size === 1 ? [...protocols][0] : 'mixed',
    { unsent, cancelled, activeMs: spanMs },
  );
}

/** Whole-run merge of several scenarios; its time is the span of the run's windows. */
function mergeAccumulators(accs: Accumulator[], spanMs: number): Accumulator {
  const out = new Accumulator();
  for (const a of accs) {
    for (const k in a.counters) out.counters[k] = (out.counters[k] ?? 0) + a.counters[k];
    for (const k in a.maxes) out.maxes[k] = Math.max(out.maxes[k] ?? -Infinity, a.maxes[k]);
    for (const [k, h] of a.histograms) out.histogram(k).add(h);
  }
  out.windows = Math.max(0, ...accs.map((a) => a.windows));
  out.windowMs = spanMs;
  return out;
}

const round = (x: number) => Math.round(x * 100) / 100;
