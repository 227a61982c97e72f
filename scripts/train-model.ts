/**
 * Trains the reference models and writes everything the package ships for them:
 *
 *   examples/data/digits-train.csv, digits-test.csv   stratified 70/30 split of digits.csv, seed 42
 *   models/digits-v1.onnx, digits-v2.onnx              ONNX (ir 8, opset 13), input FP32 [batch,64] → probabilities FP32 [batch,10]
 *   models/digits-v1.weights.json, …v2.weights.json    the same FP32 weights for the TypeScript fallback
 *   models/models.json                                 recipes, held-out accuracy, sizes, checksums (no dates)
 *
 * Deterministic: same code + data → byte-identical outputs. Build and run:
 *   npx tsc -p . && node dist/scripts/train-model.js
 * Options: --check  retrain in memory and compare with the committed files (exit 1 on any difference).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

import { buildReferenceModels } from '../src/model/build.js';
import { MODELS_DIR, packagePath } from '../src/model/paths.js';

const check = process.argv.includes('--check');
const root = packagePath('.');
const started = performance.now();
const { files } = buildReferenceModels({ log: (line) => console.log(line) });

if (check) {
  let differences = 0;
  for (const [path, bytes] of files) {
    let current: Uint8Array | undefined;
    try {
      current = readFileSync(path);
    } catch {
      current = undefined;
    }
    const same = current !== undefined && Buffer.compare(Buffer.from(current), Buffer.from(bytes)) === 0;
    if (!same) differences++;
    console.log(`${same ? 'same   ' : 'DIFFERS'} ${relative(root, path)}`);
  }
  console.log(
    differences === 0 ? 'check: all outputs reproduce byte for byte' : `check: ${differences} file(s) differ`,
  );
  process.exitCode = differences === 0 ? 0 : 1;
} else {
  mkdirSync(MODELS_DIR, { recursive: true });
  for (const [path, bytes] of files) {
    writeFileSync(path, bytes);
    console.log(`wrote ${relative(root, path)} (${bytes.length} bytes)`);
  }
}
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
