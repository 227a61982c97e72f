/**
 * Small fake model servers on node:http for the conformance suite, one per protocol. Each keeps
 * a mutable `state` (mode, readiness) so one server serves every case of the suite.
 *
 * The fake "model" classifies rows whose first value is an id: the right class is id % 10, and
 * every 4th id (id % 4 == 3) gets a wrong answer, so the accuracy over any whole number of
 * 4-row blocks is exactly 0.75. Mode 'drift' adds 0.01 to the outputs of every 5th id (golden tests).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, startServer } from './helpers.js';

export type FakeMode = 'ok' | '4xx' | '5xx' | 'malformed' | 'errbody' | 'empty' | 'drift';

export interface FakeState {
  mode: FakeMode;
  ready: boolean;
  modelReady: boolean;
  /** Input width the fake model declares (metadata). */
  width: number;
  datatype: string;
}

export type FakeServer = Awaited<ReturnType<typeof startServer>> & { state: FakeState };

/** The fake model's 10 class probabilities for a row starting with `id`. */
export function fakeScores(id: number, mode: FakeMode): number[] {
  let cls = ((Math.round(id) % 10) + 10) % 10;
  if (Math.round(id) % 4 === 3) cls = (cls + 1) % 10;
  const v = new Array<number>(10).fill(0.01);
  v[cls] = 0.91;
  if (mode === 'drift' && Math.round(id) % 5 === 0) return v.map((x) => Math.round((x + 0.01) * 1000) / 1000);
  return v;
}

function defaults(s: Partial<FakeState>): FakeState {
  return { mode: 'ok', ready: true, modelReady: true, width: 3, datatype: 'FP32', ...s };
}

function fault(res: ServerResponse, mode: FakeMode): boolean {
  switch (mode) {
    case '4xx':
      json(res, 400, { error: 'bad input' });
      return true;
    case '5xx':
      json(res, 500, { error: 'model crashed' });
      return true;
    case 'malformed':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"outputs": [ {"name": "probs", "data": [0.1, ');
      return true;
    case 'errbody':
      json(res, 200, { error: 'something went wrong' });
      return true;
    default:
      return false;
  }
}

function parseBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------

/** Open Inference Protocol (KServe v2) REST. Model name: any; input "input" FP32 [-1, width]. */
export async function fakeKserve(init: Partial<FakeState> = {}): Promise<FakeServer> {
  const state = defaults(init);
  const srv = await startServer((req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    const url = req.url ?? '';
    if (url === '/v2/health/ready') return state.ready ? json(res, 200, {}) : json(res, 503, { error: 'not ready' });
    if (url === '/v2/health/live') return json(res, 200, {});
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(url);
    if (!m) return json(res, 404, { error: `no route ${url}` });
    const name = decodeURIComponent(m[1]);
    if (m[3] === '/ready')
      return state.modelReady ? json(res, 200, {}) : json(res, 400, { error: `model ${name} not ready` });
    if (!m[3]) {
      return json(res, 200, {
        name,
        versions: ['1'],
        platform: 'fake',
        inputs: [{ name: 'input', datatype: state.datatype, shape: [-1, state.width] }],
        outputs: [{ name: 'probs', datatype: 'FP32', shape: [-1, 10] }],
      });
    }
    if (req.method !== 'POST') return json(res, 405, { error: 'POST only' });
    if (fault(res, state.mode)) return;
    const b = parseBody(body) as
      | { inputs?: Array<{ name: string; shape: number[]; datatype: string; data: number[] }> }
      | undefined;
    const inp = b?.inputs?.[0];
    if (!inp || !Array.isArray(inp.data) || !Array.isArray(inp.shape))
      return json(res, 400, { error: 'expected inputs[0] with shape and data' });
    const rows = inp.shape[0];
    const w = inp.data.length / rows;
    if (state.mode === 'empty')
      return json(res, 200, {
        model_name: name,
        outputs: [{ name: 'probs', shape: [rows, 0], datatype: 'FP32', data: [] }],
      });
    const data: number[] = [];
    for (let r = 0; r < rows; r++) data.push(...fakeScores(inp.data[r * w], state.mode));
    return json(res, 200, {
      model_name: name,
      model_version: m[2] ?? '1',
      id: 'req',
      outputs: [{ name: 'probs', shape: [rows, 10], datatype: 'FP32', data }],
    });
  });
  return Object.assign(srv, { state });
}

/** TF Serving REST: GET /v1/models/{m}, /metadata, POST :predict (row and columnar forms). */
export async function fakeTfserving(init: Partial<FakeState> & { nanOutputs?: boolean } = {}): Promise<FakeServer> {
  const state = defaults(init);
  const srv = await startServer((req, body, res) => {
    const url = req.url ?? '';
    const status = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+))?$/.exec(url);
    if (status && req.method === 'GET') {
      return json(res, 200, {
        model_version_status: [
          {
            version: '1',
            state: state.modelReady ? 'AVAILABLE' : 'LOADING',
            status: { error_code: 'OK', error_message: '' },
          },
        ],
      });
    }
    if (/^\/v1\/models\/[^/:]+(?:\/versions\/\d+)?\/metadata$/.test(url)) {
      return json(res, 200, {
        model_spec: { name: 'm', version: '1' },
        metadata: {
          signature_def: {
            signature_def: {
              serving_default: {
                inputs: {
                  input: {
                    dtype: state.datatype === 'BYTES' ? 'DT_STRING' : 'DT_FLOAT',
                    tensor_shape: { dim: [{ size: '-1' }, { size: String(state.width) }] },
                    name: 'serving_default_input:0',
                  },
                },
                outputs: {
                  probs: {
                    dtype: 'DT_FLOAT',
                    tensor_shape: { dim: [{ size: '-1' }, { size: '10' }] },
                    name: 'probs:0',
                  },
                },
                method_name: 'tensorflow/serving/predict',
              },
            },
          },
        },
      });
    }
    const pred = /^\/v1\/models\/([^/:]+)(?:\/versions\/(\d+))?:predict$/.exec(url);
    if (!pred) return json(res, 404, { error: `no route ${url}` });
    if (fault(res, state.mode)) return;
    const b = parseBody(body) as { instances?: unknown[]; inputs?: unknown } | undefined;
    if (!b) return json(res, 400, { error: 'bad JSON' });
    const rowsOf = (x: unknown): number[][] => (Array.isArray(x) ? (x as number[][]) : []);
    const ans = (rows: number[][]) => rows.map((r) => fakeScores(r[0], state.mode));
    const maybeNaN = (s: string) => (init.nanOutputs ? s.replace(/0\.01\b/, 'NaN') : s);
    if (b.instances !== undefined) {
      const preds = ans(rowsOf(b.instances));
      if (state.mode === 'empty') return json(res, 200, { predictions: [] });
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(maybeNaN(JSON.stringify({ predictions: preds })));
    }
    if (b.inputs !== undefined) {
      const rows = Array.isArray(b.inputs) ? rowsOf(b.inputs) : rowsOf((b.inputs as Record<string, unknown>).input);
      return json(res, 200, { outputs: ans(rows) });
    }
    return json(res, 400, { error: 'need instances or inputs' });
  });
  return Object.assign(srv, { state });
}

/** TorchServe inference API: GET /ping, POST /predictions/{m}[/{v}] (JSON array row → scores). */
export async function fakeTorchserve(init: Partial<FakeState> = {}): Promise<FakeServer> {
  const state = defaults(init);
  const srv = await startServer((req, body, res) => {
    const url = req.url ?? '';
    if (url === '/ping')
      return state.ready ? json(res, 200, { status: 'Healthy' }) : json(res, 500, { status: 'Unhealthy' });
    const m = /^\/predictions\/([^/]+)(?:\/([^/]+))?$/.exec(url);
    if (!m) return json(res, 404, { code: 404, type: 'ModelNotFoundException', message: `no route ${url}` });
    if (!state.modelReady)
      return json(res, 404, { code: 404, type: 'ModelNotFoundException', message: `Model not found: ${m[1]}` });
    if (req.method === 'OPTIONS') return json(res, 200, {});
    if (fault(res, state.mode)) return;
    const b = parseBody(body);
    if (!Array.isArray(b)) {
      if (body.length > 0 && b === undefined) return json(res, 200, { bytes: body.length });
      return json(res, 400, { code: 400, message: 'expected a JSON array' });
    }
    if (Array.isArray(b[0]))
      return json(
        res,
        200,
        (b as number[][]).map((r) => fakeScores(r[0], state.mode)),
      );
    return json(res, 200, fakeScores((b as number[])[0], state.mode));
  });
  return Object.assign(srv, { state });
}

// ------------------------------------------------------------------------------------------------
// OpenAI-compatible streaming

export interface SseTiming {
  /** Delay before the first content chunk, ms. */
  firstMs: number;
  /** Gap between content chunks, ms. */
  gapMs: number;
  /** Content chunks per response. */
  chunks: number;
  /** Tokens claimed in usage (omit usage when undefined). */
  usageTokens?: number;
  /** Split every event's bytes at these fractions into separate writes (mid-line splits). */
  split?: boolean;
  /** Send an error object after this many chunks (mid-stream error). */
  errorAfter?: number;
}

export interface OpenaiState extends FakeState {
  timing: SseTiming;
}

/** Writes an SSE event, optionally split into two writes in the middle of a line. */
function writeEvent(res: ServerResponse, data: string, split: boolean): void {
  const ev = `data: ${data}\n\n`;
  if (!split || ev.length < 8) {
    res.write(ev);
    return;
  }
  const cut = Math.floor(ev.length / 2);
  res.write(ev.slice(0, cut));
  res.write(ev.slice(cut));
}

export async function fakeOpenai(
  timing: SseTiming,
  init: Partial<FakeState> = {},
): Promise<FakeServer & { state: OpenaiState }> {
  const state: OpenaiState = { ...defaults(init), timing };
  const srv = await startServer(async (req, body, res) => {
    const url = req.url ?? '';
    if (url === '/v1/models') return json(res, 200, { object: 'list', data: [{ id: 'tiny', object: 'model' }] });
    const chat = url === '/v1/chat/completions';
    if (!chat && url !== '/v1/completions') return json(res, 404, { error: { message: `no route ${url}` } });
    if (state.mode === '4xx')
      return json(res, 400, { error: { message: 'bad request', type: 'invalid_request_error' } });
    if (state.mode === '5xx') return json(res, 500, { error: { message: 'engine dead' } });
    const b = parseBody(body) as { stream?: boolean; model?: string; max_tokens?: number } | undefined;
    if (!b) return json(res, 400, { error: { message: 'bad JSON' } });
    const t = state.timing;
    const piece = (i: number) =>
      chat
        ? { choices: [{ index: 0, delta: { content: `w${i} ` }, finish_reason: null }] }
        : { choices: [{ index: 0, text: `w${i} `, finish_reason: null }] };
    if (!b.stream) {
      await sleep(t.firstMs + t.gapMs * (t.chunks - 1));
      if (state.mode === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end('{"choices": [');
      }
      const text = Array.from({ length: t.chunks }, (_, i) => `w${i} `).join('');
      return json(res, 200, {
        id: 'cmpl-1',
        object: chat ? 'chat.completion' : 'text_completion',
        choices: [
          chat
            ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'length' }
            : { index: 0, text, finish_reason: 'length' },
        ],
        usage: {
          prompt_tokens: 5,
          completion_tokens: t.usageTokens ?? t.chunks,
          total_tokens: 5 + (t.usageTokens ?? t.chunks),
        },
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const split = Boolean(t.split);
    res.write(': keep-alive comment\n\n');
    if (chat)
      writeEvent(
        res,
        JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] }),
        split,
      );
    if (state.mode === 'malformed') {
      await sleep(t.firstMs);
      writeEvent(res, '{"choices": [ {"delta": ', false);
      res.end('data: [DONE]\n\n');
      return;
    }
    const start = Date.now();
    for (let i = 0; i < t.chunks; i++) {
      const due = start + t.firstMs + i * t.gapMs;
      await sleep(Math.max(0, due - Date.now()));
      if (t.errorAfter !== undefined && i === t.errorAfter) {
        writeEvent(res, JSON.stringify({ error: { message: 'out of memory', code: 500 } }), split);
        res.end('data: [DONE]\n\n');
        return;
      }
      const ev = piece(i) as { choices: Array<Record<string, unknown>> };
      if (i === t.chunks - 1) ev.choices[0].finish_reason = 'length';
      writeEvent(res, JSON.stringify(ev), split);
    }
    if (t.usageTokens !== undefined)
      writeEvent(
        res,
        JSON.stringify({
          choices: [],
          usage: { prompt_tokens: 5, completion_tokens: t.usageTokens, total_tokens: 5 + t.usageTokens },
        }),
        split,
      );
    res.end('data: [DONE]\n\n');
  });
  return Object.assign(srv, { state });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
