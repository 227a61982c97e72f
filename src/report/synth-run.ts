/**
 * Synthetic but realistic results folders (summary.json, intervals.ndjson with real HDR histograms,
 * plan.resolved.json) from a seeded generator. Test support only: builds the committed fixtures in
 * src/report/fixtures (see generate-fixtures.ts) and larger runs for the report-size test.
 * Not part of the public API.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { DurationStats, IntervalRecord, ScenarioSummary, Summary, ThresholdResult } from '../core/results.js';
import { Rng } from '../core/random.js';

export interface SynthScenario {
  name: string;
  executor: string;
  protocol: string;
  model: 'open' | 'closed';
  /** Open model: arrivals per second. */
  rate?: number;
  /** Closed model: concurrent virtual users. */
  vus?: number;
  serviceMedianMs: number;
  /** Shape of the log-normal service time. */
  sigma: number;
  errorRate: number;
  errorClasses?: string[];
  /** Classification accuracy (records quality.correct / quality.scored). */
  accuracy?: number;
  /** LLM streaming: TTFT and inter-token latency (records ttft / itl histograms, tokens_out). */
  llm?: { ttftMedianMs: number; itlMedianMs: number; tokensMin: number; tokensMax: number };
  /** A slow patch: service time × factor for windows [from, to); open model queues behind it. */
  slowPatch?: { from: number; to: number; factor: number };
  /** Multiply every service time (an injected regression). */
  factor?: number;
  /** Traffic-mix groups (one extra interval record per group per window). */
  groups?: string[];
}

export interface SynthThreshold {
  expression: string;
  scenario?: string;
  pick: (s: ScenarioSummary) => number | null;
  ok: (v: number) => boolean;
}

export interface SynthRun {
  seed: number;
  durationS: number;
  plan: string;
  startedAt: string;
  scenarios: SynthScenario[];
  thresholds: SynthThreshold[];
  warnings?: string[];
  profiles?: Record<string, unknown>;
  status?: Summary['status'];
  overloaded?: boolean;
}

const HIST_NAMES = ['latency', 'service_time', 'ttfb', 'dispatch_lag', 'ttft', 'itl'] as const;
type HistName = (typeof HIST_NAMES)[number];
/** Histograms written into intervals' `hdr` (the others stay summary-only to keep fixtures small). */
const ENCODED: readonly HistName[] = ['latency', 'service_time', 'ttft', 'itl'];

function newHist(): Histogram {
  return build({ bitBucketSize: 32, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

function r3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function stats(h: Histogram): DurationStats {
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  const at = (p: number): number => r3(h.getValueAtPercentile(p) / 1000);
  return {
    count: h.totalCount,
    min: r3(h.minNonZeroValue / 1000),
    mean: r3(h.mean / 1000),
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: r3(h.maxValue / 1000),
  };
}

function short(h: Histogram): { p50: number; p90: number; p99: number; max: number } | null {
  if (h.totalCount === 0) return null;
  return {
    p50: r3(h.getValueAtPercentile(50) / 1000),
    p90: r3(h.getValueAtPercentile(90) / 1000),
    p99: r3(h.getValueAtPercentile(99) / 1000),
    max: r3(h.maxValue / 1000),
  };
}

interface Acc {
  requests: number;
  ok: number;
  errors: Record<string, number>;
  counters: Record<string, number>;
  late: number;
  bytesIn: number;
  bytesOut: number;
  h: Record<HistName, Histogram>;
}

function newAcc(): Acc {
  const h = {} as Record<HistName, Histogram>;
  for (const n of HIST_NAMES) h[n] = newHist();
  return { requests: 0, ok: 0, errors: {}, counters: {}, late: 0, bytesIn: 0, bytesOut: 0, h };
}

function addAcc(into: Acc, from: Acc): void {
  into.requests += from.requests;
  into.ok += from.ok;
  into.late += from.late;
  into.bytesIn += from.bytesIn;
  into.bytesOut += from.bytesOut;
  for (const [k, v] of Object.entries(from.errors)) into.errors[k] = (into.errors[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.counters)) into.counters[k] = (into.counters[k] ?? 0) + v;
  for (const n of HIST_NAMES) into.h[n].add(from.h[n]);
}

function freeAcc(a: Acc): void {
  for (const n of HIST_NAMES) a.h[n].destroy();
}

function summaryOf(spec: SynthScenario | null, acc: Acc, durationS: number): ScenarioSummary {
  const errTotal = Object.values(acc.errors).reduce((a, b) => a + b, 0);
  const histograms: Record<string, DurationStats> = {};
  if (acc.h.ttft.totalCount > 0) histograms.ttft_ms = stats(acc.h.ttft);
  if (acc.h.itl.totalCount > 0) histograms.itl_ms = stats(acc.h.itl);
  const s: ScenarioSummary = {
    executor: spec?.executor ?? 'mixed',
    protocol: spec?.protocol ?? 'mixed',
    model: spec?.model ?? 'open',
    durationS,
    requests: acc.requests,
    ok: acc.ok,
    errors: Object.fromEntries(Object.entries(acc.errors).sort(([a], [b]) => a.localeCompare(b))),
    error_rate: acc.requests > 0 ? r3((errTotal / acc.requests) * 1000) / 1000 : 0,
    throughput: r3(acc.requests / durationS),
    late: acc.late,
    unsent: 0,
    cancelled: 0,
    bytes_in: acc.bytesIn,
    bytes_out: acc.bytesOut,
    latency_ms: stats(acc.h.latency),
    service_time_ms: stats(acc.h.service_time),
    ttfb_ms: stats(acc.h.ttfb),
    dispatch_lag_ms: stats(acc.h.dispatch_lag),
    histograms,
    counters: Object.fromEntries(Object.entries(acc.counters).sort(([a], [b]) => a.localeCompare(b))),
  };
  if (spec?.model === 'open' && spec.rate) s.target_rate = spec.rate;
  return s;
}

/** Build a run in memory. Deterministic for a given spec (seeded). */
export function synthesizeRun(spec: SynthRun): { summary: Summary; intervals: IntervalRecord[]; plan: unknown } {
  const rng = new Rng(spec.seed);
  const intervals: IntervalRecord[] = [];
  const scenarioAcc = new Map<string, Acc>();
  const groupAcc = new Map<string, Map<string, Acc>>();
  const backlog = new Map<string, number>();
  for (const sc of spec.scenarios) {
    scenarioAcc.set(sc.name, newAcc());
    groupAcc.set(sc.name, new Map((sc.groups ?? []).map((g) => [g, newAcc()])));
    backlog.set(sc.name, 0);
  }
  for (let t = 0; t < spec.durationS; t++) {
    for (const sc of spec.scenarios) {
      const w = newAcc();
      const wg = new Map((sc.groups ?? []).map((g) => [g, newAcc()]));
      const slow = sc.slowPatch && t >= sc.slowPatch.from && t < sc.slowPatch.to ? sc.slowPatch.factor : 1;
      const factor = (sc.factor ?? 1) * slow;
      // Open model: a slow patch builds a queue (ms of waiting) that drains afterwards.
      let queueMs = backlog.get(sc.name) ?? 0;
      queueMs = slow > 1 ? queueMs + sc.serviceMedianMs * (slow - 1) * 2.5 : queueMs * 0.45;
      if (queueMs < 0.5) queueMs = 0;
      backlog.set(sc.name, queueMs);
      const n =
        sc.model === 'open'
          ? Math.max(0, Math.round((sc.rate ?? 10) + rng.normal(0, Math.sqrt(sc.rate ?? 10))))
          : Math.max(
              1,
              Math.round(
                ((sc.vus ?? 1) * 1000) / (sc.serviceMedianMs * factor * 1.15 + (sc.llm ? sc.llm.ttftMedianMs : 0)) +
                  rng.normal(0, 1),
              ),
            );
      let latencySumMs = 0;
      for (let i = 0; i < n; i++) {
        const group = sc.groups && sc.groups.length > 0 ? sc.groups[i % sc.groups.length] : undefined;
        const g = group ? wg.get(group) : undefined;
        const accs = g ? [w, g] : [w];
        const lag =
          sc.model === 'open' ? rng.exponential(0.15) + queueMs * rng.uniform(0.3, 1.2) : rng.exponential(0.05);
        let service: number;
        let ttft = 0;
        const itls: number[] = [];
        if (sc.llm) {
          ttft = rng.logNormal(sc.llm.ttftMedianMs * factor, sc.sigma);
          const tokens = sc.llm.tokensMin + rng.int(sc.llm.tokensMax - sc.llm.tokensMin + 1);
          let s = ttft;
          for (let k = 1; k < tokens; k++) {
            const itl = rng.logNormal(sc.llm.itlMedianMs * factor, 0.35);
            itls.push(itl);
            s += itl;
          }
          service = s;
          for (const a of accs) a.counters.tokens_out = (a.counters.tokens_out ?? 0) + tokens;
        } else {
          service = rng.logNormal(sc.serviceMedianMs * factor, sc.sigma);
        }
        const failed = rng.float() < sc.errorRate * (slow > 1 ? 6 : 1);
        for (const a of accs) {
          a.requests++;
          a.bytesOut += 2200 + rng.int(200);
          if (lag > 10) a.late++;
        }
        if (failed) {
          const classes =
            slow > 1 ? ['timeout', ...(sc.errorClasses ?? ['http_5xx'])] : (sc.errorClasses ?? ['http_5xx']);
          const cls = classes[rng.int(classes.length)];
          for (const a of accs) a.errors[cls] = (a.errors[cls] ?? 0) + 1;
          continue;
        }
        const latency = service + lag;
        latencySumMs += latency;
        for (const a of accs) {
          a.ok++;
          a.bytesIn += 180 + rng.int(40);
          a.h.latency.recordValue(Math.max(1, Math.round(latency * 1000)));
          a.h.service_time.recordValue(Math.max(1, Math.round(service * 1000)));
          a.h.ttfb.recordValue(Math.max(1, Math.round((sc.llm ? ttft : service * 0.92) * 1000)));
          a.h.dispatch_lag.recordValue(Math.max(1, Math.round(lag * 1000)));
          if (sc.llm) {
            a.h.ttft.recordValue(Math.max(1, Math.round(ttft * 1000)));
            for (const itl of itls) a.h.itl.recordValue(Math.max(1, Math.round(itl * 1000)));
          }
          if (sc.accuracy !== undefined) {
            a.counters['quality.scored'] = (a.counters['quality.scored'] ?? 0) + 1;
            if (rng.float() < sc.accuracy) a.counters['quality.correct'] = (a.counters['quality.correct'] ?? 0) + 1;
          }
        }
      }
      const meanLatencyS = w.ok > 0 ? latencySumMs / w.ok / 1000 : 0;
      const record = (a: Acc, group?: string): IntervalRecord => {
        const hdr: Record<string, string> = {};
        for (const name of ENCODED) if (a.h[name].totalCount > 0) hdr[name] = encodeIntoCompressedBase64(a.h[name]);
        const histograms_ms: IntervalRecord['histograms_ms'] = {};
        const tt = short(a.h.ttft);
        const it = short(a.h.itl);
        if (tt) histograms_ms.ttft = tt;
        if (it) histograms_ms.itl = it;
        const share = group && sc.groups ? 1 / sc.groups.length : 1;
        const rec: IntervalRecord = {
          scenario: sc.name,
          ...(group ? { group } : {}),
          t,
          start_s: t,
          duration_s: 1,
          requests: a.requests,
          ok: a.ok,
          errors: Object.fromEntries(Object.entries(a.errors).sort(([x], [y]) => x.localeCompare(y))),
          throughput: a.requests,
          ...(sc.model === 'open' && sc.rate ? { target_rate: r3(sc.rate * share) } : {}),
          in_flight:
            sc.model === 'open'
              ? Math.round((sc.rate ?? 0) * share * meanLatencyS + rng.float())
              : Math.round((sc.vus ?? 1) * share),
          ...(sc.model === 'closed' ? { vus: Math.round((sc.vus ?? 1) * share) } : {}),
          late: a.late,
          latency_ms: short(a.h.latency),
          service_time_ms: short(a.h.service_time),
          counters: Object.fromEntries(Object.entries(a.counters).sort(([x], [y]) => x.localeCompare(y))),
          histograms_ms,
          hdr,
        };
        return rec;
      };
      intervals.push(record(w));
      for (const [g, a] of wg) {
        intervals.push(record(a, g));
        const ga = groupAcc.get(sc.name)?.get(g);
        if (ga) addAcc(ga, a);
        freeAcc(a);
      }
      addAcc(scenarioAcc.get(sc.name) as Acc, w);
      freeAcc(w);
    }
  }
  const scenarios: Record<string, ScenarioSummary> = {};
  const total = newAcc();
  for (const sc of spec.scenarios) {
    const acc = scenarioAcc.get(sc.name) as Acc;
    const s = summaryOf(sc, acc, spec.durationS);
    const groups = groupAcc.get(sc.name);
    if (groups && groups.size > 0) {
      s.groups = {};
      for (const [g, a] of groups) {
        const gs = summaryOf(sc, a, spec.durationS);
        if (gs.target_rate !== undefined && sc.groups) gs.target_rate = r3(gs.target_rate / sc.groups.length);
        s.groups[g] = gs;
      }
    }
    scenarios[sc.name] = s;
    addAcc(total, acc);
  }
  const totalSummary = summaryOf(null, total, spec.durationS);
  const thresholds: ThresholdResult[] = spec.thresholds.map((th) => {
    const s = th.scenario ? scenarios[th.scenario] : totalSummary;
    const v = s ? th.pick(s) : null;
    const r: ThresholdResult = {
      expression: th.expression,
      value: v === null ? null : r3(v * 1e6) / 1e6,
      ok: v !== null && th.ok(v),
    };
    if (th.scenario) r.scenario = th.scenario;
    return r;
  });
  const overloaded = spec.overloaded ?? false;
  const status = spec.status ?? 'completed';
  const verdict: Summary['verdict'] =
    status === 'interrupted'
      ? 'interrupted'
      : overloaded
        ? 'invalid'
        : thresholds.every((t) => t.ok)
          ? 'passed'
          : 'failed';
  const exitCode = verdict === 'passed' ? 0 : verdict === 'failed' ? 3 : verdict === 'invalid' ? 4 : 130;
  const start = new Date(spec.startedAt);
  const summary: Summary = {
    format: 'preflight-summary/1',
    tool: { name: 'preflight', version: '0.1.0', node: 'v22.12.0' },
    machine: { platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'Intel(R) Xeon(R) CPU @ 2.20GHz', memoryGiB: 7.8 },
    plan: spec.plan,
    startedAt: start.toISOString(),
    endedAt: new Date(start.getTime() + spec.durationS * 1000 + 412).toISOString(),
    durationS: spec.durationS,
    status,
    verdict,
    exitCode,
    thresholds,
    warnings: spec.warnings ?? [],
    generator: {
      overloaded,
      workers: 1,
      http_client: 'builtin',
      dispatch_lag_ms: { p50: 0.08, p99: overloaded ? 48.2 : 0.61, max: overloaded ? 130.5 : 2.3 },
      event_loop_delay_ms: { p50: 0.9, p99: overloaded ? 62.1 : 3.1, max: overloaded ? 140.2 : 9.8 },
      cpu_percent: { mean: overloaded ? 97.5 : 23.4, max: overloaded ? 100 : 41.2 },
      reasons: overloaded ? ['event-loop delay p99 62.1 ms > 20 ms', 'CPU 97.5% of one core'] : [],
    },
    total: totalSummary,
    scenarios,
  };
  if (spec.profiles) summary.profiles = spec.profiles;
  freeAcc(total);
  for (const a of scenarioAcc.values()) freeAcc(a);
  for (const m of groupAcc.values()) for (const a of m.values()) freeAcc(a);
  const plan = {
    name: spec.plan,
    target: { url: 'http://127.0.0.1:8080', headers: { authorization: '«redacted»' }, timeoutMs: 30000 },
    scenarios: Object.fromEntries(
      spec.scenarios.map((sc) => [
        sc.name,
        {
          executor: sc.executor,
          protocol: sc.protocol,
          ...(sc.rate ? { rate: sc.rate } : {}),
          ...(sc.vus ? { vus: sc.vus } : {}),
          durationMs: spec.durationS * 1000,
        },
      ]),
    ),
    thresholds: spec.thresholds.map((t) => (t.scenario ? `${t.scenario}: ${t.expression}` : t.expression)),
    seed: spec.seed,
  };
  return { summary, intervals, plan };
}

/** Write a synthesized run as a results folder. */
export async function writeSynthRun(
  dir: string,
  spec: SynthRun,
): Promise<{ summary: Summary; intervals: IntervalRecord[] }> {
  const { summary, intervals, plan } = synthesizeRun(spec);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await writeFile(join(dir, 'intervals.ndjson'), intervals.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await writeFile(join(dir, 'plan.resolved.json'), `${JSON.stringify(plan, null, 2)}\n`);
  return { summary, intervals };
}

/** The two fixture runs: a passing baseline and a slower candidate (+30% classify, a slow patch). */
export function fixtureSpecs(durationS = 30): { baseline: SynthRun; candidate: SynthRun } {
  const classify = (over: Partial<SynthScenario>): SynthScenario => ({
    name: 'classify',
    executor: 'constant-arrival-rate',
    protocol: 'kserve-v2',
    model: 'open',
    rate: 40,
    serviceMedianMs: 18,
    sigma: 0.35,
    errorRate: 0.002,
    errorClasses: ['http_5xx'],
    accuracy: 0.972,
    groups: ['digits-v1', 'digits-v2'],
    ...over,
  });
  const chat = (over: Partial<SynthScenario>): SynthScenario => ({
    name: 'chat',
    executor: 'constant-concurrency',
    protocol: 'openai',
    model: 'closed',
    vus: 4,
    serviceMedianMs: 9,
    sigma: 0.3,
    errorRate: 0.004,
    errorClasses: ['http_5xx', 'invalid_response'],
    llm: { ttftMedianMs: 120, itlMedianMs: 9, tokensMin: 24, tokensMax: 64 },
    ...over,
  });
  const thresholds: SynthThreshold[] = [
    { expression: 'latency.p99 < 120ms', scenario: 'classify', pick: (s) => s.latency_ms.p99, ok: (v) => v < 120 },
    { expression: 'error_rate < 1%', scenario: 'classify', pick: (s) => s.error_rate, ok: (v) => v < 0.01 },
    {
      expression: 'accuracy >= 0.95',
      scenario: 'classify',
      pick: (s) => (s.counters['quality.scored'] ? s.counters['quality.correct'] / s.counters['quality.scored'] : null),
      ok: (v) => v >= 0.95,
    },
    {
      expression: 'ttft.p90 < 400ms',
      scenario: 'chat',
      pick: (s) => s.histograms.ttft_ms?.p90 ?? null,
      ok: (v) => v < 400,
    },
    { expression: 'error_rate < 2%', pick: (s) => s.error_rate, ok: (v) => v < 0.02 },
  ];
  const baseline: SynthRun = {
    seed: 11,
    durationS,
    plan: 'digits-and-chat',
    startedAt: '2025-11-20T09:30:00.000Z',
    scenarios: [classify({}), chat({})],
    thresholds,
  };
  const candidate: SynthRun = {
    seed: 12,
    durationS,
    plan: 'digits-and-chat',
    startedAt: '2025-11-21T09:30:00.000Z',
    scenarios: [
      classify({
        factor: 1.3,
        slowPatch: { from: Math.floor(durationS * 0.55), to: Math.floor(durationS * 0.55) + 3, factor: 3 },
      }),
      chat({}),
    ],
    thresholds,
    warnings: [
      'scenario classify: 41 arrivals were sent more than 10 ms late (the target queued requests; see latency vs service time)',
    ],
    profiles: {
      spike: {
        answer: 'p99 latency recovered to within 10% of its pre-spike level 4 s after the slow patch ended.',
        numbers: { recovery_s: 4, pre_spike_p99_ms: 61.2, peak_p99_ms: 402.5, errors_during_spike: 7 },
        marks: [
          { t_s: Math.floor(durationS * 0.55), label: 'slow patch' },
          { t_s: Math.floor(durationS * 0.55) + 3, label: 'patch ends' },
        ],
        curves: [
          {
            title: 'p99 latency vs offered load (step test)',
            x_label: 'offered rate (/s)',
            y_label: 'p99 latency (ms)',
            points: [
              [10, 38.1],
              [20, 40.5],
              [40, 46.9],
              [60, 58.3],
              [80, 91.4],
              [100, 233.0],
            ],
          },
        ],
      },
    },
  };
  return { baseline, candidate };
}
