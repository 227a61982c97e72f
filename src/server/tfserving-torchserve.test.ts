import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.js';
import type { ServerHandle } from './server.js';
import { linearForward } from './linear-model.js';
import { digitRow, http, LINEAR_MODEL_MODULE } from './testing.js';

function expectedRows(version: string, rows: number[][]): number[][] {
  const out = Array.from(linearForward(version, Float32Array.from(rows.flat()), rows.length));
  return rows.map((_, r) => out.slice(r * 10, r * 10 + 10));
}

describe('TF Serving REST', () => {
  let s: ServerHandle;
  before(async () => {
    s = await startServer({ port: 0, instances: 1, modelModule: LINEAR_MODEL_MODULE });
  });
  after(() => s.close());

  test('row format: instances → predictions', async () => {
    const rows = [digitRow(1), digitRow(2)];
    const r = await http(`${s.url}/v1/models/digits:predict`, 'POST', { instances: rows });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(Object.keys(r.json), ['predictions']);
    assert.deepEqual(r.json.predictions, expectedRows('v1', rows));
    const named = await http(`${s.url}/v1/models/digits:predict`, 'POST', {
      instances: rows.map((x) => ({ input: x })),
    });
    assert.deepEqual(named.json.predictions, expectedRows('v1', rows));
  });

  test('columnar format: inputs (list or named) → outputs', async () => {
    const rows = [digitRow(3)];
    const list = await http(`${s.url}/v1/models/digits:predict`, 'POST', { inputs: rows });
    assert.equal(list.status, 200, list.body);
    assert.deepEqual(list.json, { outputs: expectedRows('v1', rows) });
    const named = await http(`${s.url}/v1/models/digits:predict`, 'POST', { inputs: { input: rows } });
    assert.deepEqual(named.json, { outputs: expectedRows('v1', rows) });
  });

  test('versions: /versions/2 and /versions/v2 hit v2', async () => {
    const rows = [digitRow(4)];
    for (const v of ['2', 'v2']) {
      const r = await http(`${s.url}/v1/models/digits/versions/${v}:predict`, 'POST', { instances: rows });
      assert.equal(r.status, 200, r.body);
      assert.deepEqual(r.json.predictions, expectedRows('v2', rows));
    }
    assert.equal((await http(`${s.url}/v1/models/digits/versions/9:predict`, 'POST', { instances: rows })).status, 404);
  });

  test('errors: both formats, neither, bad rows, unknown model, unsupported verb', async () => {
    const url = `${s.url}/v1/models/digits:predict`;
    const both = await http(url, 'POST', { instances: [digitRow()], inputs: [digitRow()] });
    assert.equal(both.status, 400);
    assert.match(both.json.error, /both/);
    const neither = await http(url, 'POST', { signature_name: 'serving_default' });
    assert.equal(neither.status, 400);
    assert.match(neither.json.error, /instances/);
    assert.equal((await http(url, 'POST', { instances: [digitRow().slice(2)] })).status, 400);
    assert.equal((await http(url, 'POST', { instances: [] })).status, 400);
    assert.equal((await http(url, 'POST', { instances: digitRow() })).status, 400);
    assert.equal((await http(url, 'POST', '{not json')).status, 400);
    const unknown = await http(`${s.url}/v1/models/cats:predict`, 'POST', { instances: [digitRow()] });
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /Servable not found/);
    assert.equal((await http(`${s.url}/v1/models/digits:classify`, 'POST', { examples: [] })).status, 400);
  });

  test('model status and metadata', async () => {
    const st = await http(`${s.url}/v1/models/digits`);
    assert.equal(st.status, 200);
    assert.deepEqual(st.json, {
      model_version_status: [
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    const one = await http(`${s.url}/v1/models/digits/versions/2`);
    assert.equal(one.json.model_version_status.length, 1);
    assert.equal(one.json.model_version_status[0].version, '2');
    const meta = await http(`${s.url}/v1/models/digits/metadata`);
    assert.equal(meta.status, 200);
    assert.equal(meta.json.model_spec.name, 'digits');
    const sig = meta.json.metadata.signature_def.signature_def.serving_default;
    assert.equal(sig.inputs.input.dtype, 'DT_FLOAT');
    assert.deepEqual(
      sig.inputs.input.tensor_shape.dim.map((d: { size: string }) => d.size),
      ['-1', '64'],
    );
    assert.ok(sig.outputs.probabilities);
    assert.equal((await http(`${s.url}/v1/models/unknown`)).status, 404);
  });
});

describe('TorchServe', () => {
  let s: ServerHandle;
  before(async () => {
    s = await startServer({ port: 0, instances: 1, modelModule: LINEAR_MODEL_MODULE });
  });
  after(() => s.close());

  test('GET /ping', async () => {
    const r = await http(`${s.url}/ping`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'Healthy' });
  });

  test('one row → list of 10 probabilities; several rows → list of lists', async () => {
    const row = digitRow(6);
    const one = await http(`${s.url}/predictions/digits`, 'POST', { data: row });
    assert.equal(one.status, 200, one.body);
    assert.deepEqual(one.json, expectedRows('v1', [row])[0]);
    const bare = await http(`${s.url}/predictions/digits`, 'POST', row);
    assert.deepEqual(bare.json, expectedRows('v1', [row])[0]);
    const rows = [digitRow(7), digitRow(8)];
    for (const body of [rows, { data: rows }, rows.map((d) => ({ data: d }))]) {
      const many = await http(`${s.url}/predictions/digits`, 'POST', body);
      assert.equal(many.status, 200, many.body);
      assert.deepEqual(many.json, expectedRows('v1', rows));
    }
    const v2 = await http(`${s.url}/predictions/digits/2.0`, 'POST', { data: row });
    assert.deepEqual(v2.json, expectedRows('v2', [row])[0]);
  });

  test('errors in TorchServe shape', async () => {
    const bad = await http(`${s.url}/predictions/digits`, 'POST', { data: [1, 2, 3] });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 400);
    assert.equal(typeof bad.json.type, 'string');
    assert.match(bad.json.message, /64/);
    const missing = await http(`${s.url}/predictions/nope`, 'POST', { data: digitRow() });
    assert.equal(missing.status, 404);
    assert.deepEqual(Object.keys(missing.json).sort(), ['code', 'message', 'type']);
    assert.equal(missing.json.type, 'ModelNotFoundException');
    assert.equal((await http(`${s.url}/predictions/digits/v5`, 'POST', { data: digitRow() })).status, 404);
  });
});
