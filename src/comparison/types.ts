/**
 * The judging side of a release comparison: what a canary classifier is given and returns. The
 * classifiers (Kayenta's NetflixACAJudge and Preflight's own) plug into one scorer.
 */
import type { CanaryClass, ComparisonVerdict, StatTest } from '../core/comparison.js';
import type { CanaryMetricConfig } from '../plan/comparison.js';
import type { Binned } from '../stats/binned.js';

/** One metric's data for control and experiment: per-request values (binned), or event counts. */
export type MetricData =
  | {
      kind: 'values';
      control: Binned;
      experiment: Binned;
      /** Per-window aggregates (e.g. per-second p99), for judges that work on a time series as Kayenta does. */
      controlSeries?: number[];
      experimentSeries?: number[];
    }
  | { kind: 'counts'; control: { events: number; total: number }; experiment: { events: number; total: number } };

export interface MetricClassification {
  classification: CanaryClass;
  reason?: string;
  tests: StatTest[];
  /**
   * A critical failure (sets the canary score to 0). Absent: the scorer's rule, a `critical` metric
   * not classified Pass. Kayenta's classifier sets it itself (its critical effect-size thresholds).
   */
  critical?: boolean;
  /** NoData that counts as a failing metric (mustHaveData, not critical). Absent: the scorer's rule. */
  failed?: boolean;
}

/** A canary classifier: one metric's data and config → High / Low / Pass / NoData with its statistics. */
export type CanaryClassifier = (data: MetricData, config: CanaryMetricConfig) => MetricClassification;

/** What run() measured for one variant, the judges' input (built from the variant's results group). */
export interface VariantData {
  name: string;
  /** Requests that finished (succeeded or failed), and of them failed. */
  requests: number;
  errors: number;
  /** Per-request latency (ms, from the intended start), binned, whole run. */
  latency: Binned;
  /** The same per window, in time order (for block bootstrap and per-window series). */
  latencyWindows: Binned[];
  /** Other per-request durations by metric name (service_time, ttfb, ttft, itl), ms. */
  durations: Record<string, Binned>;
  /** Quality (classification): rows scored, and of them predicted right. */
  scored?: number;
  correct?: number;
}

/** Paired design: the same rows went to both arms; correctness of each pair. */
export interface PairedCounts {
  bothCorrect: number;
  controlOnly: number;
  candidateOnly: number;
  neither: number;
}

export interface ComparisonInput {
  control: VariantData;
  candidate: VariantData;
  paired?: PairedCounts;
  /** Active (planned) duration of the compared scenario, seconds. */
  durationS: number;
}

/** A judge's answer: its result section, the verdict and why. */
export interface Judgement<T> {
  result: T;
  verdict: ComparisonVerdict;
  reasons: string[];
}
