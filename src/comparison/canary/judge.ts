/**
 * Judging one canary comparison with the plan's classifier (or one given), scored as Kayenta scores.
 */
import type { CanaryResult } from '../../core/comparison.js';
import type { CanaryPlan } from '../../plan/comparison.js';
import type { CanaryClassifier, ComparisonInput, Judgement } from '../types.js';
import { defaultCanaryMetrics } from './defaults.js';
import { kayentaClassifier } from './kayenta.js';
import { preflightClassifier } from './preflight-classifier.js';
import { scoreCanary } from './score.js';
/** Whether the run scored answers against labels (accuracy can be judged). */
export function hasLabels(input: ComparisonInput): boolean {
  return input.control.scored !== undefined || input.candidate.scored !== undefined;
}

/** The classifier a plan asks for. */
export function canaryClassifierFor(plan: CanaryPlan): CanaryClassifier {
  if (plan.judge === 'kayenta') return kayentaClassifier;
  return preflightClassifier;
}

/**
 * Judge one canary comparison: the plan's metrics (or `defaultCanaryMetrics`), classified by
 * `classifier` (default: the plan's judge), scored as Kayenta scores. The verdict is the score's
 * class, or `inconclusive` when no metric had any data.
 */
export function judgeCanary(
  input: ComparisonInput,
  plan: CanaryPlan,
  classifier: CanaryClassifier = canaryClassifierFor(plan),
): Judgement<CanaryResult> {
  const metrics = plan.metrics.length > 0 ? plan.metrics : defaultCanaryMetrics(hasLabels(input));
  const { result, noData, reasons } = scoreCanary(input, plan, metrics, classifier);
  if (noData) {
    return {
      result,
      verdict: 'inconclusive',
      reasons: [
        `No canary metric had data (control ${input.control.requests} requests, candidate ${input.candidate.requests}): nothing to judge.`,
        ...reasons,
      ],
    };
  }
  return { result, verdict: result.classification, reasons };
}
