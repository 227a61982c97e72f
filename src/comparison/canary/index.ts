/**
 * Canary judge: each configured metric classified (High / Low / Pass / NoData) by a classifier —
 * Preflight's own by default, or Kayenta's NetflixACAJudge — then scored per group into 0–100 and
 * pass / marginal / fail.
 */
import type { CanaryResult } from '../../core/comparison.js';
import type { CanaryPlan } from '../../plan/comparison.js';
import type { ComparisonInput, Judgement } from '../types.js';

export function judgeCanary(_input: ComparisonInput, plan: CanaryPlan): Judgement<CanaryResult> {
  return {
    result: {
      judge: plan.judge,
      score: 0,
      thresholds: plan.thresholds,
      classification: 'fail',
      metrics: [],
      groups: {},
    },
    verdict: 'inconclusive',
    reasons: ['canary judge not implemented yet'],
  };
}
