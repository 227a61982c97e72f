/**
 * Everything one scenario needs while it runs in one shard: its adapter, its connection pool, its
 * metrics, and the request lifecycle. The hot path is here: one InFlight object per request (the
 * HTTP client calls its methods directly — no closures, no promises), dispatch options cached per
 * WireRequest (and the built-in client caches the request's bytes on them).
 */
import type { Adapter, ErrorClass, Recorder, StreamObserver, WireRequest } from '../core/types.js';
import type { ShadowExchange } from '../comparison/shadow.js';
import { MetricSet } from '../metrics/metric-set.js';
import { recordClamped } from '../metrics/histogram.js';
import type { ScenarioPlan } from '../plan/types.js';
import { classifyStatus } from '../protocols/common.js';
import { classifyError, errorReason, REQUEST_TIMEOUT_CODE } from './classify.js';
import { nowNs } from './clock.js';
import type { RequestHandler, RequestOptions, Transport } from './http-pool.js';
import type { ShadowAccumulator } from '../comparison/shadow.js';
import {
  CorrectnessCapture,
  exchangeBody,
  MirrorJoin,
  PairedJoin,
  pairedArm,
  WeightedSplit,
  type VariantArm,
} from './variants.js';

/**
 * A compared scenario (plan.comparison): `split` sends each arrival to one variant (A/B, canary),
 * `mirror` to every variant (shadow). Each variant's requests are recorded in the scenario and in a
 * results group named after the variant.
 */
export type VariantMode =
  | {
      kind: 'split';
      arms: VariantArm[];
      weights: number[];
      paired: boolean;
      /** Canary steps: from `atMs` after the scenario's start, these weights (the candidate's share stepped up). */
      schedule?: Array<{ atMs: number; weights: number[] }>;
    }
  | {
      kind: 'mirror';
      arms: VariantArm[];
      shadow: ShadowAccumulator;
      /** Reads a response's prediction (ShadowExchange.prediction); null when there is none. */
      predict: ((body: unknown) => ShadowExchange['prediction']) | null;
    };

/** Who gets told when a request finishes (an executor, or a virtual user). */
export interface RequestOwner {
  onRequestDone(): void;
}

/** Arrivals sent later than this after their intended time are counted as `late`. */
export const LATE_TOLERANCE_NS = 10_000_000;

/**
 * With an unlimited pool, at most this many requests wait for a socket at once (each usually on a
 * connection being opened); further requests wait here, in order, and go out as sockets come free.
 * Without it a burst of due arrivals (cold start, a GC pause, a stalled target) opens one connection
 * per request: hundreds at once, each costlier than a request, so the generator falls further behind
 * and opens more — at 5,000/s against nginx that spiral reached thousands of connections, resets and
 * seconds of event-loop delay. Bounded pools (`connections` set) queue inside the pool.
 */
export const MAX_AWAITING_SOCKET = 16;

/** Distinct failure messages kept per error class (summary `error_reasons`). */
export const MAX_REASONS = 3;
/** Failures of one class looked at for a new message, at most (bounds the work on the error path). */
const MAX_REASON_LOOKS = 1000;

const DISPATCH_OPTS = Symbol('dispatchOpts');
type CachedRequest = WireRequest & { [DISPATCH_OPTS]?: RequestOptions };

export class ScenarioRuntime {
  readonly metrics = new MetricSet();
  readonly groups = new Map<string, MetricSet>();
  inFlight = 0;
  /** Requests cancelled by us (graceful-stop timeout, interrupt); not target errors. */
  cancelled = 0;
  private readonly live = new Set<InFlight>();
  /** Requests handed to the pool that are not on a socket yet. */
  private awaitingSocket = 0;
  /** Requests not handed to the pool yet (FIFO: `held[heldHead…]`), see MAX_AWAITING_SOCKET. */
  private held: InFlight[] = [];
  private heldHead = 0;
  private releasing = false;
  private readonly groupRecorders = new Map<string, Recorder>();
  private collectBody: boolean;
  private readonly stream: boolean;
  /** Variants of a compared scenario (null: the scenario's one target), see useVariants. */
  private variants: VariantMode | null = null;
  private split: WeightedSplit | null = null;
  private arrivals = 0;
  /** Canary steps: the scenario's start, and the next change of weights (index into the schedule). */
  private startNs = 0;
  private nextStep = 0;
  /** Paired design: per-arm recorders that see each request's correctness, and the join of the two arms. */
  private captures: CorrectnessCapture[] = [];
  /** Shadow: reads a response's prediction (null: the scenario predicts nothing). */
  private predict: ((body: unknown) => ShadowExchange['prediction']) | null = null;
  readonly paired: PairedJoin | null = null;
  /** First distinct messages per error class (see MAX_REASONS), for diagnosis; kept for the whole run. */
  readonly errorReasons: Partial<Record<ErrorClass, string[]>> = {};
  private readonly reasonLooks: Partial<Record<ErrorClass, number>> = {};
  /**
   * The request timeout is a deadline for the whole exchange, from the write to the socket to the
   * last body byte, checked by one coarse ticker per scenario for both clients (their own timeouts
   * only bound the wait for the head and the gaps between bytes, so a body dripped byte by byte
   * never ended). Runs only while requests are live.
   */
  private deadlineTicker: NodeJS.Timeout | null = null;
  private readonly deadlineTickMs: number;
  private readonly timeoutNoHead: Error;
  private readonly timeoutInBody: Error;

  constructor(
    readonly plan: ScenarioPlan,
    readonly adapter: Adapter,
    private readonly pool: Transport,
    private readonly timeoutMs: number,
    /** MAX_AWAITING_SOCKET for an unlimited pool; Infinity when the pool has a connection limit. */
    private readonly maxAwaitingSocket: number = Infinity,
  ) {
    this.collectBody = adapter.bodyMode === 'full';
    this.stream = adapter.bodyMode === 'stream';
    // Ticks of timeout/20 (5–100 ms): a timeout never fires early and at most about a tick late.
    this.deadlineTickMs = Math.min(100, Math.max(5, Math.floor(timeoutMs / 20)));
    this.timeoutNoHead = requestTimeout(`no response head within the request timeout (${timeoutMs} ms)`);
    this.timeoutInBody = requestTimeout(
      `response not complete within the request timeout (${timeoutMs} ms, head and body)`,
    );
  }

  /** When the scenario starts (its executor's t = 0): canary steps are timed from here. */
  started(startNs: number): void {
    this.startNs = startNs;
  }

  /** Sends this scenario's arrivals to its variants (before it starts). */
  useVariants(mode: VariantMode): void {
    this.variants = mode;
    if (mode.kind === 'split') {
      this.split = new WeightedSplit(mode.weights);
      if (mode.paired) {
        (this as { paired: PairedJoin | null }).paired = new PairedJoin();
        this.captures = mode.arms.map((a) => new CorrectnessCapture(this.groupRecorder(a.name)));
      }
    } else {
      if (this.adapter.bodyMode === 'none') this.collectBody = true; // shadow compares the bodies
      this.predict = mode.predict;
      // each variant's correctness per row, for the row's label (shadowLabel)
      this.captures = mode.arms.map((a) => new CorrectnessCapture(this.groupRecorder(a.name)));
    }
  }

  /** Sends request `seq`, timed from `intendedNs`. */
  send(intendedNs: number, seq: number, owner: RequestOwner): void {
    const v = this.variants;
    if (v === null) return this.sendTo(this.adapter, this.pool, undefined, -1, -1, intendedNs, seq, owner);
    const n = this.arrivals++;
    if (v.kind === 'split') {
      if (v.paired) {
        const arm = pairedArm(n);
        const a = v.arms[arm];
        // Slot ⌊n/2⌋ is the row's sequence number for both arms: the same row, in the same slot.
        return this.sendTo(a.adapter, a.pool, a.name, arm, n >> 1, intendedNs, n >> 1, owner);
      }
      const sch = v.schedule;
      if (
        sch !== undefined &&
        this.nextStep < sch.length &&
        intendedNs - this.startNs >= sch[this.nextStep].atMs * 1e6
      ) {
        // a new canary step: its weights from now on (checked per arrival, O(1))
        while (this.nextStep + 1 < sch.length && intendedNs - this.startNs >= sch[this.nextStep + 1].atMs * 1e6)
          this.nextStep++;
        this.split = new WeightedSplit(sch[this.nextStep++].weights);
      }
      const arm = this.split!.next();
      const a = v.arms[arm];
      return this.sendTo(a.adapter, a.pool, a.name, arm, -1, intendedNs, seq, owner);
    }
    // shadow: the same request (row `seq`) to every variant, concurrently; the owner hears once
    const join = new MirrorJoin(owner, v.shadow, v.arms.length);
    for (let i = 0; i < v.arms.length; i++) {
      const a = v.arms[i];
      this.sendTo(a.adapter, a.pool, a.name, i, -1, intendedNs, seq, join, join);
    }
  }

  private sendTo(
    adapter: Adapter,
    pool: Transport,
    variant: string | undefined,
    arm: number,
    slot: number,
    intendedNs: number,
    seq: number,
    owner: RequestOwner,
    join: MirrorJoin | null = null,
  ): void {
    const req = adapter.request(seq) as CachedRequest;
    let opts = req[DISPATCH_OPTS];
    if (opts === undefined) {
      const headers: string[] = [];
      for (const k in req.headers) headers.push(k, req.headers[k]);
      opts = {
        method: req.method,
        path: req.path,
        headers,
        body: req.body ?? null,
        // No per-client timeouts: the deadline ticker bounds the whole request (see deadlineTicker).
      };
      req[DISPATCH_OPTS] = opts;
    }
    const r = new InFlight(this, req, opts, intendedNs, owner, adapter, pool, variant ?? req.group, arm, slot, join);
    this.inFlight++;
    this.live.add(r);
    if (req.body) this.metrics.bytesOut += req.body.length;
    if (this.deadlineTicker === null && this.timeoutMs > 0) this.startDeadlines();
    if (this.awaitingSocket < this.maxAwaitingSocket && this.heldHead === this.held.length) this.dispatch(r);
    else this.held.push(r);
  }

  private startDeadlines(): void {
    this.deadlineTicker = setInterval(this.checkDeadlines, this.deadlineTickMs);
    this.deadlineTicker.unref();
  }

  /** Fails (class `timeout`) every request on a socket for longer than the timeout; stops when none is live. */
  private readonly checkDeadlines = (): void => {
    if (this.live.size === 0) {
      clearInterval(this.deadlineTicker!);
      this.deadlineTicker = null;
      return;
    }
    const sentBefore = nowNs() - this.timeoutMs * 1e6;
    // Deleting (and adding: an owner's next request) while iterating a Set is well defined; new
    // requests are not due yet.
    for (const r of this.live)
      if (r.connected && r.sendNs <= sentBefore) r.abort(r.status === 0 ? this.timeoutNoHead : this.timeoutInBody);
  };

  private dispatch(r: InFlight): void {
    r.awaitingSocket = true;
    this.awaitingSocket++;
    r.pool.dispatch(r.opts, r);
  }

  /** Called by InFlight when the client writes it to a socket. */
  onSocket(r: InFlight): void {
    if (!r.awaitingSocket) return;
    r.awaitingSocket = false;
    this.awaitingSocket--;
    if (this.heldHead < this.held.length) this.releaseHeld();
  }

  /** Hands held requests to the pool, oldest first, while fewer than the limit wait for a socket. */
  private releaseHeld(): void {
    if (this.releasing) return; // re-entered from a synchronous onConnect; the outer loop goes on
    this.releasing = true;
    try {
      while (this.heldHead < this.held.length && this.awaitingSocket < this.maxAwaitingSocket) {
        const r = this.held[this.heldHead];
        this.held[this.heldHead++] = undefined as unknown as InFlight;
        this.dispatch(r);
      }
      if (this.heldHead === this.held.length) {
        this.held.length = 0;
        this.heldHead = 0;
      } else if (this.heldHead > 1024 && this.heldHead * 2 > this.held.length) {
        this.held = this.held.slice(this.heldHead);
        this.heldHead = 0;
      }
    } finally {
      this.releasing = false;
    }
  }

  /** Called by InFlight exactly once. */
  complete(r: InFlight, err: Error | null): void {
    this.inFlight--;
    this.live.delete(r);
    const end = nowNs();
    if (r.awaitingSocket) {
      r.awaitingSocket = false;
      this.awaitingSocket--;
    }
    if (this.heldHead < this.held.length) this.releaseHeld();
    if (err !== null) {
      const cls = classifyError(err);
      if (cls === null) {
        this.cancelled++;
        if (r.connected) this.recordSend(r);
        if (r.join !== null) r.join.cancelled = true;
        else if (r.slot >= 0) this.paired!.add(r.slot, r.arm, -1);
        r.owner.onRequestDone();
        return;
      }
      this.recordSend(r);
      this.record(r, end, cls);
      this.noteReason(cls, err, r.status, false);
      if (r.join !== null) r.join.exchanges[r.arm] = { status: r.status, body: null, errorClass: cls };
      else if (r.slot >= 0) this.paired!.add(r.slot, r.arm, -1);
    } else {
      let cls: ErrorClass | null;
      let thrown: unknown = null;
      const capture = r.slot >= 0 || r.join !== null ? this.captures[r.arm] : null;
      capture?.reset();
      const rec = capture ?? (r.group === undefined ? this.metrics : this.groupRecorder(r.group));
      const body = this.collectBody ? joinChunks(r.chunks) : null;
      try {
        if (r.observer !== null) cls = r.observer.onEnd(end - r.intendedNs, rec);
        else if (r.adapter.judge) cls = r.adapter.judge(r.req, r.status, body, rec);
        else cls = classifyStatus(r.status);
      } catch (e) {
        // An adapter that cannot judge a response must not lose the request (or stall its owner).
        cls = 'other';
        thrown = e;
      }
      this.recordSend(r);
      this.record(r, end, cls);
      if (cls !== null) this.noteReason(cls, thrown, r.status, true);
      if (r.join !== null) {
        const ex: ShadowExchange = { status: r.status, body: exchangeBody(body) };
        if (cls !== null) ex.errorClass = cls;
        else {
          const p = this.predict?.(ex.body);
          if (p !== undefined) ex.prediction = p;
        }
        r.join.exchanges[r.arm] = ex;
        if (capture!.scored === 1) r.join.correct[r.arm] = capture!.correct === 1 ? 1 : 0;
      } else if (capture !== null)
        // one scored row per request (paired plans have batch 1); unscored (failed, no label) = -1
        this.paired!.add(r.slot, r.arm, capture.scored === 1 ? (capture.correct === 1 ? 1 : 0) : -1);
    }
    r.owner.onRequestDone();
  }

  /**
   * Keeps the first MAX_REASONS distinct messages of a class. Error path only, and only a length
   * check once the class has its messages (or after MAX_REASON_LOOKS failures of it).
   */
  private noteReason(cls: ErrorClass, err: unknown, status: number, judged: boolean): void {
    let list = this.errorReasons[cls];
    if (list !== undefined && list.length >= MAX_REASONS) return;
    const looks = (this.reasonLooks[cls] ?? 0) + 1;
    if (looks > MAX_REASON_LOOKS) return;
    this.reasonLooks[cls] = looks;
    let msg: string;
    if (!judged) msg = errorReason(err);
    else if (err !== null)
      msg = `HTTP ${status}: the ${this.adapter.protocol} adapter could not judge the response: ${errorReason(err)}`;
    else if (cls === 'http_4xx' || cls === 'http_5xx') msg = `HTTP ${status}`;
    else msg = `HTTP ${status}, judged ${cls} by the ${this.adapter.protocol} adapter`;
    if (list === undefined) this.errorReasons[cls] = list = [];
    if (!list.includes(msg)) list.push(msg);
  }

  /**
   * Dispatch lag and `late`, once the actual send is known: when the client wrote the request to a
   * socket (after any wait in our queue or the pool), so that latency = dispatch lag + service time.
   */
  private recordSend(r: InFlight): void {
    const lag = r.sendNs - r.intendedNs;
    recordClamped(this.metrics.dispatchLag, lag / 1000);
    if (lag > LATE_TOLERANCE_NS) this.metrics.late++;
  }

  private record(r: InFlight, end: number, cls: ErrorClass | null): void {
    const latencyUs = (end - r.intendedNs) / 1000;
    const serviceUs = (end - r.sendNs) / 1000;
    const ttfbUs = r.firstByteNs > 0 ? (r.firstByteNs - r.sendNs) / 1000 : -1;
    this.recordInto(this.metrics, latencyUs, serviceUs, ttfbUs, r.bytesIn, cls);
    if (r.group !== undefined) this.recordInto(this.group(r.group), latencyUs, serviceUs, ttfbUs, r.bytesIn, cls);
    // Failed HTTP responses also by status (`status.503`, …): tells load shedding (429/503) from other errors.
    if (cls !== null && r.status >= 400) {
      const k = statusCounter(r.status);
      this.metrics.count(k);
      if (r.group !== undefined) this.group(r.group).count(k);
    }
  }

  private recordInto(
    m: MetricSet,
    latencyUs: number,
    serviceUs: number,
    ttfbUs: number,
    bytesIn: number,
    cls: ErrorClass | null,
  ): void {
    m.requests++;
    m.bytesIn += bytesIn;
    recordClamped(m.latency, latencyUs);
    recordClamped(m.serviceTime, serviceUs);
    if (ttfbUs >= 0) recordClamped(m.ttfb, ttfbUs);
    if (cls === null) m.ok++;
    else m.count(ERR_PREFIX[cls]);
  }

  /** Records protocol metrics into both the scenario and the group. */
  private groupRecorder(name: string): Recorder {
    let rec = this.groupRecorders.get(name);
    if (rec === undefined) {
      const a = this.metrics;
      const b = this.group(name);
      rec = {
        count: (k, n) => (a.count(k, n), b.count(k, n)),
        record: (k, v) => (a.record(k, v), b.record(k, v)),
        max: (k, v) => (a.max(k, v), b.max(k, v)),
      };
      this.groupRecorders.set(name, rec);
    }
    return rec;
  }

  group(name: string): MetricSet {
    let m = this.groups.get(name);
    if (m === undefined) {
      m = new MetricSet();
      this.groups.set(name, m);
    }
    return m;
  }

  /** Aborts every request still in flight (they are counted as cancelled, not as target errors). */
  abortAll(): void {
    // Oldest first: requests waiting in the pool, then those held back here (they never reached
    // the pool), then those on a socket.
    this.pool.cancelQueued();
    for (const a of this.variants?.arms ?? []) a.pool.cancelQueued();
    const held = this.held.slice(this.heldHead);
    this.held = [];
    this.heldHead = 0;
    for (const r of held) r.onError(CANCELLED);
    for (const r of [...this.live]) r.abort();
  }

  openStream(r: InFlight): StreamObserver | null {
    return this.stream && r.adapter.openStream ? r.adapter.openStream(r.req, r.status) : null;
  }

  get bodyMode(): 'none' | 'full' | 'stream' {
    return this.collectBody ? 'full' : this.adapter.bodyMode;
  }
}

const ERR_PREFIX: Record<ErrorClass, string> = {
  connection_refused: 'err.connection_refused',
  connection_reset: 'err.connection_reset',
  timeout: 'err.timeout',
  tls: 'err.tls',
  dns: 'err.dns',
  http_4xx: 'err.http_4xx',
  http_5xx: 'err.http_5xx',
  invalid_response: 'err.invalid_response',
  check_failed: 'err.check_failed',
  other: 'err.other',
};

/** Counter of requests sent again because their reused connection was closed under them. */
export const RETRY_COUNTER = 'retries.stale_connection';

const STATUS_KEYS: string[] = [];
/** Counter name of an error status, e.g. `status.503` (cached: no string building per request). */
function statusCounter(status: number): string {
  return (STATUS_KEYS[status] ??= `status.${status}`);
}

function joinChunks(chunks: Buffer[] | null): Buffer {
  if (chunks === null || chunks.length === 0) return EMPTY;
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
const EMPTY = Buffer.alloc(0);
function requestTimeout(message: string): Error {
  return Object.assign(new Error(message), { code: REQUEST_TIMEOUT_CODE });
}

/** classifyError → null (cancelled by us), like undici's own abort. */
const CANCELLED = Object.assign(new Error('request cancelled before it was sent'), { code: 'UND_ERR_ABORTED' });

/**
 * One request in flight. Implements the handler methods both clients call (undici's legacy,
 * wrapper-free protocol, plus `onBody` for the built-in client): headers are never parsed, body
 * bytes are only counted unless the adapter asked for them.
 */
class InFlight implements RequestHandler {
  sendNs: number;
  firstByteNs = 0;
  status = 0;
  bytesIn = 0;
  chunks: Buffer[] | null = null;
  observer: StreamObserver | null = null;
  /** Handed to the pool, not yet on a socket (see ScenarioRuntime.awaitingSocket). */
  awaitingSocket = false;
  private abortFn: ((err?: Error) => void) | null = null;
  private done = false;

  /** Written to a socket (sendNs is the actual send). */
  get connected(): boolean {
    return this.abortFn !== null;
  }

  constructor(
    private readonly rt: ScenarioRuntime,
    readonly req: WireRequest,
    readonly opts: RequestOptions,
    readonly intendedNs: number,
    readonly owner: RequestOwner,
    readonly adapter: Adapter,
    readonly pool: Transport,
    /** Results group: the variant, or the request's own group (traffic mix). */
    readonly group: string | undefined,
    /** Variant index (-1: no variants). */
    readonly arm: number,
    /** Paired design: the slot (both arms' requests of one row), else -1. */
    readonly slot: number,
    /** Shadow: the arrival's three requests. */
    readonly join: MirrorJoin | null,
  ) {
    this.sendNs = nowNs();
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.done) return abort(CANCELLED); // cancelled while queued in the pool: never send it
    this.abortFn = abort;
    // Actual send: the request is being written to a socket now (it may have waited in the pool).
    this.sendNs = nowNs();
    if (this.awaitingSocket) this.rt.onSocket(this);
  }

  onHeaders(statusCode: number): boolean {
    if (statusCode < 200) return true; // 1xx informational; wait for the real response
    this.firstByteNs = nowNs();
    this.status = statusCode;
    const mode = this.rt.bodyMode;
    if (mode === 'full') this.chunks = [];
    else if (mode === 'stream') this.observer = this.rt.openStream(this);
    return true;
  }

  /** undici: `chunk` is ours to keep. */
  onData(chunk: Buffer): boolean {
    this.bytesIn += chunk.length;
    if (this.chunks !== null) this.chunks.push(chunk);
    else if (this.observer !== null) this.observer.onData(chunk, nowNs() - this.intendedNs);
    return true;
  }

  /** Built-in client: the bytes are a view of a reused read buffer, copied only if kept. */
  onBody(buf: Buffer, start: number, end: number): void {
    this.bytesIn += end - start;
    if (this.chunks !== null) this.chunks.push(Buffer.copyBytesFrom(buf, start, end - start));
    else if (this.observer !== null)
      this.observer.onData(Buffer.copyBytesFrom(buf, start, end - start), nowNs() - this.intendedNs);
  }

  /** Built-in client: sent again after a stale keep-alive connection (counted, timed from the intended start). */
  onRetry(): void {
    this.rt.metrics.count(RETRY_COUNTER);
    // Waiting for a connection again: the old connection's abort no longer reaches it.
    this.abortFn = null;
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    this.rt.complete(this, null);
  }

  onError(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.rt.complete(this, err);
  }

  /** Cancels the request (no `err`: cancelled by us, not a target error) or fails it with `err`. */
  abort(err?: Error): void {
    // A finished request's abort function may belong to a connection now serving another request.
    if (this.done) return;
    if (this.abortFn) this.abortFn(err);
    // Still queued in the pool (no abort handle before a socket, in either client): cancelled now, so
    // it is counted before the scenario reports; onConnect aborts it if the pool gets to it later.
    else this.onError(CANCELLED);
  }
}
