/**
 * Preflight's canary verdict in the forms rollout controllers understand (docs/release-comparisons.md
 * "Argo Rollouts and Flagger"):
 * - Argo Rollouts' Job metric provider reads the process exit code: a Job that exits 0 is a
 *   successful measurement, any other exit a failed one (a Job cannot report "inconclusive");
 * - Argo's Web provider reads JSON (`gateAnswer`), judged by the AnalysisTemplate's
 *   `successCondition` / `failureCondition`; when neither holds Argo marks the measurement
 *   Inconclusive and pauses the rollout for a person;
 * - Flagger's webhooks go on for any 2xx answer and count anything else as a failed check
 *   (`flaggerStatus`).
 */
import type { CanaryResult, ComparisonVerdict } from '../../core/comparison.js';
import { ExitCode } from '../../core/exit-codes.js';
import type { Judgement } from '../types.js';

export interface GateOptions {
  /** Let a marginal verdict through (exit 0 / HTTP 200). Default false: marginal stops the rollout. */
  marginalPasses?: boolean;
}

/**
 * Exit code of a canary judgement for Argo's Job provider and CI: pass 0; fail 3 (as a failed
 * threshold); inconclusive 4 (no data: the results cannot be trusted), which Argo counts as a
 * failed measurement — allow it with `failureLimit` ≥ 1 to re-measure; marginal 3 unless
 * `marginalPasses`.
 */
export function canaryExitCode(verdict: ComparisonVerdict, opts: GateOptions = {}): ExitCode {
  if (verdict === 'pass') return ExitCode.Passed;
  if (verdict === 'marginal') return opts.marginalPasses ? ExitCode.Passed : ExitCode.ThresholdsFailed;
  if (verdict === 'inconclusive') return ExitCode.RunInvalid;
  return ExitCode.ThresholdsFailed;
}

/** The JSON Argo's Web provider (and anyone else) reads: `result.verdict == "pass"` is the success condition. */
export interface GateAnswer {
  verdict: ComparisonVerdict;
  /** Whether a rollout may go on (pass, or marginal with `marginalPasses`). */
  proceed: boolean;
  score: number;
  classification: 'pass' | 'marginal' | 'fail';
  thresholds: { pass: number; marginal: number };
  judge: CanaryResult['judge'];
  /** Candidate share of the step judged last (0–1), with a progressive rollout. */
  share?: number;
  step?: number;
  metrics: Array<{ name: string; classification: string; critical: boolean; reason?: string }>;
  reasons: string[];
  /** When this judgement was made (ISO 8601). */
  judgedAt: string;
}

export function gateAnswer(j: Judgement<CanaryResult>, judgedAt: Date, opts: GateOptions = {}): GateAnswer {
  const steps = j.result.steps ?? [];
  const last = steps[steps.length - 1];
  return {
    verdict: j.verdict,
    proceed: j.verdict === 'pass' || (j.verdict === 'marginal' && opts.marginalPasses === true),
    score: j.result.score,
    classification: j.result.classification,
    thresholds: j.result.thresholds,
    judge: j.result.judge,
    ...(last ? { share: last.share, step: steps.length } : {}),
    metrics: j.result.metrics.map((m) => ({
      name: m.name,
      classification: m.classification,
      critical: m.critical,
      ...(m.reason ? { reason: m.reason } : {}),
    })),
    reasons: j.reasons,
    judgedAt: judgedAt.toISOString(),
  };
}

/**
 * HTTP status for Flagger's webhooks (2xx = go on): pass 200; marginal 409 (200 with
 * `marginalPasses`); fail 412; inconclusive 503 (Flagger retries, counting a failed check).
 */
export function flaggerStatus(verdict: ComparisonVerdict, opts: GateOptions = {}): number {
  if (verdict === 'pass') return 200;
  if (verdict === 'marginal') return opts.marginalPasses ? 200 : 409;
  if (verdict === 'fail') return 412;
  return 503;
}
