/**
 * The reference model Preflight serves (see docs/reference-model.md): 8×8 handwritten digits,
 * v1 (accurate MLP) and v2 (smaller, faster, less accurate), as ONNX with a TypeScript fallback.
 */
export type { LoadModelOptions, LoadedModel, ModelInfo, ModelRuntime, ModelVersion, TensorSpec } from './types.js';
export { MODEL_NAME, MODEL_VERSIONS } from './catalog.js';
export { CLASSES, FEATURES, PIXEL_MAX, loadDigitsTestSplit } from './dataset.js';
export type { DigitsData } from './dataset.js';
export { isModelVersion, loadModel, modelInfo } from './loader.js';
export { readManifest } from './manifest.js';
export type { ModelManifest, VersionRecord } from './manifest.js';
export { accuracy, argmaxRows } from './network.js';
export { INPUT_NAME, OUTPUT_NAME } from './onnx.js';
