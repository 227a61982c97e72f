import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.js';
import type { ServerHandle } from './server.js';
import { linearForward } from './linear-model.js';
import { digitRow, http, LINEAR_MODEL_MODULE } from './testing.js';

const infer = (shape: number[], data: unknown, extra: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'input', datatype: 'FP32', shape, data }],
  ...extra,
});

describe('KServe v2 / Open Inference Protocol', () => {
  let s: ServerHandle;
  before(async () => {
    s = await startServer({
      port: 0,
      instances: 1,
      modelModule: LINEAR_MODEL_MODULE,
      modelOptions: { failOnValue: 999 },
      maxBodyBytes: 64 * 1024,
    });
  });
  after(() => s.close());

  test('health, server metadata, readiness', async () => {
    const live = await http(`${s.url}/v2/health/live`);
    assert.equal(live.status, 200);
    assert.deepEqual(live.json, { live: true });
    const ready = await http(`${s.url}/v2/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json, { ready: true });
    const meta = await http(`${s.url}/v2`);
    assert.equal(meta.status, 200);
    assert.equal(meta.json.name, 'preflight-reference-server');
    assert.equal(typeof meta.json.version, 'string');
    assert.ok(Array.isArray(meta.json.extensions));
    assert.equal((await http(`${s.url}/v2/models/digits/ready`)).status, 200);
    assert.deepEqual((await http(`${s.url}/v2/models/digits/versions/v2/ready`)).json, {
      name: 'digits',
      version: 'v2',
      ready: true,
    });
    assert.equal((await http(`${s.url}/v2/models/digits/versions/v9/ready`)).status, 404);
    assert.equal((await http(`${s.url}/v2/models/nope/ready`)).status, 404);
  });

  test('model metadata, unversioned and versioned', async () => {
    const m = await http(`${s.url}/v2/models/digits`);
    assert.equal(m.status, 200);
    assert.equal(m.headers['content-type'], 'application/json');
    assert.deepEqual(m.json, {
      name: 'digits',
      versions: ['v1', 'v2'],
      platform: 'typescript-linear-fallback',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 64] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }],
    });
    const v = await http(`${s.url}/v2/models/digits/versions/v2`);
    assert.equal(v.status, 200);
    assert.deepEqual(v.json.versions, ['v2']);
    const e = await http(`${s.url}/v2/models/other`);
    assert.equal(e.status, 404);
    assert.match(e.json.error, /unknown model/);
  });

  test('infer: flat and nested data, batch > 1, exact model outputs', async () => {
    const rows = [digitRow(1), digitRow(2), digitRow(3)];
    const flat = await http(`${s.url}/v2/models/digits/infer`, 'POST', infer([3, 64], rows.flat(), { id: 'req-7' }));
    assert.equal(flat.status, 200, flat.body);
    assert.equal(flat.json.model_name, 'digits');
    assert.equal(flat.json.model_version, 'v1');
    assert.equal(flat.json.id, 'req-7');
    assert.equal(flat.json.outputs.length, 1);
    const out = flat.json.outputs[0];
    assert.equal(out.name, 'probabilities');
    assert.equal(out.datatype, 'FP32');
    assert.deepEqual(out.shape, [3, 10]);
    const expected = Array.from(linearForward('v1', Float32Array.from(rows.flat()), 3));
    assert.deepEqual(out.data, expected);
    for (let r = 0; r < 3; r++) {
      const sum = out.data.slice(r * 10, r * 10 + 10).reduce((a: number, b: number) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5);
    }
    const nested = await http(`${s.url}/v2/models/digits/infer`, 'POST', infer([3, 64], rows));
    assert.equal(nested.status, 200, nested.body);
    assert.deepEqual(nested.json.outputs[0].data, expected);
    assert.equal(typeof nested.json.id, 'string');
    const withOutputs = await http(
      `${s.url}/v2/models/digits/infer`,
      'POST',
      infer([1, 64], rows[0], { outputs: [{ name: 'probabilities' }] }),
    );
    assert.equal(withOutputs.status, 200, withOutputs.body);
  });

  test('versioned infer (v2, numeric alias 2) answers from that version', async () => {
    const row = digitRow(4);
    const r = await http(`${s.url}/v2/models/digits/versions/v2/infer`, 'POST', infer([1, 64], row));
    assert.equal(r.status, 200);
    assert.equal(r.json.model_version, 'v2');
    assert.deepEqual(r.json.outputs[0].data, Array.from(linearForward('v2', Float32Array.from(row), 1)));
    const alias = await http(`${s.url}/v2/models/digits/versions/2/infer`, 'POST', infer([1, 64], row));
    assert.equal(alias.json.model_version, 'v2');
    const unknown = await http(`${s.url}/v2/models/digits/versions/v7/infer`, 'POST', infer([1, 64], row));
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /v7/);
  });

  test('errors: 400 for bad JSON, datatype, shape, data, names; 404; 405; 413; 500 from the model', async () => {
    const url = `${s.url}/v2/models/digits/infer`;
    const row = digitRow(5);
    const cases: Array<[string, unknown, RegExp]> = [
      ['bad json', '{"inputs": [', /invalid JSON/],
      ['not an object', [1, 2], /JSON object/],
      ['no inputs', { inputs: [] }, /expected 1 input/],
      ['wrong datatype', { inputs: [{ name: 'input', datatype: 'INT32', shape: [1, 64], data: row }] }, /FP32/],
      ['wrong width', infer([1, 63], row.slice(0, 63)), /Expected \[-1,64\]/],
      ['rank 1', infer([64], row), /shape/],
      ['length mismatch', infer([2, 64], row), /needs 128/],
      ['nested rows mismatch', infer([2, 64], [row]), /1 rows but shape says 2/],
      ['short nested row', infer([1, 64], [row.slice(1)]), /63 values/],
      ['string value', infer([1, 64], [...row.slice(1), 'x']), /must be a number/],
      [
        'wrong input name',
        { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 64], data: row }] },
        /unexpected inference input 'x'/,
      ],
      [
        'wrong output name',
        infer([1, 64], row, { outputs: [{ name: 'logits' }] }),
        /unexpected inference output 'logits'/,
      ],
      [
        'binary extension',
        { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], parameters: { binary_data_size: 256 } }] },
        /binary/,
      ],
    ];
    for (const [what, body, re] of cases) {
      const r = await http(url, 'POST', body);
      assert.equal(r.status, 400, `${what}: ${r.body}`);
      assert.equal(typeof r.json.error, 'string', what);
      assert.match(r.json.error, re, what);
    }
    const notFound = await http(`${s.url}/v2/models/nope/infer`, 'POST', infer([1, 64], row));
    assert.equal(notFound.status, 404);
    assert.match(notFound.json.error, /nope/);
    const wrongMethod = await http(url, 'GET');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.allow, 'POST');
    const noRoute = await http(`${s.url}/v2/whatever`);
    assert.equal(noRoute.status, 404);
    const big = await http(
      url,
      'POST',
      infer(
        [1000, 64],
        Array.from({ length: 1000 }, () => row),
      ),
    );
    assert.equal(big.status, 413);
    const backend = await http(url, 'POST', infer([1, 64], [...row.slice(1), 999]));
    assert.equal(backend.status, 500);
    assert.match(backend.json.error, /inference failed: input contains 999/);
    // The server still works after a model error.
    assert.equal((await http(url, 'POST', infer([1, 64], row))).status, 200);
  });

  test('a single request larger than maxBatchSize runs as its own batch', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => digitRow(i));
    const r = await http(`${s.url}/v2/models/digits/infer`, 'POST', infer([40, 64], rows));
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.outputs[0].shape, [40, 10]);
  });
});

test('an instance that dies fails its batch with 500 and is restarted', async () => {
  const s = await startServer({
    port: 0,
    instances: 1,
    modelModule: LINEAR_MODEL_MODULE,
    modelOptions: { exitOnValue: 777 },
  });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  try {
    const url = `${s.url}/v2/models/digits/infer`;
    const crash = await http(url, 'POST', infer([1, 64], [...digitRow().slice(1), 777]));
    assert.equal(crash.status, 500);
    assert.match(crash.json.error, /exited/);
    let ok = 0;
    for (let i = 0; i < 50 && ok === 0; i++) {
      const r = await http(url, 'POST', infer([1, 64], digitRow()));
      if (r.status === 200) ok++;
    }
    assert.equal(ok, 1);
    assert.ok(warnings.some((w) => /restarting/.test(w)));
  } finally {
    process.off('warning', onWarning);
    await s.close();
  }
});
