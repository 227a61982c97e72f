/**
 * The HTTP fault proxy: an HTTP/1.1 reverse proxy in front of one target that applies `layer: 'http'`
 * faults per request, as Envoy's fault filter does (abort, delay), plus streaming (SSE) faults.
 * Bodies stream both ways with backpressure (pipes; never a whole body in memory); the upstream is
 * reached through one keep-alive undici Pool. Which requests a fault hits: its `match`, then a draw with
 * `toxicity.share` — per request, or once per client connection (Toxiproxy's semantics) — from the
 * one seeded generator. Every wait is a timer: nothing here blocks the event loop.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { Fault, FaultInjector, HttpFault, HttpMatch } from '../core/faults.js';
import { PreflightError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { assertHttpFault, sampleDelay } from './http-faults.js';
import { isEventStream, SseFaultStream, type SseFaultRef } from './http-sse.js';

export interface HttpFaultProxyOptions {
  upstream: {
    host: string;
    port: number;
    /** HTTPS to the upstream (`true`, or the CA / verification / SNI to use). The proxy listens on HTTP. */
    tls?: boolean | { ca?: string | Buffer; rejectUnauthorized?: boolean; servername?: string };
  };
  /** Listening address (default 127.0.0.1: the proxy is loopback unless asked). */
  host?: string;
  /** Listening port (default 0: any free port). */
  port?: number;
  /** Seed of the one generator every toxicity draw and delay comes from (default 1). */
  seed?: number;
}

/** What the proxy did so far (counts() plus what it caused). */
export interface HttpProxyStats {
  connections: number;
  requests: number;
  /** Requests answered by an abort fault (the upstream never saw them). */
  aborted: number;
  /** Requests held by a delay fault before they were forwarded. */
  delayed: number;
  /** Streamed responses an SSE fault applied to. */
  sseFaulted: number;
  /** Upstream failures: answered 502 (or, once the response had started, the connection closed). */
  upstreamErrors: number;
}

export interface HttpFaultProxy extends FaultInjector {
  stats(): HttpProxyStats;
  /** The faults applied now, in the order they were added. */
  list(): { id: string; fault: Fault }[];
}

type HttpLayerFault = Extract<Fault, { layer: 'http' }>;

interface Entry {
  id: string;
  fault: HttpLayerFault;
}

/** A request held by delay faults: the parts per fault, so removing one gives its part back. */
interface Hold {
  start: number;
  parts: Map<string, number>;
  timer: NodeJS.Timeout | null;
  go: () => void;
}

/** Response header naming the abort fault that answered, and the reason of a proxy 502. */
export const FAULT_HEADER = 'x-preflight-fault';
export const PROXY_ERROR_HEADER = 'x-preflight-proxy-error';

// RFC 9110 §7.6.1: connection-specific fields a proxy must not forward.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

function endToEnd(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const listed = h.connection
    ? h.connection
        .toLowerCase()
        .split(',')
        .map((s) => s.trim())
    : null;
  for (const k in h) {
    if (HOP_BY_HOP.has(k) || (listed !== null && listed.includes(k))) continue;
    const v = h[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A header value from free text (a fault's name, an error): printable ASCII, at most 64 characters. */
function headerSafe(s: string): string {
  return s.slice(0, 64).replace(/[^\x20-\x7e]/g, '?');
}

function matches(m: HttpMatch | undefined, req: http.IncomingMessage): boolean {
  if (m === undefined) return true;
  if (m.method !== undefined && req.method !== m.method.toUpperCase()) return false;
  if (m.pathPrefix !== undefined && !(req.url ?? '/').startsWith(m.pathPrefix)) return false;
  if (m.headers !== undefined) {
    for (const name in m.headers) {
      const v = req.headers[name.toLowerCase()];
      if ((Array.isArray(v) ? v.join(', ') : v) !== m.headers[name]) return false;
    }
  }
  return true;
}

export async function startHttpFaultProxy(opts: HttpFaultProxyOptions): Promise<HttpFaultProxy> {
  const up = opts.upstream;
  const tls = up.tls === undefined || up.tls === false ? null : up.tls === true ? {} : up.tls;
  // undici rather than a node:http Agent: ~35% less CPU per proxied request (bench/http-proxy-overhead.ts).
  // No timeouts of its own: the load generator's decide (a stalled stream is what a fault may be).
  const pool = new Pool(
    `${tls === null ? 'http' : 'https'}://${up.host.includes(':') ? `[${up.host}]` : up.host}:${up.port}`,
    {
      connections: null,
      headersTimeout: 0,
      bodyTimeout: 0,
      ...(tls === null ? {} : { connect: tls }),
    },
  );
  const rng = new Rng(opts.seed ?? 1);
  const faults = new Map<string, Entry>();
  let nextId = 1;
  const stats: HttpProxyStats = {
    connections: 0,
    requests: 0,
    aborted: 0,
    delayed: 0,
    sseFaulted: 0,
    upstreamErrors: 0,
  };
  // Per client connection, the draw of each per-connection fault (drawn at its first matching request).
  const connectionDraws = new WeakMap<Socket, Map<string, boolean>>();
  const holds = new Set<Hold>();
  const streams = new Set<SseFaultStream>();
  const cancels = new Set<EventEmitter>();
  let closed = false;

  const hit = (e: Entry, sock: Socket): boolean => {
    const { share, per } = e.fault.toxicity;
    if (share <= 0) return false;
    if (share >= 1) return true;
    if (per === 'request') return rng.float() < share;
    let drawn = connectionDraws.get(sock);
    if (drawn === undefined) connectionDraws.set(sock, (drawn = new Map()));
    let h = drawn.get(e.id);
    if (h === undefined) drawn.set(e.id, (h = rng.float() < share));
    return h;
  };

  const server = http.createServer((req, res) => {
    stats.requests++;
    let abort: Entry | null = null;
    let delays: Map<string, number> | null = null;
    let sse: SseFaultRef[] | null = null;
    for (const e of faults.values()) {
      if (!matches(e.fault.match, req) || !hit(e, req.socket)) continue;
      const f = e.fault.fault;
      if (f.type === 'abort') abort ??= e;
      else if (f.type === 'delay') (delays ??= new Map()).set(e.id, sampleDelay(f.delay, rng));
      else (sse ??= []).push({ id: e.id, fault: f });
    }
    if (abort !== null) return answerAbort(abort, req, res);
    if (delays === null) return forward(req, res, sse);
    stats.delayed++;
    const hold: Hold = {
      start: performance.now(),
      parts: delays,
      timer: null,
      go: () => {
        holds.delete(hold);
        hold.timer = null;
        forward(req, res, sse);
      },
    };
    holds.add(hold);
    armHold(hold);
    res.once('close', () => {
      if (hold.timer !== null) clearTimeout(hold.timer);
      holds.delete(hold);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (sock: Socket) => {
    stats.connections++;
    sock.setNoDelay(true);
  });
  server.on('clientError', (_err, sock: Socket) => {
    if (sock.writable) sock.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else sock.destroy();
  });

  function armHold(hold: Hold): void {
    let total = 0;
    for (const ms of hold.parts.values()) total += ms;
    const wait = hold.start + total - performance.now();
    if (hold.timer !== null) clearTimeout(hold.timer);
    hold.timer = setTimeout(hold.go, Math.max(0, wait));
  }

  function answerAbort(e: Entry, req: http.IncomingMessage, res: http.ServerResponse): void {
    stats.aborted++;
    const f = e.fault.fault as Extract<HttpFault, { type: 'abort' }>;
    req.resume();
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'text/plain; charset=utf-8',
      [FAULT_HEADER]: headerSafe(e.fault.name),
    };
    if (f.retryAfterS !== undefined) headers['retry-after'] = String(f.retryAfterS);
    res.writeHead(f.status, headers);
    res.end(`fault injected (${e.fault.name}): ${f.status}\n`);
  }

  function forward(req: http.IncomingMessage, res: http.ServerResponse, sse: SseFaultRef[] | null): void {
    if (closed) return void res.destroy();
    const headers = endToEnd(req.headers);
    // undici refuses `expect` (node:http already answered 100-continue to the client).
    delete headers['expect'];
    const cl = req.headers['content-length'];
    const hasBody = cl !== undefined ? cl !== '0' : req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) req.resume();
    // undici takes an EventEmitter as the abort signal: lighter than an AbortController per request.
    const cancel = new EventEmitter();
    cancels.add(cancel);
    let done = false;
    let stream: SseFaultStream | null = null;
    let body: Readable | null = null;
    const finish = () => {
      done = true;
      cancels.delete(cancel);
      if (stream !== null) {
        stream.destroy();
        streams.delete(stream);
      }
    };
    const fail = (err: Error & { code?: string }) => {
      if (done) return;
      finish();
      stats.upstreamErrors++;
      cancel.emit('abort');
      if (!res.headersSent) {
        const reason = headerSafe(err.code ?? err.message);
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', [PROXY_ERROR_HEADER]: reason });
        res.end(`preflight fault proxy: upstream ${reason}\n`);
      } else {
        res.destroy();
      }
    };
    res.once('close', () => {
      if (!done) {
        // The client left (or the proxy is closing) before the response ended: drop the upstream request.
        finish();
        cancel.emit('abort');
        body?.destroy();
      } else if (stream !== null) {
        stream.destroy();
        streams.delete(stream);
      }
    });
    req.on('error', () => cancel.emit('abort'));
    pool
      .request({
        path: req.url ?? '/',
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: headers as Record<string, string | string[]>,
        body: hasBody ? req : null,
        signal: cancel,
      })
      .then((ures) => {
        body = ures.body;
        if (done) return void ures.body.destroy();
        const out = endToEnd(ures.headers as http.IncomingHttpHeaders);
        // Faults removed while the request was held (delay) or waiting for its response no longer apply.
        const drawn = sse === null ? [] : sse.filter((f) => faults.has(f.id));
        const eventStream = isEventStream(ures.headers['content-type']);
        const faulted = drawn.length > 0 && eventStream;
        // Faults change the body's length; a streamed response has none to keep.
        if (faulted) delete out['content-length'];
        res.writeHead(ures.statusCode, out);
        // An event stream's headers go now, as the upstream sent them (a stall may hold its first event);
        // any other body carries them in its first write (one send, not two).
        if (eventStream) res.flushHeaders();
        ures.body.on('error', (err: Error) => fail(err));
        if (faulted) {
          stats.sseFaulted++;
          stream = new SseFaultStream(drawn, ures.body, res, () => {
            finish();
            ures.body.destroy();
          });
          streams.add(stream);
        } else {
          ures.body.on('end', finish);
          ures.body.pipe(res);
        }
      }, fail);
  }

  const listenHost = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new PreflightError('E_ARGS', `fault proxy cannot listen on ${listenHost}:${opts.port ?? 0}: ${err.code}`, {
          cause: err,
          problems: [{ path: 'port', message: err.message, hint: 'choose a free port, or 0 for any' }],
        }),
      ),
    );
    server.listen(opts.port ?? 0, listenHost, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  const remove = (id: string): void => {
    if (!faults.delete(id)) return;
    for (const hold of holds) {
      if (hold.parts.delete(id)) armHold(hold);
    }
    for (const s of streams) s.release(id);
  };

  return {
    url: `http://${hostPart}:${addr.port}`,
    add(fault: Fault): string {
      if (closed) throw new PreflightError('E_INTERNAL', 'the HTTP fault proxy is closed');
      assertHttpFault(fault);
      const id = `http-${nextId++}`;
      faults.set(id, { id, fault: fault as HttpLayerFault });
      return id;
    },
    remove,
    reset(): void {
      for (const id of [...faults.keys()]) remove(id);
    },
    counts: () => ({ connections: stats.connections, requests: stats.requests }),
    stats: () => ({ ...stats }),
    list: () => [...faults.values()].map((e) => ({ id: e.id, fault: e.fault })),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      faults.clear();
      for (const hold of holds) if (hold.timer !== null) clearTimeout(hold.timer);
      holds.clear();
      for (const s of streams) s.destroy();
      streams.clear();
      for (const c of cancels) c.emit('abort');
      cancels.clear();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([stopped, pool.destroy()]);
    },
  };
}
