/**
 * Protocol `kserve-v2` (Open Inference Protocol, REST).
 *
 * prepare(): GET /v2/health/ready (2xx), GET /v2/models/{m}[/versions/{v}]/ready (2xx), then the
 * model metadata; the data's inputs are checked against the model's (names, datatype, values per
 * row, batch dimension) — any mismatch → PreflightError E_MODEL_MISMATCH listing every problem,
 * before any load. Network failure → TargetUnreachableError; a non-2xx readiness → E_TARGET_NOT_READY.
 * Then request bodies are pre-encoded per batch (under 50 MB in all; else encoded per request).
 *
 * Request: POST /v2/models/{m}[/versions/{v}]/infer with
 *   {"inputs":[{"name","shape":[batch, …row dims],"datatype","data":[flat row-major]}]}
 * Judge: status (2xx ok / http_4xx / http_5xx); with checks or quality the body is read: not JSON,
 * an `error` field, or no `outputs` array under a 2xx → invalid_response; checks → check_failed;
 * then quality scoring (argmax of the named output, or the first).
 */
import type { Adapter, AdapterContext } from '../core/types.js';
import { PreflightError } from '../core/errors.js';
import { flatRowsJson } from '../data/encode.js';
import { flattenNumbers } from '../data/json.js';
import type { TensorSpecLike } from '../data/synthetic.js';
import type { AdapterOptions, DataWireRequest } from './common.js';
import { bodySnippet, isObject, joinPath, notReady, prepFetch, seg } from './common.js';
import { createQuality } from './quality-hook.js';
import type { Decoded } from './quality-hook.js';
import { fixedRequest, ModelInputs, tensorAdapter, tensorBase } from './tensor-common.js';
import { stamp } from './tensor-source.js';

export interface KserveMetadata {
  name?: string;
  platform?: string;
  inputs: TensorSpecLike[];
  outputs?: TensorSpecLike[];
}

export function modelPath(model: string, version: string | undefined): string {
  return `/v2/models/${seg(model)}${version ? `/versions/${seg(version)}` : ''}`;
}

/** Decodes `outputs` of an infer response into per-row vectors of the named (or first) output. */
export function decodeKserveOutputs(json: unknown, rows: number, output: string | undefined): Decoded {
  if (!isObject(json) || !Array.isArray(json.outputs)) return { kind: 'malformed' };
  const outs = json.outputs as unknown[];
  if (outs.length === 0) return { kind: 'empty' };
  const o = (output ? outs.find((x) => isObject(x) && x.name === output) : outs[0]) as
    | Record<string, unknown>
    | undefined;
  if (!o || !isObject(o)) return { kind: 'malformed' };
  const flat: number[] = [];
  if (o.data === undefined || o.data === null) return { kind: 'empty' };
  if (!flattenNumbers(o.data, flat)) {
    // BYTES outputs (labels): one string per row
    if (Array.isArray(o.data)) return { kind: 'rows', rows: (o.data as unknown[]).flat(8) };
    return { kind: 'malformed' };
  }
  if (flat.length === 0) return { kind: 'empty' };
  const shape = Array.isArray(o.shape) ? (o.shape as number[]) : undefined;
  let n = rows;
  if (shape && shape.length > 0 && shape[0] !== rows && rows === 1)
    n = 1; // unbatched model: whole tensor is the row
  else if (shape && shape.length > 0 && shape[0] < rows) n = Math.max(0, shape[0]); // fewer rows than sent: truncated
  if (n === 0) return { kind: 'rows', rows: [] };
  if (flat.length % n !== 0) return { kind: 'malformed' };
  const w = flat.length / n;
  const out: number[][] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = flat.slice(i * w, (i + 1) * w);
  return { kind: 'rows', rows: out };
}

/** Parses model metadata; null when it is not the expected shape. */
export function parseMetadata(json: unknown): KserveMetadata | null {
  if (!isObject(json) || !Array.isArray(json.inputs)) return null;
  const specs = (arr: unknown[]): TensorSpecLike[] | null => {
    const out: TensorSpecLike[] = [];
    for (const x of arr) {
      if (!isObject(x) || typeof x.name !== 'string' || typeof x.datatype !== 'string' || !Array.isArray(x.shape))
        return null;
      out.push({ name: x.name, datatype: x.datatype.toUpperCase(), shape: (x.shape as unknown[]).map(Number) });
    }
    return out;
  };
  const inputs = specs(json.inputs);
  if (!inputs) return null;
  const outputs = Array.isArray(json.outputs) ? (specs(json.outputs) ?? undefined) : undefined;
  return {
    name: typeof json.name === 'string' ? json.name : undefined,
    platform: typeof json.platform === 'string' ? json.platform : undefined,
    inputs,
    ...(outputs ? { outputs } : {}),
  };
}

export async function createKserveV2Adapter(o: AdapterOptions): Promise<Adapter> {
  const { scenario } = o;
  const { model, checks, ds } = await tensorBase(o);
  const mpath = modelPath(model, scenario.modelVersion);
  const inferPath = joinPath(o.basePath, `${mpath}/infer`);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...o.headers };
  const group = o.group;
  const build = (batch: number, rows: Int32Array): DataWireRequest => {
    let body = '{"inputs":[';
    inputs.src!.inputs.forEach((t, i) => {
      const rowDims = inputs.rowDims(t);
      const shape = inputs.shapes.get(t.name)?.unbatched ? rowDims : [rows.length, ...rowDims];
      body += `${i > 0 ? ',' : ''}{"name":${JSON.stringify(t.name)},"shape":[${shape.join(',')}],"datatype":"${t.datatype}","data":${flatRowsJson(t, rows)}}`;
    });
    body += ']}';
    return stamp({ method: 'POST', path: inferPath, headers, body: Buffer.from(body) }, batch, rows, group);
  };
  const inputs = new ModelInputs(o, ds, build);
  const staticBody = !ds && !scenario.synthetic ? scenario.request?.body : undefined;
  const quality = createQuality(o, ds, inputs.src?.table, decodeKserveOutputs);
  let metadata: KserveMetadata | undefined;

  const adapter = tensorAdapter({
    protocol: 'kserve-v2',
    checks,
    quality,
    invalid: (json) => !isObject(json) || json.error !== undefined || !Array.isArray(json.outputs),
    ...(staticBody !== undefined ? { fixed: fixedRequest(inferPath, headers, staticBody, group) } : {}),
    bank: () => inputs.bank,
    async prepare(ctx: AdapterContext) {
      const ready = await prepFetch(ctx, o.basePath, o.headers, '/v2/health/ready');
      if (ready.status < 200 || ready.status >= 300)
        throw notReady(
          `server not ready: GET ${ready.url} → ${ready.status}${ready.body.length ? ` ${bodySnippet(ready.body)}` : ''}`,
        );
      const mready = await prepFetch(ctx, o.basePath, o.headers, `${mpath}/ready`);
      if (mready.status < 200 || mready.status >= 300) {
        throw notReady(
          `model "${model}"${scenario.modelVersion ? ` version ${scenario.modelVersion}` : ''} not ready: GET ${mready.url} → ${mready.status}${mready.body.length ? ` ${bodySnippet(mready.body)}` : ''}`,
        );
      }
      const meta = await prepFetch(ctx, o.basePath, o.headers, mpath);
      if (meta.status < 200 || meta.status >= 300)
        throw notReady(`model "${model}" metadata: GET ${meta.url} → ${meta.status} ${bodySnippet(meta.body)}`);
      const md = parseMetadata(meta.json);
      if (!md)
        throw new PreflightError(
          'E_MODEL_MISMATCH',
          `model "${model}" metadata at ${meta.url} is not Open Inference Protocol metadata ({name, inputs:[{name, datatype, shape}], …}): ${bodySnippet(meta.body)}`,
        );
      metadata = md;
      inputs.fit(md.inputs, model);
    },
  });
  return Object.assign(adapter, { metadata: (): KserveMetadata | undefined => metadata });
}
