/**
 * The reference server's admin endpoints are off by default, need a token off loopback, and bound
 * every knob; tensors that are not finite FP32 numbers are a 400, never a 200 with bare NaN.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.js';
import type { ServerHandle } from './server.js';
import { FAULT_LIMITS, parseServeArgs, resolveOptions } from './options.js';
import { digitRow, http, LINEAR_MODEL_MODULE } from './testing.js';

const infer = (row: Array<number | string>) =>
  `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,64],"data":[${row.join(',')}]}]}`;

test('admin endpoints are off by default (404 that says how to turn them on)', async () => {
  const s = await startServer({ port: 0, instances: 1, modelModule: LINEAR_MODEL_MODULE });
  try {
    const r = await http(`${s.url}/admin/faults`, 'POST', { latencyMs: 1000 });
    assert.equal(r.status, 404);
    assert.match(r.body, /--admin/);
    assert.equal(s.faults().latencyMs, 0, 'nothing changed');
  } finally {
    await s.close();
  }
});

test('admin on a non-loopback address needs a token; with one, requests without it get 401', async () => {
  assert.throws(() => resolveOptions({ host: '0.0.0.0', admin: true }), /need a token/);
  assert.throws(() => parseServeArgs(['--host', '0.0.0.0', '--admin']), /need a token/);
  assert.throws(() => resolveOptions({ adminToken: 'short' }), /at least 16 characters/);
  assert.doesNotThrow(() => resolveOptions({ host: '0.0.0.0' }), 'no admin: no token needed');
  const token = 'tok-0123456789abcdef';
  assert.deepEqual(parseServeArgs(['--admin-token', token]).adminToken, token);
  const s = await startServer({ port: 0, instances: 1, modelModule: LINEAR_MODEL_MODULE, adminToken: token });
  try {
    const none = await http(`${s.url}/admin/faults`, 'POST', { latencyMs: 5 });
    assert.equal(none.status, 401);
    assert.ok(!none.body.includes(token));
    assert.equal(
      (await http(`${s.url}/admin/faults`, 'POST', { latencyMs: 5 }, { authorization: 'Bearer wrong-token-0123456' }))
        .status,
      401,
    );
    const ok = await http(`${s.url}/admin/faults`, 'POST', { latencyMs: 5 }, { authorization: `Bearer ${token}` });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(s.faults().latencyMs, 5);
  } finally {
    await s.close();
  }
});

describe('bounded admin values and tensor values', () => {
  let s: ServerHandle;
  before(async () => {
    s = await startServer({ port: 0, instances: 1, modelModule: LINEAR_MODEL_MODULE, admin: true });
  });
  after(() => s.close());

  test('an out-of-range knob is a 400 naming the bound; the server keeps serving', async () => {
    for (const [k, v] of [
      ['leakBytesPerRequest', 1e15],
      ['leakMBPerMin', 1e9],
      ['latencyMs', 1e12],
      ['stallEveryMs', 1e300],
      ['jitterMs', 1e9],
    ] as const) {
      const r = await http(`${s.url}/admin/faults`, 'POST', { [k]: v });
      assert.equal(r.status, 400, `${k}=${v}: ${r.body}`);
      assert.match(r.body, new RegExp(`${k} must be at most ${FAULT_LIMITS[k]}`));
    }
    const ok = await http(`${s.url}/v2/models/digits/infer`, 'POST', infer(digitRow(1)));
    assert.equal(ok.status, 200, 'the next request is served');
    assert.equal(s.faults().leakBytesPerRequest, 0);
    assert.throws(() => parseServeArgs(['--leak-bytes-per-request', '1000000000000000']), /at most/);
  });

  test('1e999 (Infinity once parsed) or a value beyond FP32 in a tensor is a 400, never 200 with NaN', async () => {
    for (const bad of ['1e999', '-1e999', '1e39']) {
      const row: Array<number | string> = digitRow(2);
      row[5] = bad;
      const r = await http(`${s.url}/v2/models/digits/infer`, 'POST', infer(row));
      assert.equal(r.status, 400, `${bad}: ${r.status} ${r.body}`);
      assert.match(r.body, /not a finite FP32 number/);
    }
    const torch = await http(
      `${s.url}/predictions/digits`,
      'POST',
      `{"data":[${[...digitRow(3).slice(0, 63), '1e999'].join(',')}]}`,
    );
    assert.equal(torch.status, 400, torch.body);
    const tf = await http(
      `${s.url}/v1/models/digits:predict`,
      'POST',
      `{"instances":[[${[...digitRow(3).slice(0, 63), '1e999'].join(',')}]]}`,
    );
    assert.equal(tf.status, 400, tf.body);
    // Finite FP32 inputs so large the model overflows: still no NaN in a 200.
    const huge = await http(`${s.url}/v2/models/digits/infer`, 'POST', infer(digitRow(4).map(() => 3e38)));
    if (huge.status === 200) JSON.parse(huge.body);
    else assert.equal(huge.status, 400, huge.body);
  });
});
