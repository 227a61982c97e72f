/**
 * Collects window batches from all shards, merges each window exactly once every shard has
 * delivered it, and keeps whole-run accumulators per scenario (and group). Runs on the main
 * thread, never on a thread that sends: shards hand over raw counts, decoding/merging/encoding is here.
 */
import type { IntervalSnapshot } from '../core/types.js';
import type { IntervalRecord } from '../core/results.js';
import type { ShardBatch } from '../engine/index.js';
import {
  Accumulator,
  addRaw,
  decodeHistogram,
  newHistogram,
  RawMerge,
  shortStats,
  type Histogram,
} from '../metrics/index.js';

export interface MergedWindow {
  index: number;
  records: IntervalRecord[];
  snapshots: IntervalSnapshot[];
}

const CORE_COUNTERS = new Set(['requests', 'ok', 'bytes_in', 'bytes_out', 'late']);
const CORE_HISTOGRAMS = new Set(['latency', 'service_time', 'ttfb', 'dispatch_lag']);

export class WindowMerger {
  /** key `scenario` or `scenario\u0000group` → whole-run totals */
  readonly totals = new Map<string, Accumulator>();
  readonly unsent = new Map<string, number>();
  readonly cancelled = new Map<string, number>();
  /** Per scenario and shard: start and end (ms since t0; end null while running). */
  private readonly shardSpans = new Map<string, Map<number, { startMs: number; endMs: number | null }>>();
  readonly generatorLag = newHistogram();
  eventLoopDelayMs = { p99max: 0, max: 0 };
  /** Per shard window reports of event-loop delay p99 (ms), for the overload rule. */
  readonly eventLoopP99s: number[] = [];
  readonly eventLoopP50s: number[] = [];
  /**
   * Per shard window: the longest the sending thread was held up, ms — the larger of the worst
   * generator dispatch lag and the worst event-loop delay. The overload rule counts windows over the limit.
   */
  readonly windowMaxLagMs: number[] = [];
  /** Per scenario and shard: the adapter's end-of-run report (from each shard's final batch). */
  private readonly reports = new Map<string, Map<number, unknown>>();
  /** Per scenario: each shard's first failure messages per error class (final batches; see combineReasons). */
  readonly errorReasons = new Map<string, Array<Record<string, string[]>>>();
  private readonly pending = new Map<number, ShardBatch[]>();
  /** Per pending window: its snapshots merged so far, by `scenario` or `scenario\u0000group`. */
  private readonly folded = new Map<number, Map<string, RawMerge>>();
  private readonly last: number[];
  private readonly finalAt: Array<number | null>;
  private next = 0;

  constructor(private readonly shards: number) {
    this.last = new Array(shards).fill(-1);
    this.finalAt = new Array(shards).fill(null);
  }

  /** A scenario's span over all shards: earliest start, latest end (null while any shard runs it). */
  span(scenario: string): { startMs: number; endMs: number | null } | undefined {
    const m = this.shardSpans.get(scenario);
    if (!m || m.size === 0) return undefined;
    const all = [...m.values()];
    return {
      startMs: Math.min(...all.map((s) => s.startMs)),
      endMs: all.some((s) => s.endMs === null) ? null : Math.max(...all.map((s) => s.endMs!)),
    };
  }

  get scenariosSeen(): string[] {
    return [...this.shardSpans.keys()];
  }

  /** A scenario's adapter reports, one per shard that sent one, in shard order. */
  adapterReports(scenario: string): unknown[] {
    const m = this.reports.get(scenario);
    return m ? [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r) : [];
  }

  /** A shard that died: stop waiting for its windows. Returns the windows that became complete. */
  shardFailed(shard: number): MergedWindow[] {
    if (this.finalAt[shard] === null) this.finalAt[shard] = this.last[shard];
    return this.takeComplete();
  }

  /**
   * Adds a batch; returns the windows that became complete, in order. The batch's raw counts are
   * read before this returns (so their buffers can go back to the shard's pool).
   */
  add(b: ShardBatch): MergedWindow[] {
    let list = this.pending.get(b.index);
    if (!list) this.pending.set(b.index, (list = []));
    list.push(b);
    let byKey = this.folded.get(b.index);
    if (!byKey) this.folded.set(b.index, (byKey = new Map()));
    for (const s of b.snapshots) {
      const key = s.group === undefined ? s.scenario : `${s.scenario}\u0000${s.group}`;
      let m = byKey.get(key);
      if (!m) byKey.set(key, (m = new RawMerge()));
      m.add(s);
    }
    addRaw(this.generatorLag, b.health.generatorLag);
    this.windowMaxLagMs.push(Math.max(b.health.generatorLag.max / 1000, b.health.eventLoopDelayMs.max));
    this.last[b.shard] = Math.max(this.last[b.shard], b.index);
    if (b.final) this.finalAt[b.shard] = b.index;
    // Reports are not per window: kept as they arrive, whether or not the window is complete yet.
    for (const k in b.errorReasons ?? {})
      this.errorReasons.set(k, [...(this.errorReasons.get(k) ?? []), b.errorReasons![k]]);
    for (const k in b.adapterReports ?? {}) {
      let m = this.reports.get(k);
      if (!m) this.reports.set(k, (m = new Map()));
      m.set(b.shard, b.adapterReports![k]);
    }
    return this.takeComplete();
  }

  /** Merges, in order, every window that all shards have now delivered. */
  private takeComplete(): MergedWindow[] {
    const out: MergedWindow[] = [];
    while (this.isComplete(this.next)) {
      const w = this.mergeWindow(this.next);
      if (w) out.push(w);
      this.next++;
    }
    return out;
  }

  /** Merges whatever is left (a shard died or the run was cut short). */
  flush(): MergedWindow[] {
    const out: MergedWindow[] = [];
    const indices = [...this.pending.keys()].sort((a, b) => a - b);
    for (const i of indices) {
      const w = this.mergeWindow(i);
      if (w) out.push(w);
    }
    return out;
  }

  get allFinal(): boolean {
    return this.finalAt.every((f) => f !== null) && this.pending.size === 0;
  }

  private isComplete(index: number): boolean {
    if (!this.pending.has(index)) return false;
    for (let s = 0; s < this.shards; s++) {
      const f = this.finalAt[s];
      if (this.last[s] >= index) continue;
      if (f !== null && f < index) continue;
      return false;
    }
    return true;
  }

  private mergeWindow(index: number): MergedWindow | null {
    const batches = this.pending.get(index);
    const byKey = this.folded.get(index) ?? new Map<string, RawMerge>();
    this.pending.delete(index);
    this.folded.delete(index);
    if (!batches) return null;
    for (const b of batches) {
      for (const k in b.unsent) this.unsent.set(k, (this.unsent.get(k) ?? 0) + b.unsent[k]);
      for (const k in b.cancelled) this.cancelled.set(k, (this.cancelled.get(k) ?? 0) + b.cancelled[k]);
      for (const k in b.spans) {
        let m = this.shardSpans.get(k);
        if (!m) this.shardSpans.set(k, (m = new Map()));
        m.set(b.shard, b.spans[k]);
      }
      this.eventLoopDelayMs.p99max = Math.max(this.eventLoopDelayMs.p99max, b.health.eventLoopDelayMs.p99);
      this.eventLoopP99s.push(b.health.eventLoopDelayMs.p99);
      this.eventLoopP50s.push(b.health.eventLoopDelayMs.p50);
      this.eventLoopDelayMs.max = Math.max(this.eventLoopDelayMs.max, b.health.eventLoopDelayMs.max);
    }
    const snapshots: IntervalSnapshot[] = [];
    const records: IntervalRecord[] = [];
    for (const [key, parts] of byKey) {
      const merged = parts.finish();
      snapshots.push(merged.snapshot);
      let acc = this.totals.get(key);
      if (!acc) this.totals.set(key, (acc = new Accumulator()));
      acc.addMerged(merged);
      records.push(toRecord(merged.snapshot, merged.histograms));
    }
    return { index, records, snapshots };
  }
}

/** The intervals.ndjson line of a merged window; `decoded`: its histograms, when already at hand (not decoded again). */
export function toRecord(s: IntervalSnapshot, decoded?: Map<string, Histogram>): IntervalRecord {
  const hist = (k: string) => decoded?.get(k) ?? decodeHistogram(s.histograms[k]);
  const errors: Record<string, number> = {};
  const counters: Record<string, number> = {};
  for (const k in s.counters) {
    if (k.startsWith('err.')) errors[k.slice(4)] = s.counters[k];
    else if (!CORE_COUNTERS.has(k)) counters[k] = s.counters[k];
  }
  const histogramsMs: IntervalRecord['histograms_ms'] = {};
  for (const k in s.histograms) {
    if (CORE_HISTOGRAMS.has(k)) continue;
    const st = shortStats(hist(k));
    if (st) histogramsMs[k] = st;
  }
  const requests = s.counters.requests ?? 0;
  const durS = s.durationMs / 1000;
  const rec: IntervalRecord = {
    scenario: s.scenario,
    t: s.index,
    start_s: s.startMs / 1000,
    duration_s: durS,
    requests,
    ok: s.counters.ok ?? 0,
    errors,
    throughput: durS > 0 ? round(requests / durS) : 0,
    in_flight: s.gauges.in_flight ?? 0,
    late: s.counters.late ?? 0,
    latency_ms: shortStats(hist('latency')),
    service_time_ms: shortStats(hist('service_time')),
    counters,
    histograms_ms: histogramsMs,
    hdr: s.histograms,
  };
  if (s.group !== undefined) rec.group = s.group;
  if (s.gauges.target_rate !== undefined) rec.target_rate = round(s.gauges.target_rate);
  if (s.gauges.vus !== undefined) rec.vus = s.gauges.vus;
  return rec;
}

const round = (x: number) => Math.round(x * 100) / 100;
