import type { PlanOf, ProfileType } from '../../plan/types.js';
import type { Expansion } from '../expand.js';
import type { ProfileResult, ProfileRunOptions } from '../types.js';

/**
 * One profile kind, behind one interface (as k6 keeps an executor): how its plan becomes what
 * runs, and how it runs and answers. Its keys, defaults and validation are in src/plan/ (plan may
 * not import profiles); its report section is its answer (numbers, curves, marks), which
 * src/report/profiles.ts renders for every kind alike. A new kind adds a module here and an entry
 * in the registry (./index.ts).
 */
export interface ProfileKind<T extends ProfileType = ProfileType> {
  readonly type: T;
  /** Single-run kinds: the scenarios of the one run. Multi-run kinds (sweep, capacity) build a plan per step. */
  expand?(plan: PlanOf<T>): Expansion;
  /** Runs the profile, writes the results folder with the answer, and returns it with the exit code. */
  run(plan: PlanOf<T>, opts: ProfileRunOptions): Promise<ProfileResult>;
}

/**
 * A kind of any type, as the registry hands it out. Not `ProfileKind<ProfileType>`: TypeScript
 * measures a generic's variance (invariant here), while a plain interface is compared member by
 * member, methods bivariantly — so every `ProfileKind<T>` is one of these.
 */
export interface AnyProfileKind {
  readonly type: ProfileType;
  expand?(plan: PlanOf<ProfileType>): Expansion;
  run(plan: PlanOf<ProfileType>, opts: ProfileRunOptions): Promise<ProfileResult>;
}
