import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRouter } from './router.js';
import type { Route } from './router.js';

// A real server on loopback around the router: each answer says which route took the request.
const routes: Route[] = [
  { methods: ['GET'], pattern: '/a', handler: (_q, res) => res.end('a') },
  { methods: ['POST'], pattern: '/a', handler: (_q, res) => res.end('a-post') },
  { methods: ['PUT'], pattern: '/b', handler: (_q, res) => res.end('b') },
  {
    methods: '*',
    pattern: '/m/{id}',
    handler: (_q, res, m) => (m.params.id === 'mine' ? void res.end(`m:${m.method}`) : false),
  },
  { methods: '*', pattern: '/m/{id}/*', handler: (_q, res, m) => res.end(`tail:${m.params.id}|${m.rest.join(',')}`) },
  { methods: '*', pattern: '/', handler: (_q, res) => res.end('root') },
];
const route = createRouter(routes, {
  malformed: (res) => res.writeHead(400).end('malformed'),
  notFound: (res, method, path) => res.writeHead(404).end(`404 ${method} ${path}`),
  methodNotAllowed: (res, allow) => res.writeHead(405, { allow }).end('405'),
});
const server = createServer((req, res) => route(req, res, performance.now()));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => new Promise<void>((r) => server.close(() => r())));

async function call(method: string, path: string): Promise<{ status: number; body: string; allow: string | null }> {
  const r = await fetch(base + path, { method });
  return { status: r.status, body: await r.text(), allow: r.headers.get('allow') };
}

test('router: the first route whose pattern and method fit answers; HEAD is GET', async () => {
  assert.deepEqual(await call('GET', '/a'), { status: 200, body: 'a', allow: null });
  assert.deepEqual(await call('POST', '/a'), { status: 200, body: 'a-post', allow: null });
  assert.equal((await call('HEAD', '/a')).status, 200);
  assert.equal((await call('GET', '/?q=1')).body, 'root');
});

test('router: a wrong method is 405 with every method the path takes; an unknown path is 404', async () => {
  assert.deepEqual(await call('DELETE', '/a'), { status: 405, body: '405', allow: 'GET, POST' });
  assert.deepEqual(await call('GET', '/b'), { status: 405, body: '405', allow: 'PUT' });
  assert.deepEqual(await call('GET', '/nope/x?y'), { status: 404, body: '404 GET /nope/x', allow: null });
  assert.equal((await call('GET', '/a/')).status, 404, 'a trailing slash is another path');
});

test('router: params and tails match decoded segments; a handler returning false falls through', async () => {
  assert.equal((await call('POST', '/m/mine')).body, 'm:POST');
  assert.equal((await call('GET', '/m/m%69ne')).body, 'm:GET', 'segments are compared decoded');
  assert.equal((await call('GET', '/m/other')).body, 'tail:other|', 'fell through to /m/{id}/* with an empty tail');
  assert.equal((await call('GET', '/m/x/y/z%2Fw')).body, 'tail:x|y,z/w');
  assert.deepEqual(await call('GET', '/m/%E0%A4'), { status: 400, body: 'malformed', allow: null });
});
