/**
 * The reference server's router: an ordered table of path patterns, matched on URL-decoded path
 * segments. A pattern segment is a literal, `{name}` (one segment, captured) or a final `*` (zero or
 * more segments, captured as `rest`). Kept in-house rather than find-my-way: TF Serving's `:predict`
 * suffix, the OpenAI/TF Serving overlap under /v1/models and the per-protocol 404/405 order need
 * matching on decoded segments with fall-through, and the server stays dependency-free.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RouteMatch {
  /** Captured `{name}` segments (decoded). */
  readonly params: Readonly<Record<string, string>>;
  /** Segments matched by a final `*` (decoded). */
  readonly rest: readonly string[];
  /** Request method, HEAD answered as GET. */
  readonly method: string;
  /** Path without the query string (not decoded). */
  readonly path: string;
  /** performance.now() at receipt. */
  readonly t0: number;
}

/** Answers the request, or returns `false` to let a later route (or the not-found answer) take it; any other value is ignored. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, m: RouteMatch) => unknown;

export interface Route {
  /** Methods answered; others get 405 with `Allow`. `*`: any method (the handler checks, for protocol-specific order). */
  readonly methods: '*' | readonly string[];
  readonly pattern: string;
  readonly handler: RouteHandler;
}

interface Compiled extends Route {
  readonly segs: readonly string[];
  readonly tail: boolean;
}

export interface RouterFallbacks {
  malformed(res: ServerResponse): void;
  notFound(res: ServerResponse, method: string, path: string): void;
  methodNotAllowed(res: ServerResponse, allow: string): void;
}

function compile(r: Route): Compiled {
  const segs = r.pattern.split('/').slice(1);
  const tail = segs.at(-1) === '*';
  return { ...r, segs: tail ? segs.slice(0, -1) : segs, tail };
}

function match(r: Compiled, seg: readonly string[]): { params: Record<string, string>; rest: string[] } | null {
  if (r.tail ? seg.length < r.segs.length : seg.length !== r.segs.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < r.segs.length; i++) {
    const p = r.segs[i];
    if (p.startsWith('{') && p.endsWith('}')) params[p.slice(1, -1)] = seg[i];
    else if (p !== seg[i]) return null;
  }
  return { params, rest: seg.slice(r.segs.length) };
}

/** Builds the request dispatcher: first matching route whose method fits answers; 405 when only the method is wrong. */
export function createRouter(routes: readonly Route[], fallbacks: RouterFallbacks) {
  const table = routes.map(compile);
  return (req: IncomingMessage, res: ServerResponse, t0: number): void => {
    // HEAD is answered like GET (node:http leaves the body out).
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi >= 0 ? url.slice(0, qi) : url;
    let seg: string[];
    try {
      // The first element is '' (the path starts with '/').
      seg = path.split('/').map(decodeURIComponent).slice(1);
    } catch {
      fallbacks.malformed(res);
      return;
    }
    const allowed: string[] = [];
    for (const r of table) {
      const m = match(r, seg);
      if (!m) continue;
      if (r.methods !== '*' && !r.methods.includes(method)) {
        allowed.push(...r.methods);
        continue;
      }
      if (r.handler(req, res, { params: m.params, rest: m.rest, method, path, t0 }) !== false) return;
    }
    if (allowed.length) fallbacks.methodNotAllowed(res, [...new Set(allowed)].join(', '));
    else fallbacks.notFound(res, method, path);
  };
}
