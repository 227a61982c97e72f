/**
 * Where target metrics are read: exposition endpoints scraped directly (async I/O on the main
 * thread, which never sends load: a scrape cannot hold up the sending threads), and a Prometheus
 * server's HTTP API (instant and range queries). Every request has a deadline and a size limit.
 * TLS comes as an undici dispatcher built by the caller with the one TLS builder
 * (src/engine/target-tls.ts; monitor may not import engine).
 */
import { request, type Dispatcher } from 'undici';
import type { MonitorSource } from '../plan/monitor.js';
import { ExpositionParser, formatOfContentType, type Exposition } from './exposition.js';

/** Largest response read (a /metrics of a big exporter is a few MB). */
const MAX_BYTES = 32 * 1024 * 1024;

export interface HttpContext {
  dispatcher?: Dispatcher;
  timeoutMs: number;
}

export class SourceError extends Error {
  constructor(
    message: string,
    /** The server answered (HTTP status) — as opposed to being unreachable. */
    readonly status?: number,
    /** Prometheus' own error text (bad PromQL). */
    readonly serverError?: string,
  ) {
    super(message);
  }
}

async function get(
  url: string,
  src: MonitorSource,
  ctx: HttpContext,
  accept: string,
  onChunk: (s: string) => void,
  onHeaders?: (status: number, contentType: string) => void,
): Promise<{ status: number; contentType: string }> {
  let res: Dispatcher.ResponseData;
  const signal = AbortSignal.timeout(ctx.timeoutMs);
  try {
    res = await request(url, {
      method: 'GET',
      headers: { ...src.headers, accept },
      signal,
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
      ...(ctx.dispatcher ? { dispatcher: ctx.dispatcher } : {}),
    });
  } catch (e) {
    const err = e as { code?: string; message?: string; cause?: { code?: string } };
    const why = signal.aborted
      ? `no answer in ${ctx.timeoutMs} ms`
      : (err.cause?.code ?? err.code ?? err.message ?? String(e));
    throw new SourceError(`cannot reach ${url}: ${why}`);
  }
  const contentType = String(res.headers['content-type'] ?? '');
  onHeaders?.(res.statusCode, contentType);
  let bytes = 0;
  res.body.setEncoding('utf8');
  try {
    for await (const chunk of res.body as AsyncIterable<string>) {
      bytes += chunk.length;
      if (bytes > MAX_BYTES) {
        res.body.destroy();
        throw new SourceError(`${url}: the answer is larger than ${MAX_BYTES / 1024 / 1024} MB`);
      }
      onChunk(chunk);
    }
  } catch (e) {
    if (e instanceof SourceError) throw e;
    throw new SourceError(`${url}: the answer was cut off (${signal.aborted ? 'timeout' : String(e)})`);
  }
  return { status: res.statusCode, contentType };
}

/** Scrapes one exposition endpoint: parsed as it arrives (by the format its Content-Type names). */
export async function scrape(src: MonitorSource, ctx: HttpContext): Promise<Exposition> {
  let parser: ExpositionParser | undefined;
  let errorBody = '';
  const r = await get(
    src.url,
    src,
    ctx,
    'application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
    (chunk) => {
      if (parser) parser.push(chunk);
      else if (errorBody.length < 1000) errorBody += chunk;
    },
    (status, contentType) => {
      if (status === 200) parser = new ExpositionParser(formatOfContentType(contentType));
    },
  );
  if (!parser)
    throw new SourceError(`${src.url} answered HTTP ${r.status}: ${errorBody.slice(0, 200).trim()}`, r.status);
  return parser.end();
}

export type PromValue = [number, string];
export interface PromSeries {
  metric: Record<string, string>;
  values?: PromValue[];
  value?: PromValue;
}

/** GET /api/v1/<path>: the `data.result` of a vector or matrix; Prometheus' error (bad PromQL) as a SourceError. */
export async function promQuery(
  src: MonitorSource,
  ctx: HttpContext,
  path: 'query' | 'query_range',
  params: Record<string, string>,
): Promise<PromSeries[]> {
  const data = (await promGet(src, ctx, path, params)) as { resultType?: string; result?: unknown } | undefined;
  const result = data?.result;
  if (data?.resultType === 'scalar' && Array.isArray(result))
    return [{ metric: {}, value: result as unknown as PromValue, values: [result as unknown as PromValue] }];
  return Array.isArray(result) ? (result as PromSeries[]) : [];
}

/** GET /api/v1/<path> (query, rules, …): the answer's `data`; Prometheus' error as a SourceError. */
export async function promGet(
  src: MonitorSource,
  ctx: HttpContext,
  path: string,
  params: Record<string, string>,
): Promise<unknown> {
  const url = `${src.url}/api/v1/${path}?${new URLSearchParams(params).toString()}`;
  let text = '';
  const r = await get(url, src, ctx, 'application/json', (c) => (text += c));
  let body: { status?: string; error?: string; errorType?: string; data?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new SourceError(
      `${src.url} answered HTTP ${r.status} with no Prometheus API JSON: ${text.slice(0, 200).trim()}`,
      r.status,
    );
  }
  if (body.status !== 'success')
    throw new SourceError(
      `Prometheus at ${src.url} rejected the query (${body.errorType ?? `HTTP ${r.status}`}): ${body.error ?? 'no error text'}`,
      r.status,
      body.error,
    );
  return body.data;
}

/** A Prometheus sample value: NaN and ±Inf (no data, division by zero) are gaps. */
export function promNumber(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** GET a JSON document (Alertmanager's API): the parsed body of a 2xx answer, else a SourceError. */
export async function getJson(url: string, src: MonitorSource, ctx: HttpContext): Promise<unknown> {
  let text = '';
  const r = await get(url, src, ctx, 'application/json', (c) => (text += c));
  if (r.status < 200 || r.status >= 300)
    throw new SourceError(`${url} answered HTTP ${r.status}: ${text.slice(0, 200).trim()}`, r.status);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SourceError(`${url} answered with no JSON: ${text.slice(0, 200).trim()}`, r.status);
  }
}
