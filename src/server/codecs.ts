/**
 * Request parsing and response encoding for the tensor protocols (KServe v2, TF Serving, TorchServe).
 * Pure functions: a parse returns the input rows or an error message (answered 400).
 */
import { CLASSES, FEATURES } from './batcher.js';

export interface ParsedRows {
  rows: number;
  /** rows × 64, row-major. */
  input: Float32Array;
}

/** Thrown (and caught by the server) for a request the protocol rejects: 400 with this message. */
export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Largest finite FP32 value: a larger number (or 1e999, which JSON.parse makes Infinity) is not an FP32 input. */
const FP32_MAX = 3.4028234663852886e38;

/** A tensor value: a number that is finite in FP32; BadRequest otherwise. */
function fp32(x: unknown, where: string): number {
  if (typeof x !== 'number') throw new BadRequest(`${where} must be a number, got ${typeName(x)}`);
  if (!(Math.abs(x) <= FP32_MAX)) throw new BadRequest(`${where} is ${x}, not a finite FP32 number (|x| ≤ 3.4e38)`);
  return x;
}

/** Copies one row of exactly 64 numbers into `out` at `offset`; throws BadRequest otherwise. */
function copyRow(row: unknown, out: Float32Array, offset: number, where: string): void {
  if (!Array.isArray(row))
    throw new BadRequest(`${where} must be an array of ${FEATURES} numbers, got ${typeName(row)}`);
  if (row.length !== FEATURES) throw new BadRequest(`${where} has ${row.length} values, expected ${FEATURES}`);
  for (let i = 0; i < FEATURES; i++) {
    out[offset + i] = fp32(row[i], `${where}[${i}]`);
  }
}

/** A list of rows ([[64 numbers], …]) → Float32Array. */
export function rowsToInput(rows: unknown, where: string): ParsedRows {
  if (!Array.isArray(rows)) throw new BadRequest(`${where} must be a list of rows, got ${typeName(rows)}`);
  if (rows.length === 0) throw new BadRequest(`${where} is empty`);
  const input = new Float32Array(rows.length * FEATURES);
  for (let r = 0; r < rows.length; r++) copyRow(rows[r], input, r * FEATURES, `${where}[${r}]`);
  return { rows: rows.length, input };
}

// ---------------------------------------------------------------------------------------------------------
// KServe v2 / Open Inference Protocol

export interface KServeRequest extends ParsedRows {
  id: string | undefined;
}

/**
 * Parses a v2 infer request body for a model with one FP32 input [-1, 64] named `inputName` and one output
 * named `outputName`. `data` may be flat (row-major) or nested [[64], …].
 */
export function parseKServeInfer(
  body: unknown,
  modelName: string,
  inputName: string,
  outputName: string,
): KServeRequest {
  if (!isObject(body)) throw new BadRequest(`request body must be a JSON object, got ${typeName(body)}`);
  const id = body.id;
  if (id !== undefined && typeof id !== 'string') throw new BadRequest(`"id" must be a string`);
  const inputs = body.inputs;
  if (!Array.isArray(inputs)) throw new BadRequest(`"inputs" must be an array of input tensors`);
  if (inputs.length !== 1) throw new BadRequest(`expected 1 input for model '${modelName}', got ${inputs.length}`);
  const t = inputs[0];
  if (!isObject(t)) throw new BadRequest(`inputs[0] must be an object`);
  if (t.name !== inputName) {
    throw new BadRequest(
      `unexpected inference input '${String(t.name)}' for model '${modelName}', expected '${inputName}'`,
    );
  }
  if (t.datatype !== 'FP32') {
    throw new BadRequest(
      `inference input '${inputName}' data-type is '${String(t.datatype)}', but model '${modelName}' expects 'FP32'`,
    );
  }
  const params = t.parameters;
  if (isObject(params) && params.binary_data_size !== undefined) {
    throw new BadRequest(`the binary tensor data extension is not supported; send "data" as JSON`);
  }
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    throw new BadRequest(
      `inference input '${inputName}' shape ${JSON.stringify(shape)} is invalid: expected [batch, ${FEATURES}]`,
    );
  }
  const [batch, width] = shape as number[];
  if (width !== FEATURES || batch < 1) {
    throw new BadRequest(
      `unexpected shape for input '${inputName}' for model '${modelName}'. Expected [-1,${FEATURES}], got [${batch},${width}]`,
    );
  }
  const data = t.data;
  if (!Array.isArray(data)) throw new BadRequest(`inference input '${inputName}' has no "data" array`);
  let input: Float32Array;
  if (data.length > 0 && Array.isArray(data[0])) {
    if (data.length !== batch)
      throw new BadRequest(`input '${inputName}' data has ${data.length} rows but shape says ${batch}`);
    input = rowsToInput(data, `input '${inputName}' data`).input;
  } else {
    const n = batch * FEATURES;
    if (data.length !== n)
      throw new BadRequest(
        `input '${inputName}' data has ${data.length} values but shape [${batch},${FEATURES}] needs ${n}`,
      );
    input = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      input[i] = fp32(data[i], `input '${inputName}' data[${i}]`);
    }
  }
  const outputs = body.outputs;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw new BadRequest(`"outputs" must be an array`);
    for (const o of outputs) {
      if (!isObject(o) || o.name !== outputName) {
        throw new BadRequest(
          `unexpected inference output '${isObject(o) ? String(o.name) : String(o)}' for model '${modelName}', expected '${outputName}'`,
        );
      }
      if (isObject(o.parameters) && o.parameters.binary_data === true) {
        throw new BadRequest(`the binary tensor data extension is not supported`);
      }
    }
  }
  return { id, rows: batch, input };
}

/** Encodes probabilities as a flat JSON array body (no brackets). */
function flat(out: Float32Array): string {
  return out.join(',');
}

/** Encodes rows × 10 as nested JSON arrays: [[…],[…]]. */
export function nested(out: Float32Array, rows: number): string {
  let s = '[';
  for (let r = 0; r < rows; r++) {
    if (r) s += ',';
    s += '[' + out.subarray(r * CLASSES, (r + 1) * CLASSES).join(',') + ']';
  }
  return s + ']';
}

export function encodeKServeResponse(
  modelName: string,
  version: string,
  id: string,
  outputName: string,
  out: Float32Array,
  rows: number,
): string {
  return (
    `{"model_name":${JSON.stringify(modelName)},"model_version":${JSON.stringify(version)},"id":${JSON.stringify(id)},` +
    `"outputs":[{"name":${JSON.stringify(outputName)},"datatype":"FP32","shape":[${rows},${CLASSES}],"data":[${flat(out)}]}]}`
  );
}

// ---------------------------------------------------------------------------------------------------------
// TF Serving REST

export interface TfRequest extends ParsedRows {
  /** 'row' ({instances}) answers {predictions}; 'columnar' ({inputs}) answers {outputs}. */
  format: 'row' | 'columnar';
}

export function parseTfPredict(body: unknown, inputName: string): TfRequest {
  if (!isObject(body)) throw new BadRequest(`JSON Value: ${typeName(body)} Is not an object`);
  const hasInstances = body.instances !== undefined;
  const hasInputs = body.inputs !== undefined;
  if (hasInstances && hasInputs)
    throw new BadRequest(`JSON Value: request has both "instances" and "inputs"; use one of them`);
  if (!hasInstances && !hasInputs) throw new BadRequest(`Missing 'inputs' or 'instances' key`);
  if (hasInstances) {
    const inst = body.instances;
    if (!Array.isArray(inst)) throw new BadRequest(`"instances" must be a list`);
    // Row format with named inputs: [{"input": [64 numbers]}, …].
    const rows = inst.map((r, i) => {
      if (isObject(r)) {
        const keys = Object.keys(r);
        if (keys.length !== 1 || keys[0] !== inputName)
          throw new BadRequest(`instances[${i}] must have exactly one key "${inputName}"`);
        return r[inputName];
      }
      return r;
    });
    return { format: 'row', ...rowsToInput(rows, 'instances') };
  }
  let inputs = body.inputs;
  if (isObject(inputs)) {
    const keys = Object.keys(inputs);
    if (keys.length !== 1 || keys[0] !== inputName)
      throw new BadRequest(`"inputs" must have exactly one key "${inputName}"`);
    inputs = inputs[inputName];
  }
  return { format: 'columnar', ...rowsToInput(inputs, 'inputs') };
}

export function encodeTfResponse(format: 'row' | 'columnar', out: Float32Array, rows: number): string {
  return format === 'row' ? `{"predictions":${nested(out, rows)}}` : `{"outputs":${nested(out, rows)}}`;
}

// ---------------------------------------------------------------------------------------------------------
// TorchServe

export interface TorchRequest extends ParsedRows {
  /** One row in → one list of 10 probabilities out; a list of rows → a list of lists. */
  single: boolean;
}

/**
 * Accepts `{"data": [64 numbers]}`, `[64 numbers]` (one row) or `{"data": [[64], …]}`, `[[64], …]`,
 * `[{"data": [64]}, …]` (several rows).
 */
export function parseTorchPredict(body: unknown): TorchRequest {
  let d: unknown = body;
  if (isObject(d)) {
    if (!('data' in d)) throw new BadRequest(`expected {"data": [${FEATURES} numbers]} or a list of rows`);
    d = d.data;
  }
  if (!Array.isArray(d) || d.length === 0) throw new BadRequest(`"data" must be a non-empty array`);
  if (typeof d[0] === 'number') {
    const input = new Float32Array(FEATURES);
    copyRow(d, input, 0, 'data');
    return { single: true, rows: 1, input };
  }
  const rows = d.map((r, i) => {
    if (isObject(r)) {
      if (!('data' in r)) throw new BadRequest(`data[${i}] must be a row or {"data": row}`);
      return r.data;
    }
    return r;
  });
  return { single: false, ...rowsToInput(rows, 'data') };
}

export function encodeTorchResponse(single: boolean, out: Float32Array, rows: number): string {
  return single ? `[${flat(out)}]` : nested(out, rows);
}
