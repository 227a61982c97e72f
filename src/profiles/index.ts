/** Test profiles: load, stress, soak, spike, burst, sweep, capacity, rollout, replay (docs/profiles.md). */
export { runProfile, formatAnswer } from './run-profile.js';
export type { ProfileAnswer, ProfileResult, ProfileRunOptions, Curve, Mark } from './types.js';
export { scaleProfile, stepPlan, scopedTo, fromTemplate } from './expand.js';
export { expand, stressRates, PROFILE_KINDS } from './kinds/index.js';
export type { ProfileKind } from './kinds/index.js';
export type { Expansion, Phase } from './expand.js';
export {
  breakingPoint,
  failureMode,
  recoveryTime,
  steadyState,
  kneedle,
  capacitySearch,
  driftOf,
  checkStep,
  quantile,
  FAILURE_RULE,
} from './analysis.js';
export type {
  BreakingPoint,
  FailureEvidence,
  FailureMode,
  Recovery,
  SteadyCheck,
  Knee,
  Probe,
  SearchState,
  DriftMetric,
  StepCheck,
} from './analysis.js';
export { measurementWindows } from './steps.js';
export { timeline, buckets, mergePoint, summarizeRecords, scenarioRecords } from './windows.js';
export type { WindowPoint } from './windows.js';
export { MemorySampler, parseVmRss, parsePrometheusMetric } from './memory.js';
export { runAction } from './action.js';
export type { ActionResult } from './action.js';
