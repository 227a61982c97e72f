/**
 * `runProfile(plan)`: the entry point for plans with a `profile:` section. Single-run profiles
 * (load, stress, soak, spike, burst, rollout, replay) expand into the scenarios of one run();
 * sweep and capacity run one run() per step. Either way the results folder holds a summary.json
 * whose `profiles.<type>` is the answer, and the exit code follows the profile's verdict. Each
 * kind is one module in src/profiles/kinds/.
 */
import { PreflightError } from '../core/errors.js';
import type { Plan } from '../plan/types.js';
import { PROFILE_KINDS, type AnyProfileKind } from './kinds/index.js';
import type { ProfileResult, ProfileRunOptions } from './types.js';

export async function runProfile(plan: Plan, opts: ProfileRunOptions = {}): Promise<ProfileResult> {
  const p = plan.profile;
  if (!p)
    throw new PreflightError('E_ARGS', 'runProfile: the plan has no profile (use run() for plans with scenarios)');
  // The registry is keyed by the profile's type, so the kind takes this plan.
  const kind: AnyProfileKind = PROFILE_KINDS[p.type];
  return kind.run({ ...plan, profile: p }, opts);
}

/** The answer as plain text lines for a terminal or a log: the sentence, then the headline numbers. */
export function formatAnswer(answer: {
  type: string;
  verdict: string;
  answer: string;
  numbers: Record<string, unknown>;
}): string[] {
  const lines = [`profile ${answer.type}: ${answer.answer}`];
  const nums = Object.entries(answer.numbers).filter(([, v]) => v !== null && v !== undefined);
  if (nums.length)
    lines.push(
      `  ${nums.map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(6)) : String(v)}`).join('  ')}`,
    );
  lines.push(`  profile verdict: ${answer.verdict}`);
  return lines;
}
