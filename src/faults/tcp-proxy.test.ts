/**
 * The TCP fault proxy against real loopback servers of known behaviour: each toxic's measured
 * effect (generous tolerances: two noisy shared cores), toxicity per connection and per request
 * (binomial 4σ), removal releasing held data, bad input, and that nothing outlives close().
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { PreflightError } from '../core/errors.js';
import type { Fault, TcpFault, Toxicity } from '../core/faults.js';
import { startTcpFaultProxy, type TcpFaultProxy } from './tcp-proxy.js';

const ALL: Toxicity = { share: 1, per: 'connection' };
let nextName = 0;
function tcp(fault: TcpFault, direction: 'downstream' | 'upstream' = 'downstream', toxicity = ALL): Fault {
  return { layer: 'tcp', name: `f${++nextName}`, direction, toxicity, fault };
}

// A target of known behaviour: / → "ok"; /big?n=N → N bytes (Content-Length); /chunked → 3 chunks.
let target: http.Server;
let targetPort = 0;
// A raw TCP target: sends "hello" and closes its side (for slow_close), or echoes (others).
let raw: net.Server;
let rawPort = 0;
const proxies: TcpFaultProxy[] = [];

before(async () => {
  target = http.createServer((req, res) => {
    req.resume();
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/big') {
      const n = Number(url.searchParams.get('n') ?? '1000');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      res.end(Buffer.alloc(n, 120));
    } else if (url.pathname === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('one,');
      res.write('two,');
      res.end('three');
    } else {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
    }
  });
  target.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  targetPort = (target.address() as net.AddressInfo).port;
  raw = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    s.once('data', (d) => {
      if (d.toString().startsWith('close')) s.end('hello');
      else {
        s.write(d);
        s.on('data', (more) => s.write(more));
        s.on('end', () => s.end());
      }
    });
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
  rawPort = (raw.address() as net.AddressInfo).port;
});

after(async () => {
  for (const p of proxies) await p.close();
  target.closeAllConnections();
  await new Promise<void>((r) => target.close(() => r()));
  await new Promise<void>((r) => raw.close(() => r()));
});

async function proxyTo(port = targetPort, seed = 7): Promise<TcpFaultProxy> {
  const p = await startTcpFaultProxy({ upstream: { host: '127.0.0.1', port }, seed });
  proxies.push(p);
  return p;
}

interface Got {
  status: number;
  ms: number;
  bytes: number;
  body: string;
}

/** One GET through `agent` (a new connection each time without one). */
function get(base: string, pathname: string, agent?: http.Agent, timeoutMs = 15_000): Promise<Got> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(`${base}${pathname}`, { agent: agent ?? false, timeout: timeoutMs }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, bytes: body.length, body: body.toString() });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
  });
}

/** `n` GETs, `concurrency` at a time, each on a new connection. */
async function many(base: string, pathname: string, n: number, concurrency: number): Promise<Got[]> {
  const out: Got[] = [];
  let i = 0;
  const worker = async () => {
    while (i < n) {
      i++;
      out.push(await get(base, pathname));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return out;
}

/** `n` GETs of / through `agent`, 5 at a time: each one's time in ms. */
async function timed(base: string, agent: http.Agent, n: number): Promise<number[]> {
  const out: number[] = [];
  let i = 0;
  const worker = async () => {
    while (i < n) {
      i++;
      out.push((await get(base, '/', agent)).ms);
    }
  };
  await Promise.all(Array.from({ length: 5 }, worker));
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** A raw TCP client: sends `payload`, collects what comes back until the peer closes or `timeoutMs`. */
function rawExchange(
  port: number,
  payload: Buffer | string,
  timeoutMs = 10_000,
): Promise<{ data: Buffer; chunks: number; error?: string; firstDataMs: number; closeMs: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const parts: Buffer[] = [];
    let firstDataMs = -1;
    let error: string | undefined;
    const s = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => s.destroy(new Error('client timeout')), timeoutMs);
    s.on('connect', () => s.end(payload)); // half-close: the echo target then closes too
    s.on('data', (d: Buffer) => {
      if (firstDataMs < 0) firstDataMs = performance.now() - t0;
      parts.push(d);
    });
    s.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({
        data: Buffer.concat(parts),
        chunks: parts.length,
        error,
        firstDataMs,
        closeMs: performance.now() - t0,
      });
    });
  });
}

/** Waits (bounded: 5 s) until `cond` holds. */
async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(cond(), what);
}

test('no fault: a straight pipe; connections and requests are counted', async () => {
  const p = await proxyTo();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < 5; i++) assert.equal((await get(p.url, '/', agent)).body, 'ok');
    const big = await get(p.url, '/big?n=3000000', agent);
    assert.equal(big.bytes, 3_000_000);
    assert.equal((await get(p.url, '/chunked', agent)).body, 'one,two,three');
  } finally {
    agent.destroy();
  }
  await waitFor(() => p.counts().open === 0, 'connection forgotten');
  assert.deepEqual(p.counts(), { connections: 1, requests: 7, unframed: 0, open: 0 });
});

test('backpressure: a client that does not read stops the target, with and without a fault', {
  timeout: 30_000,
}, async () => {
  const TOTAL = 64 * 2 ** 20;
  const piece = Buffer.alloc(64 * 1024, 97);
  let written = 0;
  // Writes up to 64 MiB as fast as the socket takes it (waiting for drain), counting what was taken.
  const src = net.createServer((s) => {
    s.on('error', () => {});
    const pump = () => {
      while (written < TOTAL) {
        written += piece.length;
        if (!s.write(piece)) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
  await new Promise<void>((r) => src.listen(0, '127.0.0.1', r));
  try {
    for (const withFault of [false, true]) {
      written = 0;
      const p = await proxyTo((src.address() as net.AddressInfo).port);
      if (withFault)
        p.add(tcp({ type: 'latency', latencyMs: 0, jitterMs: 0 }, 'downstream', { share: 1, per: 'request' }));
      const c = net.connect(p.port, '127.0.0.1');
      c.on('error', () => {});
      c.pause(); // never reads
      await new Promise((r) => setTimeout(r, 1500));
      // Kernel buffers on three sockets plus one high-water mark in the proxy: far below 64 MiB.
      assert.ok(
        written < 24 * 2 ** 20,
        `${withFault ? 'fault' : 'no fault'}: ${(written / 2 ** 20).toFixed(1)} MiB taken`,
      );
      assert.ok(written > 0);
      c.destroy();
      await p.close();
    }
  } finally {
    await new Promise<void>((r) => src.close(() => r()));
  }
});

test('a target that refuses: the client gets a reset, the proxy forgets the connection', async () => {
  const gone = net.createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  const port = (gone.address() as net.AddressInfo).port;
  await new Promise<void>((r) => gone.close(() => r()));
  const p = await proxyTo(port);
  const r = await rawExchange(p.port, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  assert.equal(r.data.length, 0);
  assert.ok(r.error === 'ECONNRESET' || r.error === undefined, String(r.error));
  await waitFor(() => p.counts().open === 0, 'connection forgotten');
});

test('latency: 200 ms ± 50 per direction it is on (p50, added to the same path without it)', async () => {
  const p = await proxyTo();
  // Keep-alive connections, opened before the fault: the figures are the fault's, not connection set-up's.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 5 });
  const batch = (n: number) => timed(p.url, agent, n);
  try {
    const base = median(await batch(25));
    const id = p.add(tcp({ type: 'latency', latencyMs: 200, jitterMs: 50 }));
    const down = await batch(20);
    const added = median(down) - base;
    // Lower bounds are absolute (a delay is never shorter), upper ones relative to the same path without it.
    assert.ok(
      median(down) >= 165 && added <= 280,
      `downstream: p50 ${median(down).toFixed(0)} ms, ${added.toFixed(0)} ms added`,
    );
    assert.ok(Math.min(...down) >= 145, `min ${Math.min(...down).toFixed(0)} ms: every response delayed ≥ 150 ms`);
    p.add(tcp({ type: 'latency', latencyMs: 200, jitterMs: 50 }, 'upstream'));
    const both = await batch(20);
    assert.ok(
      median(both) >= 340 && median(both) - base <= 500,
      `both directions: p50 ${median(both).toFixed(0)} ms, ${(median(both) - base).toFixed(0)} ms added`,
    );
    p.remove(id);
    p.reset();
    const none = median(await batch(10)) - base;
    assert.ok(none < 100, `after reset: ${none.toFixed(0)} ms added at p50`);
  } finally {
    agent.destroy();
  }
});

test('two faults compose in order added: two latencies add up', async () => {
  const p = await proxyTo();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 5 });
  try {
    const base = median(await timed(p.url, agent, 15));
    p.add(tcp({ type: 'latency', latencyMs: 100, jitterMs: 0 }));
    p.add(tcp({ type: 'latency', latencyMs: 100, jitterMs: 0 }));
    const ms = await timed(p.url, agent, 10);
    // Lower bounds are absolute (a delay is never shorter), upper ones relative to the same path without it.
    assert.ok(Math.min(...ms) >= 195, `min ${Math.min(...ms).toFixed(0)} ms`);
    assert.ok(median(ms) - base <= 300, `${(median(ms) - base).toFixed(0)} ms added at p50`);
  } finally {
    agent.destroy();
  }
});

test('bandwidth: 200 KB at 100 KB/s takes ≈ 2 s (within 25%)', async () => {
  const p = await proxyTo();
  p.add(tcp({ type: 'bandwidth', bytesPerSecond: 100_000 }));
  const g = await get(p.url, '/big?n=200000');
  assert.equal(g.bytes, 200_000);
  assert.ok(g.ms >= 1500 && g.ms <= 2500, `200 KB in ${g.ms.toFixed(0)} ms`);
});

test('slow_close: the close reaches the client delayMs late; the data does not wait', async () => {
  const p = await proxyTo(rawPort);
  p.add(tcp({ type: 'slow_close', delayMs: 600 }));
  const r = await rawExchange(p.port, 'close please');
  assert.equal(r.data.toString(), 'hello');
  assert.equal(r.error, undefined);
  assert.ok(r.firstDataMs < 400, `data after ${r.firstDataMs.toFixed(0)} ms`);
  assert.ok(r.closeMs - r.firstDataMs >= 550, `close ${(r.closeMs - r.firstDataMs).toFixed(0)} ms after the data`);
});

test('timeout: no data passes, the connection is closed after timeoutMs', async () => {
  const p = await proxyTo();
  p.add(tcp({ type: 'timeout', timeoutMs: 400 }));
  const r = await rawExchange(p.port, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  assert.equal(r.data.length, 0, 'no data');
  assert.ok(r.closeMs >= 350 && r.closeMs < 5000, `closed after ${r.closeMs.toFixed(0)} ms`);
});

test('timeout 0: held until the fault is removed, then the held request is answered', async () => {
  const p = await proxyTo();
  const id = p.add(tcp({ type: 'timeout', timeoutMs: 0 }, 'upstream'));
  let answered = -1;
  const t0 = performance.now();
  const pending = get(p.url, '/').then((g) => {
    answered = performance.now() - t0;
    return g;
  });
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(answered, -1, 'no answer while the timeout holds');
  p.remove(id);
  const g = await pending;
  assert.equal(g.body, 'ok');
  assert.ok(answered >= 650, `answered after ${answered.toFixed(0)} ms`);
});

test('latency: removing the fault releases held data at once', async () => {
  const p = await proxyTo();
  const id = p.add(tcp({ type: 'latency', latencyMs: 10_000, jitterMs: 0 }));
  const pending = get(p.url, '/');
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  p.remove(id);
  const g = await pending;
  assert.equal(g.body, 'ok');
  assert.ok(performance.now() - t0 < 3000, 'released, not delayed 10 s');
});

test('reset_peer: the client sees ECONNRESET', async () => {
  const p = await proxyTo();
  p.add(tcp({ type: 'reset_peer', timeoutMs: 0 }));
  await assert.rejects(get(p.url, '/'), (e: NodeJS.ErrnoException) => e.code === 'ECONNRESET');
  const p2 = await proxyTo();
  p2.add(tcp({ type: 'reset_peer', timeoutMs: 300 }, 'upstream'));
  const r = await rawExchange(p2.port, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  assert.equal(r.error, 'ECONNRESET');
  assert.equal(r.data.length, 0);
  assert.ok(r.closeMs >= 250, `reset after ${r.closeMs.toFixed(0)} ms`);
});

test('slicer: the client receives many small chunks, intact', async () => {
  const p = await proxyTo(rawPort);
  p.add(tcp({ type: 'slicer', averageSize: 100, sizeVariation: 20, delayMs: 5 }));
  const payload = Buffer.alloc(2000, 97);
  const r = await rawExchange(p.port, payload);
  assert.equal(r.data.length, 2000);
  assert.ok(r.chunks >= 8, `${r.chunks} chunks`);
});

test('slicer without a delay: 1-byte slices of big chunks never hold the thread long', async () => {
  const p = await proxyTo(rawPort);
  p.add(tcp({ type: 'slicer', averageSize: 1, sizeVariation: 0, delayMs: 0 }));
  // CPU time between two ticks, not wall time: on a busy machine the thread is also preempted, which
  // is not the proxy holding it (process CPU: this thread's work dominates it here).
  let last = process.cpuUsage();
  let worst = 0;
  const tick = setInterval(() => {
    const now = process.cpuUsage();
    worst = Math.max(worst, (now.user - last.user + now.system - last.system) / 1000);
    last = now;
  }, 5);
  try {
    const r = await rawExchange(p.port, Buffer.alloc(256 * 1024, 98), 60_000);
    assert.equal(r.data.length, 256 * 1024, 'intact');
  } finally {
    clearInterval(tick);
  }
  // Unbounded, one 64 KiB read became 65,536 writes in one turn (hundreds of ms); now 256 per turn.
  assert.ok(worst < 150, `the event loop was held for ${worst.toFixed(0)} ms of CPU`);
});

test('limit_data: the connection is closed after N bytes', async () => {
  const p = await proxyTo();
  p.add(tcp({ type: 'limit_data', bytes: 100 }));
  const r = await rawExchange(p.port, 'GET /big?n=5000 HTTP/1.1\r\nhost: x\r\n\r\n');
  assert.equal(r.data.length, 100);
  assert.ok(r.data.toString('latin1').startsWith('HTTP/1.1 200'));
});

test('down: new connections are refused, open ones closed; restored after remove', async () => {
  const p = await proxyTo();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal((await get(p.url, '/', agent)).body, 'ok');
    const [sock] = Object.values(agent.sockets).flat().concat(Object.values(agent.freeSockets).flat());
    const closedOpen = new Promise<void>((r) => sock!.once('close', () => r()));
    const id = p.add(tcp({ type: 'down' }));
    await closedOpen;
    const r = await rawExchange(p.port, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.equal(r.data.length, 0);
    assert.ok(r.error === 'ECONNRESET' || r.error === 'EPIPE' || r.error === undefined);
    await assert.rejects(get(p.url, '/'));
    p.remove(id);
    assert.equal((await get(p.url, '/')).body, 'ok');
  } finally {
    agent.destroy();
  }
});

// Affected requests are told by the latency fault's delay (unaffected ones take ~1-10 ms here); the
// threshold sits well below the delay (a timer never fires early) and above loopback noise.

test('toxicity per connection: 0.5 over 200 connections → 0.5 ± 4σ', async () => {
  const p = await proxyTo(targetPort, 11);
  p.add(tcp({ type: 'latency', latencyMs: 50, jitterMs: 0 }, 'downstream', { share: 0.5, per: 'connection' }));
  const got = await many(p.url, '/', 200, 4);
  const hits = got.filter((g) => g.ms >= 30).length;
  const sd = Math.sqrt(200 * 0.5 * 0.5);
  assert.ok(Math.abs(hits - 100) <= 4 * sd, `${hits} of 200 connections delayed`);
  assert.equal(p.counts().connections, 200);
  await waitFor(() => p.counts().open === 0, 'every closed connection forgotten');
});

test('down per connection: 0.5 over 300 new connections → 0.5 ± 4σ refused (drawn once, not again per stage)', async () => {
  // Regression: a connection that escaped the draw at accept was given the `down` stage too, which
  // drew again — 1 − 0.5² ≈ 75% of connections failed.
  const p = await proxyTo(targetPort, 13);
  p.add(tcp({ type: 'down' }, 'downstream', { share: 0.5, per: 'connection' }));
  let failed = 0;
  for (let i = 0; i < 300; i++) {
    const ok = await get(p.url, '/').then(
      (g) => g.body === 'ok',
      () => false,
    );
    if (!ok) failed++;
  }
  const sd = Math.sqrt(300 * 0.5 * 0.5);
  assert.ok(Math.abs(failed - 150) <= 4 * sd, `${failed} of 300 connections refused`);
});

test('toxicity per request: 0.3 over 500 requests on ONE keep-alive connection → 0.3 ± 4σ', async () => {
  const p = await proxyTo(targetPort, 12);
  p.add(tcp({ type: 'latency', latencyMs: 30, jitterMs: 0 }, 'downstream', { share: 0.3, per: 'request' }));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let hits = 0;
  try {
    for (let i = 0; i < 500; i++) if ((await get(p.url, '/', agent)).ms >= 15) hits++;
  } finally {
    agent.destroy();
  }
  const sd = Math.sqrt(500 * 0.3 * 0.7);
  assert.ok(Math.abs(hits - 150) <= 4 * sd, `${hits} of 500 requests delayed`);
  await waitFor(() => p.counts().open === 0, 'connection forgotten');
  assert.deepEqual(p.counts(), { connections: 1, requests: 500, unframed: 0, open: 0 });
});

test('toxicity per connection on one keep-alive connection: all requests or none', async () => {
  const outcomes = new Set<string>();
  for (const seed of [1, 7, 2, 8]) {
    const p = await proxyTo(targetPort, seed);
    p.add(tcp({ type: 'latency', latencyMs: 40, jitterMs: 0 }, 'downstream', { share: 0.5, per: 'connection' }));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let hits = 0;
    try {
      for (let i = 0; i < 15; i++) if ((await get(p.url, '/', agent)).ms >= 25) hits++;
    } finally {
      agent.destroy();
    }
    assert.ok(hits === 15 || hits <= 1, `seed ${seed}: ${hits} of 15 delayed — not all or nothing`);
    outcomes.add(hits === 15 ? 'all' : 'none');
    assert.equal(p.counts().connections, 1);
    if (outcomes.size === 2) break;
  }
  assert.equal(outcomes.size, 2, 'both outcomes seen over the seeds');
});

test('per request on a stream that is not HTTP/1.1: drawn per connection, and counted', async () => {
  const p = await proxyTo(rawPort);
  p.add(tcp({ type: 'latency', latencyMs: 300, jitterMs: 0 }, 'downstream', { share: 1, per: 'request' }));
  const r = await rawExchange(p.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]), 3000);
  assert.equal(r.data.length, 10, 'echoed');
  assert.ok(r.firstDataMs >= 280, `delayed ${r.firstDataMs.toFixed(0)} ms`);
  await waitFor(() => p.counts().open === 0, 'connection forgotten');
  assert.deepEqual(p.counts(), { connections: 1, requests: 0, unframed: 1, open: 0 });
});

test('bad input: every problem at once, each with its field; http faults are refused', async () => {
  const p = await proxyTo();
  const bad = {
    layer: 'tcp',
    name: 'oops',
    direction: 'sideways',
    toxicity: { share: 2, per: 'request' },
    fault: { type: 'latency', latencyMs: -5, jitterMs: Number.NaN, extra: 1 },
  } as unknown as Fault;
  assert.throws(
    () => p.add(bad),
    (e: PreflightError) => {
      assert.equal(e.code, 'E_PLAN_INVALID');
      const paths = e.problems.map((x) => x.path).sort();
      assert.deepEqual(paths, ['direction', 'fault.extra', 'fault.jitterMs', 'fault.latencyMs', 'toxicity.share']);
      assert.match(e.message, /latencyMs must be .*from 0 to 3600000 ms \(got -5\)/);
      return true;
    },
  );
  const cases: Array<[TcpFault, string]> = [
    [{ type: 'bandwidth', bytesPerSecond: -1 }, 'fault.bytesPerSecond'],
    [{ type: 'slicer', averageSize: 10, sizeVariation: 10, delayMs: 0 }, 'fault.sizeVariation'],
    [{ type: 'limit_data', bytes: 1.5 }, 'fault.bytes'],
    [{ type: 'timeout', timeoutMs: 1e12 }, 'fault.timeoutMs'],
    [{ type: 'nope' } as unknown as TcpFault, 'fault.type'],
  ];
  for (const [f, field] of cases)
    assert.throws(
      () => p.add(tcp(f)),
      (e: PreflightError) => e.code === 'E_PLAN_INVALID' && e.problems.some((x) => x.path === field),
      field,
    );
  assert.throws(
    () => p.add({ layer: 'http', name: 'h', toxicity: ALL, fault: { type: 'abort', status: 503 } }),
    (e: PreflightError) => e.code === 'E_PLAN_INVALID' && /HTTP fault proxy/.test(e.problems[0].hint ?? ''),
  );
  await assert.rejects(
    startTcpFaultProxy({ upstream: { host: '127.0.0.1', port: 0 } }),
    (e: PreflightError) => e.code === 'E_ARGS',
  );
  // Nothing was added by the failed calls.
  assert.equal((await get(p.url, '/')).body, 'ok');
});

test('the proxy never outlives close(): the event loop drains with faults holding data', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'preflight-tcp-proxy-'));
  const mod = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tcp-proxy.js');
  const script = path.join(dir, 'drain.mjs');
  writeFileSync(
    script,
    `import net from 'node:net';
import { startTcpFaultProxy } from ${JSON.stringify(mod)};
const up = net.createServer((s) => { s.on('error', () => {}); s.on('data', (d) => s.write(d)); });
await new Promise((r) => up.listen(0, '127.0.0.1', r));
const p = await startTcpFaultProxy({ upstream: { host: '127.0.0.1', port: up.address().port } });
const tox = { share: 1, per: 'connection' };
p.add({ layer: 'tcp', name: 'l', direction: 'downstream', toxicity: tox, fault: { type: 'latency', latencyMs: 60000, jitterMs: 0 } });
p.add({ layer: 'tcp', name: 't', direction: 'upstream', toxicity: { share: 0.5, per: 'request' }, fault: { type: 'timeout', timeoutMs: 60000 } });
p.add({ layer: 'tcp', name: 's', direction: 'downstream', toxicity: tox, fault: { type: 'slow_close', delayMs: 60000 } });
const socks = [];
for (let i = 0; i < 5; i++) {
  const s = net.connect(p.port, '127.0.0.1');
  s.on('error', () => {});
  s.write('GET / HTTP/1.1\\r\\nhost: x\\r\\n\\r\\n');
  socks.push(s);
}
await new Promise((r) => setTimeout(r, 300));
await p.close();
for (const s of socks) s.destroy();
up.close();
const t = Date.now();
process.on('exit', () => console.log('exit after', Date.now() - t));
`,
  );
  try {
    const r = spawnSync(process.execPath, [script], { timeout: 20_000, encoding: 'utf8' });
    assert.equal(r.signal, null, `still running after 20 s: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const ms = Number(/exit after (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(ms < 5000, `exited ${ms} ms after close`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
