import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import {
  CLASSES,
  FEATURES,
  MODEL_VERSIONS,
  accuracy,
  loadDigitsTestSplit,
  loadModel,
  modelInfo,
  readManifest,
} from './index.js';
import type { DigitsData, LoadedModel, ModelRuntime, ModelVersion } from './index.js';

const RUNTIMES: ModelRuntime[] = ['onnxruntime', 'typescript'];

let data: DigitsData;
const models = new Map<string, LoadedModel>();
const key = (v: ModelVersion, r: ModelRuntime): string => `${v}/${r}`;
const model = (v: ModelVersion, r: ModelRuntime): LoadedModel => models.get(key(v, r))!;

/** Runs the whole test split through `m` in batches of `batchSize`. */
async function predictAll(m: LoadedModel, batchSize: number): Promise<Float32Array> {
  const out = new Float32Array(data.rows * CLASSES);
  for (let start = 0; start < data.rows; start += batchSize) {
    const n = Math.min(batchSize, data.rows - start);
    const probs = await m.predict(data.features.subarray(start * FEATURES, (start + n) * FEATURES), n);
    out.set(probs, start * CLASSES);
  }
  return out;
}

before(async () => {
  data = loadDigitsTestSplit();
  for (const v of MODEL_VERSIONS) for (const r of RUNTIMES) models.set(key(v, r), await loadModel(v, { runtime: r }));
});

after(async () => {
  for (const m of models.values()) await m.close();
});

describe('loadDigitsTestSplit', () => {
  test('reads the held-out split: 539 rows, ~30% of every class, pixels 0–16', () => {
    assert.equal(data.rows, 539);
    assert.equal(data.features.length, 539 * FEATURES);
    assert.equal(data.labels.length, 539);
    const perClass = new Array<number>(10).fill(0);
    for (const l of data.labels) perClass[l]++;
    for (const n of perClass) assert.ok(n >= 52 && n <= 55, `class count ${n}`);
    for (const x of data.features) assert.ok(Number.isInteger(x) && x >= 0 && x <= 16);
  });
});

describe('modelInfo', () => {
  test('describes KServe tensors and the recorded accuracy', () => {
    const info = modelInfo('v1');
    assert.deepEqual(info.inputs, [{ name: 'input', datatype: 'FP32', shape: [-1, 64] }]);
    assert.deepEqual(info.outputs, [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }]);
    assert.equal(info.name, 'digits');
    assert.equal(info.version, 'v1');
    assert.equal(info.platform, 'onnxruntime');
    assert.equal(info.heldOutAccuracy, readManifest().versions.v1.heldOutAccuracy);
    assert.equal(modelInfo('v2', 'typescript').platform, 'typescript');
  });

  test('rejects an unknown version with a stable code', async () => {
    assert.throws(() => modelInfo('v3' as ModelVersion), { code: 'E_ARGS' });
    await assert.rejects(loadModel('v3' as ModelVersion), { code: 'E_ARGS' });
  });
});

describe('loadModel', () => {
  test('reports the runtime it uses; the default is onnxruntime', async () => {
    for (const v of MODEL_VERSIONS) for (const r of RUNTIMES) assert.equal(model(v, r).info.platform, r);
    const logged: string[] = [];
    const m = await loadModel('v2', { log: (msg) => logged.push(msg) });
    try {
      assert.equal(m.info.platform, 'onnxruntime');
      assert.deepEqual(logged, []);
    } finally {
      await m.close();
    }
  });

  for (const v of MODEL_VERSIONS) {
    test(`${v}: onnxruntime and TypeScript runtimes agree within 1e-4 on every test row`, async () => {
      const a = await predictAll(model(v, 'onnxruntime'), 64);
      const b = await predictAll(model(v, 'typescript'), 64);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      assert.ok(worst < 1e-4, `max |onnx − ts| = ${worst}`);
    });

    test(`${v}: probabilities are a distribution per row`, async () => {
      const p = await predictAll(model(v, 'onnxruntime'), 64);
      for (let r = 0; r < data.rows; r++) {
        let sum = 0;
        for (let k = 0; k < CLASSES; k++) {
          const x = p[r * CLASSES + k];
          assert.ok(x >= 0 && x <= 1);
          sum += x;
        }
        assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r} sums to ${sum}`);
      }
    });

    for (const r of RUNTIMES) {
      test(`${v}/${r}: batch sizes 1, 7 and 64 give identical results per row`, async () => {
        const b1 = await predictAll(model(v, r), 1);
        const b7 = await predictAll(model(v, r), 7);
        const b64 = await predictAll(model(v, r), 64);
        assert.deepEqual(b7, b1);
        assert.deepEqual(b64, b1);
      });
    }
  }

  test('held-out accuracy, measured by running inference: v1 ≥ 95%, v2 at least 2 points lower; both as recorded', async () => {
    const measured = {} as Record<ModelVersion, number>;
    for (const v of MODEL_VERSIONS) {
      for (const r of RUNTIMES) {
        const acc = accuracy(await predictAll(model(v, r), 32), data.labels);
        // The recorded figure was computed with the same FP32 weights; allow one row of argmax tie noise.
        assert.ok(
          Math.abs(acc - readManifest().versions[v].heldOutAccuracy) <= 1 / data.rows + 1e-9,
          `${v}/${r}: ${acc}`,
        );
        if (r === 'onnxruntime') measured[v] = acc;
      }
    }
    assert.ok(measured.v1 >= 0.95, `v1 accuracy ${measured.v1}`);
    assert.ok(measured.v1 - measured.v2 >= 0.02, `v1 ${measured.v1} vs v2 ${measured.v2}`);
    assert.ok(measured.v2 >= 0.85, `v2 accuracy ${measured.v2} is implausibly low`);
  });

  test('concurrent predictions on one session each get their own rows', async () => {
    const m = model('v1', 'onnxruntime');
    const single = await predictAll(model('v1', 'typescript'), 64);
    const batches = Array.from({ length: 20 }, (_, i) => i * 3);
    const results = await Promise.all(
      batches.map((row) => m.predict(data.features.slice(row * FEATURES, (row + 3) * FEATURES), 3)),
    );
    results.forEach((probs, i) => {
      const expected = single.subarray(batches[i] * CLASSES, (batches[i] + 3) * CLASSES);
      for (let k = 0; k < probs.length; k++) assert.ok(Math.abs(probs[k] - expected[k]) < 1e-4);
    });
  });

  for (const r of RUNTIMES) {
    test(`${r}: validates input, handles batch 0, and refuses after close`, async () => {
      const m = await loadModel('v2', { runtime: r });
      assert.deepEqual(await m.predict(new Float32Array(0), 0), new Float32Array(0));
      await assert.rejects(m.predict(new Float32Array(63), 1), RangeError);
      await assert.rejects(m.predict(new Float32Array(128), 1), RangeError);
      await assert.rejects(m.predict(new Float32Array(64), 1.5), RangeError);
      await assert.rejects(m.predict([1, 2] as unknown as Float32Array, 1), TypeError);
      const out = await m.predict(new Float32Array(64), 1);
      assert.equal(out.length, 10);
      await m.close();
      await m.close(); // idempotent
      await assert.rejects(m.predict(new Float32Array(64), 1), /closed/);
    });
  }
});

describe('fallback', () => {
  test('when onnxruntime-node cannot load: default falls back to TypeScript and logs why; explicit onnxruntime fails', async () => {
    // A child process whose module resolver refuses onnxruntime-node, as if its native binding were missing.
    const hook =
      'export async function resolve(s, c, next) { if (s === "onnxruntime-node") throw new Error("simulated: binding missing"); return next(s, c); }';
    const code = `
      import { register } from 'node:module';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
      const { loadModel, loadDigitsTestSplit, accuracy } = await import(${JSON.stringify(new URL('./index.js', import.meta.url).href)});
      const logs = [];
      const m = await loadModel('v1', { log: (line) => logs.push(line) });
      const data = loadDigitsTestSplit();
      const acc = accuracy(await m.predict(data.features, data.rows), data.labels);
      let explicit = 'loaded';
      try { await loadModel('v1', { runtime: 'onnxruntime' }); } catch (e) { explicit = e.code; }
      console.log(JSON.stringify({ platform: m.info.platform, logs, acc, explicit }));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', code], {
      timeout: 30_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      platform: string;
      logs: string[];
      acc: number;
      explicit: string;
    };
    assert.equal(result.platform, 'typescript');
    assert.equal(result.logs.length, 1);
    assert.match(
      result.logs[0],
      /onnxruntime-node cannot load digits v1 \(simulated: binding missing\); using the TypeScript runtime/,
    );
    assert.equal(Math.round(result.acc * data.rows), readManifest().versions.v1.heldOutCorrect);
    assert.equal(result.explicit, 'E_INTERNAL');
  });
});
