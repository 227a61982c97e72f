/**
 * The Toxiproxy-compatible API driven by the real npm client (toxiproxy-node-client) and by raw
 * HTTP, over real proxies (TCP pipes that record the faults they are given) in front of a real echo
 * server, all on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Toxiproxy, type ToxiproxyError } from 'toxiproxy-node-client';
import { PreflightError } from '../core/errors.js';
import { startToxiproxyApi, type ToxiproxyApiServer, ToxiproxyRegistry } from './toxiproxy-api.js';
import { type EchoServer, echoServer, recordingFactory, roundTrip } from './test-recording-proxy.js';

let echo: EchoServer;
let upstream: string;
let api: ToxiproxyApiServer;
let registry: ToxiproxyRegistry;
const rec = recordingFactory();

before(async () => {
  echo = await echoServer();
  upstream = echo.address;
  registry = new ToxiproxyRegistry(rec.factory);
  api = await startToxiproxyApi({ registry, listen: '127.0.0.1:0', preflightVersion: '0.1.0' });
});

after(async () => {
  await api.close();
  await registry.close();
  await echo.close();
});

async function raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(api.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, json: json as Record<string, unknown> & unknown[], text, headers: res.headers };
}

const status = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return (e as ToxiproxyError).message;
  }
};

test('the npm client: version, create a proxy, data flows through it to the upstream', async () => {
  const toxiproxy = new Toxiproxy(api.url);
  assert.deepEqual(JSON.parse(await toxiproxy.getVersion()), { version: '2.12.0', preflight: '0.1.0' });
  const proxy = await toxiproxy.createProxy({ name: 'echo', listen: 'localhost:0', upstream });
  assert.equal(proxy.enabled, true);
  assert.match(proxy.listen, /^127\.0\.0\.1:\d+$/);
  assert.notEqual(proxy.listen, '127.0.0.1:0', 'the address it listens on, as Toxiproxy shows it');
  assert.equal(proxy.upstream, upstream);
  assert.equal(await roundTrip(proxy.listen, 'hello'), 'hello');
  const all = await toxiproxy.getAll();
  assert.deepEqual(Object.keys(all), ['echo']);
  assert.equal(all.echo.listen, proxy.listen);
});

test('the npm client: add, show, update and remove toxics; the proxy is given each change', async () => {
  const toxiproxy = new Toxiproxy(api.url);
  const proxy = await toxiproxy.get('echo');
  const injector = rec.proxies.find((p) => p.url.endsWith(proxy.listen.slice(proxy.listen.indexOf(':'))))!;
  const toxic = await proxy.addToxic({
    name: 'slow',
    type: 'latency',
    stream: 'downstream',
    toxicity: 0.5,
    attributes: { latency: 200, jitter: 50 },
  });
  assert.deepEqual(toxic.toJson(), {
    name: 'slow',
    type: 'latency',
    stream: 'downstream',
    toxicity: 0.5,
    attributes: { latency: 200, jitter: 50 },
  });
  assert.deepEqual(injector.active(), [
    {
      layer: 'tcp',
      name: 'slow',
      direction: 'downstream',
      toxicity: { share: 0.5, per: 'connection' },
      fault: { type: 'latency', latencyMs: 200, jitterMs: 50 },
    },
  ]);
  assert.deepEqual((await proxy.getToxic('slow')).attributes, { latency: 200, jitter: 50 });

  const updated = await toxic.update({ ...toxic.toJson(), toxicity: 1, attributes: { latency: 300, jitter: 0 } });
  assert.deepEqual(updated.attributes, { latency: 300, jitter: 0 });
  assert.deepEqual(
    injector.active().map((f) => [f.toxicity.share, f.layer === 'tcp' && f.fault]),
    [[1, { type: 'latency', latencyMs: 300, jitterMs: 0 }]],
  );
  // The Preflight extension: per-request toxicity.
  const perRequest = await proxy.addToxic({
    type: 'bandwidth',
    attributes: { rate: 100 },
    toxicity_per: 'request',
  } as unknown as Parameters<typeof proxy.addToxic>[0]);
  assert.equal(perRequest.name, 'bandwidth_downstream');
  assert.deepEqual(injector.active()[1].toxicity, { share: 1, per: 'request' });
  assert.equal((await toxiproxy.get('echo')).toJson().name, 'echo');

  await updated.remove();
  await perRequest.remove();
  assert.deepEqual(injector.active(), []);
  assert.equal(await roundTrip(proxy.listen, 'still there'), 'still there');
});

test('the npm client: enabled false is the upstream down; reset enables and removes every toxic', async () => {
  const toxiproxy = new Toxiproxy(api.url);
  const proxy = await toxiproxy.get('echo');
  await proxy.addToxic({ name: 'cut', type: 'limit_data', stream: 'upstream', toxicity: 1, attributes: { bytes: 5 } });
  const down = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
  assert.equal(down.enabled, false);
  assert.equal(down.listen, proxy.listen, 'same address: disabling does not move the proxy');
  assert.match(await roundTrip(proxy.listen, 'x'), /closed|ECONNRESET/);
  const injector = rec.proxies.find((p) => p.url.endsWith(`:${proxy.listen.split(':')[1]}`))!;
  assert.deepEqual(
    injector.active().map((f) => f.name),
    ['cut', 'down'],
  );
  await toxiproxy.reset();
  const after = await toxiproxy.get('echo');
  assert.equal(after.enabled, true);
  assert.deepEqual(injector.active(), []);
  assert.equal(await roundTrip(proxy.listen, 'back'), 'back');
});

test('the npm client: errors as Toxiproxy (409 duplicate, 404 unknown, 400 bad toxic or listen)', async () => {
  const toxiproxy = new Toxiproxy(api.url);
  assert.match(await status(toxiproxy.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream })), /409/);
  assert.match(await status(toxiproxy.get('nope')), /404/);
  const proxy = await toxiproxy.get('echo');
  assert.match(await status(proxy.getToxic('nope')), /404/);
  await proxy.addToxic({ name: 't', type: 'timeout', stream: 'downstream', toxicity: 1, attributes: { timeout: 0 } });
  assert.match(
    await status(
      proxy.addToxic({ name: 't', type: 'timeout', stream: 'downstream', toxicity: 1, attributes: { timeout: 0 } }),
    ),
    /409/,
  );
  assert.match(
    await status(
      proxy.addToxic({ type: 'latncy', stream: 'downstream', toxicity: 1, attributes: {} } as unknown as Parameters<
        typeof proxy.addToxic
      >[0]),
    ),
    /400/,
  );
  assert.match(await status(toxiproxy.createProxy({ name: 'open', listen: '0.0.0.0:0', upstream })), /400/);
  assert.equal(Object.keys(await toxiproxy.getAll()).length, 1, 'nothing created by a refused request');
  await toxiproxy.reset();
});

test('the npm client: populate creates many, keeps an identical one, and remove closes the port', async () => {
  const toxiproxy = new Toxiproxy(api.url);
  const echoListen = (await toxiproxy.get('echo')).listen;
  const made = await toxiproxy.populate([
    { name: 'echo', listen: echoListen, upstream },
    { name: 'second', listen: '127.0.0.1:0', upstream },
  ]);
  assert.deepEqual(Object.keys(made).sort(), ['echo', 'second']);
  assert.equal(made.echo.listen, echoListen, 'same listen and upstream: kept');
  assert.equal(await roundTrip(made.second.listen, 'two'), 'two');
  await made.second.remove();
  assert.match(await roundTrip(made.second.listen, 'gone'), /ECONNREFUSED/);
  assert.match(await status(toxiproxy.get('second')), /404/);
});

test('raw HTTP: status codes and JSON shapes', async () => {
  const created = await raw('POST', '/proxies', { name: 'shape', upstream });
  assert.equal(created.status, 201);
  assert.deepEqual(Object.keys(created.json).sort(), ['enabled', 'listen', 'name', 'toxics', 'upstream']);
  assert.deepEqual(created.json.toxics, []);
  const toxic = await raw('POST', '/proxies/shape/toxics', { type: 'slow_close', attributes: { delay: 10 } });
  assert.equal(toxic.status, 200);
  assert.deepEqual(toxic.json, {
    name: 'slow_close_downstream',
    type: 'slow_close',
    stream: 'downstream',
    toxicity: 1,
    attributes: { delay: 10 },
  });
  const list = await raw('GET', '/proxies/shape/toxics');
  assert.equal(list.status, 200);
  assert.equal(list.json.length, 1);
  const patched = await raw('PATCH', '/proxies/shape/toxics/slow_close_downstream', { attributes: { delay: 20 } });
  assert.equal(patched.status, 200);
  assert.deepEqual(patched.json.attributes, { delay: 20 });
  const del = await raw('DELETE', '/proxies/shape/toxics/slow_close_downstream');
  assert.equal(del.status, 204);
  assert.equal(del.text, '');
  assert.equal((await raw('DELETE', '/proxies/shape/toxics/slow_close_downstream')).status, 404);
  const reset = await raw('POST', '/reset');
  assert.equal(reset.status, 204);
  const gone = await raw('DELETE', '/proxies/shape');
  assert.equal(gone.status, 204);
  const notFound = await raw('GET', '/proxies/shape');
  assert.deepEqual(notFound.json, { error: 'proxy not found', status: 404 });
  const dup = await raw('POST', '/proxies', { name: 'echo', upstream });
  assert.deepEqual(dup.json, { error: 'proxy already exists', status: 409 });
  const populated = await raw('POST', '/populate', [{ name: 'echo', upstream }]);
  assert.equal(populated.status, 201);
  assert.equal((populated.json.proxies as unknown[]).length, 1);
});

test('raw HTTP: every problem in a body at once, with paths; bad JSON, routes, methods, browsers', async () => {
  const bad = await raw('POST', '/proxies/echo/toxics', {
    type: 'latency',
    stream: 'down',
    toxicity: -1,
    attributes: { latency: -1, jittr: 5 },
  });
  assert.equal(bad.status, 400);
  assert.match(String(bad.json.error), /^bad request body: /);
  const paths = (bad.json.problems as { path: string }[]).map((p) => p.path).sort();
  assert.deepEqual(paths, ['attributes.jittr', 'attributes.latency', 'stream', 'toxicity']);

  const proxyBad = await raw('POST', '/proxies', { listen: '10.0.0.1:0', upstrem: 'x' });
  assert.equal(proxyBad.status, 400);
  const proxyProblems = proxyBad.json.problems as { path: string; message: string; hint?: string }[];
  assert.deepEqual(proxyProblems.map((p) => p.path).sort(), ['listen', 'name', 'upstream', 'upstrem']);
  assert.match(proxyProblems.find((p) => p.path === 'listen')!.hint!, /loopback/);
  assert.match(proxyProblems.find((p) => p.path === 'name')!.message, /missing required field: name/);

  const popBad = await raw('POST', '/populate', [
    { name: 'a', upstream },
    { name: 'a', upstream },
    { name: 'b', listen: '0.0.0.0:1', upstream },
  ]);
  assert.equal(popBad.status, 400);
  assert.deepEqual(popBad.json.proxies, []);
  assert.deepEqual((popBad.json.problems as { path: string }[]).map((p) => p.path).sort(), ['[1].name', '[2].listen']);
  assert.equal((await raw('GET', '/proxies/a')).status, 404, 'populate changes nothing when any proxy is bad');

  const notJson = await raw('POST', '/proxies', '{"name": ');
  assert.equal(notJson.status, 400);
  assert.match(String(notJson.json.error), /bad request body/);
  assert.equal((await raw('POST', '/proxies/echo/toxics', '')).status, 400);
  assert.equal((await raw('GET', '/nope')).status, 404);
  const method = await raw('PUT', '/proxies');
  assert.equal(method.status, 405);
  assert.equal(method.headers.get('allow'), 'GET, POST');
  const browser = await raw('GET', '/proxies', undefined, { 'user-agent': 'Mozilla/5.0' });
  assert.equal(browser.status, 403);
  const huge = await raw('POST', '/proxies', JSON.stringify({ name: 'x'.repeat(2 << 20), upstream }));
  assert.equal(huge.status, 413);
  // The rest of that body was never read: the connection is closed, not reused for the next request.
  for (const path of ['/proxies', '/version']) assert.equal((await raw('GET', path)).status, 200);
});

test('the API listens on loopback only and says so; a port in use is a clear error', async () => {
  for (const listen of ['0.0.0.0:0', ':8474', '192.0.2.1:0', 'localhost']) {
    await assert.rejects(startToxiproxyApi({ registry, listen }), (e: unknown) => {
      assert.ok(e instanceof PreflightError);
      assert.equal(e.code, 'E_ARGS');
      assert.match(e.problems[0].hint!, /loopback/);
      return true;
    });
  }
  const port = new URL(api.url).port;
  await assert.rejects(startToxiproxyApi({ registry, listen: `127.0.0.1:${port}` }), (e: unknown) => {
    assert.ok(e instanceof PreflightError);
    assert.match(e.problems[0].message, /in use/);
    return true;
  });
  const v6 = await startToxiproxyApi({ registry, listen: '[::1]:0' }).catch(() => null);
  if (v6) {
    assert.match(v6.url, /^http:\/\/\[::1\]:\d+$/);
    await v6.close();
  }
});

test('raw HTTP: moving a proxy (listen, upstream) keeps its toxics and its down; a port in use is a 500 that says so', async () => {
  const otherSockets = new Set<net.Socket>();
  const other = net.createServer((s) => {
    otherSockets.add(s);
    s.on('close', () => otherSockets.delete(s)).on('error', () => {});
    s.resume(); // reads what it is sent, so the socket closes when the client's side does
    s.end('other upstream');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const otherUpstream = `127.0.0.1:${(other.address() as net.AddressInfo).port}`;
  try {
    const made = await raw('POST', '/proxies', { name: 'mover', upstream });
    const first = String(made.json.listen);
    await raw('POST', '/proxies/mover/toxics', { type: 'latency', attributes: { latency: 1 } });
    // Upstream only: same port, new target.
    const up = await raw('PATCH', '/proxies/mover', { upstream: otherUpstream });
    assert.equal(up.status, 200);
    assert.equal(up.json.listen, first);
    assert.equal(await roundTrip(first, 'other upstream'), 'other upstream');
    // Listen: a new port, the old one closed, the toxic and `enabled: false` carried over.
    const moved = await raw('POST', '/proxies/mover', { listen: '127.0.0.1:0', enabled: false });
    assert.equal(moved.status, 200);
    assert.notEqual(moved.json.listen, first);
    assert.equal(moved.json.enabled, false);
    assert.match(await roundTrip(first, 'x'), /ECONNREFUSED/);
    const injector = rec.proxies.at(-1)!;
    assert.deepEqual(
      injector
        .active()
        .map((f) => f.name)
        .sort(),
      ['down', 'latency_downstream'],
    );
    // A port in use: Toxiproxy's 500 with the listen error; nothing created.
    const clash = await raw('POST', '/proxies', { name: 'clash', listen: String(moved.json.listen), upstream });
    assert.equal(clash.status, 500);
    assert.match(String(clash.json.error), /address already in use/);
    assert.equal((await raw('GET', '/proxies/clash')).status, 404);
    // Populate with another upstream replaces the proxy: new port, no toxics.
    const pop = await raw('POST', '/populate', [{ name: 'mover', upstream }]);
    const replaced = (pop.json.proxies as { listen: string; toxics: unknown[]; enabled: boolean }[])[0];
    assert.deepEqual(replaced.toxics, []);
    assert.equal(replaced.enabled, true);
    assert.match(await roundTrip(String(moved.json.listen), 'x'), /ECONNREFUSED/);
    assert.equal(await roundTrip(replaced.listen, 'again'), 'again');
    assert.equal((await raw('DELETE', '/proxies/mover')).status, 204);
  } finally {
    for (const s of otherSockets) s.destroy();
    await new Promise((r) => other.close(r));
  }
});

test('concurrent creates of one name: one 201, one 409 (changes run one at a time)', async () => {
  const [a, b] = await Promise.all([
    raw('POST', '/proxies', { name: 'race', upstream }),
    raw('POST', '/proxies', { name: 'race', upstream }),
  ]);
  assert.deepEqual([a.status, b.status].sort(), [201, 409]);
  assert.equal((await raw('DELETE', '/proxies/race')).status, 204);
});
