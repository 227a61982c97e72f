/**
 * A/B judge: per metric an effect estimate, interval, p-value and power; corrected for several
 * metrics; underpowered = inconclusive.
 */
import type { AbResult } from '../core/comparison.js';
import type { AbPlan } from '../plan/comparison.js';
import type { ComparisonInput, Judgement } from './types.js';

export function judgeAb(input: ComparisonInput, plan: AbPlan): Judgement<AbResult> {
  return {
    result: { tests: [], alpha: plan.alpha, correction: plan.correction, paired: input.paired !== undefined },
    verdict: 'inconclusive',
    reasons: ['A/B statistics not implemented yet'],
  };
}
