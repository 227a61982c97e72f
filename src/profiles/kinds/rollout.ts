/**
 * rollout: what does a deployment (a command or an HTTP call at `at`) do to the traffic under
 * load?
 * Built from the `scenario:` template into the phases of one run; answered from its summary and
 * windows. Keys and defaults: src/plan/syntax.ts (PROFILE_FIELDS); rules: docs/profiles.md.
 */
import type { IntervalRecord, ScenarioSummary } from '../../core/results.js';
import type { PlanOf } from '../../plan/types.js';
import { runAction, type ActionResult } from '../action.js';
import { recoveryTime } from '../analysis.js';
import { steadyScenario, type Expansion } from '../expand.js';
import { ms, num, pct, r3, secs, type SingleHooks } from '../harness.js';
import { done, runExpanded, timeCurve, type Finished } from '../single.js';
import type { Mark, ProfileResult, ProfileRunOptions } from '../types.js';
import { scenarioRecords, summarizeRecords, timeline } from '../windows.js';
import type { ProfileKind } from './kind.js';

/** rollout: one scenario at constant load; the action runs at `at`. Thresholds over the whole run. */
export const expandRollout = (plan: PlanOf<'rollout'>): Expansion => steadyScenario(plan);

export async function runRollout(plan: PlanOf<'rollout'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const action = p.action;
  const st: {
    startS: number | null;
    endS: number | null;
    pending: Promise<ActionResult> | null;
    timer: NodeJS.Timeout | null;
  } = { startS: null, endS: null, pending: null, timer: null };
  const hooks: SingleHooks = {
    onStart: (t0) => {
      st.timer = setTimeout(
        () => {
          st.startS = (performance.now() - t0) / 1000;
          opts.log?.(
            `rollout: ${action.kind === 'run' ? 'running' : 'calling'} ${action.display} at ${secs(st.startS)}`,
          );
          st.pending = runAction(action, {
            timeoutMs: p.actionTimeoutMs,
            signal: opts.signal,
            tls: plan.target.tls,
          }).then((r) => {
            st.endS = (performance.now() - t0) / 1000;
            opts.log?.(
              `rollout: action ${r.ok ? 'done' : 'FAILED'} after ${secs(r.duration_s)}${r.exit_code !== undefined ? ` (exit ${r.exit_code})` : r.status !== undefined ? ` (HTTP ${r.status})` : ''}${r.error ? `: ${r.error}` : ''}`,
            );
            return r;
          });
        },
        Math.max(0, t0 + p.atMs - performance.now()),
      );
    },
  };
  let f: Finished;
  try {
    f = await runExpanded(plan, opts, expandRollout(plan), hooks);
  } finally {
    if (st.timer) clearTimeout(st.timer);
  }
  const result: ActionResult | null = st.pending === null ? null : await st.pending;
  const actionEndS = st.endS;
  const points = timeline(f.run.records);
  const atS = st.startS ?? p.atMs / 1000;
  const warm = Math.min(5, atS / 5);
  const rule = p.recovery;
  // Steady again: the first of N good windows once the action has finished (as for a spike).
  const base = recoveryTime(points, { fromS: warm, toS: atS }, actionEndS ?? Infinity, rule);
  const steadyAt = result && base.recovered_at_s !== null ? Math.max(base.recovered_at_s, actionEndS ?? atS) : null;
  const recs = scenarioRecords(f.run.records);
  const eps = 1e-6;
  const intervalS = plan.options.intervalMs / 1000;
  // Windows that end by the action's start are before; the cut-over lasts until steady again, and
  // at least until the action ended (and one window).
  const cutEnd = Math.max(
    steadyAt ?? Infinity,
    actionEndS !== null ? Math.ceil(actionEndS / intervalS - eps) * intervalS : atS,
    Math.ceil(atS / intervalS - eps) * intervalS +
      (Math.abs(atS / intervalS - Math.round(atS / intervalS)) < eps ? intervalS : 0),
  );
  const sel = (pred: (r: IntervalRecord) => boolean): ScenarioSummary => summarizeRecords(recs.filter(pred));
  const before = sel((r) => r.start_s >= warm - eps && r.start_s + r.duration_s <= atS + eps);
  const cut = sel((r) => r.start_s + r.duration_s > atS + eps && r.start_s < cutEnd - eps);
  const after = Number.isFinite(cutEnd) ? sel((r) => r.start_s >= cutEnd - eps) : null;
  const timeToSteady = steadyAt !== null ? r3(steadyAt - atS) : null;
  const shown = action.display.length > 80 ? `${action.display.slice(0, 77)}…` : action.display;
  const what = result
    ? `${action.kind === 'run' ? 'command' : 'call'} ${shown} (${result.ok ? 'succeeded' : result.timed_out ? 'timed out' : 'FAILED'} in ${secs(result.duration_s)})`
    : `the action ${shown} (never started: the run ended first)`;
  const answer = !result
    ? `Not answered: ${what}.`
    : `During the cut-over (${Number.isFinite(cutEnd) ? secs(r3(cutEnd - atS)) : 'until the end'} from the start of the ${what}): ${num(cut.requests - cut.ok)} errors (${pct(cut.error_rate)}), p99 ${ms(cut.latency_ms.p99)} vs ${ms(before.latency_ms.p99)} before${after ? ` and ${ms(after.latency_ms.p99)} after` : ''} (errors ${pct(before.error_rate)} before${after ? `, ${pct(after.error_rate)} after` : ''}). ${steadyAt !== null ? `Steady again ${secs(timeToSteady)} after the action started.` : 'Not steady again before the end of the run.'}`;
  const marks: Mark[] = [{ t_s: atS, label: `action: ${shown}`.slice(0, 60) }];
  if (actionEndS !== null) marks.push({ t_s: actionEndS, label: 'action finished' });
  if (steadyAt !== null && steadyAt > atS) marks.push({ t_s: steadyAt, label: 'steady again' });
  const phase = (s: ScenarioSummary | null) =>
    s
      ? {
          requests: s.requests,
          errors: s.requests - s.ok,
          error_rate: s.error_rate,
          p50_ms: s.latency_ms.p50,
          p99_ms: s.latency_ms.p99,
          max_ms: s.latency_ms.max,
          duration_s: s.durationS,
        }
      : null;
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
    curves: [
      timeCurve('p99 latency over time', points, (w) => w.p99, 'p99 (ms)'),
      timeCurve('errors per window', points, (w) => w.requests - w.ok, 'errors'),
    ],
    marks,
    action: result,
    phases: { before: phase(before), cutover: phase(cut), after: phase(after) },
    tolerance: {
      limit_p99_ms: base.limit_p99_ms,
      limit_error_rate: base.limit_error_rate,
      baseline_p99_ms: base.baseline_p99_ms,
    },
  });
}

export const rollout: ProfileKind<'rollout'> = { type: 'rollout', expand: expandRollout, run: runRollout };
