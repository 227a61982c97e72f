export * from './ab.js';
export * from './canary/index.js';
export * from './shadow.js';
export * from './types.js';
