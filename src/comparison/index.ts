export * from './shadow.js';
export * from './types.js';
