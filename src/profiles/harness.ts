/**
 * Running a single-run profile: expand, run() with the profile's live hooks (target memory in every
 * window, early stop, the rollout action at its time), keep the windows it writes, and write the
 * summary with the answer. Also the number formatting the answers share.
 */
import path from 'node:path';
import { ensureDirOrThrow } from '../core/output-path.js';
import type { ExitCode } from '../core/exit-codes.js';
import type { IntervalRecord, Summary } from '../core/results.js';
import { redact } from '../plan/index.js';
import type { MemorySource, Plan } from '../plan/types.js';
import { run, settleOutcome, type RunResult } from '../run/index.js';
import { jsonFileText, writeFileAtomicSync } from '../core/results-files.js';
import { MemorySampler, type MemoryStats } from './memory.js';
import type { ProfileAnswer, ProfileRunOptions } from './types.js';

/** Writes a JSON file atomically (the results folder's one writer primitive), secrets redacted. */
export function writeJsonFile(file: string, value: unknown, secrets: readonly string[]): void {
  ensureDirOrThrow(path.dirname(file)); // not mkdir({ recursive }): it spins forever under /proc
  writeFileAtomicSync(file, redact(jsonFileText(value), [...secrets]));
}

/** Puts the answer into the summary (and the verdict it implies) and rewrites summary.json. */
export function finishSummary(
  summary: Summary,
  outDir: string,
  plan: Plan,
  answer: ProfileAnswer,
  memory?: MemoryStats,
  judge?: (summary: Summary) => void,
): { summary: Summary; exitCode: ExitCode } {
  if (judge) {
    // Thresholds on the answer itself (resilience.recovery_s) read it from the summary.
    summary.profiles = { ...(summary.profiles ?? {}), [answer.type]: answer };
    judge(summary);
  }
  if (summary.status === 'interrupted') answer.verdict = 'inconclusive';
  const failedThresholds = summary.thresholds.filter((t) => !t.ok);
  if (failedThresholds.length > 0 && answer.verdict !== 'failed' && summary.status !== 'interrupted') {
    answer.verdict = 'failed';
    answer.answer += ` Thresholds failed: ${failedThresholds.map((t) => t.expression).join(', ')}.`;
  }
  // Sweeps, stress and capacity searches answer where the target's time goes as load grows (monitor:).
  if (summary.bottleneck && ['sweep', 'stress', 'capacity'].includes(answer.type)) {
    answer.answer += ` Inside the target: ${summary.bottleneck.text}`;
    answer.numbers['queue_dominated_from_rate'] = summary.bottleneck.queue_dominated_from;
    answer['bottleneck'] = summary.bottleneck;
  }
  summary.profiles = { ...(summary.profiles ?? {}), [answer.type]: answer };
  if (memory) {
    summary.target_memory = {
      source: memory.source,
      samples: memory.samples,
      first_bytes: memory.first_bytes,
      last_bytes: memory.last_bytes,
      min_bytes: memory.min_bytes,
      max_bytes: memory.max_bytes,
    };
  }
  const { exitCode } = settleOutcome(summary, { profileFailed: answer.verdict === 'failed' });
  writeJsonFile(path.join(outDir, 'summary.json'), summary, plan.secrets);
  return { summary, exitCode };
}

export interface SingleHooks {
  /** Load started: `t0` is performance.now() at t = 0 of the run's timeline. */
  onStart?: (t0: number, stop: (reason: string) => void) => void;
  /** A merged window's records (scenario level and groups). */
  onWindow?: (records: IntervalRecord[], stop: (reason: string) => void) => void;
}

export interface SingleRun {
  result: RunResult;
  records: IntervalRecord[];
  memory?: MemoryStats;
  memoryFailures: number;
  /** performance.now() at t = 0 (NaN when the run never started). */
  t0: number;
}

/** run() of an expanded plan with the profile's memory sampling and live hooks. */
export async function runSingle(
  plan: Plan,
  memory: MemorySource | undefined,
  opts: ProfileRunOptions,
  hooks: SingleHooks = {},
): Promise<SingleRun> {
  const stopper = new AbortController();
  const stop = (reason: string): void => {
    if (!stopper.signal.aborted) stopper.abort(reason);
  };
  const sampler = memory ? new MemorySampler(memory, plan.target.tls) : null;
  let t0 = NaN;
  // Every window run() writes passes decorateWindow (onWindow misses the ones flushed at the end):
  // the profile analyses these records instead of reading intervals.ndjson back.
  const collected: IntervalRecord[] = [];
  try {
    const result = await run(plan, {
      outDir: opts.outDir,
      signal: opts.signal,
      onProgress: opts.onProgress,
      skipTargetCheck: opts.skipTargetCheck,
      faultInjector: opts.faultInjector,
      log: opts.log,
      stop: stopper.signal,
      onStart: (t) => {
        t0 = t;
        sampler?.start(plan.options.intervalMs);
        hooks.onStart?.(t, stop);
        opts.onStart?.(t);
      },
      decorateWindow: (records) => {
        const m = sampler?.latest();
        if (m !== undefined) for (const r of records) if (r.group === undefined) r.target_memory_bytes = m;
        collected.push(...records);
      },
      onWindow:
        hooks.onWindow || opts.onWindow
          ? (records) => {
              hooks.onWindow?.(records, stop);
              opts.onWindow?.(records);
            }
          : undefined,
    });
    sampler?.stop();
    return { result, records: collected, memory: sampler?.stats(), memoryFailures: sampler?.failures ?? 0, t0 };
  } finally {
    sampler?.stop();
  }
}

// ---- numbers in words (the one formatter, src/core/format.ts) --------------------------------

export {
  fmtNum as num,
  fmtMillis as ms,
  fmtPct as pct,
  fmtRate as rate,
  fmtSeconds as secs,
} from '../core/format.js';
export const r3 = (x: number | null | undefined): number | null =>
  x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000;
