/**
 * Protocol `openai` (OpenAI-compatible text generation: vLLM, TGI, llama.cpp, …).
 *
 * Request: POST /v1/chat/completions (`openai.endpoint: chat`, `messages`) or /v1/completions
 * (`prompt`), `model`, `max_tokens` (row's `max_tokens`, else `openai.maxTokens`), and with
 * `stream: true` also `stream_options: {include_usage: true}`. Extra body fields (temperature,
 * ignore_eos, …) come from `request.body` (a JSON object) when given. Prompts come from `data`
 * (src/data/prompts.ts), else from `request.body`, else a fixed short prompt. Bodies are built
 * once per prompt row.
 *
 * bodyMode is always 'stream': the adapter sees each network chunk with its arrival time (ns since
 * the request's intended start), so every time below is measured from the intended start — the
 * honest figure under load, since it includes any wait for a connection or an in-flight slot.
 *
 * Recorded per request (histograms in µs):
 *   ttft   intended start → first chunk whose content is non-empty (role-only chunks don't count)
 *   itl    every gap between successive content chunks (pooled; one value per gap). Chunks are not
 *          tokens: a server may bundle several tokens in one chunk.
 *   e2e    intended start → last content chunk (the trailing usage chunk and [DONE] excluded)
 *   tpot   (e2e − ttft) / (output_tokens − 1), only when output_tokens > 1
 * Counters: content_chunks, tokens_out (usage.completion_tokens when present, else content chunks;
 *   tokens_source.usage / tokens_source.chunks say which), tokens_in (usage.prompt_tokens),
 *   finish.<reason>, goodput.evaluated / goodput.good (successful requests that met every SLO in
 *   `openai.slo`), stream_errors, stream_incomplete.
 * Non-streaming (`stream: false`): e2e = intended start → end of body; no ttft/itl/tpot.
 *
 * Errors: non-2xx → http_4xx / http_5xx; a body that is not SSE/JSON, an event that is not JSON,
 * or a stream cut before `[DONE]` → invalid_response; a mid-stream `{"error": …}` object (sent
 * under the 200 already given) → invalid_response, counted in stream_errors too.
 */
import type { Adapter, AdapterContext, ErrorClass, Recorder, StreamObserver, WireRequest } from '../core/types.js';
import { PlanError, PreflightError } from '../core/errors.js';
import { buildBatchTable } from '../data/order.js';
import { loadPrompts } from '../data/prompts.js';
import type { Prompt } from '../data/prompts.js';
import type { AdapterOptions } from './common.js';
import {
  bodySnippet,
  classifyStatus,
  isObject,
  joinPath,
  notReady,
  prepFetch,
  scenarioDataset,
  tryParseJson,
} from './common.js';
import { SseParser } from './sse.js';
import { RequestBank, stamp } from './tensor-source.js';

export const DEFAULT_PROMPT = 'Write one sentence about the sea.';

/** Per-request SLOs in ms: ttft, tpot, itl (every gap), e2e (alias latency). Keys may end in `_ms`. */
export interface Slo {
  ttftUs?: number;
  tpotUs?: number;
  itlUs?: number;
  e2eUs?: number;
}

export function parseSlo(slo: Record<string, number> | undefined, scenario: string): Slo | undefined {
  if (!slo || Object.keys(slo).length === 0) return undefined;
  const out: Slo = {};
  const problems: Array<{ path: string; message: string }> = [];
  for (const [k, v] of Object.entries(slo)) {
    const key = k.toLowerCase().replace(/_ms$/, '');
    if (typeof v !== 'number' || !(v > 0)) {
      problems.push({
        path: `scenarios.${scenario}.openai.slo.${k}`,
        message: `SLO ${k} must be a positive number of milliseconds`,
      });
      continue;
    }
    const us = v * 1000;
    if (key === 'ttft') out.ttftUs = us;
    else if (key === 'tpot') out.tpotUs = us;
    else if (key === 'itl') out.itlUs = us;
    else if (key === 'e2e' || key === 'latency') out.e2eUs = us;
    else
      problems.push({
        path: `scenarios.${scenario}.openai.slo.${k}`,
        message: `unknown SLO "${k}" (use ttft, tpot, itl, e2e)`,
      });
  }
  if (problems.length > 0) throw new PlanError(problems);
  return out;
}

/** Text content of a streamed chunk (chat delta or completion text); '' when none. */
function contentOf(ev: Record<string, unknown>, chat: boolean): { text: string; finish?: string } {
  const choices = ev.choices;
  if (!Array.isArray(choices) || choices.length === 0) return { text: '' };
  const c = choices[0] as Record<string, unknown>;
  const finish = typeof c.finish_reason === 'string' ? c.finish_reason : undefined;
  let text: unknown;
  if (chat) {
    const d = c.delta as Record<string, unknown> | undefined;
    text =
      d?.content ?? (d?.reasoning_content as unknown) ?? (c.message as Record<string, unknown> | undefined)?.content;
  } else {
    text = c.text;
  }
  return { text: typeof text === 'string' ? text : '', ...(finish ? { finish } : {}) };
}

interface StreamConfig {
  chat: boolean;
  stream: boolean;
  slo: Slo | undefined;
}

/** Observes one response; exported for tests. */
export class OpenaiObserver implements StreamObserver {
  private readonly parser: SseParser | null;
  private readonly raw: Buffer[] | null;
  private firstNs = -1;
  private lastNs = -1;
  private chunks = 0;
  private readonly gapsNs: number[] = [];
  private usageOut: number | undefined;
  private usageIn: number | undefined;
  private finish: string | undefined;
  private done = false;
  private error = false;
  private malformed = false;
  private curNs = 0;

  constructor(
    private readonly cfg: StreamConfig,
    private readonly status: number,
  ) {
    const ok = status >= 200 && status < 300;
    this.parser = ok && cfg.stream ? new SseParser((d) => this.onEvent(d)) : null;
    this.raw = ok && !cfg.stream ? [] : null;
  }

  onData(chunk: Buffer, tNs: number): void {
    this.curNs = tNs;
    if (this.parser) this.parser.push(chunk);
    else if (this.raw) this.raw.push(chunk);
  }

  private onEvent(data: string): void {
    if (this.done || this.error) return;
    if (data === '[DONE]') {
      this.done = true;
      return;
    }
    let ev: unknown;
    try {
      ev = JSON.parse(data);
    } catch {
      this.malformed = true;
      return;
    }
    if (!isObject(ev)) {
      this.malformed = true;
      return;
    }
    if (ev.error !== undefined && ev.error !== null) {
      this.error = true;
      return;
    }
    this.usage(ev.usage);
    const { text, finish } = contentOf(ev, this.cfg.chat);
    if (finish) this.finish = finish;
    if (text.length > 0) {
      const t = this.curNs;
      if (this.firstNs < 0) this.firstNs = t;
      else this.gapsNs.push(t - this.lastNs);
      this.lastNs = t;
      this.chunks++;
    }
  }

  private usage(u: unknown): void {
    if (!isObject(u)) return;
    if (typeof u.completion_tokens === 'number') this.usageOut = u.completion_tokens;
    if (typeof u.prompt_tokens === 'number') this.usageIn = u.prompt_tokens;
  }

  onEnd(tNs: number, rec: Recorder): ErrorClass | null {
    const cls = classifyStatus(this.status);
    if (cls !== null) return cls;
    if (this.raw) return this.endPlain(tNs, rec);
    this.parser!.end();
    if (this.error) {
      rec.count('stream_errors');
      return 'invalid_response';
    }
    if (this.malformed) return 'invalid_response';
    if (!this.done) {
      rec.count('stream_incomplete');
      return 'invalid_response';
    }
    const ttftUs = this.firstNs >= 0 ? this.firstNs / 1000 : -1;
    const e2eUs = this.lastNs >= 0 ? this.lastNs / 1000 : tNs / 1000;
    if (ttftUs >= 0) rec.record('ttft', Math.round(ttftUs));
    rec.record('e2e', Math.round(e2eUs));
    let maxGapUs = 0;
    for (const g of this.gapsNs) {
      const us = g / 1000;
      if (us > maxGapUs) maxGapUs = us;
      rec.record('itl', Math.round(us));
    }
    rec.count('content_chunks', this.chunks);
    const tokens = this.countTokens(rec);
    let tpotUs: number | undefined;
    if (tokens > 1 && ttftUs >= 0) {
      tpotUs = (e2eUs - ttftUs) / (tokens - 1);
      rec.record('tpot', Math.round(tpotUs));
    }
    if (this.finish) rec.count(`finish.${this.finish}`);
    this.goodput(rec, ttftUs, tpotUs, maxGapUs, e2eUs);
    return null;
  }

  private countTokens(rec: Recorder): number {
    let tokens: number;
    if (this.usageOut !== undefined) {
      tokens = this.usageOut;
      rec.count('tokens_source.usage');
    } else {
      tokens = this.chunks;
      rec.count('tokens_source.chunks');
    }
    rec.count('tokens_out', tokens);
    if (this.usageIn !== undefined) rec.count('tokens_in', this.usageIn);
    return tokens;
  }

  private goodput(rec: Recorder, ttftUs: number, tpotUs: number | undefined, maxGapUs: number, e2eUs: number): void {
    const slo = this.cfg.slo;
    if (!slo) return;
    rec.count('goodput.evaluated');
    if (slo.ttftUs !== undefined && !(ttftUs >= 0 && ttftUs <= slo.ttftUs)) return;
    if (slo.tpotUs !== undefined && tpotUs !== undefined && tpotUs > slo.tpotUs) return;
    if (slo.itlUs !== undefined && maxGapUs > slo.itlUs) return;
    if (slo.e2eUs !== undefined && e2eUs > slo.e2eUs) return;
    rec.count('goodput.good');
  }

  private endPlain(tNs: number, rec: Recorder): ErrorClass | null {
    const json = tryParseJson(Buffer.concat(this.raw!));
    if (!isObject(json)) return 'invalid_response';
    if (json.error !== undefined && json.error !== null) {
      rec.count('stream_errors');
      return 'invalid_response';
    }
    if (!Array.isArray(json.choices)) return 'invalid_response';
    const c = (json.choices[0] ?? {}) as Record<string, unknown>;
    const text = this.cfg.chat ? (c.message as Record<string, unknown> | undefined)?.content : c.text;
    if (typeof c.finish_reason === 'string') this.finish = c.finish_reason;
    this.usage(json.usage);
    this.chunks = typeof text === 'string' && text.length > 0 ? 1 : 0;
    const e2eUs = tNs / 1000;
    rec.record('e2e', Math.round(e2eUs));
    rec.count('content_chunks', this.chunks);
    this.countTokens(rec);
    if (this.finish) rec.count(`finish.${this.finish}`);
    // without streaming the first token reaches the client with the whole body: TTFT = e2e for goodput
    this.goodput(rec, e2eUs, undefined, 0, e2eUs);
    return null;
  }
}

export async function createOpenaiAdapter(o: AdapterOptions): Promise<Adapter> {
  const { scenario } = o;
  const cfg = scenario.openai ?? { endpoint: 'chat' as const, stream: true };
  const chat = cfg.endpoint !== 'completions';
  const stream = cfg.stream !== false;
  const slo = parseSlo(cfg.slo, scenario.name);
  const path = joinPath(o.basePath, chat ? '/v1/chat/completions' : '/v1/completions');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    ...o.headers,
  };
  // createAdapter has checked the protocol rules (plan/protocol-rules.ts): a body is a JSON object,
  // and there is a model (the scenario's or the body's)
  const b = scenario.request?.body !== undefined ? tryParseJson(Buffer.from(scenario.request.body)) : undefined;
  const extra: Record<string, unknown> = isObject(b) ? b : {};
  const model = (scenario.model ?? extra.model) as string;
  const group = o.group;

  const bodyFor = (p: Prompt): Buffer => {
    const body: Record<string, unknown> = { ...extra, model };
    if (chat) {
      body.messages =
        p.messages ??
        (typeof extra.messages !== 'undefined'
          ? extra.messages
          : [
              { role: 'user', content: p.prompt ?? (typeof extra.prompt === 'string' ? extra.prompt : DEFAULT_PROMPT) },
            ]);
      delete body.prompt;
    } else {
      body.prompt = p.prompt ?? (typeof extra.prompt === 'string' ? extra.prompt : DEFAULT_PROMPT);
      delete body.messages;
    }
    const mt = p.maxTokens ?? cfg.maxTokens;
    if (mt !== undefined) body.max_tokens = mt;
    body.stream = stream;
    if (stream)
      body.stream_options = { ...(isObject(extra.stream_options) ? extra.stream_options : {}), include_usage: true };
    else delete body.stream_options;
    return Buffer.from(JSON.stringify(body));
  };

  const ds = await scenarioDataset(o);
  let bank: RequestBank | undefined;
  let fixed: WireRequest | undefined;
  if (ds) {
    const problems = ds.problems;
    const prompts = loadPrompts(ds, chat ? 'chat' : 'completions', problems);
    problems.throwIfAny('prompt data');
    const table = buildBatchTable(ds.rowCount, {
      order: scenario.data!.order,
      batch: { min: 1, max: 1 },
      seed: o.seed,
      shard: o.shard,
    });
    bank = new RequestBank(table, (b, rows) =>
      stamp({ method: 'POST', path, headers, body: bodyFor(prompts[rows[0]]) }, b, rows, group),
    );
    bank.encode();
  } else {
    fixed = { method: 'POST', path, headers, body: bodyFor({}) };
    if (group !== undefined) fixed.group = group;
  }
  const scfg: StreamConfig = { chat, stream, slo };

  const adapter: Adapter = {
    protocol: 'openai',
    bodyMode: 'stream',
    async prepare(ctx: AdapterContext) {
      const res = await prepFetch(ctx, o.basePath, o.headers, '/v1/models');
      if (res.status === 404 || res.status === 405) return; // some servers lack /v1/models; the first request will tell
      if (res.status < 200 || res.status >= 300)
        throw notReady(`OpenAI-compatible server not ready: GET ${res.url} → ${res.status} ${bodySnippet(res.body)}`);
      const list = isObject(res.json) && Array.isArray(res.json.data) ? (res.json.data as unknown[]) : undefined;
      const ids = list?.map((m) => (isObject(m) ? m.id : undefined)).filter((x): x is string => typeof x === 'string');
      if (ids && ids.length > 0 && !ids.includes(model)) {
        throw new PreflightError(
          'E_MODEL_MISMATCH',
          `model "${model}" is not served at ${res.url}; served: ${ids.slice(0, 10).join(', ')}`,
          {
            problems: [
              { message: `model "${model}" is not served`, hint: `served models: ${ids.slice(0, 10).join(', ')}` },
            ],
          },
        );
      }
    },
    request(seq: number): WireRequest {
      return fixed ?? bank!.request(seq);
    },
    openStream(_req: WireRequest, status: number): StreamObserver {
      return new OpenaiObserver(scfg, status);
    },
    judge(_req: WireRequest, status: number): ErrorClass | null {
      return classifyStatus(status);
    },
  };
  return adapter;
}
