/** GET /metrics (Prometheus), GET / (what this server is and serves) and POST /sink (bodies of any size, for `checks.network`). */
import type { ServerContext } from '../context.js';
import { SERVER_NAME } from '../context.js';
import { NO_MODEL } from '../http.js';
import { EXPOSITION_CONTENT_TYPE } from '../metrics.js';
import type { Route } from '../router.js';

/** The largest body /sink takes (a sweep to 8 MB by default; at most 256 MB). */
const SINK_MAX_BYTES = 256 * 1024 * 1024;

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
        'POST /sink',
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
    // A body sink for payload-size sweeps (checks.network.payload): reads and counts the body, answers its size.
    {
      methods: ['POST', 'PUT'],
      pattern: '/sink',
      handler: (req, res) => {
        let bytes = 0;
        let refused = false;
        req.on('data', (c: Buffer) => {
          bytes += c.length;
          if (bytes > SINK_MAX_BYTES && !refused) {
            refused = true;
            http.send(res, 413, JSON.stringify({ error: `body larger than ${SINK_MAX_BYTES} bytes` }), NO_MODEL, {
              headers: { connection: 'close' },
            });
            req.resume();
          }
        });
        req.on('end', () => {
          if (!refused) http.send(res, 200, JSON.stringify({ bytes }), NO_MODEL);
        });
      },
    },
    // Other methods on / get a plain 404, not a 405.
    {
      methods: '*',
      pattern: '/',
      handler: (_req, res, { method }) => (method === 'GET' ? http.send(res, 200, index(), NO_MODEL) : false),
    },
  ];
}
