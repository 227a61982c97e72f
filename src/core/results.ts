/**
 * The results folder's formats (documented in docs/results-format.md):
 *   summary.json      — Summary below, written at the end (and on Ctrl-C, marked interrupted)
 *   intervals.ndjson  — one IntervalRecord per line, per window per scenario (and group), appended live
 *   plan.resolved.json — the plan that ran, secrets redacted
 *   target-metrics.ndjson — TargetWindowRecord per line: the target's own metrics (plan `monitor:`)
 */
import type { ChecksSummary } from './checks.js';
import type { ComparisonSummary } from './comparison.js';
import type { CostSummary } from './cost.js';

/** Latency-like statistics, milliseconds. */
export interface DurationStats {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export interface ScenarioSummary {
  executor: string;
  protocol: string;
  /** 'open': latency counts from the intended start; 'closed': intended start = actual send. */
  model: 'open' | 'closed';
  durationS: number;
  requests: number;
  ok: number;
  /** Failed requests by class (connection_refused, timeout, http_5xx, …). */
  errors: Record<string, number>;
  /**
   * First few distinct failure messages per error class (at most 3 per class and worker thread,
   * secrets redacted), to tell why: `{ timeout: ["PREFLIGHT_REQUEST_TIMEOUT: …"] }`. Scenarios and
   * the total; not groups. Absent in summaries written before it existed.
   */
  error_reasons?: Record<string, string[]>;
  /** (failed + cancelled) / (completed + cancelled): requests cancelled at the stop count as failed. */
  error_rate: number;
  /** Completed requests per second (successful and failed) over the scenario's active time. */
  throughput: number;
  /** Successful (`ok`) requests per second over the same time: what the target actually served (absent in older summaries). */
  ok_throughput?: number;
  /** Requested arrival rate (open model, mean over the run). */
  target_rate?: number;
  /** Open model: arrivals sent later than their intended time by more than the late tolerance. */
  late: number;
  /** Arrivals that were due but never sent (run ended first). */
  unsent: number;
  /**
   * Requests cut off by us: still in flight when the graceful stop ended (or at Ctrl-C / an abort).
   * Not an error class (the target did not answer wrongly, it had not answered yet), but counted
   * as failed in error_rate.
   */
  cancelled: number;
  bytes_in: number;
  bytes_out: number;
  /** Completion − intended start. */
  latency_ms: DurationStats;
  /** Completion − actual send. */
  service_time_ms: DurationStats;
  /** First response byte − actual send. */
  ttfb_ms: DurationStats;
  /** Send − intended start (scheduler lag plus waiting for an in-flight slot). */
  dispatch_lag_ms: DurationStats;
  /** Further histograms recorded by the protocol (ttft_ms, itl_ms, tpot_ms, …), ms. */
  histograms: Record<string, DurationStats>;
  /** Further counters recorded by the protocol (tokens_out, finish.stop, quality.correct, …). */
  counters: Record<string, number>;
  /** Maxima recorded by the protocol (e.g. golden.max_diff_e6). */
  maxes?: Record<string, number>;
  /** Sub-groups, e.g. per model in a traffic mix. */
  groups?: Record<string, ScenarioSummary>;
  /** Protocol- or feature-specific derived sections (quality, goodput, …). */
  [section: string]: unknown;
}

export interface ThresholdResult {
  expression: string;
  scenario?: string;
  /** Measured value in the metric's base unit (ms, fraction, per second); null when there was no data. */
  value: number | null;
  ok: boolean;
  /** Why it failed without a value (e.g. "no requests completed"). */
  note?: string;
}

export interface GeneratorHealth {
  overloaded: boolean;
  workers: number;
  /** HTTP client that sent the requests: `builtin` (Preflight's HTTP/1.1 client) or `undici` (`target.client: undici`). */
  http_client: 'builtin' | 'undici';
  /** Scheduler lag not caused by an in-flight cap (i.e. the generator's own lag), ms. */
  dispatch_lag_ms: { p50: number; p99: number; max: number };
  event_loop_delay_ms: { p50: number; p99: number; max: number };
  /**
   * Per shard window: how many had a worst lag (generator dispatch lag or event-loop delay) over
   * options.maxDispatchLag, of how many windows. Absent in summaries written before it existed.
   */
  windows_over_limit?: { count: number; of: number; limit_ms: number };
  /** Worker threads that died mid-run (their share of the load stopped): the run is invalid. Absent when none did. */
  worker_failures?: string[];
  /** Process CPU use, % of one core, mean and max over intervals. */
  cpu_percent: { mean: number; max: number };
  reasons: string[];
}

/** One worker process of a scale-out run (summary.scale_out.per_worker). */
export interface ScaleOutWorker {
  index: number;
  host: string;
  pid: number;
  /** Its clock minus the coordinator's, ms (NTP-style, the probe with the least round trip); corrected at the start. */
  clock_offset_ms: number;
  /** That probe's round trip, ms: the start is aligned to within about half of it. */
  clock_rtt_ms: number;
  /** Requests its shards sent (windows that reached the coordinator). */
  requests: number;
  /** Windows received from its shards (all threads). */
  windows: number;
  /** `ok`; `lost`: it died or went silent mid-run (named in `reason`); `overloaded`: its own generator could not keep up. */
  status: 'ok' | 'lost' | 'overloaded';
  reason?: string;
}

/** summary.scale_out: how the run was spread over worker processes and what reached the coordinator. */
export interface ScaleOutSummary {
  run_id: string;
  transport: 'nats' | 'http';
  workers: number;
  threads_per_worker: number;
  /** Total shards (workers × threads): worker i runs shards i·T … i·T + T − 1 of this many. */
  shards: number;
  /** Start time the coordinator set (ISO), and how far ahead of it the start was announced, ms. */
  start: string;
  start_lead_ms: number;
  /** Largest |clock offset| and largest half round trip over the workers, ms. */
  max_clock_offset_ms: number;
  max_clock_uncertainty_ms: number;
  /** options.scaleOut.maxClockSkew, ms. */
  clock_skew_limit_ms: number;
  /** Estimated share of the planned load not sent because workers were lost (each lost worker: its share × the time it missed). */
  lost_share: number;
  /** options.scaleOut.tolerateLoss: the largest lost share that still gives a valid run. */
  tolerate_loss: number;
  /** Windows the coordinator received twice (redelivered after a restart or a retried publish) and dropped. */
  duplicate_windows: number;
  /** The coordinator resumed a run it had started before (it restarted): windows were replayed from the stream. */
  resumed: boolean;
  per_worker: ScaleOutWorker[];
}

export type Verdict = 'passed' | 'failed' | 'invalid' | 'interrupted';

export interface Summary {
  format: 'preflight-summary/1';
  tool: { name: string; version: string; node: string };
  machine: { platform: string; arch: string; cpus: number; cpuModel: string; memoryGiB: number };
  plan: string;
  startedAt: string;
  endedAt: string;
  durationS: number;
  status: 'completed' | 'interrupted' | 'aborted';
  verdict: Verdict;
  exitCode: number;
  thresholds: ThresholdResult[];
  warnings: string[];
  generator: GeneratorHealth;
  /** All scenarios merged. */
  total: ScenarioSummary;
  scenarios: Record<string, ScenarioSummary>;
  /** Answers of profiles (stress, soak, spike, …), one section per profile. */
  profiles?: Record<string, unknown>;
  /** Capacity and cost planning (plan `cost:`, docs/cost.md). */
  cost?: CostSummary;
  /** Why the plan's cost section gave no figures (e.g. no capacity measured). */
  cost_note?: string;
  /** Why the run ended before its planned end without being interrupted (a profile had its answer). */
  endedEarly?: string;
  /** A release comparison's judgement (plan `comparison:`), see docs/release-comparisons.md. */
  comparison?: ComparisonSummary;
  /** A scale-out run (`preflight coordinator`): its workers, clocks and losses; see docs/scale-out.md. */
  scale_out?: ScaleOutSummary;
  /** Target metrics read beside the load (plan `monitor:`), by Preflight name; see docs/monitoring.md. */
  target_metrics?: Record<string, TargetMetricSummary>;
  /** Where the target's time went by load level (queue vs compute), when it exports both. */
  bottleneck?: BottleneckSummary;
  /** Target memory sampled every interval (profiles with `memory`), bytes. */
  target_memory?: {
    source: string;
    samples: number;
    first_bytes: number;
    last_bytes: number;
    min_bytes: number;
    max_bytes: number;
  };
  /** Faults and actions on the timeline (plan `faults:`), see docs/faults.md; also faults.ndjson, line by line. */
  faults?: FaultsSummary;
  /** Alert checks (plan `monitor.alerts`) read from Prometheus' ALERTS series; see docs/monitoring.md#alert-checks. */
  alerts?: AlertCheck[];
  /** Assumption checks (plan `checks:`; `preflight check`, or `preflight run` before the load); see docs/checks.md. */
  checks?: ChecksSummary;
}

/** One firing (or pending-only) episode of an alert; times in s from the start of the load. */
export interface AlertEpisode {
  /** First sample pending or firing. */
  active_s: number;
  /** First sample firing (null: it stayed pending). */
  firing_s: number | null;
  /** First sample after it was last active (null: still active when read). */
  resolved_s: number | null;
}

/**
 * One alert expectation and what Prometheus showed. Latencies in s: to pending / to firing from the
 * cause's start, to resolved from the cause's end; precision ± `step_s`.
 */
export interface AlertCheck {
  name: string;
  expect: 'fires' | 'never';
  /** The cause (`fires`): a fault window's or `load`'s span, s from the load's start (null: it never started). */
  cause?: { name: string; start_s: number | null; end_s: number | null };
  fires_within_s?: number;
  resolves_within_s?: number;
  /** Reached `firing` because of the cause. */
  fired: boolean;
  pending_after_s: number | null;
  firing_after_s: number | null;
  resolved_after_s: number | null;
  /** Firing episodes outside the cause (all of them with `never`). */
  false_alarms: number;
  episodes: AlertEpisode[];
  /** query_range step the episodes were read with. */
  step_s: number;
  ok: boolean;
  /** Why not ok (empty when ok). */
  reasons: string[];
  /** What Alertmanager's v2 API showed of it (plan monitor.alertmanager), polled during the run and the wait after. */
  alertmanager?: AlertmanagerView;
}

/** One alert as Alertmanager saw it: times in s from the load's start, ± `poll_s`. */
export interface AlertmanagerView {
  /** It was seen in Alertmanager's /api/v2/alerts. */
  reached: boolean;
  /** First poll that showed it. */
  seen_s: number | null;
  /** seen_s from the cause's start (`fires`). */
  seen_after_s: number | null;
  /** Alertmanager's `startsAt` of its first appearance (when Prometheus says it started firing). */
  starts_at_s: number | null;
  /** The last state seen: active, suppressed (silenced or inhibited) or unprocessed; null: never seen. */
  state: 'active' | 'suppressed' | 'unprocessed' | null;
  /** Every state seen, in order of first appearance. */
  states: string[];
  silenced_by: string[];
  inhibited_by: string[];
  /** Receivers its route sends it to. */
  receivers: string[];
  /** Seen active (not silenced or inhibited) with a receiver: Alertmanager would notify (after group_wait). */
  would_notify: boolean;
  poll_s: number;
  /** Polls that failed (their moments are unknown). */
  failed_polls: number;
}

/** One event of the fault timeline (a line of faults.ndjson); `t_s` from the start of the load. */
export interface TimelineEvent {
  t_s: number;
  event: 'fault_on' | 'fault_off' | 'action_start' | 'action_end';
  /** The entry's name. */
  name: string;
  /** The fault's type (`latency`, `abort`, …) or the action's kind (`command`, `http`, `signal`). */
  type: string;
  /** An entry's `undo` action (at `at + for`). */
  undo?: boolean;
  /** action_end: how it went (redacted; never the argv or headers). */
  ok?: boolean;
  detail?: string;
  duration_ms?: number;
  exit_code?: number | null;
  status?: number;
  /** fault_off: why it ended early (the run ended, was interrupted). */
  reason?: string;
}

/** A fault window (or an action's window: an entry with `for`), as it happened. */
export interface FaultWindow {
  name: string;
  kind: 'fault' | 'action';
  type: string;
  /** Planned start and end (s from the start of the load). */
  at_s: number;
  end_s: number;
  /** When it started and ended (null: never started; ended with the run). */
  started_s: number | null;
  ended_s: number | null;
}

export interface FaultsSummary {
  /** The target's origin the proxy fronted. */
  target: string;
  windows: FaultWindow[];
  events: TimelineEvent[];
  /** Connections and requests the proxy saw. */
  proxy?: { connections: number; requests: number };
}

/**
 * One target metric over the run's load windows (margins excluded), in its unit: percent as 0–100,
 * bytes, ms, per second. Statistics are over the per-window values; histograms' p50/p90/p99 are of
 * all observations in the run (bucket interpolation as Prometheus' histogram_quantile).
 */
export interface TargetMetricSummary {
  unit: string;
  kind: 'gauge' | 'counter' | 'histogram';
  /** Where it was read: `scrape`, `prometheus`, or `command` (monitor.replicas). */
  source: 'scrape' | 'prometheus' | 'command';
  /** Windows with a value, of the load windows (the others are gaps: no series or no change to rate). */
  windows: number;
  of: number;
  min: number | null;
  mean: number | null;
  max: number | null;
  last: number | null;
  /** Least-squares slope over the windows, per hour (memory growth); absent with fewer than 3 values. */
  growth_per_hour?: number;
  p50?: number | null;
  p90?: number | null;
  p99?: number | null;
}

/** Queue vs compute time per load level (Triton-style metrics), and where queueing starts to dominate. */
export interface BottleneckSummary {
  levels: {
    /** Requests per second completed at this level (Preflight's throughput). */
    rate: number;
    queue_ms: number;
    compute_ms: number;
    /** queue / (queue + compute). */
    queue_share: number;
    batch_size?: number;
  }[];
  /** The lowest rate from which queueing takes more time than compute; null when it never does. */
  queue_dominated_from: number | null;
  /** In words. */
  text: string;
}

/** One line of target-metrics.ndjson: the target's figures in one window (t < 0 or past the load: margins). */
export interface TargetWindowRecord {
  /** Window index (as intervals.ndjson's `t`); negative in the margin before the load. */
  t: number;
  start_s: number;
  duration_s: number;
  /** Metric name → value (null: a gap); histograms → { mean, p50, p90, p99 }. */
  values: Record<
    string,
    number | null | { mean: number | null; p50: number | null; p90: number | null; p99: number | null }
  >;
}

/** One line of intervals.ndjson. */
export interface IntervalRecord {
  scenario: string;
  group?: string;
  /** Window index and bounds, seconds since run start. */
  t: number;
  start_s: number;
  duration_s: number;
  requests: number;
  ok: number;
  errors: Record<string, number>;
  /** Completed per second in this window. */
  throughput: number;
  target_rate?: number;
  in_flight: number;
  vus?: number;
  late: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number } | null;
  service_time_ms: { p50: number; p90: number; p99: number; max: number } | null;
  counters: Record<string, number>;
  histograms_ms: Record<string, { p50: number; p90: number; p99: number; max: number }>;
  /** Exact HDR histograms of this window (compressed base64, µs), for re-analysis and merging. */
  hdr: Record<string, string>;
  /** Target memory (resident bytes) sampled during this window, when the plan asks for it (profile `memory`). */
  target_memory_bytes?: number;
  /**
   * A compared scenario's own line (no group): what this window added to the comparison — the
   * paired design's joined rows (A/B, paired) or the shadow comparison's counts, summed over workers.
   */
  comparison?: {
    paired?: { bothCorrect: number; controlOnly: number; candidateOnly: number; neither: number; unpaired: number };
    shadow?: unknown;
  };
}
