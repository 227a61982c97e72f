/**
 * The measurements of one scenario (or one group in it) for the current window. The engine records
 * the core timings through typed fields (no map lookups on the hot path); adapters record their own
 * metrics by name through the Recorder interface. `take()` closes the window on the sending thread:
 * it copies the raw counts (µs per histogram, no encoding) and resets for the next window; the
 * coordinator merges and encodes (rawToSnapshot) elsewhere. `snapshot()` does both at once.
 */
import type { IntervalSnapshot, Recorder } from '../core/types.js';
import {
  encodeHistogram,
  fromRaw,
  newHistogram,
  recordClamped,
  takeRaw,
  type CountsPool,
  type Histogram,
  type RawHistogram,
} from './histogram.js';

/** An IntervalSnapshot whose histograms are raw counts: what a shard hands over each window. */
export interface RawSnapshot extends Omit<IntervalSnapshot, 'histograms'> {
  histograms: Record<string, RawHistogram>;
}

/** The typed-array buffers of a raw snapshot, to transfer (not copy) them to another thread, or to give back to a pool. */
export function rawBuffers(s: RawSnapshot, into: ArrayBuffer[] = []): ArrayBuffer[] {
  for (const k in s.histograms) {
    const b = s.histograms[k].counts.buffer;
    if (b.byteLength > 0) into.push(b as ArrayBuffer);
  }
  return into;
}

/** Encodes a raw snapshot (the compressed-base64 form of intervals.ndjson). Not for the sending thread. */
export function rawToSnapshot(s: RawSnapshot): IntervalSnapshot {
  const histograms: Record<string, string> = {};
  for (const k in s.histograms) histograms[k] = encodeHistogram(fromRaw(s.histograms[k]));
  return { ...s, histograms };
}

/** Core histogram names (µs). */
export const H_LATENCY = 'latency';
export const H_SERVICE = 'service_time';
export const H_TTFB = 'ttfb';
export const H_DISPATCH_LAG = 'dispatch_lag';

export class MetricSet implements Recorder {
  readonly latency = newHistogram();
  readonly serviceTime = newHistogram();
  readonly ttfb = newHistogram();
  readonly dispatchLag = newHistogram();
  requests = 0;
  ok = 0;
  bytesIn = 0;
  bytesOut = 0;
  late = 0;
  private readonly counters = new Map<string, number>();
  private readonly histograms = new Map<string, Histogram>();
  private readonly maxima = new Map<string, number>();

  count(name: string, n = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  record(name: string, value: number): void {
    let h = this.histograms.get(name);
    if (h === undefined) {
      h = newHistogram();
      this.histograms.set(name, h);
    }
    recordClamped(h, value);
  }

  max(name: string, value: number): void {
    const cur = this.maxima.get(name);
    if (cur === undefined || value > cur) this.maxima.set(name, value);
  }

  /** Encodes the window and resets (take() + rawToSnapshot()). Gauges are supplied by the caller (they are not accumulated). */
  snapshot(
    scenario: string,
    group: string | undefined,
    index: number,
    startMs: number,
    durationMs: number,
    gauges: Record<string, number>,
  ): IntervalSnapshot {
    return rawToSnapshot(this.take(scenario, group, index, startMs, durationMs, gauges));
  }

  /**
   * Closes the window: copies the raw counts of every histogram and resets. Cheap enough for the
   * sending thread (a copy of each histogram's non-zero range and a reset; no encoding).
   */
  take(
    scenario: string,
    group: string | undefined,
    index: number,
    startMs: number,
    durationMs: number,
    gauges: Record<string, number>,
    pool?: CountsPool,
  ): RawSnapshot {
    const counters: Record<string, number> = {
      requests: this.requests,
      ok: this.ok,
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
      late: this.late,
    };
    for (const [k, v] of this.counters) counters[k] = v;
    const histograms: Record<string, RawHistogram> = {
      [H_LATENCY]: takeRaw(this.latency, pool),
      [H_SERVICE]: takeRaw(this.serviceTime, pool),
      [H_TTFB]: takeRaw(this.ttfb, pool),
      [H_DISPATCH_LAG]: takeRaw(this.dispatchLag, pool),
    };
    for (const [k, h] of this.histograms) histograms[k] = takeRaw(h, pool);
    const maxes: Record<string, number> = {};
    for (const [k, v] of this.maxima) maxes[k] = v;
    const snap: RawSnapshot = { scenario, index, startMs, durationMs, counters, gauges, maxes, histograms };
    if (group !== undefined) snap.group = group;
    this.reset();
    return snap;
  }

  /** Histograms were reset by takeRaw (only their used range). */
  private reset(): void {
    this.requests = this.ok = this.bytesIn = this.bytesOut = this.late = 0;
    this.counters.clear();
    this.maxima.clear();
  }
}

export { recordClamped };
