import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ProtocolName, ScenarioPlan } from '../plan/types.js';
import { PreflightError } from '../core/errors.js';
import { createAdapter } from './index.js';
import { OpenaiObserver, parseSlo } from './openai.js';
import { SseParser } from './sse.js';
import { fakeOpenai } from './testing/fake-servers.js';
import { MemoryRecorder, send, testPlan } from './testing/helpers.js';

const MS = 1000; // µs per ms
const TOL = 30 * MS; // generous: 2 noisy cores

function scenario(extra: Partial<ScenarioPlan> = {}): Partial<ScenarioPlan> & { protocol: ProtocolName } {
  return { protocol: 'openai', model: 'tiny', openai: { endpoint: 'chat', stream: true, maxTokens: 16 }, ...extra };
}

describe('SSE parser', () => {
  const stream =
    ': keep-alive\n\ndata: {"a":1}\n\nevent: x\ndata: line1\ndata: line2\r\n\r\ndata: é€😀\n\ndata: [DONE]\n\n';
  const expected = ['{"a":1}', 'line1\nline2', 'é€😀', '[DONE]'];

  it('gives the same events whatever the byte splits (every single split point, and 1-byte chunks)', () => {
    const bytes = Buffer.from(stream, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got: string[] = [];
      const p = new SseParser((d) => got.push(d));
      p.push(bytes.subarray(0, cut));
      p.push(bytes.subarray(cut));
      p.end();
      assert.deepEqual(got, expected, `split at ${cut}`);
    }
    const got: string[] = [];
    const p = new SseParser((d) => got.push(d));
    for (let i = 0; i < bytes.length; i++) p.push(bytes.subarray(i, i + 1));
    p.end();
    assert.deepEqual(got, expected);
    assert.equal(p.comments, 1);
  });

  it('CR-only line ends, and a last event without its blank line', () => {
    const got: string[] = [];
    const p = new SseParser((d) => got.push(d));
    p.push('data: a\r\rdata: b\r');
    p.push('\ndata: c');
    p.end();
    assert.deepEqual(got, ['a', 'b\nc']);
  });
});

describe('openai streaming metrics (known timing: first chunk at 100 ms, then every 20 ms, 10 chunks, split mid-line)', () => {
  let srv: Awaited<ReturnType<typeof fakeOpenai>>;
  before(async () => {
    srv = await fakeOpenai({ firstMs: 100, gapMs: 20, chunks: 10, usageTokens: 10, split: true });
  });
  after(() => srv.close());

  it('ttft, itl, tpot, e2e, tokens, finish, goodput', async () => {
    const plan = testPlan(
      srv.url,
      scenario({ openai: { endpoint: 'chat', stream: true, maxTokens: 16, slo: { ttft: 500, tpot: 50 } } }),
    );
    const a = await createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 1 }, seed: 1 });
    // warm-up: connection, JIT; the measured request then shows protocol timing, not start-up cost
    await send(a, srv.url, a.request(0), new MemoryRecorder());
    const rec = new MemoryRecorder();
    const res = await send(a, srv.url, a.request(0), rec);
    assert.equal(res.cls, null);
    const [ttft] = rec.histograms.ttft;
    const [e2e] = rec.histograms.e2e;
    const [tpot] = rec.histograms.tpot;
    assert.ok(Math.abs(ttft - 100 * MS) <= TOL, `ttft ${ttft} µs`);
    assert.ok(Math.abs(e2e - 280 * MS) <= TOL, `e2e ${e2e} µs`);
    assert.equal(rec.histograms.itl.length, 9);
    for (const g of rec.histograms.itl) assert.ok(Math.abs(g - 20 * MS) <= TOL, `itl ${g} µs`);
    assert.ok(Math.abs(tpot - 20 * MS) <= 10 * MS, `tpot ${tpot} µs`);
    assert.ok(Math.abs(tpot - (e2e - ttft) / 9) <= 1, 'tpot = (e2e − ttft)/(tokens − 1)');
    assert.equal(rec.counters.content_chunks, 10);
    assert.equal(rec.counters.tokens_out, 10);
    assert.equal(rec.counters.tokens_in, 5);
    assert.equal(rec.counters['tokens_source.usage'], 1);
    assert.equal(rec.counters['finish.length'], 1);
    assert.equal(rec.counters['goodput.evaluated'], 1);
    assert.equal(rec.counters['goodput.good'], 1);
  });

  it('a request missing an SLO is not good', async () => {
    const plan = testPlan(
      srv.url,
      scenario({ openai: { endpoint: 'completions', stream: true, slo: { ttft_ms: 50 } } }),
    );
    const a = await createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 1 }, seed: 1 });
    const rec = new MemoryRecorder();
    assert.equal((await send(a, srv.url, a.request(0), rec)).cls, null);
    assert.equal(rec.counters['goodput.evaluated'], 1);
    assert.equal(rec.counters['goodput.good'], undefined);
  });

  it('without usage, tokens are counted from content chunks', async () => {
    srv.state.timing = { firstMs: 10, gapMs: 5, chunks: 6, split: true };
    try {
      const plan = testPlan(srv.url, scenario());
      const a = await createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 1 }, seed: 1 });
      const rec = new MemoryRecorder();
      assert.equal((await send(a, srv.url, a.request(0), rec)).cls, null);
      assert.equal(rec.counters.tokens_out, 6);
      assert.equal(rec.counters['tokens_source.chunks'], 1);
      assert.equal(rec.counters.tokens_in, undefined);
    } finally {
      srv.state.timing = { firstMs: 100, gapMs: 20, chunks: 10, usageTokens: 10, split: true };
    }
  });

  it('a mid-stream {"error": …} → invalid_response, counted in stream_errors', async () => {
    srv.state.timing = { firstMs: 5, gapMs: 5, chunks: 6, errorAfter: 3, split: true };
    try {
      const plan = testPlan(srv.url, scenario());
      const a = await createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 1 }, seed: 1 });
      const rec = new MemoryRecorder();
      assert.equal((await send(a, srv.url, a.request(0), rec)).cls, 'invalid_response');
      assert.equal(rec.counters.stream_errors, 1);
      assert.equal(rec.histograms.ttft, undefined, 'no latency figures from a failed stream');
    } finally {
      srv.state.timing = { firstMs: 100, gapMs: 20, chunks: 10, usageTokens: 10, split: true };
    }
  });
});

describe('openai observer (synthetic chunks and times)', () => {
  const ev = (o: unknown) => Buffer.from(`data: ${JSON.stringify(o)}\n\n`);
  it('role-only chunk does not start TTFT; usage chunk does not end e2e; stream cut before [DONE] → invalid_response', () => {
    const obs = new OpenaiObserver({ chat: true, stream: true, slo: undefined }, 200);
    obs.onData(ev({ choices: [{ delta: { role: 'assistant' } }] }), 10e6);
    obs.onData(ev({ choices: [{ delta: { content: '' } }] }), 20e6);
    obs.onData(ev({ choices: [{ delta: { content: 'a' } }] }), 50e6);
    obs.onData(ev({ choices: [{ delta: { content: 'b' }, finish_reason: 'stop' }] }), 70e6);
    obs.onData(ev({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2 } }), 90e6);
    obs.onData(Buffer.from('data: [DONE]\n\n'), 95e6);
    const rec = new MemoryRecorder();
    assert.equal(obs.onEnd(100e6, rec), null);
    assert.deepEqual(rec.histograms.ttft, [50000]);
    assert.deepEqual(rec.histograms.e2e, [70000]);
    assert.deepEqual(rec.histograms.itl, [20000]);
    assert.deepEqual(rec.histograms.tpot, [20000]);
    assert.equal(rec.counters['finish.stop'], 1);

    const cut = new OpenaiObserver({ chat: true, stream: true, slo: undefined }, 200);
    cut.onData(ev({ choices: [{ delta: { content: 'a' } }] }), 50e6);
    const r2 = new MemoryRecorder();
    assert.equal(cut.onEnd(60e6, r2), 'invalid_response');
    assert.equal(r2.counters.stream_incomplete, 1);
  });

  it('non-2xx status → http class without parsing', () => {
    const obs = new OpenaiObserver({ chat: true, stream: true, slo: undefined }, 503);
    obs.onData(Buffer.from('{"error": "busy"}'), 1e6);
    assert.equal(obs.onEnd(2e6, new MemoryRecorder()), 'http_5xx');
  });

  it('SLO keys are validated', () => {
    assert.deepEqual(parseSlo({ ttft: 500, tpot_ms: 50, e2e: 2000, itl: 100 }, 's'), {
      ttftUs: 500000,
      tpotUs: 50000,
      e2eUs: 2000000,
      itlUs: 100000,
    });
    assert.throws(
      () => parseSlo({ speed: 3 }, 's'),
      (e: unknown) => e instanceof PreflightError && e.code === 'E_PLAN_INVALID',
    );
  });
});
