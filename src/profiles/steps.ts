/**
 * The multi-run profiles, sweep and capacity: one run() per step, each measured until steady
 * (perf_analyzer's rule, bounded by a maximum time per step), results of step n in `steps/<n>/`,
 * and a top-level results folder (summary.json with the answer, intervals.ndjson of every step on
 * one timeline, plan.resolved.json) that the reports read like any run. Interruptible: Ctrl-C
 * stops the current step and the search, and the partial answer is written.
 */
import path from 'node:path';
import { ensureDirOrThrow } from '../core/output-path.js';
import type { IntervalRecord, ScenarioSummary, Summary, ThresholdResult } from '../core/results.js';
import { redactPlan } from '../plan/index.js';
import type { Plan, SteadyRule } from '../plan/types.js';
import { defaultOutDir, run } from '../run/index.js';
import { evaluateThresholds } from '../verdict/index.js';
import fs from 'node:fs';
import { capacitySearch, checkStep, kneedle, steadyState, type Probe, type SteadyCheck } from './analysis.js';
import { scopedTo, stepPlan } from './expand.js';
import { finishSummary, ms, pct, r3, rate, secs, writeJsonFile } from './harness.js';
import type { Curve, Mark, ProfileAnswer, ProfileResult, ProfileRunOptions } from './types.js';
import { mergePoint, scenarioRecords, summarizeRecords, type WindowPoint } from './windows.js';

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
  plan: Plan,
  index: number,
  level: StepOutcome['level'],
  rule: SteadyRule,
  outDir: string,
  opts: ProfileRunOptions,
  clearlyFails?: (windows: WindowPoint[]) => boolean,
): Promise<StepOutcome> {
  const name = `step-${index + 1}`;
  const cooldown = plan.profile!.cooldownMs ?? 0;
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
  const measured: WindowPoint[] = decided ?? measurementWindows(mine.filter((r) => r.t < plannedWindows), per).slice(-rule.windows);
  const firstT = measured.length ? measured[0].t : Infinity;
  const lastT = measured.length ? measured[measured.length - 1].t + per : -Infinity;
  const measuredSummary = summarizeRecords(mine.filter((r) => r.t >= firstT && r.t < lastT), sp.scenarios[0].executor, sp.scenarios[0].protocol);
  const out: StepOutcome = {
    index,
    name,
    dir,
    level,
    summary: result.summary,
    records: all,
    measured,
    measuredSummary,
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
function writeTopLevel(plan: Plan, outDir: string, steps: StepOutcome[], thresholds: ThresholdResult[], interrupted: boolean): { summary: Summary; marks: Mark[] } {
  ensureDirOrThrow(outDir); // not mkdir({ recursive }): it spins forever under /proc
  writeJsonFile(path.join(outDir, 'plan.resolved.json'), redactPlan(plan), plan.secrets);
  const lines: string[] = [];
  const marks: Mark[] = [];
  const all: IntervalRecord[] = [];
  let offsetT = 0;
  let offsetS = 0;
  for (const s of steps) {
    marks.push({ t_s: r3(offsetS)!, label: `${s.name}: ${s.level.mode === 'rate' ? rate(s.level.value) : `${s.level.value} in flight`}` });
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
  fs.writeFileSync(path.join(outDir, 'intervals.ndjson'), lines.join('\n') + (lines.length ? '\n' : ''));
  const first = steps[0]?.summary;
  const last = steps[steps.length - 1]?.summary;
  const overloaded = steps.filter((s) => s.summary.generator.overloaded);
  const workerFailures = steps.flatMap((s) => (s.summary.generator.worker_failures ?? []).map((w) => `${s.name}: ${w}`));
  const template = plan.profile!.template;
  const summary: Summary = {
    format: 'preflight-summary/1',
    tool: last?.tool ?? { name: 'preflight', version: '0.0.0', node: process.version },
    machine: last?.machine ?? { platform: '', arch: '', cpus: 0, cpuModel: '', memoryGiB: 0 },
    plan: plan.source,
    startedAt: first?.startedAt ?? new Date().toISOString(),
    endedAt: last?.endedAt ?? new Date().toISOString(),
    durationS: r3(steps.reduce((a, s) => a + s.summary.durationS, 0))!,
    status: interrupted ? 'interrupted' : 'completed',
    verdict: 'passed',
    exitCode: 0,
    thresholds,
    warnings: [
      ...steps.flatMap((s) => s.summary.warnings.filter((w) => !/closed workload/.test(w)).map((w) => `${s.name}: ${w}`)),
      ...steps.filter((s) => !s.steady.steady && !s.interrupted).map((s) => `${s.name} never stabilised within ${secs(plan.profile!.steady!.maxStepMs / 1000)} (throughput spread ${pct(s.steady.throughput_spread)}, p99 spread ${pct(s.steady.p99_spread)}); its figures are from its last windows.`),
    ],
    generator: {
      ...(last?.generator ?? { workers: plan.options.workers, dispatch_lag_ms: { p50: 0, p99: 0, max: 0 }, event_loop_delay_ms: { p50: 0, p99: 0, max: 0 }, cpu_percent: { mean: 0, max: 0 } }),
      overloaded: overloaded.length > 0,
      reasons: overloaded.flatMap((s) => s.summary.generator.reasons.map((r) => `${s.name}: ${r}`)),
      // A worker that died in any step makes the whole profile invalid, not only in the last one.
      worker_failures: workerFailures.length > 0 ? workerFailures : undefined,
    } as Summary['generator'],
    total: summarizeRecords(all, plan.profile!.type, template.protocol),
    scenarios: Object.fromEntries(steps.map((s) => [s.name, s.summary.scenarios[s.name]])),
  };
  return { summary, marks };
}

const listText = (xs: string[]): string => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

const levelText = (l: StepOutcome['level']): string => (l.mode === 'rate' ? rate(l.value) : `concurrency ${l.value}`);

// ---- sweep --------------------------------------------------------------------------------------

export async function runSweep(plan: Plan, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile!;
  const rule = p.steady!;
  const outDir = opts.outDir ?? defaultOutDir();
  const levels = p.levels!;
  const steps: StepOutcome[] = [];
  for (const [i, value] of levels.values.entries()) {
    if (opts.signal?.aborted) break;
    const level = { mode: levels.mode, value };
    opts.log?.(`sweep step ${i + 1}/${levels.values.length}: ${levelText(level)} (until steady, at most ${secs(rule.maxStepMs / 1000)})`);
    const s = await runStep(plan, i, level, rule, outDir, opts);
    steps.push(s);
    const m = s.measuredSummary;
    opts.log?.(`  ${s.steady.steady ? 'steady' : s.interrupted ? 'interrupted' : 'NOT steady'} after ${secs(s.summary.durationS)}: throughput ${rate(m.throughput)}, p50 ${ms(m.latency_ms.p50)}, p99 ${ms(m.latency_ms.p99)}, errors ${pct(m.error_rate)}`);
    if (s.interrupted) break;
  }
  const interrupted = steps.some((s) => s.interrupted) || Boolean(opts.signal?.aborted);
  const rows = steps.map((s) => {
    const m = s.measuredSummary;
    const c = plan.thresholds.length ? checkStep(plan.thresholds, m) : null;
    return {
      step: s.index + 1,
      level: s.level.value,
      mode: levels.mode,
      throughput: m.throughput,
      p50_ms: m.latency_ms.p50,
      p90_ms: m.latency_ms.p90,
      p99_ms: m.latency_ms.p99,
      error_rate: m.error_rate,
      stable: s.steady.steady,
      throughput_spread: s.steady.throughput_spread,
      p99_spread: s.steady.p99_spread,
      duration_s: s.summary.durationS,
      ...(c ? { meets_slo: c.ok, failed: c.reasons } : {}),
      dir: path.relative(outDir, s.dir),
    };
  });
  const knee = kneedle(rows.map((r) => ({ x: r.throughput, y: r.p99_ms })));
  const kneeRow = knee.index >= 0 ? rows[knee.index] : null;
  const maxT = rows.length ? Math.max(...rows.map((r) => r.throughput)) : null;
  const meeting = rows.filter((r) => r.meets_slo === true);
  const unstable = rows.filter((r) => !r.stable && !(interrupted && r === rows[rows.length - 1]));
  const lv = (r: (typeof rows)[number]): number => r.level;
  const lvText = (x: number): string => levelText({ mode: levels.mode, value: x });
  const parts: string[] = [];
  if (rows.length) {
    parts.push(`Throughput goes from ${rate(rows[0].throughput)} to ${rate(maxT)} (max) as the load goes from ${lvText(lv(rows[0]))} to ${lvText(lv(rows[rows.length - 1]))}.`);
    parts.push(kneeRow ? `The knee is at ${lvText(lv(kneeRow))}: throughput ${rate(kneeRow.throughput)}, p99 ${ms(kneeRow.p99_ms)}; beyond it latency rises faster than throughput.` : 'No knee within the sweep: latency does not bend up against throughput.');
    if (plan.thresholds.length) parts.push(meeting.length ? `Highest level meeting the thresholds: ${lvText(lv(meeting[meeting.length - 1]))} (${rate(meeting[meeting.length - 1].throughput)}).` : 'No level meets the thresholds.');
    if (unstable.length) parts.push(`${unstable.length === 1 ? 'Step' : 'Steps'} ${listText(unstable.map((r) => String(r.step)))} never stabilised within ${secs(rule.maxStepMs / 1000)}: reported from the last windows.`);
  } else parts.push('No step ran.');
  const thresholds: ThresholdResult[] = [];
  const top = writeTopLevel(plan, outDir, steps, thresholds, interrupted);
  const curves: Curve[] = [
    { title: 'throughput–latency', x_label: 'throughput (/s)', y_label: 'latency (ms)', series: [{ name: 'p50', points: rows.map((r) => [r.throughput, r.p50_ms] as [number, number]) }, { name: 'p99', points: rows.map((r) => [r.throughput, r.p99_ms] as [number, number]) }] },
    { title: 'throughput per level', x_label: levels.mode === 'rate' ? 'offered rate (/s)' : 'concurrency', y_label: 'throughput (/s)', points: rows.map((r) => [lv(r), r.throughput] as [number, number]) },
  ];
  const answer: ProfileAnswer = {
    type: 'sweep',
    verdict: rows.length ? 'passed' : 'inconclusive',
    answer: parts.join(' '),
    numbers: {
      [levels.mode === 'rate' ? 'knee_rate' : 'knee_concurrency']: kneeRow ? lv(kneeRow) : null,
      knee_throughput: kneeRow?.throughput ?? null,
      knee_p99_ms: kneeRow?.p99_ms ?? null,
      max_throughput: maxT,
      steps: rows.length,
      unstable_steps: unstable.length,
      ...(plan.thresholds.length ? { highest_level_meeting_slo: meeting.length ? lv(meeting[meeting.length - 1]) : null } : {}),
    },
    curves,
    marks: top.marks,
    steps: rows,
    knee: { ...knee, method: 'Kneedle: max of normalised throughput − normalised p99, points in order of load' },
  };
  if (interrupted) answer.answer = `Interrupted — partial answer: ${answer.answer}`;
  const fin = finishSummary(top.summary, outDir, plan, answer);
  return { summary: fin.summary, outDir, exitCode: fin.exitCode, answer };
}

// ---- capacity -----------------------------------------------------------------------------------

export async function runCapacity(plan: Plan, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile!;
  const rule = p.steady!;
  const outDir = opts.outDir ?? defaultOutDir();
  const steps: StepOutcome[] = [];
  const probes: Array<Probe & { step: StepOutcome; reasons: string[] }> = [];
  const judge = (s: ScenarioSummary, offered: number) => checkStep(plan.thresholds, s, { minThroughput: p.minThroughput, offered });
  let state = capacitySearch([], { start: p.startRate!, maxRate: p.maxRate!, precision: p.precision!, maxSteps: p.maxSteps });
  while (!state.done && state.next !== undefined && !opts.signal?.aborted) {
    const r = state.next;
    opts.log?.(`capacity probe ${probes.length + 1}: ${rate(r)} (held so far ${rate(state.lo)}, failed ${state.hi === null ? '–' : rate(state.hi)})`);
    // A probe whose last windows each fail the thresholds is over: no need to wait for steady state.
    const clearlyFails = (ws: WindowPoint[]): boolean => ws.every((w) => !judge(summaryOfPoint(w, plan), r).ok);
    const s = await runStep(plan, steps.length, { mode: 'rate', value: r }, rule, outDir, opts, clearlyFails);
    steps.push(s);
    if (s.interrupted) break;
    const c = judge(s.measuredSummary, r);
    probes.push({ rate: r, ok: c.ok, step: s, reasons: c.reasons });
    opts.log?.(`  ${c.ok ? 'sustained' : `NOT sustained (${c.reasons.join('; ')})`}${s.steady.steady ? '' : ', never steady'}: throughput ${rate(s.measuredSummary.throughput)}, p99 ${ms(s.measuredSummary.latency_ms.p99)}, errors ${pct(s.measuredSummary.error_rate)}`);
    state = capacitySearch(probes, { start: p.startRate!, maxRate: p.maxRate!, precision: p.precision!, maxSteps: p.maxSteps });
  }
  const interrupted = steps.some((s) => s.interrupted) || Boolean(opts.signal?.aborted);
  const best = probes.find((x) => x.ok && x.rate === state.lo);
  const worst = state.hi !== null ? probes.find((x) => !x.ok && x.rate === state.hi) : undefined;
  const thresholds = best ? evaluateThresholds(scopedTo(plan.thresholds, best.step.name), { total: best.step.measuredSummary, scenarios: { [best.step.name]: best.step.measuredSummary } }) : [];
  const top = writeTopLevel(plan, outDir, steps, thresholds, interrupted);
  const slo = plan.thresholds.map((t) => t.expression).join(', ');
  const precision = p.precision!.absolute !== undefined ? rate(p.precision!.absolute) : pct(p.precision!.relative);
  let text: string;
  if (!best) text = probes.length ? `Sustains none of the rates tried within the SLO (${slo}): even ${rate(state.hi)} failed (${worst?.reasons.join('; ') ?? ''}).` : 'No probe completed.';
  else if (state.hi === null) text = `Sustains the highest rate tried, ${rate(state.lo)}, within the SLO (${slo}): the capacity is higher (raise maxRate). At ${rate(state.lo)}: ${line(best.step.measuredSummary)}.`;
  else text = `Sustains at most ${rate(state.lo)} within the SLO (${slo}), to ${precision}: ${rate(state.lo)} held (${line(best.step.measuredSummary)}), ${rate(state.hi)} did not (${worst?.reasons.join('; ') ?? 'failed'}).`;
  if (p.atLeast !== undefined) text += ` Required: at least ${rate(p.atLeast)}.`;
  const rows = probes.map((x) => ({ probe: x.step.index + 1, rate: x.rate, sustained: x.ok, failed: x.reasons, stable: x.step.steady.steady, throughput: x.step.measuredSummary.throughput, p50_ms: x.step.measuredSummary.latency_ms.p50, p99_ms: x.step.measuredSummary.latency_ms.p99, error_rate: x.step.measuredSummary.error_rate, duration_s: x.step.summary.durationS, ended: x.step.endedEarly ?? 'max step time', dir: path.relative(outDir, x.step.dir) }));
  const verdictOk = best !== undefined && (p.atLeast === undefined || state.lo >= p.atLeast);
  const answer: ProfileAnswer = {
    type: 'capacity',
    verdict: probes.length === 0 ? 'inconclusive' : verdictOk ? 'passed' : 'failed',
    answer: interrupted ? `Interrupted — partial answer: ${text}` : text,
    numbers: {
      max_sustainable_rate: best ? state.lo : 0,
      first_failing_rate: state.hi,
      slo,
      precision,
      probes: probes.length,
      p99_at_capacity_ms: best?.step.measuredSummary.latency_ms.p99 ?? null,
      throughput_at_capacity: best?.step.measuredSummary.throughput ?? null,
    },
    curves: [{ title: 'probes: p99 per offered rate', x_label: 'offered rate (/s)', y_label: 'p99 (ms)', series: [{ name: 'sustained', points: rows.filter((x) => x.sustained).map((x) => [x.rate, x.p99_ms] as [number, number]) }, { name: 'not sustained', points: rows.filter((x) => !x.sustained).map((x) => [x.rate, x.p99_ms] as [number, number]) }] }],
    marks: top.marks,
    steps: rows,
    search: { lo: state.lo, hi: state.hi, reason: state.reason ?? (interrupted ? 'interrupted' : ''), method: 'double from startRate until a probe fails, then bisect between the highest rate that held and the lowest that failed' },
  };
  const fin = finishSummary(top.summary, outDir, plan, answer);
  return { summary: fin.summary, outDir, exitCode: fin.exitCode, answer };
}

function line(s: ScenarioSummary): string {
  return `p99 ${ms(s.latency_ms.p99)}, errors ${pct(s.error_rate)}, throughput ${rate(s.throughput)}`;
}

/** A measurement window as a ScenarioSummary-like subject for thresholds (percentiles p50/p90/p99/max only). */
function summaryOfPoint(w: WindowPoint, plan: Plan): ScenarioSummary {
  const s = summarizeRecords([], 'constant-arrival-rate', plan.profile!.template.protocol);
  s.requests = w.requests;
  s.ok = w.ok;
  s.errors = w.errors;
  s.error_rate = w.error_rate;
  s.throughput = w.throughput;
  s.counters = w.counters;
  const l = { count: w.requests, min: 0, mean: w.p50 ?? 0, p50: w.p50 ?? 0, p90: w.p90 ?? 0, p95: w.p99 ?? 0, p99: w.p99 ?? 0, p999: w.max ?? 0, max: w.max ?? 0 };
  s.latency_ms = l;
  return s;
}

