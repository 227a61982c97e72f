/**
 * spike: how long does it take to recover from a sudden spike?
 * Built from the `scenario:` template into the phases of one run; answered from its summary and
 * windows. Keys and defaults: src/plan/syntax.ts (PROFILE_FIELDS); rules: docs/profiles.md.
 */
import type { PlanOf } from '../../plan/types.js';
import { recoveryTime } from '../analysis.js';
import { constantRate, fromTemplate, phases, planWith, scopedTo, type Expansion } from '../expand.js';
import { ms, num, pct, r3, rate, secs } from '../harness.js';
import { done, recoveryCurve, runExpanded, timeCurve } from '../single.js';
import type { Mark, ProfileResult, ProfileRunOptions } from '../types.js';
import { timeline } from '../windows.js';
import type { ProfileKind } from './kind.js';

/**
 * spike: `before` at the baseline rate, `spike` at spikeRate, `after` at the baseline again. The
 * spike's requests still in flight may finish during `after` (its graceful stop covers it), so
 * their latency is measured, not cancelled. Thresholds gate the `before` phase (the baseline must
 * meet the SLO); the recovery, not the thresholds, judges what follows.
 */
export function expandSpike(plan: PlanOf<'spike'>): Expansion {
  const p = plan.profile;
  const b = p.beforeMs;
  const s = p.spikeMs;
  const a = p.afterMs;
  const out = [
    fromTemplate(p.template, 'before', { ...constantRate(p.rate, b), startTimeMs: 0 }),
    fromTemplate(p.template, 'spike', {
      ...constantRate(p.spikeRate, s),
      startTimeMs: b,
      gracefulStopMs: Math.max(p.template.gracefulStopMs, a),
    }),
    fromTemplate(p.template, 'after', { ...constantRate(p.rate, a), startTimeMs: b + s }),
  ];
  return { plan: planWith(plan, out, scopedTo(plan.thresholds, 'before')), phases: phases(out) };
}

export async function runSpike(plan: PlanOf<'spike'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const f = await runExpanded(plan, opts, expandSpike(plan));
  const points = timeline(f.run.records);
  const beforeS = p.beforeMs / 1000;
  const spikeEndS = (p.beforeMs + p.spikeMs) / 1000;
  // Baseline: the before phase without its first fifth (at most 5 s): connections and JIT warm up.
  const warm = Math.min(5, beforeS / 5);
  const rec = recoveryTime(points, { fromS: warm, toS: beforeS }, spikeEndS, p.recovery);
  const until = rec.recovered_at_s ?? Infinity;
  const during = points.filter((w) => w.start_s >= beforeS - 1e-6 && w.start_s < until);
  const worst = during.reduce<number | null>((a, w) => (w.p99 !== null && (a === null || w.p99 > a) ? w.p99 : a), null);
  const errs = during.reduce((a, w) => a + (w.requests - w.ok), 0);
  const reqs = during.reduce((a, w) => a + w.requests, 0);
  const spike = f.summary.scenarios['spike'];
  const tol = `p99 within ${pct(p.recovery.latencyTolerance)} (or ${ms(p.recovery.marginMs)}) of the baseline ${ms(rec.baseline_p99_ms)} and errors within ${num(p.recovery.errorTolerance * 100)} pp, for ${p.recovery.windows} windows`;
  const reachedEnd = points.some((w) => w.start_s + w.duration_s > spikeEndS + 1e-6);
  const answer = !reachedEnd
    ? `Not answered: the run ended before the spike did (baseline p99 ${ms(rec.baseline_p99_ms)}).`
    : rec.recovered
      ? `Recovered ${secs(rec.recovery_s)} after the spike ended (${tol}). During the ${num(p.factor)}× spike (${rate(p.spikeRate)} for ${secs(p.spikeMs / 1000)}) until recovery: worst window p99 ${ms(worst)}, ${num(errs)} errors (${pct(reqs ? errs / reqs : 0)}).`
      : `Did not recover within the ${secs(p.afterMs / 1000)} after the spike (${tol}). During the ${num(p.factor)}× spike (${rate(p.spikeRate)} for ${secs(p.spikeMs / 1000)}) and after: worst window p99 ${ms(worst)}, ${num(errs)} errors (${pct(reqs ? errs / reqs : 0)}).`;
  const marks: Mark[] = [
    { t_s: beforeS, label: 'spike starts' },
    { t_s: spikeEndS, label: 'spike ends' },
  ];
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
      spike_rate: p.spikeRate,
      spike_p99_ms: spike?.latency_ms.p99 ?? null,
    },
    curves: [
      recoveryCurve(points, rec.limit_p99_ms),
      timeCurve('error rate per window', points, (w) => w.error_rate, 'error rate'),
    ],
    marks,
    recovery: rec,
  });
}

export const spike: ProfileKind<'spike'> = { type: 'spike', expand: expandSpike, run: runSpike };
