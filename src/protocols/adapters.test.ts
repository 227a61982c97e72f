import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PreflightError } from '../core/errors.js';
import type { ScenarioSummary, Summary } from '../core/results.js';
import { createAdapter, enrichSummary, mixTable, mixWeights, MIX_TABLE_SIZE } from './index.js';
import { compileChecks } from './checks.js';
import { fakeKserve, fakeTfserving, fakeTorchserve } from './testing/fake-servers.js';
import { json, MemoryRecorder, send, sendMany, startServer, testContext, testPlan } from './testing/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'preflight-adapters-'));
const csv = join(dir, 'rows.csv');
writeFileSync(csv, `id,f1,f2,label\n${Array.from({ length: 40 }, (_, i) => `${i},${i},${i},${i % 10}`).join('\n')}\n`);
const shard1 = { shard: { index: 0, count: 1 }, seed: 3 };

describe('traffic mixes', () => {
  it('weights are apportioned exactly; zipf(s) by listed order', () => {
    const t = mixTable(
      mixWeights([
        { name: 'a', weight: 3 },
        { name: 'b', weight: 1 },
      ]),
      1,
    );
    assert.equal(t.length, MIX_TABLE_SIZE);
    assert.equal(t.filter((x) => x === 0).length, 7500);
    const z = mixWeights(
      [
        { name: 'a', weight: 0 },
        { name: 'b', weight: 0 },
        { name: 'c', weight: 0 },
      ],
      1,
    );
    assert.ok(Math.abs(z[0] / z[1] - 2) < 1e-12 && Math.abs(z[0] / z[2] - 3) < 1e-12);
    assert.deepEqual(mixTable([0.5, 0.5], 9), mixTable([0.5, 0.5], 9));
  });

  it('picks a model per seq deterministically, sets group, judges by group', async () => {
    const srv = await fakeKserve();
    try {
      const plan = testPlan(srv.url, {
        protocol: 'kserve-v2',
        data: { file: csv, format: 'csv', order: 'sequential', label: 'label', batch: { min: 1, max: 1 } },
        quality: { task: 'classification', prediction: { kind: 'argmax' } },
        mix: {
          models: [
            { name: 'a', weight: 3 },
            { name: 'b', weight: 1, version: '2' },
          ],
        },
      });
      const a = await createAdapter(plan.scenarios[0], plan, shard1);
      await a.prepare!(testContext(srv.url));
      const groups = Array.from({ length: 4000 }, (_, s) => a.request(s).group);
      const na = groups.filter((g) => g === 'a').length;
      assert.ok(Math.abs(na / 4000 - 0.75) < 0.03, `a share ${na / 4000}`);
      assert.equal(a.request(1).group, groups[1]);
      const rb = Array.from({ length: 50 }, (_, s) => a.request(s)).find((r) => r.group === 'b')!;
      assert.equal(rb.path, '/v2/models/b/versions/2/infer');
      const rec = new MemoryRecorder();
      assert.equal((await send(a, srv.url, rb, rec)).cls, null);
      assert.equal(rec.counters['quality.scored'], 1);
    } finally {
      await srv.close();
    }
  });
});

describe('kserve-v2 specifics', () => {
  let srv: Awaited<ReturnType<typeof fakeKserve>>;
  before(async () => {
    srv = await fakeKserve({ width: 64 });
  });
  after(() => srv.close());

  it('synthetic inputs are shaped from model metadata at prepare()', async () => {
    const plan = testPlan(srv.url, {
      protocol: 'kserve-v2',
      model: 'digits',
      synthetic: { distribution: 'uniform', low: 0, high: 16, batch: 2 },
    });
    const a = await createAdapter(plan.scenarios[0], plan, shard1);
    await a.prepare!(testContext(srv.url));
    const b = JSON.parse(a.request(0).body!.toString());
    assert.equal(b.inputs[0].name, 'input');
    assert.deepEqual(b.inputs[0].shape, [2, 64]);
    assert.equal(b.inputs[0].data.length, 128);
    assert.equal(a.request(0), a.request(32), 'pool of 64 rows, 2 per request, cached');
    assert.equal((await send(a, srv.url, a.request(0), new MemoryRecorder())).cls, null);
  });

  it('the digits dataset drives it end to end; pre-encoded bodies', async () => {
    const plan = testPlan(srv.url, {
      protocol: 'kserve-v2',
      model: 'digits',
      data: {
        file: '/work/shared/datasets/digits.csv',
        format: 'csv',
        order: 'shuffle',
        label: 'label',
        batch: { min: 1, max: 8 },
      },
    });
    const a = await createAdapter(plan.scenarios[0], plan, shard1);
    await a.prepare!(testContext(srv.url));
    const rep = (a as unknown as { report(): { pre_encoded_bytes: number } }).report();
    assert.ok(rep.pre_encoded_bytes > 100_000);
    const r = a.request(5);
    const b = JSON.parse(r.body!.toString());
    assert.equal(b.inputs[0].shape[0], r.rows);
    assert.equal(b.inputs[0].data.length, 64 * r.rows!);
    assert.equal((await send(a, srv.url, r, new MemoryRecorder())).cls, null);
  });

  it('missing model / quality on empty outputs', async () => {
    const p1 = testPlan(srv.url, {
      protocol: 'kserve-v2',
      data: { file: csv, format: 'csv', order: 'sequential', batch: { min: 1, max: 1 } },
    });
    await assert.rejects(
      createAdapter(p1.scenarios[0], p1, shard1),
      (e: unknown) => e instanceof PreflightError && e.code === 'E_PLAN_INVALID',
    );
    const p2 = testPlan(srv.url, {
      protocol: 'kserve-v2',
      model: 'm',
      data: {
        file: csv,
        format: 'csv',
        order: 'sequential',
        label: 'label',
        inputs: [{ name: 'input', columns: ['id', 'f1', 'f2'], datatype: 'FP32' }],
        batch: { min: 2, max: 2 },
      },
      quality: { task: 'classification', prediction: { kind: 'argmax' } },
    });
    const a = await createAdapter(p2.scenarios[0], p2, shard1);
    srv.state.width = 3;
    srv.state.mode = 'empty';
    const rec = new MemoryRecorder();
    assert.equal((await send(a, srv.url, a.request(0), rec)).cls, null);
    assert.equal(rec.counters['quality.empty'], 2);
    srv.state.mode = 'ok';
    srv.state.width = 64;
  });
});

describe('tfserving specifics', () => {
  it('bare NaN in predictions is accepted (tolerant JSON)', async () => {
    const srv = await fakeTfserving({ nanOutputs: true });
    try {
      const plan = testPlan(srv.url, {
        protocol: 'tfserving',
        model: 'm',
        data: {
          file: csv,
          format: 'csv',
          order: 'sequential',
          label: 'label',
          inputs: [{ name: 'input', columns: ['id', 'f1', 'f2'], datatype: 'FP32' }],
          batch: { min: 4, max: 4 },
        },
        quality: { task: 'classification', prediction: { kind: 'argmax' } },
      });
      const a = await createAdapter(plan.scenarios[0], plan, shard1);
      await a.prepare!(testContext(srv.url));
      const rec = new MemoryRecorder();
      const cls = await sendMany(a, srv.url, 10, rec);
      assert.ok(cls.every((c) => c === null));
      assert.equal(rec.counters['quality.correct'], 30);
    } finally {
      await srv.close();
    }
  });
  it('a server with only :predict (no model status): not ready with a hint; tfserving.checkStatus false skips the check', async () => {
    // e.g. a scikit-learn service speaking TF Serving's predict API and nothing else
    const srv = await startServer((req, _body, res) => {
      if (req.method === 'POST' && req.url === '/v1/models/m:predict')
        return json(res, 200, { predictions: [[0.1, 0.9]] });
      return json(res, 404, { error: 'not found' });
    });
    try {
      const data = {
        file: csv,
        format: 'csv' as const,
        order: 'sequential' as const,
        inputs: [{ name: 'input', columns: ['id', 'f1', 'f2'], datatype: 'FP32' }],
        batch: { min: 1, max: 1 },
      };
      const strict = testPlan(srv.url, { protocol: 'tfserving', model: 'm', data });
      const a = await createAdapter(strict.scenarios[0], strict, shard1);
      await assert.rejects(a.prepare!(testContext(srv.url)), (e: unknown) => {
        assert.ok(e instanceof PreflightError && e.code === 'E_TARGET_NOT_READY', String(e));
        assert.match(e.problems.map((p) => p.hint ?? '').join(' '), /checkStatus: false/);
        return true;
      });
      const lax = testPlan(srv.url, {
        protocol: 'tfserving',
        model: 'm',
        data,
        tfserving: { format: 'row', checkStatus: false },
      });
      const b = await createAdapter(lax.scenarios[0], lax, shard1);
      await b.prepare!(testContext(srv.url));
      const cls = await sendMany(b, srv.url, 3, new MemoryRecorder());
      assert.deepEqual(cls, [null, null, null]);
    } finally {
      await srv.close();
    }
  });
});

describe('torchserve specifics', () => {
  it('raw payloads from a data column (utf8, base64, file)', async () => {
    const srv = await fakeTorchserve();
    try {
      writeFileSync(join(dir, 'img.bin'), Buffer.from([1, 2, 3, 4, 5]));
      const f = join(dir, 'raw.csv');
      writeFileSync(f, 'path,b64\nimg.bin,AAEC\n');
      for (const [column, encoding, len] of [
        ['path', 'file', 5],
        ['b64', 'base64', 3],
      ] as const) {
        const plan = testPlan(srv.url, {
          protocol: 'torchserve',
          model: 'm',
          data: { file: f, format: 'csv', order: 'sequential', batch: { min: 1, max: 1 } },
          torchserve: { payload: 'raw', column, encoding, contentType: 'image/png' },
        });
        const a = await createAdapter(plan.scenarios[0], plan, shard1);
        await a.prepare!(testContext(srv.url));
        assert.equal(a.request(0).body!.length, len);
        assert.equal(a.request(0).headers['content-type'], 'image/png');
        assert.equal((await send(a, srv.url, a.request(0), new MemoryRecorder())).cls, null);
      }
      writeFileSync(f, 'path\nmissing1.bin\nmissing2.bin\n');
      const plan = testPlan(srv.url, {
        protocol: 'torchserve',
        model: 'm',
        data: { file: f, format: 'csv', order: 'sequential', batch: { min: 1, max: 1 } },
        torchserve: { payload: 'raw', column: 'path', encoding: 'file' },
      });
      await assert.rejects(
        createAdapter(plan.scenarios[0], plan, shard1),
        (e: unknown) => e instanceof PreflightError && e.code === 'E_DATA_INVALID' && e.problems.length === 2,
      );
    } finally {
      await srv.close();
    }
  });
});

describe('checks grammar', () => {
  it('status rules and body checks', () => {
    const c = compileChecks([
      { expression: 'status in [200, 404]' },
      { expression: '$.n >= 2' },
      { expression: '$.tags contains "x"' },
      { expression: 'body matches /OK/i' },
      { expression: '$.a != null' },
    ]);
    assert.equal(c.statusVerdict(404), null);
    assert.equal(c.statusVerdict(500), 'http_5xx');
    assert.equal(c.statusVerdict(201), 'check_failed');
    const text = '{"n":3,"tags":["x"],"a":1,"s":"ok"}';
    assert.equal(
      c.evaluateBody(JSON.parse(text), () => text),
      null,
    );
    assert.equal(
      c.evaluateBody({ n: 1, tags: ['x'], a: 1 }, () => 'ok'),
      '$.n >= 2',
    );
    const none = compileChecks([]);
    assert.equal(none.statusVerdict(302), 'other');
    assert.equal(none.readsBody, false);
  });
});

function scen(counters: Record<string, number>, extra: Partial<ScenarioSummary> = {}): ScenarioSummary {
  return {
    executor: 'constant-arrival-rate',
    protocol: 'kserve-v2',
    model: 'open',
    durationS: 10,
    requests: 1000,
    ok: 990,
    errors: { timeout: 10 },
    error_rate: 0.01,
    throughput: 100,
    late: 0,
    unsent: 0,
    bytes_in: 0,
    bytes_out: 0,
    latency_ms: {} as ScenarioSummary['latency_ms'],
    service_time_ms: {} as ScenarioSummary['latency_ms'],
    ttfb_ms: {} as ScenarioSummary['latency_ms'],
    dispatch_lag_ms: {} as ScenarioSummary['latency_ms'],
    histograms: {},
    counters,
    ...extra,
  } as ScenarioSummary;
}

describe('enrichSummary', () => {
  it('quality, accuracy drop, golden, goodput and tokens — as sections and top-level numbers, groups too', () => {
    const plan = testPlan('http://127.0.0.1:1', { protocol: 'kserve-v2' });
    plan.scenarios = [
      { ...plan.scenarios[0], name: 'light', quality: { task: 'classification', prediction: { kind: 'argmax' } } },
      {
        ...plan.scenarios[0],
        name: 'heavy',
        quality: {
          task: 'classification',
          prediction: { kind: 'argmax' },
          reference: 'light',
          golden: { file: 'g', tolerance: 1e-3 },
        },
        openai: { endpoint: 'chat', stream: true, slo: { ttft: 500 } },
      },
    ];
    const light = scen(
      { 'quality.requests': 1000, 'quality.rows': 1000, 'quality.scored': 1000, 'quality.correct': 970 },
      { errors: {} },
    );
    const heavyCounters = {
      'quality.requests': 990,
      'quality.rows': 1980,
      'quality.scored': 1980,
      'quality.correct': 1800,
      'golden.compared': 1980,
      'golden.agree': 1970,
      'goodput.good': 500,
      'goodput.evaluated': 990,
      tokens_out: 20000,
      tokens_in: 5000,
      'finish.stop': 990,
    };
    const heavy = scen(heavyCounters, {
      maxes: { 'golden.max_diff_e6': 2500 },
      groups: { a: scen({ 'quality.requests': 10, 'quality.rows': 10, 'quality.scored': 10, 'quality.correct': 5 }) },
    } as Partial<ScenarioSummary>);
    const summary = { scenarios: { light, heavy }, total: scen({ ...heavyCounters }) } as unknown as Summary;
    enrichSummary(plan, summary);
    assert.equal(light.accuracy, 0.97);
    const q = light.quality as { ci95: [number, number]; effective_accuracy: number };
    assert.ok(q.ci95[0] < 0.97 && q.ci95[1] > 0.97 && q.ci95[0] > 0.95);
    assert.equal(heavy.accuracy, 0.909091);
    // effective: 1800 / (1980 + 10 failed × 2 rows per request)
    assert.equal(heavy.effective_accuracy, 0.9);
    assert.ok(Math.abs((heavy.accuracy_drop as number) - (0.97 - 1800 / 1980)) < 1e-6);
    const drop = (heavy.quality as { accuracy_drop: { ci95: [number, number]; p_value: number; significant: boolean } })
      .accuracy_drop;
    assert.ok(drop.ci95[0] > 0 && drop.ci95[1] > drop.ci95[0]);
    assert.ok(drop.significant && drop.p_value < 0.001);
    assert.equal(heavy.agreement, 0.994949);
    assert.equal((heavy.golden as { max_diff: number }).max_diff, 0.0025);
    assert.equal(heavy.goodput, 50);
    assert.equal(heavy.tokens_per_s, 2000);
    assert.equal((heavy.groups!.a as ScenarioSummary).accuracy, 0.5);
    assert.ok((heavy.groups!.a as ScenarioSummary).quality);
    assert.equal((summary.total as ScenarioSummary).accuracy, 0.909091);
  });
});
