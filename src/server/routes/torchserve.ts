/** TorchServe inference API: /ping and /predictions/{name}[/{version}]. */
import { encodeTorchResponse, parseTorchPredict } from '../codecs.js';
import type { ServerContext } from '../context.js';
import { NO_MODEL, torchError } from '../http.js';
import type { Route, RouteHandler } from '../router.js';

export function torchserveRoutes(ctx: ServerContext): Route[] {
  const { o, http } = ctx;
  // The model checks come before the method check, as in TorchServe.
  const predict: RouteHandler = (req, res, { params, method, t0 }) => {
    const { name, version: vIn } = params;
    if (name !== o.modelName) return ctx.unknownModel(res, 'torchserve', name, vIn);
    const v = ctx.resolveVersion(vIn);
    if (!v) return ctx.unknownModel(res, 'torchserve', name, vIn);
    if (method !== 'POST' && method !== 'PUT') return http.methodNotAllowed(res, 'POST, PUT');
    const labels = { model: o.modelName, version: v };
    return http.readJson(req, res, labels, torchError, (body) => {
      const p = ctx.parseOr400(res, labels, torchError, () => parseTorchPredict(body));
      if (!p) return;
      ctx.infer(res, t0, v, p, (out, rows) => encodeTorchResponse(p.single, out, rows), torchError);
    });
  };
  return [
    {
      methods: ['GET'],
      pattern: '/ping',
      handler: (_req, res) => {
        const closing = ctx.closing();
        http.send(res, closing ? 503 : 200, closing ? '{"status":"Unhealthy"}' : '{"status":"Healthy"}', NO_MODEL);
      },
    },
    { methods: '*', pattern: '/predictions/{name}', handler: predict },
    { methods: '*', pattern: '/predictions/{name}/{version}', handler: predict },
  ];
}
