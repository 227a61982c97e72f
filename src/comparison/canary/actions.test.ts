import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runAction, sharePercent } from './actions.js';

const node = process.execPath;

describe('command actions (real processes, no shell)', () => {
  it('exit 0 → ok; ${SHARE} is the share in percent', async () => {
    const r = await runAction(
      {
        kind: 'command',
        argv: [node, '-e', 'process.exit(process.argv[1] === "25" ? 0 : 9)', '${SHARE}'],
        timeoutMs: 20_000,
      },
      0.25,
    );
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.exitCode, 0);
    assert.match(r.detail, /exited 0/);
  });

  it('a non-zero exit is a failed action with its code and the end of stderr', async () => {
    const r = await runAction(
      {
        kind: 'command',
        argv: [node, '-e', 'console.error("x".repeat(5000) + " weights not moved"); process.exit(3)'],
        timeoutMs: 20_000,
      },
      0.05,
    );
    assert.equal(r.ok, false);
    assert.equal(r.exitCode, 3);
    assert.match(r.detail, /exited 3/);
    assert.match(r.detail, /weights not moved\.$/);
    assert.ok(r.detail.length < 2300, 'stderr is bounded');
  });

  it('no shell: metacharacters are plain arguments', async () => {
    const r = await runAction(
      {
        kind: 'command',
        argv: [node, '-e', 'process.exit(process.argv[1] === "a; exit 7" ? 0 : 1)', 'a; exit 7'],
        timeoutMs: 20_000,
      },
      0.5,
    );
    assert.equal(r.ok, true, r.detail);
  });

  it('a timeout kills the command and fails the action', async () => {
    const r = await runAction(
      { kind: 'command', argv: [node, '-e', 'setTimeout(() => {}, 60000)'], timeoutMs: 300 },
      0.5,
    );
    assert.equal(r.ok, false);
    assert.match(r.detail, /timed out after 300 ms/);
  });

  it('a command that does not exist fails without throwing', async () => {
    const r = await runAction({ kind: 'command', argv: ['/nonexistent/preflight-no-such-tool'], timeoutMs: 5000 }, 0.5);
    assert.equal(r.ok, false);
    assert.match(r.detail, /could not start: ENOENT/);
  });

  it('secrets in stderr are redacted; the argv is never echoed', async () => {
    const r = await runAction(
      {
        kind: 'command',
        argv: [node, '-e', 'console.error("token=" + process.argv[1]); process.exit(1)', 's3cr3t-T0KEN'],
        timeoutMs: 20_000,
      },
      0.5,
      ['s3cr3t-T0KEN'],
    );
    assert.equal(r.ok, false);
    assert.doesNotMatch(r.detail, /s3cr3t/);
    assert.match(r.detail, /token=\*\*\*/);
  });
});

describe('HTTP actions (real loopback server)', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method: string; url: string; auth?: string; body: string }> = [];
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let b = '';
      req.on('data', (c) => {
        b += c;
      });
      req.on('end', () => resolve(b));
    });

  before(async () => {
    server = createServer(async (req, res) => {
      const body = await read(req);
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
      if (req.url!.startsWith('/fail')) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('router busy, token s3cr3t-T0KEN');
      } else if (req.url!.startsWith('/slow')) {
        setTimeout(() => res.end('late'), 5000).unref();
      } else {
        res.writeHead(204);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('2xx → ok; ${SHARE} substituted in URL, headers and body', async () => {
    const r = await runAction(
      {
        kind: 'http',
        method: 'post',
        url: `${base}/weights?canary=\${SHARE}`,
        headers: { authorization: 'Bearer s3cr3t-T0KEN', 'x-share': '${SHARE}' },
        body: '{"weight": ${SHARE}}',
        timeoutMs: 5000,
      },
      0.05,
      ['s3cr3t-T0KEN'],
    );
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.status, 204);
    const last = seen[seen.length - 1];
    assert.equal(last.method, 'POST');
    assert.equal(last.url, '/weights?canary=5');
    assert.equal(last.body, '{"weight": 5}');
    assert.equal(last.auth, 'Bearer s3cr3t-T0KEN');
    assert.doesNotMatch(r.detail, /s3cr3t/);
  });

  it('non-2xx → failed, with status and the (redacted) start of the answer', async () => {
    const r = await runAction({ kind: 'http', method: 'PUT', url: `${base}/fail`, headers: {}, timeoutMs: 5000 }, 0.5, [
      's3cr3t-T0KEN',
    ]);
    assert.equal(r.ok, false);
    assert.equal(r.status, 503);
    assert.match(r.detail, /answered 503.*router busy, token \*\*\*/);
  });

  it('timeout and refused connection fail without throwing', async () => {
    const slow = await runAction(
      { kind: 'http', method: 'GET', url: `${base}/slow`, headers: {}, timeoutMs: 200 },
      0.5,
    );
    assert.equal(slow.ok, false);
    assert.match(slow.detail, /timed out after 200 ms/);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await runAction(
      { kind: 'http', method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 2000 },
      0.5,
    );
    assert.equal(refused.ok, false);
    assert.match(refused.detail, /failed: ECONNREFUSED/);
  });

  it('share percent formatting', () => {
    assert.equal(sharePercent(0.05), '5');
    assert.equal(sharePercent(0.125), '12.5');
    assert.equal(sharePercent(1), '100');
  });
});
