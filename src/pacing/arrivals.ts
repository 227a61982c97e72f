/**
 * Arrival processes in operational time (expected-count units): the i-th arrival's u-value.
 * Mapped to wall time by RateProfile.timeAt, they give evenly spaced, Poisson or bursty
 * arrivals for any rate profile, deterministically from a seed.
 */
import { Rng } from '../core/random.js';

export type ArrivalKind = 'uniform' | 'poisson' | 'gamma';

export interface ArrivalProcess {
  /** u-value of the next arrival (non-decreasing). */
  next(): number;
}

/** Evenly spaced: 0, 1, 2, … */
export class UniformArrivals implements ArrivalProcess {
  private i = 0;
  next(): number {
    return this.i++;
  }
}

/** Poisson: gaps Exp(1). */
export class PoissonArrivals implements ArrivalProcess {
  private u = 0;
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  next(): number {
    this.u += this.rng.exponential();
    return this.u;
  }
}

/**
 * Bursty: gaps Gamma(k = 1/b², θ = b²) — mean 1, coefficient of variation b. b = 1 is Poisson;
 * b > 1 clusters arrivals into bursts separated by lulls at the same mean rate.
 */
export class GammaArrivals implements ArrivalProcess {
  private u = 0;
  private readonly rng: Rng;
  private readonly shape: number;
  private readonly scale: number;
  constructor(seed: number, burstiness: number) {
    if (!(burstiness > 0)) throw new RangeError('burstiness must be > 0');
    this.rng = new Rng(seed);
    this.shape = 1 / (burstiness * burstiness);
    this.scale = burstiness * burstiness;
  }
  next(): number {
    this.u += this.rng.gamma(this.shape) * this.scale;
    return this.u;
  }
}

export function createArrivals(kind: ArrivalKind, seed: number, burstiness = 1): ArrivalProcess {
  switch (kind) {
    case 'uniform':
      return new UniformArrivals();
    case 'poisson':
      return new PoissonArrivals(seed);
    case 'gamma':
      return new GammaArrivals(seed, burstiness);
  }
}

/** Concurrency at time t for stage executors (linear between stage targets), rounded. */
export function concurrencyAt(start: number, stages: Array<{ durationS: number; target: number }>, t: number): number {
  let from = start;
  let s0 = 0;
  for (const st of stages) {
    if (t < s0 + st.durationS) return Math.round(from + ((st.target - from) * (t - s0)) / st.durationS);
    s0 += st.durationS;
    from = st.target;
  }
  return Math.round(from);
}
