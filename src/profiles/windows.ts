/**
 * Interval records (intervals.ndjson) → the series profiles analyse: one point per window (all of a
 * profile's scenarios merged exactly, by HDR histogram), buckets of several windows, and a whole
 * ScenarioSummary of any set of windows (for thresholds on a step or phase).
 */
import type { IntervalRecord, ScenarioSummary } from '../core/results.js';
import type { IntervalSnapshot } from '../core/types.js';
import { Accumulator, addEncoded, newHistogram } from '../metrics/index.js';
import { scenarioSummary } from '../run/summary.js';

/** One window (or bucket of windows) of the merged series. Latencies in ms, null when nothing completed. */
export interface WindowPoint {
  /** First window index. */
  t: number;
  start_s: number;
  duration_s: number;
  requests: number;
  ok: number;
  errors: Record<string, number>;
  error_rate: number;
  /** Completed per second. */
  throughput: number;
  target_rate?: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  in_flight: number;
  late: number;
  /** Counters (status.503, …) summed. */
  counters: Record<string, number>;
  /** Target memory (bytes): the last sample in the point. */
  memory?: number;
}

/** Scenario-level records only (no groups), of the given scenarios (all when omitted). */
export function scenarioRecords(records: readonly IntervalRecord[], scenarios?: readonly string[]): IntervalRecord[] {
  return records.filter(
    (r) => (r.group === undefined || r.group === null) && (!scenarios || scenarios.includes(r.scenario)),
  );
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Merges any records (several scenarios, several windows) into one point. */
export function mergePoint(records: readonly IntervalRecord[]): WindowPoint {
  const lat = newHistogram();
  const errors: Record<string, number> = {};
  const counters: Record<string, number> = {};
  let requests = 0;
  let ok = 0;
  let late = 0;
  let inFlight = 0;
  let target: number | undefined;
  let memory: number | undefined;
  const starts = new Map<number, number>();
  let t = Infinity;
  let start = Infinity;
  let end = -Infinity;
  let lastT = -Infinity;
  for (const r of records) {
    requests += r.requests;
    ok += r.ok;
    late += r.late ?? 0;
    for (const k in r.errors) errors[k] = (errors[k] ?? 0) + r.errors[k];
    for (const k in r.counters) counters[k] = (counters[k] ?? 0) + r.counters[k];
    if (r.hdr?.latency) addEncoded(lat, r.hdr.latency);
    t = Math.min(t, r.t);
    start = Math.min(start, r.start_s);
    end = Math.max(end, r.start_s + r.duration_s);
    starts.set(r.t, r.duration_s);
    if (r.t >= lastT) {
      // Gauges: the last window's, summed over scenarios.
      if (r.t > lastT) {
        inFlight = 0;
        target = undefined;
        lastT = r.t;
      }
      inFlight += r.in_flight ?? 0;
      if (r.target_rate !== undefined) target = (target ?? 0) + r.target_rate;
      if (r.target_memory_bytes !== undefined) memory = r.target_memory_bytes;
    }
  }
  // Time covered: each distinct window once (scenarios of one window share it).
  const dur = [...starts.values()].reduce((a, b) => a + b, 0);
  const has = lat.totalCount > 0;
  const q = (p: number): number | null => (has ? round3(lat.getValueAtPercentile(p) / 1000) : null);
  const p: WindowPoint = {
    t: Number.isFinite(t) ? t : 0,
    start_s: Number.isFinite(start) ? start : 0,
    duration_s: dur,
    requests,
    ok,
    errors,
    error_rate: requests > 0 ? (requests - ok) / requests : 0,
    throughput: dur > 0 ? requests / dur : 0,
    p50: q(50),
    p90: q(90),
    p99: q(99),
    max: has ? round3(lat.maxValue / 1000) : null,
    in_flight: inFlight,
    late,
    counters,
  };
  if (target !== undefined) p.target_rate = target;
  if (memory !== undefined) p.memory = memory;
  return p;
}

/** One point per window index (scenarios merged), in time order. */
export function timeline(records: readonly IntervalRecord[], scenarios?: readonly string[]): WindowPoint[] {
  const byT = new Map<number, IntervalRecord[]>();
  for (const r of scenarioRecords(records, scenarios)) {
    let l = byT.get(r.t);
    if (!l) byT.set(r.t, (l = []));
    l.push(r);
  }
  return [...byT.keys()].sort((a, b) => a - b).map((t) => mergePoint(byT.get(t)!));
}

/** Points of consecutive windows merged `per` at a time (soak buckets, sweep measurement windows). */
export function buckets(
  records: readonly IntervalRecord[],
  per: number,
  scenarios?: readonly string[],
  fromT = -Infinity,
): WindowPoint[] {
  const recs = scenarioRecords(records, scenarios).filter((r) => r.t >= fromT);
  if (recs.length === 0) return [];
  const t0 = Math.min(...recs.map((r) => r.t));
  const by = new Map<number, IntervalRecord[]>();
  for (const r of recs) {
    const b = Math.floor((r.t - t0) / Math.max(1, per));
    let l = by.get(b);
    if (!l) by.set(b, (l = []));
    l.push(r);
  }
  return [...by.keys()].sort((a, b) => a - b).map((b) => mergePoint(by.get(b)!));
}

/** An interval record as a snapshot (for exact merging into an Accumulator). */
export function recordSnapshot(r: IntervalRecord): IntervalSnapshot {
  const counters: Record<string, number> = { requests: r.requests, ok: r.ok, late: r.late ?? 0, ...r.counters };
  for (const k in r.errors) counters[`err.${k}`] = r.errors[k];
  return {
    scenario: r.scenario,
    index: r.t,
    startMs: r.start_s * 1000,
    durationMs: r.duration_s * 1000,
    counters,
    gauges: {},
    maxes: {},
    histograms: r.hdr ?? {},
  };
}

/**
 * A ScenarioSummary of any set of windows (exact percentiles from the merged histograms), so
 * thresholds can be evaluated on a step, a phase or a steady-state span.
 */
export function summarizeRecords(
  records: readonly IntervalRecord[],
  executor = 'profile',
  protocol = 'http',
): ScenarioSummary {
  const acc = new Accumulator();
  const windows = new Map<number, number>();
  for (const r of records) {
    acc.add(recordSnapshot(r));
    windows.set(r.t, r.duration_s * 1000);
  }
  const activeMs = [...windows.values()].reduce((a, b) => a + b, 0);
  return scenarioSummary(acc, executor, protocol, { activeMs });
}
