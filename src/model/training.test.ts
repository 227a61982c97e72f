import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { buildReferenceModels, splitDigits } from './build.js';
import { RECIPES } from './catalog.js';
import { CLASSES, readDigitsCsv, selectRows, stratifiedSplit, parseDigitsCsv } from './dataset.js';
import { accuracy, forward, networkFromJson, networkToJson } from './network.js';
import { DIGITS_CSV, DIGITS_TEST_CSV, DIGITS_TRAIN_CSV } from './paths.js';
import { Rng } from '../core/random.js';
import { scaleFeatures, trainClassifier, trainNetwork } from './training.js';
import type { TrainOptions } from './training.js';

describe('prng', () => {
  test('is a fixed stream for a seed', () => {
    const r = new Rng(42);
    assert.deepEqual([r.float(), r.float(), r.float()], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
    const a = new Rng(7);
    const b = new Rng(7);
    for (let i = 0; i < 100; i++) assert.equal(a.normal(), b.normal());
  });
});

describe('split', () => {
  const all = readDigitsCsv(DIGITS_CSV);

  test('stratified 70/30: disjoint, complete, ~30% of each class, seed-determined', () => {
    const { train, test } = stratifiedSplit(all.labels, 0.3, 42);
    assert.equal(train.length + test.length, all.rows);
    assert.equal(new Set([...train, ...test]).size, all.rows);
    for (let c = 0; c < CLASSES; c++) {
      const n = all.labels.filter((l) => l === c).length;
      assert.equal(test.filter((i) => all.labels[i] === c).length, Math.round(n * 0.3));
    }
    assert.deepEqual(stratifiedSplit(all.labels, 0.3, 42), { train, test });
    assert.notDeepEqual(stratifiedSplit(all.labels, 0.3, 43).test, test);
  });

  test('the committed split files are exactly the seed-42 split of digits.csv', () => {
    const split = splitDigits(readFileSync(DIGITS_CSV, 'utf8'));
    assert.equal(readFileSync(DIGITS_TRAIN_CSV, 'utf8'), split.trainCsv);
    assert.equal(readFileSync(DIGITS_TEST_CSV, 'utf8'), split.testCsv);
    assert.equal(split.train.rows, 1258);
    assert.equal(split.test.rows, 539);
  });

  test('bad CSV is a DataError naming the line', () => {
    const header = ['p0', 'label'].join(',');
    assert.throws(() => parseDigitsCsv(`${header}\n0,1\n`, 'x.csv'), { code: 'E_DATA_INVALID' });
    const good = readFileSync(DIGITS_TEST_CSV, 'utf8').split('\n').slice(0, 2).join('\n');
    assert.throws(
      () => parseDigitsCsv(`${good}\n${'0,'.repeat(64)}12\n`, 'x.csv'),
      (e: { code: string; problems: { line: number }[] }) => {
        assert.equal(e.code, 'E_DATA_INVALID');
        assert.equal(e.problems[0].line, 3);
        return true;
      },
    );
  });
});

describe('training', () => {
  // A small subset keeps these fast; the full recipes are checked by the rebuild test below.
  const all = readDigitsCsv(DIGITS_CSV);
  const subset = selectRows(
    all,
    Array.from({ length: 300 }, (_, i) => i),
  );
  const holdout = selectRows(
    all,
    Array.from({ length: 200 }, (_, i) => 1000 + i),
  );
  const opts: TrainOptions = { ...RECIPES.v1.training, hidden: [16], epochs: 4 };

  test('the same seed and data give bit-identical weights; another seed does not', () => {
    const x = scaleFeatures(subset);
    const a = trainClassifier(x, 64, subset.labels, opts);
    const b = trainClassifier(x, 64, subset.labels, opts);
    assert.deepEqual(a, b);
    const c = trainClassifier(x, 64, subset.labels, { ...opts, seed: 43 });
    assert.notDeepEqual(c.weights[0], a.weights[0]);
  });

  test('learns: an MLP and a logistic regression both beat chance by far on unseen rows', () => {
    const mlp = trainNetwork(subset, { ...opts, epochs: 20 });
    const lr = trainNetwork(subset, { ...RECIPES.v2.training, epochs: 20 });
    assert.ok(accuracy(forward(mlp, holdout.features, holdout.rows), holdout.labels) > 0.7);
    assert.ok(accuracy(forward(lr, holdout.features, holdout.rows), holdout.labels) > 0.7);
  });

  test('weights JSON round-trips every float32 exactly', () => {
    const net = trainNetwork(subset, opts);
    net.layers[0].weights[0] = Math.fround(1e-45);
    net.layers[0].weights[1] = Math.fround(-3.4e38);
    net.layers[0].weights[2] = Math.fround(1 / 3);
    const back = networkFromJson(JSON.parse(JSON.stringify(networkToJson(net, 'digits', 'vt'))));
    assert.deepEqual(back, net);
  });

  test('retraining both versions reproduces the committed artifacts byte for byte', () => {
    // ~2 s on 2 cores: the full pipeline (split, both recipes, ONNX, weights JSON, models.json).
    const { files } = buildReferenceModels();
    assert.equal(files.size, 7);
    for (const [path, bytes] of files) {
      assert.ok(Buffer.from(bytes).equals(readFileSync(path)), `${path} differs from a fresh build`);
    }
  });
});
