export { run, type RunOptions, type RunResult, type ShardSource } from './run.js';
export {
  assembleStepsSummary,
  profileWarnings,
  settleOutcome,
  type ProfileEvents,
  type StepRecord,
  type StepsState,
} from './assemble.js';
export { plannedEndMs, type ProgressUpdate, type ScenarioProgress } from './progress.js';
export { defaultOutDir } from './results-writer.js';
export { prepareOutDir, ResultsWriteError, RESULT_FILES } from './results-writer.js';
export { checkOffline, offlineProblems } from './check-offline.js';
export { plannedPerVariant, plannedSampleSizes } from './comparison.js';
export { aimAtProxy, type FaultInjectorFactory } from './faults-timeline.js';
export {
  LiveMetrics,
  cumulativeCounts,
  isLoopback,
  LATENCY_BUCKETS_S,
  MAX_LINGER_MS,
  type LiveMetricsOptions,
} from './live-metrics.js';
export { runCheckPlan, type CheckRunOptions, type CheckRunResult } from './check-run.js';
export { applyCost, costOfResults, costOfRun } from './cost.js';
