/**
 * Exact merging of interval snapshots: across worker shards (same window) and over time (whole run).
 */
import type { IntervalSnapshot } from '../core/types.js';
import { addEncoded, addRaw, encodeHistogram, newHistogram, type Histogram } from './histogram.js';
import type { RawSnapshot } from './metric-set.js';

/** Snapshots of one scenario/group/window from several shards, merged exactly; histograms decoded. */
export interface MergedRaw {
  /** The merged window, histograms encoded (compressed base64, as in intervals.ndjson). */
  snapshot: IntervalSnapshot;
  histograms: Map<string, Histogram>;
}

/**
 * Merges raw snapshots of the same scenario/group/window from several shards (the coordinator's
 * side of the hand-off), one at a time as they arrive: once `add()` returns, the part's counts
 * buffers have been read and may be reused.
 */
export class RawMerge {
  private first: RawSnapshot | null = null;
  private durationMs = 0;
  private readonly counters: Record<string, number> = {};
  private readonly gauges: Record<string, number> = {};
  private readonly maxes: Record<string, number> = {};
  private readonly histograms = new Map<string, Histogram>();

  add(s: RawSnapshot): void {
    this.first ??= { ...s, histograms: {} };
    this.durationMs = Math.max(this.durationMs, s.durationMs);
    for (const k in s.counters) this.counters[k] = (this.counters[k] ?? 0) + s.counters[k];
    for (const k in s.gauges) this.gauges[k] = (this.gauges[k] ?? 0) + s.gauges[k];
    for (const k in s.maxes) if (this.maxes[k] === undefined || s.maxes[k] > this.maxes[k]) this.maxes[k] = s.maxes[k];
    for (const k in s.histograms) {
      let h = this.histograms.get(k);
      if (h === undefined) this.histograms.set(k, (h = newHistogram()));
      addRaw(h, s.histograms[k]);
    }
  }

  /** The merged window, histograms encoded for intervals.ndjson. */
  finish(): MergedRaw {
    const first = this.first;
    if (first === null) throw new Error('RawMerge: nothing to merge');
    const encoded: Record<string, string> = {};
    for (const [k, h] of this.histograms) encoded[k] = encodeHistogram(h);
    const snapshot: IntervalSnapshot = {
      scenario: first.scenario,
      index: first.index,
      startMs: first.startMs,
      durationMs: this.durationMs,
      counters: this.counters,
      gauges: this.gauges,
      maxes: this.maxes,
      histograms: encoded,
    };
    if (first.group !== undefined) snapshot.group = first.group;
    return { snapshot, histograms: this.histograms };
  }
}

export function mergeRawSnapshots(parts: RawSnapshot[]): MergedRaw {
  const m = new RawMerge();
  for (const p of parts) m.add(p);
  return m.finish();
}

/** Merges snapshots of the same scenario/group/window from several shards. */
export function mergeSnapshots(parts: IntervalSnapshot[]): IntervalSnapshot {
  if (parts.length === 0) throw new Error('mergeSnapshots: nothing to merge');
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  const acc = new Accumulator();
  for (const p of parts) acc.add(p);
  const out: IntervalSnapshot = {
    scenario: first.scenario,
    index: first.index,
    startMs: first.startMs,
    durationMs: Math.max(...parts.map((p) => p.durationMs)),
    counters: acc.counters,
    gauges: acc.gauges,
    maxes: acc.maxes,
    histograms: acc.encodeHistograms(),
  };
  if (first.group !== undefined) out.group = first.group;
  return out;
}

/** Running totals of many snapshots: counters summed, histograms merged, maxima kept; gauges summed (per window) and last kept. */
export class Accumulator {
  readonly counters: Record<string, number> = {};
  readonly gauges: Record<string, number> = {};
  readonly maxes: Record<string, number> = {};
  readonly histograms = new Map<string, Histogram>();
  windows = 0;
  /** Sum of window lengths (ms): the time this accumulator covers. */
  windowMs = 0;

  add(s: IntervalSnapshot): void {
    this.windows++;
    this.windowMs += s.durationMs;
    for (const k in s.counters) this.counters[k] = (this.counters[k] ?? 0) + s.counters[k];
    for (const k in s.gauges) this.gauges[k] = (this.gauges[k] ?? 0) + s.gauges[k];
    for (const k in s.maxes) if (this.maxes[k] === undefined || s.maxes[k] > this.maxes[k]) this.maxes[k] = s.maxes[k];
    for (const k in s.histograms) addEncoded(this.histogram(k), s.histograms[k]);
  }

  /** Adds a merged window whose histograms are already decoded (no decoding again). */
  addMerged(m: MergedRaw): void {
    const s = m.snapshot;
    this.windows++;
    this.windowMs += s.durationMs;
    for (const k in s.counters) this.counters[k] = (this.counters[k] ?? 0) + s.counters[k];
    for (const k in s.gauges) this.gauges[k] = (this.gauges[k] ?? 0) + s.gauges[k];
    for (const k in s.maxes) if (this.maxes[k] === undefined || s.maxes[k] > this.maxes[k]) this.maxes[k] = s.maxes[k];
    for (const [k, h] of m.histograms) this.histogram(k).add(h);
  }

  histogram(name: string): Histogram {
    let h = this.histograms.get(name);
    if (h === undefined) {
      h = newHistogram();
      this.histograms.set(name, h);
    }
    return h;
  }

  encodeHistograms(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, h] of this.histograms) out[k] = encodeHistogram(h);
    return out;
  }
}
