/**
 * Keep-alive connection pools per scenario, behind one small interface (Transport): the built-in
 * HTTP/1.1 client (h1/) — the fast path, for http:// and https:// — and undici when the plan asks
 * for it with `target.client: undici`. Connections are created on demand up to the
 * limit; requests beyond it wait inside the pool, which is why the engine takes the *actual send*
 * time when the request is written to a socket (onConnect), not when it was handed over.
 */
import { Pool, type Dispatcher } from 'undici';
import type { Plan, TlsOptions } from '../plan/types.js';
import { H1Pool, type H1Handler, type H1RequestOptions } from './h1/index.js';
import { tlsConnectOptions } from './target-tls.js';

export interface PoolOptions {
  /** null = unlimited (a new connection whenever all are busy). */
  connections: number | null;
  connectTimeoutMs: number;
  tls: TlsOptions;
  /** `auto` (default): the built-in client; `undici`: undici. */
  client?: 'auto' | 'undici';
  /** The requests' timeout, ms: sets the built-in client's timer resolution. */
  timeoutMs?: number;
}

export type RequestOptions = H1RequestOptions;
/** A request's handler: both clients call the same methods (undici's legacy handler protocol). */
export type RequestHandler = H1Handler & Dispatcher.DispatchHandler;

export interface Transport {
  dispatch(opts: RequestOptions, handler: RequestHandler): void;
  /** Fails requests still waiting for a connection as cancelled (undici: they cancel themselves when reached). */
  cancelQueued(): void;
  /** Closes every connection; requests in flight or waiting fail as cancelled. */
  destroy(): Promise<void>;
}

/** The client a plan's requests go through (the built-in one unless the plan asks for undici), as summary.generator.http_client says it. */
export function httpClientOf(plan: Plan): 'builtin' | 'undici' {
  return plan.target.client === 'undici' ? 'undici' : 'builtin';
}

export function createPool(origin: string, opts: PoolOptions): Transport {
  const o = new URL(origin).origin;
  if (opts.client !== 'undici') {
    // The one TLS meaning for every request Preflight sends (target-tls.ts).
    const tlsOpts = tlsConnectOptions(opts.tls);
    const pool = new H1Pool(
      o,
      { connections: opts.connections, connectTimeoutMs: opts.connectTimeoutMs, tls: tlsOpts },
      opts.timeoutMs,
    );
    return {
      dispatch: (r, h) => pool.dispatch(r, h),
      cancelQueued: () => pool.cancelQueued(),
      destroy: () => pool.destroy(),
    };
  }
  const pool = new Pool(o, {
    connections: opts.connections,
    pipelining: 1,
    connectTimeout: opts.connectTimeoutMs,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    // Per-request timeouts are set on each dispatch.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: o.startsWith('https:') ? tlsConnectOptions(opts.tls) : undefined,
  });
  return {
    dispatch: (r, h) => void pool.dispatch(r as Dispatcher.DispatchOptions, h),
    cancelQueued: () => {},
    destroy: () => pool.destroy(),
  };
}
