/**
 * soak: does anything drift (latency, errors, memory) under constant load over a long run?
 * Built from the `scenario:` template into the phases of one run; answered from its summary and
 * windows. Keys and defaults: src/plan/syntax.ts (PROFILE_FIELDS); rules: docs/profiles.md.
 */
import type { PlanOf } from '../../plan/types.js';
import { driftOf, type DriftMetric } from '../analysis.js';
import { steadyScenario, type Expansion } from '../expand.js';
import { num, pct, r3, rate, secs } from '../harness.js';
import { done, runExpanded } from '../single.js';
import type { Curve, ProfileResult, ProfileRunOptions } from '../types.js';
import { buckets, scenarioRecords } from '../windows.js';
import type { ProfileKind } from './kind.js';

/** soak: one scenario at constant load for the whole duration; thresholds over the whole run. */
export const expandSoak = (plan: PlanOf<'soak'>): Expansion => steadyScenario(plan);

export async function runSoak(plan: PlanOf<'soak'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const f = await runExpanded(plan, opts, expandSoak(plan));
  const intervalS = plan.options.intervalMs / 1000;
  const fromT = Math.floor(p.warmupMs / plan.options.intervalMs);
  const analysed = scenarioRecords(f.run.records, ['soak']).filter((r) => r.t >= fromT);
  const spanS = analysed.length * intervalS;
  const per = p.bucketMs
    ? Math.max(1, Math.round(p.bucketMs / plan.options.intervalMs))
    : Math.max(1, Math.round(analysed.length / 60));
  const pts = buckets(f.run.records, per, ['soak'], fromT).filter((b) => b.requests > 0);
  /** A bucket's time: its middle, s. */
  const mid = (b: (typeof pts)[number]): number => b.start_s + b.duration_s / 2;
  const o = { alpha: p.alpha, minChange: p.minChange, minErrorChange: p.minErrorChange };
  const latX = pts.filter((b) => b.p99 !== null);
  const mem = pts.filter((b) => b.memory !== undefined);
  const drift: DriftMetric[] = [
    driftOf(
      'p50',
      'ms',
      latX.map(mid),
      latX.map((b) => b.p50!),
      o,
    ),
    driftOf(
      'p99',
      'ms',
      latX.map(mid),
      latX.map((b) => b.p99!),
      o,
    ),
    driftOf(
      'error_rate',
      'fraction',
      pts.map(mid),
      pts.map((b) => b.error_rate),
      o,
    ),
  ];
  if (mem.length >= 4)
    drift.push(
      driftOf(
        'memory',
        'MiB',
        mem.map(mid),
        mem.map((b) => b.memory! / 2 ** 20),
        o,
      ),
    );
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
  if (mem.length)
    curves.push({
      title: 'target memory',
      x_label: 'time (s)',
      y_label: 'MiB',
      points: mem.map((b) => [r3(b.start_s)!, r3(b.memory! / 2 ** 20)!] as [number, number]),
    });
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
    method: `OLS trend per ${secs(per * intervalS)} bucket after a ${secs(p.warmupMs / 1000)} warm-up; standard error from the effective sample size n(1−r)/(1+r) of the lag-1 autocorrelation r of the residuals (bias-corrected), t-test at α = ${o.alpha}; drift also needs a change of at least ${pct(o.minChange)} of the mean (latency, memory) or ${num(o.minErrorChange * 100)} pp (errors) over the run.`,
  });
}

export const soak: ProfileKind<'soak'> = { type: 'soak', expand: expandSoak, run: runSoak };
