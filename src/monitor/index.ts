/** Target metrics beside the load: Prometheus exposition scrapes and queries (docs/monitoring.md). */
export * from './exposition.js';
