/**
 * The single-run profiles: load, stress, soak, spike, burst, rollout and replay. Each expands into
 * scenarios of one run (src/profiles/expand.ts), runs it with its live hooks, and answers from the
 * summary and the per-window series. Rules and defaults: docs/profiles.md.
 */
import type { IntervalRecord, ScenarioSummary, Summary } from '../core/results.js';
import type { Plan } from '../plan/types.js';
import { runAction, type ActionResult } from './action.js';
import { breakingPoint, checkStep, driftOf, failureMode, recoveryTime, type DriftMetric } from './analysis.js';
import { burstWarmupMs, expand, type Expansion, type Phase } from './expand.js';
import { finishSummary, ms, num, pct, r3, rate, runSingle, secs, type SingleHooks, type SingleRun } from './harness.js';
import type { Curve, Mark, ProfileAnswer, ProfileResult, ProfileRunOptions } from './types.js';
import { buckets, scenarioRecords, summarizeRecords, timeline, type WindowPoint } from './windows.js';

const timeCurve = (title: string, points: readonly WindowPoint[], pick: (p: WindowPoint) => number | null, yLabel: string, name = yLabel): Curve => ({
  title,
  x_label: 'time (s)',
  y_label: yLabel,
  series: [{ name, points: points.filter((p) => pick(p) !== null).map((p) => [r3(p.start_s)!, r3(pick(p))!] as [number, number]) }],
});

const phaseMarks = (phases: readonly Phase[], label: (p: Phase) => string): Mark[] => phases.map((p) => ({ t_s: p.startS, label: label(p) }));

function latencyLine(s: ScenarioSummary | undefined): string {
  if (!s || s.requests === 0) return 'no requests completed';
  return `p50 ${ms(s.latency_ms.p50)}, p99 ${ms(s.latency_ms.p99)}, errors ${pct(s.error_rate)}, throughput ${rate(s.throughput)}`;
}

function thresholdsText(plan: Plan): string {
  return plan.thresholds.length ? plan.thresholds.map((t) => t.expression).join(', ') : 'no thresholds';
}

interface Finished {
  run: SingleRun;
  expansion: Expansion;
  summary: Summary;
}

async function runExpanded(plan: Plan, opts: ProfileRunOptions, hooks: SingleHooks = {}, expansion = expand(plan)): Promise<Finished> {
  const run = await runSingle(expansion.plan, plan.profile!.memory, opts, hooks);
  return { run, expansion, summary: run.result.summary };
}

function done(f: Finished, plan: Plan, answer: ProfileAnswer): ProfileResult {
  if (f.run.memory) {
    answer.memory = f.run.memory;
    answer.numbers['memory_last_mib'] = r3(f.run.memory.last_bytes / 2 ** 20);
  } else if (plan.profile?.memory) {
    f.summary.warnings.push(`target memory could not be sampled (${f.run.memoryFailures} failed samples from ${plan.profile.memory.url ?? plan.profile.memory.pidFile ?? `pid ${plan.profile.memory.pid}`})`);
  }
  if (f.summary.status === 'interrupted') answer.answer = `Interrupted — partial answer: ${answer.answer}`;
  const { summary, exitCode } = finishSummary(f.summary, f.run.result.outDir, plan, answer, f.run.memory);
  return { summary, outDir: f.run.result.outDir, exitCode, answer };
}

// ---- load ---------------------------------------------------------------------------------------

export async function runLoad(plan: Plan, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile!;
  const f = await runExpanded(plan, opts);
  const steps = f.expansion.phases.map((ph, i) => {
    const s = f.summary.scenarios[ph.name];
    const c = checkStep(plan.thresholds, s);
    return { step: i + 1, name: ph.name, rate: ph.rate!, hold: i === f.expansion.phases.length - 1, ran: (s?.requests ?? 0) > 0, ok: c.ok && (s?.requests ?? 0) > 0, failed: c.reasons, p50_ms: s?.latency_ms.p50 ?? null, p99_ms: s?.latency_ms.p99 ?? null, error_rate: s?.error_rate ?? null, throughput: s?.throughput ?? null };
  });
  const ran = steps.filter((s) => s.ran);
  const bad = ran.filter((s) => !s.ok);
  const hold = steps[steps.length - 1];
  const holdS = f.summary.scenarios[hold.name];
  const passing = ran.filter((s) => s.ok).map((s) => s.rate);
  const ok = bad.length === 0 && hold.ran;
  const answer = ok
    ? `Meets the SLO at the expected peak: all ${steps.length} steps up to ${rate(p.rate)} passed (${thresholdsText(plan)}); holding ${rate(p.rate)}: ${latencyLine(holdS)}.`
    : !hold.ran
      ? `Not answered: the run ended before the hold at ${rate(p.rate)}.`
      : `Does not meet the SLO at ${rate(p.rate)}: ${bad.map((s) => `step ${s.step} (${rate(s.rate)}) failed ${s.failed.join('; ')}`).join('; ')}.${passing.length ? ` Highest step that passed: ${rate(Math.max(...passing))}.` : ''}`;
  const points = timeline(f.run.records);
  return done(f, plan, {
    type: 'load',
    verdict: ok ? 'passed' : 'failed',
    answer,
    numbers: { target_rate: p.rate!, steps: steps.length, steps_passed: ran.filter((s) => s.ok).length, hold_p99_ms: holdS?.latency_ms.p99 ?? null, hold_error_rate: holdS?.error_rate ?? null, hold_throughput: holdS?.throughput ?? null, highest_passing_rate: passing.length ? Math.max(...passing) : null },
    curves: [
      { title: 'p99 latency per step', x_label: 'rate (/s)', y_label: 'p99 (ms)', points: ran.map((s) => [s.rate, s.p99_ms ?? 0] as [number, number]) },
      timeCurve('p99 latency over time', points, (x) => x.p99, 'p99 (ms)'),
    ],
    marks: phaseMarks(f.expansion.phases, (ph) => `${rate(ph.rate)}`),
    steps,
  });
}

// ---- stress -------------------------------------------------------------------------------------

export async function runStress(plan: Plan, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile!;
  const expansion = expand(plan);
  const phases = expansion.phases;
  const byStep = new Map<string, IntervalRecord[]>();
  const judged = new Set<string>();
  let failedInARow = 0;
  const hooks: SingleHooks = {
    onWindow: (records, stop) => {
      let end = 0;
      for (const r of scenarioRecords(records)) {
        let l = byStep.get(r.scenario);
        if (!l) byStep.set(r.scenario, (l = []));
        l.push(r);
        end = Math.max(end, r.start_s + r.duration_s);
      }
      for (const [i, ph] of phases.entries()) {
        if (judged.has(ph.name) || ph.endS > end + 1e-6) continue;
        judged.add(ph.name);
        const s = summarizeRecords(byStep.get(ph.name) ?? []);
        const c = checkStep(plan.thresholds, s, { errorLimit: p.errorLimit });
        failedInARow = c.ok ? 0 : failedInARow + 1;
        opts.log?.(`step ${i + 1}/${phases.length} ${rate(ph.rate)}: ${c.ok ? 'held' : `FAILED (${c.reasons.join('; ')})`} — ${latencyLine(s)}`);
        if (failedInARow >= (p.stopAfter ?? 2) && i < phases.length - 1) {
          stop(`stress: ${failedInARow} consecutive steps failed (up to ${rate(ph.rate)}); the breaking point is known`);
        }
      }
    },
  };
  opts.log?.(`stress: ${phases.length} steps of ${secs(p.stepDurationMs! / 1000)}, ${rate(phases[0].rate)} → ${rate(phases[phases.length - 1].rate)}; stops after ${p.stopAfter} failing steps`);
  const f = await runExpanded(plan, opts, hooks, expansion);
  const all = scenarioRecords(f.run.records);
  // A step the early stop cut short (less than half run) is no evidence either way: leave it out.
  const stepS = p.stepDurationMs! / 1000;
  const steps = phases
    .filter((ph) => all.some((r) => r.scenario === ph.name))
    .filter((ph) => !(f.summary.endedEarly !== undefined && (f.summary.scenarios[ph.name]?.durationS ?? 0) < 0.5 * stepS))
    .map((ph, i) => {
      const s = f.summary.scenarios[ph.name];
      const c = checkStep(plan.thresholds, s, { errorLimit: p.errorLimit });
      return { step: i + 1, name: ph.name, rate: ph.rate!, start_s: ph.startS, ok: c.ok, failed: c.reasons, p50_ms: s.latency_ms.p50, p99_ms: s.latency_ms.p99, error_rate: s.error_rate, throughput: s.throughput, errors: s.errors };
    });
  const bp = breakingPoint(steps);
  const points = timeline(f.run.records);
  let evidence: ReturnType<typeof failureMode> | null = null;
  let answer: string;
  if (bp.index < 0) {
    answer = steps.length === 0 ? 'No step completed.' : `Held every step up to ${rate(bp.lastGood)} (the highest rate tried): no breaking point within the limits (${thresholdsText(plan)}, errors ≤ ${pct(p.errorLimit)}).`;
  } else {
    const bad = steps[bp.index];
    // The failure mode: windows from the middle of the first failing step to the end (the rise into overload excluded).
    const from = bad.start_s + p.stepDurationMs! / 2000;
    evidence = failureMode(points.filter((w) => w.start_s >= from - 1e-6));
    const held = bp.lastGood === null ? `It failed at the first step (${rate(bad.rate)}): start lower.` : `The last rate that held was ${rate(bp.lastGood)}; the first that failed, ${rate(bp.firstBad)} (${bad.failed.join('; ')}).`;
    answer = `Breaks between ${bp.lastGood === null ? '0/s' : rate(bp.lastGood)} and ${rate(bp.firstBad)}. ${held} Failure mode: ${evidence.mode} — ${evidence.reasons.join('; ')}.`;
  }
  if (bp.transient.length) answer += ` Transient: ${bp.transient.map((i) => `${rate(steps[i].rate)} failed (${steps[i].failed.join('; ')}) but a higher rate held again`).join('; ')}.`;
  return done(f, plan, {
    type: 'stress',
    verdict: evidence?.mode === 'catastrophic' ? 'failed' : bp.index < 0 && steps.length === 0 ? 'inconclusive' : 'passed',
    answer,
    numbers: {
      breaking_rate: bp.firstBad,
      last_good_rate: bp.lastGood,
      failure_mode: evidence?.mode ?? 'none',
      steps_run: steps.length,
      max_throughput: steps.length ? Math.max(...steps.map((s) => s.throughput)) : null,
      shed_fraction: evidence?.shed_fraction ?? null,
      hard_error_fraction: evidence?.hard_error_fraction ?? null,
    },
    curves: [
      { title: 'p99 latency per step', x_label: 'rate (/s)', y_label: 'p99 (ms)', points: steps.map((s) => [s.rate, s.p99_ms] as [number, number]) },
      { title: 'throughput and errors per step', x_label: 'rate (/s)', y_label: 'per second', series: [{ name: 'throughput', points: steps.map((s) => [s.rate, s.throughput] as [number, number]) }, { name: 'errors/s', points: steps.map((s) => [s.rate, r3(s.throughput * s.error_rate)!] as [number, number]) }] },
      timeCurve('p50 latency over time', points, (x) => x.p50, 'p50 (ms)'),
    ],
    marks: phaseMarks(phases.filter((ph) => steps.some((s) => s.name === ph.name)), (ph) => rate(ph.rate)),
    steps,
    breaking_point: bp,
    evidence,
  });
}

// ---- soak ---------------------------------------------------------------------------------------

export async function runSoak(plan: Plan, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile!;
  const f = await runExpanded(plan, opts);
  const intervalS = plan.options.intervalMs / 1000;
  const fromT = Math.floor(p.warmupMs! / plan.options.intervalMs);
  const analysed = scenarioRecords(f.run.records, ['soak']).filter((r) => r.t >= fromT);
  const spanS = analysed.length * intervalS;
  const per = p.bucketMs ? Math.max(1, Math.round(p.bucketMs / plan.options.intervalMs)) : Math.max(1, Math.round(analysed.length / 60));
  const pts = buckets(f.run.records, per, ['soak'], fromT).filter((b) => b.requests > 0);
  const xs = pts.map((b) => b.start_s + b.duration_s / 2);
  const o = { alpha: p.alpha!, minChange: p.minChange!, minErrorChange: p.minErrorChange! };
  const drift: DriftMetric[] = [];
  const latX = pts.filter((b) => b.p99 !== null);
  drift.push(driftOf('p50', 'ms', latX.map((b) => b.start_s + b.duration_s / 2), latX.map((b) => b.p50!), o));
  drift.push(driftOf('p99', 'ms', latX.map((b) => b.start_s + b.duration_s / 2), latX.map((b) => b.p99!), o));
  drift.push(driftOf('error_rate', 'fraction', xs, pts.map((b) => b.error_rate), o));
  const mem = pts.filter((b) => b.memory !== undefined);
  if (mem.length >= 4) drift.push(driftOf('memory', 'MiB', mem.map((b) => b.start_s + b.duration_s / 2), mem.map((b) => b.memory! / 2 ** 20), o));
  const bad = drift.filter((d) => d.drifting);
  const conf = `${Math.round((1 - o.alpha) * 100)}%`;
  const unit = (d: DriftMetric): string => (d.metric === 'error_rate' ? ' pp' : d.unit === 'ms' ? ' ms' : ` ${d.unit}`);
  const scale = (d: DriftMetric, x: number): number => (d.metric === 'error_rate' ? x * 100 : x);
  const describe = (d: DriftMetric): string =>
    `${d.metric === 'error_rate' ? 'error rate' : d.metric} ${scale(d, d.per_hour) >= 0 ? '+' : ''}${num(scale(d, d.per_hour))}${unit(d)}/h (${conf} CI ${num(scale(d, d.ci_per_hour[0]))} to ${num(scale(d, d.ci_per_hour[1]))}, p ${d.p_value < 0.001 ? '< 0.001' : `= ${num(d.p_value)}`}${d.relative_change !== null && d.metric !== 'error_rate' ? `; ${d.relative_change >= 0 ? '+' : ''}${num(d.relative_change * 100)}% over the run` : ''})`;
  const enough = pts.length >= 4;
  const answer = !enough
    ? `Too short to judge drift: ${pts.length} points after the warm-up (need at least 4).`
    : bad.length > 0
      ? `Drift over ${secs(spanS)} at ${p.rate !== undefined ? rate(p.rate) : `${p.concurrency} in flight`}: ${bad.map(describe).join('; ')}. Not stable.`
      : `No drift over ${secs(spanS)} at ${p.rate !== undefined ? rate(p.rate) : `${p.concurrency} in flight`}: ${drift.map(describe).join('; ')}.`;
  const s = f.summary.scenarios['soak'];
  const dm = (m: string): DriftMetric | undefined => drift.find((d) => d.metric === m);
  const curves: Curve[] = [
    {
      title: 'latency per bucket (drift analysis)',
      x_label: 'time (s)',
      y_label: 'latency (ms)',
      series: [
        { name: 'p50', points: latX.map((b) => [r3(b.start_s)!, b.p50!] as [number, number]) },
        { name: 'p99', points: latX.map((b) => [r3(b.start_s)!, b.p99!] as [number, number]) },
      ],
    },
  ];
  if (mem.length) curves.push({ title: 'target memory', x_label: 'time (s)', y_label: 'MiB', points: mem.map((b) => [r3(b.start_s)!, r3(b.memory! / 2 ** 20)!] as [number, number]) });
  return done(f, plan, {
    type: 'soak',
    verdict: !enough ? 'inconclusive' : bad.length ? 'failed' : 'passed',
    answer,
    numbers: {
      drift: bad.length ? bad.map((d) => d.metric).join(', ') : 'none',
      analysed_s: r3(spanS),
      points: pts.length,
      p50_drift_ms_per_h: dm('p50')?.per_hour ?? null,
      p99_drift_ms_per_h: dm('p99')?.per_hour ?? null,
      p99_drift_p: dm('p99')?.p_value ?? null,
      error_drift_pp_per_h: dm('error_rate') ? r3(dm('error_rate')!.per_hour * 100) : null,
      memory_drift_mib_per_h: dm('memory')?.per_hour ?? null,
      memory_drift_p: dm('memory')?.p_value ?? null,
      p99_ms: s?.latency_ms.p99 ?? null,
      error_rate: s?.error_rate ?? null,
    },
    curves,
    marks: [{ t_s: fromT * intervalS, label: 'warm-up ends' }],
    drift,
    method: `OLS trend per ${secs(per * intervalS)} bucket after a ${secs(p.warmupMs! / 1000)} warm-up; standard error from the effective sample size n(1−r)/(1+r) of the lag-1 autocorrelation r of the residuals (bias-corrected), t-test at α = ${o.alpha}; drift also needs a change of at least ${pct(o.minChange)} of the mean (latency, memory) or ${num(o.minErrorChange * 100)} pp (errors) over the run.`,
  });
}

// ---- spike --------------------------------------------------------------------------------------

export async function runSpike(plan: Plan, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile!;
  const f = await runExpanded(plan, opts);
  const points = timeline(f.run.records);
  const beforeS = p.beforeMs! / 1000;
  const spikeEndS = (p.beforeMs! + p.spikeMs!) / 1000;
  // Baseline: the before phase without its first fifth (at most 5 s): connections and JIT warm up.
  const warm = Math.min(5, beforeS / 5);
  const rec = recoveryTime(points, { fromS: warm, toS: beforeS }, spikeEndS, p.recovery!);
  const until = rec.recovered_at_s ?? Infinity;
  const during = points.filter((w) => w.start_s >= beforeS - 1e-6 && w.start_s < until);
  const worst = during.reduce<number | null>((a, w) => (w.p99 !== null && (a === null || w.p99 > a) ? w.p99 : a), null);
  const errs = during.reduce((a, w) => a + (w.requests - w.ok), 0);
  const reqs = during.reduce((a, w) => a + w.requests, 0);
  const spike = f.summary.scenarios['spike'];
  const tol = `p99 within ${pct(p.recovery!.latencyTolerance)} (or ${ms(p.recovery!.marginMs)}) of the baseline ${ms(rec.baseline_p99_ms)} and errors within ${num(p.recovery!.errorTolerance * 100)} pp, for ${p.recovery!.windows} windows`;
  const reachedEnd = points.some((w) => w.start_s + w.duration_s > spikeEndS + 1e-6);
  const answer = !reachedEnd
    ? `Not answered: the run ended before the spike did (baseline p99 ${ms(rec.baseline_p99_ms)}).`
    : rec.recovered
    ? `Recovered ${secs(rec.recovery_s)} after the spike ended (${tol}). During the ${num(p.factor!)}× spike (${rate(p.spikeRate)} for ${secs(p.spikeMs! / 1000)}) until recovery: worst window p99 ${ms(worst)}, ${num(errs)} errors (${pct(reqs ? errs / reqs : 0)}).`
    : `Did not recover within the ${secs(p.afterMs! / 1000)} after the spike (${tol}). During the ${num(p.factor!)}× spike (${rate(p.spikeRate)} for ${secs(p.spikeMs! / 1000)}) and after: worst window p99 ${ms(worst)}, ${num(errs)} errors (${pct(reqs ? errs / reqs : 0)}).`;
  const marks: Mark[] = [{ t_s: beforeS, label: 'spike starts' }, { t_s: spikeEndS, label: 'spike ends' }];
  if (rec.recovered_at_s !== null) marks.push({ t_s: rec.recovered_at_s, label: 'recovered' });
  return done(f, plan, {
    type: 'spike',
    verdict: rec.recovered ? 'passed' : 'failed',
    answer,
    numbers: {
      recovered: rec.recovered,
      recovery_s: rec.recovery_s,
      baseline_p99_ms: rec.baseline_p99_ms,
      recovery_limit_p99_ms: rec.limit_p99_ms,
      worst_p99_ms: worst,
      errors_until_recovery: errs,
      error_rate_until_recovery: reqs ? r3(errs / reqs) : 0,
      spike_rate: p.spikeRate!,
      spike_p99_ms: spike?.latency_ms.p99 ?? null,
    },
    curves: [
      {
        title: 'p99 per window and the recovery limit',
        x_label: 'time (s)',
        y_label: 'p99 (ms)',
        series: [
          { name: 'p99', points: points.filter((w) => w.p99 !== null).map((w) => [r3(w.start_s)!, w.p99!] as [number, number]) },
          ...(rec.limit_p99_ms !== null ? [{ name: 'recovery limit', points: points.map((w) => [r3(w.start_s)!, rec.limit_p99_ms!] as [number, number]) }] : []),
        ],
      },
      timeCurve('error rate per window', points, (w) => w.error_rate, 'error rate'),
    ],
    marks,
    recovery: rec,
  });
}

// ---- burst --------------------------------------------------------------------------------------

export async function runBurst(plan: Plan, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile!;
  const f = await runExpanded(plan, opts);
  const sm = f.summary.scenarios['smooth'];
  const bu = f.summary.scenarios['bursty'];
  const stats = ['p50', 'p90', 'p95', 'p99', 'p999'] as const;
  const ratio = (k: (typeof stats)[number]): number | null => (sm && bu && sm.latency_ms[k] > 0 && bu.requests > 0 ? r3(bu.latency_ms[k] / sm.latency_ms[k]) : null);
  const answer =
    !sm?.requests || !bu?.requests
      ? 'Not answered: a phase sent nothing.'
      : `Bursty arrivals (gamma gaps, burstiness ${num(p.burstiness)}) at a mean ${rate(p.rate)} vs ${p.smooth === 'poisson' ? 'Poisson' : 'evenly spaced'} arrivals: p99 ${ms(bu.latency_ms.p99)} vs ${ms(sm.latency_ms.p99)} (×${num(ratio('p99'))}), p90 ${ms(bu.latency_ms.p90)} vs ${ms(sm.latency_ms.p90)} (×${num(ratio('p90'))}), p50 ${ms(bu.latency_ms.p50)} vs ${ms(sm.latency_ms.p50)} (×${num(ratio('p50'))}); errors ${pct(bu.error_rate)} vs ${pct(sm.error_rate)}.`;
  const q = [50, 90, 95, 99, 99.9];
  return done(f, plan, {
    type: 'burst',
    verdict: sm?.requests && bu?.requests ? 'passed' : 'inconclusive',
    answer,
    numbers: {
      burstiness: p.burstiness!,
      smooth_p99_ms: sm?.latency_ms.p99 ?? null,
      bursty_p99_ms: bu?.latency_ms.p99 ?? null,
      p99_bursty_over_smooth: ratio('p99'),
      p90_bursty_over_smooth: ratio('p90'),
      p50_bursty_over_smooth: ratio('p50'),
      smooth_error_rate: sm?.error_rate ?? null,
      bursty_error_rate: bu?.error_rate ?? null,
    },
    curves: [
      {
        title: 'latency percentiles: bursty vs smooth',
        x_label: 'percentile',
        y_label: 'latency (ms)',
        series: [
          { name: 'smooth', points: sm ? stats.map((k, i) => [q[i], sm.latency_ms[k]] as [number, number]) : [] },
          { name: 'bursty', points: bu ? stats.map((k, i) => [q[i], bu.latency_ms[k]] as [number, number]) : [] },
        ],
      },
    ],
    marks: [
      { t_s: burstWarmupMs(p.durationMs!) / 1000, label: 'smooth phase' },
      { t_s: (burstWarmupMs(p.durationMs!) + p.durationMs!) / 1000, label: 'bursty phase' },
    ],
    phases: { smooth: sm ? { p50_ms: sm.latency_ms.p50, p90_ms: sm.latency_ms.p90, p99_ms: sm.latency_ms.p99, error_rate: sm.error_rate, requests: sm.requests } : null, bursty: bu ? { p50_ms: bu.latency_ms.p50, p90_ms: bu.latency_ms.p90, p99_ms: bu.latency_ms.p99, error_rate: bu.error_rate, requests: bu.requests } : null },
  });
}

// ---- rollout ------------------------------------------------------------------------------------

export async function runRollout(plan: Plan, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile!;
  const action = p.action!;
  const st: { startS: number | null; endS: number | null; pending: Promise<ActionResult> | null; timer: NodeJS.Timeout | null } = { startS: null, endS: null, pending: null, timer: null };
  const hooks: SingleHooks = {
    onStart: (t0) => {
      st.timer = setTimeout(() => {
        st.startS = (performance.now() - t0) / 1000;
        opts.log?.(`rollout: ${action.kind === 'run' ? 'running' : 'calling'} ${action.display} at ${secs(st.startS)}`);
        st.pending = runAction(action, { timeoutMs: p.actionTimeoutMs!, signal: opts.signal, tls: plan.target.tls }).then((r) => {
          st.endS = (performance.now() - t0) / 1000;
          opts.log?.(`rollout: action ${r.ok ? 'done' : 'FAILED'} after ${secs(r.duration_s)}${r.exit_code !== undefined ? ` (exit ${r.exit_code})` : r.status !== undefined ? ` (HTTP ${r.status})` : ''}${r.error ? `: ${r.error}` : ''}`);
          return r;
        });
      }, Math.max(0, t0 + p.atMs! - performance.now()));
    },
  };
  let f: Finished;
  try {
    f = await runExpanded(plan, opts, hooks);
  } finally {
    if (st.timer) clearTimeout(st.timer);
  }
  const result: ActionResult | null = st.pending ? await st.pending : null;
  const actionEndS = st.endS;
  const points = timeline(f.run.records);
  const atS = st.startS ?? p.atMs! / 1000;
  const warm = Math.min(5, atS / 5);
  const rule = p.recovery!;
  // Steady again: the first of N good windows once the action has finished (as for a spike).
  const base = recoveryTime(points, { fromS: warm, toS: atS }, actionEndS ?? Infinity, rule);
  const steadyAt = result && base.recovered_at_s !== null ? Math.max(base.recovered_at_s, actionEndS ?? atS) : null;
  const recs = scenarioRecords(f.run.records);
  const eps = 1e-6;
  const intervalS = plan.options.intervalMs / 1000;
  // Windows that end by the action's start are before; the cut-over lasts until steady again, and
  // at least until the action ended (and one window).
  const cutEnd = Math.max(steadyAt ?? Infinity, actionEndS !== null ? Math.ceil(actionEndS / intervalS - eps) * intervalS : atS, Math.ceil(atS / intervalS - eps) * intervalS + (Math.abs(atS / intervalS - Math.round(atS / intervalS)) < eps ? intervalS : 0));
  const sel = (pred: (r: IntervalRecord) => boolean): ScenarioSummary => summarizeRecords(recs.filter(pred));
  const before = sel((r) => r.start_s >= warm - eps && r.start_s + r.duration_s <= atS + eps);
  const cut = sel((r) => r.start_s + r.duration_s > atS + eps && r.start_s < cutEnd - eps);
  const after = Number.isFinite(cutEnd) ? sel((r) => r.start_s >= cutEnd - eps) : null;
  const timeToSteady = steadyAt !== null ? r3(steadyAt - atS) : null;
  const shown = action.display.length > 80 ? `${action.display.slice(0, 77)}…` : action.display;
  const what = result ? `${action.kind === 'run' ? 'command' : 'call'} ${shown} (${result.ok ? 'succeeded' : result.timed_out ? 'timed out' : 'FAILED'} in ${secs(result.duration_s)})` : `the action ${shown} (never started: the run ended first)`;
  const answer = !result
    ? `Not answered: ${what}.`
    : `During the cut-over (${Number.isFinite(cutEnd) ? secs(r3(cutEnd - atS)) : 'until the end'} from the start of the ${what}): ${num(cut.requests - cut.ok)} errors (${pct(cut.error_rate)}), p99 ${ms(cut.latency_ms.p99)} vs ${ms(before.latency_ms.p99)} before${after ? ` and ${ms(after.latency_ms.p99)} after` : ''} (errors ${pct(before.error_rate)} before${after ? `, ${pct(after.error_rate)} after` : ''}). ${steadyAt !== null ? `Steady again ${secs(timeToSteady)} after the action started.` : 'Not steady again before the end of the run.'}`;
  const marks: Mark[] = [{ t_s: atS, label: `action: ${shown}`.slice(0, 60) }];
  if (actionEndS !== null) marks.push({ t_s: actionEndS, label: 'action finished' });
  if (steadyAt !== null && steadyAt > atS) marks.push({ t_s: steadyAt, label: 'steady again' });
  const phase = (s: ScenarioSummary | null) => (s ? { requests: s.requests, errors: s.requests - s.ok, error_rate: s.error_rate, p50_ms: s.latency_ms.p50, p99_ms: s.latency_ms.p99, max_ms: s.latency_ms.max, duration_s: s.durationS } : null);
  return done(f, plan, {
    type: 'rollout',
    verdict: result?.ok && steadyAt !== null ? 'passed' : 'failed',
    answer,
    numbers: {
      action_ok: result?.ok ?? false,
      action_s: result?.duration_s ?? null,
      time_to_steady_s: timeToSteady,
      cutover_s: Number.isFinite(cutEnd) ? r3(cutEnd - atS) : null,
      cutover_errors: cut.requests - cut.ok,
      cutover_error_rate: cut.error_rate,
      cutover_p99_ms: cut.latency_ms.p99,
      before_p99_ms: before.latency_ms.p99,
      after_p99_ms: after?.latency_ms.p99 ?? null,
    },
    curves: [timeCurve('p99 latency over time', points, (w) => w.p99, 'p99 (ms)'), timeCurve('errors per window', points, (w) => w.requests - w.ok, 'errors')],
    marks,
    action: result,
    phases: { before: phase(before), cutover: phase(cut), after: phase(after) },
    tolerance: { limit_p99_ms: base.limit_p99_ms, limit_error_rate: base.limit_error_rate, baseline_p99_ms: base.baseline_p99_ms },
  });
}

// ---- replay -------------------------------------------------------------------------------------

export async function runReplay(plan: Plan, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile!;
  const f = await runExpanded(plan, opts);
  const s = f.summary.scenarios['replay'];
  const points = timeline(f.run.records);
  const total = s.requests + s.unsent + s.cancelled;
  const answer = `Replayed ${num(total)} requests of ${p.trace!.file.split('/').pop()} over ${secs(s.durationS)} at speed ${num(p.trace!.speed)}×: ${latencyLine(s)}; on schedule: dispatch lag p99 ${ms(s.dispatch_lag_ms.p99)}, ${num(s.late)} late, ${num(s.unsent)} never sent.`;
  return done(f, plan, {
    type: 'replay',
    verdict: f.summary.thresholds.every((t) => t.ok) ? 'passed' : 'failed',
    answer,
    numbers: { requests: s.requests, speed: p.trace!.speed, p50_ms: s.latency_ms.p50, p99_ms: s.latency_ms.p99, error_rate: s.error_rate, dispatch_lag_p99_ms: s.dispatch_lag_ms.p99, late: s.late, unsent: s.unsent },
    curves: [timeCurve('scheduled vs completed per second', points, (w) => w.throughput, 'completed/s', 'completed'), timeCurve('p99 latency over time', points, (w) => w.p99, 'p99 (ms)')],
  });
}
