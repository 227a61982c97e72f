/**
 * Where tensor adapters (kserve-v2, tfserving, torchserve) get their rows: a dataset (columns →
 * inputs, labels, order, batches) or a synthetic pool shaped after model metadata; and the bank of
 * requests built from them — pre-encoded once per batch while the total stays under the budget,
 * else encoded per request.
 */
import type { WireRequest } from '../core/types.js';
import type { Dataset } from '../data/dataset.js';
import { buildBatchTable } from '../data/order.js';
import type { BatchTable } from '../data/order.js';
import { syntheticTensor } from '../data/synthetic.js';
import type { TensorSpecLike } from '../data/synthetic.js';
import { buildTensorInputs } from '../data/tensors.js';
import type { TensorInput } from '../data/tensors.js';
import type { AdapterOptions, DataWireRequest } from './common.js';
import { PREENCODE_BUDGET_BYTES } from './common.js';

export interface TensorSource {
  kind: 'data' | 'synthetic';
  inputs: TensorInput[];
  table: BatchTable;
  /** Inputs were named in the plan (data.inputs), not defaulted. */
  explicitInputs: boolean;
  batch: { min: number; max: number };
  dataset?: Dataset;
}

/**
 * Tensors built per dataset and input spec: the sub-adapters of a traffic mix, and a run's shard
 * taking over the dataset of the pre-run checks, share one copy instead of building their own.
 */
const built = new WeakMap<Dataset, Map<string, TensorInput[]>>();

/** Tensor inputs from the scenario's dataset; throws DataError listing every problem. */
export function dataSource(o: AdapterOptions, ds: Dataset): TensorSource {
  const d = o.scenario.data!;
  const problems = ds.problems;
  const key = JSON.stringify([d.inputs ?? null, d.label ?? null]);
  let byKey = built.get(ds);
  let shared = byKey?.get(key);
  if (!shared) {
    const before = problems.size;
    shared = buildTensorInputs(ds, d, problems, 'input');
    if (problems.size === before) {
      if (!byKey) built.set(ds, (byKey = new Map()));
      byKey.set(key, shared);
    }
  }
  // each adapter gets its own descriptors (prepare() renames and retypes them after the model's
  // metadata); the values are shared and never written after this
  const inputs = shared.map((t) => ({ ...t, columns: [...t.columns], rowShape: [...t.rowShape] }));
  if (d.label && !ds.columns.has(d.label)) {
    problems.add({
      file: ds.file,
      message: `missing column ${d.label} (label)`,
      hint: `columns present: ${ds.columnNames.slice(0, 12).join(', ')}`,
    });
  }
  problems.throwIfAny('data');
  const batch = normBatch(d.batch);
  return {
    kind: 'data',
    inputs,
    table: buildBatchTable(ds.rowCount, { order: d.order, batch, seed: o.seed, shard: o.shard }),
    explicitInputs: Boolean(d.inputs && d.inputs.length > 0),
    batch,
    dataset: ds,
  };
}

/** A seeded synthetic pool (src/data/synthetic.ts) for the model's inputs. */
export function syntheticSource(o: AdapterOptions, specs: TensorSpecLike[]): TensorSource {
  const sp = o.scenario.synthetic!;
  const inputs = specs.map((s) => syntheticTensor(s, sp, o.seed));
  const b = Math.max(1, Math.floor(sp.batch || 1));
  const batch = { min: b, max: b };
  return {
    kind: 'synthetic',
    inputs,
    table: buildBatchTable(inputs[0]?.rowCount ?? 1, { order: 'sequential', batch, seed: o.seed, shard: o.shard }),
    explicitInputs: true,
    batch,
  };
}

export function normBatch(b: { min: number; max: number } | undefined): { min: number; max: number } {
  const min = Math.max(1, Math.floor(b?.min ?? 1));
  return { min, max: Math.max(min, Math.floor(b?.max ?? min)) };
}

/**
 * Requests per batch: `encode()` pre-builds them (visited batches only) within the byte budget;
 * `request(seq)` returns the cached object, or builds one when over budget.
 */
export class RequestBank {
  private cache: Array<DataWireRequest | undefined> | null = null;
  /** Total bytes pre-encoded (0 when encoding per request). */
  encodedBytes = 0;
  constructor(
    private readonly table: BatchTable,
    private readonly build: (batch: number, rows: Int32Array) => DataWireRequest,
    private readonly budget = PREENCODE_BUDGET_BYTES,
  ) {}

  /** Pre-encodes every batch this shard visits; returns false (and encodes per request) when over budget. */
  encode(): boolean {
    const t = this.table;
    const cache: Array<DataWireRequest | undefined> = new Array(t.count);
    let bytes = 0;
    for (const b of t.visited()) {
      const r = this.build(b, t.rows(b));
      bytes += (r.body?.length ?? 0) + r.path.length;
      if (bytes > this.budget) {
        this.cache = null;
        this.encodedBytes = 0;
        return false;
      }
      cache[b] = r;
    }
    this.cache = cache;
    this.encodedBytes = bytes;
    return true;
  }

  get preEncoded(): boolean {
    return this.cache !== null;
  }

  request(seq: number): WireRequest {
    const b = this.table.batchOf(seq);
    const c = this.cache;
    if (c !== null) return c[b]!;
    return this.build(b, this.table.rows(b));
  }
}

/** Sets WireRequest.row/rows/batch/group for a batch. */
export function stamp(
  req: DataWireRequest,
  batch: number,
  rows: Int32Array,
  group: string | undefined,
): DataWireRequest {
  req.row = rows[0];
  req.rows = rows.length;
  req.batch = batch;
  if (group !== undefined) req.group = group;
  return req;
}
