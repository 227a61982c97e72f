/**
 * `preflight check`: runs a plan's `checks:` (no load) and writes a results folder through the one
 * writer — summary.json (`summary.checks`), plan.resolved.json; the reports are rendered from it like
 * a run's. Thresholds on check figures are judged; the one decider gives the verdict and exit code.
 */
import type { CheckResult } from '../core/checks.js';
import type { ExitCode } from '../core/exit-codes.js';
import type { Summary } from '../core/results.js';
import { runChecks } from '../checks/index.js';
import { redact, redactError, redactPlan } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import { evaluateThresholds } from '../verdict/index.js';
import { assembleChecksSummary, settleOutcome } from './assemble.js';
import { defaultOutDir, ResultsWriter } from './results-writer.js';

export interface CheckRunOptions {
  outDir?: string;
  /** Ctrl-C: the running check stops, what ran is kept, verdict `interrupted`. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  onResult?: (r: CheckResult) => void;
}

export interface CheckRunResult {
  summary: Summary;
  outDir: string;
  exitCode: ExitCode;
}

export async function runCheckPlan(plan: Plan, opts: CheckRunOptions = {}): Promise<CheckRunResult> {
  try {
    const outDir = opts.outDir ?? defaultOutDir();
    const writer = new ResultsWriter(outDir, (s) => redact(s, plan.secrets));
    try {
      writer.writeJson('plan.resolved.json', redactPlan(plan));
      const startedAt = new Date();
      const t0 = performance.now();
      const checks = await runChecks(plan, {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.log ? { log: opts.log } : {}),
        ...(opts.onResult ? { onResult: opts.onResult } : {}),
      });
      const summary = assembleChecksSummary(
        plan,
        checks,
        startedAt,
        performance.now() - t0,
        Boolean(opts.signal?.aborted),
      );
      // Only thresholds on check figures: a load metric has nothing to read without a load.
      summary.thresholds = evaluateThresholds(
        plan.thresholds.filter((t) => t.check !== undefined),
        summary,
      );
      const skipped = plan.thresholds.filter((t) => t.check === undefined).map((t) => t.expression);
      if (skipped.length > 0)
        summary.warnings.push(
          `not judged without a load: ${skipped.join(', ')} (preflight check judges thresholds on check figures; preflight run judges all)`,
        );
      const outcome = settleOutcome(summary);
      writer.finish(summary);
      return { summary, outDir, exitCode: outcome.exitCode };
    } finally {
      writer.close();
    }
  } catch (e) {
    throw redactError(e, plan.secrets);
  }
}
