/**
 * `runProfile(plan)`: the entry point for plans with a `profile:` section. Single-run profiles
 * (load, stress, soak, spike, burst, rollout, replay) expand into the scenarios of one run();
 * sweep and capacity run one run() per step. Either way the results folder holds a summary.json
 * whose `profiles.<type>` is the answer, and the exit code follows the profile's verdict.
 */
import { PreflightError } from '../core/errors.js';
import type { Plan } from '../plan/types.js';
import { runBurst, runLoad, runReplay, runRollout, runSoak, runSpike, runStress } from './single.js';
import { runCapacity, runSweep } from './steps.js';
import type { ProfileResult, ProfileRunOptions } from './types.js';

export async function runProfile(plan: Plan, opts: ProfileRunOptions = {}): Promise<ProfileResult> {
  const p = plan.profile;
  if (!p) throw new PreflightError('E_ARGS', 'runProfile: the plan has no profile (use run() for plans with scenarios)');
  switch (p.type) {
    case 'load':
      return runLoad(plan, opts);
    case 'stress':
      return runStress(plan, opts);
    case 'soak':
      return runSoak(plan, opts);
    case 'spike':
      return runSpike(plan, opts);
    case 'burst':
      return runBurst(plan, opts);
    case 'rollout':
      return runRollout(plan, opts);
    case 'replay':
      return runReplay(plan, opts);
    case 'sweep':
      return runSweep(plan, opts);
    case 'capacity':
      return runCapacity(plan, opts);
  }
}

/** The answer as plain text lines for a terminal or a log: the sentence, then the headline numbers. */
export function formatAnswer(answer: { type: string; verdict: string; answer: string; numbers: Record<string, unknown> }): string[] {
  const lines = [`profile ${answer.type}: ${answer.answer}`];
  const nums = Object.entries(answer.numbers).filter(([, v]) => v !== null && v !== undefined);
  if (nums.length) lines.push(`  ${nums.map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(6)) : String(v)}`).join('  ')}`);
  lines.push(`  profile verdict: ${answer.verdict}`);
  return lines;
}
