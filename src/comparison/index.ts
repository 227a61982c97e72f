export * from './ab.js';
export * from './canary/index.js';
export * from './shadow.js';
export * from './types.js';
// Named (not `export *`), so it stays unambiguous when canary/index.ts re-exports it too.
export { PREFLIGHT_CLASSIFIER_CONFIDENCE, preflightClassifier } from './canary/preflight-classifier.js';
