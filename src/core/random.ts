/**
 * The project's one seeded pseudo-random generator (mulberry32: 32-bit integer arithmetic, so the
 * same seed gives the same stream on every platform and Node version). Used for reproducible
 * arrivals, data order, synthetic inputs, traffic mixes, bootstrap resampling, model training and
 * the synthetic results folders of the report tests.
 * Never on the per-request hot path: callers precompute tables from it. Not for cryptography.
 */

/** A source of uniform numbers in [0, 1). */
export type RandomSource = () => number;

export function mulberry32(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeded generator with the helpers callers want. `normal` is Box–Muller (both values used): the
 * committed reference models (models/*.onnx) are trained from its exact stream and a test
 * rebuilds them byte for byte, so changing any draw here means retraining them.
 */
export class Rng {
  private readonly source: RandomSource;
  private spare: number | undefined;

  constructor(seed = 1) {
    this.source = mulberry32(seed);
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.source();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.source() * n);
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.source();
  }

  /** Normal with the given mean and standard deviation (standard normal by default). */
  normal(mean = 0, std = 1): number {
    const z = this.standardNormal();
    // The default returns z itself, not 0 + 1 * z, so the models' stream stays bit for bit.
    return mean === 0 && std === 1 ? z : mean + std * z;
  }

  /** Log-normal with the given median and shape σ (of the underlying normal). */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.standardNormal());
  }

  /** Exponential with the given mean (1 by default). */
  exponential(mean = 1): number {
    const e = -Math.log(1 - this.source());
    return mean === 1 ? e : mean * e;
  }

  /** Gamma(shape, scale 1) (Marsaglia–Tsang). */
  gamma(shape: number): number {
    // shape < 1: boost with u^(1/shape) (Marsaglia–Tsang's note).
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.source() || Number.MIN_VALUE, 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.standardNormal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.source();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  private standardNormal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.source();
    const v = this.source();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T>(items: T[] | Int32Array | Uint32Array, rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
}

/** FNV-1a 32-bit hash of a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** An independent 32-bit seed from a base seed and a label (FNV-1a over the label, then mixed). */
export function deriveSeed(seed: number, label: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}
