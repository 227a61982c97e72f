/**
 * stress: where does it break, and how?
 * Rising steps, stopped early once the breaking point is known. Built from the `scenario:`
 * template into the phases of one run; answered from its summary and windows. Keys and defaults:
 * src/plan/syntax.ts (PROFILE_FIELDS); rules: docs/profiles.md.
 */
import type { IntervalRecord } from '../../core/results.js';
import type { PlanOf, StressProfile } from '../../plan/types.js';
import { breakingPoint, checkStep, failureMode } from '../analysis.js';
import { constantRate, fromTemplate, phases, planWith, round3, type Expansion } from '../expand.js';
import { pct, r3, rate, secs, type SingleHooks } from '../harness.js';
import { done, latencyLine, phaseMarks, runExpanded, thresholdsText, timeCurve } from '../single.js';
import type { ProfileResult, ProfileRunOptions } from '../types.js';
import { scenarioRecords, summarizeRecords, timeline } from '../windows.js';
import type { ProfileKind } from './kind.js';

/** stress: the step rates, from startRate by rateStep (or × factor) up to maxRate, bounded by maxDuration. */
export function stressRates(p: StressProfile): number[] {
  const rates: number[] = [];
  const max = p.maxRate;
  let r = p.startRate;
  const limit = p.maxDurationMs !== undefined ? Math.max(1, Math.floor(p.maxDurationMs / p.stepDurationMs)) : 1000;
  while (r <= max * (1 + 1e-9) && rates.length < limit) {
    rates.push(round3(r));
    r = p.factor !== undefined ? r * p.factor : r + p.rateStep;
  }
  if (rates.length < limit && rates[rates.length - 1] < max * 0.999) rates.push(max);
  return rates;
}

/** stress: one scenario per step; thresholds are judged by the profile, not gating the run. */
export function expandStress(plan: PlanOf<'stress'>): Expansion {
  const p = plan.profile;
  const out = stressRates(p).map((rate, i) =>
    fromTemplate(p.template, `step-${i + 1}`, {
      ...constantRate(rate, p.stepDurationMs),
      startTimeMs: i * p.stepDurationMs,
    }),
  );
  return { plan: planWith(plan, out, []), phases: phases(out) };
}

export async function runStress(plan: PlanOf<'stress'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const expansion = expandStress(plan);
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
        opts.log?.(
          `step ${i + 1}/${phases.length} ${rate(ph.rate)}: ${c.ok ? 'held' : `FAILED (${c.reasons.join('; ')})`} — ${latencyLine(s)}`,
        );
        if (failedInARow >= p.stopAfter && i < phases.length - 1) {
          stop(
            `stress: ${failedInARow} consecutive steps failed (up to ${rate(ph.rate)}); the breaking point is known`,
          );
        }
      }
    },
  };
  opts.log?.(
    `stress: ${phases.length} steps of ${secs(p.stepDurationMs / 1000)}, ${rate(phases[0].rate)} → ${rate(phases[phases.length - 1].rate)}; stops after ${p.stopAfter} failing steps`,
  );
  const f = await runExpanded(plan, opts, expansion, hooks);
  const all = scenarioRecords(f.run.records);
  // A step the early stop cut short (less than half run) is no evidence either way: leave it out.
  const stepS = p.stepDurationMs / 1000;
  const steps = phases
    .filter((ph) => all.some((r) => r.scenario === ph.name))
    .filter(
      (ph) => !(f.summary.endedEarly !== undefined && (f.summary.scenarios[ph.name]?.durationS ?? 0) < 0.5 * stepS),
    )
    .map((ph, i) => {
      const s = f.summary.scenarios[ph.name];
      const c = checkStep(plan.thresholds, s, { errorLimit: p.errorLimit });
      return {
        step: i + 1,
        name: ph.name,
        rate: ph.rate!,
        start_s: ph.startS,
        ok: c.ok,
        failed: c.reasons,
        p50_ms: s.latency_ms.p50,
        p99_ms: s.latency_ms.p99,
        error_rate: s.error_rate,
        throughput: s.throughput,
        errors: s.errors,
      };
    });
  const bp = breakingPoint(steps);
  const points = timeline(f.run.records);
  let evidence: ReturnType<typeof failureMode> | null = null;
  let answer: string;
  if (bp.index < 0) {
    answer =
      steps.length === 0
        ? 'No step completed.'
        : `Held every step up to ${rate(bp.lastGood)} (the highest rate tried): no breaking point within the limits (${thresholdsText(plan)}, errors ≤ ${pct(p.errorLimit)}).`;
  } else {
    const bad = steps[bp.index];
    // The failure mode: windows from the middle of the first failing step to the end (the rise into overload excluded).
    const from = bad.start_s + p.stepDurationMs / 2000;
    evidence = failureMode(points.filter((w) => w.start_s >= from - 1e-6));
    const held =
      bp.lastGood === null
        ? `It failed at the first step (${rate(bad.rate)}): start lower.`
        : `The last rate that held was ${rate(bp.lastGood)}; the first that failed, ${rate(bp.firstBad)} (${bad.failed.join('; ')}).`;
    answer = `Breaks between ${bp.lastGood === null ? '0/s' : rate(bp.lastGood)} and ${rate(bp.firstBad)}. ${held} Failure mode: ${evidence.mode} — ${evidence.reasons.join('; ')}.`;
  }
  if (bp.transient.length)
    answer += ` Transient: ${bp.transient.map((i) => `${rate(steps[i].rate)} failed (${steps[i].failed.join('; ')}) but a higher rate held again`).join('; ')}.`;
  return done(f, plan, {
    type: 'stress',
    verdict:
      evidence?.mode === 'catastrophic' ? 'failed' : bp.index < 0 && steps.length === 0 ? 'inconclusive' : 'passed',
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
      {
        title: 'p99 latency per step',
        x_label: 'rate (/s)',
        y_label: 'p99 (ms)',
        points: steps.map((s) => [s.rate, s.p99_ms] as [number, number]),
      },
      {
        title: 'throughput and errors per step',
        x_label: 'rate (/s)',
        y_label: 'per second',
        series: [
          { name: 'throughput', points: steps.map((s) => [s.rate, s.throughput] as [number, number]) },
          {
            name: 'errors/s',
            points: steps.map((s) => [s.rate, r3(s.throughput * s.error_rate)!] as [number, number]),
          },
        ],
      },
      timeCurve('p50 latency over time', points, (x) => x.p50, 'p50 (ms)'),
    ],
    marks: phaseMarks(
      phases.filter((ph) => steps.some((s) => s.name === ph.name)),
      (ph) => rate(ph.rate),
    ),
    steps,
    breaking_point: bp,
    evidence,
  });
}

export const stress: ProfileKind<'stress'> = { type: 'stress', expand: expandStress, run: runStress };
