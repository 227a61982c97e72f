/**
 * The measurements of one scenario (or one group in it) for the current window. The engine records
 * the core timings through typed fields (no map lookups on the hot path); adapters record their own
 * metrics by name through the Recorder interface. `snapshot()` closes the window: it encodes
 * everything into a serialisable IntervalSnapshot and resets for the next window.
 */
import type { IntervalSnapshot, Recorder } from '../core/types.js';
import { encodeHistogram, newHistogram, recordClamped, type Histogram } from './histogram.js';

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

  /** Encodes the window and resets. Gauges are supplied by the caller (they are not accumulated). */
  snapshot(scenario: string, group: string | undefined, index: number, startMs: number, durationMs: number, gauges: Record<string, number>): IntervalSnapshot {
    const counters: Record<string, number> = {
      requests: this.requests,
      ok: this.ok,
      bytes_in: this.bytesIn,
      bytes_out: this.bytesOut,
      late: this.late,
    };
    for (const [k, v] of this.counters) counters[k] = v;
    const histograms: Record<string, string> = {
      [H_LATENCY]: encodeHistogram(this.latency),
      [H_SERVICE]: encodeHistogram(this.serviceTime),
      [H_TTFB]: encodeHistogram(this.ttfb),
      [H_DISPATCH_LAG]: encodeHistogram(this.dispatchLag),
    };
    for (const [k, h] of this.histograms) histograms[k] = encodeHistogram(h);
    const maxes: Record<string, number> = {};
    for (const [k, v] of this.maxima) maxes[k] = v;
    const snap: IntervalSnapshot = { scenario, index, startMs, durationMs, counters, gauges, maxes, histograms };
    if (group !== undefined) snap.group = group;
    this.reset();
    return snap;
  }

  private reset(): void {
    this.latency.reset();
    this.serviceTime.reset();
    this.ttfb.reset();
    this.dispatchLag.reset();
    this.requests = this.ok = this.bytesIn = this.bytesOut = this.late = 0;
    this.counters.clear();
    for (const h of this.histograms.values()) h.reset();
    this.maxima.clear();
  }
}

export { recordClamped };
