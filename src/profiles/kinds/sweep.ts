/**
 * sweep: throughput and latency per level (rates or concurrencies), each step measured until
 * steady.
 * One run() per step (src/profiles/steps.ts); the answer is written to the top-level results
 * folder. Keys and defaults: src/plan/syntax.ts (PROFILE_FIELDS); rules: docs/profiles.md.
 */
import path from 'node:path';
import type { ThresholdResult } from '../../core/results.js';
import type { PlanOf } from '../../plan/types.js';
import { defaultOutDir } from '../../run/index.js';
import { checkStep, kneedle } from '../analysis.js';
import { finishSummary, ms, pct, rate, secs } from '../harness.js';
import { levelText, listText, runStep, writeTopLevel, type StepOutcome } from '../steps.js';
import type { Curve, ProfileAnswer, ProfileResult, ProfileRunOptions } from '../types.js';
import type { ProfileKind } from './kind.js';

export async function runSweep(plan: PlanOf<'sweep'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const rule = p.steady;
  const outDir = opts.outDir ?? defaultOutDir();
  const levels = p.levels;
  const steps: StepOutcome[] = [];
  for (const [i, value] of levels.values.entries()) {
    if (opts.signal?.aborted) break;
    const level = { mode: levels.mode, value };
    opts.log?.(
      `sweep step ${i + 1}/${levels.values.length}: ${levelText(level)} (until steady, at most ${secs(rule.maxStepMs / 1000)})`,
    );
    const s = await runStep(plan, i, level, rule, outDir, opts);
    steps.push(s);
    const m = s.measuredSummary;
    opts.log?.(
      `  ${s.steady.steady ? 'steady' : s.interrupted ? 'interrupted' : 'NOT steady'} after ${secs(s.summary.durationS)}: throughput ${rate(m.throughput)}, p50 ${ms(m.latency_ms.p50)}, p99 ${ms(m.latency_ms.p99)}, errors ${pct(m.error_rate)}`,
    );
    if (s.interrupted) break;
  }
  const interrupted = steps.some((s) => s.interrupted) || Boolean(opts.signal?.aborted);
  const rows = steps.map((s) => {
    const m = s.measuredSummary;
    const c = plan.thresholds.length ? checkStep(plan.thresholds, m) : null;
    return {
      step: s.index + 1,
      level: s.level.value,
      mode: levels.mode,
      throughput: m.throughput,
      p50_ms: m.latency_ms.p50,
      p90_ms: m.latency_ms.p90,
      p99_ms: m.latency_ms.p99,
      error_rate: m.error_rate,
      stable: s.steady.steady,
      throughput_spread: s.steady.throughput_spread,
      p99_spread: s.steady.p99_spread,
      duration_s: s.summary.durationS,
      ...(c ? { meets_slo: c.ok, failed: c.reasons } : {}),
      dir: path.relative(outDir, s.dir),
    };
  });
  const knee = kneedle(rows.map((r) => ({ x: r.throughput, y: r.p99_ms })));
  const kneeRow = knee.index >= 0 ? rows[knee.index] : null;
  const maxT = rows.length ? Math.max(...rows.map((r) => r.throughput)) : null;
  const meeting = rows.filter((r) => r.meets_slo === true);
  const unstable = rows.filter((r) => !r.stable && !(interrupted && r === rows[rows.length - 1]));
  const lv = (r: (typeof rows)[number]): number => r.level;
  const lvText = (x: number): string => levelText({ mode: levels.mode, value: x });
  const parts: string[] = [];
  if (rows.length) {
    parts.push(
      `Throughput goes from ${rate(rows[0].throughput)} to ${rate(maxT)} (max) as the load goes from ${lvText(lv(rows[0]))} to ${lvText(lv(rows[rows.length - 1]))}.`,
    );
    parts.push(
      kneeRow
        ? `The knee is at ${lvText(lv(kneeRow))}: throughput ${rate(kneeRow.throughput)}, p99 ${ms(kneeRow.p99_ms)}; beyond it latency rises faster than throughput.`
        : 'No knee within the sweep: latency does not bend up against throughput.',
    );
    if (plan.thresholds.length)
      parts.push(
        meeting.length
          ? `Highest level meeting the thresholds: ${lvText(lv(meeting[meeting.length - 1]))} (${rate(meeting[meeting.length - 1].throughput)}).`
          : 'No level meets the thresholds.',
      );
    if (unstable.length)
      parts.push(
        `${unstable.length === 1 ? 'Step' : 'Steps'} ${listText(unstable.map((r) => String(r.step)))} never stabilised within ${secs(rule.maxStepMs / 1000)}: reported from the last windows.`,
      );
  } else parts.push('No step ran.');
  const thresholds: ThresholdResult[] = [];
  const top = writeTopLevel(plan, outDir, steps, thresholds, interrupted);
  const curves: Curve[] = [
    {
      title: 'throughput–latency',
      x_label: 'throughput (/s)',
      y_label: 'latency (ms)',
      series: [
        { name: 'p50', points: rows.map((r) => [r.throughput, r.p50_ms] as [number, number]) },
        { name: 'p99', points: rows.map((r) => [r.throughput, r.p99_ms] as [number, number]) },
      ],
    },
    {
      title: 'throughput per level',
      x_label: levels.mode === 'rate' ? 'offered rate (/s)' : 'concurrency',
      y_label: 'throughput (/s)',
      points: rows.map((r) => [lv(r), r.throughput] as [number, number]),
    },
  ];
  const answer: ProfileAnswer = {
    type: 'sweep',
    verdict: rows.length ? 'passed' : 'inconclusive',
    answer: parts.join(' '),
    numbers: {
      [levels.mode === 'rate' ? 'knee_rate' : 'knee_concurrency']: kneeRow ? lv(kneeRow) : null,
      knee_throughput: kneeRow?.throughput ?? null,
      knee_p99_ms: kneeRow?.p99_ms ?? null,
      max_throughput: maxT,
      steps: rows.length,
      unstable_steps: unstable.length,
      ...(plan.thresholds.length
        ? { highest_level_meeting_slo: meeting.length ? lv(meeting[meeting.length - 1]) : null }
        : {}),
    },
    curves,
    marks: top.marks,
    steps: rows,
    knee: { ...knee, method: 'Kneedle: max of normalised throughput − normalised p99, points in order of load' },
  };
  if (interrupted) answer.answer = `Interrupted — partial answer: ${answer.answer}`;
  const fin = finishSummary(top.summary, outDir, plan, answer);
  return { summary: fin.summary, outDir, exitCode: fin.exitCode, answer };
}

export const sweep: ProfileKind<'sweep'> = { type: 'sweep', run: runSweep };
