/** Plan files (YAML or JSON) → validated, resolved `Plan`. */
export type * from './types.js';
export { loadPlan, parsePlan, validatePlan, validatePlanFile, checkPlanFile, expandColumnRange } from './resolve.js';
export type { ParseOptions, PlanValidation } from './resolve.js';
export {
  parseDuration,
  parseRate,
  parsePercent,
  tryParseDuration,
  tryParseRate,
  tryParsePercent,
  formatDuration,
  DURATION_PATTERN,
  RATE_PATTERN,
  PERCENT_PATTERN,
} from './units.js';
export type { UnitResult } from './units.js';
export {
  interpolate,
  literalSecrets,
  redact,
  redactError,
  redactPlan,
  SECRET_QUERY_PARAMS,
  splitUserinfo,
} from './secrets.js';
export { scalePlan } from './time-scale.js';
export { scaleFaults } from './faults.js';
export { scaleMonitor } from './monitor.js';
export type { FaultsPlan, TimelineAction, TimelineEntry } from './faults.js';
export { protocolNeeds, protocolRules, scenarioKeys, scenarioNeeds } from './protocol-rules.js';
export type { Report, ScenarioKeys } from './protocol-rules.js';
export type { Env, Interpolation } from './secrets.js';
export { planJsonSchema } from './schema.js';
export { parseThresholdExpression, METRICS, HISTOGRAM_STATS, STAT_FIELD, COMPARATORS } from './thresholds.js';
export type {
  MetricInfo,
  MetricKind,
  ParsedThreshold,
  ScenarioFacts,
  ThresholdContext,
  ThresholdParse,
} from './thresholds.js';
export { EXECUTORS, PROTOCOLS, DATATYPES } from './syntax.js';
export { editDistance, closest, didYouMean } from './suggest.js';
export { readPriceFile, parsePriceText } from './cost.js';
export type { CostCapacity, CostPlan, PriceFileResult } from './cost.js';
