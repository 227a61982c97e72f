/**
 * What the multi-run profile kinds, sweep and capacity (src/profiles/kinds/), share: one run() per step, each measured until steady
 * (perf_analyzer's rule, bounded by a maximum time per step), results of step n in `steps/<n>/`,
 * and a top-level results folder (summary.json with the answer, intervals.ndjson of every step on
 * one timeline, plan.resolved.json) that the reports read like any run. Interruptible: Ctrl-C
 * stops the current step and the search, and the partial answer is written.
 */
import path from 'node:path';
import { ensureDirOrThrow } from '../core/output-path.js';
import type { IntervalRecord, ScenarioSummary, Summary, ThresholdResult } from '../core/results.js';
import { redact, redactPlan } from '../plan/index.js';
import { writeFileAtomicSync } from '../core/results-files.js';
import type { PlanOf, SteadyRule } from '../plan/types.js';
import { assembleStepsSummary, run } from '../run/index.js';
import { steadyState, type SteadyCheck } from './analysis.js';
import { stepPlan } from './expand.js';
import { r3, rate, writeJsonFile } from './harness.js';
import type { Mark, ProfileRunOptions } from './types.js';
import { mergePoint, scenarioRecords, summarizeRecords, type WindowPoint } from './windows.js';
import { bottleneckOfSteps } from '../monitor/index.js';

/** A plan of a kind that runs one run() per step. */
export type MultiRunPlan = PlanOf<'sweep' | 'capacity'>;

export interface StepOutcome {
  index: number;
  name: string;
  dir: string;
  level: { mode: 'rate' | 'concurrency'; value: number };
  summary: Summary;
  records: IntervalRecord[];
  /** The measurement windows the step is judged on: the last `windows` complete ones. */
  measured: WindowPoint[];
  /** Summary of the measured span (exact percentiles). */
  measuredSummary: ScenarioSummary;
  /** The step's records in the measured span (with their exact histograms). */
  measuredRecords: IntervalRecord[];
  steady: SteadyCheck;
  /** Why the step ended before its maximum time (steady, clearly failing). */
  endedEarly?: string;
  interrupted: boolean;
}

/** Complete measurement windows (`per` consecutive intervals) of one scenario's records. */
export function measurementWindows(records: readonly IntervalRecord[], per: number): WindowPoint[] {
  const recs = [...records].sort((a, b) => a.t - b.t);
  if (recs.length === 0) return [];
  const t0 = recs[0].t;
  const groups = new Map<number, IntervalRecord[]>();
  for (const r of recs) {
    const k = Math.floor((r.t - t0) / per);
    let l = groups.get(k);
    if (!l) groups.set(k, (l = []));
    l.push(r);
  }
  return [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .filter(([, l]) => l.length === per)
    .map(([, l]) => mergePoint(l));
}

/**
 * Runs one step for at most `rule.maxStepMs`: after each complete measurement window, stops when
 * the last `rule.windows` agree (steady), or when `clearlyFails` says they all fail.
 */
export async function runStep(
  plan: MultiRunPlan,
  index: number,
  level: StepOutcome['level'],
  rule: SteadyRule,
  outDir: string,
  opts: ProfileRunOptions,
  clearlyFails?: (windows: WindowPoint[]) => boolean,
): Promise<StepOutcome> {
  const name = `step-${index + 1}`;
  const cooldown = plan.profile.cooldownMs;
  if (index > 0 && cooldown > 0) await sleep(cooldown, opts.signal);
  const sp = stepPlan(plan, name, level, rule.maxStepMs);
  const per = Math.max(1, Math.round(rule.windowMs / plan.options.intervalMs));
  const live: IntervalRecord[] = [];
  const all: IntervalRecord[] = [];
  let decided: WindowPoint[] | null = null;
  const stopper = new AbortController();
  const dir = path.join(outDir, 'steps', String(index + 1));
  const plannedWindows = Math.floor(rule.maxStepMs / plan.options.intervalMs);
  const result = await run(sp, {
    outDir: dir,
    signal: opts.signal,
    onProgress: opts.onProgress,
    skipTargetCheck: opts.skipTargetCheck || index > 0,
    stop: stopper.signal,
    // Every window run() writes passes here (onWindow misses the ones flushed at the end): the
    // step is judged on these records instead of reading intervals.ndjson back.
    decorateWindow: (records) => {
      all.push(...records);
    },
    onWindow: (records) => {
      opts.onWindow?.(records);
      if (stopper.signal.aborted) return;
      const mine = scenarioRecords(records, [name]).filter((r) => r.t < plannedWindows);
      if (mine.length === 0) return;
      live.push(...mine);
      if (live.length % per !== 0) return;
      const mw = measurementWindows(live, per);
      const last = mw.slice(-rule.windows);
      if (last.length < rule.windows) return;
      if (steadyState(last, rule).steady) {
        decided = last;
        stopper.abort('steady');
      } else if (clearlyFails?.(last)) {
        decided = last;
        stopper.abort('clearly failing');
      }
    },
  });
  const mine = scenarioRecords(all, [name]);
  const measured: WindowPoint[] =
    decided ??
    measurementWindows(
      mine.filter((r) => r.t < plannedWindows),
      per,
    ).slice(-rule.windows);
  const firstT = measured.length ? measured[0].t : Infinity;
  const lastT = measured.length ? measured[measured.length - 1].t + per : -Infinity;
  const measuredRecords = mine.filter((r) => r.t >= firstT && r.t < lastT);
  const measuredSummary = summarizeRecords(measuredRecords, sp.scenarios[0].executor, sp.scenarios[0].protocol);
  const out: StepOutcome = {
    index,
    name,
    dir,
    level,
    summary: result.summary,
    records: all,
    measured,
    measuredSummary,
    measuredRecords,
    steady: steadyState(measured, rule),
    interrupted: result.summary.status === 'interrupted',
  };
  if (result.summary.endedEarly) out.endedEarly = result.summary.endedEarly;
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The top-level results folder of a multi-run profile: every step's windows on one timeline. */
export function writeTopLevel(
  plan: MultiRunPlan,
  outDir: string,
  steps: StepOutcome[],
  thresholds: ThresholdResult[],
  interrupted: boolean,
): { summary: Summary; marks: Mark[] } {
  ensureDirOrThrow(outDir); // not mkdir({ recursive }): it spins forever under /proc
  writeJsonFile(path.join(outDir, 'plan.resolved.json'), redactPlan(plan), plan.secrets);
  const lines: string[] = [];
  const marks: Mark[] = [];
  const all: IntervalRecord[] = [];
  let offsetT = 0;
  let offsetS = 0;
  for (const s of steps) {
    marks.push({
      t_s: r3(offsetS)!,
      label: `${s.name}: ${s.level.mode === 'rate' ? rate(s.level.value) : `${s.level.value} in flight`}`,
    });
    let maxT = -1;
    let endS = 0;
    for (const r of s.records) {
      const shifted: IntervalRecord = { ...r, t: r.t + offsetT, start_s: r3(r.start_s + offsetS)! };
      lines.push(JSON.stringify(shifted));
      if (r.group === undefined) all.push(shifted);
      maxT = Math.max(maxT, r.t);
      endS = Math.max(endS, r.start_s + r.duration_s);
    }
    offsetT += maxT + 1;
    offsetS += endS;
  }
  // The steps' records as they were kept in memory: redacted here, as run() redacts what it writes.
  writeFileAtomicSync(
    path.join(outDir, 'intervals.ndjson'),
    redact(lines.join('\n') + (lines.length ? '\n' : ''), [...plan.secrets]),
  );
  // What happened in each step goes to the one assembler; the verdict is decided when the answer is in.
  const summary = assembleStepsSummary({
    plan,
    steps: steps.map((s) => ({
      name: s.name,
      summary: s.summary,
      ...(s.steady.steady
        ? {}
        : {
            unsteady: {
              maxStepMs: plan.profile.steady.maxStepMs,
              throughputSpread: s.steady.throughput_spread,
              p99Spread: s.steady.p99_spread,
            },
          }),
    })),
    total: summarizeRecords(all, plan.profile.type, plan.profile.template.protocol),
    thresholds,
    interrupted,
  });
  // Where the target's time went, step by step (plan `monitor:` with queue and compute time).
  const bottleneck = bottleneckOfSteps(steps.map((s) => ({ rate: s.summary.total.throughput, summary: s.summary })));
  if (bottleneck) summary.bottleneck = bottleneck;
  return { summary, marks };
}

export const listText = (xs: string[]): string =>
  xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;

export const levelText = (l: StepOutcome['level']): string =>
  l.mode === 'rate' ? rate(l.value) : `concurrency ${l.value}`;
