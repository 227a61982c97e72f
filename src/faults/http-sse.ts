/**
 * SSE faults on one streamed response: the upstream's bytes are cut into events at blank lines as
 * they arrive (a byte scan, no decoding), and each event is written to the client at its release
 * time — its arrival plus the shift the faults add so far (stall: `stallMs` once, from event N on;
 * slow: `extraMs` per event, cumulative, so every gap grows by `extraMs`). Truncate and malformed
 * are markers in the same queue. One timer per stream; the upstream is paused while the queue holds
 * more than HIGH_WATER bytes (backpressure during a stall or a slow client).
 */
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import type { HttpFault } from '../core/faults.js';

/** An SSE fault drawn for this response. */
export interface SseFaultRef {
  id: string;
  fault: Extract<HttpFault, { type: 'sse_stall' | 'sse_truncate' | 'sse_slow' | 'sse_malformed' }>;
}

/** The broken event `sse_malformed` sends: JSON cut short, as a server dying mid-write would. */
export const MALFORMED_EVENT = Buffer.from('data: {"choices": [\n\n');

const HIGH_WATER = 64 * 1024;
const LOW_WATER = 16 * 1024;
const CR = 13;
const LF = 10;
const COLON = 58;

interface Item {
  kind: 'bytes' | 'malformed' | 'close' | 'end';
  buf: Buffer | null;
  releaseAt: number;
  /** Per drawn fault (same order as `faults`), the shift it added to this item's release. */
  contrib: number[] | null;
  /** For markers: the index of the fault that placed it (skipped once that fault is removed). */
  owner: number;
}

export function isEventStream(contentType: string | string[] | undefined): boolean {
  const v = Array.isArray(contentType) ? contentType[0] : contentType;
  return typeof v === 'string' && v.trimStart().toLowerCase().startsWith('text/event-stream');
}

export class SseFaultStream {
  private readonly active: boolean[];
  private readonly shift: number[];
  private readonly queue: Item[] = [];
  private head = 0;
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private waitingDrain = false;
  private paused = false;
  private finished = false;
  /** Events seen (blocks with a line that is not a comment). */
  private events = 0;
  // Scanner state across chunks.
  private pending: Buffer[] = [];
  private lineLen = 0;
  private prevCr = false;
  private blockIsEvent = false;

  constructor(
    private readonly faults: readonly SseFaultRef[],
    private readonly upstream: Readable,
    private readonly res: ServerResponse,
    /** Called once when a truncate closes the response (the caller drops the upstream request). */
    private readonly onTruncate: () => void,
  ) {
    this.active = faults.map(() => true);
    this.shift = faults.map(() => 0);
    upstream.on('data', (chunk: Buffer) => this.push(chunk));
    upstream.on('end', () => this.end());
    // Faults placed after 0 events come before the first.
    this.boundary();
    this.pump();
  }

  /** Whether fault `id` was drawn for this stream (and not yet released). */
  has(id: string): boolean {
    return this.faults.some((f, i) => f.id === id && this.active[i]);
  }

  /** The fault is removed: its held time is given back to queued events, its markers skipped. */
  release(id: string): void {
    const i = this.faults.findIndex((f) => f.id === id);
    if (i < 0 || !this.active[i]) return;
    this.active[i] = false;
    this.shift[i] = 0;
    for (let k = this.head; k < this.queue.length; k++) {
      const it = this.queue[k];
      if (it.contrib !== null && it.contrib[i] > 0) {
        it.releaseAt -= it.contrib[i];
        it.contrib[i] = 0;
      }
    }
    this.rearm();
  }

  /** Stops everything (client gone, proxy closing): no timer or listener is left. */
  destroy(): void {
    this.finished = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.head = 0;
  }

  private push(chunk: Buffer): void {
    if (this.finished) return;
    let segStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (this.prevCr && b === LF) {
        // Second half of a CRLF whose CR already ended the line.
        this.prevCr = false;
        continue;
      }
      this.prevCr = b === CR;
      if (b === CR || b === LF) {
        if (this.lineLen === 0) {
          // A blank line ends the block (with the LF of its CRLF when that is in this chunk).
          if (b === CR && i + 1 < chunk.length && chunk[i + 1] === LF) {
            i++;
            this.prevCr = false;
          }
          this.pending.push(chunk.subarray(segStart, i + 1));
          segStart = i + 1;
          this.flushBlock();
        }
        this.lineLen = 0;
      } else {
        if (this.lineLen === 0 && b !== COLON) this.blockIsEvent = true;
        this.lineLen++;
      }
    }
    if (segStart < chunk.length) this.pending.push(chunk.subarray(segStart));
    this.pump();
  }

  private end(): void {
    if (this.finished) return;
    // A last block without its blank line still goes out.
    if (this.pending.length > 0) this.flushBlock();
    this.enqueue({ kind: 'end', buf: null, releaseAt: this.now(), contrib: null, owner: -1 });
    this.pump();
  }

  private flushBlock(): void {
    const buf = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    this.pending = [];
    const isEvent = this.blockIsEvent;
    this.blockIsEvent = false;
    if (isEvent) {
      for (let i = 0; i < this.faults.length; i++) {
        const f = this.faults[i].fault;
        if (this.active[i] && f.type === 'sse_slow') this.shift[i] += f.extraMs;
      }
    }
    this.enqueue({ kind: 'bytes', buf, releaseAt: this.now() + this.total(), contrib: this.shift.slice(), owner: -1 });
    if (isEvent) {
      this.events++;
      this.boundary();
    }
  }

  /** Faults placed after `events` events: right after the last of them is queued. */
  private boundary(): void {
    const n = this.events;
    for (let i = 0; i < this.faults.length; i++) {
      const f = this.faults[i].fault;
      if (!this.active[i] || f.type === 'sse_slow' || f.afterEvents !== n) continue;
      if (f.type === 'sse_stall') this.shift[i] += f.stallMs;
      else {
        const kind = f.type === 'sse_malformed' ? 'malformed' : 'close';
        this.enqueue({ kind, buf: null, releaseAt: this.now() + this.total(), contrib: this.shift.slice(), owner: i });
      }
    }
  }

  private total(): number {
    let s = 0;
    for (const x of this.shift) s += x;
    return s;
  }

  private now(): number {
    return performance.now();
  }

  private enqueue(it: Item): void {
    this.queue.push(it);
    if (it.buf !== null) this.queuedBytes += it.buf.length;
    if (!this.paused && this.queuedBytes > HIGH_WATER) {
      this.paused = true;
      this.upstream.pause();
    }
  }

  private rearm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pump();
  }

  private pump(): void {
    if (this.finished || this.timer !== null || this.waitingDrain) return;
    while (this.head < this.queue.length) {
      const it = this.queue[this.head];
      const wait = it.releaseAt - this.now();
      if (wait >= 1) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, Math.ceil(wait));
        return;
      }
      this.head++;
      let ok = true;
      if (it.kind === 'bytes') {
        this.queuedBytes -= it.buf!.length;
        ok = this.res.write(it.buf!);
      } else if (it.kind === 'malformed') {
        if (this.active[it.owner]) ok = this.res.write(MALFORMED_EVENT);
      } else if (it.kind === 'close') {
        if (this.active[it.owner]) return this.truncate();
      } else {
        this.finished = true;
        this.res.end();
        return;
      }
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (!ok) {
        this.waitingDrain = true;
        this.res.once('drain', () => {
          this.waitingDrain = false;
          this.pump();
        });
        return;
      }
    }
    if (this.paused && this.queuedBytes < LOW_WATER) {
      this.paused = false;
      this.upstream.resume();
    }
  }

  /** Closes the connection after what was written: no final chunk, no `[DONE]`. */
  private truncate(): void {
    this.destroy();
    this.onTruncate();
    const sock = this.res.socket;
    // end() sends FIN after the bytes already written; the chunked body is left unterminated.
    if (sock) sock.end();
    else this.res.destroy();
  }
}
