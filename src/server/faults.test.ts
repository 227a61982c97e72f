import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from './server.js';
import type { ServerHandle } from './server.js';
import { NO_FAULTS } from './options.js';
import { digitRow, http, LINEAR_MODEL_MODULE, parseExposition, pool, sse } from './testing.js';

const body = (row: number[]) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data: row }] });

describe('fault knobs', () => {
  let s: ServerHandle;
  let inferUrl: string;
  before(async () => {
    s = await startServer({
      port: 0,
      instances: 1,
      modelModule: LINEAR_MODEL_MODULE,
      admin: true,
      seed: 42,
      llmTokenTimeMs: 20,
      llmPrefillBaseMs: 0,
    });
    inferUrl = `${s.url}/v2/models/digits/infer`;
  });
  after(() => s.close());

  test('off by default; GET/POST/DELETE /admin/faults', async () => {
    assert.deepEqual((await http(`${s.url}/admin/faults`)).json, NO_FAULTS);
    const set = await http(`${s.url}/admin/faults`, 'POST', { latencyMs: 5, errorRate: 0.1 });
    assert.equal(set.status, 200);
    assert.deepEqual(set.json, { ...NO_FAULTS, latencyMs: 5, errorRate: 0.1 });
    // Merge: keys not given stay.
    assert.deepEqual((await http(`${s.url}/admin/faults`, 'POST', { jitterMs: 3 })).json, {
      ...NO_FAULTS,
      latencyMs: 5,
      errorRate: 0.1,
      jitterMs: 3,
    });
    for (const bad of [{ errorRate: 2 }, { latencyMs: -1 }, { nope: 1 }, { stallEveryMs: 100, stallMs: 100 }, [1]]) {
      const r = await http(`${s.url}/admin/faults`, 'POST', bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.equal(typeof r.json.error, 'string');
    }
    assert.deepEqual(
      s.faults(),
      { ...NO_FAULTS, latencyMs: 5, errorRate: 0.1, jitterMs: 3 },
      'invalid updates change nothing',
    );
    assert.deepEqual((await http(`${s.url}/admin/faults`, 'DELETE')).json, NO_FAULTS);
    assert.deepEqual((await http(`${s.url}/admin/faults`, 'POST', { latencyMs: 5, reset: true })).json, {
      ...NO_FAULTS,
      latencyMs: 5,
    });
    s.setFaults({ ...NO_FAULTS });
  });

  test('latencyMs adds at least the configured latency; jitter adds more', async () => {
    s.setFaults({ latencyMs: 150 });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await http(inferUrl, 'POST', body(digitRow(i)));
        assert.equal(r.status, 200);
        assert.ok(r.ms >= 149, `took ${r.ms} ms`);
      }
      s.setFaults({ latencyMs: 60, jitterMs: 60 });
      const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => http(inferUrl, 'POST', body(digitRow(i)))));
      for (const r of rs) assert.ok(r.ms >= 59, `took ${r.ms} ms`);
      const m = parseExposition((await http(`${s.url}/metrics`)).body);
      assert.ok(m.value('nv_inference_request_duration_us') >= (3 * 150 + 10 * 60) * 1000 * 0.98);
    } finally {
      s.setFaults({ ...NO_FAULTS });
    }
  });

  test('errorRate answers about that fraction with 500 {"error":"injected fault"}', async () => {
    s.setFaults({ errorRate: 0.3 });
    try {
      const n = 300;
      const rs = await pool(n, 16, (i) => http(inferUrl, 'POST', body(digitRow(i))));
      const errors = rs.filter((r) => r.status === 500);
      assert.ok(rs.every((r) => r.status === 200 || r.status === 500));
      for (const e of errors) assert.deepEqual(e.json, { error: 'injected fault' });
      // Binomial(300, 0.3): mean 90, sd ≈ 7.9; accept ±5 sd.
      assert.ok(errors.length >= 50 && errors.length <= 130, `${errors.length} errors of ${n}`);
      const m = parseExposition((await http(`${s.url}/metrics`)).body);
      assert.equal(m.value('nv_inference_request_failure', { reason: 'INJECTED' }), errors.length);
      // Other protocols and the simulator too.
      s.setFaults({ errorRate: 1 });
      assert.equal((await http(`${s.url}/v1/models/digits:predict`, 'POST', { instances: [digitRow()] })).status, 500);
      const torch = await http(`${s.url}/predictions/digits`, 'POST', { data: digitRow() });
      assert.equal(torch.status, 500);
      assert.equal(torch.json.message, 'injected fault');
      const chat = await http(`${s.url}/v1/chat/completions`, 'POST', {
        model: 'preflight-sim',
        messages: [{ role: 'user', content: 'hi' }],
      });
      assert.equal(chat.status, 500);
      assert.equal(chat.json.error.message, 'injected fault');
    } finally {
      s.setFaults({ ...NO_FAULTS });
    }
  });

  test('periodic stall holds every reply (admin excepted) until the stall ends', async () => {
    const t0 = performance.now();
    s.setFaults({ stallEveryMs: 600, stallMs: 300 });
    try {
      // Stalls cover [600, 900) ms, [1200, 1500) ms, … after the knobs were set.
      await sleep(Math.max(0, t0 + 650 - performance.now()));
      const sentAt = performance.now();
      const [infer, health, admin] = await Promise.all([
        http(inferUrl, 'POST', body(digitRow())),
        http(`${s.url}/v2/health/ready`),
        http(`${s.url}/admin/faults`),
      ]);
      const doneAt = performance.now();
      assert.equal(infer.status, 200);
      assert.equal(health.status, 200);
      assert.equal(admin.status, 200);
      if (sentAt - t0 < 880) {
        // Sent inside the stall: nothing but admin may come back before it ends.
        assert.ok(sentAt + infer.ms >= t0 + 895, `infer answered at ${sentAt + infer.ms - t0} ms`);
        assert.ok(sentAt + health.ms >= t0 + 895, `health answered at ${sentAt + health.ms - t0} ms`);
      }
      assert.ok(doneAt - t0 >= 895);
    } finally {
      s.setFaults({ ...NO_FAULTS });
    }
  });

  test('a stall holds the chunks of a running SSE stream', async () => {
    s.setFaults({ stallEveryMs: 500, stallMs: 300 });
    try {
      const r = await sse(`${s.url}/v1/completions`, { prompt: 'stall me', max_tokens: 50, stream: true });
      assert.equal(r.status, 200);
      assert.equal(r.events.at(-1)!.data, '[DONE]');
      const gaps = r.events.slice(1).map((e, i) => e.ms - r.events[i].ms);
      assert.ok(Math.max(...gaps) >= 200, `largest gap between chunks ${Math.max(...gaps)} ms`);
    } finally {
      s.setFaults({ ...NO_FAULTS });
    }
  });

  test('leakBytesPerRequest retains memory: RSS and heap grow', async () => {
    const before = parseExposition((await http(`${s.url}/metrics`)).body);
    s.setFaults({ leakBytesPerRequest: 512 * 1024 });
    try {
      await pool(100, 8, (i) => http(inferUrl, 'POST', body(digitRow(i))));
      const after = parseExposition((await http(`${s.url}/metrics`)).body);
      const leaked = after.value('preflight_server_leaked_bytes') - before.value('preflight_server_leaked_bytes');
      assert.equal(leaked, 100 * 512 * 1024);
      const rss = after.value('process_resident_memory_bytes') - before.value('process_resident_memory_bytes');
      const heap = after.value('process_heap_bytes') - before.value('process_heap_bytes');
      assert.ok(rss > leaked * 0.5, `RSS grew ${rss} bytes for ${leaked} leaked`);
      assert.ok(heap > leaked * 0.5, `heap grew ${heap} bytes for ${leaked} leaked`);
    } finally {
      s.setFaults({ leakBytesPerRequest: 0 });
    }
    // Memory stays leaked until freed explicitly.
    assert.ok(
      parseExposition((await http(`${s.url}/metrics`)).body).value('preflight_server_leaked_bytes') >= 100 * 512 * 1024,
    );
    await http(`${s.url}/admin/faults`, 'POST', { freeLeaked: true });
    assert.equal(parseExposition((await http(`${s.url}/metrics`)).body).value('preflight_server_leaked_bytes'), 0);
  });

  test('leakMBPerMin grows memory over time without traffic', async () => {
    s.setFaults({ leakMBPerMin: 600 }); // 10 MiB/s, 2.5 MiB per 250 ms tick
    try {
      await sleep(1100);
      const leaked = parseExposition((await http(`${s.url}/metrics`)).body).value('preflight_server_leaked_bytes');
      assert.ok(leaked >= 2 * 2.5 * 1024 * 1024, `leaked ${leaked}`);
    } finally {
      s.setFaults({ leakMBPerMin: 0 });
      await http(`${s.url}/admin/faults`, 'POST', { freeLeaked: true });
    }
  });

  test('version switch: POST /admin/version and setVersion change model_version of unversioned requests', async () => {
    const infer = async () => (await http(inferUrl, 'POST', body(digitRow()))).json.model_version as string;
    assert.equal(await infer(), 'v1');
    assert.deepEqual((await http(`${s.url}/admin/version`)).json, {
      model: 'digits',
      version: 'v1',
      versions: ['v1', 'v2'],
    });
    const sw = await http(`${s.url}/admin/version`, 'POST', { version: 'v2' });
    assert.equal(sw.status, 200);
    assert.deepEqual(sw.json, { model: 'digits', version: 'v2', previous: 'v1' });
    assert.equal(await infer(), 'v2');
    assert.equal((await http(`${s.url}/v1/models/digits:predict`, 'POST', { instances: [digitRow()] })).status, 200);
    const m = parseExposition((await http(`${s.url}/metrics`)).body);
    assert.equal(m.value('preflight_server_served_version', { version: 'v2' }), 1);
    assert.equal(m.value('preflight_server_served_version', { version: 'v1' }), 0);
    assert.equal((await http(`${s.url}/admin/version`, 'POST', { version: 'v9' })).status, 400);
    s.setVersion('v1');
    assert.equal(s.version, 'v1');
    assert.equal(await infer(), 'v1');
    assert.throws(() => s.setVersion('v3'), /unknown version/);
  });
});

test('admin: false hides /admin/*', async () => {
  const s = await startServer({ port: 0, instances: 1, modelModule: LINEAR_MODEL_MODULE, admin: false });
  try {
    assert.equal((await http(`${s.url}/admin/faults`)).status, 404);
    assert.equal((await http(`${s.url}/admin/version`, 'POST', { version: 'v2' })).status, 404);
  } finally {
    await s.close();
  }
});
