/**
 * The validated, resolved plan. Durations are milliseconds, rates are per second, secrets are
 * interpolated (and listed in `secrets` so every output can redact them).
 * The plan file's own syntax (strings like `30s`, `200/s`) is parsed into this by src/plan.
 */

import type { ComparisonPlan } from './comparison.js';
import type { MonitorPlan } from './monitor.js';
import type { FaultsPlan } from './faults.js';
import type { ChecksPlan } from './check-kinds.js';
import type { CostPlan } from './cost.js';
import type { EXECUTORS, PROFILE_TYPES, PROTOCOLS } from './syntax.js';

// Each list is written once, as the const array the plan syntax validates against.
export type Executor = (typeof EXECUTORS)[number];

export type ProtocolName = (typeof PROTOCOLS)[number];

export interface Stage {
  durationMs: number;
  /** Rate (per second) for arrival-rate executors, concurrency for concurrency executors. */
  target: number;
}

export interface TlsOptions {
  /** true only when the plan says `insecure: true` (warned about). */
  insecure: boolean;
  /** PEM of an extra CA, read from `caFile`. */
  ca?: string;
}

export interface TargetPlan {
  /** Origin plus optional base path, e.g. http://127.0.0.1:8080 */
  url: string;
  headers: Record<string, string>;
  /** Keep-alive connections per scenario in total (split across worker shards); default: opened on demand. */
  connections?: number;
  /** Deadline for each whole request, from the send to the last response byte; default 30 s. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** `auto`: the built-in HTTP/1.1 client (http:// and https://); `undici`: undici. */
  client: 'auto' | 'undici';
  tls: TlsOptions;
  /** Health check before load: path polled until 2xx or `readyTimeoutMs`; null to skip. */
  readyPath: string | null;
  readyTimeoutMs: number;
}

/** Plain HTTP request template (protocol `http`). `{{column}}` in path/body is filled from a data row. */
export interface RequestTemplate {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Literal body (string) or JSON value serialised once. */
  body?: string;
}

export interface DataPlan {
  /** CSV, JSON Lines (.jsonl/.ndjson) or JSON array (.json) file, resolved against the plan's folder. */
  file: string;
  format: 'csv' | 'jsonl' | 'json';
  order: 'sequential' | 'shuffle' | 'sample';
  /** Columns → model input. For tensors: a list of column names, or a `p0..p63` range, flattened row-major. */
  inputs?: Array<{ name: string; columns: string[]; datatype: string; shape?: number[] }>;
  /** Column holding the true label (classification) or value (regression). */
  label?: string;
  /** Rows per request: fixed, or drawn uniformly from [min, max]. */
  batch: { min: number; max: number };
}

export interface SyntheticPlan {
  distribution: 'uniform' | 'normal';
  /** Uniform range or normal mean/std. */
  low?: number;
  high?: number;
  mean?: number;
  std?: number;
  /** Batch size; shape/datatype come from model metadata. */
  batch: number;
}

export interface QualityPlan {
  task: 'classification' | 'regression';
  /** How to get the prediction from a response: argmax of output tensor (default), a JSON path, or a field. */
  prediction: { kind: 'argmax'; output?: string } | { kind: 'path'; path: string };
  /** Save outputs to this file (golden run) … */
  saveGolden?: string;
  /** … or compare with a saved golden file within a tolerance. */
  golden?: { file: string; tolerance: number };
  /** Scenario (or warm-up phase) whose accuracy is the light-load reference for `accuracy_drop`. */
  reference?: string;
}

export interface Check {
  /** e.g. `status == 200`, `$.outputs[0].data exists`, `$.model_name == "digits"`, `$.id matches ^[a-z]+$` */
  expression: string;
}

/**
 * What every scenario has, whatever its executor: what to send, and when it starts and stops.
 * The load itself (rates, concurrency, stages, trace) is the executor's config, `ExecutorConfig`.
 */
export interface ScenarioCommon {
  name: string;
  protocol: ProtocolName;
  /** Offset from run start; with `after`, from the end of that scenario. */
  startTimeMs: number;
  /**
   * Start when this scenario has ended (count-bounded predecessors only: one with a planned end is
   * resolved to `startTimeMs` when the plan is loaded, see plan/after.ts). Each worker thread starts
   * its share when its share of the predecessor has finished.
   */
  after?: string;
  /** After the end, wait this long for requests in flight; then they are cancelled and counted. */
  gracefulStopMs: number;

  /** Target override for this scenario. */
  target?: Partial<Pick<TargetPlan, 'url' | 'headers' | 'connections' | 'timeoutMs'>>;
  request?: RequestTemplate;

  /** kserve-v2 / tfserving / torchserve / openai */
  model?: string;
  modelVersion?: string;
  /** openai: `chat` or `completions`, whether to stream, and per-request SLOs for goodput. */
  openai?: { endpoint: 'chat' | 'completions'; stream: boolean; maxTokens?: number; slo?: Record<string, number> };
  /** Traffic mix of several models/endpoints with weights (or zipf). */
  /** `name` is the results group; `model` the server's model name (default: `name`), so versions of one model can be mixed. */
  mix?: { models: Array<{ name: string; model?: string; weight: number; version?: string }>; zipf?: number };
  /** tfserving: request form — `row` ({instances}) or `columnar` ({inputs}); default row. `checkStatus: false` skips the model status check. */
  tfserving?: { format: 'row' | 'columnar'; signatureName?: string; checkStatus?: boolean };
  /**
   * torchserve: body of a request — `json` (the row's input values as a JSON array, the default) or
   * `raw` bytes from a data column (`column`; `encoding` utf8 text, base64, or `file` = a path to read).
   */
  torchserve?: {
    payload: 'json' | 'raw';
    column?: string;
    encoding?: 'utf8' | 'base64' | 'file';
    contentType?: string;
  };

  data?: DataPlan;
  synthetic?: SyntheticPlan;
  quality?: QualityPlan;
  checks: Check[];
  tags: Record<string, string>;
}

/** Arrival process of the open-model executors: evenly spaced, Poisson, or gamma-distributed gaps (bursty). */
export type ArrivalProcess = 'uniform' | 'poisson' | 'gamma';

/** Keys every arrival-rate (open model) executor has. */
interface OpenModelConfig {
  arrival: ArrivalProcess;
  /** arrival gamma: coefficient of variation of the gaps (1 = Poisson; larger = burstier). Default 1 (not written here). */
  burstiness?: number;
  /** Cap on requests in flight; arrivals beyond it wait and are counted late, never dropped silently. Default: from the peak rate (engine). */
  maxInFlight?: number;
  /** Stop after this many requests (an upper bound beside the duration). */
  maxRequests?: number;
}

/** Keys every concurrency (closed model) executor has. */
interface ClosedModelConfig {
  /** No arrival process in a closed model: always `uniform`, kept only so plan.resolved.json reads as before. */
  arrival: 'uniform';
  /** Pause between a response and the user's next request. Default 0 (not written here). */
  thinkTimeMs?: number;
  /** Stop after this many requests (an upper bound beside the duration). */
  maxRequests?: number;
}

export interface ConstantArrivalRateConfig extends OpenModelConfig {
  executor: 'constant-arrival-rate';
  /** Requests started per second. */
  rate: number;
  durationMs: number;
}

export interface RampingArrivalRateConfig extends OpenModelConfig {
  executor: 'ramping-arrival-rate';
  /** Rate before the first stage (default 0). */
  startRate: number;
  /** Stage targets are rates (per second). */
  stages: Stage[];
  /** The sum of the stages. */
  durationMs: number;
}

export interface ConstantConcurrencyConfig extends ClosedModelConfig {
  executor: 'constant-concurrency';
  concurrency: number;
  durationMs: number;
}

export interface RampingConcurrencyConfig extends ClosedModelConfig {
  executor: 'ramping-concurrency';
  /** Concurrency before the first stage (default 0). */
  startConcurrency: number;
  /** Stage targets are concurrencies. */
  stages: Stage[];
  /** The sum of the stages. */
  durationMs: number;
}

export interface IterationsConfig extends ClosedModelConfig {
  executor: 'iterations';
  /** The requests to send, shared by the users. */
  maxRequests: number;
  concurrency: number;
  /** An upper bound; none when undefined. */
  durationMs?: number;
}

export interface ReplayConfig {
  executor: 'replay';
  /** Times come from the trace: always `uniform`, kept only so plan.resolved.json reads as before. */
  arrival: 'uniform';
  /** The trace of request times to replay (open model). */
  trace: TracePlan;
  /** Cap on requests in flight, as for arrival-rate executors. Default: from the trace's peak rate (engine). */
  maxInFlight?: number;
  /** Replay only the part of the trace before this. */
  durationMs?: number;
  maxRequests?: number;
}

/**
 * An executor's config, keyed by `executor`, so the compiler knows which keys an executor has
 * (no `rate` on a closed-model executor). Resolved by plan/executors.ts; each is run by its module
 * in src/engine/executors/.
 */
export type ExecutorConfig =
  | ConstantArrivalRateConfig
  | RampingArrivalRateConfig
  | ConstantConcurrencyConfig
  | RampingConcurrencyConfig
  | IterationsConfig
  | ReplayConfig;

/** The config of one executor: `ExecutorConfigOf<'replay'>` is `ReplayConfig`. */
export type ExecutorConfigOf<E extends Executor> = Extract<ExecutorConfig, { executor: E }>;

/** A resolved scenario: what to send (`ScenarioCommon`) and its executor's config. */
export type ScenarioPlan = ScenarioCommon & ExecutorConfig;

/** A scenario whose executor is (one of) `E`. */
export type ExecutorPlan<E extends Executor> = ScenarioCommon & ExecutorConfigOf<E>;

/**
 * A profile's `scenario:` template: what to send, no load (the profile sets it). `executor` and
 * `arrival` are placeholders the template has always carried, kept so plan.resolved.json reads as before.
 */
export type ScenarioTemplate = ScenarioCommon & { executor: 'constant-arrival-rate'; arrival: 'uniform' };

/** A trace of request times (replay executor). */
export interface TracePlan {
  /** CSV or JSON Lines file, resolved against the plan's folder. */
  file: string;
  format: 'csv' | 'jsonl';
  /** Column (or JSON field) holding each request's time. Default `timestamp`. */
  time: string;
  /**
   * Unit of numeric times: `s`, `ms`, `us` or `ns` (default `s`). Non-numeric values are parsed as
   * dates (ISO 8601). Times are taken relative to the earliest one.
   */
  unit: 's' | 'ms' | 'us' | 'ns';
  /** Column holding the data row each request carries (sequential order, batch 1). */
  row?: string;
  /** Replay speed: 2 = twice as fast (gaps halved). Default 1. */
  speed: number;
}

export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** Where a comparison threshold reads its value: a field of the verdict, the canary, the shadow, or an A/B test. */
export interface ComparisonThreshold {
  section: 'comparison' | 'ab' | 'canary' | 'shadow';
  /** ab: the StatTest's `metric` (e.g. `accuracy`, `latency.p99`). */
  test?: string;
  /** verdict, score, agreement, compared, differing_fields; ab: diff, p, power, ci_low, ci_high. */
  field: string;
}

export interface ThresholdPlan {
  /** As written, e.g. `steady.p99 < 250ms`. */
  expression: string;
  /** Scenario (and optional group, `scenario/group`) it applies to; undefined = all scenarios merged. */
  scenario?: string;
  group?: string;
  /** Metric name: latency, service_time, ttfb, error_rate, throughput, requests, accuracy, ttft, … */
  metric: string;
  /** Statistic for histogram metrics: p50, p99, p99.9, max, mean, min; undefined for plain values. */
  stat?: string;
  op: Comparator;
  /** Value in the metric's base unit: ms for durations, fraction for rates/percentages, per second for throughput. */
  value: number;
  abortOnFail: boolean;
  /**
   * A threshold on `summary.comparison` (`comparison.verdict`, `canary.score`, `shadow.agreement`,
   * `ab.accuracy.diff`, …; see COMPARISON_METRICS in thresholds.ts): where its value is read.
   */
  comparison?: ComparisonThreshold;
  /** A threshold on `summary.target_metrics` (`target.cpu.max < 90%`): the metric and its statistic. */
  target?: { name: string; stat: string };
  /** A threshold on a profile's answer (`resilience.recovery_s < 30`): `summary.profiles.<profile>.numbers.<field>`. */
  answer?: { profile: 'resilience' | 'autoscale'; field: string };
  /** A threshold on a check's figure (`network.connect.p99 < 5ms`): `summary.checks`, result `id`, `figures[figure]`. */
  check?: { id: string; figure: string };
  /** A threshold on `summary.cost.headline` (`cost.per_1k < 0.02`, `cost.monthly <= 5000`): the field. */
  cost?: { field: 'per_1k' | 'per_1m' | 'monthly' | 'replicas' };
  /** With abortOnFail: evaluate only after this delay, so warm-up does not abort. */
  delayAbortEvalMs: number;
}

export interface Plan {
  /** Path of the plan file ('<inline>' when built in code). */
  source: string;
  target: TargetPlan;
  scenarios: ScenarioPlan[];
  thresholds: ThresholdPlan[];
  options: {
    /** Worker threads generating load (also 1 is a worker thread; the main thread merges, writes and judges). */
    workers: number;
    /** Seed for arrival jitter, data order, synthetic data. */
    seed: number;
    /** Metrics window length. */
    intervalMs: number;
    /** Mark the run generator_overloaded when dispatch lag p99 exceeds this, or a window’s worst lag does in ≥ 3 windows and more than a tenth of them. */
    maxDispatchLagMs: number;
    /** Scale-out runs (docs/scale-out.md); absent unless the plan sets it (defaults: no loss tolerated, 50 ms skew). */
    scaleOut?: {
      /** Largest lost share of the planned load that keeps the run valid (0–1). */
      tolerateLoss: number;
      /** Clock offset (or its uncertainty) beyond which a warning is given, ms. */
      maxClockSkewMs: number;
    };
  };
  /** Interpolated secret values, to redact from every output. Never printed. */
  secrets: string[];
  /**
   * A test profile (stress, soak, spike, …): the question the plan asks. When present, `scenarios`
   * is empty and `profile.template` says what to send; `runProfile` (src/profiles) expands it into
   * scenarios or a sequence of runs. Thresholds are unscoped and apply to each step / phase.
   */
  profile?: ProfilePlan;
  /** A release comparison (A/B, canary, shadow) of one scenario's variants (docs/release-comparisons.md). */
  comparison?: ComparisonPlan;
  /** Target metrics read beside the load (docs/monitoring.md). */
  monitor?: MonitorPlan;
  /** Faults and actions on a timeline, through a fault proxy in front of one target (docs/faults.md). */
  faults?: FaultsPlan;
  /** Assumption checks (`preflight check`, and `preflight run` before the load), one per kind (docs/checks.md). */
  checks?: ChecksPlan;
  /** Capacity and cost planning from the measured capacity (docs/cost.md). */
  cost?: CostPlan;
}

export type ProfileType = (typeof PROFILE_TYPES)[number];

/** When per-window latency and errors count as "back to normal" (spike, rollout). */
export interface RecoveryRule {
  /** Window p99 may exceed the baseline reference p99 by this fraction (default 0.2) … */
  latencyTolerance: number;
  /** … or by this many ms, whichever is larger (default 5). */
  marginMs: number;
  /** Window error rate may exceed the baseline error rate by this much (fraction, default 0.01). */
  errorTolerance: number;
  /** Consecutive windows that must meet both (default 3). */
  windows: number;
}

/** Steady state of a step (sweep, capacity): measurement windows that agree. */
export interface SteadyRule {
  /** Measurement window (default 5 s). */
  windowMs: number;
  /** The last `windows` windows agree when max/min − 1 ≤ tolerance for throughput and p99 (default 0.1). */
  tolerance: number;
  /** Windows that must agree (default 3). */
  windows: number;
  /** Most time per step (default 60 s); a step that never stabilises is reported as such. */
  maxStepMs: number;
}

/** Where the target's memory comes from (sampled every interval). */
export interface MemorySource {
  /** Resident memory (VmRSS) of a local process … */
  pid?: number;
  /** … whose pid is in this file (read when the run starts) … */
  pidFile?: string;
  /** … or a Prometheus text exposition URL … */
  url?: string;
  /** … and the metric to read from it (default process_resident_memory_bytes). */
  metric: string;
}

/** The user's action of a rollout profile. */
export type RolloutAction =
  | { kind: 'run'; argv: string[]; shell: boolean; display: string }
  | { kind: 'http'; method: string; url: string; headers: Record<string, string>; body?: string; display: string };

/**
 * A resolved `profile:` section: one type per kind, keyed by `type`, so the compiler knows which
 * fields a kind has. Every default is resolved (the spec in syntax.ts declares them).
 */
export type ProfilePlan =
  | LoadProfile
  | StressProfile
  | SoakProfile
  | SpikeProfile
  | BurstProfile
  | SweepProfile
  | CapacityProfile
  | RolloutProfile
  | ReplayProfile
  | ResilienceProfile
  | AutoscaleProfile;

/** The profile plan of one kind: `ProfileOf<'soak'>` is `SoakProfile`. */
export type ProfileOf<T extends ProfileType> = Extract<ProfilePlan, { type: T }>;

/** A plan whose profile is of the kind(s) `T`. */
export type PlanOf<T extends ProfileType> = Plan & { profile: ProfileOf<T> };

interface ProfileBase {
  /** What to send: the `scenario:` template (protocol, request/model/data, checks, quality). No load keys. */
  template: ScenarioTemplate;
}

/** The kinds that are one run: they can sample the target's memory every interval. */
interface SingleRunProfileBase extends ProfileBase {
  /** Target memory to sample every interval. */
  memory?: MemorySource;
}

/** The load of soak and rollout: an arrival rate (open), or a concurrency (closed). */
export type SteadyLoad = { rate: number; concurrency?: undefined } | { concurrency: number; rate?: undefined };

export interface LoadProfile extends SingleRunProfileBase {
  type: 'load';
  /** The expected peak (per second). */
  rate: number;
  /** Steps up to `rate` (the last is the hold). */
  steps: number;
  stepDurationMs: number;
  /** Length of the last step, at the target rate. */
  holdMs: number;
}

/** How stress steps rise: by `rateStep` each step (linear), or × `factor` (geometric). */
export type StressStep = { rateStep: number; factor?: undefined } | { factor: number; rateStep?: undefined };

export type StressProfile = SingleRunProfileBase &
  StressStep & {
    type: 'stress';
    startRate: number;
    /** Highest rate tried. */
    maxRate: number;
    stepDurationMs: number;
    /** Time bound of the whole run. */
    maxDurationMs?: number;
    /** Stop after this many consecutive failing steps. */
    stopAfter: number;
    /** A step with a larger error rate fails even without thresholds (fraction). */
    errorLimit: number;
  };

export type SoakProfile = SingleRunProfileBase &
  SteadyLoad & {
    type: 'soak';
    durationMs: number;
    /** Left out of the drift analysis. */
    warmupMs: number;
    /** Windows are merged into buckets this long for the drift regression (0 = automatic). */
    bucketMs: number;
    /** Significance level of the drift test. */
    alpha: number;
    /** Smallest relative change over the run (latency, memory) worth calling drift. */
    minChange: number;
    /** Smallest absolute change of the error rate over the run worth calling drift. */
    minErrorChange: number;
  };

export interface SpikeProfile extends SingleRunProfileBase {
  type: 'spike';
  /** The baseline rate. */
  rate: number;
  /** Rate during the spike (= factor × rate). */
  spikeRate: number;
  factor: number;
  beforeMs: number;
  spikeMs: number;
  afterMs: number;
  /** When it counts as recovered. */
  recovery: RecoveryRule;
}

export interface BurstProfile extends SingleRunProfileBase {
  type: 'burst';
  /** The mean rate. */
  rate: number;
  /** Coefficient of variation of the gamma gaps (1 = Poisson). */
  burstiness: number;
  /** Length of each phase. */
  durationMs: number;
  /** The smooth phase's arrivals. */
  smooth: 'uniform' | 'poisson';
}

export interface SweepProfile extends ProfileBase {
  type: 'sweep';
  /** The levels, rates (open) or concurrencies (closed). */
  levels: { mode: 'rate' | 'concurrency'; values: number[] };
  steady: SteadyRule;
  /** Pause between steps (the target drains what the previous step queued). */
  cooldownMs: number;
}

export interface CapacityProfile extends ProfileBase {
  type: 'capacity';
  /** First rate probed. */
  startRate: number;
  maxRate: number;
  /** Stop bisecting when hi − lo ≤ this (relative to lo, or an absolute rate). */
  precision: { relative?: number; absolute?: number };
  steady: SteadyRule;
  cooldownMs: number;
  /** Achieved throughput must be at least this fraction of the offered rate. */
  minThroughput: number;
  /** Most probes. */
  maxSteps: number;
  /** The verdict fails when the capacity found is below this rate. */
  atLeast?: number;
}

export type RolloutProfile = SingleRunProfileBase &
  SteadyLoad & {
    type: 'rollout';
    durationMs: number;
    /** When to start the action, from the start of the load. */
    atMs: number;
    /** The command or HTTP call. */
    action: RolloutAction;
    /** The action is stopped after this long. */
    actionTimeoutMs: number;
    recovery: RecoveryRule;
  };

export interface ReplayProfile extends SingleRunProfileBase {
  type: 'replay';
  /** The trace (with its speed). */
  trace: TracePlan;
}

/** resilience: steady load through the plan's fault timeline (plan `faults:`); an answer per fault window. */
export type ResilienceProfile = SingleRunProfileBase &
  SteadyLoad & {
    type: 'resilience';
    durationMs: number;
    /** When a window counts as back to normal after a fault (as spike's). */
    recovery: RecoveryRule;
    /**
     * The monitor metric counting the requests the target received (a counter, read as a rate), for
     * retry amplification; given only when the plan names it (default: the metric `requests`, if any).
     */
    targetRequests?: string;
  };

/**
 * autoscale: `rate` for `before`, a step up to `peakRate` for `hold`, back to `rate` for `after`; the
 * replica count over time from the plan's `monitor:` metrics (docs/monitoring.md#autoscaling-checks).
 */
export interface AutoscaleProfile extends SingleRunProfileBase {
  type: 'autoscale';
  /** The baseline rate. */
  rate: number;
  /** Rate of the step up (= factor × rate). */
  peakRate: number;
  factor: number;
  beforeMs: number;
  holdMs: number;
  afterMs: number;
  /** Monitor metric names: the ready (serving) replica count, and the desired count (the scaler's decision). */
  replicas: string;
  desired: string;
}
