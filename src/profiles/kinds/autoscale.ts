/**
 * autoscale: does autoscaling react in time to a load step, and give the capacity back after it?
 * Three phases from the `scenario:` template (as spike's): `before` at the baseline rate, `peak` at
 * peakRate for `hold`, `after` at the baseline again. The replica counts come from the plan's
 * `monitor:` metrics (`replicas`: ready; `desired`: the scaler's decision), one figure per window
 * (target-metrics.ndjson). Answered: time to the first scale-up, until the new replicas serve, SLO
 * seconds broken at the high load, scale-down time and replica-seconds over-provisioned after the step
 * down, flapping. Rules: docs/monitoring.md#autoscaling-checks, docs/profiles.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IntervalRecord, TargetWindowRecord, ThresholdResult } from '../../core/results.js';
import type { PlanOf, ThresholdPlan } from '../../plan/types.js';
import { evaluateThresholds } from '../../verdict/index.js';
import { checkStep } from '../analysis.js';
import { constantRate, fromTemplate, phases, planWith, type Expansion } from '../expand.js';
import { ms, num, pct, r3, rate, secs } from '../harness.js';
import { done, recoveryCurve, runExpanded } from '../single.js';
import type { Curve, Mark, ProfileResult, ProfileRunOptions } from '../types.js';
import { scenarioRecords, summarizeRecords, timeline } from '../windows.js';
import type { ProfileKind } from './kind.js';

/** before → peak → after. No thresholds in the run: the SLO is judged per window and on the baseline after it. */
export function expandAutoscale(plan: PlanOf<'autoscale'>): Expansion {
  const p = plan.profile;
  const b = p.beforeMs;
  const h = p.holdMs;
  const a = p.afterMs;
  const out = [
    fromTemplate(p.template, 'before', { ...constantRate(p.rate, b), startTimeMs: 0 }),
    fromTemplate(p.template, 'peak', {
      ...constantRate(p.peakRate, h),
      startTimeMs: b,
      // The step's requests still queued finish during `after`: measured, not cancelled.
      gracefulStopMs: Math.max(p.template.gracefulStopMs, a),
    }),
    fromTemplate(p.template, 'after', { ...constantRate(p.rate, a), startTimeMs: b + h }),
  ];
  return { plan: planWith(plan, out, []), phases: phases(out) };
}

/** One reading of a count per window: the gauge's mean over the window (null: a gap). */
export interface CountPoint {
  start_s: number;
  duration_s: number;
  value: number | null;
}

export interface ScalingChange {
  t_s: number;
  from: number;
  to: number;
}

export interface AutoscaleNumbers {
  baseline_replicas: number | null;
  peak_replicas: number | null;
  scale_up_s: number | null;
  ready_s: number | null;
  slo_violation_s: number | null;
  slo_violation_windows: number | null;
  scale_down_s: number | null;
  scaled_in_s: number | null;
  overprovision_replica_seconds: number | null;
  direction_changes: number;
  flaps: number;
  notes: Record<string, string>;
  desired_changes: ScalingChange[];
  ready_changes: ScalingChange[];
}

const eps = 1e-6;
/** A count changed when its window mean moved by more than half a replica (several readings per window average). */
const STEP = 0.5;

/** The count per window of one monitor metric, in time order (margins included). */
export function countSeries(records: readonly TargetWindowRecord[], name: string): CountPoint[] {
  return records
    .map((r) => {
      const v = r.values[name];
      return { start_s: r.start_s, duration_s: r.duration_s, value: typeof v === 'number' ? v : null };
    })
    .sort((a, b) => a.start_s - b.start_s);
}

/** Where the count moved by a replica or more (the window's start: the reading is mid-window). */
export function changesOf(series: readonly CountPoint[]): ScalingChange[] {
  const out: ScalingChange[] = [];
  let last: number | null = null;
  for (const p of series) {
    if (p.value === null) continue;
    if (last !== null && Math.abs(p.value - last) > STEP) out.push({ t_s: r3(p.start_s)!, from: last, to: p.value });
    if (last === null || Math.abs(p.value - last) > STEP) last = p.value;
  }
  return out;
}

/** The count at time t: the last reading of a window that started before t. */
const countAt = (series: readonly CountPoint[], t: number): number | null =>
  series.filter((p) => p.value !== null && p.start_s < t - eps).at(-1)?.value ?? null;

/**
 * The answer's numbers from the replica series and which windows of the high load broke the SLO.
 * Times are window starts: a change seen in a window's mid-window reading happened within half a
 * window either side of it.
 */
export function autoscaleNumbers(
  ready: readonly CountPoint[],
  desiredIn: readonly CountPoint[],
  times: { stepUpS: number; stepDownS: number; endS: number },
  sloBroken: readonly { duration_s: number; broken: boolean }[] | null,
): AutoscaleNumbers {
  const notes: Record<string, string> = {};
  const desired = desiredIn.some((p) => p.value !== null) ? desiredIn : ready;
  const { stepUpS, stepDownS, endS } = times;
  const base = countAt(ready, stepUpS + eps) ?? ready.find((p) => p.value !== null)?.value ?? null;
  const baseDesired = countAt(desired, stepUpS + eps) ?? base;
  const after = (s: readonly CountPoint[], from: number) =>
    s.filter((p) => p.value !== null && p.start_s >= from - eps);
  const up = baseDesired === null ? undefined : after(desired, stepUpS).find((p) => p.value! > baseDesired + STEP);
  const upReady = base === null || !up ? undefined : after(ready, up.start_s).find((p) => p.value! > base + STEP);
  if (base === null) notes['scale_up_s'] = 'no replica count was read';
  else if (!up) notes['scale_up_s'] = 'the replica count never rose';
  if (up && !upReady) notes['ready_s'] = 'the new replicas never served';
  const loaded = ready.filter((p) => p.value !== null && p.start_s < endS - eps);
  const peak = loaded.length ? Math.max(...loaded.map((p) => p.value!)) : null;

  // After the step down: the first decrease of the desired count, and when the ready count is back.
  const atDown = countAt(desired, stepDownS + eps);
  let scaleDown: number | null = null;
  if (atDown !== null && baseDesired !== null && atDown <= baseDesired + STEP) {
    scaleDown = 0;
    notes['scale_down_s'] = 'already back to the baseline count when the load fell';
  } else if (atDown !== null) {
    const d = after(desired, stepDownS).find((p) => p.value! < atDown - STEP);
    scaleDown = d ? r3(d.start_s - stepDownS) : null;
    if (!d) notes['scale_down_s'] = 'no scale-down before the end of the run';
  }
  const back = base === null ? undefined : after(ready, stepDownS).find((p) => p.value! <= base + STEP);
  const scaledIn = back ? r3(Math.max(0, back.start_s - stepDownS)) : null;
  if (base !== null && !back) notes['scaled_in_s'] = 'not back to the baseline count before the end of the run';
  // Replica-seconds above the baseline count, from the step down until back (or the end of the load).
  let over: number | null = null;
  if (base !== null) {
    const until = back ? back.start_s : endS;
    over = 0;
    for (const p of ready) {
      if (p.value === null) continue;
      const from = Math.max(p.start_s, stepDownS);
      const to = Math.min(p.start_s + p.duration_s, until);
      if (to > from + eps) over += Math.max(0, p.value - base) * (to - from);
    }
    over = r3(over);
  }

  // Flapping: direction changes of the desired count over the load (one up-then-down cycle is one).
  const changes = changesOf(desired.filter((p) => p.start_s < endS + eps));
  let dirs = 0;
  for (let i = 1; i < changes.length; i++)
    if (Math.sign(changes[i].to - changes[i].from) !== Math.sign(changes[i - 1].to - changes[i - 1].from)) dirs++;

  const broken = sloBroken?.filter((w) => w.broken) ?? null;
  if (sloBroken === null) notes['slo_violation_s'] = 'the plan has no latency or error thresholds (the SLO)';
  return {
    baseline_replicas: base,
    peak_replicas: peak,
    scale_up_s: up ? r3(Math.max(0, up.start_s - stepUpS)) : null,
    ready_s: upReady ? r3(Math.max(0, upReady.start_s - stepUpS)) : null,
    slo_violation_s: broken ? r3(broken.reduce((a, w) => a + w.duration_s, 0)) : null,
    slo_violation_windows: broken ? broken.length : null,
    scale_down_s: scaleDown,
    scaled_in_s: scaledIn,
    overprovision_replica_seconds: over,
    direction_changes: dirs,
    flaps: Math.max(0, dirs - 1),
    notes,
    desired_changes: changes,
    ready_changes: changesOf(ready.filter((p) => p.start_s < endS + eps)),
  };
}

/** The run's target-metrics.ndjson (the monitor's figures per window); empty without one. */
export function readTargetRecords(dir: string): TargetWindowRecord[] {
  const file = path.join(dir, 'target-metrics.ndjson');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TargetWindowRecord);
}

/** The SLO per window of [from, to): a latency/error threshold broken in the window's own summary. */
function sloPerWindow(
  slo: readonly ThresholdPlan[],
  records: readonly IntervalRecord[],
  from: number,
  to: number,
): { start_s: number; duration_s: number; broken: boolean; reasons: string[] }[] {
  const byT = new Map<number, IntervalRecord[]>();
  for (const r of records)
    if (r.start_s >= from - eps && r.start_s < to - eps) byT.set(r.t, [...(byT.get(r.t) ?? []), r]);
  return [...byT.values()]
    .map((rs) => {
      const c = checkStep(slo, summarizeRecords(rs));
      return { start_s: rs[0].start_s, duration_s: rs[0].duration_s, broken: !c.ok, reasons: c.reasons };
    })
    .sort((a, b) => a.start_s - b.start_s);
}

export async function runAutoscale(plan: PlanOf<'autoscale'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const f = await runExpanded(plan, opts, expandAutoscale(plan));
  const stepUpS = p.beforeMs / 1000;
  const stepDownS = (p.beforeMs + p.holdMs) / 1000;
  const endS = stepDownS + p.afterMs / 1000;
  const records = scenarioRecords(f.run.records);
  const points = timeline(f.run.records);
  const target = readTargetRecords(f.run.result.outDir);
  const ready = countSeries(target, p.replicas);
  const desired = countSeries(target, p.desired);

  const answerTh = plan.thresholds.filter((t) => t.answer !== undefined);
  const targetTh = plan.thresholds.filter((t) => t.target !== undefined);
  const slo = plan.thresholds.filter((t) => t.answer === undefined && t.target === undefined);
  const windows = slo.length ? sloPerWindow(slo, records, stepUpS, stepDownS) : null;
  const n = autoscaleNumbers(ready, desired, { stepUpS, stepDownS, endS }, windows);
  // Baseline: the before phase without its first fifth (at most 5 s): connections and JIT warm up.
  const warm = Math.min(5, stepUpS / 5);
  const baseSummary = summarizeRecords(
    records.filter((r) => r.start_s >= warm - eps && r.start_s + r.duration_s <= stepUpS + eps),
  );
  const baseCheck = checkStep(slo, baseSummary);
  const peakS = f.summary.scenarios['peak'];

  const numbers: Record<string, number | string | boolean | null> = {
    baseline_replicas: n.baseline_replicas,
    peak_replicas: n.peak_replicas,
    scale_up_s: n.scale_up_s,
    ready_s: n.ready_s,
    slo_violation_s: n.slo_violation_s,
    slo_violation_windows: n.slo_violation_windows,
    scale_down_s: n.scale_down_s,
    scaled_in_s: n.scaled_in_s,
    overprovision_replica_seconds: n.overprovision_replica_seconds,
    direction_changes: n.direction_changes,
    flaps: n.flaps,
    ...Object.fromEntries(Object.entries(n.notes).map(([k, v]) => [`${k}_note`, v])),
    peak_rate: p.peakRate,
    peak_p99_ms: peakS?.latency_ms.p99 ?? null,
    peak_error_rate: peakS ? r3(peakS.error_rate) : null,
    baseline_p99_ms: baseSummary.latency_ms.p99,
    baseline_slo_held: baseCheck.ok,
  };
  const count = (x: number | null) => (x === null ? '?' : num(r3(x)!));
  const holdS = p.holdMs / 1000;
  const words: string[] = [];
  if (n.baseline_replicas === null)
    words.push(
      `Not answered: no replica count was read (monitor metric \`${p.replicas}\`; see target-metrics.ndjson and the run's warnings).`,
    );
  else {
    words.push(
      n.scale_up_s === null
        ? `No scale-up: the replica count stayed at ${count(n.baseline_replicas)} through the ${secs(holdS)} at ${rate(p.peakRate)} (${num(r3(p.factor)!)}× the baseline ${rate(p.rate)}).`
        : `Scaled up ${secs(n.scale_up_s)} after the step from ${rate(p.rate)} to ${rate(p.peakRate)}; ` +
            (n.ready_s === null
              ? 'the new replicas never served.'
              : `the new replicas served ${secs(n.ready_s)} after it (ready ${count(n.baseline_replicas)} → peak ${count(n.peak_replicas)}).`),
    );
    if (n.slo_violation_s !== null)
      words.push(
        `At the high load the SLO broke in ${num(n.slo_violation_windows!)} window(s), ${secs(n.slo_violation_s)} of ${secs(holdS)} (p99 ${ms(peakS?.latency_ms.p99 ?? null)}, errors ${pct(peakS?.error_rate ?? 0)}).`,
      );
    if (n.scale_up_s !== null)
      words.push(
        n.notes['scale_down_s']?.startsWith('already')
          ? `After the step down: already back at the baseline count (scaled in while the load was still high).`
          : n.scale_down_s === null
            ? `After the step down: no scale-down within ${secs(p.afterMs / 1000)}; ${num(n.overprovision_replica_seconds ?? 0)} replica-seconds above the baseline count by the end.`
            : `After the step down: first scale-down ${secs(n.scale_down_s)} later, ${n.scaled_in_s === null ? 'not back to the baseline count by the end' : `back to ${count(n.baseline_replicas)} after ${secs(n.scaled_in_s)}`}; ${num(n.overprovision_replica_seconds ?? 0)} replica-seconds over-provisioned.`,
      );
    words.push(
      n.flaps > 0
        ? `Flapping: the replica count changed direction ${n.direction_changes} times.`
        : `No flapping (${n.direction_changes} direction change${n.direction_changes === 1 ? '' : 's'}).`,
    );
  }
  if (slo.length && !baseCheck.ok) words.push(`The baseline itself broke the SLO (${baseCheck.reasons.join('; ')}).`);

  const marks: Mark[] = [
    { t_s: stepUpS, label: 'step up' },
    { t_s: stepDownS, label: 'step down' },
  ];
  if (n.scale_up_s !== null) marks.push({ t_s: r3(stepUpS + n.scale_up_s)!, label: 'scale-up' });
  if (n.ready_s !== null) marks.push({ t_s: r3(stepUpS + n.ready_s)!, label: 'new replicas serve' });
  if (n.scale_down_s !== null) marks.push({ t_s: r3(stepDownS + n.scale_down_s)!, label: 'scale-down' });
  const seriesOf = (name: string, s: readonly CountPoint[]) => ({
    name,
    points: s
      .filter((x) => x.value !== null && x.start_s >= -eps && x.start_s < endS + eps)
      .map((x) => [r3(x.start_s)!, r3(x.value)!] as [number, number]),
  });
  const replicaCurve: Curve = {
    title: 'replicas per window',
    x_label: 'time (s)',
    y_label: 'replicas',
    series: [
      seriesOf('ready', ready),
      ...(desired.some((x) => x.value !== null) ? [seriesOf('desired', desired)] : []),
    ],
  };
  const verdict =
    n.baseline_replicas === null
      ? 'inconclusive'
      : n.scale_up_s !== null && n.ready_s !== null && n.scaled_in_s !== null
        ? 'passed'
        : 'failed';
  return done(
    f,
    plan,
    {
      type: 'autoscale',
      verdict,
      answer: words.join(' '),
      numbers,
      curves: [replicaCurve, recoveryCurve(points, null)],
      marks,
      scaling: { desired: n.desired_changes, ready: n.ready_changes },
      ...(windows ? { slo_windows: windows.filter((w) => w.broken) } : {}),
    },
    (summary) => {
      // The SLO on the baseline (the target must meet it before the step), target.* on the run, autoscale.* on the answer.
      const judged: ThresholdResult[] = [
        ...baseCheck.thresholds.map((t) => ({ ...t, expression: `baseline: ${t.expression}` })),
        ...evaluateThresholds([...targetTh, ...answerTh], { ...summary }),
      ];
      summary.thresholds = judged;
    },
  );
}

export const autoscale: ProfileKind<'autoscale'> = { type: 'autoscale', expand: expandAutoscale, run: runAutoscale };
