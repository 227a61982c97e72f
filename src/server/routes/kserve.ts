/** KServe v2 (Open Inference Protocol) REST: server metadata, health, model metadata/ready, infer. */
import { encodeKServeResponse, parseKServeInfer } from '../codecs.js';
import type { ServerContext } from '../context.js';
import { OUTPUT_NAME, SERVER_NAME } from '../context.js';
import type { TensorSpec } from '../../model/types.js';
import { jsonError, NO_MODEL } from '../http.js';
import type { Route, RouteHandler } from '../router.js';

export function kserveRoutes(ctx: ServerContext): Route[] {
  const { o, http, infoByVersion } = ctx;
  const { send } = http;

  const modelMetadata = (v: string | undefined): string => {
    const info = infoByVersion.get(v ?? ctx.served())!;
    const spec = (t: TensorSpec, name = t.name) => ({ name, datatype: t.datatype, shape: [-1, ...t.shape.slice(1)] });
    return JSON.stringify({
      name: o.modelName,
      versions: v ? [v] : o.versions,
      platform: info.platform,
      inputs: info.inputs.map((t) => spec(t)),
      outputs: info.outputs.map((t) => spec(t, OUTPUT_NAME)),
    });
  };

  /** /v2/models/{name}[/versions/{version}][/{action}]: the model checks come before the method check. */
  const model =
    (action: 'metadata' | 'ready' | 'infer'): RouteHandler =>
    (req, res, { params, method, t0 }) => {
      const { name, version: vIn } = params;
      if (name !== o.modelName) return ctx.unknownModel(res, 'kserve', name, vIn);
      const v = ctx.resolveVersion(vIn);
      if (!v) return ctx.unknownModel(res, 'kserve', name, vIn);
      const labels = { model: o.modelName, version: v };
      if (action === 'metadata') {
        if (method !== 'GET') return http.methodNotAllowed(res, 'GET');
        return send(res, 200, modelMetadata(vIn === undefined ? undefined : v), labels);
      }
      if (action === 'ready') {
        if (method !== 'GET') return http.methodNotAllowed(res, 'GET');
        return send(res, 200, JSON.stringify({ name: o.modelName, version: v, ready: true }), labels);
      }
      if (method !== 'POST') return http.methodNotAllowed(res, 'POST');
      return http.readJson(req, res, labels, jsonError, (body) => {
        const p = ctx.parseOr400(res, labels, jsonError, () =>
          parseKServeInfer(body, o.modelName, ctx.inputName(v), OUTPUT_NAME),
        );
        if (!p) return;
        const id = p.id ?? ctx.nextId();
        ctx.infer(
          res,
          t0,
          v,
          p,
          (out, rows) => encodeKServeResponse(o.modelName, v, id, OUTPUT_NAME, out, rows),
          jsonError,
        );
      });
    };

  const health =
    (probe: 'live' | 'ready'): RouteHandler =>
    (_req, res) => {
      const ready = !ctx.closing();
      send(res, ready ? 200 : 503, probe === 'live' ? '{"live":true}' : `{"ready":${ready}}`, NO_MODEL);
    };

  return [
    {
      methods: ['GET'],
      pattern: '/v2',
      handler: (_req, res) =>
        send(res, 200, JSON.stringify({ name: SERVER_NAME, version: ctx.packageVersion, extensions: [] }), NO_MODEL),
    },
    { methods: ['GET'], pattern: '/v2/health/live', handler: health('live') },
    { methods: ['GET'], pattern: '/v2/health/ready', handler: health('ready') },
    { methods: '*', pattern: '/v2/models/{name}', handler: model('metadata') },
    { methods: '*', pattern: '/v2/models/{name}/ready', handler: model('ready') },
    { methods: '*', pattern: '/v2/models/{name}/infer', handler: model('infer') },
    { methods: '*', pattern: '/v2/models/{name}/versions/{version}', handler: model('metadata') },
    { methods: '*', pattern: '/v2/models/{name}/versions/{version}/ready', handler: model('ready') },
    { methods: '*', pattern: '/v2/models/{name}/versions/{version}/infer', handler: model('infer') },
  ];
}
