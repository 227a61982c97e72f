import type { Plan, ProfileType } from '../../plan/types.js';
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
  readonly expand?: (plan: Plan) => Expansion;
  /** Runs the profile, writes the results folder with the answer, and returns it with the exit code. */
  readonly run: (plan: Plan, opts: ProfileRunOptions) => Promise<ProfileResult>;
}
