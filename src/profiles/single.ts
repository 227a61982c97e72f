/**
 * What the single-run profile kinds (load, stress, soak, spike, burst, rollout, replay; one module
 * each in src/profiles/kinds/) share: run the expansion with the kind's live hooks, finish the
 * answer (target memory, interruption) and write it, and the curve and text helpers.
 */
import type { ScenarioSummary, Summary } from '../core/results.js';
import type { MemorySource, Plan } from '../plan/types.js';
import { profileWarnings } from '../run/index.js';
import type { Expansion, Phase } from './expand.js';
import { finishSummary, ms, pct, r3, rate, runSingle, type SingleHooks, type SingleRun } from './harness.js';
import type { Curve, Mark, ProfileAnswer, ProfileResult, ProfileRunOptions } from './types.js';
import type { WindowPoint } from './windows.js';

export const timeCurve = (
  title: string,
  points: readonly WindowPoint[],
  pick: (p: WindowPoint) => number | null,
  yLabel: string,
  name = yLabel,
): Curve => ({
  title,
  x_label: 'time (s)',
  y_label: yLabel,
  series: [
    {
      name,
      points: points.filter((p) => pick(p) !== null).map((p) => [r3(p.start_s)!, r3(pick(p))!] as [number, number]),
    },
  ],
});

/** Per-window p99 and, when known, the recovery limit a window must meet (spike, resilience). */
export const recoveryCurve = (points: readonly WindowPoint[], limitP99: number | null): Curve => ({
  title: 'p99 per window and the recovery limit',
  x_label: 'time (s)',
  y_label: 'p99 (ms)',
  series: [
    {
      name: 'p99',
      points: points.filter((w) => w.p99 !== null).map((w) => [r3(w.start_s)!, w.p99!] as [number, number]),
    },
    ...(limitP99 !== null
      ? [{ name: 'recovery limit', points: points.map((w) => [r3(w.start_s)!, limitP99] as [number, number]) }]
      : []),
  ],
});

export const phaseMarks = (phases: readonly Phase[], label: (p: Phase) => string): Mark[] =>
  phases.map((p) => ({ t_s: p.startS, label: label(p) }));

export function latencyLine(s: ScenarioSummary | undefined): string {
  if (!s || s.requests === 0) return 'no requests completed';
  return `p50 ${ms(s.latency_ms.p50)}, p99 ${ms(s.latency_ms.p99)}, errors ${pct(s.error_rate)}, throughput ${rate(s.throughput)}`;
}

export function thresholdsText(plan: Plan): string {
  return plan.thresholds.length ? plan.thresholds.map((t) => t.expression).join(', ') : 'no thresholds';
}

/** The target memory a single-run kind samples, if the plan asks for it. */
function memoryOf(plan: Plan): MemorySource | undefined {
  const p = plan.profile;
  return p && 'memory' in p ? p.memory : undefined;
}

export interface Finished {
  run: SingleRun;
  expansion: Expansion;
  summary: Summary;
}

export async function runExpanded(
  plan: Plan,
  opts: ProfileRunOptions,
  expansion: Expansion,
  hooks: SingleHooks = {},
): Promise<Finished> {
  const run = await runSingle(expansion.plan, memoryOf(plan), opts, hooks);
  return { run, expansion, summary: run.result.summary };
}

export function done(
  f: Finished,
  plan: Plan,
  answer: ProfileAnswer,
  judge?: (summary: Summary) => void,
): ProfileResult {
  if (f.run.memory) {
    answer.memory = f.run.memory;
    answer.numbers['memory_last_mib'] = r3(f.run.memory.last_bytes / 2 ** 20);
  } else {
    const m = memoryOf(plan);
    if (m)
      f.summary.warnings.push(
        ...profileWarnings({
          memoryUnsampled: { failures: f.run.memoryFailures, from: m.url ?? m.pidFile ?? `pid ${m.pid}` },
        }),
      );
  }
  if (f.summary.status === 'interrupted') answer.answer = `Interrupted — partial answer: ${answer.answer}`;
  const { summary, exitCode } = finishSummary(f.summary, f.run.result.outDir, plan, answer, f.run.memory, judge);
  return { summary, outDir: f.run.result.outDir, exitCode, answer };
}
