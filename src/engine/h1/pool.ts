/**
 * The built-in HTTP/1.1 client for plain `http:` targets: a keep-alive pool of raw TCP sockets,
 * one request at a time per connection. It exists for speed — the load generator must not be the
 * bottleneck — so the hot path is lean:
 * - the request's bytes are built once per request template and sent with one socket write;
 * - responses are read with `onread` into one buffer shared by the pool (no stream machinery, no
 *   per-read allocation) and parsed in place; unneeded headers are never turned into strings;
 * - a connection freed by a response is handed the next request synchronously, before the
 *   request's owner hears of the completion (a closed-model user's next request finds it idle);
 * - timeouts are one coarse timer per pool (ticks), not a timer per request. The pool bounds
 *   connecting and idle connections only: a request's deadline is the engine's, one total deadline
 *   for both clients (ScenarioRuntime), so there are no per-request head/body timeouts here.
 *
 * https: origins go through `tls.connect` (certificates verified unless the plan says `insecure`),
 * with decrypted bytes from 'data' events instead of `onread`; everything else is shared.
 *
 * It speaks the handler protocol the engine already uses with undici (onConnect with an abort
 * function, onHeaders, body, onComplete/onError) and reports errors with the same codes, so errors
 * are classified the same way whichever client sent the request.
 */
import net from 'node:net';
import tls from 'node:tls';
import { buildRequestBytes } from './request-bytes.js';
import { ResponseParser, type ResponseSink } from './response-parser.js';

/**
 * What the pool calls for one request. Calls for a request may come synchronously from `dispatch`
 * only as `onConnect` (a connection was idle); failures found in `dispatch` itself (closed pool,
 * invalid request) arrive on a later turn, so an owner that re-dispatches from `onError` cannot
 * recurse.
 */
export interface H1Handler {
  /**
   * The request is about to be written to a socket. `abort` cancels it — valid until the request
   * finishes: it belongs to the connection, which may carry another request after that.
   */
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(status: number): boolean;
  /** Body bytes buf[start, end): valid only during the call (the read buffer is reused). */
  onBody(buf: Buffer, start: number, end: number): void;
  onComplete(): void;
  onError(err: Error): void;
  /**
   * The request will be sent again (once): its reused keep-alive connection was closed or reset by
   * the server before any byte of the response — the idle-close race, not an answer of the server.
   * onConnect follows when it is written again.
   */
  onRetry?(): void;
}

export interface H1RequestOptions {
  method: string;
  path: string;
  /** Flat [name, value, …]. */
  headers: string[];
  body: Buffer | string | null;
}

export interface H1PoolOptions {
  /** Most connections open at once; null = a new one whenever all are busy. */
  connections: number | null;
  /** TCP connect, plus the TLS handshake for https:. */
  connectTimeoutMs: number;
  /** https: origins: certificate verification (on unless the plan says `insecure`) and an extra CA. */
  tls?: Pick<tls.ConnectionOptions, 'rejectUnauthorized' | 'ca'>;
}

/** Errors with the codes undici uses, so one classifier serves both clients. */
export class H1Error extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const BYTES = Symbol('h1Bytes');
type CachedOptions = H1RequestOptions & { [BYTES]?: Buffer };

function failNow(handler: H1Handler, err: Error): void {
  handler.onError(err);
}

/** Fails a request on a later turn (see H1Handler). */
function failLater(handler: H1Handler, err: Error): void {
  setImmediate(failNow, handler, err);
}

/** Idle keep-alive connections are closed after this when the server does not say its own limit. */
const DEFAULT_IDLE_MS = 60_000;

/**
 * How long a connection may stay idle: a server closing an idle connection just as a request is
 * written makes a false `connection_reset`, so we close first — 1 s before the server's announced
 * `Keep-Alive: timeout` (half of it when that is 2 s or less).
 */
function idleLimitMs(serverTimeoutMs: number): number {
  if (serverTimeoutMs < 0) return DEFAULT_IDLE_MS;
  return serverTimeoutMs > 2000 ? serverTimeoutMs - 1000 : serverTimeoutMs / 2;
}

/** Failures of a reused connection that mean "closed under us", not an answer (see H1Handler.onRetry). */
const STALE_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** One read buffer per pool: reads are parsed synchronously, so connections can share it. */
const READ_BUFFER_BYTES = 64 * 1024;

const enum ConnState {
  Connecting,
  Idle,
  Busy,
  Closed,
}

export class H1Pool {
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private readonly limit: number;
  /** TLS options for https: origins; null for http:. */
  readonly secure: tls.ConnectionOptions | null;
  private readonly all = new Set<H1Connection>();
  private readonly idle: H1Connection[] = [];
  /** Requests waiting for a connection: [opts, handler, opts, handler, …] from `queueHead`. */
  private queue: unknown[] = [];
  private queueHead = 0;
  private connecting = 0;
  private destroyed = false;
  /** Requests already sent again once (never twice). */
  private readonly retried = new WeakSet<H1Handler>();
  private ticker: NodeJS.Timeout | null = null;
  /** Coarse clock for timeouts, advanced by the ticker. */
  tick = 0;
  readonly tickMs: number;
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  constructor(
    origin: string,
    private readonly opts: H1PoolOptions,
    /**
     * Shortest request timeout the pool will see, ms: sets the timer's resolution for the connect
     * timeout and idle expiry, as fine as the engine's own deadline ticks.
     */
    timeoutHintMs = 30_000,
  ) {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`the built-in HTTP/1.1 client serves http: and https: origins, not ${url.protocol}`);
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const https = url.protocol === 'https:';
    this.port = url.port === '' ? (https ? 443 : 80) : Number(url.port);
    this.secure = https
      ? {
          rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
          ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
          // SNI takes a name, never an address; the certificate is still checked against the address.
          ...(net.isIP(this.host) === 0 ? { servername: this.host } : {}),
          ALPNProtocols: ['http/1.1'],
        }
      : null;
    this.hostHeader = url.host;
    this.limit = opts.connections === null ? Infinity : Math.max(1, opts.connections);
    // Ticks of timeout/20 (5–100 ms): timeouts never fire early and at most about two ticks late.
    this.tickMs = Math.min(100, Math.max(5, Math.floor(Math.min(timeoutHintMs, opts.connectTimeoutMs) / 20)));
  }

  /** Connections open or opening. */
  get size(): number {
    return this.all.size;
  }

  dispatch(opts: H1RequestOptions, handler: H1Handler): void {
    if (this.destroyed) return failLater(handler, new H1Error('UND_ERR_DESTROYED', 'the connection pool was closed'));
    const o = opts as CachedOptions;
    if (o[BYTES] === undefined) {
      try {
        o[BYTES] = buildRequestBytes(o.method, o.path, this.hostHeader, o.headers, o.body);
      } catch (err) {
        return failLater(handler, err as Error);
      }
    }
    if (this.ticker === null) this.startTicker();
    this.place(o, handler, false);
  }

  /** On an idle connection now, or in the queue (at its front: a request due before the others). */
  private place(o: CachedOptions, handler: H1Handler, front: boolean): void {
    const conn = this.idle.pop();
    if (conn !== undefined) {
      if (!conn.send(o, o[BYTES]!, handler)) this.release(conn);
      return;
    }
    if (!front) this.queue.push(o, handler);
    else if (this.queueHead >= 2) {
      this.queueHead -= 2;
      this.queue[this.queueHead] = o;
      this.queue[this.queueHead + 1] = handler;
    } else this.queue.unshift(o, handler);
    this.maybeConnect();
  }

  /**
   * Fails every request still waiting for a connection (in order) with `UND_ERR_ABORTED`: used when
   * a scenario cancels what is left, so that no connection is opened just to find them cancelled.
   */
  cancelQueued(): void {
    this.failQueued(new H1Error('UND_ERR_ABORTED', 'request cancelled before it was sent'));
  }

  private failQueued(err: Error): void {
    const queued = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    for (let i = 1; i < queued.length; i += 2) (queued[i] as H1Handler).onError(err);
  }

  /** Whether a request that failed on a reused connection before any response byte may go again. */
  mayRetry(handler: H1Handler): boolean {
    return !this.destroyed && !this.retried.has(handler);
  }

  /** Sends a request again, ahead of the waiting ones (it was due first). */
  retry(opts: CachedOptions, handler: H1Handler): void {
    this.retried.add(handler);
    handler.onRetry?.();
    this.place(opts, handler, true);
  }

  /** Opens a connection if requests wait that the connections being opened will not take. */
  private maybeConnect(): void {
    const waiting = (this.queue.length - this.queueHead) >> 1;
    if (waiting > this.connecting && this.all.size < this.limit) {
      this.connecting++;
      this.all.add(new H1Connection(this, this.host, this.port, this.opts.connectTimeoutMs));
    }
  }

  /**
   * A connection is free (just connected, its response completed, or its request was aborted
   * before the write): it takes the oldest waiting request, or goes idle. A loop, not recursion:
   * owners may cancel many queued requests at once, each refusing the connection in onConnect.
   */
  release(conn: H1Connection): void {
    while (this.queueHead < this.queue.length) {
      const o = this.queue[this.queueHead] as CachedOptions;
      const h = this.queue[this.queueHead + 1] as H1Handler;
      this.queue[this.queueHead] = this.queue[this.queueHead + 1] = undefined;
      this.queueHead += 2;
      this.compactQueue();
      if (conn.send(o, o[BYTES]!, h)) return;
    }
    conn.markIdle();
    this.idle.push(conn);
  }

  onConnected(): void {
    this.connecting--;
  }

  /** A connection could not be opened: the oldest waiting request fails with the reason. */
  onConnectFailed(conn: H1Connection, err: Error): void {
    this.connecting--;
    this.all.delete(conn);
    if (this.queueHead < this.queue.length) {
      const h = this.queue[this.queueHead + 1] as H1Handler;
      this.queue[this.queueHead] = this.queue[this.queueHead + 1] = undefined;
      this.queueHead += 2;
      this.compactQueue();
      h.onError(err);
    }
    if (!this.destroyed) this.maybeConnect();
  }

  /** An open connection closed (by either side, or after an error). */
  onClosed(conn: H1Connection): void {
    this.all.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (!this.destroyed) this.maybeConnect();
  }

  private compactQueue(): void {
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 2048 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private startTicker(): void {
    this.ticker = setInterval(() => {
      this.tick++;
      for (const c of this.all) c.checkDeadline(this.tick);
    }, this.tickMs);
    this.ticker.unref();
  }

  /** Closes every connection; requests still waiting or in flight fail as cancelled. */
  destroy(): Promise<void> {
    this.destroyed = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    const err = new H1Error('UND_ERR_DESTROYED', 'the connection pool was closed');
    this.failQueued(err);
    const closing: Promise<void>[] = [];
    for (const c of [...this.all]) closing.push(c.destroy(err));
    this.idle.length = 0;
    return Promise.all(closing).then(() => undefined);
  }
}

class H1Connection implements ResponseSink {
  private state = ConnState.Connecting;
  private readonly socket: net.Socket;
  private readonly parser: ResponseParser;
  private handler: H1Handler | null = null;
  /** The request on the wire (for a retry). */
  private current: CachedOptions | null = null;
  /** Responses completed on this connection: > 0 means it is a reused keep-alive connection. */
  private served = 0;
  /** Tick at which connecting times out; 0 = none. */
  private deadline = 0;
  /** Idle until this tick: closed by us before the server's keep-alive timeout can race a request. */
  private idleExpiry = 0;
  /** The server's announced `Keep-Alive: timeout`, ms, from its latest response that said it; -1 = never said. */
  private serverIdleMs = -1;
  /** Set when the owner aborted while being told of the send (the request is not written). */
  private abortedBeforeWrite = false;
  private writing = false;
  private closedPromise: Promise<void>;

  constructor(
    private readonly pool: H1Pool,
    host: string,
    port: number,
    connectTimeoutMs: number,
  ) {
    this.parser = new ResponseParser(this);
    this.deadline = connectTimeoutMs > 0 ? pool.tick + Math.ceil(connectTimeoutMs / pool.tickMs) + 1 : 0;
    if (pool.secure === null) {
      this.socket = net.connect({
        host,
        port,
        noDelay: true,
        onread: { buffer: pool.readBuffer, callback: (n: number, buf: Buffer) => this.onRead(n, buf) },
      });
      this.socket.once('connect', () => this.onConnect());
    } else {
      // TLS: decrypted bytes arrive as 'data' chunks (no onread); the rest is the same.
      const s = tls.connect({ host, port, ...pool.secure });
      s.setNoDelay(true);
      s.on('data', (chunk: Buffer) => this.onRead(chunk.length, chunk));
      s.once('secureConnect', () => this.onConnect());
      this.socket = s;
    }
    this.closedPromise = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.once('end', () => this.onEnd());
    this.socket.once('close', () => this.onSocketClose());
  }

  /** Bound once per connection: the abort handed to each request's owner. */
  private readonly abort = (err?: Error): void => {
    if (this.handler === null) return;
    const e = err ?? new H1Error('UND_ERR_ABORTED', 'request aborted');
    if (this.writing) {
      // Not on the wire yet: fail it, keep the connection.
      this.abortedBeforeWrite = true;
      const h = this.handler;
      this.handler = null;
      h.onError(e);
      return;
    }
    this.fail(e);
  };

  private onConnect(): void {
    if (this.state !== ConnState.Connecting) return;
    this.state = ConnState.Idle;
    this.deadline = 0;
    this.pool.onConnected();
    this.pool.release(this);
  }

  /** Writes a request. false: its owner aborted it in onConnect; nothing was written, the connection is still free. */
  send(opts: H1RequestOptions, bytes: Buffer, handler: H1Handler): boolean {
    this.state = ConnState.Busy;
    this.handler = handler;
    this.current = opts as CachedOptions;
    this.parser.reset(opts.method === 'HEAD');
    this.writing = true;
    handler.onConnect(this.abort);
    this.writing = false;
    if (this.abortedBeforeWrite) {
      this.abortedBeforeWrite = false;
      this.markIdle();
      return false;
    }
    this.socket.write(bytes);
    return true;
  }

  /** Called by the pool when no request is waiting for this connection. */
  markIdle(): void {
    this.state = ConnState.Idle;
    this.handler = null;
    this.current = null;
    this.deadline = 0;
    this.idleExpiry = this.pool.tick + Math.ceil(idleLimitMs(this.serverIdleMs) / this.pool.tickMs);
  }

  // The handler may abort from inside these (the rest of the read is then dropped with the connection).
  onHead(status: number): void {
    this.handler?.onHeaders(status);
  }

  onBody(buf: Buffer, start: number, end: number): void {
    if (end > start) this.handler?.onBody(buf, start, end);
  }

  private onRead(nread: number, buf: Buffer): boolean {
    if (this.handler === null) {
      // Bytes nobody asked for (a response after a timeout, or garbage): this connection is unusable.
      this.destroyQuietly();
      return false;
    }
    let pos: number;
    try {
      pos = this.parser.execute(buf, 0, nread);
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    if (this.handler !== null && this.parser.done) this.completed(pos < nread);
    return true;
  }

  /** The response is complete; `extraBytes`: more bytes followed it (the connection is not reused). */
  private completed(extraBytes: boolean): void {
    const h = this.handler!;
    this.served++;
    if (this.parser.keepAliveTimeoutMs >= 0) this.serverIdleMs = this.parser.keepAliveTimeoutMs;
    if (this.parser.keepAlive && !extraBytes && this.state === ConnState.Busy) {
      // Hand the connection on before telling the owner: its next request may find it free.
      this.markIdle();
      this.pool.release(this);
    } else {
      this.handler = null;
      this.destroyQuietly();
    }
    h.onComplete();
  }

  private onEnd(): void {
    // The server closed its side. A read-until-close body is complete now; anything else in flight was cut.
    if (this.handler !== null && this.parser.finishAtClose()) this.completed(false);
    this.fail(new H1Error('UND_ERR_SOCKET', 'other side closed'));
  }

  private onSocketClose(): void {
    this.fail(new H1Error('UND_ERR_SOCKET', 'other side closed'));
  }

  /** Fails the request in flight (if any) and closes the connection; safe to call repeatedly. */
  private fail(err: Error): void {
    if (this.state === ConnState.Closed) return;
    const wasConnecting = this.state === ConnState.Connecting;
    this.state = ConnState.Closed;
    this.deadline = 0;
    const h = this.handler;
    const req = this.current;
    // A reused connection closed or reset before any byte of the response: the server closed it
    // while idle as the request went out (Go's net/http, which k6 uses, retries these too).
    const retry =
      h !== null &&
      req !== null &&
      this.served > 0 &&
      this.parser.idle &&
      STALE_CODES.has((err as { code?: string }).code ?? '') &&
      this.pool.mayRetry(h);
    this.handler = null;
    this.current = null;
    this.socket.destroy();
    if (wasConnecting) this.pool.onConnectFailed(this, err);
    else this.pool.onClosed(this);
    if (h === null) return;
    if (retry) this.pool.retry(req!, h);
    else h.onError(err);
  }

  private destroyQuietly(): void {
    this.fail(new H1Error('UND_ERR_CLOSED', 'connection closed'));
  }

  checkDeadline(tick: number): void {
    if (this.state === ConnState.Idle && tick >= this.idleExpiry) return this.destroyQuietly();
    if (this.deadline === 0 || tick < this.deadline) return;
    if (this.state === ConnState.Connecting) this.fail(new H1Error('UND_ERR_CONNECT_TIMEOUT', 'connect timeout'));
  }

  destroy(err: Error): Promise<void> {
    this.fail(err);
    return this.closedPromise;
  }
}
