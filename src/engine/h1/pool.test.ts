/**
 * The built-in HTTP/1.1 client against real servers on loopback: node:http for well-behaved
 * peers, raw TCP servers for the misbehaving ones (reset, hang, garbage, early close).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { buildRequestBytes } from './request-bytes.js';
import { H1Pool, type H1Handler, type H1RequestOptions } from './pool.js';

interface Outcome {
  status: number;
  body: string;
  error: (Error & { code?: string }) | null;
  sent: boolean;
  ms: number;
}

/** Sends one request; resolves with what the handler saw. `onSent` gets the abort function. */
function send(
  pool: H1Pool,
  opts: Partial<H1RequestOptions> = {},
  onSent?: (abort: (err?: Error) => void) => void,
): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const o: Outcome = { status: 0, body: '', error: null, sent: false, ms: 0 };
    const chunks: Buffer[] = [];
    const h: H1Handler = {
      onConnect(abort) {
        o.sent = true;
        onSent?.(abort);
      },
      onHeaders(status) {
        o.status = status;
        return true;
      },
      onBody(buf, start, end) {
        chunks.push(Buffer.from(buf.subarray(start, end)));
      },
      onComplete() {
        o.body = Buffer.concat(chunks).toString();
        o.ms = performance.now() - t0;
        resolve(o);
      },
      onError(err) {
        o.error = err;
        o.ms = performance.now() - t0;
        resolve(o);
      },
    };
    pool.dispatch({ method: 'GET', path: '/', headers: [], body: null, ...opts }, h);
  });
}

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
});

async function listen(server: net.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** node:http server; counts connections. */
async function httpTarget(handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void) {
  const state = { connections: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    const parts: Buffer[] = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(parts).toString()));
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', () => state.connections++);
  const url = await listen(server);
  closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { url, state };
}

/** Raw TCP server: `onData` sees each request's bytes and the socket. */
async function tcpTarget(onData: (sock: net.Socket, data: Buffer, n: number) => void) {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((sock) => {
    state.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    let n = 0;
    sock.on('data', (d) => onData(sock, d, n++));
  });
  const url = await listen(server);
  closers.push(
    () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return { url, state };
}

function newPool(url: string, connections: number | null = null, connectTimeoutMs = 2000): H1Pool {
  const pool = new H1Pool(url, { connections, connectTimeoutMs }, 1000);
  closers.push(() => pool.destroy());
  return pool;
}

describe('built-in HTTP/1.1 client', () => {
  it('sends method, path, headers, host and body exactly; reuses one keep-alive connection', async () => {
    const seen: string[] = [];
    const t = await httpTarget((req, res, body) => {
      seen.push(
        `${req.method} ${req.url} host=${req.headers.host} x=${req.headers['x-model']} len=${req.headers['content-length']} body=${body}`,
      );
      res.end(`echo:${body}`);
    });
    const pool = newPool(t.url, 1);
    for (let i = 0; i < 50; i++) {
      const r = await send(pool, {
        method: 'POST',
        path: `/v2/models/m/infer?i=${i}`,
        headers: ['x-model', 'digits'],
        body: Buffer.from(`{"i":${i}}`),
      });
      assert.equal(r.error, null);
      assert.equal(r.status, 200);
      assert.equal(r.body, `echo:{"i":${i}}`);
    }
    assert.equal(t.state.connections, 1, 'one keep-alive connection for 50 sequential requests');
    const host = new URL(t.url).host;
    assert.equal(seen[7], `POST /v2/models/m/infer?i=7 host=${host} x=digits len=7 body={"i":7}`);
  });

  it('keeps at most `connections` open; requests beyond wait and all complete', async () => {
    const t = await httpTarget((_req, res) => setTimeout(() => res.end('ok'), 20));
    const pool = newPool(t.url, 4);
    const rs = await Promise.all(Array.from({ length: 40 }, () => send(pool)));
    assert.ok(rs.every((r) => r.status === 200 && r.body === 'ok'));
    assert.equal(t.state.connections, 4);
    assert.equal(pool.size, 4);
  });

  it('without a limit opens a connection per concurrent request, then reuses them', async () => {
    const t = await httpTarget((_req, res) => setTimeout(() => res.end('ok'), 30));
    const pool = newPool(t.url, null);
    await Promise.all(Array.from({ length: 10 }, () => send(pool)));
    await Promise.all(Array.from({ length: 10 }, () => send(pool)));
    assert.equal(t.state.connections, 10);
  });

  it('reads chunked, streamed bodies', async () => {
    const t = await httpTarget((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const iv = setInterval(() => {
        res.write(`data: ${i}\n\n`);
        if (++i === 8) {
          clearInterval(iv);
          res.end();
        }
      }, 40);
    });
    const pool = newPool(t.url, 1);
    const r = await send(pool);
    assert.equal(r.error, null);
    assert.equal(r.body, Array.from({ length: 8 }, (_, i) => `data: ${i}\n\n`).join(''));
  });

  it('fails a request to a closed port with ECONNREFUSED, once per request', async () => {
    const server = net.createServer();
    const url = await listen(server);
    await new Promise<void>((r) => server.close(() => r()));
    const pool = newPool(url, 2);
    const rs = await Promise.all(Array.from({ length: 5 }, () => send(pool)));
    assert.deepEqual(
      rs.map((r) => r.error?.code),
      Array(5).fill('ECONNREFUSED'),
    );
    assert.ok(rs.every((r) => !r.sent));
  });

  it('a server that resets mid-response: the request fails as a socket error, the next one works', async () => {
    let first = true;
    const t = await tcpTarget((sock) => {
      if (first) {
        first = false;
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
        setTimeout(() => sock.resetAndDestroy(), 10);
      } else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const pool = newPool(t.url, 1);
    const a = await send(pool);
    assert.ok(a.error !== null && ['ECONNRESET', 'UND_ERR_SOCKET'].includes(a.error.code!), `got ${a.error?.code}`);
    assert.equal(a.status, 200, 'the head had arrived');
    const b = await send(pool);
    assert.equal(b.error, null);
    assert.equal(b.body, 'ok');
  });

  it('a server that closes before answering: UND_ERR_SOCKET', async () => {
    const t = await tcpTarget((sock) => sock.end());
    const pool = newPool(t.url, 1);
    const r = await send(pool);
    assert.equal(r.error?.code, 'UND_ERR_SOCKET');
    assert.equal(r.status, 0);
  });

  it('garbage instead of HTTP: an HPE_* parse error', async () => {
    const t = await tcpTarget((sock) => sock.write('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
    const pool = newPool(t.url, 1);
    const r = await send(pool);
    assert.match(r.error?.code ?? '', /^HPE_/);
    assert.equal(r.error?.name, 'HTTPParserError');
  });

  it('Connection: close, a body read until close, and bytes after a response: the connection is not reused', async () => {
    let k = 0;
    const t = await tcpTarget((sock) => {
      const i = k++;
      if (i === 0) sock.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na');
      else if (i === 1) sock.end('HTTP/1.1 200 OK\r\n\r\nuntil close');
      else if (i === 2) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ncEXTRA');
      else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nd');
    });
    const pool = newPool(t.url, 1);
    const bodies = [];
    for (let i = 0; i < 4; i++) {
      const r = await send(pool);
      assert.equal(r.error, null, `request ${i}: ${r.error?.message}`);
      bodies.push(r.body);
    }
    assert.deepEqual(bodies, ['a', 'until close', 'c', 'd']);
    assert.equal(t.state.connections, 4);
  });

  it('a keep-alive connection the server closed while idle is replaced', async () => {
    const t = await tcpTarget((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      setTimeout(() => sock.end(), 20); // the server's keep-alive timeout
    });
    const pool = newPool(t.url, 1);
    assert.equal((await send(pool)).body, 'ok');
    await new Promise((r) => setTimeout(r, 100));
    const r = await send(pool);
    assert.equal(r.error, null);
    assert.equal(r.body, 'ok');
    assert.equal(t.state.connections, 2);
  });

  it("closes an idle connection before the server's announced keep-alive timeout (no reset race)", async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    server.keepAliveTimeout = 2000; // announced as Keep-Alive: timeout=2 → we close after 1 s idle
    const url = await listen(server);
    closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))));
    const pool = newPool(url, 1);
    assert.equal((await send(pool)).body, 'ok');
    assert.equal(pool.size, 1);
    await new Promise((r) => setTimeout(r, 1400));
    assert.equal(pool.size, 0, 'closed by the client after ~1 s idle');
    assert.equal((await send(pool)).body, 'ok');
  });

  it('a reused connection closed before any response byte: the request goes once more, on a new connection', async () => {
    // Each connection answers its first request, then closes on the next without answering: the
    // idle-close race a server with a short, unannounced keep-alive timeout produces.
    const t = await tcpTarget((sock, _d, n) =>
      n === 0 ? sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok') : sock.end(),
    );
    const pool = newPool(t.url, 1);
    let retries = 0;
    assert.equal((await send(pool)).body, 'ok');
    const r = await new Promise<Outcome>((resolve) => {
      const o: Outcome = { status: 0, body: '', error: null, sent: false, ms: 0 };
      pool.dispatch(
        { method: 'POST', path: '/infer', headers: [], body: Buffer.from('{}') },
        {
          onConnect: () => void (o.sent = true),
          onHeaders: (s) => ((o.status = s), true),
          onBody: (b, s, e) => void (o.body += b.toString('latin1', s, e)),
          onComplete: () => resolve(o),
          onError: (e) => ((o.error = e), resolve(o)),
          onRetry: () => void retries++,
        },
      );
    });
    assert.equal(r.error, null);
    assert.equal(r.body, 'ok');
    assert.equal(retries, 1);
    assert.equal(t.state.connections, 2);
  });

  it('no retry on a fresh connection, after response bytes, or a second time', async () => {
    const index = new WeakMap<net.Socket, number>();
    let next = 0;
    const t = await tcpTarget((sock, _d, n) => {
      if (!index.has(sock)) index.set(sock, next++);
      // Only the first request of the first connection is answered; every other one is closed
      // unanswered, including the retry's on a new connection.
      if (index.get(sock) === 0 && n === 0) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      else sock.end();
    });
    const pool = newPool(t.url, 1);
    assert.equal((await send(pool)).body, 'ok');
    const again = await send(pool); // reused → closed → retried once on a new connection → closed again
    assert.equal(again.error?.code, 'UND_ERR_SOCKET');
    assert.equal(t.state.connections, 2, 'one retry, not more');
    const partial = await tcpTarget((sock, _d, n) =>
      n === 0
        ? sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
        : sock.end('HTTP/1.1 200 OK\r\nContent-Le'),
    );
    const p2 = newPool(partial.url, 1);
    assert.equal((await send(p2)).body, 'ok');
    assert.match(
      (await send(p2)).error?.code ?? '',
      /UND_ERR_SOCKET/,
      'response bytes had arrived: an answer, not a stale connection',
    );
    assert.equal(partial.state.connections, 1);
  });

  it('abort in flight: UND_ERR_ABORTED, and the pool goes on', async () => {
    const t = await httpTarget((req, res) =>
      req.url === '/slow' ? setTimeout(() => res.end('late'), 2000) : res.end('ok'),
    );
    const pool = newPool(t.url, 1);
    const r = await send(pool, { path: '/slow' }, (abort) => setTimeout(() => abort(), 50));
    assert.equal(r.error?.code, 'UND_ERR_ABORTED');
    const next = await send(pool);
    assert.equal(next.body, 'ok');
  });

  it('abort from inside onHeaders, with the body in the same read: one UND_ERR_ABORTED, nothing else', async () => {
    const t = await tcpTarget((sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'));
    const pool = newPool(t.url, 1);
    const calls: string[] = [];
    await new Promise<void>((resolve) => {
      let abortFn: (err?: Error) => void = () => {};
      pool.dispatch(
        { method: 'GET', path: '/', headers: [], body: null },
        {
          onConnect: (abort) => void (abortFn = abort),
          onHeaders: () => (calls.push('headers'), abortFn(), true),
          onBody: () => void calls.push('body'),
          onComplete: () => (calls.push('complete'), resolve()),
          onError: (e) => (calls.push(`error ${(e as { code?: string }).code}`), resolve()),
        },
      );
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(calls, ['headers', 'error UND_ERR_ABORTED']);
  });

  it('abort while being told of the send: not written, and the connection stays usable', async () => {
    const t = await httpTarget((_req, res) => res.end('ok'));
    const pool = newPool(t.url, 1);
    await send(pool);
    const r = await send(pool, {}, (abort) => abort());
    assert.equal(r.error?.code, 'UND_ERR_ABORTED');
    assert.equal((await send(pool)).body, 'ok');
    assert.equal(t.state.requests, 2, 'the aborted request never reached the server');
    assert.equal(t.state.connections, 1);
  });

  it('20,000 queued requests cancelled in onConnect are skipped in a loop (no stack overflow); the pool goes on', async () => {
    const t = await httpTarget((_req, res) => res.end('ok'));
    const pool = newPool(t.url, 1);
    const cancelled = Array.from({ length: 20_000 }, () => send(pool, {}, (abort) => abort()));
    const last = send(pool);
    const rs = await Promise.all(cancelled);
    assert.ok(rs.every((r) => r.error?.code === 'UND_ERR_ABORTED'));
    assert.equal((await last).body, 'ok');
    assert.equal(t.state.requests, 1);
  });

  it('a connection that opens with nobody waiting stays open as an idle keep-alive connection', async () => {
    const t = await httpTarget((_req, res) => res.end('ok'));
    const pool = newPool(t.url, null);
    // A refuses its connection in onConnect; B takes the one that connects first, the other stays idle.
    const a = send(pool, {}, (abort) => abort());
    const b = send(pool);
    assert.equal((await a).error?.code, 'UND_ERR_ABORTED');
    assert.equal((await b).body, 'ok');
    await new Promise((r) => setTimeout(r, 300)); // several ticks (50 ms here)
    assert.equal(pool.size, 2);
  });

  it('cancelQueued fails waiting requests as cancelled, and no connection is opened for them', async () => {
    const t = await httpTarget((_req, res) => setTimeout(() => res.end('ok'), 300));
    const pool = newPool(t.url, 1);
    const first = send(pool);
    const queued = Array.from({ length: 5 }, () => send(pool));
    await new Promise((r) => setTimeout(r, 50));
    pool.cancelQueued();
    assert.deepEqual(
      (await Promise.all(queued)).map((r) => [r.error?.code, r.sent]),
      Array(5).fill(['UND_ERR_ABORTED', false]),
    );
    assert.equal((await first).body, 'ok');
    assert.equal(t.state.requests, 1);
    assert.equal(t.state.connections, 1);
  });

  it('a request that fails inside dispatch fails on a later turn: an owner re-dispatching from onError does not recurse', async () => {
    const t = await httpTarget((_req, res) => res.end('ok'));
    const pool = newPool(t.url, 1);
    let n = 0;
    let syncDepth = 0;
    let maxDepth = 0;
    await new Promise<void>((resolve) => {
      const h: H1Handler = {
        onConnect() {},
        onHeaders: () => true,
        onBody() {},
        onComplete() {},
        onError() {
          if (++n === 5000) return resolve();
          syncDepth++;
          maxDepth = Math.max(maxDepth, syncDepth);
          pool.dispatch({ method: 'GET', path: '/bad path', headers: [], body: null }, h);
          syncDepth--;
        },
      };
      pool.dispatch({ method: 'GET', path: '/bad path', headers: [], body: null }, h);
    });
    assert.equal(maxDepth, 1);
  });

  it('destroy: requests waiting or in flight fail as UND_ERR_DESTROYED; later dispatches too', async () => {
    const t = await httpTarget((_req, res) => setTimeout(() => res.end('ok'), 1000));
    const pool = new H1Pool(t.url, { connections: 1, connectTimeoutMs: 1000 });
    const rs = Array.from({ length: 3 }, () => send(pool));
    await new Promise((r) => setTimeout(r, 50));
    await pool.destroy();
    assert.deepEqual(
      (await Promise.all(rs)).map((r) => r.error?.code),
      Array(3).fill('UND_ERR_DESTROYED'),
    );
    assert.equal((await send(pool)).error?.code, 'UND_ERR_DESTROYED');
  });

  it('an invalid request fails before anything is sent', async () => {
    const t = await httpTarget((_req, res) => res.end('ok'));
    const pool = newPool(t.url, 1);
    const r = await send(pool, { path: '/a b' });
    assert.equal(r.error?.code, 'ERR_INVALID_REQUEST');
    assert.equal(r.sent, false);
    assert.equal(t.state.connections, 0);
  });

  it('connects to IPv6 loopback when the machine has it', async (t) => {
    const server = http.createServer((_req, res) => res.end('v6'));
    const ok = await new Promise<boolean>((r) => {
      server.once('error', () => r(false));
      server.listen(0, '::1', () => r(true));
    });
    if (!ok) return t.skip('no ::1 here');
    closers.push(() => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))));
    const pool = newPool(`http://[::1]:${(server.address() as AddressInfo).port}`, 1);
    const r = await send(pool);
    assert.equal(r.body, 'v6');
  });

  it('refuses origins other than http: and https:', () => {
    assert.throws(
      () => new H1Pool('ftp://127.0.0.1:1', { connections: 1, connectTimeoutMs: 1000 }),
      /http: and https: origins/,
    );
  });
});

describe('buildRequestBytes', () => {
  it('builds the request line, headers, host, content-length and body', () => {
    const b = buildRequestBytes(
      'POST',
      '/x?y=1',
      '127.0.0.1:8080',
      ['authorization', 'Bearer t', 'content-length', '999'],
      Buffer.from('{}'),
    );
    assert.equal(
      b.toString(),
      'POST /x?y=1 HTTP/1.1\r\nauthorization: Bearer t\r\nhost: 127.0.0.1:8080\r\ncontent-length: 2\r\n\r\n{}',
    );
  });
  it('keeps a given host; POST without a body says content-length: 0; GET says nothing', () => {
    assert.equal(
      buildRequestBytes('POST', '/', 'h:1', ['host', 'model.local'], null).toString(),
      'POST / HTTP/1.1\r\nhost: model.local\r\ncontent-length: 0\r\n\r\n',
    );
    assert.equal(buildRequestBytes('GET', '/', 'h:1', [], null).toString(), 'GET / HTTP/1.1\r\nhost: h:1\r\n\r\n');
  });
  it('rejects what would change the request: CR/LF in values, spaces in the path, bad names', () => {
    assert.throws(() => buildRequestBytes('GET', '/', 'h', ['x', 'a\r\nevil: 1'], null), /control characters/);
    assert.throws(() => buildRequestBytes('GET', '/a b', 'h', [], null), /invalid request path/);
    assert.throws(() => buildRequestBytes('GET', '/', 'h', ['bad name', 'v'], null), /invalid header name/);
    assert.throws(() => buildRequestBytes('GE T', '/', 'h', [], null), /invalid HTTP method/);
  });
});
