/** GET /metrics (Prometheus) and GET / (what this server is and serves). */
import type { ServerContext } from '../context.js';
import { SERVER_NAME } from '../context.js';
import { NO_MODEL } from '../http.js';
import { EXPOSITION_CONTENT_TYPE } from '../metrics.js';
import type { Route } from '../router.js';

export function statusRoutes(ctx: ServerContext): Route[] {
  const { o, http } = ctx;
  const index = (): string =>
    JSON.stringify({
      name: SERVER_NAME,
      version: ctx.packageVersion,
      model: { name: o.modelName, versions: o.versions, served: ctx.served(), fallback: ctx.modelModule.fallback },
      endpoints: [
        'GET /v2/health/live',
        'GET /v2/health/ready',
        'GET /v2',
        `GET /v2/models/${o.modelName}[/versions/{v}][/ready]`,
        `POST /v2/models/${o.modelName}[/versions/{v}]/infer`,
        `GET /v1/models/${o.modelName}[/versions/{v}][/metadata]`,
        `POST /v1/models/${o.modelName}[/versions/{v}]:predict`,
        'GET /ping',
        `POST /predictions/${o.modelName}[/{v}]`,
        'GET /v1/models',
        'POST /v1/completions (simulator)',
        'POST /v1/chat/completions (simulator)',
        'GET /metrics',
        ...(o.admin ? ['GET|POST|DELETE /admin/faults', 'GET|POST /admin/version', 'GET /admin/scaling'] : []),
      ],
    });
  return [
    {
      methods: ['GET'],
      pattern: '/metrics',
      handler: (_req, res) =>
        http.send(res, 200, ctx.metrics.reg.render(), NO_MODEL, { contentType: EXPOSITION_CONTENT_TYPE }),
    },
    // Other methods on / get a plain 404, not a 405.
    {
      methods: '*',
      pattern: '/',
      handler: (_req, res, { method }) => (method === 'GET' ? http.send(res, 200, index(), NO_MODEL) : false),
    },
  ];
}
