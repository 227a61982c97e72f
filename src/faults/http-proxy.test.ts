/**
 * The HTTP fault proxy against real loopback servers of known behaviour: each fault's effect is
 * measured as a client sees it (shares within 4σ of the binomial, delays' quantiles against each
 * distribution's closed form, SSE timing against a server sending 20 events 10 ms apart), with
 * generous tolerances (2 noisy cores). Every loop is bounded; every server is closed in after().
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Fault, HttpFault, HttpMatch, Toxicity } from '../core/faults.js';
import { PreflightError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { sampleDelay } from './http-faults.js';
import { startHttpFaultProxy, type HttpFaultProxy } from './http-proxy.js';

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

interface Upstream {
  port: number;
  hits: number;
  close(): Promise<void>;
}

/** A loopback HTTP server; `handler` answers (the request body is the handler's to read). */
async function upstream(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Upstream> {
  const state = { hits: 0 };
  const server = http.createServer((req, res) => {
    state.hits++;
    handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const u: Upstream = {
    port: (server.address() as AddressInfo).port,
    get hits() {
      return state.hits;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  closers.push(u.close);
  return u;
}

const okServer = () =>
  upstream((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });

/** 20 SSE events 10 ms apart, then `data: [DONE]` (OpenAI's framing). */
const sseServer = () =>
  upstream((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let i = 0;
    let timer: NodeJS.Timeout | null = null;
    const next = () => {
      if (i < 20) {
        res.write(`data: {"i":${i},"choices":[{"delta":{"content":"t${i}"}}]}\n\n`);
        i++;
        timer = setTimeout(next, 10);
      } else {
        res.end('data: [DONE]\n\n');
      }
    };
    res.on('close', () => timer !== null && clearTimeout(timer));
    next();
  });

async function proxyTo(u: Upstream, seed = 7): Promise<HttpFaultProxy> {
  const p = await startHttpFaultProxy({ upstream: { host: '127.0.0.1', port: u.port }, seed });
  closers.push(() => p.close());
  return p;
}

const httpFault = (fault: HttpFault, toxicity: Partial<Toxicity> = {}, match?: HttpMatch): Fault => ({
  layer: 'http',
  name: fault.type,
  toxicity: { share: 1, per: 'request', ...toxicity },
  ...(match ? { match } : {}),
  fault,
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}

/** One request; bounded at 20 s. */
function send(
  base: string,
  opts: { path?: string; method?: string; headers?: Record<string, string>; agent?: http.Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(
      `${base}${opts.path ?? '/'}`,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent, timeout: 20_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body, ms: performance.now() - t0 }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('test request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** `n` requests, at most `concurrency` at once. */
async function sendMany(n: number, concurrency: number, fn: (i: number) => Promise<Reply>): Promise<Reply[]> {
  const out: Reply[] = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

interface SseReply {
  status: number;
  events: { data: string; t: number }[];
  /** The HTTP message ended properly (false: the connection closed mid-body). */
  complete: boolean;
  totalMs: number;
}

/** Reads an SSE response, timing each event (split at blank lines); bounded at 20 s. */
function readSse(base: string, onEvent?: (n: number) => void): Promise<SseReply> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(`${base}/sse`, { agent: false }, (res) => {
      const events: SseReply['events'] = [];
      let text = '';
      const killer = setTimeout(() => req.destroy(new Error('SSE read timed out')), 20_000);
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
        for (let i = text.indexOf('\n\n'); i >= 0; i = text.indexOf('\n\n')) {
          const block = text.slice(0, i);
          text = text.slice(i + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          events.push({ data, t: performance.now() - t0 });
          onEvent?.(events.length);
        }
      });
      res.on('error', () => {});
      res.on('close', () => {
        clearTimeout(killer);
        resolve({ status: res.statusCode!, events, complete: res.complete, totalMs: performance.now() - t0 });
      });
    });
    req.on('error', reject);
  });
}

/** ± 4σ of a binomial share. */
function assertShare(k: number, n: number, p: number, what: string): void {
  const sigma = Math.sqrt((p * (1 - p)) / n);
  assert.ok(
    Math.abs(k / n - p) <= 4 * sigma,
    `${what}: ${k}/${n} = ${(k / n).toFixed(4)}, expected ${p} ± ${4 * sigma}`,
  );
}

describe('abort', () => {
  test('10% of 2,000 requests answered 429 with Retry-After, and the upstream never saw them', async () => {
    const u = await okServer();
    const p = await proxyTo(u);
    p.add(httpFault({ type: 'abort', status: 429, retryAfterS: 7 }, { share: 0.1 }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    closers.push(async () => agent.destroy());
    const replies = await sendMany(2000, 16, () => send(p.url, { agent }));
    const aborted = replies.filter((r) => r.status === 429);
    assert.equal(aborted.length + replies.filter((r) => r.status === 200).length, 2000, 'only 429s and 200s');
    assertShare(aborted.length, 2000, 0.1, 'aborted share');
    for (const r of aborted) {
      assert.equal(r.headers['retry-after'], '7');
      assert.equal(r.headers['x-preflight-fault'], 'abort');
    }
    assert.equal(u.hits, 2000 - aborted.length, 'the upstream saw exactly the requests not aborted');
    assert.equal(p.counts().requests, 2000);
    assert.ok(p.counts().connections <= 16, `keep-alive kept: ${p.counts().connections} connections`);
    assert.equal(p.stats().aborted, aborted.length);
  });

  test('503 and 500 without Retry-After; an abort wins over a delay; delays add', async () => {
    const u = await okServer();
    const p = await proxyTo(u);
    const a = p.add(httpFault({ type: 'abort', status: 503 }));
    const d = p.add(httpFault({ type: 'delay', delay: { kind: 'fixed', ms: 2000 } }));
    const r = await send(p.url);
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], undefined);
    assert.ok(r.ms < 1500, `the abort is not delayed (${r.ms} ms)`);
    p.remove(a);
    p.remove(d);
    p.add(httpFault({ type: 'abort', status: 500 }, {}, { pathPrefix: '/five' }));
    assert.equal((await send(p.url, { path: '/five' })).status, 500);
    p.reset();
    p.add(httpFault({ type: 'delay', delay: { kind: 'fixed', ms: 60 } }));
    p.add(httpFault({ type: 'delay', delay: { kind: 'fixed', ms: 60 } }));
    const two = await send(p.url);
    assert.equal(two.status, 200);
    assert.ok(two.ms >= 119 && two.ms < 400, `two 60 ms delays add: ${two.ms} ms`);
    assert.equal(u.hits, 1);
  });
});

test('an abort names its fault in x-preflight-fault, as printable ASCII whatever the name', async () => {
  const p = await proxyTo(await okServer());
  p.add({ ...httpFault({ type: 'abort', status: 503 }), name: 'café ☕ down' });
  const r = await send(p.url);
  assert.equal(r.status, 503);
  assert.equal(r.headers['x-preflight-fault'], 'caf? ? down');
});

describe('delay distributions: the added delay, measured at the client, has each distribution’s quantiles', () => {
  // Each expected quantile x_q with the distribution's density there: a sample quantile of n draws is
  // within 4·√(q(1−q)/n)/f(x_q) of x_q. Timers never fire early, so that is the lower bound; the
  // machine's lag only adds, so the upper bound also allows the p95 of control requests (no fault)
  // sent at the same time on the same pool — a loaded machine widens it by what it measurably costs.
  const N = 300;
  const phi = (z: number) => Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI);
  const Z90 = 1.2815516;
  type Q = [q: number, x: number, density: number];
  const cases: { name: string; delay: Extract<HttpFault, { type: 'delay' }>['delay']; quantiles: Q[] }[] = [
    {
      name: 'fixed 100 ms → p50 = p5 = 100, none early',
      delay: { kind: 'fixed', ms: 100 },
      quantiles: [
        [0.5, 100, Infinity],
        [0.05, 100, Infinity],
      ],
    },
    {
      name: 'uniform 50–150 ms → p10 60, p50 (= mean) 100, p90 140',
      delay: { kind: 'uniform', minMs: 50, maxMs: 150 },
      quantiles: [
        [0.1, 60, 0.01],
        [0.5, 100, 0.01],
        [0.9, 140, 0.01],
      ],
    },
    {
      name: 'lognormal median 100 ms, σ 0.5 → p50 100, p90 100·e^(0.5·1.2816) = 190',
      delay: { kind: 'lognormal', medianMs: 100, sigma: 0.5 },
      quantiles: [
        [0.5, 100, phi(0) / (100 * 0.5)],
        [0.9, 100 * Math.exp(0.5 * Z90), phi(Z90) / (100 * Math.exp(0.5 * Z90) * 0.5)],
      ],
    },
    {
      name: 'Pareto scale 50 ms, shape 2 → p50 = 50·2^(1/2) = 70.7, p5 ≥ the scale',
      delay: { kind: 'pareto', scaleMs: 50, shape: 2 },
      quantiles: [
        [0.5, 50 * Math.SQRT2, (2 * 50 ** 2) / (50 * Math.SQRT2) ** 3],
        [0.05, 50 / Math.sqrt(0.95), (2 * 50 ** 2) / (50 / Math.sqrt(0.95)) ** 3],
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const u = await okServer();
      const p = await proxyTo(u);
      p.add(httpFault({ type: 'delay', delay: c.delay }, {}, { pathPrefix: '/d' }));
      const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
      closers.push(async () => agent.destroy());
      const replies = await sendMany(2 * N, 20, (i) => send(p.url, { agent, path: i % 2 === 0 ? '/d' : '/c' }));
      assert.ok(replies.every((r) => r.status === 200));
      assert.equal(p.stats().delayed, N);
      const delayed = replies.filter((_, i) => i % 2 === 0).map((r) => r.ms);
      const controlP95 = quantile(
        replies.filter((_, i) => i % 2 === 1).map((r) => r.ms),
        0.95,
      );
      for (const [q, x, f] of c.quantiles) {
        const tol = (4 * Math.sqrt((q * (1 - q)) / N)) / f;
        const got = quantile(delayed, q);
        const [low, high] = [x - tol - 2, x + tol + 10 + controlP95];
        assert.ok(
          got >= low && got <= high,
          `p${q * 100} ${got.toFixed(1)} ms not in [${low.toFixed(1)}, ${high.toFixed(1)}] (x_q ${x.toFixed(1)}, control p95 ${controlP95.toFixed(1)})`,
        );
      }
    });
  }

  test('the sampler alone: 20,000 draws per distribution match the closed-form quantiles within 3%', () => {
    const rng = new Rng(3);
    const q = (d: Parameters<typeof sampleDelay>[0], p: number) =>
      quantile(
        Array.from({ length: 20_000 }, () => sampleDelay(d, rng)),
        p,
      );
    const near = (got: number, want: number) => assert.ok(Math.abs(got / want - 1) < 0.03, `${got} vs ${want}`);
    near(q({ kind: 'uniform', minMs: 50, maxMs: 150 }, 0.25), 75);
    near(q({ kind: 'lognormal', medianMs: 100, sigma: 0.5 }, 0.5), 100);
    near(q({ kind: 'lognormal', medianMs: 100, sigma: 0.5 }, 0.9), 100 * Math.exp(0.5 * 1.2815516));
    near(q({ kind: 'pareto', scaleMs: 50, shape: 2 }, 0.5), 50 * Math.SQRT2);
    near(q({ kind: 'pareto', scaleMs: 50, shape: 3 }, 0.9), 50 * Math.pow(10, 1 / 3));
  });
});

test('matching on path prefix, method and header: only matching requests are hit', async () => {
  const u = await okServer();
  const p = await proxyTo(u);
  p.add(httpFault({ type: 'abort', status: 503 }, {}, { pathPrefix: '/a' }));
  p.add(httpFault({ type: 'abort', status: 500 }, {}, { headers: { 'x-canary': 'yes' } }));
  p.add(httpFault({ type: 'abort', status: 429 }, {}, { pathPrefix: '/p', method: 'post' }));
  const status = async (path: string, method = 'GET', headers: Record<string, string> = {}) =>
    (await send(p.url, { path, method, headers })).status;
  assert.equal(await status('/a/x'), 503);
  assert.equal(await status('/b'), 200);
  assert.equal(await status('/b', 'GET', { 'X-Canary': 'yes' }), 500);
  assert.equal(await status('/b', 'GET', { 'X-Canary': 'no' }), 200);
  assert.equal(await status('/p/1', 'POST'), 429);
  assert.equal(await status('/p/1', 'GET'), 200);
  assert.equal(u.hits, 3);
});

describe('toxicity per request vs per connection, over keep-alive connections', () => {
  test('per connection: all requests of one connection or none; per request: a share of one connection', async () => {
    const u = await okServer();
    const p = await proxyTo(u);
    const conn = p.add(httpFault({ type: 'abort', status: 503 }, { share: 0.5, per: 'connection' }));
    // 40 connections of 5 requests each: every connection all-or-none, about half of them hit.
    let hitConnections = 0;
    for (let c = 0; c < 40; c++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const before = p.counts().connections;
      const replies = await sendMany(5, 1, () => send(p.url, { agent }));
      agent.destroy();
      assert.equal(p.counts().connections, before + 1, 'one keep-alive connection');
      const n503 = replies.filter((r) => r.status === 503).length;
      assert.ok(n503 === 0 || n503 === 5, `connection ${c}: ${n503}/5 aborted`);
      if (n503 === 5) hitConnections++;
    }
    assertShare(hitConnections, 40, 0.5, 'connections hit');
    p.remove(conn);
    p.add(httpFault({ type: 'abort', status: 503 }, { share: 0.5, per: 'request' }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    closers.push(async () => agent.destroy());
    const before = p.counts().connections;
    const replies = await sendMany(200, 1, () => send(p.url, { agent }));
    assert.equal(p.counts().connections, before + 1, 'all 200 on one connection');
    assertShare(replies.filter((r) => r.status === 503).length, 200, 0.5, 'per-request share on one connection');
  });
});

describe('SSE faults against a server sending 20 events 10 ms apart', () => {
  test('baseline through the proxy: 21 events, [DONE] last, complete', async () => {
    const p = await proxyTo(await sseServer());
    const r = await readSse(p.url);
    assert.equal(r.events.length, 21);
    assert.equal(r.events.at(-1)!.data, '[DONE]');
    assert.ok(r.complete);
  });

  test('stall 300 ms after 5 events: one gap of ≈ 300 ms after event 5, all events delivered', async () => {
    const p = await proxyTo(await sseServer());
    p.add(httpFault({ type: 'sse_stall', afterEvents: 5, stallMs: 300 }));
    const r = await readSse(p.url);
    assert.equal(r.events.length, 21);
    assert.ok(r.complete);
    const gaps = r.events.slice(1).map((e, i) => e.t - r.events[i].t);
    const longest = gaps.indexOf(Math.max(...gaps));
    assert.equal(longest, 4, `the long gap is between event 5 and 6 (gaps ${gaps.map(Math.round)})`);
    // Event 6 leaves the upstream ≥ 50 ms after the request and is held 300 ms more: never earlier.
    assert.ok(r.events[5].t >= 50 + 300 - 2, `event 6 at ${r.events[5].t} ms`);
    assert.ok(gaps[4] >= 200 && gaps[4] <= 500, `stall gap ${gaps[4]}`);
    assert.ok(r.totalMs >= 500 && r.totalMs < 1200, `total ${r.totalMs} ≈ 200 + 300`);
    assert.equal(p.stats().sseFaulted, 1);
  });

  test('truncate after 7 events: the client gets 7 events and the stream ends without [DONE]', async () => {
    const u = await sseServer();
    const p = await proxyTo(u);
    p.add(httpFault({ type: 'sse_truncate', afterEvents: 7 }));
    const r = await readSse(p.url);
    assert.equal(r.status, 200);
    assert.equal(r.events.length, 7);
    assert.ok(r.events.every((e) => e.data !== '[DONE]'));
    assert.equal(r.complete, false, 'the connection closed mid-body');
    // The proxy still answers on new connections.
    assert.equal((await readSse(p.url)).events.length, 7);
  });

  test('slow by 20 ms: total ≈ 21 × (10 + 20) ms, each gap ≈ 30 ms', async () => {
    const p = await proxyTo(await sseServer());
    p.add(httpFault({ type: 'sse_slow', extraMs: 20 }));
    const r = await readSse(p.url);
    assert.equal(r.events.length, 21);
    assert.ok(r.complete);
    const gaps = r.events.slice(1).map((e, i) => e.t - r.events[i].t);
    assert.ok(Math.abs(quantile(gaps, 0.5) - 30) <= 8, `median gap ${quantile(gaps, 0.5)}`);
    assert.ok(r.totalMs >= 600 && r.totalMs <= 1000, `total ${r.totalMs}`);
  });

  test('malformed after 3 events: a 4th event that is not JSON, then the rest', async () => {
    const p = await proxyTo(await sseServer());
    p.add(httpFault({ type: 'sse_malformed', afterEvents: 3 }));
    const r = await readSse(p.url);
    assert.equal(r.events.length, 22);
    assert.equal(r.events[3].data, '{"choices": [');
    assert.throws(() => JSON.parse(r.events[3].data));
    assert.equal(JSON.parse(r.events[4].data).i, 3);
    assert.equal(r.events.at(-1)!.data, '[DONE]');
  });

  test('SSE faults leave other content types alone', async () => {
    const u = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '20' });
      res.end('{"ok":true}\n\n{"x":1}');
    });
    const p = await proxyTo(u);
    p.add(httpFault({ type: 'sse_truncate', afterEvents: 0 }));
    const r = await send(p.url);
    assert.equal(r.body, '{"ok":true}\n\n{"x":1}');
    assert.equal(r.headers['content-length'], String(r.body.length));
    assert.equal(p.stats().sseFaulted, 0);
  });
});

describe('SSE framing and composition', () => {
  test('events split at blank lines whatever the line ends and the byte splits; comments pass but do not count', async () => {
    // CRLF, CR-only and LF line ends, a comment block, boundaries cut across writes.
    const pieces = ['data: 1\r\n', '\r\ndata: 2\r', '\n\r\n: ping\n\n', 'data:', ' 3\r\rdata: 4\n\ndata: [DONE]\n\n'];
    const u = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      let i = 0;
      const next = () => (i < pieces.length ? (res.write(pieces[i++]), setTimeout(next, 15)) : res.end());
      next();
    });
    const p = await proxyTo(u);
    const raw = async () =>
      new Promise<{ body: string; complete: boolean }>((resolve, reject) => {
        http
          .get(`${p.url}/sse`, { agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('error', () => {});
            res.on('close', () => resolve({ body, complete: res.complete }));
          })
          .on('error', reject);
      });
    assert.equal((await raw()).body, pieces.join(''), 'no fault: bytes unchanged');
    const t = p.add(httpFault({ type: 'sse_truncate', afterEvents: 3 }));
    const cut = await raw();
    assert.equal(
      cut.body,
      'data: 1\r\n\r\ndata: 2\r\n\r\n: ping\n\ndata: 3\r\r',
      'three events (and the comment), then closed',
    );
    assert.equal(cut.complete, false);
    p.remove(t);
    p.add(httpFault({ type: 'sse_malformed', afterEvents: 2 }));
    const bad = await raw();
    assert.equal(
      bad.body,
      'data: 1\r\n\r\ndata: 2\r\n\r\ndata: {"choices": [\n\n: ping\n\ndata: 3\r\rdata: 4\n\ndata: [DONE]\n\n',
    );
  });

  test('faults compose on one stream: a stall and a slow rate add, then a truncation', async () => {
    const p = await proxyTo(await sseServer());
    p.add(httpFault({ type: 'sse_stall', afterEvents: 2, stallMs: 200 }));
    p.add(httpFault({ type: 'sse_slow', extraMs: 15 }));
    p.add(httpFault({ type: 'sse_truncate', afterEvents: 10 }));
    const r = await readSse(p.url);
    assert.equal(r.events.length, 10);
    assert.equal(r.complete, false);
    const gaps = r.events.slice(1).map((e, i) => e.t - r.events[i].t);
    // Event 3 arrives ≥ 20 ms after the request and is shifted 3 × 15 (slow) + 200 (stall): never earlier.
    assert.ok(r.events[2].t >= 20 + 245 - 2 && r.events[2].t < 800, `event 3 at ${r.events[2].t} ms`);
    assert.equal(gaps.indexOf(Math.max(...gaps)), 1, `the long gap follows event 2 (${gaps.map(Math.round)})`);
    const rest = gaps.filter((_, i) => i !== 1);
    assert.ok(Math.abs(quantile(rest, 0.5) - 25) <= 8, `other gaps ≈ 10 + 15 ms: median ${quantile(rest, 0.5)}`);
  });
});

test('hop-by-hop headers are not forwarded either way; end-to-end ones and Host are', async () => {
  let seen: http.IncomingHttpHeaders = {};
  const u = await upstream((req, res) => {
    seen = req.headers;
    req.resume();
    res.writeHead(200, { connection: 'x-up-hop', 'x-up-hop': '1', 'x-up-e2e': '1', 'keep-alive': 'timeout=5' });
    res.end('ok');
  });
  const p = await proxyTo(u);
  const r = await send(p.url, {
    headers: { connection: 'keep-alive, x-hop', 'x-hop': '1', 'x-e2e': '1', 'proxy-authorization': 'Basic x' },
  });
  assert.equal(r.status, 200);
  assert.equal(seen['x-e2e'], '1');
  assert.equal(seen['x-hop'], undefined);
  assert.equal(seen['proxy-authorization'], undefined);
  assert.equal(seen.host, new URL(p.url).host, 'Host passes unchanged');
  assert.equal(r.headers['x-up-e2e'], '1');
  assert.equal(r.headers['x-up-hop'], undefined);
  assert.notEqual(r.headers['keep-alive'], 'timeout=5');
});

describe('remove', () => {
  test('releases an in-flight stall and a held delay at once, and stops the fault for new requests', async () => {
    const p = await proxyTo(await sseServer());
    const stall = p.add(httpFault({ type: 'sse_stall', afterEvents: 3, stallMs: 60_000 }));
    const slow = p.add(httpFault({ type: 'delay', delay: { kind: 'fixed', ms: 60_000 } }, {}, { pathPrefix: '/slow' }));
    const held = send(p.url, { path: '/slow' });
    let removedAt = 0;
    const r = await readSse(p.url, (n) => {
      if (n === 3 && removedAt === 0) {
        // After the 3rd event the stream is stalled; let it sit a little, then remove the fault.
        setTimeout(() => {
          removedAt = performance.now();
          p.remove(stall);
          p.remove(slow);
        }, 200);
      }
    });
    assert.equal(r.events.length, 21);
    assert.ok(r.complete);
    assert.ok(r.totalMs < 5000, `released: total ${r.totalMs} ms`);
    const h = await held;
    assert.equal(h.headers['content-type'], 'text/event-stream');
    assert.ok(h.ms < 10_000, `the held request went on when its delay was removed (${h.ms} ms)`);
    assert.equal((await readSse(p.url)).totalMs < 5000, true, 'new requests are not stalled');
  });
});

describe('upstream failures and streaming', () => {
  test('upstream down → 502 with a short reason header, counted', async () => {
    const u = await okServer();
    const port = u.port;
    await u.close();
    const p = await startHttpFaultProxy({ upstream: { host: '127.0.0.1', port } });
    closers.push(() => p.close());
    const r = await send(p.url);
    assert.equal(r.status, 502);
    assert.equal(r.headers['x-preflight-proxy-error'], 'ECONNREFUSED');
    assert.equal(p.stats().upstreamErrors, 1);
  });

  test('upstream dies mid-response → the client sees an incomplete response, counted', async () => {
    const u = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const p = await proxyTo(u);
    const err = await send(p.url).then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(err !== null, 'the client sees the response cut');
    assert.equal(p.stats().upstreamErrors, 1);
  });

  test('bodies stream both ways: each piece passes before the next is sent (no buffering)', async () => {
    let gotFirst: () => void = () => {};
    const firstAtUpstream = new Promise<void>((r) => (gotFirst = r));
    let clientGotFirst: () => void = () => {};
    const firstAtClient = new Promise<void>((r) => (clientGotFirst = r));
    const u = await upstream((req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => {
        n += d.length;
        gotFirst();
      });
      req.on('end', async () => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(`got ${n};`);
        await firstAtClient;
        res.end('second');
      });
    });
    const p = await proxyTo(u);
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${p.url}/up`, { method: 'POST', agent: false }, (res) => {
        let s = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          s += d;
          clientGotFirst();
        });
        res.on('end', () => resolve(s));
      });
      req.on('error', reject);
      req.write('a'.repeat(1000));
      // The second piece goes only once the upstream has the first: a buffering proxy never gets here.
      void firstAtUpstream.then(() => req.end('b'.repeat(1000)));
      setTimeout(() => req.destroy(new Error('streaming deadlocked')), 10_000).unref();
    });
    assert.equal(body, 'got 2000;second');
  });

  test('backpressure: a client that does not read stops the upstream (the proxy holds no whole body)', async () => {
    let written = 0;
    let stop = false;
    const u = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(1 << 20);
      const more = () => {
        // Bounded: at most 256 MiB, and stops when the test ends.
        while (!stop && written < 256 << 20) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      res.on('close', () => (stop = true));
      more();
    });
    const p = await proxyTo(u);
    const req = http.get(`${p.url}/big`, { agent: false }, (res) => res.pause());
    req.on('error', () => {});
    await new Promise((r) => setTimeout(r, 1500));
    const atRest = written;
    stop = true;
    req.destroy();
    assert.ok(atRest < 64 << 20, `the upstream wrote ${atRest >> 20} MiB to a client that reads nothing`);
  });
});

describe('bad input', () => {
  test('tcp faults and absurd attributes are PreflightErrors (E_ARGS) naming the attribute', async () => {
    const p = await proxyTo(await okServer());
    const tcp: Fault = {
      layer: 'tcp',
      name: 'lat',
      direction: 'downstream',
      toxicity: { share: 1, per: 'connection' },
      fault: { type: 'latency', latencyMs: 10, jitterMs: 0 },
    };
    const rejects = (f: Fault, path: RegExp) =>
      assert.throws(
        () => p.add(f),
        (e: unknown) =>
          e instanceof PreflightError && e.code === 'E_ARGS' && e.problems.some((x) => path.test(x.path!)),
      );
    rejects(tcp, /layer/);
    rejects(httpFault({ type: 'abort', status: 200 }), /fault\.status/);
    rejects(httpFault({ type: 'abort', status: 503 }, { share: 1.5 }), /toxicity\.share/);
    rejects(httpFault({ type: 'delay', delay: { kind: 'uniform', minMs: 10, maxMs: 5 } }), /fault\.delay/);
    rejects(httpFault({ type: 'delay', delay: { kind: 'fixed', ms: -1 } }), /fault\.delay\.ms/);
    rejects(httpFault({ type: 'delay', delay: { kind: 'pareto', scaleMs: 10, shape: 0 } }), /shape/);
    rejects(httpFault({ type: 'sse_stall', afterEvents: 1.5, stallMs: 10 }), /afterEvents/);
    rejects(httpFault({ type: 'sse_slow', extraMs: Number.NaN }), /extraMs/);
    rejects(httpFault({ type: 'abort', status: 503 }, {}, { pathPrefix: 'v2' }), /pathPrefix/);
    assert.equal(p.list().length, 0, 'nothing was added');
  });
});

describe('close', () => {
  test('ends held requests and streams; nothing keeps the process alive afterwards', async () => {
    // A child process holds a stall and a delay, closes the proxy and its servers, and must exit by itself.
    const proxyModule = new URL('./http-proxy.js', import.meta.url).href;
    const script = `
      import http from 'node:http';
      const { startHttpFaultProxy } = await import(${JSON.stringify(proxyModule)});
      const up = http.createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: 1\\n\\n');
        const t = setInterval(() => res.write('data: 2\\n\\n'), 20);
        res.on('close', () => clearInterval(t));
      });
      await new Promise((r) => up.listen(0, '127.0.0.1', r));
      const p = await startHttpFaultProxy({ upstream: { host: '127.0.0.1', port: up.address().port } });
      const t = { layer: 'http', name: 's', toxicity: { share: 1, per: 'request' } };
      p.add({ ...t, fault: { type: 'sse_stall', afterEvents: 1, stallMs: 600000 } });
      p.add({ ...t, match: { pathPrefix: '/held' }, fault: { type: 'delay', delay: { kind: 'fixed', ms: 600000 } } });
      const ended = [];
      for (const path of ['/sse', '/held']) {
        http.get(p.url + path, (res) => { res.resume(); res.on('close', () => ended.push(path)); })
          .on('error', () => ended.push(path));
      }
      await new Promise((r) => setTimeout(r, 300));
      await p.close();
      up.closeAllConnections();
      up.close();
      await new Promise((r) => setTimeout(r, 100));
      console.log(JSON.stringify({ ended: ended.sort() }));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      child.once('exit', (c, s) => r([c, s])),
    );
    clearTimeout(killer);
    assert.equal(signal, null, `the process did not exit by itself (killed after 15 s): ${err}`);
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(out.trim()), { ended: ['/held', '/sse'] });
  });
});
