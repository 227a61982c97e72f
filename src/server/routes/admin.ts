/** /admin/*: fault knobs, the served-version switch, and scaling mode's log. Off unless asked for; token-checked when set. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerContext } from '../context.js';
import { jsonError, NO_MODEL } from '../http.js';
import type { FaultOptions } from '../options.js';
import type { Route, RouteHandler } from '../router.js';

export function adminRoutes(ctx: ServerContext): Route[] {
  const { o, http, faults } = ctx;
  const { send } = http;
  // Compared as hashes: equal lengths for timingSafeEqual, and no timing hint about the token.
  const sha = (t: string): Buffer => createHash('sha256').update(t).digest();
  const tokenHash = o.adminToken !== undefined ? sha(o.adminToken) : null;
  const authorized = (header: string | undefined): boolean => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return m !== null && tokenHash !== null && timingSafeEqual(sha(m[1]), tokenHash);
  };

  // Admin replies are immediate: they must work while the fault knobs stall or delay everything else.
  const handler: RouteHandler = (req, res, { method, path }) => {
    if (!o.admin) {
      return send(
        res,
        404,
        jsonError(404, `not found: ${method} ${path} (admin endpoints are off: start the server with --admin)`),
        NO_MODEL,
        { immediate: true },
      );
    }
    if (tokenHash && !authorized(req.headers.authorization)) {
      return send(res, 401, jsonError(401, 'admin endpoints need "Authorization: Bearer <token>"'), NO_MODEL, {
        immediate: true,
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    const ok = (body: unknown): void => send(res, 200, JSON.stringify(body), NO_MODEL, { immediate: true });
    const bad = (msg: string): void => send(res, 400, jsonError(400, msg), NO_MODEL, { immediate: true });
    if (path === '/admin/faults') {
      if (method === 'GET') return ok(faults.get());
      if (method === 'DELETE') return ok(faults.reset());
      if (method !== 'POST') return http.methodNotAllowed(res, 'GET, POST, DELETE');
      return http.readJson(req, res, NO_MODEL, jsonError, (body) => {
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          return bad('body must be a JSON object of fault knobs');
        const { reset, freeLeaked, ...knobs } = body as Record<string, unknown>;
        try {
          if (reset === true) faults.reset();
          if (freeLeaked === true) faults.freeLeaked();
          ok(faults.set(knobs as Partial<FaultOptions>));
        } catch (e) {
          bad((e as Error).message);
        }
      });
    }
    if (path === '/admin/version') {
      if (method === 'GET') return ok({ model: o.modelName, version: ctx.served(), versions: o.versions });
      if (method !== 'POST') return http.methodNotAllowed(res, 'GET, POST');
      return http.readJson(req, res, NO_MODEL, jsonError, (body) => {
        const v = (body as { version?: unknown } | null)?.version;
        const r = typeof v === 'string' ? ctx.resolveVersion(v) : null;
        if (!r) return bad(`unknown version ${JSON.stringify(v)} (known: ${o.versions.join(', ')})`);
        const previous = ctx.served();
        ctx.setServed(r);
        ok({ model: o.modelName, version: r, previous });
      });
    }
    if (path === '/admin/scaling') {
      // Scaling mode's configuration, instances now and its decision log (read-only).
      if (method !== 'GET') return http.methodNotAllowed(res, 'GET');
      return ok(ctx.scaling());
    }
    http.notFound(res, method, path);
  };
  return [{ methods: '*', pattern: '/admin/*', handler }];
}
