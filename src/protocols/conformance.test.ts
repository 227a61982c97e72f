/**
 * One conformance suite, run for every adapter against a fake server speaking its protocol
 * (src/protocols/testing/fake-servers.ts): request shape, success, 4xx/5xx, malformed bodies,
 * prepare() failures, sharding, accuracy under a known error rate, golden outputs.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Adapter } from '../core/types.js';
import { PreflightError } from '../core/errors.js';
import type { ProtocolName, ScenarioPlan } from '../plan/types.js';
import { createAdapter } from './index.js';
import { fakeKserve, fakeOpenai, fakeTfserving, fakeTorchserve } from './testing/fake-servers.js';
import type { FakeServer } from './testing/fake-servers.js';
import { MemoryRecorder, send, sendMany, testContext, testPlan } from './testing/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'preflight-conf-'));
const ROWS = 40;
const csv = join(dir, 'rows.csv');
writeFileSync(
  csv,
  `id,f1,f2,label\n${Array.from({ length: ROWS }, (_, i) => `${i},${(i * 0.5).toFixed(1)},${i % 3},${i % 10}`).join('\n')}\n`,
);
const prompts = join(dir, 'prompts.jsonl');
writeFileSync(
  prompts,
  `${Array.from({ length: 8 }, (_, i) => JSON.stringify(i % 2 ? { prompt: `p${i}`, max_tokens: 8 } : { messages: [{ role: 'user', content: `m${i}` }] })).join('\n')}\n`,
);

type Seen = FakeServer['seen'][number];

interface Profile {
  name: string;
  protocol: ProtocolName;
  start(): Promise<FakeServer>;
  /** Scenario using the tensor dataset (id, f1, f2 → label), batch rows per request. */
  scenario(batch?: number): Partial<ScenarioPlan>;
  assertRequest(seen: Seen, rowIds: number[]): void;
  /** Has a metadata endpoint whose input width can disagree with the data. */
  metadata: boolean;
  /** Supports quality scoring. */
  quality: boolean;
  prepare: boolean;
}

const data = (batch = 1) => ({
  file: csv,
  format: 'csv' as const,
  order: 'sequential' as const,
  label: 'label',
  inputs: [{ name: 'input', columns: ['id', 'f1', 'f2'], datatype: 'FP32' }],
  batch: { min: batch, max: batch },
});
const dataDefaultInputs = (batch = 1) => ({
  file: csv,
  format: 'csv' as const,
  order: 'sequential' as const,
  label: 'label',
  batch: { min: batch, max: batch },
});

const profiles: Profile[] = [
  {
    name: 'http',
    protocol: 'http',
    start: () => fakeKserve(),
    scenario: () => ({
      request: {
        method: 'POST',
        path: '/v2/models/digits/infer',
        headers: {},
        body: '{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[{{id}},{{f1}},{{f2}}]}]}',
      },
      data: { ...dataDefaultInputs(1) },
    }),
    assertRequest(seen, ids) {
      assert.equal(seen.method, 'POST');
      assert.equal(seen.url, '/v2/models/digits/infer');
      assert.equal(seen.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(seen.body.toString()).inputs[0].data[0], ids[0]);
    },
    metadata: false,
    quality: true,
    prepare: false,
  },
  {
    name: 'kserve-v2',
    protocol: 'kserve-v2',
    start: () => fakeKserve(),
    scenario: (batch = 1) => ({ model: 'digits', data: dataDefaultInputs(batch) }),
    assertRequest(seen, ids) {
      assert.equal(seen.method, 'POST');
      assert.equal(seen.url, '/v2/models/digits/infer');
      const b = JSON.parse(seen.body.toString());
      assert.equal(b.inputs.length, 1);
      assert.equal(b.inputs[0].name, 'input');
      assert.equal(b.inputs[0].datatype, 'FP32');
      assert.deepEqual(b.inputs[0].shape, [ids.length, 3]);
      assert.deepEqual(
        b.inputs[0].data,
        ids.flatMap((i) => [i, Number((i * 0.5).toFixed(1)), i % 3]),
      );
    },
    metadata: true,
    quality: true,
    prepare: true,
  },
  {
    name: 'tfserving (row)',
    protocol: 'tfserving',
    start: () => fakeTfserving(),
    scenario: (batch = 1) => ({ model: 'digits', data: data(batch), tfserving: { format: 'row' } }),
    assertRequest(seen, ids) {
      assert.equal(seen.url, '/v1/models/digits:predict');
      assert.deepEqual(JSON.parse(seen.body.toString()), {
        instances: ids.map((i) => [i, Number((i * 0.5).toFixed(1)), i % 3]),
      });
    },
    metadata: true,
    quality: true,
    prepare: true,
  },
  {
    name: 'tfserving (columnar)',
    protocol: 'tfserving',
    start: () => fakeTfserving(),
    scenario: (batch = 1) => ({
      model: 'digits',
      modelVersion: '1',
      data: data(batch),
      tfserving: { format: 'columnar', signatureName: 'serving_default' },
    }),
    assertRequest(seen, ids) {
      assert.equal(seen.url, '/v1/models/digits/versions/1:predict');
      assert.deepEqual(JSON.parse(seen.body.toString()), {
        signature_name: 'serving_default',
        inputs: ids.map((i) => [i, Number((i * 0.5).toFixed(1)), i % 3]),
      });
    },
    metadata: true,
    quality: true,
    prepare: true,
  },
  {
    name: 'torchserve',
    protocol: 'torchserve',
    start: () => fakeTorchserve(),
    scenario: (batch = 1) => ({ model: 'digits', data: data(batch) }),
    assertRequest(seen, ids) {
      assert.equal(seen.url, '/predictions/digits');
      const rows = ids.map((i) => [i, Number((i * 0.5).toFixed(1)), i % 3]);
      assert.deepEqual(JSON.parse(seen.body.toString()), rows.length === 1 ? rows[0] : rows);
    },
    metadata: false,
    quality: true,
    prepare: true,
  },
];

function ctx(n = 1, k = 0) {
  return { shard: { index: k, count: n }, seed: 7 };
}

async function make(
  url: string,
  sc: Partial<ScenarioPlan> & { protocol: ProtocolName },
  shard = ctx(),
): Promise<Adapter> {
  const plan = testPlan(url, sc);
  const a = await createAdapter(plan.scenarios[0], plan, shard);
  if (a.prepare) await a.prepare(testContext(url, shard.shard));
  return a;
}

for (const p of profiles) {
  describe(`conformance: ${p.name}`, () => {
    let srv: FakeServer;
    before(async () => {
      srv = await p.start();
    });
    after(() => srv.close());
    const reset = () => {
      srv.state.mode = 'ok';
      srv.state.ready = true;
      srv.state.modelReady = true;
      srv.state.width = 3;
      srv.seen.length = 0;
    };

    it('request shape', async () => {
      reset();
      const a = await make(srv.url, { protocol: p.protocol, ...p.scenario() });
      const r = a.request(0);
      assert.equal(r.row, 0);
      assert.equal(r.rows, 1);
      await send(a, srv.url, r, new MemoryRecorder());
      p.assertRequest(srv.seen[srv.seen.length - 1], [0]);
      if (p.protocol !== 'http') {
        const b = await make(srv.url, { protocol: p.protocol, ...p.scenario(4) });
        const r4 = b.request(1);
        assert.equal(r4.row, 4);
        assert.equal(r4.rows, 4);
        await send(b, srv.url, r4, new MemoryRecorder());
        p.assertRequest(srv.seen[srv.seen.length - 1], [4, 5, 6, 7]);
      }
    });

    it('pre-encodes: the same object for a row it has built before', async () => {
      reset();
      const a = await make(srv.url, { protocol: p.protocol, ...p.scenario() });
      assert.equal(a.request(3), a.request(3 + ROWS));
    });

    it('success, 4xx, 5xx', async () => {
      reset();
      const a = await make(srv.url, { protocol: p.protocol, ...p.scenario() });
      const rec = new MemoryRecorder();
      assert.equal((await send(a, srv.url, a.request(0), rec)).cls, null);
      srv.state.mode = '4xx';
      assert.equal((await send(a, srv.url, a.request(1), rec)).cls, 'http_4xx');
      srv.state.mode = '5xx';
      assert.equal((await send(a, srv.url, a.request(2), rec)).cls, 'http_5xx');
    });

    it('malformed body → invalid_response (when the body is read)', async () => {
      reset();
      const sc = {
        protocol: p.protocol,
        ...p.scenario(),
        quality: {
          task: 'classification' as const,
          prediction:
            p.protocol === 'http' ? { kind: 'path' as const, path: '$.outputs[0].data' } : { kind: 'argmax' as const },
        },
      };
      const a = await make(srv.url, sc);
      assert.equal(a.bodyMode, 'full');
      srv.state.mode = 'malformed';
      assert.equal((await send(a, srv.url, a.request(0), new MemoryRecorder())).cls, 'invalid_response');
      if (p.protocol !== 'http') {
        srv.state.mode = 'errbody';
        assert.equal((await send(a, srv.url, a.request(0), new MemoryRecorder())).cls, 'invalid_response');
      }
    });

    it('bodyMode none without checks or quality', async () => {
      reset();
      const a = await make(srv.url, { protocol: p.protocol, ...p.scenario() });
      assert.equal(a.bodyMode, 'none');
    });

    if (p.prepare) {
      it('prepare(): not ready → E_TARGET_NOT_READY; unreachable → E_TARGET_UNREACHABLE', async () => {
        reset();
        const plan = testPlan(srv.url, { protocol: p.protocol, ...p.scenario() });
        const a = await createAdapter(plan.scenarios[0], plan, ctx());
        srv.state.ready = false;
        srv.state.modelReady = false;
        await assert.rejects(
          a.prepare!(testContext(srv.url)),
          (e: unknown) => e instanceof PreflightError && e.code === 'E_TARGET_NOT_READY' && e.exitCode === 5,
        );
        reset();
        await a.prepare!(testContext(srv.url));
        await assert.rejects(
          a.prepare!(testContext('http://127.0.0.1:1')),
          (e: unknown) => e instanceof PreflightError && e.code === 'E_TARGET_UNREACHABLE',
        );
      });
    }

    if (p.metadata) {
      it('prepare(): data that does not fit the model → E_MODEL_MISMATCH before load', async () => {
        reset();
        srv.state.width = 64;
        const plan = testPlan(srv.url, { protocol: p.protocol, ...p.scenario() });
        const a = await createAdapter(plan.scenarios[0], plan, ctx());
        await assert.rejects(a.prepare!(testContext(srv.url)), (e: unknown) => {
          assert.ok(e instanceof PreflightError);
          assert.equal(e.code, 'E_MODEL_MISMATCH');
          assert.match(e.message, /64/);
          assert.match(e.message, /3 values per row/);
          return true;
        });
        assert.equal(srv.seen.filter((s) => s.method === 'POST').length, 0, 'no load sent');
        reset();
        srv.state.datatype = 'BYTES';
        await assert.rejects(
          a.prepare!(testContext(srv.url)),
          (e: unknown) => e instanceof PreflightError && e.code === 'E_MODEL_MISMATCH' && /BYTES/.test(e.message),
        );
        srv.state.datatype = 'FP32';
      });
    }

    if (p.quality) {
      for (const batch of p.protocol === 'http' ? [1] : [1, 4]) {
        it(`accuracy under load is exact: every 4th answer wrong → 0.75 (batch ${batch})`, async () => {
          reset();
          const pred =
            p.protocol === 'http' ? { kind: 'path' as const, path: '$.outputs[0].data' } : { kind: 'argmax' as const };
          const a = await make(srv.url, {
            protocol: p.protocol,
            ...p.scenario(batch),
            quality: { task: 'classification', prediction: pred },
          });
          const rec = new MemoryRecorder();
          const cls = await sendMany(a, srv.url, ROWS / batch, rec);
          assert.ok(cls.every((c) => c === null));
          assert.equal(rec.counters['quality.scored'], ROWS);
          assert.equal(rec.counters['quality.correct'], ROWS * 0.75);
          assert.equal(rec.counters['quality.rows'], ROWS);
          assert.equal(rec.counters['quality.requests'], ROWS / batch);
        });
      }

      it('shards divide the rows: two shards together score every row once', async () => {
        reset();
        const pred =
          p.protocol === 'http' ? { kind: 'path' as const, path: '$.outputs[0].data' } : { kind: 'argmax' as const };
        const sc = {
          protocol: p.protocol,
          ...p.scenario(),
          quality: { task: 'classification' as const, prediction: pred },
        };
        const rec = new MemoryRecorder();
        const rows: number[] = [];
        for (const k of [0, 1]) {
          const a = await make(srv.url, sc, ctx(2, k));
          for (let s = 0; s < ROWS / 2; s++) {
            const r = a.request(s);
            rows.push(r.row!);
            await send(a, srv.url, r, rec);
          }
        }
        assert.deepEqual(
          rows.sort((x, y) => x - y),
          Array.from({ length: ROWS }, (_, i) => i),
        );
        assert.equal(rec.counters['quality.correct'], 30);
      });

      it('golden outputs: save from a reference run, then agreement under drift', async () => {
        reset();
        const gfile = join(dir, `golden-${p.name.replace(/\W+/g, '-')}.jsonl`);
        const pred =
          p.protocol === 'http' ? { kind: 'path' as const, path: '$.outputs[0].data' } : { kind: 'argmax' as const };
        const perReq = p.protocol === 'http' ? 1 : 2;
        const save = await make(srv.url, {
          protocol: p.protocol,
          ...p.scenario(2),
          quality: { task: 'classification', prediction: pred, saveGolden: gfile },
        });
        await sendMany(save, srv.url, ROWS / perReq, new MemoryRecorder());
        await save.finish!();
        const lines = readFileSync(gfile, 'utf8').trim().split('\n');
        assert.equal(lines.length, ROWS);
        assert.deepEqual(JSON.parse(lines[3]), {
          row: 3,
          output: [0.01, 0.01, 0.01, 0.01, 0.91, 0.01, 0.01, 0.01, 0.01, 0.01],
        });
        srv.state.mode = 'drift';
        const cmp = await make(srv.url, {
          protocol: p.protocol,
          ...p.scenario(2),
          quality: { task: 'classification', prediction: pred, golden: { file: gfile, tolerance: 0.001 } },
        });
        const rec = new MemoryRecorder();
        await sendMany(cmp, srv.url, ROWS / perReq, rec);
        assert.equal(rec.counters['golden.compared'], ROWS);
        assert.equal(rec.counters['golden.agree'], ROWS * 0.8);
        assert.equal(rec.maxes['golden.max_diff_e6'], 10000);
        const rep = (
          cmp as unknown as { report(): { golden_worst: Array<{ row: number; max_diff: number }> } }
        ).report();
        assert.equal(rep.golden_worst.length, 5);
        assert.ok(rep.golden_worst.every((w) => w.row % 5 === 0 && Math.abs(w.max_diff - 0.01) < 1e-9));
      });
    }
  });
}

describe('conformance: openai', () => {
  let srv: Awaited<ReturnType<typeof fakeOpenai>>;
  before(async () => {
    srv = await fakeOpenai({ firstMs: 5, gapMs: 2, chunks: 4, usageTokens: 4 });
  });
  after(() => srv.close());
  const sc = (endpoint: 'chat' | 'completions', stream = true): Partial<ScenarioPlan> & { protocol: ProtocolName } => ({
    protocol: 'openai',
    model: 'tiny',
    openai: { endpoint, stream, maxTokens: 16 },
    data: { file: prompts, format: 'jsonl', order: 'sequential', batch: { min: 1, max: 1 } },
  });

  it('request shape (chat and completions)', async () => {
    srv.state.mode = 'ok';
    const chat = await make(srv.url, sc('chat'));
    assert.equal(chat.bodyMode, 'stream');
    const b0 = JSON.parse(chat.request(0).body!.toString());
    assert.deepEqual(b0, {
      model: 'tiny',
      messages: [{ role: 'user', content: 'm0' }],
      max_tokens: 16,
      stream: true,
      stream_options: { include_usage: true },
    });
    const b1 = JSON.parse(chat.request(1).body!.toString());
    assert.deepEqual(b1.messages, [{ role: 'user', content: 'p1' }]);
    assert.equal(b1.max_tokens, 8);
    assert.equal(chat.request(0).path, '/v1/chat/completions');
    const comp = await make(srv.url, sc('completions', false));
    const c0 = JSON.parse(comp.request(0).body!.toString());
    assert.deepEqual(c0, { model: 'tiny', prompt: 'm0', max_tokens: 16, stream: false });
    assert.equal(comp.request(0).path, '/v1/completions');
  });

  it('success, 4xx, 5xx, malformed', async () => {
    for (const stream of [true, false]) {
      const a = await make(srv.url, sc('chat', stream));
      const rec = new MemoryRecorder();
      srv.state.mode = 'ok';
      assert.equal((await send(a, srv.url, a.request(0), rec)).cls, null);
      srv.state.mode = '4xx';
      assert.equal((await send(a, srv.url, a.request(0), rec)).cls, 'http_4xx');
      srv.state.mode = '5xx';
      assert.equal((await send(a, srv.url, a.request(0), rec)).cls, 'http_5xx');
      srv.state.mode = 'malformed';
      assert.equal((await send(a, srv.url, a.request(0), rec)).cls, 'invalid_response');
      srv.state.mode = 'ok';
    }
  });

  it('prepare(): unreachable → E_TARGET_UNREACHABLE; unknown model → E_MODEL_MISMATCH', async () => {
    const plan = testPlan(srv.url, sc('chat'));
    const a = await createAdapter(plan.scenarios[0], plan, ctx());
    await a.prepare!(testContext(srv.url));
    await assert.rejects(
      a.prepare!(testContext('http://127.0.0.1:1')),
      (e: unknown) => e instanceof PreflightError && e.code === 'E_TARGET_UNREACHABLE',
    );
    const plan2 = testPlan(srv.url, { ...sc('chat'), model: 'huge' });
    const b = await createAdapter(plan2.scenarios[0], plan2, ctx());
    await assert.rejects(
      b.prepare!(testContext(srv.url)),
      (e: unknown) => e instanceof PreflightError && e.code === 'E_MODEL_MISMATCH',
    );
  });
});
