/** Assumption checks (`preflight check`, plan `checks:`): one module per kind behind one interface (docs/checks.md). */
export { runChecks, checksSummary, type RunChecksOptions } from './run-checks.js';
export { CHECK_KINDS } from './kinds.js';
export { checkResult, percentile, type CheckContext, type CheckKind } from './kind.js';
export { kneeOf, sweepSizes } from './network.js';
