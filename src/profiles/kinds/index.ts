/** The profile kinds, one module each, by `profile.type`. */
import type { Plan, PlanOf, ProfileType } from '../../plan/types.js';
import type { Expansion } from '../expand.js';
import { burst } from './burst.js';
import { autoscale } from './autoscale.js';
import { capacity } from './capacity.js';
import type { AnyProfileKind, ProfileKind } from './kind.js';
import { load } from './load.js';
import { replay } from './replay.js';
import { resilience } from './resilience.js';
import { rollout } from './rollout.js';
import { soak } from './soak.js';
import { spike } from './spike.js';
import { stress } from './stress.js';
import { sweep } from './sweep.js';

export type { AnyProfileKind, ProfileKind } from './kind.js';
export { expandLoad } from './load.js';
export { expandStress, stressRates } from './stress.js';
export { expandSoak } from './soak.js';
export { expandSpike } from './spike.js';
export { expandBurst, burstWarmupMs } from './burst.js';
export { expandRollout } from './rollout.js';
export { expandReplay } from './replay.js';
export { expandResilience } from './resilience.js';
export { expandAutoscale, autoscaleNumbers, changesOf, countSeries } from './autoscale.js';

/** Every kind, keyed by its type: the compiler checks that each ProfileType has one. */
export const PROFILE_KINDS: { readonly [T in ProfileType]: ProfileKind<T> } = {
  load,
  stress,
  soak,
  spike,
  burst,
  sweep,
  capacity,
  rollout,
  replay,
  resilience,
  autoscale,
};

/** The scenarios of one run, for a single-run profile (load, stress, soak, spike, burst, rollout, replay). */
export function expand(plan: Plan): Expansion {
  // A kind takes a plan of its own type; the registry is keyed by that type, so this one cast is sound.
  const kind: AnyProfileKind | undefined = plan.profile ? PROFILE_KINDS[plan.profile.type] : undefined;
  if (!kind?.expand) throw new Error(`profile ${plan.profile?.type ?? '(none)'} is not a single-run profile`);
  return kind.expand(plan as PlanOf<ProfileType>);
}
