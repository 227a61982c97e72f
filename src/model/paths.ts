/**
 * Where the reference model's files live, resolved from the package root — never from the current
 * directory — so it works from dist/, from a checkout, and when ml-preflight is installed as a
 * dependency. This file compiles to dist/src/model/paths.js, three levels below the package root.
 */
import { fileURLToPath } from 'node:url';

import type { ModelVersion } from './types.js';

/** The package root (the folder holding package.json, models/ and examples/). */
export const PACKAGE_ROOT_URL = new URL('../../../', import.meta.url);

export function packagePath(relative: string): string {
  return fileURLToPath(new URL(relative, PACKAGE_ROOT_URL));
}

export const MODELS_DIR = packagePath('models/');
export const DATA_DIR = packagePath('examples/data/');

export const DIGITS_CSV = packagePath('examples/data/digits.csv');
export const DIGITS_TRAIN_CSV = packagePath('examples/data/digits-train.csv');
export const DIGITS_TEST_CSV = packagePath('examples/data/digits-test.csv');
export const MODELS_JSON = packagePath('models/models.json');

export function onnxPath(version: ModelVersion): string {
  return packagePath(`models/digits-${version}.onnx`);
}

export function weightsPath(version: ModelVersion): string {
  return packagePath(`models/digits-${version}.weights.json`);
}
