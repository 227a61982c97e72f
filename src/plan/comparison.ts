/**
 * Configuration of a release comparison (A/B, canary, shadow), resolved from the plan's `variants:`
 * and `comparison:` sections (syntax and validation: src/plan/syntax.ts / resolve.ts). The judging
 * lives in src/comparison; the results' types in src/core/comparison.ts.
 */

/** One version of the model under comparison: a target of its own, or another model/version on the same one. */
export interface VariantPlan {
  name: string;
  /** Share of an A/B or canary split (normalised over variants); ignored by shadow. */
  weight: number;
  /** Overrides of the scenario's target (url, headers, tls, …) and model. */
  url?: string;
  headers?: Record<string, string>;
  model?: string;
  modelVersion?: string;
  /** shadow: `primary` (current), `secondary` (a second instance of current) or `candidate`; ab/canary: `control` or `candidate`. */
  role: 'control' | 'candidate' | 'primary' | 'secondary';
}

/** Which change of a metric is harmful (Kayenta's `direction`). */
export type MetricDirection = 'increase' | 'decrease' | 'either';

/** A canary metric, with Kayenta's keys and defaults. */
export interface CanaryMetricConfig {
  /** Display name, e.g. `latency`. */
  name: string;
  /** What is measured per request: latency, service_time, ttfb, ttft, itl, error_rate, accuracy, … */
  metric: string;
  group: string;
  direction: MetricDirection;
  critical: boolean;
  mustHaveData: boolean;
  nanStrategy: 'remove' | 'replace';
  outliers: { strategy: 'keep' | 'remove'; factor: number };
  effectSize: {
    measure: 'meanRatio' | 'cles';
    allowedIncrease: number;
    allowedDecrease: number;
    criticalIncrease?: number;
    criticalDecrease?: number;
  };
}

export interface CanaryPlan {
  judge: 'preflight' | 'kayenta';
  metrics: CanaryMetricConfig[];
  /** Group weights (groups without one share the rest of 100 equally). */
  groupWeights: Record<string, number>;
  thresholds: { pass: number; marginal: number };
  /** Progressive rollout: candidate traffic shares (0–1), each step judged. Empty = one judgement. */
  steps: Array<{ share: number; durationMs: number }>;
  /** Let a marginal verdict through (exit 0) instead of stopping the rollout (exit 3). Default false. */
  marginalPasses: boolean;
  /**
   * A progressive rollout interrupted (Ctrl-C, SIGTERM) mid-step: `rollback` runs the rollback
   * action (traffic back to the control, as Argo Rollouts' abort), `hold` leaves the router at its
   * share. Default rollback: an unattended half-done rollout is the unsafe side.
   */
  onInterrupt: 'rollback' | 'hold';
  /** Run on each passed step (before the next share) and on the first failed one. */
  actions?: { promote?: ActionPlan; rollback?: ActionPlan; step?: ActionPlan };
}

/** A user's action: a command (argv, no shell) or an HTTP call. `${SHARE}` is replaced by the share (0–100). */
export type ActionPlan =
  | { kind: 'command'; argv: string[]; timeoutMs: number }
  | { kind: 'http'; method: string; url: string; headers: Record<string, string>; body?: string; timeoutMs: number };

export interface AbPlan {
  /** Family-wise (holm) or false-discovery (bh) correction over the metrics compared. */
  correction: 'holm' | 'bh' | 'none';
  alpha: number;
  /** Minimum power to call "no difference"; below it the answer is inconclusive. */
  power: number;
  /** Same rows in both arms, in the same time slots (McNemar for accuracy). */
  paired: boolean;
  /** Smallest effects worth detecting (tolerances), by metric: e.g. { 'latency.p99': 10 (ms), accuracy: 0.01 }. */
  minimumEffects: Record<string, number>;
  sequential: boolean;
}

export interface ShadowPlan {
  /** JSON paths to ignore (e.g. `$.id`, `$.created`). */
  ignore: string[];
  /** Numbers within these tolerances are equal. */
  tolerance: { absolute: number; relative: number };
  /** Diffy's thresholds (percent): relative 20, absolute 0.03. */
  relativeThreshold: number;
  absoluteThreshold: number;
  /** Send unsafe methods (POST is the norm for inference: allowed unless `safeOnly`). */
  allowSideEffects: boolean;
  topK: number;
  maxExamples: number;
}

export interface ComparisonPlan {
  kind: 'ab' | 'canary' | 'shadow';
  /** The scenario whose traffic is split (ab/canary) or mirrored (shadow). */
  scenario: string;
  variants: VariantPlan[];
  ab?: AbPlan;
  canary?: CanaryPlan;
  shadow?: ShadowPlan;
  /**
   * What an inconclusive comparison (too little data to decide) does to the run: `pass` (a warning,
   * exit 0; the default of ab and shadow), `fail` (exit 3) or `invalid` (exit 4, no data to trust:
   * the default of canary, as Argo Rollouts' Job provider needs).
   */
  inconclusive: 'pass' | 'fail' | 'invalid';
}
