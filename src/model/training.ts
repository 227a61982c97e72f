/**
 * Deterministic training for the reference models, in plain TypeScript: a dense network
 * (ReLU hidden layers, softmax output, cross-entropy loss) trained with mini-batch Adam or SGD.
 * All randomness (initialisation, batch order) comes from one seeded PRNG and all arithmetic is
 * float64 in a fixed order, so the same seed and data give bit-identical weights.
 */
import { CLASSES, FEATURES, PIXEL_MAX } from './dataset.js';
import type { DigitsData } from './dataset.js';
import type { DenseLayer, Network } from './network.js';
import { Rng, shuffleInPlace } from '../core/random.js';

export interface TrainOptions {
  /** Hidden layer widths (ReLU); [] is multinomial logistic regression. */
  hidden: number[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'adam' | 'sgd';
  /** L2 penalty on weights (not biases). */
  weightDecay: number;
  /** Cosine-decay the learning rate to 0 over the run. */
  cosineDecay: boolean;
  seed: number;
}

/** Trained parameters in float64; weights[l] is sizes[l] × sizes[l+1], row-major. */
export interface TrainedParams {
  sizes: number[];
  weights: Float64Array[];
  biases: Float64Array[];
}

/** Raw pixels 0–16 → model inputs 0–1 (the exported graph does the same with a Mul by 1/16). */
export function scaleFeatures(data: DigitsData): Float64Array {
  const x = new Float64Array(data.rows * FEATURES);
  for (let i = 0; i < x.length; i++) x[i] = data.features[i] / PIXEL_MAX;
  return x;
}

export function trainClassifier(x: Float64Array, dims: number, labels: Int32Array, opts: TrainOptions): TrainedParams {
  const rows = labels.length;
  if (x.length !== rows * dims) throw new Error('features and labels disagree on row count');
  const rng = new Rng(opts.seed);
  const sizes = [dims, ...opts.hidden, CLASSES];
  const L = sizes.length - 1;
  const weights: Float64Array[] = [];
  const biases: Float64Array[] = [];
  for (let l = 0; l < L; l++) {
    const fanIn = sizes[l];
    const fanOut = sizes[l + 1];
    // He initialisation for ReLU layers, Glorot for the softmax layer.
    const std = l < L - 1 ? Math.sqrt(2 / fanIn) : Math.sqrt(2 / (fanIn + fanOut));
    const w = new Float64Array(fanIn * fanOut);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal() * std;
    weights.push(w);
    biases.push(new Float64Array(fanOut));
  }
  const gW = weights.map((w) => new Float64Array(w.length));
  const gB = biases.map((b) => new Float64Array(b.length));
  // Adam moments.
  const mW = weights.map((w) => new Float64Array(w.length));
  const vW = weights.map((w) => new Float64Array(w.length));
  const mB = biases.map((b) => new Float64Array(b.length));
  const vB = biases.map((b) => new Float64Array(b.length));
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;

  const acts = sizes.map((s) => new Float64Array(s));
  const deltas = sizes.map((s) => new Float64Array(s));
  const order = new Int32Array(rows).map((_, i) => i);
  const batchesPerEpoch = Math.ceil(rows / opts.batchSize);
  const totalSteps = opts.epochs * batchesPerEpoch;
  let step = 0;

  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    shuffleInPlace(order, rng);
    for (let start = 0; start < rows; start += opts.batchSize) {
      const end = Math.min(rows, start + opts.batchSize);
      for (let l = 0; l < L; l++) {
        gW[l].fill(0);
        gB[l].fill(0);
      }
      for (let s = start; s < end; s++) {
        const r = order[s];
        // Forward.
        for (let i = 0; i < dims; i++) acts[0][i] = x[r * dims + i];
        for (let l = 0; l < L; l++) {
          const a = acts[l];
          const z = acts[l + 1];
          const w = weights[l];
          const nIn = sizes[l];
          const nOut = sizes[l + 1];
          for (let j = 0; j < nOut; j++) z[j] = biases[l][j];
          for (let i = 0; i < nIn; i++) {
            const ai = a[i];
            if (ai === 0) continue;
            for (let j = 0; j < nOut; j++) z[j] += ai * w[i * nOut + j];
          }
          if (l < L - 1) for (let j = 0; j < nOut; j++) z[j] = z[j] > 0 ? z[j] : 0;
          else softmaxInPlace(z);
        }
        // Backward: softmax + cross-entropy gives delta = p − onehot.
        const out = deltas[L];
        for (let k = 0; k < CLASSES; k++) out[k] = acts[L][k] - (k === labels[r] ? 1 : 0);
        for (let l = L - 1; l >= 0; l--) {
          const a = acts[l];
          const d = deltas[l + 1];
          const w = weights[l];
          const nIn = sizes[l];
          const nOut = sizes[l + 1];
          const gw = gW[l];
          for (let j = 0; j < nOut; j++) gB[l][j] += d[j];
          for (let i = 0; i < nIn; i++) {
            const ai = a[i];
            if (ai === 0) continue;
            for (let j = 0; j < nOut; j++) gw[i * nOut + j] += ai * d[j];
          }
          if (l > 0) {
            const dPrev = deltas[l];
            for (let i = 0; i < nIn; i++) {
              if (a[i] <= 0) {
                dPrev[i] = 0; // ReLU gradient
                continue;
              }
              let sum = 0;
              for (let j = 0; j < nOut; j++) sum += w[i * nOut + j] * d[j];
              dPrev[i] = sum;
            }
          }
        }
      }
      // Update.
      const n = end - start;
      const lr = opts.cosineDecay
        ? opts.learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / totalSteps))
        : opts.learningRate;
      step++;
      for (let l = 0; l < L; l++) {
        update(weights[l], gW[l], mW[l], vW[l], n, opts.weightDecay);
        update(biases[l], gB[l], mB[l], vB[l], n, 0);
      }
      function update(
        p: Float64Array,
        g: Float64Array,
        m: Float64Array,
        v: Float64Array,
        count: number,
        decay: number,
      ): void {
        if (opts.optimizer === 'sgd') {
          for (let i = 0; i < p.length; i++) p[i] -= lr * (g[i] / count + decay * p[i]);
          return;
        }
        const c1 = 1 - beta1 ** step;
        const c2 = 1 - beta2 ** step;
        for (let i = 0; i < p.length; i++) {
          const gi = g[i] / count + decay * p[i];
          m[i] = beta1 * m[i] + (1 - beta1) * gi;
          v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
          p[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
        }
      }
    }
  }
  return { sizes, weights, biases };
}

function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (let k = 0; k < z.length; k++) if (z[k] > max) max = z[k];
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    z[k] = Math.exp(z[k] - max);
    sum += z[k];
  }
  for (let k = 0; k < z.length; k++) z[k] /= sum;
}

/** Turns trained float64 parameters into the exported network over raw pixels: FP32 weights, inputScale 1/16. */
export function toNetwork(params: TrainedParams): Network {
  const L = params.sizes.length - 1;
  const layers: DenseLayer[] = [];
  for (let l = 0; l < L; l++) {
    layers.push({
      inputs: params.sizes[l],
      outputs: params.sizes[l + 1],
      weights: Float32Array.from(params.weights[l]),
      bias: Float32Array.from(params.biases[l]),
      activation: l < L - 1 ? 'relu' : 'softmax',
    });
  }
  return { inputScale: 1 / PIXEL_MAX, layers };
}

/** Trains on `train` (raw pixels) with `opts` and returns the exported network. */
export function trainNetwork(train: DigitsData, opts: TrainOptions): Network {
  return toNetwork(trainClassifier(scaleFeatures(train), FEATURES, train.labels, opts));
}
