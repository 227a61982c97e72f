/**
 * Progressive rollout: the candidate's share stepped up (e.g. 5 → 25 → 50 → 100%), each step run
 * and judged, the user's actions moving the traffic between steps. The run layer supplies
 * `runStep(share)` (it sends the load and returns what it measured); this module only decides.
 *
 * - pass: the `step` action runs with the next share (or, after the last step, `promote` with
 *   100%) and the rollout goes on;
 * - marginal: an intermediate step goes on like a pass (as Spinnaker's canary stage does); after
 *   the last step nothing is promoted or rolled back and the verdict is marginal;
 * - fail, or no data at all (inconclusive): the `rollback` action runs with the current share and
 *   the rollout stops;
 * - a `step` or `promote` action that fails stops the rollout as a fail (after running `rollback`);
 *   a failed rollback is reported, loudly, and the verdict stays fail.
 */
import type { CanaryResult, ComparisonVerdict } from '../../core/comparison.js';
import type { ActionPlan, CanaryPlan } from '../../plan/comparison.js';
import type { CanaryClassifier, ComparisonInput, Judgement } from '../types.js';
import { type ActionResult, runAction, sharePercent } from './actions.js';
import { canaryClassifierFor, judgeCanary } from './judge.js';

export type StepRecord = NonNullable<CanaryResult['steps']>[number];

export interface RolloutOptions {
  plan: CanaryPlan;
  /** Run the scenario with this candidate share (0–1) and return what was measured. */
  runStep: (share: number, index: number) => Promise<ComparisonInput>;
  classifier?: CanaryClassifier;
  /** The plan's secrets, redacted from action details. */
  secrets?: readonly string[];
  /** The candidate share when the plan lists no steps (the variants' weight split). */
  share?: number;
  /**
   * Called after each step is judged (and its action ran), with that step's judgement and the steps
   * so far in `result.steps` — e.g. for progress output, or `gate.update` of a gate server.
   */
  onStep?: (step: StepRecord, judgement: Judgement<CanaryResult>) => void;
  /** Runs the actions (tests may pass a recorder); default `runAction`. */
  act?: (action: ActionPlan, share: number, secrets: readonly string[]) => Promise<ActionResult>;
}

/** Drive the rollout; resolves with the last step's judgement, its `steps` filled in. */
export async function runRollout(opts: RolloutOptions): Promise<Judgement<CanaryResult>> {
  const { plan } = opts;
  const classifier = opts.classifier ?? canaryClassifierFor(plan);
  const secrets = opts.secrets ?? [];
  const act = opts.act ?? runAction;
  const shares = plan.steps.length > 0 ? plan.steps.map((s) => s.share) : [opts.share ?? 0.5];
  const steps: StepRecord[] = [];
  const notes: string[] = [];
  let last: Judgement<CanaryResult> | undefined;
  let verdict: ComparisonVerdict = 'inconclusive';

  const runNamed = async (name: 'step' | 'promote' | 'rollback', share: number): Promise<ActionResult | undefined> => {
    const action = plan.actions?.[name];
    if (!action) return undefined;
    return act(action, share, secrets);
  };

  const report = (record: StepRecord, j: Judgement<CanaryResult>) =>
    opts.onStep?.(record, { ...j, result: { ...j.result, steps: [...steps] } });

  for (let i = 0; i < shares.length; i++) {
    const share = shares[i];
    const j = judgeCanary(await opts.runStep(share, i), plan, classifier);
    last = j;
    const record: StepRecord = { share, score: j.result.score, classification: j.result.classification };
    steps.push(record);
    const at = `Step ${i + 1} of ${shares.length} (${sharePercent(share)}%)`;
    const isLast = i === shares.length - 1;
    const goOn = j.verdict === 'pass' || (j.verdict === 'marginal' && !isLast);
    if (goOn) {
      const [name, next] = isLast ? (['promote', 1] as const) : (['step', shares[i + 1]] as const);
      const r = await runNamed(name, next);
      if (r) record.action = `${name}: ${r.detail}`;
      notes.push(`${at} ${j.verdict === 'pass' ? 'passed' : 'was marginal and went on'} with score ${j.result.score}.`);
      if (r && !r.ok) {
        verdict = 'fail';
        notes.push(`The ${name} action to ${sharePercent(next)}% failed: ${r.detail}`);
        const rb = await runNamed('rollback', share);
        if (rb) {
          record.action += `; rollback: ${rb.detail}`;
          notes.push(rb.ok ? `Rolled back: ${rb.detail}` : `ROLLBACK FAILED: ${rb.detail}`);
        }
        report(record, j);
        break;
      }
      report(record, j);
      verdict = isLast ? 'pass' : verdict;
      continue;
    }
    if (j.verdict === 'marginal') {
      // Last step marginal: neither promoted nor rolled back; the gate decides.
      verdict = 'marginal';
      notes.push(`${at} was marginal with score ${j.result.score}: not promoted, not rolled back.`);
      report(record, j);
      break;
    }
    verdict = j.verdict;
    notes.push(
      j.verdict === 'inconclusive'
        ? `${at} had no data to judge; the rollout stopped.`
        : `${at} failed with score ${j.result.score}; the rollout stopped.`,
    );
    const rb = await runNamed('rollback', share);
    if (rb) {
      record.action = `rollback: ${rb.detail}`;
      notes.push(rb.ok ? `Rolled back: ${rb.detail}` : `ROLLBACK FAILED: ${rb.detail}`);
    }
    report(record, j);
    break;
  }
  if (!last) throw new Error('runRollout: no step was run');
  const summary =
    verdict === 'pass'
      ? `Rollout passed all ${shares.length} steps (${shares.map(sharePercent).join(' → ')}%).`
      : `Rollout ${verdict} after ${steps.length} of ${shares.length} steps.`;
  return {
    result: { ...last.result, steps },
    verdict,
    reasons: [summary, ...notes, ...last.reasons],
  };
}
