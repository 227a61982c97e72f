/**
 * The reference model server: one node:http server speaking KServe v2, TF Serving REST, TorchServe and an
 * OpenAI-compatible simulator, with dynamic batching over worker-thread model instances, bounded queues,
 * fault knobs and Prometheus metrics. See docs/reference-server.md.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { access, readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PreflightError } from '../core/errors.js';
import type { ModelInfo, TensorSpec } from '../model/types.js';
import { Batcher, CLASSES, FEATURES } from './batcher.js';
import type { JobResult } from './batcher.js';
import {
  BadRequest,
  encodeKServeResponse,
  encodeTfResponse,
  encodeTorchResponse,
  parseKServeInfer,
  parseTfPredict,
  parseTorchPredict,
} from './codecs.js';
import type { ParsedRows } from './codecs.js';
import { deliver, FaultState } from './faults.js';
import { LlmSimulator } from './llm-sim.js';
import { EXPOSITION_CONTENT_TYPE, Registry } from './metrics.js';
import { FAULT_KEYS, resolveOptions } from './options.js';
import type { FaultOptions, ResolvedServerOptions, ServerOptions } from './options.js';
import { mulberry32 } from '../core/random.js';

export const SERVER_NAME = 'preflight-reference-server';
/** Name of the output tensor on every protocol. */
export const OUTPUT_NAME = 'probabilities';

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
      const p = JSON.parse(await readFile(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (p.name === 'ml-preflight' && p.version) return p.version;
    } catch {
      /* try the next */
    }
  }
  return '0.0.0';
}

type Labels = { model: string; version: string };
const NO_MODEL: Labels = { model: '', version: '' };

type Protocol = 'kserve' | 'tfserving' | 'torchserve';

interface ErrorFormat {
  (status: number, message: string): string;
}

const jsonError: ErrorFormat = (_s, message) => JSON.stringify({ error: message });
const TORCH_TYPES: Record<number, string> = {
  400: 'BadRequestException',
  404: 'ModelNotFoundException',
  405: 'MethodNotAllowedException',
  413: 'RequestTooLargeException',
  429: 'ServiceUnavailableException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};
const torchError: ErrorFormat = (status, message) => JSON.stringify({ code: status, type: TORCH_TYPES[status] ?? 'InternalServerException', message });

function versionNumber(v: string): string {
  const m = /^v(\d+)$/.exec(v);
  return m ? m[1] : v;
}

/** Starts the server; resolves once every model instance has loaded and the port is listening. */
export async function startServer(options: ServerOptions = {}): Promise<ServerHandle> {
  const o: ResolvedServerOptions = resolveOptions(options);
  const random = mulberry32(o.seed);
  const faults = new FaultState(o.faults, random);
  const modelModule = await resolveModelModule(o.modelModule);
  const version = await packageVersion();
  let served = o.version;
  let closing = false;
  let inFlight = 0;
  let nextId = 1;

  // ---- metrics --------------------------------------------------------------------------------------
  const reg = new Registry();
  const mSuccess = reg.counter('nv_inference_request_success', 'Number of successful inference requests, all batch sizes');
  const mFailure = reg.counter('nv_inference_request_failure', 'Number of failed inference requests, all batch sizes (reason: REJECTED = shed, BACKEND = model error, INJECTED = fault knob, OTHER = invalid request, CANCELED = shutdown)');
  const mCount = reg.counter('nv_inference_count', 'Number of inferences performed (rows)');
  const mExec = reg.counter('nv_inference_exec_count', 'Number of model executions performed (batches)');
  const mReqDur = reg.counter('nv_inference_request_duration_us', 'Cumulative inference request duration in microseconds (successful requests, receipt to reply)');
  const mQueueDur = reg.counter('nv_inference_queue_duration_us', 'Cumulative inference queuing duration in microseconds (successful requests)');
  const mComputeDur = reg.counter('nv_inference_compute_infer_duration_us', 'Cumulative compute inference duration in microseconds (successful requests; each request counts its whole batch)');
  reg.gauge('nv_inference_pending_request_count', 'Instantaneous number of pending requests awaiting execution per-model.', () =>
    o.versions.map((v) => [{ model: o.modelName, version: v }, batcher.queued(v).requests]),
  );
  reg.gauge('preflight_server_queue_rows', 'Rows waiting in the dynamic batcher queue per model version.', () =>
    o.versions.map((v) => [{ model: o.modelName, version: v }, batcher.queued(v).rows]),
  );
  reg.gauge('preflight_server_requests_in_flight', 'HTTP requests received and not yet answered (all endpoints, streams included).', () => [[{}, inFlight]]);
  reg.gauge('preflight_server_batches_executing', 'Batches running on model instances now.', () => [[{}, batcher.executing]]);
  reg.gauge('preflight_server_instances', 'Model instances (worker threads).', () => [[{}, o.instances]]);
  const mBatch = reg.histogram('preflight_server_batch_size', 'Rows per executed batch.', [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  const mInferDur = reg.histogram('preflight_server_infer_duration_seconds', 'Inference request duration, receipt to reply (successful requests), seconds.', [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]);
  const mHttp = reg.counter('preflight_server_http_requests_total', 'HTTP responses by model, version and status (model/version empty for non-model endpoints).');
  reg.gauge('preflight_server_served_version', '1 for the version unversioned requests go to, else 0.', () => o.versions.map((v) => [{ model: o.modelName, version: v }, v === served ? 1 : 0]));
  reg.gauge('preflight_server_fault', 'Fault knobs in force (0 = off).', () => {
    const f = faults.get();
    return FAULT_KEYS.map((k) => [{ knob: k }, f[k]]);
  });
  reg.gauge('preflight_server_leaked_bytes', 'Memory retained on purpose by the leak fault knobs, bytes.', () => [[{}, faults.leakedBytes]]);
  const startedAt = Date.now() / 1000;
  reg.collectedCounter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds (all threads).', () => {
    const u = process.cpuUsage();
    return [[{}, (u.user + u.system) / 1e6]];
  });
  reg.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => [[{}, process.memoryUsage.rss()]]);
  reg.gauge('process_heap_bytes', 'Process heap size in bytes: V8 heap used plus external (Buffer/ArrayBuffer) memory.', () => {
    const m = process.memoryUsage();
    return [[{}, m.heapUsed + m.external]];
  });
  reg.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => [[{}, startedAt]]);
  for (const v of o.versions) {
    const l = { model: o.modelName, version: v };
    for (const c of [mSuccess, mCount, mExec, mReqDur, mQueueDur, mComputeDur]) c.touch(l);
    mBatch.touch(l);
    mInferDur.touch(l);
  }

  const countHttp = (model: string, ver: string, status: number): void => mHttp.inc({ model, version: ver, status: String(status) });

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
      mExec.inc(l);
      mBatch.observe(l, rows);
    },
    onInstanceError(message) {
      process.emitWarning(message, 'PreflightServerWarning');
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
      throw new PreflightError('E_MODEL_MISMATCH', `model ${v} from ${modelModule.href} is not [batch,${FEATURES}] → [batch,${CLASSES}]`);
    }
  }
  const inputName = (v: string): string => infoByVersion.get(v)!.inputs[0].name;
  const llm = new LlmSimulator(o, faults, random, reg, { countHttp });

  // ---- responses ------------------------------------------------------------------------------------
  /** Sends a complete response after `delayMs` and outside stalls (admin replies skip both). */
  const send = (
    res: ServerResponse,
    status: number,
    body: string,
    labels: Labels,
    opts: { delayMs?: number; headers?: Record<string, string>; immediate?: boolean; contentType?: string; onSent?: () => void } = {},
  ): void => {
    const write = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, {
        'content-type': opts.contentType ?? 'application/json',
        'content-length': Buffer.byteLength(body),
        ...opts.headers,
      });
      res.end(body);
      countHttp(labels.model, labels.version, status);
      opts.onSent?.();
    };
    if (opts.immediate) write();
    else deliver(faults, opts.delayMs ?? 0, write);
  };

  const modelMetadata = (v: string | undefined): string => {
    const info = infoByVersion.get(v ?? served)!;
    const spec = (t: TensorSpec, name = t.name) => ({ name, datatype: t.datatype, shape: [-1, ...t.shape.slice(1)] });
    return JSON.stringify({
      name: o.modelName,
      versions: v ? [v] : o.versions,
      platform: info.platform,
      inputs: info.inputs.map((t) => spec(t)),
      outputs: info.outputs.map((t) => spec(t, OUTPUT_NAME)),
    });
  };

  const resolveVersion = (v: string | undefined): string | null => {
    if (v === undefined) return served;
    if (o.versions.includes(v)) return v;
    const m = /^(\d+)(?:\.0+)?$/.exec(v);
    if (m && o.versions.includes(`v${Number(m[1])}`)) return `v${Number(m[1])}`;
    return null;
  };

  // ---- inference (all tensor protocols share the batcher) -------------------------------------------
  const infer = (
    res: ServerResponse,
    t0: number,
    ver: string,
    parsed: ParsedRows,
    encode: (out: Float32Array, rows: number) => string,
    errorFormat: ErrorFormat,
  ): void => {
    const labels = { model: o.modelName, version: ver };
    faults.onRequest();
    const delayMs = faults.extraLatencyMs();
    if (faults.injectError()) {
      mFailure.inc({ ...labels, reason: 'INJECTED' });
      send(res, 500, errorFormat(500, 'injected fault'), labels, { delayMs });
      return;
    }
    const done = (r: JobResult): void => {
      if (!r.ok) {
        const shutdown = closing;
        mFailure.inc({ ...labels, reason: shutdown ? 'CANCELED' : 'BACKEND' });
        send(res, shutdown ? 503 : 500, errorFormat(shutdown ? 503 : 500, shutdown ? 'server shutting down' : `inference failed: ${r.message}`), labels, { immediate: shutdown });
        return;
      }
      // Finite inputs can still overflow inside the model; NaN or Infinity is not JSON, so never send it.
      if (!r.output.every(Number.isFinite)) {
        mFailure.inc({ ...labels, reason: 'OTHER' });
        send(res, 400, errorFormat(400, 'the inputs are out of the model\'s range: its outputs are not finite numbers'), labels, { delayMs });
        return;
      }
      const body = encode(r.output, parsed.rows);
      send(res, 200, body, labels, {
        delayMs,
        onSent: () => {
          const us = Math.round((performance.now() - t0) * 1000);
          mSuccess.inc(labels);
          mCount.inc(labels, parsed.rows);
          mReqDur.inc(labels, us);
          mQueueDur.inc(labels, r.queueUs);
          mComputeDur.inc(labels, r.computeUs);
          mInferDur.observe(labels, us / 1e6);
        },
      });
    };
    const accepted = batcher.submit({ version: ver, input: parsed.input, rows: parsed.rows, enqueuedAt: 0, done });
    if (!accepted) {
      mFailure.inc({ ...labels, reason: closing ? 'CANCELED' : 'REJECTED' });
      send(res, o.shedStatus, errorFormat(o.shedStatus, 'queue full'), labels, { headers: { 'retry-after': '1' } });
    }
  };

  // ---- request body ---------------------------------------------------------------------------------
  const readJson = (req: IncomingMessage, res: ServerResponse, labels: Labels, errorFormat: ErrorFormat, then: (body: unknown) => void): void => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > o.maxBodyBytes) {
      req.resume();
      send(res, 413, errorFormat(413, `request body larger than ${o.maxBodyBytes} bytes`), labels, { headers: { connection: 'close' } });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      if (tooBig) return;
      size += c.length;
      if (size > o.maxBodyBytes) {
        tooBig = true;
        chunks.length = 0;
        send(res, 413, errorFormat(413, `request body larger than ${o.maxBodyBytes} bytes`), labels, { headers: { connection: 'close' } });
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) return;
      const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      let body: unknown;
      try {
        body = JSON.parse(buf.toString('utf8'));
      } catch (e) {
        send(res, 400, errorFormat(400, `invalid JSON: ${(e as Error).message}`), labels);
        return;
      }
      then(body);
    });
  };

  /** Parses with a protocol codec; BadRequest → 400 (counted as failure reason OTHER). */
  const parseOr400 = <T>(res: ServerResponse, labels: Labels, errorFormat: ErrorFormat, parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (e) {
      if (!(e instanceof BadRequest)) throw e;
      mFailure.inc({ ...labels, reason: 'OTHER' });
      send(res, 400, errorFormat(400, e.message), labels);
      return undefined;
    }
  };

  const notFound = (res: ServerResponse, method: string, path: string): void =>
    send(res, 404, jsonError(404, `not found: ${method} ${path}`), NO_MODEL);
  const methodNotAllowed = (res: ServerResponse, allow: string): void =>
    send(res, 405, jsonError(405, `method not allowed (allowed: ${allow})`), NO_MODEL, { headers: { allow } });

  const unknownModel = (res: ServerResponse, proto: Protocol, name: string, v?: string): void => {
    const msg =
      proto === 'tfserving'
        ? `Servable not found for request: ${v === undefined ? `Latest(${name})` : `Specific(${name}, ${v})`}`
        : proto === 'torchserve'
          ? `Model not found: ${name}${v === undefined ? '' : ` version ${v}`}`
          : `Request for unknown model: '${name}'${v === undefined ? '' : ` version '${v}'`} is not found`;
    send(res, 404, (proto === 'torchserve' ? torchError : jsonError)(404, msg), NO_MODEL);
  };

  // Compared as hashes: equal lengths for timingSafeEqual, and no timing hint about the token.
  const sha = (t: string): Buffer => createHash('sha256').update(t).digest();
  const tokenHash = o.adminToken !== undefined ? sha(o.adminToken) : null;
  const adminAuthorized = (header: string | undefined): boolean => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return m !== null && tokenHash !== null && timingSafeEqual(sha(m[1]), tokenHash);
  };

  const admin = (req: IncomingMessage, res: ServerResponse, method: string, path: string): void => {
    const ok = (body: unknown): void => send(res, 200, JSON.stringify(body), NO_MODEL, { immediate: true });
    const bad = (msg: string): void => send(res, 400, jsonError(400, msg), NO_MODEL, { immediate: true });
    if (path === '/admin/faults') {
      if (method === 'GET') return ok(faults.get());
      if (method === 'DELETE') return ok(faults.reset());
      if (method !== 'POST') return methodNotAllowed(res, 'GET, POST, DELETE');
      return readJson(req, res, NO_MODEL, jsonError, (body) => {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('body must be a JSON object of fault knobs');
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
      if (method === 'GET') return ok({ model: o.modelName, version: served, versions: o.versions });
      if (method !== 'POST') return methodNotAllowed(res, 'GET, POST');
      return readJson(req, res, NO_MODEL, jsonError, (body) => {
        const v = (body as { version?: unknown } | null)?.version;
        const r = typeof v === 'string' ? resolveVersion(v) : null;
        if (!r) return bad(`unknown version ${JSON.stringify(v)} (known: ${o.versions.join(', ')})`);
        const previous = served;
        served = r;
        ok({ model: o.modelName, version: served, previous });
      });
    }
    notFound(res, method, path);
  };

  // ---- routing --------------------------------------------------------------------------------------
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const t0 = performance.now();
    inFlight++;
    res.once('close', () => inFlight--);
    req.on('error', () => {});
    // HEAD is answered like GET (node:http leaves the body out).
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi >= 0 ? url.slice(0, qi) : url;
    let seg: string[];
    try {
      seg = path.split('/').map(decodeURIComponent);
    } catch {
      send(res, 400, jsonError(400, 'malformed URL'), NO_MODEL);
      return;
    }
    // seg[0] is '' (path starts with '/').
    const s1 = seg[1];

    if (s1 === 'v2') {
      if (seg.length === 2) {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        return send(res, 200, JSON.stringify({ name: SERVER_NAME, version, extensions: [] }), NO_MODEL);
      }
      if (seg[2] === 'health' && seg.length === 4 && (seg[3] === 'live' || seg[3] === 'ready')) {
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        const ready = !closing;
        return send(res, ready ? 200 : 503, seg[3] === 'live' ? '{"live":true}' : `{"ready":${ready}}`, NO_MODEL);
      }
      if (seg[2] === 'models' && seg.length >= 4) {
        const name = seg[3];
        let rest = seg.slice(4);
        let vIn: string | undefined;
        if (rest[0] === 'versions') {
          if (rest.length < 2) return notFound(res, method, path);
          vIn = rest[1];
          rest = rest.slice(2);
        }
        if (rest.length > 1 || (rest.length === 1 && rest[0] !== 'ready' && rest[0] !== 'infer')) return notFound(res, method, path);
        if (name !== o.modelName) return unknownModel(res, 'kserve', name, vIn);
        const v = resolveVersion(vIn);
        if (!v) return unknownModel(res, 'kserve', name, vIn);
        const labels = { model: o.modelName, version: v };
        if (rest.length === 0) {
          if (method !== 'GET') return methodNotAllowed(res, 'GET');
          return send(res, 200, modelMetadata(vIn === undefined ? undefined : v), labels);
        }
        if (rest[0] === 'ready') {
          if (method !== 'GET') return methodNotAllowed(res, 'GET');
          return send(res, 200, JSON.stringify({ name: o.modelName, version: v, ready: true }), labels);
        }
        if (method !== 'POST') return methodNotAllowed(res, 'POST');
        return readJson(req, res, labels, jsonError, (body) => {
          const p = parseOr400(res, labels, jsonError, () => parseKServeInfer(body, o.modelName, inputName(v), OUTPUT_NAME));
          if (!p) return;
          const id = p.id ?? String(nextId++);
          infer(res, t0, v, p, (out, rows) => encodeKServeResponse(o.modelName, v, id, OUTPUT_NAME, out, rows), jsonError);
        });
      }
      return notFound(res, method, path);
    }

    if (s1 === 'v1') {
      // OpenAI simulator
      if (seg[2] === 'completions' && seg.length === 3) {
        if (method !== 'POST') return methodNotAllowed(res, 'POST');
        return readJson(req, res, NO_MODEL, jsonError, (body) => llm.handle(res, req, body, 'text'));
      }
      if (seg[2] === 'chat' && seg[3] === 'completions' && seg.length === 4) {
        if (method !== 'POST') return methodNotAllowed(res, 'POST');
        return readJson(req, res, NO_MODEL, jsonError, (body) => llm.handle(res, req, body, 'chat'));
      }
      if (seg[2] === 'models') {
        if (seg.length === 3) {
          if (method !== 'GET') return methodNotAllowed(res, 'GET');
          return send(res, 200, llm.listModels(), NO_MODEL);
        }
        // TF Serving: /v1/models/{name}[/versions/{v}][/metadata | :predict]
        const last = seg[seg.length - 1];
        const colon = last.indexOf(':');
        const verb = colon >= 0 ? last.slice(colon + 1) : undefined;
        const parts = seg.slice(3);
        if (colon >= 0) parts[parts.length - 1] = last.slice(0, colon);
        const name = parts[0];
        let vIn: string | undefined;
        let rest = parts.slice(1);
        if (rest[0] === 'versions' || rest[0] === 'labels') {
          if (rest.length < 2) return notFound(res, method, path);
          vIn = rest[1];
          rest = rest.slice(2);
        }
        if (verb === undefined && rest.length === 0 && vIn === undefined && name !== o.modelName) {
          // OpenAI: GET /v1/models/{id}
          const obj = llm.modelObject(name);
          if (obj) return method === 'GET' ? send(res, 200, obj, NO_MODEL) : methodNotAllowed(res, 'GET');
        }
        if (name !== o.modelName) return unknownModel(res, 'tfserving', name, vIn);
        const v = resolveVersion(vIn);
        if (!v) return unknownModel(res, 'tfserving', name, vIn);
        const labels = { model: o.modelName, version: v };
        if (verb !== undefined) {
          if (rest.length !== 0) return notFound(res, method, path);
          if (verb !== 'predict') return send(res, 400, jsonError(400, `${verb} is not supported by this model (only :predict)`), labels);
          if (method !== 'POST') return methodNotAllowed(res, 'POST');
          return readJson(req, res, labels, jsonError, (body) => {
            const p = parseOr400(res, labels, jsonError, () => parseTfPredict(body, inputName(v)));
            if (!p) return;
            infer(res, t0, v, p, (out, rows) => encodeTfResponse(p.format, out, rows), jsonError);
          });
        }
        if (method !== 'GET') return methodNotAllowed(res, 'GET');
        if (rest.length === 0) {
          const list = vIn === undefined ? o.versions : [v];
          return send(
            res,
            200,
            JSON.stringify({ model_version_status: list.map((x) => ({ version: versionNumber(x), state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } })) }),
            labels,
          );
        }
        if (rest.length === 1 && rest[0] === 'metadata') {
          const info = infoByVersion.get(v)!;
          const dims = (t: TensorSpec) => ({ dim: t.shape.map((d, i) => ({ size: String(i === 0 ? -1 : d), name: '' })), unknown_rank: false });
          const tensor = (t: TensorSpec, name: string) => ({ dtype: t.datatype === 'FP32' ? 'DT_FLOAT' : `DT_${t.datatype}`, tensor_shape: dims(t), name: `${name}:0` });
          return send(
            res,
            200,
            JSON.stringify({
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
            }),
            labels,
          );
        }
        return notFound(res, method, path);
      }
      return notFound(res, method, path);
    }

    if (s1 === 'ping' && seg.length === 2) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      return send(res, closing ? 503 : 200, closing ? '{"status":"Unhealthy"}' : '{"status":"Healthy"}', NO_MODEL);
    }

    if (s1 === 'predictions' && (seg.length === 3 || seg.length === 4)) {
      const name = seg[2];
      const vIn = seg[3];
      if (name !== o.modelName) return unknownModel(res, 'torchserve', name, vIn);
      const v = resolveVersion(vIn);
      if (!v) return unknownModel(res, 'torchserve', name, vIn);
      if (method !== 'POST' && method !== 'PUT') return methodNotAllowed(res, 'POST, PUT');
      const labels = { model: o.modelName, version: v };
      return readJson(req, res, labels, torchError, (body) => {
        const p = parseOr400(res, labels, torchError, () => parseTorchPredict(body));
        if (!p) return;
        infer(res, t0, v, p, (out, rows) => encodeTorchResponse(p.single, out, rows), torchError);
      });
    }

    if (s1 === 'metrics' && seg.length === 2) {
      if (method !== 'GET') return methodNotAllowed(res, 'GET');
      return send(res, 200, reg.render(), NO_MODEL, { contentType: EXPOSITION_CONTENT_TYPE });
    }

    if (s1 === 'admin') {
      if (!o.admin) return send(res, 404, jsonError(404, `not found: ${method} ${path} (admin endpoints are off: start the server with --admin)`), NO_MODEL, { immediate: true });
      if (tokenHash && !adminAuthorized(req.headers.authorization)) {
        return send(res, 401, jsonError(401, 'admin endpoints need "Authorization: Bearer <token>"'), NO_MODEL, { immediate: true, headers: { 'www-authenticate': 'Bearer' } });
      }
      return admin(req, res, method, path);
    }

    if (path === '/' && method === 'GET') {
      return send(
        res,
        200,
        JSON.stringify({
          name: SERVER_NAME,
          version,
          model: { name: o.modelName, versions: o.versions, served, fallback: modelModule.fallback },
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
            ...(o.admin ? ['GET|POST|DELETE /admin/faults', 'GET|POST /admin/version'] : []),
          ],
        }),
        NO_MODEL,
      );
    }
    notFound(res, method, path);
  };

  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      if (!res.headersSent && !res.destroyed) send(res, 500, jsonError(500, `internal error: ${(e as Error).message}`), NO_MODEL, { immediate: true });
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
    llm.close();
    await batcher.close();
    faults.close();
    const err = e as NodeJS.ErrnoException;
    throw new PreflightError(
      err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL' ? 'E_ARGS' : 'E_INTERNAL',
      err.code === 'EADDRINUSE' ? `port ${o.port} on ${o.host} is already in use (try --port 0 for any free port)` : `cannot listen on ${o.host}:${o.port}: ${err.message}`,
      { cause: e },
    );
  }
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const hostForUrl = o.host.includes(':') ? `[${o.host}]` : o.host === '0.0.0.0' ? '127.0.0.1' : o.host === '::' ? '[::1]' : o.host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    host: o.host,
    model: { module: modelModule.href, fallback: modelModule.fallback, infos },
    get version() {
      return served;
    },
    setFaults: (f) => faults.set(f),
    faults: () => faults.get(),
    setVersion(v: string) {
      const r = resolveVersion(v);
      if (!r) throw new PreflightError('E_ARGS', `unknown version "${v}" (known: ${o.versions.join(', ')})`);
      served = r;
    },
    metricsText: () => reg.render(),
    close() {
      closed ??= (async () => {
        closing = true;
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
