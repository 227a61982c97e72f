/**
 * What the tensor protocols (kserve-v2, tfserving, torchserve) share: their set-up (checks, data,
 * a fixed body), the inputs fitted to model metadata at prepare() (kserve-v2, tfserving), and the
 * adapter they end with — its judge (status, the protocol's test of a 2xx body, body checks,
 * quality scoring), requests from the fixed body or the bank, finish and report. Each protocol
 * keeps its URL, body encoding, readiness checks and output decoding.
 */
import type { Adapter, AdapterContext, ErrorClass, Recorder, WireRequest } from '../core/types.js';
import { PreflightError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { TensorSpecLike } from '../data/synthetic.js';
import { isIntegerType, product } from '../data/tensors.js';
import type { TensorInput } from '../data/tensors.js';
import { compileChecks } from './checks.js';
import type { CompiledChecks } from './checks.js';
import type { AdapterOptions, DataWireRequest } from './common.js';
import { scenarioDataset, tryParseJson } from './common.js';
import type { QualityHook } from './quality-hook.js';
import { dataSource, RequestBank, syntheticSource } from './tensor-source.js';
import type { TensorSource } from './tensor-source.js';

/** Per-input request shape decided against metadata: batched ([b, …rowDims]) or fixed. */
export interface InputPlan {
  rowDims: number[];
  /** The model has no batch dimension: send `rowDims` as the full shape (batch must be 1). */
  unbatched: boolean;
}

export interface TensorBase {
  /** The model name: createAdapter has checked the protocol rules (plan/protocol-rules.ts). */
  model: string;
  checks: CompiledChecks;
  /** The scenario's dataset, loaded (undefined without `data`). */
  ds: Dataset | undefined;
}

/** The set-up every tensor adapter starts with (checks compiled before the data is read). */
export async function tensorBase(o: AdapterOptions): Promise<TensorBase> {
  const checks = compileChecks(o.scenario.checks, o.scenario.name);
  return { model: o.scenario.model!, checks, ds: await scenarioDataset(o) };
}

/** The one request of a scenario without inputs: `request.body` as is. */
export function fixedRequest(
  path: string,
  headers: Record<string, string>,
  body: string,
  group: string | undefined,
): WireRequest {
  const fixed: WireRequest = { method: 'POST', path, headers, body: Buffer.from(body) };
  if (group !== undefined) fixed.group = group;
  return fixed;
}

/**
 * The inputs of kserve-v2 and tfserving: from `data` at once, or `synthetic` once the model's input
 * specs are known; request shapes fitted to those specs at prepare().
 */
export class ModelInputs {
  src: TensorSource | undefined;
  bank: RequestBank | undefined;
  shapes = new Map<string, InputPlan>();
  private readonly declaredTypes: Set<string>;

  constructor(
    private readonly o: AdapterOptions,
    private readonly ds: Dataset | undefined,
    private readonly build: (batch: number, rows: Int32Array) => DataWireRequest,
  ) {
    this.src = ds ? dataSource(o, ds) : undefined;
    if (this.src) this.bank = new RequestBank(this.src.table, build);
    this.declaredTypes = new Set((o.scenario.data?.inputs ?? []).filter((i) => i.datatype).map((i) => i.name));
  }

  /** Row dims of an input: fitted to the model, else the data's own row shape. */
  rowDims(t: TensorInput): number[] {
    return this.shapes.get(t.name)?.rowDims ?? t.rowShape;
  }

  /**
   * At prepare(), with the model's input specs (null: the server does not describe them): synthetic
   * inputs are shaped from them, data inputs checked against them (E_MODEL_MISMATCH), bodies encoded.
   */
  fit(specs: TensorSpecLike[] | null, model: string): void {
    if (!this.src && this.o.scenario.synthetic && specs) {
      this.src = syntheticSource(this.o, specs);
      this.bank = new RequestBank(this.src.table, this.build);
    }
    const src = this.src;
    if (src && specs)
      this.shapes = matchInputs(
        src,
        { inputs: specs },
        model,
        src.kind === 'data' ? this.ds!.file : 'synthetic',
        this.declaredTypes,
      );
    this.bank?.encode();
  }
}

export interface TensorParts {
  protocol: 'kserve-v2' | 'tfserving' | 'torchserve';
  checks: CompiledChecks;
  quality: QualityHook;
  /**
   * The protocol's test of a 2xx body it must read (checks, quality): true → invalid_response.
   * null: the body is not parsed as JSON (checks see raw text).
   */
  invalid: ((json: unknown) => boolean) | null;
  /** The request of a scenario without inputs. */
  fixed?: WireRequest;
  /** The bank of requests built from inputs (undefined with a fixed request, or before prepare() for synthetic inputs). */
  bank(): RequestBank | undefined;
  prepare(ctx: AdapterContext): Promise<void>;
}

/** The adapter a tensor protocol ends with. */
export function tensorAdapter(p: TensorParts): Adapter & { report(): Record<string, unknown> } {
  const { checks, quality, invalid, fixed } = p;
  const needBody = checks.readsBody || quality.active;
  const judge = (req: WireRequest, status: number, body: Buffer | null, rec: Recorder): ErrorClass | null => {
    const s = checks.statusVerdict(status);
    if (s !== null || !needBody) return s;
    if (status < 200 || status >= 300) return null; // accepted non-2xx (status check): nothing to decode
    const json = invalid ? tryParseJson(body) : undefined;
    if (invalid?.(json)) return 'invalid_response';
    if (checks.readsBody && checks.evaluateBody(json, () => (body ? body.toString('utf8') : '')) !== null)
      return 'check_failed';
    if (quality.active) quality.score(req as DataWireRequest, json, rec);
    return null;
  };
  return {
    protocol: p.protocol,
    bodyMode: needBody ? 'full' : 'none',
    prepare: p.prepare,
    request(seq: number): WireRequest {
      if (fixed) return fixed;
      const bank = p.bank();
      if (!bank)
        throw new PreflightError(
          'E_INTERNAL',
          `${p.protocol}: synthetic inputs need prepare() (model metadata) before requests`,
        );
      return bank.request(seq);
    },
    judge,
    finish: () => quality.finish(),
    report: () => ({ ...quality.report(), pre_encoded_bytes: p.bank()?.encodedBytes ?? 0 }),
  };
}

/**
 * Checks the data's inputs against model metadata and decides request shapes. Adopts the model's
 * input name when the plan did not name inputs and the model has one input, and the model's
 * datatype when the plan did not set one. Throws E_MODEL_MISMATCH listing every problem.
 */
export function matchInputs(
  src: TensorSource,
  meta: { inputs: TensorSpecLike[] },
  model: string,
  where: string,
  declaredTypes: Set<string>,
): Map<string, InputPlan> {
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
        hint: src.explicitInputs
          ? 'rename the input in data.inputs'
          : 'map columns to the model inputs with data.inputs',
      });
      continue;
    }
    const mdt = String(m.datatype).toUpperCase();
    if (t.datatype !== mdt) {
      const numericBoth = t.datatype !== 'BYTES' && mdt !== 'BYTES';
      if (!declaredTypes.has(t.name) && numericBoth && !(isIntegerType(mdt) && hasFraction(t))) t.datatype = mdt;
      else
        problems.push({
          message: `model "${model}" input "${t.name}" is ${mdt}; the data gives ${t.datatype}${isIntegerType(mdt) && hasFraction(t) ? ' (values with fractions)' : ''} (${where})`,
        });
    }
    const dims = (m.shape ?? []).map(Number);
    const batched = dims.length > 0 && dims[0] === -1;
    const rowDims = batched ? dims.slice(1) : dims;
    const wild = rowDims.filter((d) => d < 0).length;
    const known = product(rowDims.filter((d) => d >= 0));
    let resolved: number[] | null = null;
    if (wild === 0 && known === t.width) resolved = rowDims;
    else if (wild === 1 && known > 0 && t.width % known === 0)
      resolved = rowDims.map((d) => (d < 0 ? t.width / known : d));
    else if (wild > 1) resolved = t.rowShape; // cannot decide: keep the data's own row shape
    if (!batched && resolved === null && dims.length > 1 && dims[0] > 0) {
      // fixed batch dimension, e.g. [1, 64]
      const rd = dims.slice(1);
      if (product(rd) === t.width && !rd.some((d) => d < 0)) {
        if (src.batch.min !== dims[0] || src.batch.max !== dims[0])
          problems.push({
            message: `model "${model}" input "${t.name}" has a fixed batch of ${dims[0]} ([${dims.join(', ')}]); the plan sends ${src.batch.min === src.batch.max ? src.batch.min : `${src.batch.min}–${src.batch.max}`} rows per request`,
          });
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
      problems.push({
        message: `model "${model}" input "${t.name}" has no batch dimension ([${dims.join(', ')}]); the plan sends up to ${src.batch.max} rows per request`,
        hint: 'use batch 1',
      });
      continue;
    }
    plans.set(t.name, { rowDims: resolved, unbatched: !batched });
  }
  const given = new Set(src.inputs.map((t) => t.name));
  for (const m of mins) {
    if (!given.has(m.name) && problems.every((p) => !p.message.includes(`input "${m.name}"`))) {
      problems.push({
        message: `model "${model}" input "${m.name}" (${m.datatype} [${m.shape.join(', ')}]) gets no data`,
        hint: 'map columns to it in data.inputs',
      });
    }
  }
  if (problems.length > 0) {
    throw new PreflightError(
      'E_MODEL_MISMATCH',
      `the data does not fit model "${model}": ${problems[0].message}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`,
      { problems },
    );
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
