/**
 * Contracts shared by every layer: what a request looks like on the wire, how a protocol adapter
 * judges a response, how metrics are recorded. Nothing here does I/O.
 */

/** How a failed request is classified. A failed request is data, never an exception. */
export type ErrorClass =
  | 'connection_refused'
  | 'connection_reset'
  | 'timeout'
  | 'tls'
  | 'dns'
  | 'http_4xx'
  | 'http_5xx'
  | 'invalid_response'
  | 'check_failed'
  | 'other';

export const ERROR_CLASSES: readonly ErrorClass[] = [
  'connection_refused',
  'connection_reset',
  'timeout',
  'tls',
  'dns',
  'http_4xx',
  'http_5xx',
  'invalid_response',
  'check_failed',
  'other',
];

/** A request ready for the wire. Adapters build these once where the request is static. */
export interface WireRequest {
  method: string;
  /** Path and query, e.g. `/v2/models/digits/infer`. */
  path: string;
  /** Header name → value; names lower-case. Built once, never mutated by the engine. */
  headers: Record<string, string>;
  /** Body bytes, pre-encoded. */
  body?: Buffer;
  /** Data row index (or first row of a batch) this request carries, so the response can be scored. */
  row?: number;
  /** Rows in this request (batch size); default 1. */
  rows?: number;
  /** Metrics group within the scenario (e.g. the model name in a traffic mix). */
  group?: string;
}

/**
 * Where adapters (and the engine) put per-request measurements. Every metric merges exactly:
 * counters by sum, histograms by HDR merge, maxima by max. Histogram values are integers
 * (microseconds for durations).
 */
export interface Recorder {
  count(name: string, n?: number): void;
  record(name: string, value: number): void;
  max(name: string, value: number): void;
}

/** What the HTTP client keeps of a response body for the adapter. */
export type BodyMode = 'none' | 'full' | 'stream';

/** Receives a streamed response (e.g. SSE) chunk by chunk with arrival times. */
export interface StreamObserver {
  /** `tNs` is `process.hrtime.bigint()` at arrival, as a number of ns since the request's intended start. */
  onData(chunk: Buffer, tNs: number): void;
  /** Returns the error class, or null when the response was good. Record stream metrics into `rec`. */
  onEnd(tNs: number, rec: Recorder): ErrorClass | null;
}

/** Per-run context given to an adapter before load. */
export interface AdapterContext {
  /** scheme://host:port of the target. */
  origin: string;
  /** Headers from the plan (secrets already interpolated). */
  headers: Record<string, string>;
  /** Shard of the load this adapter instance serves (worker threads). */
  shard: { index: number; count: number };
  /** Seed for anything random (data order, synthetic inputs). */
  seed: number;
  /** For fetching metadata/readiness before the run; plain request, not on the hot path. */
  fetch(
    path: string,
    init?: { method?: string; body?: string | Buffer; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Buffer }>;
}

/**
 * One protocol (http, kserve-v2, tfserving, torchserve, openai). One file each under src/protocols,
 * all passing the shared conformance suite.
 */
export interface Adapter {
  readonly protocol: string;
  /** What the client keeps of response bodies. 'none' is the fast path (bytes are only counted). */
  readonly bodyMode: BodyMode;
  /** Checks before any load (readiness, metadata vs data). Throws a PreflightError with a clear message. */
  prepare?(ctx: AdapterContext): Promise<void>;
  /** The request for sequence number `seq` (0-based, per shard). Must be cheap: no JSON.stringify of static parts. */
  request(seq: number): WireRequest;
  /**
   * Judge a finished response (bodyMode 'none' or 'full'). Returns the error class or null for success.
   * `body` is null in 'none' mode. Protocol metrics (accuracy, tokens…) go into `rec`.
   */
  judge?(req: WireRequest, status: number, body: Buffer | null, rec: Recorder): ErrorClass | null;
  /** bodyMode 'stream': observe the body as it arrives. Called after headers with the status code. */
  openStream?(req: WireRequest, status: number): StreamObserver;
  /** Called once after the run in this shard (flush golden outputs, etc.). */
  finish?(): Promise<void>;
  /**
   * This shard's end-of-run report (e.g. the worst golden rows), read once after `finish()`.
   * Plain, structured-cloneable data: it travels from worker threads with the shard's last batch,
   * and the coordinator merges the shards' reports with `mergeAdapterReports` (src/protocols).
   */
  report?(): Record<string, unknown>;
}

/** One second (or other window) of one scenario (optionally one group inside it). Serializable, mergeable. */
export interface IntervalSnapshot {
  scenario: string;
  /** Sub-group (e.g. model name in a mix); absent for the scenario as a whole. */
  group?: string;
  /** Window index since run start (window = 1 s by default). */
  index: number;
  /** Window start and length, ms since run start. */
  startMs: number;
  durationMs: number;
  /** Summed on merge: requests, ok, err.<class>, bytes_in, bytes_out, late, unsent, … */
  counters: Record<string, number>;
  /** Last value in the window; summed on merge across shards (in_flight, vus, target_rate). */
  gauges: Record<string, number>;
  /** Maxima; max on merge. */
  maxes: Record<string, number>;
  /** Histogram name → HDR histogram, compressed base64 (µs for durations). */
  histograms: Record<string, string>;
}
