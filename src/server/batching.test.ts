import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from './server.js';
import { linearForward } from './linear-model.js';
import { digitRow, http, LINEAR_MODEL_MODULE, parseExposition } from './testing.js';

const body = (row: number[]) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data: row }] });

describe('dynamic batching', () => {
  test('64 concurrent requests form batches > 1, each answer is its own row (both versions)', async () => {
    const s = await startServer({
      port: 0,
      instances: 1,
      modelModule: LINEAR_MODEL_MODULE,
      maxQueueDelayMs: 5,
      maxBatchSize: 32,
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 64 }, (_, i) => {
          const v = i % 2 ? 'v2' : 'v1';
          return http(`${s.url}/v2/models/digits/versions/${v}/infer`, 'POST', body(digitRow(i))).then((r) => ({
            r,
            i,
            v,
          }));
        }),
      );
      for (const { r, i, v } of results) {
        assert.equal(r.status, 200, r.body);
        assert.equal(r.json.model_version, v);
        assert.deepEqual(
          r.json.outputs[0].data,
          Array.from(linearForward(v, Float32Array.from(digitRow(i)), 1)),
          `row ${i}`,
        );
      }
      const m = parseExposition((await http(`${s.url}/metrics`)).body);
      const inferences = m.value('nv_inference_count');
      const execs = m.value('nv_inference_exec_count');
      assert.equal(inferences, 64);
      assert.equal(m.value('nv_inference_request_success'), 64);
      assert.ok(execs >= 2, 'two versions need at least two batches');
      assert.ok(inferences / execs > 1, `mean batch size ${inferences / execs} should be > 1`);
      assert.equal(m.value('preflight_server_batch_size_sum'), 64);
      assert.equal(m.value('preflight_server_batch_size_count'), execs);
      assert.ok(m.value('preflight_server_batch_size_bucket', { le: '32' }) === execs, 'no batch above maxBatchSize');
      assert.ok(m.value('nv_inference_queue_duration_us') > 0);
      assert.ok(m.value('nv_inference_compute_infer_duration_us') > 0);
      assert.ok(m.value('nv_inference_request_duration_us') >= m.value('nv_inference_queue_duration_us'));
    } finally {
      await s.close();
    }
  });

  test('several instances execute batches at the same time', async () => {
    const s = await startServer({
      port: 0,
      instances: 2,
      modelModule: LINEAR_MODEL_MODULE,
      modelOptions: { delayMs: 400 },
      maxBatchSize: 1,
      maxQueueDelayMs: 0,
    });
    try {
      const pending = Array.from({ length: 4 }, (_, i) =>
        http(`${s.url}/v2/models/digits/infer`, 'POST', body(digitRow(i))),
      );
      await sleep(200);
      const m = parseExposition((await http(`${s.url}/metrics`)).body);
      assert.equal(m.value('preflight_server_batches_executing'), 2);
      assert.equal(m.value('nv_inference_pending_request_count', { version: 'v1' }), 2);
      assert.equal(m.value('preflight_server_queue_rows', { version: 'v1' }), 2);
      for (const r of await Promise.all(pending)) assert.equal(r.status, 200);
    } finally {
      await s.close();
    }
  });
});

describe('bounded queue and shedding', () => {
  const slow = {
    modelModule: LINEAR_MODEL_MODULE,
    modelOptions: { delayMs: 300 },
    instances: 1,
    maxBatchSize: 1,
    maxQueueDelayMs: 0,
  };

  test('full queue → 503 with Retry-After: 1 and {"error":"queue full"}', async () => {
    const s = await startServer({ port: 0, maxQueue: 4, ...slow });
    try {
      const rs = await Promise.all(
        Array.from({ length: 14 }, (_, i) => http(`${s.url}/v2/models/digits/infer`, 'POST', body(digitRow(i)))),
      );
      const shed = rs.filter((r) => r.status === 503);
      const ok = rs.filter((r) => r.status === 200);
      assert.equal(shed.length + ok.length, rs.length, `statuses: ${rs.map((r) => r.status)}`);
      assert.ok(shed.length >= 1, 'some requests must be shed');
      assert.ok(ok.length >= 1 && ok.length <= 14 - 1);
      for (const r of shed) {
        assert.equal(r.headers['retry-after'], '1');
        assert.deepEqual(r.json, { error: 'queue full' });
      }
      const m = parseExposition((await http(`${s.url}/metrics`)).body);
      assert.equal(m.value('nv_inference_request_failure', { reason: 'REJECTED' }), shed.length);
      assert.equal(m.value('preflight_server_http_requests_total', { model: 'digits', status: '503' }), shed.length);
    } finally {
      await s.close();
    }
  });

  test('shedStatus 429 on every protocol', async () => {
    const s = await startServer({ port: 0, maxQueue: 1, shedStatus: 429, ...slow });
    try {
      const urls = [
        [`${s.url}/v2/models/digits/infer`, body(digitRow())],
        [`${s.url}/v1/models/digits:predict`, { instances: [digitRow()] }],
        [`${s.url}/predictions/digits`, { data: digitRow() }],
      ] as const;
      const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => http(urls[i % 3][0], 'POST', urls[i % 3][1])));
      const shed = rs.filter((r) => r.status === 429);
      assert.ok(shed.length >= 3, `statuses: ${rs.map((r) => r.status)}`);
      assert.ok(shed.every((r) => r.headers['retry-after'] === '1'));
      assert.ok(rs.every((r) => r.status === 200 || r.status === 429));
    } finally {
      await s.close();
    }
  });

  test('unboundedQueue never sheds', async () => {
    const s = await startServer({ port: 0, maxQueue: 1, unboundedQueue: true, ...slow, modelOptions: { delayMs: 40 } });
    try {
      const rs = await Promise.all(
        Array.from({ length: 12 }, (_, i) => http(`${s.url}/v2/models/digits/infer`, 'POST', body(digitRow(i)))),
      );
      assert.deepEqual(
        rs.map((r) => r.status),
        rs.map(() => 200),
      );
    } finally {
      await s.close();
    }
  });
});
