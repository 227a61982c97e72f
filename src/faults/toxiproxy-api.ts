/**
 * A Toxiproxy-compatible HTTP API (the REST subset its clients and scripts use) over Preflight's
 * fault proxies, so existing Toxiproxy clients can drive them: proxies (list, create, show, update
 * incl. `enabled: false` = the upstream down, delete), toxics (list, add, show, update, remove),
 * `POST /reset`, `POST /populate`, `GET /version`. JSON shapes, status codes and error bodies
 * (`{"error": "...", "status": N}`) as Toxiproxy's; Preflight adds `problems` (every problem in the
 * request with its field path and a hint) and the toxic field `toxicity_per`.
 *
 * Off unless asked, and loopback only: the API, and every proxy it opens, listen on 127.0.0.0/8
 * or ::1 (anyone who can reach the API can redirect traffic). As Toxiproxy, requests from browsers
 * (a `Mozilla/` user agent) are refused, so a web page cannot drive it.
 */
import http from 'node:http';
import net from 'node:net';
import { PreflightError, type Problem } from '../core/errors.js';
import type { Fault, FaultInjector } from '../core/faults.js';
import { didYouMean } from '../core/suggest.js';
import { faultOfToxic, parseToxic, type ToxicJson, updateToxic } from './fault-spec.js';
import { type FaultProxyFactory, formatHostPort, type HostPort } from './fault-proxy.js';

/** The Toxiproxy API level emulated (what `GET /version` answers). */
export const TOXIPROXY_API_VERSION = '2.12.0';
/** Toxiproxy's default API address. */
export const TOXIPROXY_DEFAULT_API = '127.0.0.1:8474';
const MAX_BODY = 1 << 20;

/** A proxy as Toxiproxy's API shows it. */
export interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicJson[];
}

/** An API error: Toxiproxy's status and message, plus every problem found. */
export class ToxiproxyApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = 'ToxiproxyApiError';
  }
}

const notFound = (what: 'proxy' | 'toxic') => new ToxiproxyApiError(404, `${what} not found`);
const badBody = (problems: Problem[]) =>
  new ToxiproxyApiError(
    400,
    `bad request body: ${problems
      .slice(0, 3)
      .map((p) => (p.path ? `${p.path}: ${p.message}` : p.message))
      .join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`,
    problems,
  );

/** `host:port` (`[::1]:port` for IPv6). Empty host: undefined (Toxiproxy then listens on every interface). */
export function parseHostPort(s: string): { host: string | undefined; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/** 127.0.0.0/8, ::1 and `localhost` (read as 127.0.0.1). */
export function loopbackHost(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  if (host.toLowerCase() === 'localhost') return '127.0.0.1';
  if (net.isIPv4(host) && host.startsWith('127.')) return host;
  if (net.isIPv6(host) && /^(0{0,4}:){2,7}0{0,3}1$|^::1$/.test(host)) return '::1';
  return undefined;
}

const LOOPBACK_HINT =
  'Preflight listens on loopback only: 127.0.0.1, ::1 or localhost, e.g. 127.0.0.1:0 for any free port';

interface ProxyState {
  name: string;
  /** As asked (`localhost:0`); `listen` is where it listens now. */
  requested: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  injector: FaultInjector;
  downId?: string;
  toxics: Map<string, { toxic: ToxicJson; id?: string }>;
}

interface ProxyInput {
  name: string;
  listen: HostPort;
  listenText: string;
  upstream: HostPort;
  upstreamText: string;
  enabled: boolean;
}

const DOWN: Fault = {
  layer: 'tcp',
  name: 'down',
  direction: 'downstream',
  toxicity: { share: 1, per: 'connection' },
  fault: { type: 'down' },
};
const PROXY_KEYS = ['name', 'listen', 'upstream', 'enabled'];

/**
 * The proxies and their toxics, what the API shows and changes. `preflight proxy` uses it directly
 * for the proxy of its flags. Changes run one at a time (opening a proxy is asynchronous).
 */
export class ToxiproxyRegistry {
  private readonly proxies = new Map<string, ProxyState>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly createProxy: FaultProxyFactory) {}

  /** Every proxy, by name (GET /proxies). */
  list(): Record<string, ProxyJson> {
    const out: Record<string, ProxyJson> = {};
    for (const p of this.proxies.values()) out[p.name] = show(p);
    return out;
  }

  get(name: string): ProxyJson {
    return show(this.state(name));
  }

  /** The injector behind a proxy (its `url` is where the proxy listens). */
  injector(name: string): FaultInjector {
    return this.state(name).injector;
  }

  create(body: unknown): Promise<ProxyJson> {
    return this.serial(async () => {
      const input = proxyInput(body, undefined, '');
      if (this.proxies.has(input.name)) throw new ToxiproxyApiError(409, 'proxy already exists');
      return show(await this.open(input));
    });
  }

  /** Listen, upstream, enabled (POST/PATCH /proxies/{name}); what is left out stays. */
  update(name: string, body: unknown): Promise<ProxyJson> {
    return this.serial(async () => {
      const p = this.state(name);
      const input = proxyInput(body, p, '');
      // As Toxiproxy: compared with where it listens now, so `127.0.0.1:0` moves it to a new port.
      if (formatHostPort(input.listen) !== p.listen) {
        await this.reopen(p, input);
      } else if (input.upstreamText !== p.upstream) {
        // Same listening address: the old listener must go first to free its port.
        await this.reopen(p, { ...input, listen: hostPortOf(p.listen), listenText: p.requested });
      }
      this.setEnabled(p, input.enabled);
      return show(p);
    });
  }

  remove(name: string): Promise<void> {
    return this.serial(async () => {
      const p = this.state(name);
      this.proxies.delete(name);
      await p.injector.close();
    });
  }

  toxics(name: string): ToxicJson[] {
    return [...this.state(name).toxics.values()].map((t) => t.toxic);
  }

  toxic(name: string, toxic: string): ToxicJson {
    const t = this.state(name).toxics.get(toxic);
    if (!t) throw notFound('toxic');
    return t.toxic;
  }

  addToxic(name: string, body: unknown): Promise<ToxicJson> {
    return this.serial(async () => {
      const p = this.state(name);
      const r = parseToxic(body);
      if (!r.ok) throw badBody(r.problems);
      if (p.toxics.has(r.toxic.name)) throw new ToxiproxyApiError(409, 'toxic already exists');
      p.toxics.set(r.toxic.name, { toxic: r.toxic, id: apply(p.injector, r.toxic) });
      return r.toxic;
    });
  }

  /** An update is a remove and an add: data a toxic holds is released, as when Toxiproxy removes one. */
  updateToxic(name: string, toxic: string, body: unknown): Promise<ToxicJson> {
    return this.serial(async () => {
      const p = this.state(name);
      const t = p.toxics.get(toxic);
      if (!t) throw notFound('toxic');
      const r = updateToxic(t.toxic, body);
      if (!r.ok) throw badBody(r.problems);
      if (t.id !== undefined) p.injector.remove(t.id);
      p.toxics.set(toxic, { toxic: r.toxic, id: apply(p.injector, r.toxic) });
      return r.toxic;
    });
  }

  removeToxic(name: string, toxic: string): Promise<void> {
    return this.serial(async () => {
      const p = this.state(name);
      const t = p.toxics.get(toxic);
      if (!t) throw notFound('toxic');
      if (t.id !== undefined) p.injector.remove(t.id);
      p.toxics.delete(toxic);
    });
  }

  /** POST /reset: every proxy enabled, every toxic removed. Returns how many toxics were removed. */
  reset(): Promise<number> {
    return this.serial(async () => {
      let removed = 0;
      for (const p of this.proxies.values()) {
        removed += p.toxics.size;
        p.toxics.clear();
        p.injector.reset();
        p.downId = undefined;
        p.enabled = true;
      }
      return removed;
    });
  }

  /**
   * POST /populate: create or replace many proxies at once, all checked before any is changed. A
   * proxy already there with the same listen and upstream is kept as it is (with its toxics).
   */
  populate(body: unknown): Promise<ProxyJson[]> {
    return this.serial(async () => {
      if (!Array.isArray(body))
        throw badBody([
          { message: 'populate takes a JSON array of proxies', hint: '[{"name": ..., "upstream": ...}]' },
        ]);
      const problems: Problem[] = [];
      const inputs: ProxyInput[] = [];
      const names = new Set<string>();
      body.forEach((b, i) => {
        try {
          const input = proxyInput(b, undefined, `[${i}]`);
          if (names.has(input.name))
            problems.push({ path: `[${i}].name`, message: `duplicate proxy name "${input.name}"` });
          names.add(input.name);
          inputs.push(input);
        } catch (e) {
          if (!(e instanceof ToxiproxyApiError)) throw e;
          problems.push(...(e.problems.length ? e.problems : [{ path: `[${i}]`, message: e.message }]));
        }
      });
      if (problems.length) throw badBody(problems);
      const out: ProxyJson[] = [];
      for (const input of inputs) {
        const p = this.proxies.get(input.name);
        if (
          p &&
          (input.listenText === p.requested || input.listenText === p.listen) &&
          input.upstreamText === p.upstream
        ) {
          out.push(show(p));
          continue;
        }
        if (p) {
          this.proxies.delete(p.name);
          await p.injector.close();
        }
        out.push(show(await this.open(input)));
      }
      return out;
    });
  }

  /** Removes every fault and closes every proxy; later changes are refused. */
  close(): Promise<{ proxies: number; toxics: number }> {
    return this.serial(async () => {
      this.closed = true;
      let toxics = 0;
      for (const p of this.proxies.values()) {
        toxics += p.toxics.size;
        p.injector.reset();
        await p.injector.close();
      }
      const proxies = this.proxies.size;
      this.proxies.clear();
      return { proxies, toxics };
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new ToxiproxyApiError(503, 'the proxy is shutting down');
      return fn();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private state(name: string): ProxyState {
    const p = this.proxies.get(name);
    if (!p) throw notFound('proxy');
    return p;
  }

  private async open(input: ProxyInput): Promise<ProxyState> {
    const injector = await this.start(input.listen, input.upstream);
    const p: ProxyState = {
      name: input.name,
      requested: input.listenText,
      listen: listenOf(injector),
      upstream: input.upstreamText,
      enabled: true,
      injector,
      toxics: new Map(),
    };
    this.proxies.set(p.name, p);
    this.setEnabled(p, input.enabled);
    return p;
  }

  /** A new listener or upstream: a new injector, with the toxics (and `down`) given to it again. */
  private async reopen(p: ProxyState, input: ProxyInput): Promise<void> {
    const sameAddress = formatHostPort(input.listen) === p.listen;
    if (sameAddress) await p.injector.close();
    let injector: FaultInjector;
    try {
      injector = await this.start(input.listen, input.upstream);
    } catch (e) {
      if (sameAddress) {
        // Put the proxy back as it was; if even that fails, it is gone (and says so).
        try {
          p.injector = await this.start(hostPortOf(p.listen), hostPortOf(p.upstream));
          p.downId = undefined;
          if (!p.enabled) p.downId = p.injector.add(DOWN);
          for (const t of p.toxics.values()) t.id = apply(p.injector, t.toxic);
        } catch {
          this.proxies.delete(p.name);
        }
      }
      throw e;
    }
    if (!sameAddress) await p.injector.close();
    p.injector = injector;
    p.requested = input.listenText;
    p.listen = listenOf(injector);
    p.upstream = input.upstreamText;
    p.downId = p.enabled ? undefined : injector.add(DOWN);
    for (const t of p.toxics.values()) t.id = apply(injector, t.toxic);
  }

  private async start(listen: HostPort, upstream: HostPort): Promise<FaultInjector> {
    try {
      return await this.createProxy(listen, upstream);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const what = `listen tcp ${formatHostPort(listen)}`;
      if (err.code === 'EADDRINUSE') throw new ToxiproxyApiError(500, `${what}: address already in use`);
      if (err.code === 'EADDRNOTAVAIL') throw new ToxiproxyApiError(500, `${what}: address not available`);
      throw new ToxiproxyApiError(500, `${what}: ${err.message}`);
    }
  }

  private setEnabled(p: ProxyState, enabled: boolean): void {
    if (enabled === p.enabled && (enabled || p.downId !== undefined)) return;
    p.enabled = enabled;
    if (!enabled) p.downId = p.injector.add(DOWN);
    else if (p.downId !== undefined) {
      p.injector.remove(p.downId);
      p.downId = undefined;
    }
  }
}

function apply(injector: FaultInjector, toxic: ToxicJson): string | undefined {
  const fault = faultOfToxic(toxic);
  return fault ? injector.add(fault) : undefined;
}

function show(p: ProxyState): ProxyJson {
  return {
    name: p.name,
    listen: p.listen,
    upstream: p.upstream,
    enabled: p.enabled,
    toxics: [...p.toxics.values()].map((t) => t.toxic),
  };
}

function listenOf(injector: FaultInjector): string {
  const u = new URL(injector.url);
  return `${u.hostname}:${u.port}`;
}

function hostPortOf(s: string): HostPort {
  const a = parseHostPort(s)!;
  return { host: a.host ?? '127.0.0.1', port: a.port };
}

/** A proxy's fields from a request body; `base` supplies what an update leaves out. */
function proxyInput(body: unknown, base: ProxyState | undefined, path: string): ProxyInput {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badBody([
      {
        path: path || undefined,
        message: 'a proxy must be a JSON object',
        hint: '{"name": "redis", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:6379"}',
      },
    ]);
  const b = body as Record<string, unknown>;
  const problems: Problem[] = [];
  for (const k of Object.keys(b))
    if (!PROXY_KEYS.includes(k) && k !== 'toxics')
      // `toxics` as GET shows it: ignored, as by Toxiproxy
      problems.push({ path: at(k), message: `unknown proxy field \`${k}\``, hint: didYouMean(k, PROXY_KEYS) });
  const name = base ? base.name : b.name;
  if (typeof name !== 'string' || name === '' || /[/?#\p{Cc}]/u.test(name))
    problems.push({
      path: at('name'),
      message:
        name === undefined || name === ''
          ? 'missing required field: name'
          : `proxy name must be a string without / ? # or control characters, got ${JSON.stringify(name)}`,
    });
  const upstreamText = b.upstream ?? base?.upstream;
  let upstream: HostPort | undefined;
  if (typeof upstreamText !== 'string' || upstreamText === '')
    problems.push({
      path: at('upstream'),
      message: 'missing required field: upstream',
      hint: 'the target as host:port, e.g. 127.0.0.1:8000',
    });
  else {
    const a = parseHostPort(upstreamText);
    if (!a || a.port === 0 || a.host === undefined)
      problems.push({
        path: at('upstream'),
        message: `upstream "${upstreamText}" is not host:port`,
        hint: 'e.g. 127.0.0.1:8000 or [::1]:8000',
      });
    else upstream = { host: a.host, port: a.port };
  }
  const listenText = b.listen ?? base?.listen ?? '127.0.0.1:0';
  let listen: HostPort | undefined;
  if (typeof listenText !== 'string')
    problems.push({
      path: at('listen'),
      message: `listen must be a string host:port, got ${JSON.stringify(listenText)}`,
    });
  else {
    const a = parseHostPort(listenText);
    const host = loopbackHost(a?.host);
    if (!a)
      problems.push({ path: at('listen'), message: `listen "${listenText}" is not host:port`, hint: LOOPBACK_HINT });
    else if (!host)
      problems.push({
        path: at('listen'),
        message: `listen "${listenText}" is not a loopback address`,
        hint: LOOPBACK_HINT,
      });
    else listen = { host, port: a.port };
  }
  const enabled = b.enabled ?? base?.enabled ?? true;
  if (typeof enabled !== 'boolean')
    problems.push({ path: at('enabled'), message: `enabled must be true or false, got ${JSON.stringify(enabled)}` });
  if (problems.length || !listen || !upstream) throw badBody(problems);
  return {
    name: name as string,
    listen,
    listenText: listenText as string,
    upstream,
    upstreamText: upstreamText as string,
    enabled: enabled as boolean,
  };
}

export interface ToxiproxyApiOptions {
  registry: ToxiproxyRegistry;
  /** `host:port`, loopback only; default 127.0.0.1:8474 (Toxiproxy's). Port 0: any free port. */
  listen?: string;
  /** Shown by GET /version beside the Toxiproxy API level, e.g. Preflight's version. */
  preflightVersion?: string;
}

export interface ToxiproxyApiServer {
  /** e.g. http://127.0.0.1:8474 */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the API. A non-loopback address or a port in use is a `PreflightError` (E_ARGS) that says so. */
export async function startToxiproxyApi(opts: ToxiproxyApiOptions): Promise<ToxiproxyApiServer> {
  const text = opts.listen ?? TOXIPROXY_DEFAULT_API;
  const a = parseHostPort(text);
  const host = loopbackHost(a?.host);
  if (!a || !host)
    throw new PreflightError('E_ARGS', `the Toxiproxy-compatible API cannot listen on "${text}"`, {
      problems: [
        {
          message: a
            ? 'not a loopback address: anyone who can reach the API can redirect the traffic'
            : 'not host:port',
          hint: LOOPBACK_HINT,
        },
      ],
    });
  const server = http.createServer((req, res) => {
    handle(opts, req, res).catch((e: unknown) =>
      send(res, 500, { error: String((e as Error)?.message ?? e), status: 500 }),
    );
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new PreflightError('E_ARGS', `the Toxiproxy-compatible API cannot listen on ${text}: ${e.code ?? e.message}`, {
          cause: e,
          problems:
            e.code === 'EADDRINUSE'
              ? [
                  {
                    message: 'the port is in use (a toxiproxy-server?)',
                    hint: 'stop it, or choose another port, e.g. --api 127.0.0.1:0',
                  },
                ]
              : [],
        }),
      ),
    );
    server.listen({ host, port: a.port }, () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  return {
    url: `http://${formatHostPort({ host: addr.address, port: addr.port })}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readJson(req: http.IncomingMessage, allowEmpty: boolean): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ToxiproxyApiError(413, `bad request body: larger than ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') {
    if (allowEmpty) return undefined;
    throw new ToxiproxyApiError(400, 'bad request body: EOF');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ToxiproxyApiError(400, `bad request body: ${(e as Error).message}`);
  }
}

async function handle(opts: ToxiproxyApiOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  // As Toxiproxy: a browser is refused, so a web page cannot redirect traffic through the API.
  if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end('User agent not allowed\n');
    return;
  }
  const reg = opts.registry;
  const method = req.method ?? 'GET';
  const url = new URL(req.url ?? '/', 'http://x');
  let parts: string[];
  try {
    parts = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  } catch {
    parts = [];
  }
  const route = (methods: string[], fn: () => Promise<[number, unknown?]>) => ({ methods, fn });
  let r: { methods: string[]; fn: () => Promise<[number, unknown?]> } | undefined;
  const body = () => readJson(req, false);
  const [a, b, c, d] = parts;
  const n = parts.length;
  if (n === 1 && a === 'version')
    r = route(['GET'], async () => [
      200,
      { version: TOXIPROXY_API_VERSION, ...(opts.preflightVersion ? { preflight: opts.preflightVersion } : {}) },
    ]);
  else if (n === 1 && a === 'reset')
    r = route(['POST'], async () => {
      await reg.reset();
      return [204];
    });
  else if (n === 1 && a === 'populate')
    r = route(['POST'], async () => [201, { proxies: await reg.populate(await body()) }]);
  else if (n === 1 && a === 'proxies')
    r =
      method === 'GET'
        ? route(['GET', 'POST'], async () => [200, reg.list()])
        : route(['GET', 'POST'], async () => [201, await reg.create(await body())]);
  else if (n === 2 && a === 'proxies')
    r =
      method === 'GET'
        ? route(['GET', 'POST', 'PATCH', 'DELETE'], async () => [200, reg.get(b)])
        : method === 'DELETE'
          ? route(['GET', 'POST', 'PATCH', 'DELETE'], async () => {
              await reg.remove(b);
              return [204];
            })
          : route(['GET', 'POST', 'PATCH', 'DELETE'], async () => [200, await reg.update(b, await body())]);
  else if (n === 3 && a === 'proxies' && c === 'toxics')
    r =
      method === 'GET'
        ? route(['GET', 'POST'], async () => [200, reg.toxics(b)])
        : route(['GET', 'POST'], async () => [200, await reg.addToxic(b, await body())]);
  else if (n === 4 && a === 'proxies' && c === 'toxics')
    r =
      method === 'GET'
        ? route(['GET', 'POST', 'PATCH', 'DELETE'], async () => [200, reg.toxic(b, d)])
        : method === 'DELETE'
          ? route(['GET', 'POST', 'PATCH', 'DELETE'], async () => {
              await reg.removeToxic(b, d);
              return [204];
            })
          : route(['GET', 'POST', 'PATCH', 'DELETE'], async () => [200, await reg.updateToxic(b, d, await body())]);
  if (!r) {
    req.resume();
    send(res, 404, { error: `no such endpoint: ${method} ${url.pathname}`, status: 404 });
    return;
  }
  if (!r.methods.includes(method)) {
    req.resume();
    res.setHeader('allow', r.methods.join(', '));
    send(res, 405, { error: `method ${method} not allowed on ${url.pathname}`, status: 405 });
    return;
  }
  try {
    const [status, out] = await r.fn();
    send(res, status, out);
  } catch (e) {
    if (!(e instanceof ToxiproxyApiError)) throw e;
    if (e.status === 413) {
      // The rest of the body is still on the wire: this connection cannot carry another request.
      const socket = req.socket ?? res.socket;
      res.setHeader('connection', 'close');
      res.once('finish', () => socket?.destroy());
    } else req.resume();
    const err: Record<string, unknown> = { error: e.message, status: e.status };
    if (e.problems.length) err.problems = e.problems;
    if (a === 'populate') err.proxies = [];
    send(res, e.status, err);
  }
}
