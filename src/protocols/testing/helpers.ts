/**
 * Test helpers: plans built in code, an AdapterContext backed by undici, sending an adapter's
 * WireRequest with undici's request() and judging the answer (the engine's job in real runs),
 * and a Recorder that keeps everything in memory.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { Adapter, AdapterContext, ErrorClass, Recorder, WireRequest } from '../../core/types.js';
import type { Plan, ScenarioCommon, ScenarioPlan } from '../../plan/types.js';
import { classifyStatus } from '../common.js';

export class MemoryRecorder implements Recorder {
  readonly counters: Record<string, number> = {};
  readonly histograms: Record<string, number[]> = {};
  readonly maxes: Record<string, number> = {};
  count(name: string, n = 1): void {
    this.counters[name] = (this.counters[name] ?? 0) + n;
  }
  record(name: string, value: number): void {
    (this.histograms[name] ??= []).push(value);
  }
  max(name: string, value: number): void {
    if (this.maxes[name] === undefined || value > this.maxes[name]) this.maxes[name] = value;
  }
}

export function testPlan(
  url: string,
  scenario: Partial<ScenarioCommon> & Pick<ScenarioCommon, 'protocol'>,
  opts: { source?: string; seed?: number; headers?: Record<string, string> } = {},
): Plan {
  const s: ScenarioPlan = {
    name: 'test',
    executor: 'iterations',
    startTimeMs: 0,
    gracefulStopMs: 1000,
    arrival: 'uniform',
    maxRequests: 10,
    concurrency: 1,
    checks: [],
    tags: {},
    ...scenario,
  };
  return {
    source: opts.source ?? '<inline>',
    target: {
      url,
      headers: opts.headers ?? {},
      timeoutMs: 5000,
      connectTimeoutMs: 2000,
      client: 'auto',
      tls: { insecure: false },
      readyPath: null,
      readyTimeoutMs: 1000,
    },
    scenarios: [s],
    thresholds: [],
    options: { workers: 1, seed: opts.seed ?? 42, intervalMs: 1000, maxDispatchLagMs: 100 },
    secrets: [],
  };
}

export function originOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

export function testContext(url: string, shard = { index: 0, count: 1 }, seed = 42): AdapterContext {
  const origin = originOf(url);
  return {
    origin,
    headers: {},
    shard,
    seed,
    async fetch(path, init = {}) {
      const res = await request(`${origin}${path}`, {
        method: (init.method ?? 'GET') as 'GET',
        ...(init.body !== undefined ? { body: init.body } : {}),
        ...(init.headers ? { headers: init.headers } : {}),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      return { status: res.statusCode, body };
    },
  };
}

export interface Sent {
  status: number;
  body: Buffer;
  cls: ErrorClass | null;
  /** ns since send, for streams: first chunk, end. */
  endNs: number;
}

/** Sends one request as the engine would and judges it (judge, or openStream for 'stream'). */
export async function send(
  adapter: Adapter,
  origin: string,
  req: WireRequest,
  rec: Recorder,
  startNs = process.hrtime.bigint(),
): Promise<Sent> {
  const res = await request(`${origin}${req.path}`, {
    method: req.method as 'POST',
    headers: req.headers,
    ...(req.body ? { body: req.body } : {}),
  });
  const status = res.statusCode;
  if (adapter.bodyMode === 'stream' && adapter.openStream) {
    const obs = adapter.openStream(req, status);
    const parts: Buffer[] = [];
    for await (const chunk of res.body) {
      const b = chunk as Buffer;
      parts.push(b);
      obs.onData(b, Number(process.hrtime.bigint() - startNs));
    }
    const endNs = Number(process.hrtime.bigint() - startNs);
    const cls = obs.onEnd(endNs, rec);
    return { status, body: Buffer.concat(parts), cls, endNs };
  }
  const body = Buffer.from(await res.body.arrayBuffer());
  const endNs = Number(process.hrtime.bigint() - startNs);
  const cls = adapter.judge
    ? adapter.judge(req, status, adapter.bodyMode === 'full' ? body : null, rec)
    : classifyStatus(status);
  return { status, body, cls, endNs };
}

/** Sends requests seq = 0..n-1 (sequentially) and returns the error classes. */
export async function sendMany(
  adapter: Adapter,
  origin: string,
  n: number,
  rec: Recorder,
): Promise<Array<ErrorClass | null>> {
  const out: Array<ErrorClass | null> = [];
  for (let seq = 0; seq < n; seq++) out.push((await send(adapter, origin, adapter.request(seq), rec)).cls);
  return out;
}

export type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => unknown;

/** A node:http server on 127.0.0.1:0 that buffers the request body for `handler`. */
export async function startServer(handler: Handler): Promise<{
  server: Server;
  url: string;
  close(): Promise<void>;
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }>;
}> {
  const seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }> = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      Promise.resolve(handler(req, body, res)).catch((err) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(res: ServerResponse, status: number, value: unknown): void {
  if (status === 204 || status === 304) {
    res.writeHead(status);
    res.end();
    return;
  }
  const b = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': b.length });
  res.end(b);
}
