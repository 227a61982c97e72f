/**
 * The HTTP and TLS pieces the checks share: the plan's TLS options (verified by default, `tls.caFile`
 * an extra CA, `tls.insecure` no verification — as the load clients read them) and one bounded request.
 */
import { isIP } from 'node:net';
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import type { TlsOptions } from '../plan/types.js';

/** `tls.connect` options for `hostname` with the plan's TLS settings. */
export function tlsOptionsFor(tls: TlsOptions, hostname: string): ConnectionOptions {
  return {
    rejectUnauthorized: !tls.insecure,
    ...(tls.ca ? { ca: [...rootCertificates, tls.ca] } : {}),
    ...(hostname !== '' && isIP(hostname) === 0 ? { servername: hostname } : {}),
  };
}

/** A keep-alive dispatcher with the plan's TLS settings; close it when done. */
export function checkAgent(tls: TlsOptions): Agent {
  return new Agent({ connect: tlsOptionsFor(tls, ''), keepAliveTimeout: 4000, connections: 4 });
}

/** A URL's host without IPv6 brackets, and its port (the scheme's default when absent). */
export function hostPort(u: string): { host: string; port: number; https: boolean } {
  const url = new URL(u);
  const https = url.protocol === 'https:';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : https ? 443 : 80,
    https,
  };
}

export interface CallResult {
  /** HTTP status; 0 when no answer came. */
  status: number;
  /** The body (first `maxBody` characters). */
  body: string;
  /** From the send to the end of the body. */
  ms: number;
  /** Why there was no answer (refused, timeout, …). */
  error?: string;
}

/** One request, bounded by `timeoutMs` and `signal`; never throws (no answer is `status: 0` with `error`). */
export async function call(
  dispatcher: Dispatcher,
  opts: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeoutMs: number;
    signal?: AbortSignal;
    maxBody?: number;
  },
): Promise<CallResult> {
  const t0 = performance.now();
  const timeoutMs = Math.max(1, Math.ceil(opts.timeoutMs)); // timers take whole milliseconds
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const max = opts.maxBody ?? 64 * 1024;
  try {
    const res = await request(opts.url, {
      dispatcher,
      method: opts.method as Dispatcher.HttpMethod,
      headers: opts.headers ?? {},
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    let body = '';
    for await (const chunk of res.body as AsyncIterable<Buffer>) if (body.length < max) body += chunk.toString('utf8');
    return { status: res.statusCode, body: body.slice(0, max), ms: performance.now() - t0 };
  } catch (e) {
    const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    const why = timeout.aborted
      ? `no answer within ${timeoutMs} ms`
      : opts.signal?.aborted
        ? 'stopped'
        : (err.cause?.code ?? err.code ?? err.cause?.message ?? err.message ?? String(e));
    return { status: 0, body: '', ms: performance.now() - t0, error: why };
  }
}
