/**
 * The reference model server: one node:http server speaking KServe v2, TF Serving REST, TorchServe and an
 * OpenAI-compatible simulator, with dynamic batching over worker-thread model instances, bounded queues,
 * fault knobs and Prometheus metrics. See docs/reference-server.md.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { access, readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PreflightError } from '../core/errors.js';
import type { ModelInfo } from '../model/types.js';
import { Batcher, CLASSES, FEATURES } from './batcher.js';
import { createContext } from './context.js';
import { FaultState } from './faults.js';
import { createHttp, jsonError, NO_MODEL } from './http.js';
import { LlmSimulator } from './llm-sim.js';
import { resolveOptions } from './options.js';
import type { FaultOptions, ResolvedServerOptions, ServerOptions } from './options.js';
import { createRouter } from './router.js';
import { adminRoutes } from './routes/admin.js';
import { kserveRoutes } from './routes/kserve.js';
import { openaiRoutes } from './routes/openai.js';
import { statusRoutes } from './routes/status.js';
import { tfservingRoutes } from './routes/tfserving.js';
import { torchserveRoutes } from './routes/torchserve.js';
import { createServerMetrics } from './server-metrics.js';
import { Autoscaler, type ScalingState } from './autoscaler.js';
import { mulberry32 } from '../core/random.js';

export { OUTPUT_NAME, SERVER_NAME } from './context.js';

export interface ServerHandle {
  /** e.g. http://127.0.0.1:8000 */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Module the instances loaded the model from, and whether it is the built-in fallback linear model. */
  readonly model: { module: string; fallback: boolean; infos: ModelInfo[] };
  /** Version served by unversioned requests now. */
  readonly version: string;
  /** Merges fault knobs (absent keys unchanged, 0 = off); returns the knobs now in force. Throws E_ARGS on bad values. */
  setFaults(f: Partial<FaultOptions>): FaultOptions;
  /** Current fault knobs. */
  faults(): FaultOptions;
  /** Switches the version served by unversioned requests. Throws E_ARGS for an unknown version. */
  setVersion(v: string): void;
  /** The /metrics text. */
  metricsText(): string;
  /** Scaling mode: configuration, instances ready and starting, desired count, decisions (GET /admin/scaling). */
  scaling(): ScalingState;
  /** Stops listening, drops connections, stops the model instances. Idempotent. */
  close(): Promise<void>;
}

/**
 * Where the model comes from: an explicit module, else src/model (dist/src/model/index.js) when it is built,
 * else the fallback linear model in this folder (whose accuracy is meaningless).
 */
export async function resolveModelModule(m?: string | URL): Promise<{ href: string; fallback: boolean }> {
  if (m instanceof URL) return { href: m.href, fallback: false };
  if (typeof m === 'string') {
    return { href: /^(file|data):/.test(m) ? m : pathToFileURL(resolvePath(m)).href, fallback: false };
  }
  const real = new URL('../model/index.js', import.meta.url);
  try {
    await access(real);
    return { href: real.href, fallback: false };
  } catch {
    return { href: new URL('./linear-model.js', import.meta.url).href, fallback: true };
  }
}

async function packageVersion(): Promise<string> {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const p = JSON.parse(await readFile(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (p.name === 'ml-preflight' && p.version) return p.version;
    } catch {
      /* try the next */
    }
  }
  return '0.0.0';
}

/** Starts the server; resolves once every model instance has loaded and the port is listening. */
export async function startServer(options: ServerOptions = {}): Promise<ServerHandle> {
  const o: ResolvedServerOptions = resolveOptions(options);
  const random = mulberry32(o.seed);
  const faults = new FaultState(o.faults, random);
  const modelModule = await resolveModelModule(o.modelModule);
  let closing = false;
  let inFlight = 0;

  // The gauges read the batcher and the served version at scrape time, after both exist.
  const metrics = createServerMetrics(o, faults, {
    queued: (v) => batcher.queued(v),
    executing: () => batcher.executing,
    inFlight: () => inFlight,
    served: () => ctx.served(),
    instances: () => batcher.counts(),
    desired: () => autoscaler?.desired ?? o.instances,
    decisions: () => ({ up: autoscaler?.upDecisions ?? 0, down: autoscaler?.downDecisions ?? 0 }),
  });
  let autoscaler: Autoscaler | undefined;
  const scaling = (): ScalingState => {
    const c = batcher.counts();
    return {
      enabled: autoscaler !== undefined,
      options: o.autoscale ?? null,
      ...c,
      desired: autoscaler?.desired ?? o.instances,
      events: autoscaler ? [...autoscaler.log] : [],
    };
  };

  // ---- model instances ------------------------------------------------------------------------------
  const batcher = new Batcher({
    instances: o.instances,
    maxBatchSize: o.maxBatchSize,
    maxQueueDelayMs: o.maxQueueDelayMs,
    maxQueue: o.maxQueue,
    unbounded: o.unboundedQueue,
    versions: o.versions,
    modelModule: modelModule.href,
    modelOptions: o.modelOptions,
    onBatch(v, rows, _computeUs, ok) {
      if (!ok) return;
      const l = { model: o.modelName, version: v };
      metrics.mExec.inc(l);
      metrics.mBatch.observe(l, rows);
    },
    onInstanceError(message) {
      process.emitWarning(message, 'PreflightServerWarning');
    },
    computeTimeMs: o.computeTimeMs,
    onInstanceReady(index, before, after) {
      autoscaler?.instanceReady(before, after, index);
    },
  });
  let infos: ModelInfo[];
  try {
    infos = await batcher.start();
  } catch (e) {
    faults.close();
    throw new PreflightError('E_INTERNAL', `reference server: ${(e as Error).message}`, { cause: e });
  }
  const infoByVersion = new Map(infos.map((i, k) => [o.versions[k], i]));
  for (const [v, info] of infoByVersion) {
    const inp = info.inputs[0];
    const out = info.outputs[0];
    if (!inp || inp.shape.at(-1) !== FEATURES || !out || out.shape.at(-1) !== CLASSES) {
      await batcher.close();
      faults.close();
      throw new PreflightError(
        'E_MODEL_MISMATCH',
        `model ${v} from ${modelModule.href} is not [batch,${FEATURES}] → [batch,${CLASSES}]`,
      );
    }
  }
  if (o.autoscale) {
    const a = o.autoscale;
    autoscaler = new Autoscaler(a, {
      queueDepth: () => o.versions.reduce((n, v) => n + batcher.queued(v).requests, 0),
      ready: () => batcher.counts().ready,
      starting: () => batcher.counts().starting,
      scaleTo: (n) => batcher.scaleTo(n, a.startDelayMs),
    });
    autoscaler.start();
  }
  const llm = new LlmSimulator(o, faults, random, metrics.reg, { countHttp: metrics.countHttp });
  const http = createHttp({ faults, maxBodyBytes: o.maxBodyBytes, countHttp: metrics.countHttp });
  const ctx = createContext({
    o,
    http,
    metrics,
    faults,
    llm,
    batcher,
    packageVersion: await packageVersion(),
    modelModule,
    infoByVersion,
    closing: () => closing,
    scaling,
  });

  // ---- routing: first match answers; openai before tfserving (they share /v1/models) -------------------
  const route = createRouter(
    [
      ...kserveRoutes(ctx),
      ...openaiRoutes(ctx),
      ...tfservingRoutes(ctx),
      ...torchserveRoutes(ctx),
      ...statusRoutes(ctx),
      ...adminRoutes(ctx),
    ],
    {
      malformed: (res) => http.send(res, 400, jsonError(400, 'malformed URL'), NO_MODEL),
      notFound: http.notFound,
      methodNotAllowed: http.methodNotAllowed,
    },
  );
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const t0 = performance.now();
    inFlight++;
    res.once('close', () => inFlight--);
    req.on('error', () => {});
    route(req, res, t0);
  };

  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      if (!res.headersSent && !res.destroyed)
        http.send(res, 500, jsonError(500, `internal error: ${(e as Error).message}`), NO_MODEL, { immediate: true });
    }
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    autoscaler?.stop();
    llm.close();
    await batcher.close();
    faults.close();
    const err = e as NodeJS.ErrnoException;
    throw new PreflightError(
      err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL' ? 'E_ARGS' : 'E_INTERNAL',
      err.code === 'EADDRINUSE'
        ? `port ${o.port} on ${o.host} is already in use (try --port 0 for any free port)`
        : `cannot listen on ${o.host}:${o.port}: ${err.message}`,
      { cause: e },
    );
  }
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const hostForUrl = o.host.includes(':')
    ? `[${o.host}]`
    : o.host === '0.0.0.0'
      ? '127.0.0.1'
      : o.host === '::'
        ? '[::1]'
        : o.host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    host: o.host,
    model: { module: modelModule.href, fallback: modelModule.fallback, infos },
    get version() {
      return ctx.served();
    },
    setFaults: (f) => faults.set(f),
    faults: () => faults.get(),
    setVersion(v: string) {
      const r = ctx.resolveVersion(v);
      if (!r) throw new PreflightError('E_ARGS', `unknown version "${v}" (known: ${o.versions.join(', ')})`);
      ctx.setServed(r);
    },
    metricsText: () => metrics.reg.render(),
    scaling,
    close() {
      closed ??= (async () => {
        closing = true;
        autoscaler?.stop();
        const stopped = new Promise<void>((r) => server.close(() => r()));
        llm.close();
        await batcher.close();
        faults.close();
        server.closeAllConnections();
        await stopped;
      })();
      return closed;
    },
  };
}
