/**
 * burst: how much do bursty arrivals (gamma gaps) cost against smooth ones at the same mean rate?
 * Built from the `scenario:` template into the phases of one run; answered from its summary and
 * windows. Keys and defaults: src/plan/syntax.ts (PROFILE_FIELDS); rules: docs/profiles.md.
 */
import type { PlanOf } from '../../plan/types.js';
import { constantRate, fromTemplate, phases, planWith, scopedTo, type Expansion } from '../expand.js';
import { ms, num, pct, r3, rate } from '../harness.js';
import { done, runExpanded } from '../single.js';
import type { ProfileResult, ProfileRunOptions } from '../types.js';
import type { ProfileKind } from './kind.js';

/** burst: the warm-up before the smooth phase: a fifth of a phase, at most 10 s. */
export const burstWarmupMs = (durationMs: number): number => Math.min(10_000, Math.round(durationMs / 5));

/**
 * burst: a short warm-up (smooth arrivals, not compared: connections and JIT warm up), a smooth
 * phase (uniform or Poisson arrivals), then a bursty one (gamma gaps) at the same mean rate.
 */
export function expandBurst(plan: PlanOf<'burst'>): Expansion {
  const p = plan.profile;
  const d = p.durationMs;
  const w = burstWarmupMs(d);
  const out = [
    fromTemplate(p.template, 'warmup', { ...constantRate(p.rate, w), arrival: p.smooth }),
    fromTemplate(p.template, 'smooth', { ...constantRate(p.rate, d), startTimeMs: w, arrival: p.smooth }),
    fromTemplate(p.template, 'bursty', {
      ...constantRate(p.rate, d),
      startTimeMs: w + d,
      arrival: 'gamma',
      burstiness: p.burstiness,
    }),
  ];
  return {
    plan: planWith(plan, out, [...scopedTo(plan.thresholds, 'smooth'), ...scopedTo(plan.thresholds, 'bursty')]),
    phases: phases(out),
  };
}

export async function runBurst(plan: PlanOf<'burst'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const f = await runExpanded(plan, opts, expandBurst(plan));
  const sm = f.summary.scenarios['smooth'];
  const bu = f.summary.scenarios['bursty'];
  const stats = ['p50', 'p90', 'p95', 'p99', 'p999'] as const;
  const ratio = (k: (typeof stats)[number]): number | null =>
    sm && bu && sm.latency_ms[k] > 0 && bu.requests > 0 ? r3(bu.latency_ms[k] / sm.latency_ms[k]) : null;
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
      burstiness: p.burstiness,
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
      { t_s: burstWarmupMs(p.durationMs) / 1000, label: 'smooth phase' },
      { t_s: (burstWarmupMs(p.durationMs) + p.durationMs) / 1000, label: 'bursty phase' },
    ],
    phases: {
      smooth: sm
        ? {
            p50_ms: sm.latency_ms.p50,
            p90_ms: sm.latency_ms.p90,
            p99_ms: sm.latency_ms.p99,
            error_rate: sm.error_rate,
            requests: sm.requests,
          }
        : null,
      bursty: bu
        ? {
            p50_ms: bu.latency_ms.p50,
            p90_ms: bu.latency_ms.p90,
            p99_ms: bu.latency_ms.p99,
            error_rate: bu.error_rate,
            requests: bu.requests,
          }
        : null,
    },
  });
}

export const burst: ProfileKind<'burst'> = { type: 'burst', expand: expandBurst, run: runBurst };
