/**
 * Synthetic per-variant data for the canary tests (test-only module): binned latency built from
 * seeded draws, with request, error and quality counts.
 */
import { Rng } from '../../core/random.js';
import type { CanaryPlan } from '../../plan/comparison.js';
import type { Binned } from '../../stats/binned.js';
import type { ComparisonInput, VariantData } from '../types.js';

/** Values rounded to 0.1 ms and counted, as HDR buckets would give them. */
export function binOf(values: number[]): Binned {
  const m = new Map<number, number>();
  for (const v of values) {
    const k = Math.round(v * 10) / 10;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  const keys = [...m.keys()].sort((a, b) => a - b);
  return { values: keys, counts: keys.map((k) => m.get(k)!) };
}

/** Log-normal latencies around `median` ms (shape 0.25); the top `tailShare` multiplied by `tailFactor`. */
export function latencies(n: number, median: number, seed: number, tailShare = 0, tailFactor = 1): number[] {
  const rng = new Rng(seed);
  const xs = Array.from({ length: n }, () => rng.logNormal(median, 0.25)).sort((a, b) => a - b);
  const tail = Math.round(n * tailShare);
  for (let i = n - tail; i < n; i++) xs[i] *= tailFactor;
  return xs;
}

export function variant(
  name: string,
  latency: number[],
  errors = 0,
  quality?: { scored: number; correct: number },
): VariantData {
  const b = binOf(latency);
  return {
    name,
    requests: latency.length,
    errors,
    latency: b,
    latencyWindows: [b],
    durations: {},
    ...(quality ?? {}),
  };
}

export function input(control: VariantData, candidate: VariantData): ComparisonInput {
  return { control, candidate, durationS: 60 };
}

export function canaryPlan(over: Partial<CanaryPlan> = {}): CanaryPlan {
  return {
    judge: 'kayenta',
    metrics: [],
    groupWeights: {},
    thresholds: { pass: 95, marginal: 75 },
    steps: [],
    ...over,
    marginalPasses: over.marginalPasses ?? false,
    onInterrupt: over.onInterrupt ?? 'rollback',
  };
}
