/**
 * Faults Preflight can cause, as every layer shares them: the plan's `faults:` section resolves to
 * these (src/plan), the fault proxy applies them (src/faults), the run puts them on a timeline
 * (src/run), reports draw and name them. All times in milliseconds, sizes in bytes, shares in 0..1.
 *
 * TCP faults keep Toxiproxy's names and semantics (so its users and its API map one to one); HTTP
 * faults are per request, as Envoy's fault filter (abort, delay) plus streaming (SSE) faults.
 */

/** Toxiproxy's stream: `downstream` = target → client (responses), `upstream` = client → target (requests). */
export type FaultDirection = 'downstream' | 'upstream';

/**
 * The share of traffic a fault affects, and what is drawn: each new connection (Toxiproxy's
 * toxicity: with a keep-alive pool, all requests on a drawn connection or none) or each request
 * (HTTP/1.1 message boundaries found by the proxy; what Toxiproxy's users ask for).
 */
export interface Toxicity {
  share: number;
  per: 'connection' | 'request';
}

/** TCP faults: Toxiproxy's toxics, one to one. */
export type TcpFault =
  /** Each chunk delayed by `latencyMs` ± up to `jitterMs` (uniform), order kept. */
  | { type: 'latency'; latencyMs: number; jitterMs: number }
  /** At most `bytesPerSecond` through (Toxiproxy's `rate` is in KB/s: ×1000). */
  | { type: 'bandwidth'; bytesPerSecond: number }
  /** The close is passed on `delayMs` late. */
  | { type: 'slow_close'; delayMs: number }
  /** No data passes; the connection is closed after `timeoutMs` (0: held until the fault ends). */
  | { type: 'timeout'; timeoutMs: number }
  /** The connection is reset (TCP RST) after `timeoutMs` (0: at once). */
  | { type: 'reset_peer'; timeoutMs: number }
  /** Data cut into pieces of `averageSize` ± `sizeVariation` bytes, `delayMs` apart. */
  | { type: 'slicer'; averageSize: number; sizeVariation: number; delayMs: number }
  /** The connection is closed after `bytes` bytes. */
  | { type: 'limit_data'; bytes: number }
  /** The upstream is down: new connections are refused (closed at once) and open ones closed. */
  | { type: 'down' };

/** A random delay (HTTP `delay` fault). */
export type DelayDistribution =
  | { kind: 'fixed'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  /** Median `medianMs`, log-space standard deviation `sigma`. */
  | { kind: 'lognormal'; medianMs: number; sigma: number }
  /** Minimum `scaleMs`, tail index `shape` (> 1 for a finite mean). */
  | { kind: 'pareto'; scaleMs: number; shape: number };

/** HTTP faults, per request (HTTP/1.1 through the proxy). */
export type HttpFault =
  /** Answer `status` without asking the target (429 may carry `Retry-After: retryAfterS`). */
  | { type: 'abort'; status: number; retryAfterS?: number }
  /** Hold the request `delay` before it is forwarded. */
  | { type: 'delay'; delay: DelayDistribution }
  /** SSE: after `afterEvents` events, send nothing for `stallMs` (then go on). */
  | { type: 'sse_stall'; afterEvents: number; stallMs: number }
  /** SSE: close the response after `afterEvents` events (no final event, no `[DONE]`). */
  | { type: 'sse_truncate'; afterEvents: number }
  /** SSE: each event held `extraMs` more (a slower token rate). */
  | { type: 'sse_slow'; extraMs: number }
  /** SSE: after `afterEvents` events, one event that is not valid SSE / JSON. */
  | { type: 'sse_malformed'; afterEvents: number };

/** Which requests an HTTP fault applies to (all given conditions must hold). */
export interface HttpMatch {
  /** Path prefix, e.g. `/v2/models/digits/infer`. */
  pathPrefix?: string;
  method?: string;
  /** Header name (lower case) → exact value. */
  headers?: Record<string, string>;
}

/** One fault as the proxy applies it. */
export type Fault =
  | { layer: 'tcp'; name: string; direction: FaultDirection; toxicity: Toxicity; fault: TcpFault }
  | { layer: 'http'; name: string; toxicity: Toxicity; match?: HttpMatch; fault: HttpFault };

/**
 * What the run's timeline drives: the fault proxy in front of one target. `url` replaces the
 * target's origin for the load; faults are added and removed while the load runs.
 */
export interface FaultInjector {
  /** e.g. http://127.0.0.1:40123 — the proxy's listening origin. */
  readonly url: string;
  /** Starts applying `fault` (to new data at once; `down` and `timeout` also to open connections); returns its id. */
  add(fault: Fault): string;
  /** Stops applying it (held data is released, as Toxiproxy does when a toxic is removed). */
  remove(id: string): void;
  /** Removes every fault. */
  reset(): void;
  /** Connections and requests seen so far (requests: HTTP/1.1 messages the proxy framed). */
  counts(): { connections: number; requests: number };
  /** Removes every fault and closes the listener and every connection. */
  close(): Promise<void>;
}
