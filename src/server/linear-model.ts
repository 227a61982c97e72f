/**
 * A tiny stand-in model: one fixed linear layer (64 → 10, deterministic pseudo-random weights that differ
 * per version) and a softmax. Real arithmetic, correct shapes, meaningless accuracy.
 *
 * It is (1) the server's fallback when src/model is not built and (2) the model of the server's own tests,
 * whose options make it slow (`delayMs`, `busyMs`) or failing (`failOnValue`) on purpose.
 * Implements the LoadedModel contract of src/model/types.ts and is loaded the same way, by module path,
 * inside each instance worker.
 */
import type { LoadedModel, ModelInfo } from '../model/types.js';

export interface LinearModelOptions {
  /** Sleep this long per batch (simulates a slow accelerator without using CPU). */
  delayMs?: number;
  /** Busy-spin this long per batch (simulates CPU-bound compute). */
  busyMs?: number;
  /** Throw from predict when any input equals this value (to exercise backend failures). */
  failOnValue?: number;
  /** End the instance's thread (process.exit inside a worker) when any input equals this value. */
  exitOnValue?: number;
}

const IN = 64;
const OUT = 10;

export function modelInfo(version: string): ModelInfo {
  return {
    name: 'digits',
    version,
    platform: 'typescript-linear-fallback',
    inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, IN] }],
    outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, OUT] }],
    heldOutAccuracy: Number.NaN,
  };
}

function weightsFor(version: string): { w: Float32Array; b: Float32Array } {
  // mulberry32 seeded by the version name: fixed across runs and processes.
  let seed = 0x9e3779b9;
  for (let i = 0; i < version.length; i++) seed = Math.imul(seed ^ version.charCodeAt(i), 0x85ebca6b) >>> 0;
  const rnd = (): number => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const w = new Float32Array(IN * OUT);
  for (let i = 0; i < w.length; i++) w[i] = (rnd() - 0.5) * 0.1;
  const b = new Float32Array(OUT);
  for (let j = 0; j < OUT; j++) b[j] = (rnd() - 0.5) * 0.5;
  return { w, b };
}

/** Row-major [batch, 64] → [batch, 10] softmax(x·W + b). Exported for tests that check outputs. */
export function linearForward(version: string, input: Float32Array, batch: number): Float32Array {
  const { w, b } = cache.get(version) ?? setCache(version);
  const out = new Float32Array(batch * OUT);
  const logits = new Float64Array(OUT);
  for (let r = 0; r < batch; r++) {
    for (let j = 0; j < OUT; j++) logits[j] = b[j];
    const base = r * IN;
    for (let i = 0; i < IN; i++) {
      const x = input[base + i];
      if (x === 0) continue;
      const wi = i * OUT;
      for (let j = 0; j < OUT; j++) logits[j] += x * w[wi + j];
    }
    let max = -Infinity;
    for (let j = 0; j < OUT; j++) if (logits[j] > max) max = logits[j];
    let sum = 0;
    for (let j = 0; j < OUT; j++) sum += logits[j] = Math.exp(logits[j] - max);
    for (let j = 0; j < OUT; j++) out[r * OUT + j] = logits[j] / sum;
  }
  return out;
}

const cache = new Map<string, { w: Float32Array; b: Float32Array }>();
function setCache(version: string) {
  const v = weightsFor(version);
  cache.set(version, v);
  return v;
}

export async function loadModel(version: string, opts: LinearModelOptions = {}): Promise<LoadedModel> {
  const info = modelInfo(version);
  const delayMs = opts.delayMs ?? 0;
  const busyMs = opts.busyMs ?? 0;
  const failOnValue = opts.failOnValue;
  const exitOnValue = opts.exitOnValue;
  return {
    info,
    async predict(input: Float32Array, batch: number): Promise<Float32Array> {
      if (input.length !== batch * IN) throw new Error(`expected ${batch * IN} values, got ${input.length}`);
      if (failOnValue !== undefined && input.includes(failOnValue)) throw new Error(`input contains ${failOnValue}`);
      if (exitOnValue !== undefined && input.includes(exitOnValue)) process.exit(3);
      if (busyMs > 0) {
        const end = performance.now() + busyMs;
        while (performance.now() < end) {
          /* spin */
        }
      }
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return linearForward(version, input, batch);
    },
    async close(): Promise<void> {},
  };
}
