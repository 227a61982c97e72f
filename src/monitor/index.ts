/** Target metrics beside the load: Prometheus exposition scrapes and queries (docs/monitoring.md). */
export * from './exposition.js';
export { Monitor, promqlOf, type MonitorOptions, type MonitorResult } from './monitor.js';
export { histogramQuantile, increase, slopePerHour } from './series.js';
export { bottleneck, bottleneckOf, bottleneckOfSteps, levelsOf } from './bottleneck.js';
export {
  alertRuleNames,
  episodesOf,
  judgeAlert,
  readAlerts,
  type AlertCause,
  type ReadAlertsOptions,
} from './alerts.js';
export { scrape, SourceError } from './sources.js';
