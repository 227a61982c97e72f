export * from './histogram.js';
export * from './metric-set.js';
export * from './merge.js';
