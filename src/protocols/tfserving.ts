/**
 * Protocol `tfserving` (TensorFlow Serving REST).
 *
 * prepare(): GET /v1/models/{m}[/versions/{v}] must list a version in state AVAILABLE (else
 * E_TARGET_NOT_READY, whose hint names `tfserving.checkStatus: false`, which skips this check for
 * servers that only serve :predict); then GET …/metadata, and when it describes the signature
 * (`signatureName`, default serving_default), the data's inputs are checked against it
 * (E_MODEL_MISMATCH); a server without the metadata endpoint skips that check.
 *
 * Request: POST /v1/models/{m}[/versions/{v}]:predict with
 *   row form (default)  {"signature_name"?, "instances": [row, …]}     (multi-input: [{name: row, …}, …])
 *   columnar form       {"signature_name"?, "inputs": [row, …]}        (multi-input: {name: [row, …], …})
 * rows nested to the input's row shape. Responses `{predictions}` / `{outputs}` are parsed
 * tolerantly (bare NaN / Infinity / -Infinity accepted).
 */
import type { Adapter, AdapterContext } from '../core/types.js';
import { PreflightError } from '../core/errors.js';
import { rowJson } from '../data/encode.js';
import type { TensorSpecLike } from '../data/synthetic.js';
import type { TensorInput } from '../data/tensors.js';
import type { AdapterOptions, DataWireRequest } from './common.js';
import { bodySnippet, isObject, joinPath, prepFetch, seg } from './common.js';
import { createQuality } from './quality-hook.js';
import type { Decoded } from './quality-hook.js';
import { fixedRequest, ModelInputs, tensorAdapter, tensorBase } from './tensor-common.js';
import { stamp } from './tensor-source.js';

const DTYPES: Record<string, string> = {
  DT_FLOAT: 'FP32',
  DT_DOUBLE: 'FP64',
  DT_HALF: 'FP16',
  DT_BFLOAT16: 'FP16',
  DT_INT8: 'INT8',
  DT_INT16: 'INT16',
  DT_INT32: 'INT32',
  DT_INT64: 'INT64',
  DT_UINT8: 'UINT8',
  DT_UINT16: 'UINT16',
  DT_UINT32: 'UINT32',
  DT_UINT64: 'UINT64',
  DT_BOOL: 'BOOL',
  DT_STRING: 'BYTES',
};

/** Signature inputs from TF Serving metadata as tensor specs; null when absent or of unknown rank. */
export function tfSignatureInputs(json: unknown, signature: string): TensorSpecLike[] | null {
  const sd = (
    json as { metadata?: { signature_def?: { signature_def?: Record<string, { inputs?: Record<string, unknown> }> } } }
  )?.metadata?.signature_def?.signature_def;
  const sig = sd?.[signature];
  if (!sig || !isObject(sig.inputs)) return null;
  const out: TensorSpecLike[] = [];
  for (const [name, v] of Object.entries(sig.inputs)) {
    const t = v as {
      dtype?: string;
      tensor_shape?: { dim?: Array<{ size?: string | number }>; unknown_rank?: boolean };
    };
    if (!t.tensor_shape || t.tensor_shape.unknown_rank) return null;
    const dims = (t.tensor_shape.dim ?? []).map((d) => Number(d.size ?? -1));
    out.push({ name, datatype: DTYPES[t.dtype ?? ''] ?? String(t.dtype ?? 'UNKNOWN'), shape: dims });
  }
  return out;
}

function pickOutput(v: unknown, output: string | undefined): unknown {
  if (!isObject(v)) return v;
  if (output !== undefined) return v[output];
  const keys = Object.keys(v);
  return keys.length > 0 ? v[keys[0]] : undefined;
}

/** Per-row outputs from `predictions` (row form) or `outputs` (columnar form). */
export function decodeTfOutputs(json: unknown, _rows: number, output: string | undefined): Decoded {
  if (!isObject(json)) return { kind: 'malformed' };
  if (json.predictions !== undefined) {
    if (!Array.isArray(json.predictions)) return { kind: 'malformed' };
    if (json.predictions.length === 0) return { kind: 'empty' };
    return { kind: 'rows', rows: (json.predictions as unknown[]).map((r) => pickOutput(r, output)) };
  }
  if (json.outputs !== undefined) {
    const o = Array.isArray(json.outputs) ? json.outputs : pickOutput(json.outputs, output);
    if (!Array.isArray(o)) return o === undefined ? { kind: 'empty' } : { kind: 'malformed' };
    if (o.length === 0) return { kind: 'empty' };
    return { kind: 'rows', rows: o };
  }
  return { kind: 'malformed' };
}

export async function createTfservingAdapter(o: AdapterOptions): Promise<Adapter> {
  const { scenario } = o;
  const { model, checks, ds } = await tensorBase(o);
  const format = scenario.tfserving?.format ?? 'row';
  const signature = scenario.tfserving?.signatureName;
  const mpath = `/v1/models/${seg(model)}${scenario.modelVersion ? `/versions/${seg(scenario.modelVersion)}` : ''}`;
  const predictPath = joinPath(o.basePath, `${mpath}:predict`);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...o.headers };
  const group = o.group;
  const sigPart = signature ? `"signature_name":${JSON.stringify(signature)},` : '';

  const build = (batch: number, rows: Int32Array): DataWireRequest => {
    const s = inputs.src!;
    const dimsOf = (t: TensorInput) => inputs.rowDims(t);
    let body: string;
    if (s.inputs.length === 1) {
      const t = s.inputs[0];
      const d = dimsOf(t);
      const rs = Array.from(rows, (r) => rowJson(t, r, d)).join(',');
      body = `{${sigPart}"${format === 'row' ? 'instances' : 'inputs'}":[${rs}]}`;
    } else if (format === 'row') {
      const inst = Array.from(
        rows,
        (r) => `{${s.inputs.map((t) => `${JSON.stringify(t.name)}:${rowJson(t, r, dimsOf(t))}`).join(',')}}`,
      );
      body = `{${sigPart}"instances":[${inst.join(',')}]}`;
    } else {
      const cols = s.inputs.map(
        (t) => `${JSON.stringify(t.name)}:[${Array.from(rows, (r) => rowJson(t, r, dimsOf(t))).join(',')}]`,
      );
      body = `{${sigPart}"inputs":{${cols.join(',')}}}`;
    }
    return stamp({ method: 'POST', path: predictPath, headers, body: Buffer.from(body) }, batch, rows, group);
  };
  const inputs = new ModelInputs(o, ds, build);
  const staticBody = !ds && !scenario.synthetic ? scenario.request?.body : undefined;
  const quality = createQuality(o, ds, inputs.src?.table, decodeTfOutputs);

  // TF Serving's model status endpoint; other servers of the :predict API (e.g. a scikit-learn
  // service) may not have it, hence the way out in the hint
  const statusNotReady = (message: string) =>
    new PreflightError('E_TARGET_NOT_READY', message, {
      problems: [
        {
          message: 'protocol tfserving checks the model status before load',
          path: `scenarios.${scenario.name}.tfserving.checkStatus`,
          hint: `if the server has no GET /v1/models/${model} (it only serves :predict), skip this check: tfserving: { checkStatus: false }`,
        },
      ],
    });

  return tensorAdapter({
    protocol: 'tfserving',
    checks,
    quality,
    invalid: (json) =>
      !isObject(json) || json.error !== undefined || (json.predictions === undefined && json.outputs === undefined),
    ...(staticBody !== undefined ? { fixed: fixedRequest(predictPath, headers, staticBody, group) } : {}),
    bank: () => inputs.bank,
    async prepare(ctx: AdapterContext) {
      if (scenario.tfserving?.checkStatus !== false) {
        const st = await prepFetch(ctx, o.basePath, o.headers, mpath);
        if (st.status < 200 || st.status >= 300)
          throw statusNotReady(`model "${model}" status: GET ${st.url} → ${st.status} ${bodySnippet(st.body)}`);
        const versions = (st.json as { model_version_status?: Array<{ version?: string; state?: string }> } | undefined)
          ?.model_version_status;
        if (!Array.isArray(versions) || !versions.some((v) => v.state === 'AVAILABLE')) {
          throw statusNotReady(
            `model "${model}" is not AVAILABLE: ${Array.isArray(versions) ? versions.map((v) => `version ${v.version}: ${v.state}`).join(', ') || 'no versions' : bodySnippet(st.body)} (GET ${st.url})`,
          );
        }
      }
      const md = await prepFetch(ctx, o.basePath, o.headers, `${mpath}/metadata`);
      const specs =
        md.status >= 200 && md.status < 300 ? tfSignatureInputs(md.json, signature ?? 'serving_default') : null;
      if (!inputs.src && scenario.synthetic && !specs) {
        throw new PreflightError(
          'E_MODEL_MISMATCH',
          `synthetic inputs need the model's signature "${signature ?? 'serving_default'}" from GET ${md.url} (→ ${md.status})`,
        );
      }
      inputs.fit(specs, model);
    },
  });
}
