/**
 * `run(plan)`: the library entry point. Checks the target, starts the shards (worker threads, also
 * for one worker), merges their windows as they arrive, writes results incrementally, evaluates thresholds
 * and returns the summary with its verdict and exit code. Never throws for failed requests — only
 * for invalid input or an unreachable target (PreflightError).
 */
import { ExitCode } from '../core/exit-codes.js';
import type { GeneratorHealth, IntervalRecord, Summary, ThresholdResult } from '../core/results.js';
import { absoluteNow, httpClientOf, workerShard, type ShardBatch, type ShardHandle } from '../engine/index.js';
import { Accumulator } from '../metrics/index.js';
import type { Plan } from '../plan/types.js';
import { redact, redactError, redactPlan } from '../plan/index.js';
import { enrichSummary, mergeAdapterReports, type AdapterReport } from '../protocols/index.js';
import { decideOutcome, evaluateLive, evaluateThresholds, nothingServed } from '../verdict/index.js';
import { checkTargets } from './target-check.js';
import { checkOffline } from './check-offline.js';
import { defaultOutDir, ResultsWriter } from './results-writer.js';
import { judgeHealth } from './health.js';
import { combineReasons, describeTiming, machineInfo, plannedMeanRate, scenarioSummary, toolVersion } from './summary.js';
import { WindowMerger } from './window-merger.js';

export interface ScenarioProgress {
  name: string;
  state: 'waiting' | 'running' | 'done';
  elapsedS: number;
  plannedS: number | null;
  requests: number;
  errors: number;
  /** Last window. */
  throughput: number;
  targetRate?: number;
  vus?: number;
  inFlight: number;
  p50?: number;
  p99?: number;
  /** Stage executors: the current stage (1-based), how many, and seconds left in it. */
  stage?: { index: number; count: number; remainingS: number };
}

export interface ProgressUpdate {
  elapsedS: number;
  plannedS: number | null;
  scenarios: ScenarioProgress[];
}

export interface RunOptions {
  /** Results folder; default results/<timestamp>. */
  outDir?: string;
  /** Abort → stop within a second, keep partial results, verdict `interrupted`. */
  signal?: AbortSignal;
  onProgress?: (p: ProgressUpdate) => void;
  /** Called with each merged window's records (after they are written). */
  onWindow?: (records: IntervalRecord[]) => void;
  /** Skip the reachability/readiness check (tests of unreachable targets). */
  skipTargetCheck?: boolean;
  /**
   * End the run early as if it had reached its planned end (profiles: the answer is known — a step
   * is steady, the SLO is clearly broken). Unlike `signal` this is not an interruption: the status
   * stays `completed`, active times are measured, and `summary.endedEarly` holds `stop.reason`
   * (when it is a string).
   */
  stop?: AbortSignal;
  /** Called once when load starts, with `performance.now()` at t = 0 of the run's timeline. */
  onStart?: (t0PerfMs: number) => void;
  /** Called with each merged window's records before they are written (add fields, e.g. target memory). */
  decorateWindow?: (records: IntervalRecord[], index: number) => void;
}

export interface RunResult {
  summary: Summary;
  outDir: string;
  exitCode: ExitCode;
}

/** When a scenario is planned to end (ms since run start); null when bounded by count only. */
export function plannedEndMs(s: Plan['scenarios'][number]): number | null {
  const stagesMs = s.stages ? s.stages.reduce((a, st) => a + st.durationMs, 0) : undefined;
  const d = s.executor.startsWith('ramping') ? stagesMs : s.durationMs;
  // `after` a count-bounded scenario: it starts when that one ends, known only then
  return d === undefined || s.after !== undefined ? null : s.startTimeMs + d;
}

export async function run(plan: Plan, opts: RunOptions = {}): Promise<RunResult> {
  try {
    return await runPlan(plan, opts);
  } catch (e) {
    // Errors from talking to the target quote its URLs and its answers (which may echo them).
    throw redactError(e, plan.secrets);
  }
}

async function runPlan(plan: Plan, opts: RunOptions): Promise<RunResult> {
  // Data, checks, traces: every problem at once (exit 2), before the target is touched and before
  // a results folder exists. (The load runs in worker threads, which read their data themselves.)
  await checkOffline(plan, opts.signal);
  if (!opts.skipTargetCheck) await checkTargets(plan);
  const outDir = opts.outDir ?? defaultOutDir();
  const secrets = plan.secrets;
  const writer = new ResultsWriter(outDir, (s) => redact(s, secrets));
  writer.writeJson('plan.resolved.json', redactPlan(plan));

  const workers = Math.max(1, plan.options.workers);
  const merger = new WindowMerger(workers);
  const startedAt = new Date();
  let status = 'completed' as Summary['status'];
  const aborted: string[] = [];
  /** CPU % of one core over spans of at least half a window (shorter spans, when windows arrive together, say nothing). */
  const cpuSamples: number[] = [];
  /** Whole-process CPU and wall time over those spans, for a time-weighted mean. */
  let cpuTotalUs = 0;
  let cpuWallUs = 0;
  let cpuPrev = process.cpuUsage();
  let cpuPrevT = process.hrtime.bigint();
  const latest = new Map<string, IntervalRecord>();
  const totalsSoFar = new Map<string, { requests: number; errors: number }>();
  const abortable = plan.thresholds.filter((t) => t.abortOnFail);
  let handles: ShardHandle[] = [];
  let stopping = false;
  let endedEarly: string | undefined;
  /** Load start (t = 0 of the windows), once started; and how far the merged windows reach (ms). */
  let loadT0: bigint | null = null;
  let coveredMs = 0;

  const stopAll = (drainMs: number) => {
    if (stopping) return;
    stopping = true;
    for (const h of handles) h.stop(drainMs);
  };

  const onBatch = (b: ShardBatch) => {
    for (const w of merger.add(b)) {
      coveredMs = Math.max(coveredMs, (w.index + 1) * plan.options.intervalMs);
      opts.decorateWindow?.(w.records, w.index);
      writer.appendIntervals(w.records);
      const now = process.hrtime.bigint();
      const wallUs = Number(now - cpuPrevT) / 1000;
      if (wallUs >= plan.options.intervalMs * 500) {
        const cpu = process.cpuUsage(cpuPrev);
        cpuSamples.push(((cpu.user + cpu.system) / wallUs) * 100);
        cpuTotalUs += cpu.user + cpu.system;
        cpuWallUs += wallUs;
        cpuPrev = process.cpuUsage();
        cpuPrevT = now;
      }
      for (const r of w.records) {
        if (r.group !== undefined) continue;
        latest.set(r.scenario, r);
        const t = totalsSoFar.get(r.scenario) ?? { requests: 0, errors: 0 };
        t.requests += r.requests;
        t.errors += r.requests - r.ok;
        totalsSoFar.set(r.scenario, t);
      }
      opts.onWindow?.(w.records);
      if (opts.onProgress) opts.onProgress(progress(w.index));
      if (abortable.length > 0 && !stopping) {
        // Partial: rates over the time the merged windows cover, not over the planned duration.
        const partial = buildSummary('completed', true);
        const failing = evaluateLive(abortable, partial, sinceLoadStartMs());
        if (failing.length > 0) {
          status = 'aborted';
          aborted.push(...failing.map((t) => t.expression));
          stopAll(0);
        }
      }
    }
  };

  const t0Hr = process.hrtime.bigint();
  const elapsedMs = () => Number(process.hrtime.bigint() - t0Hr) / 1e6;
  /** Time since the load started (the windows' t = 0); the run's elapsedMs also counts the pre-load checks. */
  const sinceLoadStartMs = () => (loadT0 === null ? 0 : Math.max(0, Number(process.hrtime.bigint() - loadT0) / 1e6));
  const plannedS = (() => {
    const ends = plan.scenarios.map(plannedEndMs);
    return ends.some((e) => e === null) ? null : Math.max(...(ends as number[])) / 1000;
  })();

  function progress(index: number): ProgressUpdate {
    const elapsedS = ((index + 1) * plan.options.intervalMs) / 1000;
    return {
      elapsedS,
      plannedS,
      scenarios: plan.scenarios.map((s) => {
        const r = latest.get(s.name);
        const end = plannedEndMs(s);
        const span = merger.span(s.name);
        // `after` a count-bounded scenario: waiting until it has started
        const startS = s.after !== undefined ? (span ? span.startMs / 1000 : Infinity) : s.startTimeMs / 1000;
        // done: past its planned end, or ended in every worker (iterations, maxRequests have no planned end)
        const ended = span?.endMs != null;
        const state: ScenarioProgress['state'] = elapsedS < startS && !ended ? 'waiting' : ended || (end !== null && elapsedS * 1000 >= end + plan.options.intervalMs) ? 'done' : 'running';
        const t = totalsSoFar.get(s.name) ?? { requests: 0, errors: 0 };
        const p: ScenarioProgress = {
          name: s.name,
          state,
          elapsedS: Math.max(0, elapsedS - startS),
          plannedS: end === null ? null : (end - s.startTimeMs) / 1000,
          requests: t.requests,
          errors: t.errors,
          throughput: r && r.t === index ? r.throughput : 0,
          inFlight: r && r.t === index ? r.in_flight : 0,
        };
        if (s.stages && s.stages.length > 0 && state === 'running') {
          let acc = 0;
          for (let i = 0; i < s.stages.length; i++) {
            acc += s.stages[i].durationMs / 1000;
            if (p.elapsedS < acc || i === s.stages.length - 1) {
              p.stage = { index: i + 1, count: s.stages.length, remainingS: Math.max(0, acc - p.elapsedS) };
              break;
            }
          }
        }
        if (r?.target_rate !== undefined) p.targetRate = r.target_rate;
        // the gauge of a finished scenario reads 0 users; it says nothing then
        if (r?.vus !== undefined && state === 'running') p.vus = r.vus;
        if (r?.latency_ms && r.t === index) {
          p.p50 = r.latency_ms.p50;
          p.p99 = r.latency_ms.p99;
        }
        return p;
      }),
    };
  }

  function health(): GeneratorHealth {
    return judgeHealth({
      workers,
      httpClient: httpClientOf(plan),
      limitMs: plan.options.maxDispatchLagMs,
      generatorLag: merger.generatorLag,
      eventLoopP50s: merger.eventLoopP50s,
      eventLoopP99s: merger.eventLoopP99s,
      eventLoopMaxMs: merger.eventLoopDelayMs.max,
      windowMaxLagMs: merger.windowMaxLagMs,
      cpu: cpuSamples.length > 0 ? { mean: round((cpuTotalUs / cpuWallUs) * 100), max: round(Math.max(...cpuSamples)) } : undefined,
    });
  }

  /**
   * A scenario's active time: from its start to its last completion, but never shorter than its
   * planned duration unless it was cut short (an open workload's last arrival comes just before the end).
   */
  function activeMs(name: string, live = false): number {
    const sp = merger.span(name);
    if (!sp) return 0;
    const measured = Math.max(0, (sp.endMs ?? (live ? coveredMs : sinceLoadStartMs())) - sp.startMs);
    if (live) return measured;
    const sc = plan.scenarios.find((x) => x.name === name)!;
    const end = plannedEndMs(sc);
    return status === 'completed' && endedEarly === undefined && end !== null ? Math.max(measured, end - sc.startTimeMs) : measured;
  }

  /** From the first scenario's start to the last one's end. */
  function runSpanMs(live = false): number {
    const spans = merger.scenariosSeen.map((n) => merger.span(n)!);
    if (spans.length === 0) return 0;
    const start = Math.min(...spans.map((s) => s.startMs));
    const end = Math.max(...spans.map((s) => s.endMs ?? (live ? coveredMs : sinceLoadStartMs())));
    return Math.max(0, end - start);
  }

  function buildSummary(st: Summary['status'], live = false): Summary {
    const scenarios: Summary['scenarios'] = {};
    for (const s of plan.scenarios) {
      const sum = scenarioSummary(merger.totals.get(s.name), s.executor, s.protocol, {
        unsent: merger.unsent.get(s.name),
        cancelled: merger.cancelled.get(s.name),
        targetRate: plannedMeanRate(s),
        activeMs: activeMs(s.name, live),
        errorReasons: combineReasons(merger.errorReasons.get(s.name) ?? [], (m) => redact(m, secrets)),
      });
      const groups: Record<string, ReturnType<typeof scenarioSummary>> = {};
      for (const [key, acc] of merger.totals) {
        const [sc, g] = key.split('\u0000');
        if (sc === s.name && g !== undefined) groups[g] = scenarioSummary(acc, s.executor, s.protocol, { activeMs: activeMs(s.name, live) });
      }
      if (Object.keys(groups).length > 0) sum.groups = groups;
      // End-of-run adapter reports (worst golden rows, …), merged by the protocol layer.
      const report = mergeAdapterReports(s, merger.adapterReports(s.name));
      if (report) {
        const { groups: perGroup, ...own } = report;
        sum.adapter = own;
        for (const [g, r] of Object.entries(perGroup ?? {})) if (groups[g]) groups[g].adapter = r;
      }
      scenarios[s.name] = sum;
    }
    const total = totalSummary(plan, merger, runSpanMs(live));
    total.error_reasons = combineReasons(plan.scenarios.flatMap((s) => merger.errorReasons.get(s.name) ?? []), (m) => redact(m, secrets));
    const h = health();
    const summary: Summary = {
      format: 'preflight-summary/1',
      tool: { name: 'preflight', version: toolVersion(), node: process.version },
      machine: machineInfo(),
      plan: plan.source,
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      durationS: round(elapsedMs() / 1000),
      status: st,
      verdict: 'passed',
      exitCode: 0,
      thresholds: [],
      warnings: [...describeTiming(plan), ...(plan.target.tls.insecure ? ['TLS certificate verification was off (tls.insecure: true): the target was not authenticated.'] : [])],
      generator: h,
      total,
      scenarios,
    };
    if (endedEarly !== undefined) summary.endedEarly = endedEarly;
    enrichSummary(plan, summary);
    return summary;
  }

  // Start shards.
  const shardsCount = workers;
  handles = [];
  for (let i = 0; i < shardsCount; i++) {
    const shard = { index: i, count: shardsCount };
    // Always a worker thread, also for one worker: this (main) thread merges, encodes, writes and
    // evaluates each window, which must not hold up the thread that sends and receives.
    handles.push(workerShard(plan, shard, onBatch, (err) => onShardFailure(i, err)));
  }
  const shardFailures: string[] = [];
  function onShardFailure(index: number, err: Error): void {
    shardFailures.push(`worker ${index + 1} of ${shardsCount} died mid-run (${err.message}): its share of the load stopped, and its last window may be missing`);
    for (const w of merger.shardFailed(index)) writer.appendIntervals(w.records);
  }
  const onAbort = () => {
    status = 'interrupted';
    stopAll(0);
  };
  try {
    await Promise.all(handles.map((h) => h.ready));
  } catch (e) {
    stopAll(0);
    writer.close();
    throw e;
  }
  const onStop = () => {
    if (stopping) return;
    const r: unknown = opts.stop?.reason;
    endedEarly = typeof r === 'string' ? r : 'ended early';
    // Requests in flight finish (bounded by each scenario's graceful stop), as at a planned end.
    const drain = Math.max(0, ...plan.scenarios.map((s) => s.gracefulStopMs));
    stopAll(drain);
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.stop?.aborted) onStop();
  opts.stop?.addEventListener('abort', onStop, { once: true });
  const t0 = absoluteNow() + 20_000_000n; // all shards start together, 20 ms from now
  loadT0 = t0;
  if (!stopping) {
    for (const h of handles) h.start(t0);
    opts.onStart?.(performance.now() + 20);
  } else for (const h of handles) h.stop(0);
  await Promise.all(handles.map((h) => h.done));
  opts.signal?.removeEventListener('abort', onAbort);
  opts.stop?.removeEventListener('abort', onStop);
  for (const w of merger.flush()) {
    opts.decorateWindow?.(w.records, w.index);
    writer.appendIntervals(w.records);
  }
  writer.close();

  const summary = buildSummary(status);
  const results: ThresholdResult[] = evaluateThresholds(plan.thresholds, summary);
  summary.thresholds = results;
  summary.warnings.push(...shardFailures);
  if (aborted.length > 0) summary.warnings.push(`aborted early: ${aborted.join(', ')} failed (abortOnFail)`);
  if (summary.generator.overloaded) summary.warnings.push(`generator_overloaded: ${summary.generator.reasons.join('; ')}. Latency figures may include the generator's own delay.`);
  for (const [name, s] of Object.entries(summary.scenarios)) {
    if (s.unsent > 0) summary.warnings.push(`${name}: ${s.unsent} arrivals were due but never sent (in-flight cap reached); they are counted, not hidden.`);
    // A handful of late sends (JIT warm-up, GC) is normal; say so when it is more than 1%.
    // `late` counts every request sent late, also those cancelled at the stop before they completed.
    if (s.late > 0.01 * (s.requests + s.cancelled)) {
      const of = s.cancelled > 0 ? `${s.requests} completed, ${s.cancelled} cancelled at the stop` : `of ${s.requests}`;
      summary.warnings.push(`${name}: ${s.late} requests (${of}) were sent more than 10 ms after their intended time; the latency of those that completed includes the wait.`);
    }
    // Cancelled at the stop: never completed, so counted as failed in error_rate (see results-format.md).
    if (s.cancelled > 0 && status !== 'interrupted') {
      const sc = plan.scenarios.find((x) => x.name === name);
      const why = status === 'aborted' ? 'when the run was aborted' : `when the graceful stop (${(sc?.gracefulStopMs ?? 0) / 1000} s) ended`;
      summary.warnings.push(`${name}: ${s.cancelled} requests were still in flight ${why} and were cancelled; they count as failed in error_rate (${round(s.error_rate * 100)}%).`);
    }
    const rep = s.adapter as AdapterReport | undefined;
    for (const e of rep?.finish_errors ?? []) summary.warnings.push(`${name}: the adapter could not finish: ${e}`);
  }
  if (status !== 'interrupted') summary.warnings.push(...nothingServed(summary));
  if (shardFailures.length > 0) summary.generator.worker_failures = shardFailures;
  const outcome = decideOutcome(summary);
  summary.verdict = outcome.verdict;
  const exitCode = outcome.exitCode;
  summary.exitCode = exitCode;
  writer.finish(summary); // throws a ResultsWriteError (with the summary) if any results write failed
  return { summary, outDir, exitCode };
}

function totalSummary(plan: Plan, merger: WindowMerger, spanMs: number) {
  // All scenarios merged exactly: histograms added, counters summed. Time = run span covered by windows.
  const accs = plan.scenarios.map((s) => merger.totals.get(s.name)).filter((a): a is Accumulator => a !== undefined);
  const merged = mergeAccumulators(accs, spanMs);
  const unsent = plan.scenarios.reduce((a, s) => a + (merger.unsent.get(s.name) ?? 0), 0);
  const cancelled = plan.scenarios.reduce((a, s) => a + (merger.cancelled.get(s.name) ?? 0), 0);
  const kinds = new Set(plan.scenarios.map((s) => s.executor));
  const protocols = new Set(plan.scenarios.map((s) => s.protocol));
  return scenarioSummary(merged, kinds.size === 1 ? [...kinds][0] : 'mixed', protocols.size === 1 ? [...protocols][0] : 'mixed', { unsent, cancelled, activeMs: spanMs });
}

/** Whole-run merge of several scenarios; its time is the span of the run's windows. */
function mergeAccumulators(accs: Accumulator[], spanMs: number): Accumulator {
  const out = new Accumulator();
  for (const a of accs) {
    for (const k in a.counters) out.counters[k] = (out.counters[k] ?? 0) + a.counters[k];
    for (const k in a.maxes) out.maxes[k] = Math.max(out.maxes[k] ?? -Infinity, a.maxes[k]);
    for (const [k, h] of a.histograms) out.histogram(k).add(h);
  }
  out.windows = Math.max(0, ...accs.map((a) => a.windows));
  out.windowMs = spanMs;
  return out;
}

const round = (x: number) => Math.round(x * 100) / 100;
