/** The OpenAI-compatible simulator's routes (the simulation itself is llm-sim.ts). */
import type { ServerContext } from '../context.js';
import { jsonError, NO_MODEL } from '../http.js';
import type { Route } from '../router.js';

export function openaiRoutes(ctx: ServerContext): Route[] {
  const { o, http, llm } = ctx;
  return [
    {
      methods: ['POST'],
      pattern: '/v1/completions',
      handler: (req, res) => http.readJson(req, res, NO_MODEL, jsonError, (body) => llm.handle(res, req, body, 'text')),
    },
    {
      methods: ['POST'],
      pattern: '/v1/chat/completions',
      handler: (req, res) => http.readJson(req, res, NO_MODEL, jsonError, (body) => llm.handle(res, req, body, 'chat')),
    },
    {
      methods: ['GET'],
      pattern: '/v1/models',
      handler: (_req, res) => http.send(res, 200, llm.listModels(), NO_MODEL),
    },
    {
      // GET /v1/models/{id}; anything else under /v1/models (a `:verb`, the tensor model) is TF Serving's.
      methods: '*',
      pattern: '/v1/models/{id}',
      handler: (_req, res, { params: { id }, method }) => {
        if (id.includes(':') || id === o.modelName) return false;
        const obj = llm.modelObject(id);
        if (!obj) return false;
        if (method !== 'GET') return http.methodNotAllowed(res, 'GET');
        http.send(res, 200, obj, NO_MODEL);
      },
    },
  ];
}
