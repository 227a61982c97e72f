/**
 * Exact merging of interval snapshots: across worker shards (same window) and over time (whole run).
 */
import type { IntervalSnapshot } from '../core/types.js';
import { addEncoded, encodeHistogram, newHistogram, type Histogram } from './histogram.js';

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
