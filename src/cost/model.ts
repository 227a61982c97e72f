/**
 * The cost model: pure arithmetic from a measured capacity per replica, a user's price list and the
 * expected traffic to replicas, monthly cost and cost per inference (docs/cost.md states every
 * formula). No I/O, no clock: the same inputs always give the same figures.
 */
import type { CostFigures, CostSummary, InstancePrice, PriceList } from '../core/cost.js';

/** Hours in an average month: 365 × 24 / 12 (the figure cloud price pages use). */
export const HOURS_PER_MONTH = 730;

export interface CostInputs {
  prices: PriceList;
  instance: string;
  /** Inferences per second one replica sustains; > 0. */
  capacityPerReplica: number;
  capacitySource: string;
  /** Expected peak traffic, inferences per second; > 0. */
  peakPerS: number;
  /** Spare capacity kept above the peak, as a fraction (0.3 = 30 %). */
  headroom: number;
  minReplicas: number;
  /** Traffic for each hour of the day (24 rates per second), when the user gives one. */
  curve?: readonly number[];
  hoursPerMonth?: number;
  /** Output tokens per inference (text generation). */
  tokensPerInference?: number | null;
  /** Share of correct inferences, when known. */
  accuracy?: number | null;
}

/** Replicas that serve `rate` with `headroom` to spare: max(min, ceil(rate × (1 + headroom) / capacity)). */
export function replicasFor(rate: number, capacity: number, headroom: number, minReplicas: number): number {
  // Rounded before ceil so 100 × 1.3 / 130 (= 1.0000000000000002 in floating point) is 1 replica, not 2.
  const exact = Math.round(((rate * (1 + headroom)) / capacity) * 1e9) / 1e9;
  return Math.max(minReplicas, Math.ceil(exact));
}

/** The whole cost section; throws a RangeError on inputs the plan layer should have refused. */
export function computeCost(inp: CostInputs): CostSummary {
  const price = inp.prices.instances[inp.instance];
  if (!price) throw new RangeError(`instance type ${inp.instance} is not in ${inp.prices.source}`);
  if (!(inp.capacityPerReplica > 0)) throw new RangeError('the capacity per replica must be > 0');
  if (!(inp.peakPerS > 0)) throw new RangeError('the peak traffic must be > 0');
  const hours = inp.hoursPerMonth ?? HOURS_PER_MONTH;
  const cap = inp.capacityPerReplica;
  const replicas = replicasFor(inp.peakPerS, cap, inp.headroom, inp.minReplicas);
  let curve: CostSummary['curve'];
  if (inp.curve) {
    const perHour = inp.curve.map((r) => replicasFor(r, cap, inp.headroom, inp.minReplicas));
    const replicaHours = perHour.reduce((a, b) => a + b, 0);
    const perDay = inp.curve.reduce((a, r) => a + r * 3600, 0);
    curve = {
      rates_per_s: [...inp.curve],
      replicas: perHour,
      replica_hours_per_day: replicaHours,
      inferences_per_day: perDay,
      utilisation: replicaHours > 0 ? perDay / (replicaHours * cap * 3600) : 0,
    };
  }
  const tokens = inp.tokensPerInference && inp.tokensPerInference > 0 ? inp.tokensPerInference : null;
  const accuracy = inp.accuracy !== undefined && inp.accuracy !== null && inp.accuracy > 0 ? inp.accuracy : null;
  const figures = (perHour: number): CostFigures => {
    const monthlyFull = replicas * perHour * hours;
    // A month is hours / 24 days of the curve.
    const monthlyCurve = curve ? curve.replica_hours_per_day * perHour * (hours / 24) : null;
    const per1kFull = perHour / (3.6 * cap);
    const per1kActual =
      curve && curve.inferences_per_day > 0
        ? ((curve.replica_hours_per_day * perHour) / curve.inferences_per_day) * 1000
        : (replicas * perHour) / (3.6 * inp.peakPerS);
    return {
      price_per_hour: perHour,
      monthly_full: monthlyFull,
      monthly_curve: monthlyCurve,
      per_1k_full_use: per1kFull,
      per_1m_full_use: per1kFull * 1000,
      per_1k_actual: per1kActual,
      per_1m_actual: per1kActual * 1000,
      per_1m_tokens_full_use: tokens ? (per1kFull * 1000) / tokens : null,
      per_1m_tokens_actual: tokens ? (per1kActual * 1000) / tokens : null,
      per_1k_correct_actual: accuracy ? per1kActual / accuracy : null,
    };
  };
  const onDemand = figures(price.onDemandPerHour);
  const spot = price.spotPerHour !== undefined ? figures(price.spotPerHour) : null;
  const basis = curve
    ? 'on-demand, replicas following the daily curve'
    : 'on-demand, the peak replicas held all month at the peak traffic';
  return {
    currency: inp.prices.currency,
    instance: inp.instance,
    gpus: price.gpus ?? null,
    prices_file: inp.prices.source,
    hours_per_month: hours,
    capacity_per_replica: cap,
    capacity_source: inp.capacitySource,
    tokens_per_inference: tokens,
    accuracy,
    peak_per_s: inp.peakPerS,
    headroom: inp.headroom,
    min_replicas: inp.minReplicas,
    replicas,
    utilisation_at_peak: inp.peakPerS / (replicas * cap),
    ...(curve ? { curve } : {}),
    on_demand: onDemand,
    spot,
    headline: {
      per_1k: onDemand.per_1k_actual,
      per_1m: onDemand.per_1m_actual,
      monthly: onDemand.monthly_curve ?? onDemand.monthly_full,
      replicas,
      basis,
    },
    notes: notesFor(price, curve !== undefined, hours),
  };
}

function notesFor(price: InstancePrice, curve: boolean, hours: number): string[] {
  const notes = [
    'replicas: max(min replicas, ceil(peak × (1 + headroom) / capacity per replica)).',
    `monthly (full): the peak replicas held for ${hours} hours.`,
    'per 1k at full use: the price of one replica-hour / the inferences one replica serves in an hour at its capacity — the floor, reached only when every replica is busy.',
    curve
      ? 'per 1k actual: the replica-hours the daily curve needs (each hour: the replicas for its rate with headroom) / the inferences it serves.'
      : 'per 1k actual: the peak replicas for the peak traffic, all month (no daily curve given).',
  ];
  if (price.spotPerHour === undefined) notes.push('no spot price in the price list: spot figures omitted.');
  return notes;
}

/** Two versions' costs side by side (v1 = a, v2 = b): which is cheaper per inference and per correct inference. */
export interface CostComparison {
  per_1k: { a: number; b: number; ratio: number };
  per_1k_correct: { a: number; b: number; ratio: number } | null;
  monthly: { a: number; b: number; ratio: number };
  replicas: { a: number; b: number };
  /** 'b' when v2 is cheaper per correct inference (per inference when accuracy is unknown). */
  cheaper: 'a' | 'b' | 'same';
  text: string;
}

export function compareCosts(a: CostSummary, b: CostSummary, names: [string, string] = ['v1', 'v2']): CostComparison {
  const pa = a.headline.per_1k;
  const pb = b.headline.per_1k;
  const ca = a.on_demand.per_1k_correct_actual;
  const cb = b.on_demand.per_1k_correct_actual;
  const correct = ca !== null && cb !== null ? { a: ca, b: cb, ratio: cb / ca } : null;
  const judged = correct ?? { a: pa, b: pb, ratio: pb / pa };
  const cheaper = Math.abs(judged.ratio - 1) < 1e-9 ? 'same' : judged.ratio < 1 ? 'b' : 'a';
  const per = correct ? 'per correct inference' : 'per inference (accuracy unknown)';
  const pctDiff = Math.abs(judged.ratio - 1) * 100;
  const text =
    cheaper === 'same'
      ? `${names[0]} and ${names[1]} cost the same ${per}.`
      : `${cheaper === 'b' ? names[1] : names[0]} is cheaper ${per}: ${pctDiff.toFixed(1)} % ${cheaper === 'b' ? 'less' : 'more'} for ${names[1]} than ${names[0]}.`;
  return {
    per_1k: { a: pa, b: pb, ratio: pb / pa },
    per_1k_correct: correct,
    monthly: { a: a.headline.monthly, b: b.headline.monthly, ratio: b.headline.monthly / a.headline.monthly },
    replicas: { a: a.replicas, b: b.replicas },
    cheaper,
    text,
  };
}
