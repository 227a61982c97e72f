/**
 * The HTTP fault proxy in front of the reference server (`preflight serve`, a child process), with
 * Preflight's own engine as the client: the numbers a user would see in summary.json — the error
 * rate and class of aborts, and how the OpenAI adapter's SSE parser classifies streams the proxy
 * breaks (malformed event, truncated stream, stall).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../src/run/index.js';
import { startHttpFaultProxy, type HttpFaultProxy } from '../src/faults/index.js';
import type { Fault, HttpFault, HttpMatch } from '../src/core/faults.js';
import { plan, scenario } from './helpers/plans.js';
import { makeCertificates } from './helpers/certs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-httpfault-'));

let server: ChildProcess;
let serverPort = 0;
const proxies: HttpFaultProxy[] = [];

before(async () => {
  server = spawn(process.execPath, [cli, 'serve', '--port', '0', '--instances', '1', '--seed', '1'], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  const killer = setTimeout(() => server.kill('SIGKILL'), 30_000);
  const first = await new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (d) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve(stdout.slice(0, nl));
    });
    server.once('exit', () => reject(new Error(`serve exited early: ${stdout}`)));
  });
  clearTimeout(killer);
  const m = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(first);
  assert.ok(m, first);
  serverPort = Number(m[1]);
});

after(async () => {
  for (const p of proxies) await p.close();
  if (server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    const killer = setTimeout(() => server.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }
});

async function proxy(): Promise<HttpFaultProxy> {
  const p = await startHttpFaultProxy({ upstream: { host: '127.0.0.1', port: serverPort }, seed: 5 });
  proxies.push(p);
  return p;
}

const httpFault = (fault: HttpFault, share = 1, match?: HttpMatch): Fault => ({
  layer: 'http',
  name: fault.type,
  toxicity: { share, per: 'request' },
  ...(match ? { match } : {}),
  fault,
});

test('20% 503 aborts in front of the reference server: the run reports error_rate ≈ 0.20, all http_5xx', async () => {
  const p = await proxy();
  p.add(httpFault({ type: 'abort', status: 503 }, 0.2));
  const { summary } = await run(
    plan(
      p.url,
      [
        scenario('steady', {
          rate: 200,
          durationMs: 3000,
          request: { method: 'GET', path: '/v2/models/digits/ready', headers: {} },
        }),
      ],
      // A generous timeout: on a loaded machine a slow reply must not pass for a fault.
      { timeoutMs: 30_000 },
    ),
    { outDir: tmp() },
  );
  const s = summary.scenarios.steady;
  const n = s.requests;
  const seen = `errors ${JSON.stringify(s.errors)}, proxy ${JSON.stringify(p.stats())}`;
  assert.ok(n >= 500, `${n} requests`);
  const sigma = Math.sqrt((0.2 * 0.8) / n);
  assert.ok(Math.abs(s.error_rate - 0.2) <= 4 * sigma, `error_rate ${s.error_rate} vs 0.2 ± ${4 * sigma}; ${seen}`);
  assert.deepEqual(Object.keys(s.errors), ['http_5xx'], seen);
  assert.equal(s.errors.http_5xx, p.stats().aborted, 'every error is one the proxy injected');
  assert.equal(p.counts().requests, n, 'every request went through the proxy');
});

/** A short streamed chat run through the proxy with one SSE fault on the chat endpoint only. */
async function streamed(fault: HttpFault) {
  const p = await proxy();
  // Only the chat endpoint: the adapter's readiness checks (/v1/models) pass untouched.
  p.add(httpFault(fault, 1, { pathPrefix: '/v1/chat/completions' }));
  const { summary } = await run(
    plan(
      p.url,
      [
        scenario('chat', {
          rate: 10,
          durationMs: 2000,
          protocol: 'openai',
          model: 'preflight-sim',
          openai: { endpoint: 'chat', stream: true, maxTokens: 16 },
        }),
      ],
      { timeoutMs: 10_000 },
    ),
    { outDir: tmp() },
  );
  return { s: summary.scenarios.chat, p };
}

test('SSE malformed event after 3 chunks: the OpenAI adapter classifies every stream invalid_response', async () => {
  const { s, p } = await streamed({ type: 'sse_malformed', afterEvents: 3 });
  assert.ok(s.requests >= 15, `${s.requests} requests`);
  assert.deepEqual(s.errors, { invalid_response: s.requests });
  assert.equal(p.stats().sseFaulted, s.requests);
});

test('SSE truncated after 3 chunks (no [DONE]): every stream fails as connection_reset', async () => {
  const { s } = await streamed({ type: 'sse_truncate', afterEvents: 3 });
  assert.ok(s.requests >= 15, `${s.requests} requests`);
  // The connection closes mid-body (chunked, unterminated): the engine sees the socket end under a response.
  assert.deepEqual(s.errors, { connection_reset: s.requests });
});

test('SSE stall of 300 ms after 3 chunks: streams succeed, the worst inter-token gap grows by ≈ 300 ms', async () => {
  const { s } = await streamed({ type: 'sse_stall', afterEvents: 3, stallMs: 300 });
  assert.equal(s.error_rate, 0, JSON.stringify(s.errors));
  assert.ok(s.latency_ms.p50 >= 300, `latency p50 ${s.latency_ms.p50} includes the stall`);
});

test('an HTTPS upstream: verified with the given CA, faults applied; an untrusted one is a 502 naming the TLS error', async (t) => {
  const certs = makeCertificates(tmp());
  if (!certs) return t.skip('openssl is not available');
  const upstream = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`tls ${req.url}`);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (upstream.address() as AddressInfo).port;
    const trusted = await startHttpFaultProxy({ upstream: { host: '127.0.0.1', port, tls: { ca: certs.ca } } });
    proxies.push(trusted);
    trusted.add(httpFault({ type: 'abort', status: 503 }, 1, { pathPrefix: '/down' }));
    const ok = await fetch(`${trusted.url}/x`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'tls /x');
    assert.equal((await fetch(`${trusted.url}/down`)).status, 503);
    const untrusted = await startHttpFaultProxy({ upstream: { host: '127.0.0.1', port, tls: true } });
    proxies.push(untrusted);
    const bad = await fetch(`${untrusted.url}/x`);
    assert.equal(bad.status, 502);
    assert.match(bad.headers.get('x-preflight-proxy-error') ?? '', /CERT|SIGNED|VERIFY/i);
  } finally {
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  }
});
