/**
 * Whole-run accumulators → the Summary of summary.json (before thresholds and verdict).
 */
import os from 'node:os';
import { createRequire } from 'node:module';
import type { DurationStats, GeneratorHealth, ScenarioSummary, Summary } from '../core/results.js';
import { durationStats, Accumulator } from '../metrics/index.js';
import type { Plan, ScenarioPlan } from '../plan/types.js';
import { RateProfile } from '../pacing/index.js';
import { workloadModel } from '../engine/index.js';

const CORE_COUNTERS = new Set(['requests', 'ok', 'bytes_in', 'bytes_out', 'late']);
const CORE_HISTOGRAMS = new Set(['latency', 'service_time', 'ttfb', 'dispatch_lag']);

export function toolVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function scenarioSummary(
  acc: Accumulator | undefined,
  executor: string,
  protocol: string,
  extra: {
    unsent?: number;
    cancelled?: number;
    targetRate?: number;
    activeMs?: number;
    errorReasons?: Record<string, string[]>;
  } = {},
): ScenarioSummary {
  const a = acc ?? new Accumulator();
  const c = a.counters;
  const requests = c.requests ?? 0;
  const ok = c.ok ?? 0;
  const errors: Record<string, number> = {};
  const counters: Record<string, number> = {};
  for (const k in c) {
    if (k.startsWith('err.')) errors[k.slice(4)] = c[k];
    else if (!CORE_COUNTERS.has(k)) counters[k] = c[k];
  }
  const histograms: Record<string, DurationStats> = {};
  for (const [k, h] of a.histograms) if (!CORE_HISTOGRAMS.has(k)) histograms[`${k}_ms`] = durationStats(h);
  // Active time: from the scenario's start to its last completion (exact, not window-rounded).
  const durationS = (extra.activeMs ?? a.windowMs) / 1000;
  // Requests cancelled at the stop never completed: a request given up on is not a success, so they
  // count as failed in error_rate (a run whose requests never finish cannot show 0% errors).
  const cancelled = extra.cancelled ?? 0;
  const s: ScenarioSummary = {
    executor,
    protocol,
    model: workloadModel(executor),
    durationS: round(durationS),
    requests,
    ok,
    errors,
    error_rate: requests + cancelled > 0 ? round6((requests - ok + cancelled) / (requests + cancelled)) : 0,
    throughput: durationS > 0 ? round(requests / durationS) : 0,
    ok_throughput: durationS > 0 ? round(ok / durationS) : 0,
    late: c.late ?? 0,
    unsent: extra.unsent ?? 0,
    cancelled,
    bytes_in: c.bytes_in ?? 0,
    bytes_out: c.bytes_out ?? 0,
    latency_ms: durationStats(a.histogram('latency')),
    service_time_ms: durationStats(a.histogram('service_time')),
    ttfb_ms: durationStats(a.histogram('ttfb')),
    dispatch_lag_ms: durationStats(a.histogram('dispatch_lag')),
    histograms,
    counters,
    maxes: { ...a.maxes },
  };
  if (extra.targetRate !== undefined) s.target_rate = round(extra.targetRate);
  if (extra.errorReasons !== undefined) s.error_reasons = extra.errorReasons;
  return s;
}

/** Characters of an error reason shown in the summary (cut after redaction, never before). */
const REASON_CHARS = 200;

/**
 * Shards' first failure messages per class → at most `max` distinct per class, in shard order, each
 * passed through `redact` (messages may quote a URL or a response: secrets must not leak), then cut.
 */
export function combineReasons(
  lists: ReadonlyArray<Record<string, readonly string[]>>,
  redact: (s: string) => string,
  max = 3,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of lists) {
    for (const cls in l) {
      const into = (out[cls] ??= []);
      for (const m of l[cls]) {
        const red = redact(m);
        const r = red.length > REASON_CHARS ? `${red.slice(0, REASON_CHARS - 1)}…` : red;
        if (into.length < max && !into.includes(r)) into.push(r);
      }
    }
  }
  return out;
}

/** Mean scheduled arrival rate of an open-model scenario (Λ(end) / duration); undefined for closed ones. */
export function plannedMeanRate(s: ScenarioPlan): number | undefined {
  if (s.executor === 'constant-arrival-rate') return s.rate;
  if (s.executor !== 'ramping-arrival-rate') return undefined;
  const p = new RateProfile(
    s.startRate,
    s.stages.map((st) => ({ durationS: st.durationMs / 1000, target: st.target })),
  );
  return p.durationS > 0 ? p.totalArrivals / p.durationS : 0;
}

export function machineInfo(): Summary['machine'] {
  const cpus = os.cpus();
  return {
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

export function emptyHealth(workers: number, httpClient: GeneratorHealth['http_client'] = 'builtin'): GeneratorHealth {
  return {
    overloaded: false,
    workers,
    http_client: httpClient,
    dispatch_lag_ms: { p50: 0, p99: 0, max: 0 },
    event_loop_delay_ms: { p50: 0, p99: 0, max: 0 },
    cpu_percent: { mean: 0, max: 0 },
    windows_over_limit: { count: 0, of: 0, limit_ms: 0 },
    reasons: [],
  };
}

export function describeTiming(plan: Plan): string[] {
  const notes: string[] = [];
  for (const s of plan.scenarios) {
    if (workloadModel(s.executor) === 'closed')
      notes.push(
        `${s.name}: closed workload — intended start = actual send, so latency ≈ service time (plus any wait for a pooled connection).`,
      );
  }
  return notes;
}

const round = (x: number) => Math.round(x * 100) / 100;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
