/**
 * Progressive rollout: the candidate's share stepped up (e.g. 5 → 25 → 50 → 100%), each step judged,
 * the user's actions moving the traffic between steps. The one owner of the step rules: the run
 * (src/run) sends the load, judges each step as its windows come in, and does what `decideStep` says.
 *
 * - pass: the `step` action runs with the next share (or, after the last step, `promote` with
 *   100%) and the rollout goes on;
 * - marginal: an intermediate step goes on like a pass (as Spinnaker's canary stage does); after
 *   the last step nothing is promoted or rolled back and the verdict is marginal;
 * - fail, or no data at all (inconclusive): the `rollback` action runs with the current share and
 *   the rollout stops;
 * - a `step` or `promote` action that fails stops the rollout as a fail (after running `rollback`,
 *   `actionFailed`); a failed rollback is reported, loudly, and the verdict stays fail.
 */
import type { CanaryResult } from '../../core/comparison.js';
import type { Judgement } from '../types.js';

export type StepRecord = NonNullable<CanaryResult['steps']>[number];

/** What a judged step asks for. */
export type StepDecision =
  /** Go on: run `action` with `share` (the next step's, or 1 for promote). */
  | { kind: 'advance'; action: 'step' | 'promote'; share: number }
  /** The last step was marginal: neither promoted nor rolled back; the gate decides. */
  | { kind: 'hold' }
  /** Stop the rollout with `verdict`, after the rollback action at the step's own share. */
  | { kind: 'stop'; verdict: 'fail' | 'inconclusive'; action: 'rollback'; share: number };

/** The decision after step `index` (of the plan's `shares`) was judged `j`. */
export function decideStep(j: Judgement<CanaryResult>, shares: readonly number[], index: number): StepDecision {
  const last = index === shares.length - 1;
  if (j.verdict === 'pass' || (j.verdict === 'marginal' && !last))
    return last
      ? { kind: 'advance', action: 'promote', share: 1 }
      : { kind: 'advance', action: 'step', share: shares[index + 1] };
  if (j.verdict === 'marginal') return { kind: 'hold' };
  return {
    kind: 'stop',
    verdict: j.verdict === 'inconclusive' ? 'inconclusive' : 'fail',
    action: 'rollback',
    share: shares[index],
  };
}

/** A `step` or `promote` action after step `index` failed: a fail, rolled back at the step's share. */
export function actionFailed(shares: readonly number[], index: number): StepDecision {
  return { kind: 'stop', verdict: 'fail', action: 'rollback', share: shares[index] };
}
