/**
 * load: does the service meet the SLO at the expected peak?
 * Steps up to `rate`, the last one held. Built from the `scenario:` template into the phases of
 * one run; answered from its summary and windows. Keys and defaults: src/plan/syntax.ts
 * (PROFILE_FIELDS); rules: docs/profiles.md.
 */
import type { PlanOf, ScenarioPlan } from '../../plan/types.js';
import { checkStep } from '../analysis.js';
import { constantRate, fromTemplate, phases, planWith, round3, scopedTo, type Expansion } from '../expand.js';
import { rate } from '../harness.js';
import { done, latencyLine, phaseMarks, runExpanded, thresholdsText, timeCurve } from '../single.js';
import type { ProfileResult, ProfileRunOptions } from '../types.js';
import { timeline } from '../windows.js';
import type { ProfileKind } from './kind.js';

/** load: `steps` steps up to `rate` (rate·k/steps), each `stepDuration`, the last one `hold`. */
export function expandLoad(plan: PlanOf<'load'>): Expansion {
  const p = plan.profile;
  const n = p.steps;
  const out: ScenarioPlan[] = [];
  let t = 0;
  for (let k = 1; k <= n; k++) {
    const d = k === n ? p.holdMs : p.stepDurationMs;
    out.push(fromTemplate(p.template, `step-${k}`, { ...constantRate(round3((p.rate * k) / n), d), startTimeMs: t }));
    t += d;
  }
  return {
    plan: planWith(
      plan,
      out,
      out.flatMap((s) => scopedTo(plan.thresholds, s.name)),
    ),
    phases: phases(out),
  };
}

export async function runLoad(plan: PlanOf<'load'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const f = await runExpanded(plan, opts, expandLoad(plan));
  const steps = f.expansion.phases.map((ph, i) => {
    const s = f.summary.scenarios[ph.name];
    const c = checkStep(plan.thresholds, s);
    return {
      step: i + 1,
      name: ph.name,
      rate: ph.rate!,
      hold: i === f.expansion.phases.length - 1,
      ran: (s?.requests ?? 0) > 0,
      ok: c.ok && (s?.requests ?? 0) > 0,
      failed: c.reasons,
      p50_ms: s?.latency_ms.p50 ?? null,
      p99_ms: s?.latency_ms.p99 ?? null,
      error_rate: s?.error_rate ?? null,
      throughput: s?.throughput ?? null,
    };
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
    numbers: {
      target_rate: p.rate,
      steps: steps.length,
      steps_passed: ran.filter((s) => s.ok).length,
      hold_p99_ms: holdS?.latency_ms.p99 ?? null,
      hold_error_rate: holdS?.error_rate ?? null,
      hold_throughput: holdS?.throughput ?? null,
      highest_passing_rate: passing.length ? Math.max(...passing) : null,
    },
    curves: [
      {
        title: 'p99 latency per step',
        x_label: 'rate (/s)',
        y_label: 'p99 (ms)',
        points: ran.map((s) => [s.rate, s.p99_ms ?? 0] as [number, number]),
      },
      timeCurve('p99 latency over time', points, (x) => x.p99, 'p99 (ms)'),
    ],
    marks: phaseMarks(f.expansion.phases, (ph) => `${rate(ph.rate)}`),
    steps,
  });
}

export const load: ProfileKind<'load'> = { type: 'load', expand: expandLoad, run: runLoad };
