export * from './proportion.js';
export * from './mann-whitney.js';
export * from './bootstrap.js';
export * from './trend.js';
