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
import type { Adapter, AdapterContext, ErrorClass, Recorder, WireRequest } from '../core/types.js';
import { PlanError, PreflightError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
import { flatRowsJson } from '../data/encode.js';
import { flattenNumbers } from '../data/json.js';
import { product, isIntegerType } from '../data/tensors.js';
import type { TensorInput } from '../data/tensors.js';
import type { TensorSpecLike } from '../data/synthetic.js';
import { compileChecks } from './checks.js';
import type { AdapterOptions, DataWireRequest } from './common.js';
import { bodySnippet, isObject, joinPath, notReady, prepFetch, scenarioDataset, seg, tryParseJson } from './common.js';
import { createQuality } from './quality-hook.js';
import type { Decoded } from './quality-hook.js';
import { dataSource, RequestBank, stamp, syntheticSource } from './tensor-source.js';
import type { TensorSource } from './tensor-source.js';

export interface KserveMetadata {
  name?: string;
  platform?: string;
  inputs: TensorSpecLike[];
  outputs?: TensorSpecLike[];
}

/** Per-input request shape decided against metadata: batched ([b, …rowDims]) or fixed. */
interface InputPlan {
  rowDims: number[];
  /** The model has no batch dimension: send `rowDims` as the full shape (batch must be 1). */
  unbatched: boolean;
}

export function modelPath(model: string, version: string | undefined): string {
  return `/v2/models/${seg(model)}${version ? `/versions/${seg(version)}` : ''}`;
}

/** Decodes `outputs` of an infer response into per-row vectors of the named (or first) output. */
export function decodeKserveOutputs(json: unknown, rows: number, output: string | undefined): Decoded {
  if (!isObject(json) || !Array.isArray(json.outputs)) return { kind: 'malformed' };
  const outs = json.outputs as unknown[];
  if (outs.length === 0) return { kind: 'empty' };
  const o = (output ? outs.find((x) => isObject(x) && x.name === output) : outs[0]) as Record<string, unknown> | undefined;
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
  if (shape && shape.length > 0 && shape[0] !== rows && rows === 1) n = 1; // unbatched model: whole tensor is the row
  else if (shape && shape.length > 0 && shape[0] < rows) n = Math.max(0, shape[0]); // fewer rows than sent: truncated
  if (n === 0) return { kind: 'rows', rows: [] };
  if (flat.length % n !== 0) return { kind: 'malformed' };
  const w = flat.length / n;
  const out: number[][] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = flat.slice(i * w, (i + 1) * w);
  return { kind: 'rows', rows: out };
}

/**
 * Checks the data's inputs against model metadata and decides request shapes. Adopts the model's
 * input name when the plan did not name inputs and the model has one input, and the model's
 * datatype when the plan did not set one. Throws E_MODEL_MISMATCH listing every problem.
 */
export function matchInputs(src: TensorSource, meta: KserveMetadata, model: string, where: string, declaredTypes: Set<string>): Map<string, InputPlan> {
  const problems: Problem[] = [];
  const plans = new Map<string, InputPlan>();
  const mins = meta.inputs ?? [];
  if (!src.explicitInputs && src.inputs.length === 1 && mins.length === 1) src.inputs[0].name = mins[0].name;
  const byName = new Map(mins.map((m) => [m.name, m] as const));
  for (const t of src.inputs) {
    const m = byName.get(t.name);
    if (!m) {
      problems.push({
        message: `model "${model}" has no input "${t.name}"; its inputs: ${mins.map((x) => `${x.name} ${x.datatype} [${x.shape.join(', ')}]`).join('; ') || '(none)'}`,
        hint: src.explicitInputs ? 'rename the input in data.inputs' : 'map columns to the model inputs with data.inputs',
      });
      continue;
    }
    const mdt = String(m.datatype).toUpperCase();
    if (t.datatype !== mdt) {
      const numericBoth = t.datatype !== 'BYTES' && mdt !== 'BYTES';
      if (!declaredTypes.has(t.name) && numericBoth && !(isIntegerType(mdt) && hasFraction(t))) t.datatype = mdt;
      else problems.push({ message: `model "${model}" input "${t.name}" is ${mdt}; the data gives ${t.datatype}${isIntegerType(mdt) && hasFraction(t) ? ' (values with fractions)' : ''} (${where})` });
    }
    const dims = (m.shape ?? []).map(Number);
    const batched = dims.length > 0 && dims[0] === -1;
    const rowDims = batched ? dims.slice(1) : dims;
    const wild = rowDims.filter((d) => d < 0).length;
    const known = product(rowDims.filter((d) => d >= 0));
    let resolved: number[] | null = null;
    if (wild === 0 && known === t.width) resolved = rowDims;
    else if (wild === 1 && known > 0 && t.width % known === 0) resolved = rowDims.map((d) => (d < 0 ? t.width / known : d));
    else if (wild > 1) resolved = t.rowShape; // cannot decide: keep the data's own row shape
    if (!batched && resolved === null && dims.length > 1 && dims[0] > 0) {
      // fixed batch dimension, e.g. [1, 64]
      const rd = dims.slice(1);
      if (product(rd) === t.width && !rd.some((d) => d < 0)) {
        if (src.batch.min !== dims[0] || src.batch.max !== dims[0]) problems.push({ message: `model "${model}" input "${t.name}" has a fixed batch of ${dims[0]} ([${dims.join(', ')}]); the plan sends ${src.batch.min === src.batch.max ? src.batch.min : `${src.batch.min}–${src.batch.max}`} rows per request` });
        plans.set(t.name, { rowDims: rd, unbatched: false });
        continue;
      }
    }
    if (resolved === null) {
      problems.push({
        message: `model "${model}" input "${t.name}" expects ${mdt} [${dims.join(', ')}] (${batched ? `${known}${wild ? '×?' : ''} values per row` : `${known} values`}); the data gives ${t.width} values per row${t.columns.length > 0 ? ` (${describeCols(t.columns)})` : ''} (${where})`,
      });
      continue;
    }
    if (!batched && src.batch.max > 1) {
      problems.push({ message: `model "${model}" input "${t.name}" has no batch dimension ([${dims.join(', ')}]); the plan sends up to ${src.batch.max} rows per request`, hint: 'use batch 1' });
      continue;
    }
    plans.set(t.name, { rowDims: resolved, unbatched: !batched });
  }
  const given = new Set(src.inputs.map((t) => t.name));
  for (const m of mins) {
    if (!given.has(m.name) && problems.every((p) => !p.message.includes(`input "${m.name}"`))) {
      problems.push({ message: `model "${model}" input "${m.name}" (${m.datatype} [${m.shape.join(', ')}]) gets no data`, hint: 'map columns to it in data.inputs' });
    }
  }
  if (problems.length > 0) {
    throw new PreflightError('E_MODEL_MISMATCH', `the data does not fit model "${model}": ${problems[0].message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, { problems });
  }
  return plans;
}

function hasFraction(t: TensorInput): boolean {
  if (t.datatype === 'BYTES') return false;
  const d = t.data as Float64Array;
  for (let i = 0; i < d.length; i++) if (!Number.isInteger(d[i])) return true;
  return false;
}

function describeCols(cols: string[]): string {
  return cols.length > 4 ? `columns ${cols[0]}, ${cols[1]}, …, ${cols[cols.length - 1]}` : `columns ${cols.join(', ')}`;
}

/** Parses model metadata; null when it is not the expected shape. */
export function parseMetadata(json: unknown): KserveMetadata | null {
  if (!isObject(json) || !Array.isArray(json.inputs)) return null;
  const specs = (arr: unknown[]): TensorSpecLike[] | null => {
    const out: TensorSpecLike[] = [];
    for (const x of arr) {
      if (!isObject(x) || typeof x.name !== 'string' || typeof x.datatype !== 'string' || !Array.isArray(x.shape)) return null;
      out.push({ name: x.name, datatype: x.datatype.toUpperCase(), shape: (x.shape as unknown[]).map(Number) });
    }
    return out;
  };
  const inputs = specs(json.inputs);
  if (!inputs) return null;
  const outputs = Array.isArray(json.outputs) ? specs(json.outputs) ?? undefined : undefined;
  return { name: typeof json.name === 'string' ? json.name : undefined, platform: typeof json.platform === 'string' ? json.platform : undefined, inputs, ...(outputs ? { outputs } : {}) };
}

export async function createKserveV2Adapter(o: AdapterOptions): Promise<Adapter> {
  const { scenario } = o;
  const model = scenario.model;
  if (!model) throw new PlanError([{ path: `scenarios.${scenario.name}.model`, message: 'protocol kserve-v2 needs `model`' }]);
  const mpath = modelPath(model, scenario.modelVersion);
  const inferPath = joinPath(o.basePath, `${mpath}/infer`);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...o.headers };
  const checks = compileChecks(scenario.checks, scenario.name);
  const ds = await scenarioDataset(o);
  let src: TensorSource | undefined = ds ? dataSource(o, ds) : undefined;
  const staticBody = !ds && !scenario.synthetic ? scenario.request?.body : undefined;
  if (!ds && !scenario.synthetic && staticBody === undefined) {
    throw new PlanError([{ path: `scenarios.${scenario.name}`, message: 'protocol kserve-v2 needs `data`, `synthetic` or a `request.body`' }]);
  }
  const declaredTypes = new Set((scenario.data?.inputs ?? []).filter((i) => i.datatype).map((i) => i.name));
  let shapes = new Map<string, { rowDims: number[]; unbatched: boolean }>();
  const quality = createQuality(o, ds, src?.table, decodeKserveOutputs);
  const needBody = checks.readsBody || quality.active;
  const group = o.group;
  let metadata: KserveMetadata | undefined;

  const build = (batch: number, rows: Int32Array): DataWireRequest => {
    const s = src!;
    let body = '{"inputs":[';
    s.inputs.forEach((t, i) => {
      const p = shapes.get(t.name);
      const rowDims = p?.rowDims ?? t.rowShape;
      const shape = p?.unbatched ? rowDims : [rows.length, ...rowDims];
      body += `${i > 0 ? ',' : ''}{"name":${JSON.stringify(t.name)},"shape":[${shape.join(',')}],"datatype":"${t.datatype}","data":${flatRowsJson(t, rows)}}`;
    });
    body += ']}';
    return stamp({ method: 'POST', path: inferPath, headers, body: Buffer.from(body) }, batch, rows, group);
  };

  let bank: RequestBank | undefined;
  let fixed: WireRequest | undefined;
  if (staticBody !== undefined) {
    fixed = { method: 'POST', path: inferPath, headers, body: Buffer.from(staticBody) };
    if (group !== undefined) fixed.group = group;
  } else if (src) {
    bank = new RequestBank(src.table, build);
  }

  const judge = (req: WireRequest, status: number, body: Buffer | null, rec: Recorder): ErrorClass | null => {
    const s = checks.statusVerdict(status);
    if (s !== null || !needBody) return s;
    if (status < 200 || status >= 300) return null; // accepted non-2xx (status check): nothing to decode
    const json = tryParseJson(body);
    if (!isObject(json) || json.error !== undefined || !Array.isArray(json.outputs)) return 'invalid_response';
    if (checks.readsBody && checks.evaluateBody(json, () => (body ? body.toString('utf8') : '')) !== null) return 'check_failed';
    if (quality.active) quality.score(req as DataWireRequest, json, rec);
    return null;
  };

  const adapter: Adapter & { report(): Record<string, unknown>; metadata(): KserveMetadata | undefined } = {
    protocol: 'kserve-v2',
    bodyMode: needBody ? 'full' : 'none',
    async prepare(ctx: AdapterContext) {
      const ready = await prepFetch(ctx, o.basePath, o.headers, '/v2/health/ready');
      if (ready.status < 200 || ready.status >= 300) throw notReady(`server not ready: GET ${ready.url} → ${ready.status}${ready.body.length ? ` ${bodySnippet(ready.body)}` : ''}`);
      const mready = await prepFetch(ctx, o.basePath, o.headers, `${mpath}/ready`);
      if (mready.status < 200 || mready.status >= 300) {
        throw notReady(`model "${model}"${scenario.modelVersion ? ` version ${scenario.modelVersion}` : ''} not ready: GET ${mready.url} → ${mready.status}${mready.body.length ? ` ${bodySnippet(mready.body)}` : ''}`);
      }
      const meta = await prepFetch(ctx, o.basePath, o.headers, mpath);
      if (meta.status < 200 || meta.status >= 300) throw notReady(`model "${model}" metadata: GET ${meta.url} → ${meta.status} ${bodySnippet(meta.body)}`);
      const md = parseMetadata(meta.json);
      if (!md) throw new PreflightError('E_MODEL_MISMATCH', `model "${model}" metadata at ${meta.url} is not Open Inference Protocol metadata ({name, inputs:[{name, datatype, shape}], …}): ${bodySnippet(meta.body)}`);
      metadata = md;
      if (!src && scenario.synthetic) {
        src = syntheticSource(o, md.inputs);
        bank = new RequestBank(src.table, build);
      }
      if (src) {
        shapes = matchInputs(src, md, model, src.kind === 'data' ? ds!.file : 'synthetic', declaredTypes);
        bank!.encode();
      }
    },
    request(seq: number): WireRequest {
      if (fixed) return fixed;
      if (!bank) throw new PreflightError('E_INTERNAL', 'kserve-v2: synthetic inputs need prepare() (model metadata) before requests');
      return bank.request(seq);
    },
    judge,
    finish: () => quality.finish(),
    report: () => ({ ...quality.report(), pre_encoded_bytes: bank?.encodedBytes ?? 0 }),
    metadata: () => metadata,
  };
  return adapter;
}
