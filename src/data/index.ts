/**
 * Datasets, payloads, labels and quality scoring for protocol adapters.
 */
export {
  loadDataset,
  inferFormat,
  resolveDataFile,
  expandColumns,
  requireColumns,
  cellText,
  rowWhere,
} from './dataset.js';
export type { Dataset, DataFormat, Column } from './dataset.js';
export { parseCsv } from './csv.js';
export type { CsvRecord } from './csv.js';
export { ProblemList, MAX_PROBLEMS } from './problems.js';
export { buildTensorInputs, buildLabels, product, isIntegerType, KSERVE_DATATYPES } from './tensors.js';
export type { TensorInput, Labels } from './tensors.js';
export { buildBatchTable, rowOrder } from './order.js';
export type { BatchTable, RowOrder } from './order.js';
export { flatRowsJson, rowJson, rowsJson } from './encode.js';
export { syntheticTensor, floatPayload, payloadSweep, rowDimsOf, SYNTHETIC_POOL_ROWS } from './synthetic.js';
export type { TensorSpecLike } from './synthetic.js';
export { loadPrompts } from './prompts.js';
export type { Prompt } from './prompts.js';
export { parseJsonTolerant, replaceNonFinite, compileJsonPath, evalJsonPath, flattenNumbers, MISSING } from './json.js';
export type { PathStep } from './json.js';
export {
  argmax,
  predictionOf,
  isCorrect,
  outputVector,
  maxAbsDiff,
  readGolden,
  writeGoldenShard,
  partFile,
  recordRegression,
} from './quality.js';
export type { Prediction, GoldenOutputs, RowValue } from './quality.js';
export { Rng, deriveSeed, shuffleInPlace } from '../core/random.js';
