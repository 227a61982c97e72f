/**
 * A minimal protobuf encoder and just enough of the ONNX schema (onnx/onnx.proto: ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto) to export a dense network:
 *
 *   input FP32 [batch, 64] ─Mul(1/16)─ Gemm ─Relu─ … ─ Gemm ─Softmax(axis 1)─ probabilities FP32 [batch, 10]
 *
 * Output bytes depend only on the network and metadata (no timestamps), so exports are reproducible.
 */
import { CLASSES, FEATURES } from './dataset.js';
import type { Network } from './network.js';

export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'probabilities';

// ---- protobuf wire format ----

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  private tag(field: number, wire: number): void {
    this.rawVarint((BigInt(field) << 3n) | BigInt(wire));
  }

  private rawVarint(value: bigint): void {
    // int64 semantics: negative values are encoded as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.parts.push(Uint8Array.from(bytes));
  }

  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(BigInt(value));
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.parts.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(BigInt(value.length));
    this.parts.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.finish());
  }

  finish(): Uint8Array {
    const total = this.parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

// ---- ONNX messages (field numbers from onnx.proto) ----

const TENSOR_FLOAT = 1;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;

/** TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian). */
export function floatTensor(name: string, dims: number[], data: Float32Array): ProtoWriter {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`tensor ${name}: ${data.length} values for dims [${dims}]`);
  const t = new ProtoWriter();
  for (const d of dims) t.varint(1, d);
  t.varint(2, TENSOR_FLOAT);
  t.string(8, name);
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  t.bytes(9, raw);
  return t;
}

/** ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1, shape=2: {dim=1: {dim_value=1 | dim_param=2}}}}}. */
export function tensorValueInfo(name: string, dims: (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, TENSOR_FLOAT).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, name).message(2, type);
}

export type Attribute = { name: string; int: number } | { name: string; float: number };

/** NodeProto: input=1, output=2, name=3, op_type=4, attribute=5 (AttributeProto: name=1, f=2, i=3, type=20). */
export function node(
  opType: string,
  name: string,
  inputs: string[],
  outputs: string[],
  attributes: Attribute[] = [],
): ProtoWriter {
  const n = new ProtoWriter();
  for (const i of inputs) n.string(1, i);
  for (const o of outputs) n.string(2, o);
  n.string(3, name);
  n.string(4, opType);
  for (const a of attributes) {
    const attr = new ProtoWriter().string(1, a.name);
    if ('int' in a) attr.varint(3, a.int).varint(20, ATTR_INT);
    else attr.float(2, a.float).varint(20, ATTR_FLOAT);
    n.message(5, attr);
  }
  return n;
}

export interface OnnxMetadata {
  graphName: string;
  docString: string;
  producerVersion: string;
  /** ModelProto.model_version (int64). */
  modelVersion: number;
  /** ModelProto.metadata_props. */
  properties: Record<string, string>;
}

/** Encodes `net` as an ONNX ModelProto. */
export function encodeOnnxModel(net: Network, meta: OnnxMetadata): Uint8Array {
  const nodes: ProtoWriter[] = [];
  const initializers: ProtoWriter[] = [];

  initializers.push(floatTensor('input_scale', [], Float32Array.of(net.inputScale)));
  nodes.push(node('Mul', 'scale_pixels', [INPUT_NAME, 'input_scale'], ['scaled']));
  let prev = 'scaled';
  net.layers.forEach((layer, l) => {
    const w = `dense${l}.weight`;
    const b = `dense${l}.bias`;
    initializers.push(floatTensor(w, [layer.inputs, layer.outputs], layer.weights));
    initializers.push(floatTensor(b, [layer.outputs], layer.bias));
    const z = `dense${l}.out`;
    nodes.push(node('Gemm', `dense${l}`, [prev, w, b], [z]));
    if (layer.activation === 'relu') {
      nodes.push(node('Relu', `dense${l}.relu`, [z], [`dense${l}.act`]));
      prev = `dense${l}.act`;
    } else if (layer.activation === 'softmax') {
      nodes.push(node('Softmax', 'softmax', [z], [OUTPUT_NAME], [{ name: 'axis', int: 1 }]));
      prev = OUTPUT_NAME;
    } else {
      prev = z;
    }
  });
  if (prev !== OUTPUT_NAME) throw new Error('network must end in a softmax layer');

  // GraphProto: node=1, name=2, initializer=5, doc_string=10, input=11, output=12.
  const graph = new ProtoWriter();
  for (const n of nodes) graph.message(1, n);
  graph.string(2, meta.graphName);
  for (const t of initializers) graph.message(5, t);
  graph.string(10, meta.docString);
  graph.message(11, tensorValueInfo(INPUT_NAME, ['batch', FEATURES]));
  graph.message(12, tensorValueInfo(OUTPUT_NAME, ['batch', CLASSES]));

  // ModelProto: ir_version=1, producer_name=2, producer_version=3, model_version=5, doc_string=6,
  // graph=7, opset_import=8 (OperatorSetIdProto: domain=1, version=2), metadata_props=14.
  const model = new ProtoWriter();
  model.varint(1, ONNX_IR_VERSION);
  model.string(2, 'ml-preflight');
  model.string(3, meta.producerVersion);
  model.varint(5, meta.modelVersion);
  model.string(6, meta.docString);
  model.message(7, graph);
  model.message(8, new ProtoWriter().string(1, '').varint(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(meta.properties)) {
    model.message(14, new ProtoWriter().string(1, key).string(2, value));
  }
  return model.finish();
}
