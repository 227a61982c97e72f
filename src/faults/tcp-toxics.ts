/**
 * The TCP toxics as stages of one direction's chain (Toxiproxy's toxic chain): each stage takes
 * chunks tagged with their HTTP message's sequence number, holds or alters them, and passes them on
 * in order. A stage decides whether it applies per connection (drawn once, when it is created) or
 * per request (drawn once per sequence number, when the message's first byte reaches it).
 *
 * Held data never costs a timer per chunk: each stage has at most one timer, for its queue's head.
 */
import { performance } from 'node:perf_hooks';
import type { TcpFault } from '../core/faults.js';
import type { Rng } from '../core/random.js';

/** Where a stage sends its output: the next stage, or the link's socket. */
export interface ChunkSink {
  push(buf: Buffer, seq: number): void;
  /** The stream ends; `close`: a fault closes the whole connection once this end is delivered. */
  end(close: boolean): void;
}

/** What a stage may do to its connection. */
export interface StageHost {
  readonly rng: Rng;
  /** `bytes` taken into the chain will never be delivered (for backpressure accounting). */
  drop(bytes: number): void;
  /** Closes the connection now: `reset` sends RST to both peers. */
  terminate(kind: 'close' | 'reset'): void;
}

/** A fault as the stages see it. */
export interface StageFault {
  readonly id: string;
  readonly fault: TcpFault;
  readonly share: number;
  readonly perRequest: boolean;
}

/** Parallel arrays with a moving head: a FIFO of chunks without an object per chunk. */
class ChunkQueue {
  private bufs: Buffer[] = [];
  private seqs: number[] = [];
  /** A number per chunk: due time (latency) or offset already sent (bandwidth, slicer). */
  private nums: number[] = [];
  private hits: boolean[] = [];
  private head = 0;

  get size(): number {
    return this.bufs.length - this.head;
  }
  push(buf: Buffer, seq: number, num: number, hit: boolean): void {
    this.bufs.push(buf);
    this.seqs.push(seq);
    this.nums.push(num);
    this.hits.push(hit);
  }
  get buf(): Buffer {
    return this.bufs[this.head];
  }
  get seq(): number {
    return this.seqs[this.head];
  }
  get num(): number {
    return this.nums[this.head];
  }
  set num(v: number) {
    this.nums[this.head] = v;
  }
  get hit(): boolean {
    return this.hits[this.head];
  }
  shift(): void {
    this.bufs[this.head] = EMPTY; // let the chunk go
    this.head++;
    if (this.head === this.bufs.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.bufs.length) {
      this.bufs = this.bufs.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.nums = this.nums.slice(this.head);
      this.hits = this.hits.slice(this.head);
      this.head = 0;
    }
  }
  clear(): void {
    this.bufs.length = 0;
    this.seqs.length = 0;
    this.nums.length = 0;
    this.hits.length = 0;
    this.head = 0;
  }
}
const EMPTY = Buffer.alloc(0);

/** Sequence number "none seen yet". */
const NONE = -2;

export abstract class Stage implements ChunkSink {
  out!: ChunkSink;
  protected readonly q = new ChunkQueue();
  protected timer: NodeJS.Timeout | undefined;
  protected endPending = false;
  protected endClose = false;
  private lastSeq = NONE;
  private lastHit = false;

  constructor(
    readonly host: StageHost,
    readonly def: StageFault,
    /** The per-connection draw (unused when the fault is drawn per request). */
    protected readonly connHit: boolean,
  ) {}

  /** Whether the fault applies to message `seq` (one draw per message when drawn per request). */
  protected hit(seq: number): boolean {
    if (!this.def.perRequest) return this.connHit;
    if (seq !== this.lastSeq) {
      this.lastSeq = seq;
      this.lastHit = this.host.rng.float() < this.def.share;
    }
    return this.lastHit;
  }

  abstract push(buf: Buffer, seq: number): void;

  end(close: boolean): void {
    this.endUnless(this.q.size > 0 || this.timer !== undefined, close);
  }

  /** Passes the end on now, or (when `held`) once the held data has gone. */
  protected endUnless(held: boolean, close: boolean): void {
    if (!held) this.out.end(close);
    else {
      this.endPending = true;
      this.endClose = close;
    }
  }

  /** The fault is removed: held data goes on at once, in order (as Toxiproxy on removal). */
  release(): void {
    this.clearTimer();
    while (this.q.size > 0) {
      const { buf, seq, num } = this.q;
      this.out.push(this.offsetFrom(num) > 0 ? buf.subarray(this.offsetFrom(num)) : buf, seq);
      this.q.shift();
    }
    if (this.endPending) {
      this.endPending = false;
      this.out.end(this.endClose);
    }
  }

  /** The connection is gone: drop everything, stop timers. */
  dispose(): void {
    this.clearTimer();
    this.q.clear();
    this.endPending = false;
  }

  /** For stages whose queue number is a send offset; others return 0. */
  protected offsetFrom(_num: number): number {
    return 0;
  }

  protected clearTimer(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  protected flushEnd(): void {
    if (this.endPending && this.q.size === 0) {
      this.endPending = false;
      this.out.end(this.endClose);
    }
  }
}

/** Each chunk delivered `latencyMs` ± `jitterMs` after it arrived (never before an earlier one). */
class LatencyStage extends Stage {
  private lastDue = 0;
  private readonly pumpFn = () => this.pump();

  push(buf: Buffer, seq: number): void {
    const f = this.def.fault as Extract<TcpFault, { type: 'latency' }>;
    const now = performance.now();
    let due = now;
    if (this.hit(seq)) {
      let d = f.latencyMs;
      if (f.jitterMs > 0) d += this.host.rng.uniform(-f.jitterMs, f.jitterMs);
      if (d > 0) due += d;
    }
    if (due < this.lastDue) due = this.lastDue;
    this.lastDue = due;
    if (this.q.size === 0 && due <= now) {
      this.out.push(buf, seq);
      return;
    }
    this.q.push(buf, seq, due, true);
    if (this.timer === undefined) this.arm(due - now);
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.pumpFn, Math.max(0, ms));
  }

  private pump(): void {
    this.timer = undefined;
    const now = performance.now();
    // Timers have millisecond resolution: deliver up to 1 ms early rather than re-arm for less.
    while (this.q.size > 0 && this.q.num <= now + 1) {
      const { buf, seq } = this.q;
      this.q.shift();
      this.out.push(buf, seq);
    }
    if (this.q.size > 0) this.arm(this.q.num - now);
    else this.flushEnd();
  }
}

/** Stages that send a queued chunk in pieces: the queue's number is the offset already sent. */
abstract class PieceStage extends Stage {
  protected readonly pumpFn = () => this.pump();
  protected abstract pump(): void;

  protected override offsetFrom(num: number): number {
    return num;
  }

  /** Sends the next `n` bytes of the head chunk (the rest of it without `n`). */
  protected sendPiece(n?: number): void {
    const { buf, seq, num: off } = this.q;
    const end = n === undefined ? buf.length : Math.min(buf.length, off + n);
    if (end === buf.length) this.q.shift();
    else this.q.num = end;
    this.out.push(off === 0 && end === buf.length ? buf : buf.subarray(off, end), seq);
  }
}

/** At most `bytesPerSecond` through, in slices of at most 100 ms worth (as Toxiproxy). */
class BandwidthStage extends PieceStage {
  /** The time up to which the line is busy. */
  private busyUntil = 0;

  push(buf: Buffer, seq: number): void {
    const hit = this.hit(seq);
    if (this.q.size === 0) {
      if (!hit) {
        this.out.push(buf, seq);
        return;
      }
      this.busyUntil = Math.max(this.busyUntil, performance.now());
    }
    this.q.push(buf, seq, 0, hit);
    if (this.timer === undefined) this.pump();
  }

  protected pump(): void {
    this.timer = undefined;
    const rate = (this.def.fault as Extract<TcpFault, { type: 'bandwidth' }>).bytesPerSecond;
    const maxSlice = Math.max(1, Math.floor(rate / 10));
    const now = performance.now();
    while (this.q.size > 0) {
      const { buf, num: off, hit } = this.q;
      if (!hit || rate === 0) {
        this.sendPiece();
        continue;
      }
      const n = Math.min(buf.length - off, maxSlice);
      const cost = (n * 1000) / rate;
      // The slice goes out once its transmission time has passed (as Toxiproxy: sleep, then send).
      if (this.busyUntil + cost > now + 1) {
        this.timer = setTimeout(this.pumpFn, Math.max(0, this.busyUntil + cost - now));
        return;
      }
      this.busyUntil += cost;
      this.sendPiece(n);
    }
    this.flushEnd();
  }
}

const SLICES_PER_TURN = 256;

/** Data cut into pieces of `averageSize` ± `sizeVariation` bytes, `delayMs` apart. */
class SlicerStage extends PieceStage {
  push(buf: Buffer, seq: number): void {
    const hit = this.hit(seq);
    if (this.q.size === 0 && this.timer === undefined && !hit) {
      this.out.push(buf, seq);
      return;
    }
    this.q.push(buf, seq, 0, hit);
    if (this.timer === undefined) this.pump();
  }

  protected pump(): void {
    this.timer = undefined;
    const f = this.def.fault as Extract<TcpFault, { type: 'slicer' }>;
    // Without a delay, at most SLICES_PER_TURN pieces per turn: tiny slices of a big chunk must not hold the thread.
    let budget = SLICES_PER_TURN;
    while (this.q.size > 0) {
      if (!this.q.hit) {
        this.sendPiece();
        continue;
      }
      let n = f.averageSize;
      if (f.sizeVariation > 0) n += this.host.rng.int(2 * f.sizeVariation + 1) - f.sizeVariation;
      this.sendPiece(Math.max(1, n));
      if (f.delayMs > 0 || --budget === 0) {
        this.timer = setTimeout(this.pumpFn, f.delayMs);
        return;
      }
    }
    this.flushEnd();
  }
}

/** No data passes; the connection is closed after `timeoutMs` (0: held until the fault is removed). */
class TimeoutStage extends Stage {
  private holding = false;

  constructor(host: StageHost, def: StageFault, connHit: boolean) {
    super(host, def, connHit);
    // Per connection the hold starts at once (on open connections too, as Toxiproxy).
    if (!def.perRequest && connHit) this.startHold();
  }

  private startHold(): void {
    this.holding = true;
    const ms = (this.def.fault as Extract<TcpFault, { type: 'timeout' }>).timeoutMs;
    if (ms > 0) this.timer = setTimeout(() => this.host.terminate('close'), ms);
  }

  push(buf: Buffer, seq: number): void {
    if (!this.holding && this.def.perRequest && this.hit(seq)) this.startHold();
    if (this.holding) this.q.push(buf, seq, 0, true);
    else this.out.push(buf, seq);
  }

  override end(close: boolean): void {
    this.endUnless(this.holding, close);
  }
}

/** On the first data it applies to: RST to both peers `timeoutMs` later; data from then on is not passed. */
class ResetStage extends Stage {
  private triggered = false;

  push(buf: Buffer, seq: number): void {
    if (this.triggered) {
      this.q.push(buf, seq, 0, true);
      return;
    }
    if (!this.hit(seq)) {
      this.out.push(buf, seq);
      return;
    }
    this.triggered = true;
    const ms = (this.def.fault as Extract<TcpFault, { type: 'reset_peer' }>).timeoutMs;
    if (ms === 0) {
      this.host.drop(buf.length);
      this.host.terminate('reset');
      return;
    }
    // Held, not dropped: removing the fault before the reset lets the stream go on intact.
    this.q.push(buf, seq, 0, true);
    this.timer = setTimeout(() => this.host.terminate('reset'), ms);
  }

  override end(close: boolean): void {
    this.endUnless(this.triggered, close);
  }
}

/** The connection is closed after `bytes` bytes (per request: of the drawn request or response). */
class LimitDataStage extends Stage {
  private count = 0;
  private countSeq = NONE;
  private done = false;

  push(buf: Buffer, seq: number): void {
    if (this.done) {
      this.host.drop(buf.length);
      return;
    }
    if (!this.hit(seq)) {
      this.out.push(buf, seq);
      return;
    }
    if (this.def.perRequest && seq !== this.countSeq) {
      this.countSeq = seq;
      this.count = 0;
    }
    const left = (this.def.fault as Extract<TcpFault, { type: 'limit_data' }>).bytes - this.count;
    if (buf.length < left) {
      this.count += buf.length;
      this.out.push(buf, seq);
      return;
    }
    this.done = true;
    this.count += left;
    if (left > 0) this.out.push(left === buf.length ? buf : buf.subarray(0, left), seq);
    if (buf.length > left) this.host.drop(buf.length - left);
    this.out.end(true);
  }

  override end(close: boolean): void {
    if (!this.done) this.out.end(close);
  }
}

/** The end of the stream is passed on `delayMs` late. */
class SlowCloseStage extends Stage {
  private seen = false;
  private lastHitValue = false;

  push(buf: Buffer, seq: number): void {
    this.seen = true;
    this.lastHitValue = this.hit(seq);
    this.out.push(buf, seq);
  }

  override end(close: boolean): void {
    // Per request: delayed when the last message on the connection was drawn (or, with none, a fresh draw).
    const delayed = this.def.perRequest ? (this.seen ? this.lastHitValue : this.hit(NONE - 1)) : this.connHit;
    if (!delayed) {
      this.out.end(close);
      return;
    }
    this.endPending = true;
    this.endClose = close;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.flushEnd();
      },
      (this.def.fault as Extract<TcpFault, { type: 'slow_close' }>).delayMs,
    );
  }
}

/** `down`, drawn per request: the connection is reset when a drawn request arrives. */
class DownStage extends Stage {
  push(buf: Buffer, seq: number): void {
    if (!this.hit(seq)) {
      this.out.push(buf, seq);
      return;
    }
    this.host.drop(buf.length);
    this.host.terminate('reset');
  }
}

/** A stage for `def` on one direction of a connection (the per-connection draw made here). */
export function makeStage(host: StageHost, def: StageFault): Stage {
  // Per request, nothing is drawn here: each message is drawn when its first byte reaches the stage.
  const connHit = def.perRequest ? false : host.rng.float() < def.share;
  switch (def.fault.type) {
    case 'latency':
      return new LatencyStage(host, def, connHit);
    case 'bandwidth':
      return new BandwidthStage(host, def, connHit);
    case 'slicer':
      return new SlicerStage(host, def, connHit);
    case 'timeout':
      return new TimeoutStage(host, def, connHit);
    case 'reset_peer':
      return new ResetStage(host, def, connHit);
    case 'limit_data':
      return new LimitDataStage(host, def, connHit);
    case 'slow_close':
      return new SlowCloseStage(host, def, connHit);
    case 'down':
      return new DownStage(host, def, connHit);
  }
}
