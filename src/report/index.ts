export { writeHtmlReport, renderHtmlReport, loadAssets } from './html.js';
export type { ReportAssets, RenderOptions } from './html.js';
export { renderMarkdown, writeMarkdown, comparisonMarkdown } from './markdown.js';
export { renderJUnit, writeJUnit } from './junit.js';
export { renderCsv, writeCsv, CSV_FIXED_COLUMNS } from './csv.js';
export { writeAllReports } from './all.js';
export type { WriteAllOptions, WrittenReports } from './all.js';
export { compareRuns, compareResults, writeComparison, formatComparisonText } from './compare.js';
export type { Comparison, ScenarioComparison, RunSeries, RunRef, TextOptions } from './compare.js';
export {
  decideComparison,
  comparisonExitCode,
  resolveTolerances,
  DEFAULT_TOLERANCES,
  COMPARISON_METRICS,
  PROPORTION_METRICS,
} from './compare-core.js';
export type {
  ComparedRun,
  ComparisonDecision,
  ComparisonMetric,
  CompareOptions,
  MetricComparison,
  MetricVerdict,
  ScenarioDecision,
  Tolerance,
} from './compare-core.js';
export { fmtMetricValue, fmtSignedPp, terminal, windowsOverLimitText } from './format.js';
export { releaseView } from './release-view.js';
export {
  ALERT_HEAD,
  alertMarkdown,
  alertmanagerLines,
  alertRows,
  fmtTarget,
  fmtTargetThreshold,
  TARGET_HEAD,
  targetRows,
} from './target-metrics.js';
export type { ReleaseView, ViewTable } from './release-view.js';
export { loadResults, loadResultsSync, parseIntervals } from './load.js';
export type { LoadedResults } from './load.js';
export { describeProfiles, collectMarks, runWarnings } from './profiles.js';
export type { ProfileView, CurveView } from './profiles.js';
export { CHECK_HEAD, checkMark, checkRows, findingLines, checksMarkdown } from './checks.js';
export { fmtBytes, fmtCheckFigure } from './format.js';
export { COST_HEAD, costFacts, costMarkdown, costRows } from './cost.js';
