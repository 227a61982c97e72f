/**
 * Keep-alive connection pools (undici) per origin. Connections are created on demand up to the
 * limit; requests beyond it wait inside the pool, which is why the engine takes the *actual send*
 * time when undici writes the request to a socket (onConnect), not when it was handed over.
 */
import { Pool } from 'undici';
import type { TlsOptions } from '../plan/types.js';

export interface PoolOptions {
  /** null = unlimited (a new connection whenever all are busy). */
  connections: number | null;
  connectTimeoutMs: number;
  tls: TlsOptions;
}

export function createPool(origin: string, opts: PoolOptions): Pool {
  return new Pool(origin, {
    connections: opts.connections,
    pipelining: 1,
    connectTimeout: opts.connectTimeoutMs,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    // Per-request timeouts are set on each dispatch.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: origin.startsWith('https:') ? { rejectUnauthorized: !opts.tls.insecure, ...(opts.tls.ca ? { ca: opts.tls.ca } : {}) } : undefined,
  });
}
