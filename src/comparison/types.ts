/**
 * The judging side of a release comparison: what a canary classifier is given and returns. The
 * classifiers (Kayenta's NetflixACAJudge and Preflight's own) plug into one scorer.
 */
import type { CanaryClass, StatTest } from '../core/comparison.js';
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
}

/** A canary classifier: one metric's data and config → High / Low / Pass / NoData with its statistics. */
export type CanaryClassifier = (data: MetricData, config: CanaryMetricConfig) => MetricClassification;
