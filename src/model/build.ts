/**
 * Builds every reference-model artifact in memory from examples/data/digits.csv: the split CSVs,
 * both versions' ONNX and weights files, and models/models.json. Pure apart from reading the
 * data set: scripts/train-model.ts writes (or --check compares) the result, and a test checks that
 * it reproduces the committed files byte for byte.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

import { MODEL_NAME, MODEL_VERSIONS, RECIPES, SPLIT_SEED, TEST_FRACTION } from './catalog.js';
import { formatDigitsCsv, parseDigitsCsv, selectRows, stratifiedSplit } from './dataset.js';
import type { DigitsData } from './dataset.js';
import type { FileRecord, ModelManifest, VersionRecord } from './manifest.js';
import { accuracy, forward, macsPerRow, networkToJson, parameterCount } from './network.js';
import { INPUT_NAME, ONNX_IR_VERSION, ONNX_OPSET, OUTPUT_NAME, encodeOnnxModel } from './onnx.js';
import {
  DIGITS_CSV,
  DIGITS_TEST_CSV,
  DIGITS_TRAIN_CSV,
  MODELS_JSON,
  onnxPath,
  packagePath,
  weightsPath,
} from './paths.js';
import { trainNetwork } from './training.js';
import type { ModelVersion } from './types.js';

/** Goes into the ONNX producer_version; bump when the training code changes what it produces. */
export const TRAINING_CODE_VERSION = '1';

export interface SplitData {
  all: DigitsData;
  train: DigitsData;
  test: DigitsData;
  trainCsv: string;
  testCsv: string;
}

/** The reproducible stratified split of digits.csv (text of the whole data set). */
export function splitDigits(csvText: string): SplitData {
  const all = parseDigitsCsv(csvText, DIGITS_CSV);
  const split = stratifiedSplit(all.labels, TEST_FRACTION, SPLIT_SEED);
  const train = selectRows(all, split.train);
  const test = selectRows(all, split.test);
  return { all, train, test, trainCsv: formatDigitsCsv(train), testCsv: formatDigitsCsv(test) };
}

export interface BuildResult {
  /** Absolute path → exact bytes to write. */
  files: Map<string, Uint8Array>;
  manifest: ModelManifest;
}

export function buildReferenceModels(opts: { log?: (line: string) => void } = {}): BuildResult {
  const log = opts.log ?? (() => {});
  const root = packagePath('.');
  const files = new Map<string, Uint8Array>();
  const describe = (path: string, bytes: Uint8Array): FileRecord => ({
    path: relative(root, path).split('\\').join('/'),
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  });
  const emit = (path: string, content: Uint8Array | string): FileRecord => {
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
    files.set(path, bytes);
    return describe(path, bytes);
  };

  const source = readFileSync(DIGITS_CSV);
  const { all, train, test, trainCsv, testCsv } = splitDigits(source.toString('utf8'));
  // The split files must parse back to exactly what we train and evaluate on.
  if (formatDigitsCsv(parseDigitsCsv(testCsv)) !== testCsv) throw new Error('test split does not round-trip');

  const versions = {} as Record<ModelVersion, VersionRecord>;
  for (const version of MODEL_VERSIONS) {
    const recipe = RECIPES[version];
    const t0 = performance.now();
    const net = trainNetwork(train, recipe.training);
    const trainMs = performance.now() - t0;
    // Evaluated with the exported FP32 weights, i.e. exactly what the runtimes serve.
    const heldOutAccuracy = accuracy(forward(net, test.features, test.rows), test.labels);
    const trainAccuracy = accuracy(forward(net, train.features, train.rows), train.labels);
    const onnx = encodeOnnxModel(net, {
      graphName: `${MODEL_NAME}_${version}`,
      docString: `Preflight reference model ${MODEL_NAME} ${version}: ${recipe.architecture}. Input: raw 8x8 pixels 0-16.`,
      producerVersion: TRAINING_CODE_VERSION,
      modelVersion: MODEL_VERSIONS.indexOf(version) + 1,
      properties: { name: MODEL_NAME, version, heldOutAccuracy: heldOutAccuracy.toFixed(4) },
    });
    const record: VersionRecord = {
      version,
      description: recipe.description,
      architecture: recipe.architecture,
      training: recipe.training,
      heldOutAccuracy: round6(heldOutAccuracy),
      heldOutCorrect: Math.round(heldOutAccuracy * test.rows),
      heldOutRows: test.rows,
      trainAccuracy: round6(trainAccuracy),
      parameters: parameterCount(net),
      macsPerRow: macsPerRow(net),
      onnx: {
        ...emit(onnxPath(version), onnx),
        irVersion: ONNX_IR_VERSION,
        opset: ONNX_OPSET,
        input: INPUT_NAME,
        output: OUTPUT_NAME,
      },
      weights: emit(weightsPath(version), `${JSON.stringify(networkToJson(net, MODEL_NAME, version))}\n`),
    };
    versions[version] = record;
    log(
      `${version}: held-out accuracy ${(heldOutAccuracy * 100).toFixed(2)}% (${record.heldOutCorrect}/${test.rows}), ` +
        `train ${(trainAccuracy * 100).toFixed(2)}%, ${record.parameters} parameters, trained in ${trainMs.toFixed(0)} ms`,
    );
  }

  const manifest: ModelManifest = {
    name: MODEL_NAME,
    dataset: {
      source:
        'Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak, 1998), UCI Machine Learning Repository',
      license: 'CC BY 4.0',
      file: describe(DIGITS_CSV, source),
      rows: all.rows,
      split: {
        method: 'stratified',
        testFraction: TEST_FRACTION,
        seed: SPLIT_SEED,
        train: { ...emit(DIGITS_TRAIN_CSV, trainCsv), rows: train.rows },
        test: { ...emit(DIGITS_TEST_CSV, testCsv), rows: test.rows },
      },
    },
    versions,
  };
  emit(MODELS_JSON, `${JSON.stringify(manifest, null, 2)}\n`);
  return { files, manifest };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
