/**
 * What a release comparison (A/B, canary, shadow) writes into `summary.comparison`: the result types
 * every reader shares (terminal, report.html, summary.md, junit.xml, thresholds). The judging lives
 * in src/comparison; its configuration in src/plan (types.ts `ComparisonPlan`).
 */

export type ComparisonKind = 'ab' | 'canary' | 'shadow';

/** pass / marginal / fail as canary tools say; `inconclusive` = too little data to decide either way. */
export type ComparisonVerdict = 'pass' | 'marginal' | 'fail' | 'inconclusive';

/** One statistical test of one metric between the control and one candidate. */
export interface StatTest {
  /** What was compared, e.g. `latency.p99`, `latency.median`, `error_rate`, `accuracy`. */
  metric: string;
  /** How, e.g. `hodges-lehmann/mann-whitney`, `block-bootstrap`, `fisher-exact`, `poisson-exact`, `mcnemar-exact`. */
  method: string;
  /** Observed value per arm, in `unit`. */
  control: number;
  candidate: number;
  /** Effect: candidate − control (`difference`) or candidate / control (`ratio`), in `unit` for differences. */
  estimate: number;
  scale: 'difference' | 'ratio';
  /** Confidence interval of the estimate at `confidence` (e.g. 0.95). */
  ci: [number, number];
  confidence: number;
  pValue: number;
  /** After the multiple-metric correction named in the enclosing result. */
  adjustedPValue?: number;
  /** Power to detect `minimumEffect` (the tolerance) with the data seen; below the plan's minimum = inconclusive. */
  power?: number;
  minimumEffect?: number;
  unit: 'ms' | 'fraction' | 'per_s' | '';
  outcome: 'better' | 'worse' | 'no-difference' | 'inconclusive';
}

export interface AbResult {
  tests: StatTest[];
  alpha: number;
  /** `bonferroni`: a sequential run's always-valid tests (each at alpha/k at every look). */
  correction: 'holm' | 'bh' | 'none' | 'bonferroni';
  /** Whether both arms were sent the same rows in the same time slots (McNemar for accuracy). */
  paired: boolean;
  /** Sequential mode: the method and whether it stopped early, and why. */
  sequential?: {
    method: string;
    stoppedEarly: boolean;
    reason?: string;
    /** Looks taken during the run (one per merged measurement window), and the final one. */
    looks?: number;
    /** Which tests the verdict used: the always-valid ones (`tests` are then the mSPRT's). */
    judgedBy?: 'always-valid';
    /** Where the run was stopped: requests of both arms and seconds since the load started. */
    stoppedAt?: { requests: number; seconds: number };
  };
}

export type CanaryClass = 'Pass' | 'High' | 'Low' | 'NoData';

export interface CanaryMetricResult {
  name: string;
  group: string;
  direction: 'increase' | 'decrease' | 'either';
  critical: boolean;
  classification: CanaryClass;
  /** NoData with mustHaveData (and not critical) counts as a failing metric. */
  failed: boolean;
  reason?: string;
  controlCount: number;
  experimentCount: number;
  tests: StatTest[];
}

export interface CanaryResult {
  judge: 'preflight' | 'kayenta';
  /** 0–100, rounded to 2 decimals. */
  score: number;
  thresholds: { pass: number; marginal: number };
  classification: 'pass' | 'marginal' | 'fail';
  metrics: CanaryMetricResult[];
  groups: Record<string, { score: number; weight: number }>;
  /** Progressive rollout: one entry per traffic share judged. */
  steps?: Array<{ share: number; score: number; classification: 'pass' | 'marginal' | 'fail'; action?: string }>;
}

export interface ShadowFieldResult {
  /** JSON path of the field, e.g. `$.outputs[0].data[3]` (array indices collapsed to `[*]` where configured). */
  path: string;
  /** Share of compared requests where primary and candidate differ in this field. */
  rawRate: number;
  /** Share where primary and secondary differ (the current version's own noise). */
  noiseRate: number;
  /** Diffy's |raw − noise| / (raw + noise) × 100 and |raw − noise| / total × 100. */
  relative: number;
  absolute: number;
  /** Reported as a real difference (raw > noise and both margins exceeded). */
  reported: boolean;
  /** A few differing examples (redacted), primary vs candidate values. */
  examples?: Array<{ primary: unknown; candidate: unknown }>;
}

export interface ShadowResult {
  /** Requests whose three responses were all received and compared. */
  compared: number;
  /** Share of compared requests with the same predicted label (or top-1) from primary and candidate. */
  agreement: number;
  fields: ShadowFieldResult[];
  /** ML-aware figures; absent where the responses carry no prediction of that kind. */
  ml?: Record<string, number>;
  /** With labels: McNemar on correctness (which version is right more often on the same inputs). */
  correctness?: StatTest;
}

export interface ComparisonSummary {
  kind: ComparisonKind;
  scenario: string;
  /** Variant names: the control (current version) and the candidate(s). */
  control: string;
  candidate: string;
  verdict: ComparisonVerdict;
  /** Why, in a sentence each (first the deciding ones). */
  reasons: string[];
  ab?: AbResult;
  canary?: CanaryResult;
  shadow?: ShadowResult;
  /** What an inconclusive verdict does to the run (the plan's `comparison.inconclusive`): pass (a warning) or fail (exit 3). */
  inconclusive?: 'pass' | 'fail' | 'invalid';
  /** Canary: whether a marginal verdict passes (exit 0) or stops the rollout (exit 3, the default). */
  marginalPasses?: boolean;
  /** Every variant compared, with its role (its measurements are `summary.scenarios[scenario].groups[name]`). */
  variants?: Array<{ name: string; role: string }>;
  /** A/B, paired design: the two arms' correctness per row, and rows not joined (an arm failed or was not scored). */
  paired?: { bothCorrect: number; controlOnly: number; candidateOnly: number; neither: number; unpaired: number };
}
