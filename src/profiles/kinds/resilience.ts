/**
 * resilience: what do users see when the plan's faults happen, and how fast does the target recover?
 * One steady scenario from the `scenario:` template for the whole run (one connection pool: a phase
 * change at a fault would itself disturb the traffic) through the plan's fault timeline (`faults:`,
 * src/run/faults-timeline.ts). The baseline is the load before the first timeline entry. Per fault
 * window (a fault, or an action with `for`): did the SLO (the plan's thresholds) hold in it; its
 * degradation vs the baseline; time to detect (the first bad window after it started); time to
 * recover after it ended (analysis.ts recoveryTime, as spike); requests lost until recovery. The
 * thresholds judge the baseline (the target must meet its SLO when nothing is wrong), and
 * `resilience.*` thresholds judge the answer. Rules: docs/faults.md, docs/profiles.md.
 */
import type {
  FaultWindow,
  IntervalRecord,
  ScenarioSummary,
  TargetWindowRecord,
  ThresholdResult,
} from '../../core/results.js';
import type { PlanOf } from '../../plan/types.js';
import { evaluateThresholds } from '../../verdict/index.js';
import { checkStep, recoveryTime, type Recovery } from '../analysis.js';
import { steadyScenario, type Expansion } from '../expand.js';
import { ms, num, pct, r3, secs } from '../harness.js';
import { done, recoveryCurve, runExpanded, timeCurve } from '../single.js';
import type { Mark, ProfileResult, ProfileRunOptions } from '../types.js';
import { scenarioRecords, summarizeRecords, timeline, type WindowPoint } from '../windows.js';
import { readTargetRecords } from './autoscale.js';
import type { ProfileKind } from './kind.js';

/**
 * One scenario at constant load for the whole duration. No thresholds in the run itself: the SLO
 * is judged on the baseline and per window, and `resilience.*` on the answer, after the run.
 */
export function expandResilience(plan: PlanOf<'resilience'>): Expansion {
  const e = steadyScenario(plan);
  return { ...e, plan: { ...e.plan, thresholds: [] } };
}

/** The answer for one fault window. */
export interface WindowAnswer {
  name: string;
  kind: 'fault' | 'action';
  type: string;
  start_s: number;
  end_s: number;
  slo_held: boolean | null;
  slo_failures: string[];
  requests: number;
  errors: Record<string, number>;
  error_rate: number;
  timeouts: number;
  p50_ms: number | null;
  p99_ms: number | null;
  /** Window p99 / baseline p99. */
  p99_ratio: number | null;
  /** Share of scored rows answered correctly (when the scenario scores accuracy), and the baseline's. */
  accuracy?: number | null;
  baseline_accuracy?: number | null;
  detect_s: number | null;
  /** Good again while the fault was still on (a failover): seconds from its start, else null. */
  failover_s: number | null;
  recovered: boolean;
  recovery_s: number | null;
  recovered_at_s: number | null;
  lost: number;
  /** Requests the target received ÷ requests sent in the window (retry amplification), when the target's count is read. */
  amplification?: Amplification;
  sentence: string;
}

/** Retry amplification over a span: what the target counted (its monitor metric) against what Preflight sent. */
export interface Amplification {
  /** target_requests ÷ sent; null when nothing was sent or the target's count was not read. */
  ratio: number | null;
  target_requests: number;
  sent: number;
  /** The span measured: whole windows inside it (or, for a short span, the windows it overlaps). */
  from_s: number;
  to_s: number;
}

const eps = 1e-6;

/** Accuracy of the scored rows (counters quality.correct / quality.scored), null when nothing was scored. */
function accuracyOf(s: ScenarioSummary): number | null {
  const scored = s.counters?.['quality.scored'] ?? 0;
  return scored > 0 ? r3((s.counters?.['quality.correct'] ?? 0) / scored) : null;
}
const overlaps = (w: { start_s: number; duration_s: number }, from: number, to: number) =>
  w.start_s + w.duration_s > from + eps && w.start_s < to - eps;

/**
 * Retry amplification over [from, to): the target's request count (a per-second rate per window, from
 * the monitor) × the window's length, summed, ÷ the requests Preflight completed in the same span.
 * `midWindow`: the target's figure of a window is a rate between the scrapes in the middle of it and
 * of the window before (src/monitor), so Preflight's count is taken over the same half-window-shifted
 * span (half of each of the two windows). Only windows whose (shifted) span lies wholly inside [from,
 * to) are used — one cut by the fault's start or end mixes before and during; a span shorter than that
 * uses the windows it overlaps. A window without a reading of the target (a gap) is left out of both.
 */
export function amplificationOver(
  target: readonly TargetWindowRecord[],
  name: string,
  records: readonly IntervalRecord[],
  from: number,
  to: number,
  midWindow: boolean,
): Amplification {
  const key = (t: number) => Math.round(t * 1000);
  const got = new Map<number, number>();
  for (const r of target) {
    const v = r.values[name];
    if (typeof v === 'number' && Number.isFinite(v)) got.set(key(r.start_s), v * r.duration_s);
  }
  const done = new Map<number, number>();
  for (const r of records) done.set(key(r.start_s), (done.get(key(r.start_s)) ?? 0) + r.requests);
  const starts = [...new Map(records.map((r) => [key(r.start_s), r])).values()];
  // The span each window's figures measure (half a window earlier when scraped mid-window) must lie inside.
  const shift = (r: IntervalRecord) => (midWindow ? r.duration_s / 2 : 0);
  const inside = starts.filter(
    (r) => r.start_s - shift(r) >= from - eps && r.start_s + r.duration_s - shift(r) <= to + eps,
  );
  const use = inside.length > 0 ? inside : starts.filter((r) => overlaps(r, from, to));
  let sent = 0;
  let received = 0;
  let n = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const r of use) {
    const k = key(r.start_s);
    const t = got.get(k);
    if (t === undefined) continue;
    const own = done.get(k) ?? 0;
    sent += midWindow ? (own + (done.get(key(r.start_s - r.duration_s)) ?? own)) / 2 : own;
    received += t;
    n++;
    lo = Math.min(lo, r.start_s);
    hi = Math.max(hi, r.start_s + r.duration_s);
  }
  return {
    ratio: sent > 0 && n > 0 ? r3(received / sent) : null,
    target_requests: Math.round(received),
    sent: Math.round(sent),
    from_s: Number.isFinite(lo) ? r3(lo)! : r3(from)!,
    to_s: Number.isFinite(hi) ? r3(hi)! : r3(to)!,
  };
}

export function analyseWindow(
  w: FaultWindow,
  points: readonly WindowPoint[],
  records: readonly IntervalRecord[],
  baseline: { fromS: number; toS: number; summary: ScenarioSummary },
  plan: PlanOf<'resilience'>,
  targetRequests?: { name: string; records: readonly TargetWindowRecord[]; midWindow: boolean },
  /** When the next fault window started (s): this window's losses and detection stop there. */
  nextStartS = Infinity,
): WindowAnswer & { recovery: Recovery } {
  const p = plan.profile;
  const start = w.started_s ?? w.at_s;
  const end = w.ended_s ?? w.end_s;
  const rec = recoveryTime(points, baseline, end, p.recovery);
  const inWindow = summarizeRecords(records.filter((r) => overlaps(r, start, end)));
  const slo = plan.thresholds.filter((t) => t.answer === undefined);
  const check = slo.length > 0 ? checkStep(slo, inWindow) : null;
  const good = (x: WindowPoint): boolean =>
    x.requests > 0 &&
    x.p99 !== null &&
    (rec.limit_p99_ms === null || x.p99 <= rec.limit_p99_ms) &&
    x.error_rate <= rec.limit_error_rate + eps;
  // Until recovery, or the next fault window: a window that holds the next one's start is the next
  // one's (each counts from the window its start falls in), so no loss is counted twice.
  const until = rec.recovered_at_s ?? Infinity;
  const after = points.filter(
    (x) =>
      x.start_s + x.duration_s > start + eps && x.start_s < until - eps && x.start_s + x.duration_s <= nextStartS + eps,
  );
  const firstBad = after.find((x) => !good(x));
  // Detected when the first bad window is complete: a monitor with this resolution sees it then.
  const detect = firstBad ? r3(Math.max(0, firstBad.start_s + firstBad.duration_s - start)) : null;
  const lost = after.reduce((a, x) => a + (x.requests - x.ok), 0);
  // A failover: after the first bad window, good again (N windows) before the fault ended.
  const settled = firstBad ? recoveryTime(points, baseline, firstBad.start_s + firstBad.duration_s, p.recovery) : null;
  const failover =
    settled?.recovered_at_s != null && settled.recovered_at_s < end - eps ? r3(settled.recovered_at_s - start) : null;
  const timeouts = inWindow.errors['timeout'] ?? 0;
  const base99 = baseline.summary.latency_ms.p99;
  const ratio =
    base99 && inWindow.latency_ms.p99 !== null && inWindow.requests > 0 ? r3(inWindow.latency_ms.p99 / base99) : null;
  const accuracy = accuracyOf(inWindow);
  const baseAccuracy = accuracyOf(baseline.summary);
  const errClasses = Object.entries(inWindow.errors)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${num(n)}`)
    .join(', ');
  const sloText =
    check === null
      ? 'no SLO (thresholds) to check'
      : check.ok
        ? 'the SLO held'
        : `the SLO broke (${check.reasons.join('; ')})`;
  const tr = targetRequests;
  const amp = tr ? amplificationOver(tr.records, tr.name, records, start, end, tr.midWindow) : undefined;
  const sentence =
    `\`${w.name}\` (${w.type}, ${secs(r3(start))}–${secs(r3(end))}): ${sloText}; ` +
    `p50 ${ms(inWindow.latency_ms.p50)}, p99 ${ms(inWindow.latency_ms.p99)} vs ${ms(base99)} before${ratio !== null ? ` (×${num(ratio)})` : ''}, ` +
    `errors ${pct(inWindow.error_rate)} vs ${pct(baseline.summary.error_rate)}${errClasses ? ` (${errClasses})` : ''}; ` +
    `${accuracy !== null ? `accuracy ${pct(accuracy)} vs ${pct(baseAccuracy)}; ` : ''}` +
    `${detect !== null ? `detected after ${secs(detect)}` : 'no bad window'}; ` +
    `${failover !== null ? `good again ${secs(failover)} after it started, while it lasted (failover); ` : ''}` +
    `${rec.recovered ? `recovered ${secs(rec.recovery_s)} after it ended` : 'did not recover before the end of the run'}; ` +
    `${num(lost)} requests lost` +
    (amp?.ratio != null
      ? `; the target received ${num(amp.target_requests)} requests for ${num(amp.sent)} sent (amplification ×${num(amp.ratio)}).`
      : amp
        ? '; amplification unknown (no reading of the target’s request count).'
        : '.');
  return {
    name: w.name,
    kind: w.kind,
    type: w.type,
    start_s: r3(start)!,
    end_s: r3(end)!,
    slo_held: check === null ? null : check.ok,
    slo_failures: check?.reasons ?? [],
    requests: inWindow.requests,
    errors: inWindow.errors,
    error_rate: inWindow.error_rate,
    timeouts,
    p50_ms: inWindow.latency_ms.p50,
    p99_ms: inWindow.latency_ms.p99,
    p99_ratio: ratio,
    ...(accuracy !== null ? { accuracy, baseline_accuracy: baseAccuracy } : {}),
    detect_s: detect,
    failover_s: failover,
    recovered: rec.recovered,
    recovery_s: rec.recovery_s,
    recovered_at_s: rec.recovered_at_s,
    lost,
    ...(amp ? { amplification: amp } : {}),
    sentence,
    recovery: rec,
  };
}

export async function runResilience(plan: PlanOf<'resilience'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const f = await runExpanded(plan, opts, expandResilience(plan));
  const faults = f.summary.faults;
  const records = scenarioRecords(f.run.records);
  const points = timeline(f.run.records);
  const firstAt = Math.min(...(plan.faults?.timeline ?? []).map((e) => e.atMs / 1000), p.durationMs / 1000);
  // Baseline: before the first entry, without its first fifth (at most 5 s): connections and JIT warm up.
  const warm = Math.min(5, firstAt / 5);
  const baseSummary = summarizeRecords(
    records.filter((r) => r.start_s >= warm - eps && r.start_s + r.duration_s <= firstAt + eps),
  );
  const baseline = { fromS: warm, toS: firstAt, summary: baseSummary };
  const windows = (faults?.windows ?? []).filter((w) => w.started_s !== null);
  // Retry amplification when the monitor reads the target's own request count (docs/faults.md).
  const ampName = p.targetRequests ?? 'requests';
  const target = plan.monitor?.metrics.some((m) => m.name === ampName)
    ? {
        name: ampName,
        records: readTargetRecords(f.run.result.outDir),
        // Scraped: each window's figure is mid-window to mid-window; from Prometheus: up to the window's end.
        midWindow: f.summary.target_metrics?.[ampName]?.source !== 'prometheus',
      }
    : undefined;
  const starts = windows.map((w) => w.started_s ?? w.at_s);
  const answers = windows.map((w, i) => {
    const next = Math.min(...starts.filter((x, j) => j !== i && x > starts[i] + eps));
    return analyseWindow(w, points, records, baseline, plan, target, next);
  });
  const baseAmp = target
    ? amplificationOver(target.records, target.name, records, warm, firstAt, target.midWindow)
    : undefined;

  // Thresholds: the SLO on the baseline; resilience.* on the answer.
  const slo = plan.thresholds.filter((t) => t.answer === undefined);
  const baseCheck = checkStep(slo, baseSummary);
  const worst = (xs: Array<number | null>): number | null =>
    xs.length === 0 || xs.some((x) => x === null) ? null : Math.max(...(xs as number[]));
  const recoveryS = worst(answers.map((a) => a.recovery_s));
  const notRecovered = answers.filter((a) => !a.recovered).map((a) => a.name);
  const detected = answers.map((a) => a.detect_s).filter((x): x is number => x !== null);
  const numbers: Record<string, number | string | boolean | null> = {
    windows: answers.length,
    recovered_all: notRecovered.length === 0,
    recovery_s: recoveryS,
    ...(notRecovered.length > 0 ? { recovery_s_note: `did not recover: ${notRecovered.join(', ')}` } : {}),
    detect_s: detected.length ? Math.max(...detected) : null,
    ...(detected.length === 0 ? { detect_s_note: 'no fault window had a bad window' } : {}),
    lost: answers.reduce((a, x) => a + x.lost, 0),
    slo_broken_windows: answers.filter((a) => a.slo_held === false).length,
    baseline_p99_ms: baseSummary.latency_ms.p99,
    baseline_error_rate: r3(baseSummary.error_rate),
    baseline_slo_held: baseCheck.ok,
  };
  if (faults?.proxy) numbers['proxy_requests'] = faults.proxy.requests;
  if (target && baseAmp) {
    const ratios = answers.map((a) => a.amplification?.ratio ?? null);
    const known = ratios.filter((x): x is number => x !== null);
    numbers['amplification'] = known.length > 0 ? Math.max(...known) : null;
    if (known.length === 0)
      numbers['amplification_note'] = 'the target’s request count was not read in any fault window';
    numbers['baseline_amplification'] = baseAmp.ratio;
  }
  const answerThresholds = plan.thresholds.filter((t) => t.answer !== undefined);
  const actionsFailed = (faults?.events ?? []).filter((e) => e.event === 'action_end' && e.ok === false);
  const head = !faults
    ? 'Not answered: the run had no fault timeline.'
    : answers.length === 0
      ? `Not answered: no fault window started (the run ended at ${secs(f.summary.durationS)}).`
      : notRecovered.length === 0
        ? `Recovered from all ${answers.length} fault window(s); the slowest in ${secs(recoveryS)}; ${num(numbers['lost'] as number)} requests lost.`
        : `Did not recover from ${notRecovered.map((n) => `\`${n}\``).join(', ')} before the end of the run.`;
  const answerText = [
    head,
    `Baseline (${secs(r3(warm))}–${secs(r3(firstAt))}): p99 ${ms(baseSummary.latency_ms.p99)}, errors ${pct(baseSummary.error_rate)}${slo.length ? `, SLO ${baseCheck.ok ? 'met' : `NOT met (${baseCheck.reasons.join('; ')})`}` : ''}${baseAmp?.ratio != null ? `, amplification ×${num(baseAmp.ratio)}` : ''}.`,
    ...answers.map((a) => a.sentence),
    ...(actionsFailed.length
      ? [
          `${actionsFailed.length} action(s) failed: ${actionsFailed.map((e) => `\`${e.name}\`${e.undo ? ' (undo)' : ''}: ${e.detail}`).join(' ')}`,
        ]
      : []),
  ].join(' ');

  // The report draws the windows and the actions from summary.faults; the answer marks the recoveries.
  const marks: Mark[] = [];
  for (const a of answers)
    if (a.recovered_at_s !== null) marks.push({ t_s: a.recovered_at_s, label: `${a.name}: recovered`.slice(0, 60) });
  const limit = answers[0]?.recovery.limit_p99_ms ?? null;
  const result = done(
    f,
    plan,
    {
      type: 'resilience',
      verdict:
        answers.length > 0 && notRecovered.length === 0 ? 'passed' : answers.length === 0 ? 'inconclusive' : 'failed',
      answer: answerText,
      numbers,
      curves: [
        recoveryCurve(points, limit),
        timeCurve('error rate per window', points, (w) => w.error_rate, 'error rate'),
      ],
      marks,
      windows: answers.map(({ recovery: _r, ...a }) => a),
      baseline: {
        from_s: r3(warm),
        to_s: r3(firstAt),
        p50_ms: baseSummary.latency_ms.p50,
        p99_ms: baseSummary.latency_ms.p99,
        error_rate: baseSummary.error_rate,
        requests: baseSummary.requests,
        ...(baseAmp ? { amplification: baseAmp } : {}),
      },
      tolerance: answers[0]
        ? { limit_p99_ms: answers[0].recovery.limit_p99_ms, limit_error_rate: answers[0].recovery.limit_error_rate }
        : null,
    },
    (summary) => {
      // The thresholds of this profile: the SLO on the baseline (as written), resilience.* on the answer.
      const judged: ThresholdResult[] = [
        ...baseCheck.thresholds.map((t) => ({ ...t, expression: `baseline: ${t.expression}` })),
        ...evaluateThresholds(answerThresholds, { ...summary }),
      ];
      summary.thresholds = judged;
    },
  );
  return result;
}

export const resilience: ProfileKind<'resilience'> = {
  type: 'resilience',
  expand: expandResilience,
  run: runResilience,
};
