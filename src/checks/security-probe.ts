/**
 * One bounded HTTP request for the assumption checks (security probes, consistency requests): a fresh
 * connection, a deadline over the whole exchange, at most `keepBytes` of the answer kept (the rest read
 * and dropped), and a body that may be streamed (the oversized probe) with backpressure, so nothing
 * blocks the event loop and nothing waits for ever. A failure is an answer without a status (`error`),
 * never a throw.
 */
import http from 'node:http';
import https from 'node:https';

export interface ProbeRequest {
  method: string;
  /** Path and query (already under the environment's base path). */
  path: string;
  headers: Record<string, string>;
  /** Body bytes, or `{ size }`: that many bytes streamed (a JSON string of `a`s, so only the size is wrong). */
  body?: Buffer | { size: number };
}

export interface ProbeTarget {
  /** scheme://host:port (no path). */
  origin: string;
  tls?: { insecure?: boolean; ca?: string };
}

export interface ProbeAnswer {
  /** 0 when there was no answer. */
  status: number;
  headers: Record<string, string>;
  /** The first `keepBytes` of the body. */
  body: Buffer;
  /** `timeout` (no answer within the deadline), or the socket error's code; absent on an answer. */
  error?: string;
  ms: number;
}

const CHUNK = 64 * 1024;

export function probe(
  target: ProbeTarget,
  req: ProbeRequest,
  opts: { timeoutMs: number; signal?: AbortSignal; keepBytes?: number },
): Promise<ProbeAnswer> {
  const keep = opts.keepBytes ?? 64 * 1024;
  const started = performance.now();
  const url = new URL(target.origin);
  const isHttps = url.protocol === 'https:';
  const headers: Record<string, string> = { ...req.headers };
  const streamed = req.body !== undefined && !Buffer.isBuffer(req.body) ? req.body.size : undefined;
  if (req.body !== undefined) headers['content-length'] = String(streamed ?? (req.body as Buffer).length);
  return new Promise<ProbeAnswer>((resolve) => {
    let done = false;
    let answer: ProbeAnswer | undefined;
    const finish = (a: Omit<ProbeAnswer, 'ms'>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // Nothing more is read or written (an upload the server answered early stops here too).
      r.destroy();
      resolve({ ...a, ms: performance.now() - started });
    };
    const options: https.RequestOptions = {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port || (isHttps ? 443 : 80),
      method: req.method,
      path: req.path,
      headers,
      agent: false,
    };
    if (isHttps) {
      options.servername = /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname;
      if (target.tls?.ca) options.ca = target.tls.ca;
      if (target.tls?.insecure) options.rejectUnauthorized = false;
    }
    const r = (isHttps ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      answer = {
        status: res.statusCode ?? 0,
        headers: Object.fromEntries(
          Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')]),
        ),
        body: Buffer.alloc(0),
        ms: 0,
      };
      res.on('data', (c: Buffer) => {
        if (kept < keep) {
          const part = c.subarray(0, keep - kept);
          chunks.push(part);
          kept += part.length;
        }
      });
      const end = () => finish({ ...answer!, body: Buffer.concat(chunks) });
      res.on('end', end);
      res.on('error', end);
      res.on('close', end);
    });
    const fail = (code: string) => {
      r.destroy();
      // A status already in (a 413 while the upload was still going) is the answer.
      if (answer) finish({ ...answer, body: answer.body });
      else finish({ status: 0, headers: {}, body: Buffer.alloc(0), error: code });
    };
    const timer = setTimeout(() => fail('timeout'), opts.timeoutMs);
    const onAbort = () => fail('aborted');
    if (opts.signal?.aborted) return fail('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    r.on('error', (e: NodeJS.ErrnoException) => {
      if (answer) return; // the response's own end/close settles it
      fail(e.code ?? e.message);
    });
    if (streamed === undefined) {
      r.end(req.body as Buffer | undefined);
      return;
    }
    void stream(r, streamed, () => done || answer !== undefined);
  });
}

/** Writes `size` bytes (`{"pad":"aaa…"}`) in chunks, waiting for drain; stops when `stop()` says so. */
async function stream(r: http.ClientRequest, size: number, stop: () => boolean): Promise<void> {
  const head = Buffer.from('{"pad":"');
  const tail = Buffer.from('"}');
  const fill = Buffer.alloc(CHUNK, 'a');
  let left = size;
  const write = async (b: Buffer) => {
    if (!r.write(b))
      await new Promise<void>((res) => {
        const go = () => {
          r.off('drain', go);
          r.off('close', go);
          res();
        };
        r.on('drain', go);
        r.on('close', go);
      });
  };
  if (size >= head.length + tail.length) {
    await write(head);
    left -= head.length + tail.length;
    while (left > 0 && !stop() && !r.destroyed) {
      const n = Math.min(left, CHUNK);
      await write(n === CHUNK ? fill : fill.subarray(0, n));
      left -= n;
    }
    if (!stop() && !r.destroyed) r.end(tail);
  } else if (!r.destroyed) r.end(fill.subarray(0, size));
}

/** scheme://host:port and the base path (no trailing slash) of a target URL. */
export function splitUrl(url: string): { origin: string; basePath: string } {
  const u = new URL(url);
  return { origin: u.origin, basePath: u.pathname.replace(/\/+$/, '') };
}

/** The start of a body as text for evidence: at most `n` characters, control characters as spaces. */
export function snippet(body: Buffer | string, n = 200): string {
  const s = (typeof body === 'string' ? body : body.subarray(0, n * 4).toString('utf8')).replace(
    /[\u0000-\u001f]+/g,
    ' ',
  );
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
