/**
 * replay: how does the service handle a recorded trace, at its timing?
 * Built from the `scenario:` template into the phases of one run; answered from its summary and
 * windows. Keys and defaults: src/plan/syntax.ts (PROFILE_FIELDS); rules: docs/profiles.md.
 */
import type { PlanOf } from '../../plan/types.js';
import { fromTemplate, planWith, type Expansion } from '../expand.js';
import { ms, num, secs } from '../harness.js';
import { done, latencyLine, runExpanded, timeCurve } from '../single.js';
import type { ProfileResult, ProfileRunOptions } from '../types.js';
import { timeline } from '../windows.js';
import type { ProfileKind } from './kind.js';

/** replay: one scenario with the replay executor. Thresholds over the whole run. */
export function expandReplay(plan: PlanOf<'replay'>): Expansion {
  const p = plan.profile;
  const s = fromTemplate(p.template, 'replay', { executor: 'replay', arrival: 'uniform', trace: p.trace });
  return { plan: planWith(plan, [s], plan.thresholds), phases: [{ name: 'replay', startS: 0, endS: 0 }] };
}

export async function runReplay(plan: PlanOf<'replay'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const f = await runExpanded(plan, opts, expandReplay(plan));
  const s = f.summary.scenarios['replay'];
  const points = timeline(f.run.records);
  const total = s.requests + s.unsent + s.cancelled;
  const answer = `Replayed ${num(total)} requests of ${p.trace.file.split('/').pop()} over ${secs(s.durationS)} at speed ${num(p.trace.speed)}×: ${latencyLine(s)}; on schedule: dispatch lag p99 ${ms(s.dispatch_lag_ms.p99)}, ${num(s.late)} late, ${num(s.unsent)} never sent.`;
  return done(f, plan, {
    type: 'replay',
    verdict: f.summary.thresholds.every((t) => t.ok) ? 'passed' : 'failed',
    answer,
    numbers: {
      requests: s.requests,
      speed: p.trace.speed,
      p50_ms: s.latency_ms.p50,
      p99_ms: s.latency_ms.p99,
      error_rate: s.error_rate,
      dispatch_lag_p99_ms: s.dispatch_lag_ms.p99,
      late: s.late,
      unsent: s.unsent,
    },
    curves: [
      timeCurve('scheduled vs completed per second', points, (w) => w.throughput, 'completed/s', 'completed'),
      timeCurve('p99 latency over time', points, (w) => w.p99, 'p99 (ms)'),
    ],
  });
}

export const replay: ProfileKind<'replay'> = { type: 'replay', expand: expandReplay, run: runReplay };
