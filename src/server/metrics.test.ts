import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.js';
import { Registry } from './metrics.js';
import { digitRow, http, LINEAR_MODEL_MODULE, parseExposition } from './testing.js';

test('registry renders valid exposition with escaping', () => {
  const r = new Registry();
  const c = r.counter('demo_total', 'A "demo"\ncounter with a \\ backslash.');
  c.inc({ path: 'a"b\\c\nd' }, 2);
  const h = r.histogram('demo_seconds', 'Demo histogram.', [0.1, 1]);
  h.observe({ k: 'v' }, 0.05);
  h.observe({ k: 'v' }, 0.5);
  h.observe({ k: 'v' }, 5);
  const m = parseExposition(r.render());
  assert.equal(m.value('demo_total', { path: 'a"b\\c\nd' }), 2);
  assert.equal(m.value('demo_seconds_bucket', { le: '0.1' }), 1);
  assert.equal(m.value('demo_seconds_bucket', { le: '1' }), 2);
  assert.equal(m.value('demo_seconds_bucket', { le: '+Inf' }), 3);
  assert.equal(m.value('demo_seconds_count'), 3);
  assert.equal(m.value('demo_seconds_sum'), 5.55);
  assert.throws(() => parseExposition('x 1\n'), /before its TYPE/);
});

test('GET /metrics parses as text exposition 0.0.4 with the documented families', async () => {
  const s = await startServer({ port: 0, instances: 1, modelModule: LINEAR_MODEL_MODULE });
  try {
    await http(`${s.url}/v2/models/digits/infer`, 'POST', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 64], data: [digitRow(1), digitRow(2)] }],
    });
    await http(`${s.url}/v2/models/digits/versions/v2/infer`, 'POST', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data: digitRow(3) }],
    });
    await http(`${s.url}/v2/models/digits/infer`, 'POST', { inputs: [] });
    await http(`${s.url}/v2/models/nope/infer`, 'POST', {});
    await http(`${s.url}/v1/chat/completions`, 'POST', {
      messages: [{ role: 'user', content: 'a b c' }],
      max_tokens: 2,
    });
    const r = await http(`${s.url}/metrics`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const m = parseExposition(r.body);
    const expected: Record<string, string> = {
      nv_inference_request_success: 'counter',
      nv_inference_request_failure: 'counter',
      nv_inference_count: 'counter',
      nv_inference_exec_count: 'counter',
      nv_inference_request_duration_us: 'counter',
      nv_inference_queue_duration_us: 'counter',
      nv_inference_compute_infer_duration_us: 'counter',
      nv_inference_pending_request_count: 'gauge',
      preflight_server_requests_in_flight: 'gauge',
      preflight_server_batch_size: 'histogram',
      preflight_server_http_requests_total: 'counter',
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      process_heap_bytes: 'gauge',
      preflight_llm_generation_tokens_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) {
      assert.equal(m.types.get(name), type, name);
      assert.ok(m.help.get(name), `HELP for ${name}`);
    }
    assert.equal(m.value('nv_inference_request_success', { model: 'digits', version: 'v1' }), 1);
    assert.equal(m.value('nv_inference_request_success', { model: 'digits', version: 'v2' }), 1);
    assert.equal(m.value('nv_inference_count', { version: 'v1' }), 2);
    assert.equal(m.value('nv_inference_request_failure', { model: 'digits', version: 'v1', reason: 'OTHER' }), 1);
    assert.equal(m.value('preflight_server_http_requests_total', { model: 'digits', version: 'v1', status: '200' }), 1);
    assert.equal(m.value('preflight_server_http_requests_total', { model: 'digits', version: 'v1', status: '400' }), 1);
    assert.equal(m.value('preflight_server_http_requests_total', { model: '', version: '', status: '404' }), 1);
    assert.equal(m.value('preflight_server_http_requests_total', { model: 'preflight-sim', status: '200' }), 1);
    assert.equal(m.value('preflight_server_requests_in_flight'), 1, 'the scrape itself');
    assert.ok(m.value('process_cpu_seconds_total') > 0);
    assert.ok(m.value('process_resident_memory_bytes') > 10e6);
    assert.ok(m.value('process_heap_bytes') > 1e6);
  } finally {
    await s.close();
  }
});
