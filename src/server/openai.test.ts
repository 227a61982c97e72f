import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer } from './server.js';
import type { ServerHandle } from './server.js';
import { countTokens } from './llm-sim.js';
import { http, LINEAR_MODEL_MODULE, parseExposition, sse } from './testing.js';

const base = { port: 0, instances: 1, modelModule: LINEAR_MODEL_MODULE };
const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Tell me about load testing model servers' },
];

describe('OpenAI-compatible simulator: shapes', () => {
  let s: ServerHandle;
  before(async () => {
    s = await startServer({ ...base, llmTokenTimeMs: 1, llmPrefillBaseMs: 1, llmPrefillPerTokenMs: 0 });
  });
  after(() => s.close());

  test('GET /v1/models and /v1/models/{id}', async () => {
    const r = await http(`${s.url}/v1/models`);
    assert.equal(r.status, 200);
    assert.equal(r.json.object, 'list');
    assert.deepEqual(
      r.json.data.map((m: { id: string; object: string }) => [m.id, m.object]),
      [['preflight-sim', 'model']],
    );
    const one = await http(`${s.url}/v1/models/preflight-sim`);
    assert.equal(one.status, 200);
    assert.equal(one.json.id, 'preflight-sim');
  });

  test('chat completion (non-stream): one JSON, usage, finish_reason length, deterministic text', async () => {
    const r = await http(`${s.url}/v1/chat/completions`, 'POST', { model: 'preflight-sim', messages, max_tokens: 7 });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/json');
    const j = r.json;
    assert.match(j.id, /^chatcmpl-/);
    assert.equal(j.object, 'chat.completion');
    assert.equal(j.model, 'preflight-sim');
    assert.equal(j.system_fingerprint, 'preflight-simulator');
    assert.equal(typeof j.created, 'number');
    assert.equal(j.choices.length, 1);
    assert.equal(j.choices[0].index, 0);
    assert.equal(j.choices[0].message.role, 'assistant');
    assert.equal(j.choices[0].finish_reason, 'length');
    assert.equal(j.choices[0].message.content.split(' ').length, 7);
    const promptTokens = countTokens('You are terse.\nTell me about load testing model servers');
    assert.equal(promptTokens, 10);
    assert.deepEqual(j.usage, { prompt_tokens: 10, completion_tokens: 7, total_tokens: 17 });
    const again = await http(`${s.url}/v1/chat/completions`, 'POST', {
      model: 'preflight-sim',
      messages,
      max_tokens: 7,
    });
    assert.equal(again.json.choices[0].message.content, j.choices[0].message.content);
    // max_completion_tokens wins over max_tokens; default length is 16; model may be omitted.
    const mct = await http(`${s.url}/v1/chat/completions`, 'POST', {
      model: 'preflight-sim',
      messages,
      max_tokens: 7,
      max_completion_tokens: 3,
    });
    assert.equal(mct.json.usage.completion_tokens, 3);
    const def = await http(`${s.url}/v1/chat/completions`, 'POST', { messages });
    assert.equal(def.json.usage.completion_tokens, 16);
  });

  test('text completion (non-stream)', async () => {
    const r = await http(`${s.url}/v1/completions`, 'POST', {
      model: 'preflight-sim',
      prompt: 'one two three',
      max_tokens: 4,
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.json.object, 'text_completion');
    assert.match(r.json.id, /^cmpl-/);
    assert.equal(r.json.system_fingerprint, 'preflight-simulator');
    assert.equal(typeof r.json.choices[0].text, 'string');
    assert.equal(r.json.choices[0].text.split(' ').length, 4);
    assert.equal(r.json.choices[0].finish_reason, 'length');
    assert.deepEqual(r.json.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
    const tokens = await http(`${s.url}/v1/completions`, 'POST', { prompt: [[1, 2, 3, 4, 5]], max_tokens: 1 });
    assert.equal(tokens.json.usage.prompt_tokens, 5);
  });

  test('chat stream: role chunk, content chunks, finish chunk, usage chunk, [DONE]', async () => {
    const r = await sse(`${s.url}/v1/chat/completions`, {
      model: 'preflight-sim',
      messages,
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/event-stream/);
    const ev = r.events;
    assert.equal(ev.at(-1)!.data, '[DONE]');
    const chunks = ev.slice(0, -1).map((e) => JSON.parse(e.data));
    assert.equal(chunks.length, 1 + 5 + 1 + 1);
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.system_fingerprint, 'preflight-simulator');
      assert.equal(c.id, chunks[0].id);
    }
    assert.deepEqual(chunks[0].choices, [
      { index: 0, delta: { role: 'assistant' }, logprobs: null, finish_reason: null },
    ]);
    const content = chunks.slice(1, 6).map((c) => {
      assert.equal(c.choices[0].finish_reason, null);
      assert.deepEqual(Object.keys(c.choices[0].delta), ['content']);
      assert.equal(c.usage, null);
      return c.choices[0].delta.content as string;
    });
    assert.deepEqual(chunks[6].choices, [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }]);
    assert.deepEqual(chunks[7].choices, []);
    assert.deepEqual(chunks[7].usage, { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    const whole = await http(`${s.url}/v1/chat/completions`, 'POST', {
      model: 'preflight-sim',
      messages,
      max_tokens: 5,
    });
    assert.equal(content.join(''), whole.json.choices[0].message.content);
  });

  test('streams without include_usage have no usage; text completion streams', async () => {
    const r = await sse(`${s.url}/v1/completions`, {
      model: 'preflight-sim',
      prompt: 'hello',
      max_tokens: 3,
      stream: true,
    });
    assert.equal(r.status, 200);
    assert.equal(r.events.at(-1)!.data, '[DONE]');
    const chunks = r.events.slice(0, -1).map((e) => JSON.parse(e.data));
    assert.equal(chunks.length, 3 + 1);
    for (const c of chunks) {
      assert.equal(c.object, 'text_completion');
      assert.equal('usage' in c, false);
    }
    assert.equal(
      chunks.slice(0, 3).every((c) => typeof c.choices[0].text === 'string' && c.choices[0].finish_reason === null),
      true,
    );
    assert.equal(chunks[3].choices[0].finish_reason, 'length');
    assert.ok(r.raw.endsWith('data: [DONE]\n\n'));
  });

  test('errors: unknown model 404, bad requests 400 (OpenAI error shape)', async () => {
    const unknown = await http(`${s.url}/v1/chat/completions`, 'POST', { model: 'gpt-4o', messages });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'model_not_found');
    const cases: unknown[] = [
      { model: 'preflight-sim' },
      { model: 'preflight-sim', messages: [] },
      { model: 'preflight-sim', messages: [{ content: 'x' }] },
      { model: 'preflight-sim', messages, max_tokens: 0 },
      { model: 'preflight-sim', messages, max_tokens: 1.5 },
      { model: 'preflight-sim', messages, n: 2 },
      { model: 'preflight-sim', messages, stream: 'yes' },
      '{"model":',
    ];
    for (const c of cases) {
      const r = await http(`${s.url}/v1/chat/completions`, 'POST', c);
      assert.equal(r.status, 400, `${JSON.stringify(c)}: ${r.body}`);
      assert.ok(r.json.error, r.body);
    }
    assert.equal((await http(`${s.url}/v1/completions`, 'POST', { prompt: 42 })).status, 400);
    assert.equal((await http(`${s.url}/v1/completions`, 'POST', { prompt: ['a', 'b'] })).status, 400);
    assert.equal((await http(`${s.url}/v1/completions`)).status, 405);
  });
});

describe('OpenAI-compatible simulator: timing model', () => {
  test('per-token time, prefill, and total are roughly as configured', async () => {
    const s = await startServer({ ...base, llmTokenTimeMs: 25, llmPrefillBaseMs: 60, llmPrefillPerTokenMs: 1 });
    try {
      const prompt = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
      const r = await sse(`${s.url}/v1/completions`, { prompt, max_tokens: 12, stream: true });
      const content = r.events.slice(0, 12);
      // TTFT = prefill = 60 + 40 × 1 ms.
      assert.ok(content[0].ms >= 95, `first token after ${content[0].ms} ms`);
      assert.ok(content[0].ms < 100 + 1000, `first token after ${content[0].ms} ms`);
      const gaps = content
        .slice(1)
        .map((e, i) => e.ms - content[i].ms)
        .sort((a, b) => a - b);
      const median = gaps[Math.floor(gaps.length / 2)];
      assert.ok(
        median >= 15 && median <= 80,
        `median inter-token gap ${median} ms (configured 25), gaps ${gaps.map((g) => g.toFixed(1))}`,
      );
      const total = content[11].ms;
      assert.ok(total >= 100 + 11 * 25 - 5, `last token after ${total} ms`);
      assert.ok(total <= (100 + 11 * 25) * 3 + 500, `last token after ${total} ms`);
    } finally {
      await s.close();
    }
  });

  test('at most llmMaxConcurrency sequences generate; the rest wait FIFO', async () => {
    const s = await startServer({
      ...base,
      llmTokenTimeMs: 10,
      llmPrefillBaseMs: 20,
      llmPrefillPerTokenMs: 0,
      llmMaxConcurrency: 1,
    });
    try {
      const one = { prompt: 'hi', max_tokens: 10 };
      // Each takes 20 + 9 × 10 = 110 ms of generation; with one slot the third finishes ≥ 330 ms.
      const rs = await Promise.all([
        http(`${s.url}/v1/completions`, 'POST', one),
        http(`${s.url}/v1/completions`, 'POST', one),
        http(`${s.url}/v1/completions`, 'POST', one),
      ]);
      for (const r of rs) assert.equal(r.status, 200);
      const slowest = Math.max(...rs.map((r) => r.ms));
      assert.ok(slowest >= 320, `slowest took ${slowest} ms`);
      const m = parseExposition((await http(`${s.url}/metrics`)).body);
      assert.ok(m.value('preflight_llm_queue_seconds_sum') >= 0.3, 'queued 110 + 220 ms in total');
      assert.equal(m.value('preflight_llm_generation_tokens_total'), 30);
      assert.equal(m.value('preflight_llm_prompt_tokens_total'), 3);
      assert.equal(m.value('preflight_llm_requests_total', { finish_reason: 'length' }), 3);
    } finally {
      await s.close();
    }
  });

  test('full waiting line is shed with Retry-After; a disconnected stream frees its slot', async () => {
    const s = await startServer({
      ...base,
      llmTokenTimeMs: 10,
      llmPrefillBaseMs: 0,
      llmMaxConcurrency: 1,
      llmMaxQueue: 0,
    });
    try {
      // A long stream occupies the only slot, then is abandoned.
      const req = request(`${s.url}/v1/completions`, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json' },
      });
      req.on('error', () => {});
      const gotHeaders = new Promise<void>((resolve) =>
        req.on('response', (res) => {
          res.resume();
          res.on('error', () => {});
          resolve();
        }),
      );
      req.end(JSON.stringify({ prompt: 'long', max_tokens: 10_000, stream: true }));
      await gotHeaders;
      const shed = await http(`${s.url}/v1/completions`, 'POST', { prompt: 'x', max_tokens: 1 });
      assert.equal(shed.status, 503);
      assert.equal(shed.headers['retry-after'], '1');
      assert.equal(shed.json.error.code, 'queue_full');
      req.destroy();
      await sleep(100);
      const m = parseExposition((await http(`${s.url}/metrics`)).body);
      assert.equal(m.value('preflight_llm_requests_running'), 0);
      assert.equal((await http(`${s.url}/v1/completions`, 'POST', { prompt: 'x', max_tokens: 1 })).status, 200);
    } finally {
      await s.close();
    }
  });

  test('llmStopRate draws shorter outputs ending with finish_reason stop', async () => {
    const s = await startServer({ ...base, llmTokenTimeMs: 0, llmPrefillBaseMs: 0, llmStopRate: 1, seed: 7 });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await http(`${s.url}/v1/chat/completions`, 'POST', { messages, max_tokens: 20 });
        assert.equal(r.json.choices[0].finish_reason, 'stop');
        assert.ok(r.json.usage.completion_tokens >= 1 && r.json.usage.completion_tokens < 20);
      }
      const eos = await http(`${s.url}/v1/chat/completions`, 'POST', { messages, max_tokens: 20, ignore_eos: true });
      assert.equal(eos.json.choices[0].finish_reason, 'length');
      assert.equal(eos.json.usage.completion_tokens, 20);
    } finally {
      await s.close();
    }
  });
});
