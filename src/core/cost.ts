/**
 * Capacity and cost planning: the price list a user supplies, and the cost section of a summary
 * (`summary.cost`). The model is src/cost; the plan's `cost:` section and price files are parsed in
 * src/plan/cost.ts; docs/cost.md says what each figure means.
 */

/** One instance type of a price list: prices per hour in the list's currency. */
export interface InstancePrice {
  onDemandPerHour: number;
  /** Absent: no spot price given (spot figures are not computed). */
  spotPerHour?: number;
  gpus?: number;
  gpu?: string;
}

/** A user's price list (a YAML file; no network access). */
export interface PriceList {
  /** The file it was read from (for messages). */
  source: string;
  currency: string;
  instances: Record<string, InstancePrice>;
}

/** Costs at one price (on-demand or spot). Money in the summary's currency. */
export interface CostFigures {
  /** Price of one replica for one hour. */
  price_per_hour: number;
  /** `replicas` held all month (hours_per_month hours). */
  monthly_full: number;
  /** Replicas following the daily curve, hour by hour (null: no curve). */
  monthly_curve: number | null;
  /** Per 1,000 inferences when every replica is busy at its capacity: price / (3.6 × capacity). The floor. */
  per_1k_full_use: number;
  per_1m_full_use: number;
  /** Per 1,000 inferences actually served: at the peak all month with `replicas` held (no curve), or following the curve. */
  per_1k_actual: number;
  per_1m_actual: number;
  /** Text generation: per 1M output tokens, at full use and actual use (null: not measured). */
  per_1m_tokens_full_use: number | null;
  per_1m_tokens_actual: number | null;
  /** Per 1,000 *correct* inferences at actual use: per_1k_actual / accuracy (null: accuracy unknown). */
  per_1k_correct_actual: number | null;
}

/** summary.cost: replicas and cost at the expected traffic, from a measured capacity. */
export interface CostSummary {
  currency: string;
  instance: string;
  gpus: number | null;
  prices_file: string;
  hours_per_month: number;
  /** Inferences per second one replica sustains (within the SLO where the source says so). */
  capacity_per_replica: number;
  /** Where the capacity came from, in words (capacity profile, a run's goodput, throughput, or the plan). */
  capacity_source: string;
  /** Output tokens per inference (text generation; null otherwise). */
  tokens_per_inference: number | null;
  /** Share of correct inferences, when the run measured it (null otherwise). */
  accuracy: number | null;
  peak_per_s: number;
  headroom: number;
  min_replicas: number;
  /** Replicas needed at the peak: max(min_replicas, ceil(peak × (1 + headroom) / capacity)). */
  replicas: number;
  /** Peak traffic / (replicas × capacity). */
  utilisation_at_peak: number;
  /** The daily curve (absent: none given): replicas per hour and what they serve. */
  curve?: {
    rates_per_s: number[];
    replicas: number[];
    replica_hours_per_day: number;
    inferences_per_day: number;
    /** Inferences served / (replica-hours × capacity × 3600). */
    utilisation: number;
  };
  on_demand: CostFigures;
  spot: CostFigures | null;
  /**
   * The figures thresholds read (`cost.per_1k`, `cost.per_1m`, `cost.monthly`, `cost.replicas`):
   * on-demand, at actual use (following the curve when there is one, else the peak all month).
   */
  headline: { per_1k: number; per_1m: number; monthly: number; replicas: number; basis: string };
  /** What each figure means, in words, for the reports. */
  notes: string[];
}
