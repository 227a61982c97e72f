/**
 * What every route module of the reference server shares: options, responses, metrics, the served
 * version, and inference through the dynamic batcher (one path for the three tensor protocols).
 */
import type { ServerResponse } from 'node:http';
import type { ModelInfo } from '../model/types.js';
import type { Batcher, JobResult } from './batcher.js';
import { BadRequest } from './codecs.js';
import type { ParsedRows } from './codecs.js';
import type { FaultState } from './faults.js';
import { jsonError, NO_MODEL, torchError } from './http.js';
import type { ErrorFormat, Http, Labels } from './http.js';
import type { LlmSimulator } from './llm-sim.js';
import type { ResolvedServerOptions } from './options.js';
import type { ServerMetrics } from './server-metrics.js';
import type { ScalingState } from './autoscaler.js';

export const SERVER_NAME = 'preflight-reference-server';
/** Name of the output tensor on every protocol. */
export const OUTPUT_NAME = 'probabilities';

type Protocol = 'kserve' | 'tfserving' | 'torchserve';

export interface ServerContext {
  readonly o: ResolvedServerOptions;
  readonly http: Http;
  readonly metrics: ServerMetrics;
  readonly faults: FaultState;
  readonly llm: LlmSimulator;
  /** ml-preflight's version (GET /, GET /v2). */
  readonly packageVersion: string;
  readonly modelModule: { href: string; fallback: boolean };
  readonly infoByVersion: ReadonlyMap<string, ModelInfo>;
  /** Version served by unversioned requests now. */
  served(): string;
  setServed(v: string): void;
  closing(): boolean;
  /** Scaling mode's state (GET /admin/scaling). */
  scaling(): ScalingState;
  /** A next request id (KServe responses without an id). */
  nextId(): string;
  /** A requested version (`v2`, `2`, `2.0`; undefined = served) → a loaded version, or null. */
  resolveVersion(v: string | undefined): string | null;
  inputName(v: string): string;
  /** Runs parsed rows through the batcher and answers: encoded output, injected fault, model error, or shed. */
  infer(
    res: ServerResponse,
    t0: number,
    ver: string,
    parsed: ParsedRows,
    encode: (out: Float32Array, rows: number) => string,
    errorFormat: ErrorFormat,
  ): void;
  /** Parses with a protocol codec; BadRequest → 400 (counted as failure reason OTHER). */
  parseOr400<T>(res: ServerResponse, labels: Labels, errorFormat: ErrorFormat, parse: () => T): T | undefined;
  /** 404 for an unknown model or version, in the protocol's own words. */
  unknownModel(res: ServerResponse, proto: Protocol, name: string, v?: string): void;
}

export interface ContextDeps {
  o: ResolvedServerOptions;
  http: Http;
  metrics: ServerMetrics;
  faults: FaultState;
  llm: LlmSimulator;
  batcher: Batcher;
  packageVersion: string;
  modelModule: { href: string; fallback: boolean };
  infoByVersion: ReadonlyMap<string, ModelInfo>;
  closing(): boolean;
  scaling(): ScalingState;
}

export function createContext(d: ContextDeps): ServerContext {
  const { o, http, metrics: m, faults, batcher, infoByVersion } = d;
  const { send } = http;
  let served = o.version;
  let nextId = 1;

  const resolveVersion = (v: string | undefined): string | null => {
    if (v === undefined) return served;
    if (o.versions.includes(v)) return v;
    const r = /^(\d+)(?:\.0+)?$/.exec(v);
    if (r && o.versions.includes(`v${Number(r[1])}`)) return `v${Number(r[1])}`;
    return null;
  };

  const infer: ServerContext['infer'] = (res, t0, ver, parsed, encode, errorFormat) => {
    const labels = { model: o.modelName, version: ver };
    faults.onRequest();
    const delayMs = faults.extraLatencyMs();
    if (faults.injectError()) {
      m.mFailure.inc({ ...labels, reason: 'INJECTED' });
      send(res, 500, errorFormat(500, 'injected fault'), labels, { delayMs });
      return;
    }
    const done = (r: JobResult): void => {
      if (!r.ok) {
        const shutdown = d.closing();
        m.mFailure.inc({ ...labels, reason: shutdown ? 'CANCELED' : 'BACKEND' });
        send(
          res,
          shutdown ? 503 : 500,
          errorFormat(shutdown ? 503 : 500, shutdown ? 'server shutting down' : `inference failed: ${r.message}`),
          labels,
          { immediate: shutdown },
        );
        return;
      }
      // Finite inputs can still overflow inside the model; NaN or Infinity is not JSON, so never send it.
      if (!r.output.every(Number.isFinite)) {
        m.mFailure.inc({ ...labels, reason: 'OTHER' });
        send(
          res,
          400,
          errorFormat(400, "the inputs are out of the model's range: its outputs are not finite numbers"),
          labels,
          { delayMs },
        );
        return;
      }
      const body = encode(r.output, parsed.rows);
      send(res, 200, body, labels, {
        delayMs,
        onSent: () => {
          const us = Math.round((performance.now() - t0) * 1000);
          m.mSuccess.inc(labels);
          m.mCount.inc(labels, parsed.rows);
          m.mReqDur.inc(labels, us);
          m.mQueueDur.inc(labels, r.queueUs);
          m.mComputeDur.inc(labels, r.computeUs);
          m.mInferDur.observe(labels, us / 1e6);
        },
      });
    };
    const accepted = batcher.submit({ version: ver, input: parsed.input, rows: parsed.rows, enqueuedAt: 0, done });
    if (!accepted) {
      m.mFailure.inc({ ...labels, reason: d.closing() ? 'CANCELED' : 'REJECTED' });
      send(res, o.shedStatus, errorFormat(o.shedStatus, 'queue full'), labels, { headers: { 'retry-after': '1' } });
    }
  };

  return {
    o,
    http,
    metrics: m,
    faults,
    llm: d.llm,
    packageVersion: d.packageVersion,
    modelModule: d.modelModule,
    infoByVersion,
    served: () => served,
    setServed: (v) => {
      served = v;
    },
    closing: d.closing,
    scaling: d.scaling,
    nextId: () => String(nextId++),
    resolveVersion,
    inputName: (v) => infoByVersion.get(v)!.inputs[0].name,
    infer,
    parseOr400(res, labels, errorFormat, parse) {
      try {
        return parse();
      } catch (e) {
        if (!(e instanceof BadRequest)) throw e;
        m.mFailure.inc({ ...labels, reason: 'OTHER' });
        send(res, 400, errorFormat(400, e.message), labels);
        return undefined;
      }
    },
    unknownModel(res, proto, name, v) {
      const msg =
        proto === 'tfserving'
          ? `Servable not found for request: ${v === undefined ? `Latest(${name})` : `Specific(${name}, ${v})`}`
          : proto === 'torchserve'
            ? `Model not found: ${name}${v === undefined ? '' : ` version ${v}`}`
            : `Request for unknown model: '${name}'${v === undefined ? '' : ` version '${v}'`} is not found`;
      send(res, 404, (proto === 'torchserve' ? torchError : jsonError)(404, msg), NO_MODEL);
    },
  };
}
