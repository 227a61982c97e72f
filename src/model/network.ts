/**
 * The exported form of a reference model: a stack of dense layers with FP32 weights, exactly the
 * numbers in the ONNX file's initializers, plus the plain-TypeScript forward pass that the fallback
 * runtime uses. Stored as models/digits-<version>.weights.json so the fallback needs no protobuf.
 */
import { CLASSES, FEATURES } from './dataset.js';

export type Activation = 'relu' | 'softmax' | 'none';

export interface DenseLayer {
  inputs: number;
  outputs: number;
  /** inputs × outputs, row-major (y = x·W + b). */
  weights: Float32Array;
  bias: Float32Array;
  activation: Activation;
}

export interface Network {
  /** Applied to the raw input first (1/16: pixels 0–16 → 0–1). */
  inputScale: number;
  layers: DenseLayer[];
}

export const WEIGHTS_FORMAT = 'preflight-dense-v1';

export interface WeightsFile {
  format: typeof WEIGHTS_FORMAT;
  name: string;
  version: string;
  inputScale: number;
  layers: { inputs: number; outputs: number; activation: Activation; weights: number[]; bias: number[] }[];
}

/** Shortest decimal that reads back as the same float32 (keeps the JSON small and exact). */
function f32ToJson(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const s = Number(x.toPrecision(p));
    if (Math.fround(s) === x) return s;
  }
  return x;
}

export function networkToJson(net: Network, name: string, version: string): WeightsFile {
  return {
    format: WEIGHTS_FORMAT,
    name,
    version,
    inputScale: net.inputScale,
    layers: net.layers.map((l) => ({
      inputs: l.inputs,
      outputs: l.outputs,
      activation: l.activation,
      weights: Array.from(l.weights, f32ToJson),
      bias: Array.from(l.bias, f32ToJson),
    })),
  };
}

export function networkFromJson(json: unknown): Network {
  const f = json as Partial<WeightsFile>;
  if (f?.format !== WEIGHTS_FORMAT || !Array.isArray(f.layers) || typeof f.inputScale !== 'number') {
    throw new Error(`not a ${WEIGHTS_FORMAT} weights file`);
  }
  const layers: DenseLayer[] = f.layers.map((l, i) => {
    if (l.weights.length !== l.inputs * l.outputs || l.bias.length !== l.outputs) {
      throw new Error(`weights file layer ${i}: sizes do not match ${l.inputs}×${l.outputs}`);
    }
    return {
      inputs: l.inputs,
      outputs: l.outputs,
      activation: l.activation,
      weights: Float32Array.from(l.weights),
      bias: Float32Array.from(l.bias),
    };
  });
  validateNetwork({ inputScale: f.inputScale, layers });
  return { inputScale: f.inputScale, layers };
}

export function validateNetwork(net: Network): void {
  let width = FEATURES;
  net.layers.forEach((l, i) => {
    if (l.inputs !== width) throw new Error(`layer ${i} takes ${l.inputs} inputs, previous layer gives ${width}`);
    width = l.outputs;
  });
  if (width !== CLASSES) throw new Error(`network outputs ${width} values, expected ${CLASSES}`);
  if (net.layers.at(-1)?.activation !== 'softmax') throw new Error('last layer must be softmax');
}

export function parameterCount(net: Network): number {
  return net.layers.reduce((n, l) => n + l.weights.length + l.bias.length, 0);
}

/** Multiply–accumulates per row. */
export function macsPerRow(net: Network): number {
  return net.layers.reduce((n, l) => n + l.inputs * l.outputs, 0);
}

/**
 * Forward pass in plain TypeScript: `batch` rows of 64 raw pixels → batch × 10 probabilities.
 * Accumulates in float64, returns float32. Zero inputs are skipped (most pixels are 0).
 */
export function forward(net: Network, input: Float32Array, batch: number): Float32Array {
  const out = new Float32Array(batch * CLASSES);
  const widest = Math.max(FEATURES, ...net.layers.map((l) => l.outputs));
  let a = new Float64Array(widest);
  let b = new Float64Array(widest);
  for (let r = 0; r < batch; r++) {
    const base = r * FEATURES;
    for (let i = 0; i < FEATURES; i++) a[i] = input[base + i] * net.inputScale;
    for (const layer of net.layers) {
      const { inputs, outputs, weights, bias } = layer;
      for (let j = 0; j < outputs; j++) b[j] = bias[j];
      for (let i = 0; i < inputs; i++) {
        const x = a[i];
        if (x === 0) continue;
        const row = i * outputs;
        for (let j = 0; j < outputs; j++) b[j] += x * weights[row + j];
      }
      applyActivation(b, outputs, layer.activation);
      const t = a;
      a = b;
      b = t;
    }
    for (let k = 0; k < CLASSES; k++) out[r * CLASSES + k] = a[k];
  }
  return out;
}

function applyActivation(v: Float64Array, n: number, activation: Activation): void {
  if (activation === 'relu') {
    for (let j = 0; j < n; j++) if (v[j] < 0) v[j] = 0;
  } else if (activation === 'softmax') {
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (v[j] > max) max = v[j];
    let sum = 0;
    for (let j = 0; j < n; j++) {
      v[j] = Math.exp(v[j] - max);
      sum += v[j];
    }
    for (let j = 0; j < n; j++) v[j] /= sum;
  }
}

/** Index of the largest of each row's 10 probabilities. */
export function argmaxRows(probabilities: Float32Array, batch: number): Int32Array {
  const out = new Int32Array(batch);
  for (let r = 0; r < batch; r++) {
    let best = 0;
    for (let k = 1; k < CLASSES; k++) if (probabilities[r * CLASSES + k] > probabilities[r * CLASSES + best]) best = k;
    out[r] = best;
  }
  return out;
}

/** Fraction of rows whose argmax equals the label. */
export function accuracy(probabilities: Float32Array, labels: Int32Array): number {
  const predicted = argmaxRows(probabilities, labels.length);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return labels.length === 0 ? 0 : correct / labels.length;
}
