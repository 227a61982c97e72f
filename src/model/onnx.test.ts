import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import * as ort from 'onnxruntime-node';

import { FEATURES } from './dataset.js';
import { forward } from './network.js';
import type { Network } from './network.js';
import { ProtoWriter, encodeOnnxModel } from './onnx.js';
import { Rng } from '../core/random.js';

const meta = { graphName: 'g', docString: 'd', producerVersion: 't', modelVersion: 1, properties: { k: 'v' } };

function randomNetwork(sizes: number[], seed: number): Network {
  const rng = new Rng(seed);
  return {
    inputScale: 1 / 16,
    layers: sizes.slice(1).map((outputs, l) => ({
      inputs: sizes[l],
      outputs,
      weights: Float32Array.from({ length: sizes[l] * outputs }, () => rng.normal() * 0.5),
      bias: Float32Array.from({ length: outputs }, () => rng.normal() * 0.1),
      activation: l === sizes.length - 2 ? 'softmax' : 'relu',
    })),
  };
}

describe('protobuf encoder', () => {
  test('encodes varints, negative int64, fixed32 floats and length-delimited fields', () => {
    assert.deepEqual([...new ProtoWriter().varint(1, 150).finish()], [0x08, 0x96, 0x01]);
    assert.deepEqual([...new ProtoWriter().varint(2, -1).finish()], [0x10, ...Array<number>(9).fill(0xff), 0x01]);
    assert.deepEqual([...new ProtoWriter().float(2, 1).finish()], [0x15, 0x00, 0x00, 0x80, 0x3f]);
    assert.deepEqual([...new ProtoWriter().string(8, 'ab').finish()], [0x42, 0x02, 0x61, 0x62]);
    const inner = new ProtoWriter().varint(1, 1);
    assert.deepEqual([...new ProtoWriter().message(7, inner).finish()], [0x3a, 0x02, 0x08, 0x01]);
  });
});

describe('ONNX export', () => {
  for (const sizes of [
    [64, 10],
    [64, 12, 10],
    [64, 20, 7, 10],
  ]) {
    test(`a ${sizes.join('→')} network runs in onnxruntime and matches the TypeScript forward pass`, async () => {
      const net = randomNetwork(sizes, sizes.length);
      const bytes = encodeOnnxModel(net, meta);
      assert.deepEqual(encodeOnnxModel(net, meta), bytes, 'export is deterministic');
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
      try {
        assert.deepEqual(session.inputNames, ['input']);
        assert.deepEqual(session.outputNames, ['probabilities']);
        const rng = new Rng(1);
        const batch = 5;
        const x = Float32Array.from({ length: batch * FEATURES }, () => rng.int(17));
        const out = await session.run({ input: new ort.Tensor('float32', x, [batch, FEATURES]) });
        assert.deepEqual(out.probabilities.dims, [batch, 10]);
        const expected = forward(net, x, batch);
        const got = out.probabilities.data as Float32Array;
        for (let i = 0; i < expected.length; i++)
          assert.ok(Math.abs(got[i] - expected[i]) < 1e-5, `${got[i]} vs ${expected[i]}`);
      } finally {
        await session.release();
      }
    });
  }

  test('refuses a network that does not end in softmax', () => {
    const net = randomNetwork([64, 10], 1);
    net.layers[0].activation = 'relu';
    assert.throws(() => encodeOnnxModel(net, meta), /softmax/);
  });
});
