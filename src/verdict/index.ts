/** Threshold evaluation and the run's verdict. Expressions are parsed in src/plan (re-exported here). */
export {
  evaluateThresholds,
  evaluateLive,
  nothingServed,
  decideOutcome,
  measure,
  lookupMetric,
  compare,
  comparisonFailure,
  comparisonInvalid,
  comparisonWarnings,
  checkReason,
} from './evaluate.js';
export type { LiveFailure, Measured, OutcomeExtras, SummaryLike, VerdictOutcome } from './evaluate.js';
export { parseThresholdExpression, METRICS, HISTOGRAM_STATS, COMPARATORS } from '../plan/thresholds.js';
export type { MetricInfo, MetricKind, ParsedThreshold, ThresholdContext } from '../plan/thresholds.js';
