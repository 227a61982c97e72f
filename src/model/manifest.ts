/**
 * models/models.json: what the training script produced — split, recipes, held-out accuracy,
 * sizes and checksums. No dates, so retraining with the same code and data reproduces it byte for byte.
 */
import { readFileSync } from 'node:fs';

import { MODELS_JSON } from './paths.js';
import type { TrainOptions } from './training.js';
import type { ModelVersion } from './types.js';

export interface FileRecord {
  /** Relative to the package root. */
  path: string;
  bytes: number;
  sha256: string;
}

export interface VersionRecord {
  version: ModelVersion;
  description: string;
  architecture: string;
  training: TrainOptions;
  /** Accuracy of the exported FP32 weights on the held-out test split. */
  heldOutAccuracy: number;
  heldOutCorrect: number;
  heldOutRows: number;
  trainAccuracy: number;
  parameters: number;
  macsPerRow: number;
  onnx: FileRecord & { irVersion: number; opset: number; input: string; output: string };
  weights: FileRecord;
}

export interface ModelManifest {
  name: string;
  dataset: {
    source: string;
    license: string;
    file: FileRecord;
    rows: number;
    split: {
      method: 'stratified';
      testFraction: number;
      seed: number;
      train: FileRecord & { rows: number };
      test: FileRecord & { rows: number };
    };
  };
  versions: Record<ModelVersion, VersionRecord>;
}

let cached: ModelManifest | undefined;

export function readManifest(): ModelManifest {
  cached ??= JSON.parse(readFileSync(MODELS_JSON, 'utf8')) as ModelManifest;
  return cached;
}
