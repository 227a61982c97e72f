/**
 * ml-preflight — library API. The `preflight` command is a thin layer over these.
 *
 *   import { loadPlan, run } from 'ml-preflight';
 *   const plan = await loadPlan('plan.yaml');
 *   const { summary, exitCode } = await run(plan, { outDir: 'results/today' });
 */
export { run, type RunOptions, type RunResult, type ProgressUpdate } from './run/index.js';
export type { FaultInjectorFactory } from './run/index.js';
export { LiveMetrics, type LiveMetricsOptions } from './run/index.js';
export { runCheckPlan, type CheckRunOptions, type CheckRunResult } from './run/index.js';
export { runChecks, CHECK_KINDS, type CheckKind, type CheckContext, type RunChecksOptions } from './checks/index.js';
export type { ChecksPlan, CheckKindSyntax, CheckKindName, CheckPlanOf } from './plan/check-kinds.js';
export { loadPlan, parsePlan, planJsonSchema, parseDuration, parseRate, redact, redactPlan } from './plan/index.js';
export type {
  ExecutorConfig,
  ExecutorConfigOf,
  ExecutorPlan,
  Plan,
  ScenarioCommon,
  ScenarioPlan,
  ThresholdPlan,
  TargetPlan,
} from './plan/types.js';
export { evaluateThresholds } from './verdict/index.js';
export { ExitCode } from './core/exit-codes.js';
export { PreflightError, PlanError, DataError, TargetUnreachableError, type Problem } from './core/errors.js';
export type { Summary, ScenarioSummary, IntervalRecord, DurationStats, ThresholdResult } from './core/results.js';
export type { Adapter, WireRequest, Recorder, ErrorClass, IntervalSnapshot } from './core/types.js';
export type { Fault, FaultInjector, HttpFault, TcpFault, Toxicity } from './core/faults.js';
export {
  worstStatus,
  checkFails,
  type CheckStatus,
  type CheckFinding,
  type CheckResult,
  type ChecksSummary,
} from './core/checks.js';
export {
  faultOfToxic,
  parseToxic,
  startToxiproxyApi,
  type ToxicJson,
  ToxiproxyRegistry,
  toxicOfFault,
} from './faults/index.js';
export { startTcpFaultProxy, type TcpFaultProxy, type TcpFaultProxyOptions } from './faults/index.js';
export { startHttpFaultProxy, type HttpFaultProxy, type HttpFaultProxyOptions } from './faults/index.js';
export { newHistogram, encodeHistogram, decodeHistogram, mergeSnapshots } from './metrics/index.js';
export { startServer, type ServerOptions } from './server/index.js';
export {
  runProfile,
  formatAnswer,
  scaleProfile,
  type ProfileAnswer,
  type ProfileResult,
  type ProfileRunOptions,
} from './profiles/index.js';
export type { ProfilePlan, ProfileType, ProfileOf, PlanOf } from './plan/types.js';
// Assumption-check kinds (`preflight check`); the registry in src/checks/index.ts wires them in.
export { runSecurityCheck, type SecurityContext } from './checks/security.js';
export type { SecurityCheckPlan } from './plan/security-check.js';
export type { ConsistencyCheckPlan } from './plan/consistency-check.js';
export { runConsistencyCheck, type ConsistencyContext } from './checks/consistency.js';
export { computeCost, compareCosts, HOURS_PER_MONTH, type CostComparison, type CostInputs } from './cost/index.js';
export type { CostFigures, CostSummary, InstancePrice, PriceList } from './core/cost.js';
export { readPriceFile } from './plan/index.js';
export { percentileClaim, type PercentileClaim } from './stats/index.js';
