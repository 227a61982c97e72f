/**
 * End to end through the server: the real reference model (src/model, onnxruntime) answering KServe v2
 * infer requests over HTTP for the whole held-out split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.js';
import { http, pool } from './testing.js';

test('v1 ≥ 95% and v2 lower on the held-out split, through KServe infer over HTTP', async (t) => {
  let model: typeof import('../model/index.js');
  try {
    model = await import('../model/index.js');
  } catch (e) {
    t.skip(`src/model not available: ${(e as Error).message}`);
    return;
  }
  const data = model.loadDigitsTestSplit();
  const s = await startServer({ port: 0, instances: 2 });
  try {
    assert.equal(s.model.fallback, false);
    const acc: Record<string, number> = {};
    const batch = 8;
    for (const v of ['v1', 'v2']) {
      let correct = 0;
      const chunks = Math.ceil(data.rows / batch);
      await pool(chunks, 8, async (c) => {
        const from = c * batch;
        const rows = Math.min(batch, data.rows - from);
        const x = Array.from(data.features.subarray(from * 64, (from + rows) * 64));
        const r = await http(`${s.url}/v2/models/digits/versions/${v}/infer`, 'POST', {
          inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 64], data: x }],
        });
        assert.equal(r.status, 200, r.body);
        assert.equal(r.json.model_version, v);
        const probs: number[] = r.json.outputs[0].data;
        for (let i = 0; i < rows; i++) {
          const p = probs.slice(i * 10, i * 10 + 10);
          if (p.indexOf(Math.max(...p)) === data.labels[from + i]) correct++;
        }
      });
      acc[v] = correct / data.rows;
    }
    t.diagnostic(`held-out rows ${data.rows}: v1 ${(acc.v1 * 100).toFixed(2)}%, v2 ${(acc.v2 * 100).toFixed(2)}%`);
    assert.ok(acc.v1 >= 0.95, `v1 accuracy ${acc.v1}`);
    assert.ok(acc.v2 < acc.v1, `v2 accuracy ${acc.v2} should be below v1 ${acc.v1}`);
  } finally {
    await s.close();
  }
});
