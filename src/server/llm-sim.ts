/**
 * OpenAI-compatible LLM *simulator* (no real model): /v1/models, /v1/completions, /v1/chat/completions,
 * with or without SSE streaming. Every response says so in `system_fingerprint: "preflight-simulator"`.
 *
 * Timing model (documented in docs/reference-server.md):
 *   prompt tokens      = whitespace-separated words of the prompt (chat: of every message's text), ≥ 1
 *   admission          = at most `maxConcurrency` sequences generate at once; the rest wait FIFO (bounded)
 *   first token        = admission + prefillBaseMs + prefillPerTokenMs × prompt tokens
 *   token k (k ≥ 1)    = first token + k × tokenTimeMs
 *   output tokens      = max_tokens (default `defaultMaxTokens`), finish_reason "length"; with probability
 *                        `stopRate` a shorter length in [1, max_tokens − 1] is drawn, finish_reason "stop"
 * Text is deterministic: words drawn from a fixed list by a PRNG seeded with the prompt.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultState } from './faults.js';
import { deliver } from './faults.js';
import type { Histogram, Registry, Scalar } from './metrics.js';
import type { ResolvedServerOptions } from './options.js';
import { fnv1a, mulberry32 } from '../core/random.js';

export const SYSTEM_FINGERPRINT = 'preflight-simulator';
const MAX_TOKENS_LIMIT = 1_000_000;

const WORDS = (
  'the model server answers requests quickly under steady load while latency stays low and throughput grows ' +
  'until queues fill then tail latency rises sharply so we measure percentiles not averages and watch errors ' +
  'batch size memory cores tokens stream first byte time per output token goodput budget verdict baseline ' +
  'regression canary rollout version accuracy drift warm cold cache replica shard'
).split(' ');

export interface LlmHooks {
  /** Counts an HTTP response in preflight_server_http_requests_total. */
  countHttp(model: string, version: string, status: number): void;
}

interface Seq {
  promptTokens: number;
  outputTokens: number;
  /** Per-token callbacks wanted (streaming); otherwise only onDone at the end. */
  stream: boolean;
  submittedAt: number;
  state: 'waiting' | 'running' | 'done' | 'cancelled';
  timer: NodeJS.Timeout | undefined;
  onStart(queueMs: number): void;
  onToken(index: number): void;
  onDone(): void;
}

/** Admission control and per-sequence timing. */
export class LlmEngine {
  running = 0;
  private waiting: Seq[] = [];
  private head = 0;
  private readonly live = new Set<Seq>();

  constructor(
    private readonly cfg: Pick<
      ResolvedServerOptions,
      'llmTokenTimeMs' | 'llmPrefillBaseMs' | 'llmPrefillPerTokenMs' | 'llmMaxConcurrency' | 'llmMaxQueue'
    >,
  ) {}

  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  /** Returns false when the waiting line is full (shed). */
  submit(seq: Seq): boolean {
    seq.submittedAt = performance.now();
    if (this.running < this.cfg.llmMaxConcurrency) {
      this.start(seq);
      return true;
    }
    if (this.waitingCount >= this.cfg.llmMaxQueue) return false;
    seq.state = 'waiting';
    this.waiting.push(seq);
    return true;
  }

  cancel(seq: Seq): void {
    if (seq.state === 'running') {
      if (seq.timer) clearTimeout(seq.timer);
      seq.state = 'cancelled';
      this.release(seq);
    } else if (seq.state === 'waiting') {
      seq.state = 'cancelled'; // skipped when it reaches the head
    }
  }

  private start(seq: Seq): void {
    seq.state = 'running';
    this.running++;
    this.live.add(seq);
    const t0 = performance.now();
    seq.onStart(t0 - seq.submittedAt);
    const first = t0 + this.cfg.llmPrefillBaseMs + this.cfg.llmPrefillPerTokenMs * seq.promptTokens;
    const tpot = this.cfg.llmTokenTimeMs;
    const n = seq.outputTokens;
    if (!seq.stream) {
      const end = first + (n - 1) * tpot;
      seq.timer = setTimeout(() => this.complete(seq), Math.max(0, end - performance.now()));
      return;
    }
    let k = 0;
    const step = (): void => {
      if (seq.state !== 'running') return;
      const now = performance.now();
      // Emit every token whose time has come (more than one only if the event loop was late).
      while (k < n && first + k * tpot <= now + 0.5) seq.onToken(k++);
      if (k >= n) {
        this.complete(seq);
        return;
      }
      seq.timer = setTimeout(step, Math.max(0, first + k * tpot - performance.now()));
    };
    seq.timer = setTimeout(step, Math.max(0, first - t0));
  }

  private complete(seq: Seq): void {
    if (seq.state !== 'running') return;
    seq.state = 'done';
    seq.timer = undefined;
    this.release(seq);
    seq.onDone();
  }

  private release(seq: Seq): void {
    this.live.delete(seq);
    this.running--;
    while (this.running < this.cfg.llmMaxConcurrency && this.waitingCount > 0) {
      const next = this.waiting[this.head];
      this.waiting[this.head++] = undefined as unknown as Seq;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      if (next.state === 'waiting') this.start(next);
    }
  }

  close(): void {
    for (const s of this.live) {
      if (s.timer) clearTimeout(s.timer);
      s.state = 'cancelled';
    }
    this.live.clear();
    this.waiting = [];
    this.head = 0;
    this.running = 0;
  }
}

/** Counts prompt tokens: whitespace-separated words (at least 1). */
export function countTokens(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 10 || c === 9 || c === 13;
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return Math.max(1, n);
}

/** The deterministic output text for a prompt: token i of `count`. */
export function simulatedTokens(prompt: string, count: number): string[] {
  const rnd = mulberry32(fnv1a(prompt));
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push((i ? ' ' : '') + WORDS[Math.floor(rnd() * WORDS.length)]);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
  body(): string {
    return JSON.stringify({ error: { message: this.message, type: this.type, param: this.param, code: this.code } });
  }
}

interface Parsed {
  model: string;
  promptText: string;
  promptTokens: number;
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  ignoreEos: boolean;
}

export class LlmSimulator {
  readonly engine: LlmEngine;
  private nextId = 1;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly streams = new Set<ServerResponse>();
  private readonly mPrompt: Scalar;
  private readonly mGen: Scalar;
  private readonly mReq: Scalar;
  private readonly mTtft: Histogram;
  private readonly mQueue: Histogram;

  constructor(
    private readonly o: ResolvedServerOptions,
    private readonly faults: FaultState,
    private readonly random: () => number,
    registry: Registry,
    private readonly hooks: LlmHooks,
  ) {
    this.engine = new LlmEngine(o);
    registry.gauge('preflight_llm_requests_running', 'Simulated LLM sequences generating now.', () => [
      [{}, this.engine.running],
    ]);
    registry.gauge('preflight_llm_requests_waiting', 'Simulated LLM sequences waiting for a generation slot.', () => [
      [{}, this.engine.waitingCount],
    ]);
    this.mPrompt = registry.counter(
      'preflight_llm_prompt_tokens_total',
      'Prompt tokens processed by the LLM simulator.',
    );
    this.mGen = registry.counter('preflight_llm_generation_tokens_total', 'Tokens generated by the LLM simulator.');
    this.mReq = registry.counter('preflight_llm_requests_total', 'Finished LLM simulator requests by finish reason.');
    const secs = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    this.mTtft = registry.histogram(
      'preflight_llm_time_to_first_token_seconds',
      'Time from admission request to the first token (queue + prefill), seconds.',
      secs,
    );
    this.mQueue = registry.histogram(
      'preflight_llm_queue_seconds',
      'Time simulated LLM requests waited for a generation slot, seconds.',
      secs,
    );
    for (const m of o.llmModels) {
      this.mPrompt.touch({ model: m });
      this.mGen.touch({ model: m });
      this.mTtft.touch({ model: m });
      this.mQueue.touch({ model: m });
    }
  }

  /** GET /v1/models (OpenAI list). */
  listModels(): string {
    return JSON.stringify({
      object: 'list',
      data: this.o.llmModels.map((id) => ({
        id,
        object: 'model',
        created: this.created,
        owned_by: SYSTEM_FINGERPRINT,
      })),
    });
  }

  /** GET /v1/models/{id}; null when unknown. */
  modelObject(id: string): string | null {
    return this.o.llmModels.includes(id)
      ? JSON.stringify({ id, object: 'model', created: this.created, owned_by: SYSTEM_FINGERPRINT })
      : null;
  }

  private parse(body: unknown, kind: 'chat' | 'text'): Parsed {
    if (!isObject(body)) throw new ApiError(400, 'request body must be a JSON object');
    let model = this.o.llmModels[0];
    if (body.model !== undefined) {
      if (typeof body.model !== 'string')
        throw new ApiError(400, '"model" must be a string', 'invalid_request_error', 'model');
      if (!this.o.llmModels.includes(body.model)) {
        throw new ApiError(
          404,
          `The model \`${body.model}\` does not exist.`,
          'invalid_request_error',
          'model',
          'model_not_found',
        );
      }
      model = body.model;
    }
    let promptText = '';
    let promptTokens = 0;
    if (kind === 'chat') {
      const msgs = body.messages;
      if (!Array.isArray(msgs) || msgs.length === 0)
        throw new ApiError(400, '"messages" must be a non-empty array', 'invalid_request_error', 'messages');
      const parts: string[] = [];
      msgs.forEach((m, i) => {
        if (!isObject(m) || typeof m.role !== 'string')
          throw new ApiError(
            400,
            `messages[${i}] must be an object with a "role"`,
            'invalid_request_error',
            `messages[${i}]`,
          );
        const c = m.content;
        if (typeof c === 'string') parts.push(c);
        else if (Array.isArray(c)) {
          for (const p of c) if (isObject(p) && p.type === 'text' && typeof p.text === 'string') parts.push(p.text);
        } else if (c !== null && c !== undefined) {
          throw new ApiError(
            400,
            `messages[${i}].content must be a string or an array of content parts`,
            'invalid_request_error',
            `messages[${i}].content`,
          );
        }
      });
      promptText = parts.join('\n');
      promptTokens = countTokens(promptText);
    } else {
      let p = body.prompt;
      if (Array.isArray(p) && p.length === 1 && (typeof p[0] === 'string' || Array.isArray(p[0]))) p = p[0];
      if (typeof p === 'string') {
        promptText = p;
        promptTokens = countTokens(p);
      } else if (Array.isArray(p) && p.length > 0 && p.every((x) => Number.isInteger(x))) {
        promptText = p.join(' ');
        promptTokens = p.length;
      } else if (Array.isArray(p) && p.length > 1) {
        throw new ApiError(400, 'the simulator serves one prompt per request', 'invalid_request_error', 'prompt');
      } else
        throw new ApiError(
          400,
          '"prompt" must be a string (or a list of token ids)',
          'invalid_request_error',
          'prompt',
        );
    }
    const mt =
      kind === 'chat' && body.max_completion_tokens !== undefined && body.max_completion_tokens !== null
        ? body.max_completion_tokens
        : body.max_tokens;
    const mtName =
      kind === 'chat' && body.max_completion_tokens !== undefined && body.max_completion_tokens !== null
        ? 'max_completion_tokens'
        : 'max_tokens';
    let maxTokens = this.o.llmDefaultMaxTokens;
    if (mt !== undefined && mt !== null) {
      if (!Number.isInteger(mt) || (mt as number) < 1 || (mt as number) > MAX_TOKENS_LIMIT) {
        throw new ApiError(
          400,
          `"${mtName}" must be an integer in [1, ${MAX_TOKENS_LIMIT}]`,
          'invalid_request_error',
          mtName,
        );
      }
      maxTokens = mt as number;
    }
    if (body.n !== undefined && body.n !== null && body.n !== 1)
      throw new ApiError(400, 'the simulator supports only n = 1', 'invalid_request_error', 'n');
    if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean')
      throw new ApiError(400, '"stream" must be a boolean', 'invalid_request_error', 'stream');
    const stream = body.stream === true;
    const so = body.stream_options;
    const includeUsage = stream && isObject(so) && so.include_usage === true;
    const ignoreEos = body.ignore_eos === true;
    return { model, promptText, promptTokens, maxTokens, stream, includeUsage, ignoreEos };
  }

  /** POST /v1/completions (kind 'text') and /v1/chat/completions (kind 'chat'); `body` is the parsed JSON. */
  handle(res: ServerResponse, _req: IncomingMessage, body: unknown, kind: 'chat' | 'text'): void {
    let p: Parsed;
    try {
      p = this.parse(body, kind);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const model =
        isObject(body) && typeof body.model === 'string' && this.o.llmModels.includes(body.model) ? body.model : '';
      this.reply(res, e.status, e.body(), model, 0);
      return;
    }
    this.faults.onRequest();
    const delay = this.faults.extraLatencyMs();
    if (this.faults.injectError()) {
      this.reply(
        res,
        500,
        new ApiError(500, 'injected fault', 'server_error', null, 'injected_fault').body(),
        p.model,
        delay,
      );
      return;
    }
    const go = (): void => {
      if (res.destroyed) return;
      this.run(res, p, kind);
    };
    if (delay > 0) setTimeout(go, delay);
    else go();
  }

  private reply(
    res: ServerResponse,
    status: number,
    body: string,
    model: string,
    delayMs: number,
    headers: Record<string, string> = {},
  ): void {
    deliver(this.faults, delayMs, () => {
      if (res.destroyed) return;
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...headers,
      });
      res.end(body);
      this.hooks.countHttp(model, '', status);
    });
  }

  private run(res: ServerResponse, p: Parsed, kind: 'chat' | 'text'): void {
    let n = p.maxTokens;
    let finish: 'length' | 'stop' = 'length';
    if (!p.ignoreEos && this.o.llmStopRate > 0 && n > 1 && this.random() < this.o.llmStopRate) {
      n = 1 + Math.floor(this.random() * (n - 1));
      finish = 'stop';
    }
    const tokens = simulatedTokens(p.promptText, n);
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-sim${(this.nextId++).toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = `{"prompt_tokens":${p.promptTokens},"completion_tokens":${n},"total_tokens":${p.promptTokens + n}}`;
    const labels = { model: p.model };
    let admittedAt = 0;
    const writer = p.stream ? new HeldWriter(res, this.faults) : undefined;
    const head = `{"id":"${id}","object":"${kind === 'chat' ? 'chat.completion.chunk' : 'text_completion'}","created":${created},"model":${JSON.stringify(p.model)},"system_fingerprint":"${SYSTEM_FINGERPRINT}","choices":[`;
    const tail = p.includeUsage ? '],"usage":null}' : ']}';
    const chunk = (choice: string): string => `data: ${head}${choice}${tail}\n\n`;

    const seq: Seq = {
      promptTokens: p.promptTokens,
      outputTokens: n,
      stream: p.stream,
      submittedAt: 0,
      state: 'waiting',
      timer: undefined,
      onStart: (queueMs) => {
        admittedAt = performance.now();
        this.mQueue.observe(labels, queueMs / 1000);
      },
      onToken: (i) => {
        if (i === 0) {
          this.mTtft.observe(labels, (performance.now() - seq.submittedAt) / 1000);
          if (kind === 'chat')
            writer!.write(chunk('{"index":0,"delta":{"role":"assistant"},"logprobs":null,"finish_reason":null}'));
        }
        const t = JSON.stringify(tokens[i]);
        writer!.write(
          chunk(
            kind === 'chat'
              ? `{"index":0,"delta":{"content":${t}},"logprobs":null,"finish_reason":null}`
              : `{"index":0,"text":${t},"logprobs":null,"finish_reason":null}`,
          ),
        );
      },
      onDone: () => {
        this.streams.delete(res);
        this.mPrompt.inc(labels, p.promptTokens);
        this.mGen.inc(labels, n);
        this.mReq.inc({ model: p.model, finish_reason: finish });
        if (writer) {
          writer.write(
            chunk(
              kind === 'chat'
                ? `{"index":0,"delta":{},"logprobs":null,"finish_reason":"${finish}"}`
                : `{"index":0,"text":"","logprobs":null,"finish_reason":"${finish}"}`,
            ),
          );
          if (p.includeUsage) writer.write(`data: ${head}],"usage":${usage}}\n\n`);
          writer.write('data: [DONE]\n\n');
          writer.end();
          return;
        }
        if (!seq.stream)
          this.mTtft.observe(
            labels,
            (admittedAt - seq.submittedAt + this.o.llmPrefillBaseMs + this.o.llmPrefillPerTokenMs * p.promptTokens) /
              1000,
          );
        const text = JSON.stringify(tokens.join(''));
        const obj = kind === 'chat' ? 'chat.completion' : 'text_completion';
        const choice =
          kind === 'chat'
            ? `{"index":0,"message":{"role":"assistant","content":${text}},"logprobs":null,"finish_reason":"${finish}"}`
            : `{"index":0,"text":${text},"logprobs":null,"finish_reason":"${finish}"}`;
        const body = `{"id":"${id}","object":"${obj}","created":${created},"model":${JSON.stringify(p.model)},"system_fingerprint":"${SYSTEM_FINGERPRINT}","choices":[${choice}],"usage":${usage}}`;
        this.reply(res, 200, body, p.model, 0);
      },
    };
    if (!this.engine.submit(seq)) {
      this.reply(
        res,
        this.o.shedStatus,
        new ApiError(this.o.shedStatus, 'queue full', 'server_error', null, 'queue_full').body(),
        p.model,
        0,
        { 'retry-after': '1' },
      );
      return;
    }
    res.on('close', () => {
      if (seq.state === 'waiting' || seq.state === 'running') this.engine.cancel(seq);
      this.streams.delete(res);
    });
    if (writer) {
      this.streams.add(res);
      // Headers go out on admission (like a real ASGI server); the first token comes after queue + prefill.
      writer.head(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
      });
      this.hooks.countHttp(p.model, '', 200);
    }
  }

  close(): void {
    this.engine.close();
    for (const r of this.streams) r.destroy();
    this.streams.clear();
  }
}

/** Writes a streamed response in order, holding everything while the server is stalled. */
class HeldWriter {
  private readonly pending: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly res: ServerResponse,
    private readonly faults: FaultState,
  ) {}
  private push(op: () => void): void {
    if (this.pending.length === 0 && this.faults.stallRemainingMs() <= 0) {
      if (!this.res.destroyed) op();
      return;
    }
    this.pending.push(op);
    this.arm();
  }
  private arm(): void {
    if (this.timer) return;
    const wait = Math.max(1, Math.ceil(this.faults.stallRemainingMs()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.faults.stallRemainingMs() > 0) return this.arm();
      const ops = this.pending.splice(0);
      for (const op of ops) if (!this.res.destroyed) op();
    }, wait);
  }
  head(status: number, headers: Record<string, string>): void {
    this.push(() => {
      this.res.writeHead(status, headers);
      this.res.flushHeaders();
    });
  }
  write(s: string): void {
    this.push(() => this.res.write(s));
  }
  end(): void {
    this.push(() => this.res.end());
  }
}
