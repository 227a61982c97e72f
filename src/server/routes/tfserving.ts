/** TF Serving REST: /v1/models/{name}[/versions/{v} | /labels/{l}][/metadata | :predict]. */
import { encodeTfResponse, parseTfPredict } from '../codecs.js';
import type { ServerContext } from '../context.js';
import { OUTPUT_NAME } from '../context.js';
import type { TensorSpec } from '../../model/types.js';
import { jsonError } from '../http.js';
import type { Route, RouteHandler } from '../router.js';

function versionNumber(v: string): string {
  const m = /^v(\d+)$/.exec(v);
  return m ? m[1] : v;
}

export function tfservingRoutes(ctx: ServerContext): Route[] {
  const { o, http, infoByVersion } = ctx;
  const { send } = http;

  const metadata = (v: string): string => {
    const info = infoByVersion.get(v)!;
    const dims = (t: TensorSpec) => ({
      dim: t.shape.map((d, i) => ({ size: String(i === 0 ? -1 : d), name: '' })),
      unknown_rank: false,
    });
    const tensor = (t: TensorSpec, name: string) => ({
      dtype: t.datatype === 'FP32' ? 'DT_FLOAT' : `DT_${t.datatype}`,
      tensor_shape: dims(t),
      name: `${name}:0`,
    });
    return JSON.stringify({
      model_spec: { name: o.modelName, signature_name: '', version: versionNumber(v) },
      metadata: {
        signature_def: {
          signature_def: {
            serving_default: {
              inputs: { [info.inputs[0].name]: tensor(info.inputs[0], info.inputs[0].name) },
              outputs: { [OUTPUT_NAME]: tensor(info.outputs[0], OUTPUT_NAME) },
              method_name: 'tensorflow/serving/predict',
            },
          },
        },
      },
    });
  };

  // The `:verb` suffix sits inside the last segment (`digits:predict`, `…/versions/2:predict`), so this
  // protocol parses its own tail; the model checks come before the path-shape and method checks.
  const handler: RouteHandler = (req, res, { params, rest: tail, method, path, t0 }) => {
    const parts = [params.name, ...tail];
    const last = parts[parts.length - 1];
    const colon = last.indexOf(':');
    const verb = colon >= 0 ? last.slice(colon + 1) : undefined;
    if (colon >= 0) parts[parts.length - 1] = last.slice(0, colon);
    const name = parts[0];
    let vIn: string | undefined;
    let rest = parts.slice(1);
    if (rest[0] === 'versions' || rest[0] === 'labels') {
      if (rest.length < 2) return http.notFound(res, method, path);
      vIn = rest[1];
      rest = rest.slice(2);
    }
    if (name !== o.modelName) return ctx.unknownModel(res, 'tfserving', name, vIn);
    const v = ctx.resolveVersion(vIn);
    if (!v) return ctx.unknownModel(res, 'tfserving', name, vIn);
    const labels = { model: o.modelName, version: v };
    if (verb !== undefined) {
      if (rest.length !== 0) return http.notFound(res, method, path);
      if (verb !== 'predict')
        return send(res, 400, jsonError(400, `${verb} is not supported by this model (only :predict)`), labels);
      if (method !== 'POST') return http.methodNotAllowed(res, 'POST');
      return http.readJson(req, res, labels, jsonError, (body) => {
        const p = ctx.parseOr400(res, labels, jsonError, () => parseTfPredict(body, ctx.inputName(v)));
        if (!p) return;
        ctx.infer(res, t0, v, p, (out, rows) => encodeTfResponse(p.format, out, rows), jsonError);
      });
    }
    if (method !== 'GET') return http.methodNotAllowed(res, 'GET');
    if (rest.length === 0) {
      const list = vIn === undefined ? o.versions : [v];
      const status = list.map((x) => ({
        version: versionNumber(x),
        state: 'AVAILABLE',
        status: { error_code: 'OK', error_message: '' },
      }));
      return send(res, 200, JSON.stringify({ model_version_status: status }), labels);
    }
    if (rest.length === 1 && rest[0] === 'metadata') return send(res, 200, metadata(v), labels);
    return http.notFound(res, method, path);
  };

  return [{ methods: '*', pattern: '/v1/models/{name}/*', handler }];
}
