/**
 * The validated, resolved plan. Durations are milliseconds, rates are per second, secrets are
 * interpolated (and listed in `secrets` so every output can redact them).
 * The plan file's own syntax (strings like `30s`, `200/s`) is parsed into this by src/plan.
 */

export type Executor =
  | 'constant-arrival-rate'
  | 'ramping-arrival-rate'
  | 'constant-concurrency'
  | 'ramping-concurrency'
  | 'iterations';

export type ProtocolName = 'http' | 'kserve-v2' | 'tfserving' | 'torchserve' | 'openai';

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
  /** Keep-alive connections per worker shard; default: enough for the load (see engine). */
  connections?: number;
  /** Per-request timeout (headers and body), default 30 s. */
  timeoutMs: number;
  connectTimeoutMs: number;
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

export interface ScenarioPlan {
  name: string;
  executor: Executor;
  protocol: ProtocolName;
  /** Offset from run start. */
  startTimeMs: number;
  /** Stop after this long (for stage executors: sum of stages). */
  durationMs?: number;
  /** Stop after this many requests (iterations executor: required). */
  maxRequests?: number;
  /** After the end, wait this long for requests in flight; then they are cancelled and counted. */
  gracefulStopMs: number;

  // arrival-rate executors
  rate?: number;
  startRate?: number;
  arrival: 'uniform' | 'poisson';
  /** Cap on requests in flight (open model); arrivals beyond it wait and are counted late, never dropped silently. */
  maxInFlight?: number;

  // concurrency executors
  concurrency?: number;
  startConcurrency?: number;
  thinkTimeMs?: number;

  stages?: Stage[];

  /** Target override for this scenario. */
  target?: Partial<Pick<TargetPlan, 'url' | 'headers' | 'connections' | 'timeoutMs'>>;
  request?: RequestTemplate;

  /** kserve-v2 / tfserving / torchserve / openai */
  model?: string;
  modelVersion?: string;
  /** openai: `chat` or `completions`, whether to stream, and per-request SLOs for goodput. */
  openai?: { endpoint: 'chat' | 'completions'; stream: boolean; maxTokens?: number; slo?: Record<string, number> };
  /** Traffic mix of several models/endpoints with weights (or zipf). */
  mix?: { models: Array<{ name: string; weight: number; version?: string }>; zipf?: number };
  /** tfserving: request form — `row` ({instances}) or `columnar` ({inputs}); default row. */
  tfserving?: { format: 'row' | 'columnar'; signatureName?: string };
  /**
   * torchserve: body of a request — `json` (the row's input values as a JSON array, the default) or
   * `raw` bytes from a data column (`column`; `encoding` utf8 text, base64, or `file` = a path to read).
   */
  torchserve?: { payload: 'json' | 'raw'; column?: string; encoding?: 'utf8' | 'base64' | 'file'; contentType?: string };

  data?: DataPlan;
  synthetic?: SyntheticPlan;
  quality?: QualityPlan;
  checks: Check[];
  tags: Record<string, string>;
}

export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';

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
    /** Worker threads generating load; 1 = in the main thread. */
    workers: number;
    /** Seed for arrival jitter, data order, synthetic data. */
    seed: number;
    /** Metrics window length. */
    intervalMs: number;
    /** Mark the run generator_overloaded when dispatch lag p99 exceeds this. */
    maxDispatchLagMs: number;
  };
  /** Interpolated secret values, to redact from every output. Never printed. */
  secrets: string[];
}
