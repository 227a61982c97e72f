/**
 * `run(plan)`: the library entry point, a coordinator: checks → start the shards (worker threads, also
 * for one worker) → merge their windows as they arrive (written incrementally; progress, live
 * abortOnFail) → stop → assemble the summary (assemble.ts) → decide (verdict/decideOutcome) → write.
 * Never throws for failed requests — only for invalid input or an unreachable target (PreflightError).
 */
import type { ExitCode } from '../core/exit-codes.js';
import { PreflightError } from '../core/errors.js';
import type { IntervalRecord, Summary } from '../core/results.js';
import { absoluteNow, workerShard, type ShardBatch, type ShardHandle } from '../engine/index.js';
import type { Plan } from '../plan/types.js';
import { redact, redactError, redactPlan } from '../plan/index.js';
import { evaluateLive, evaluateThresholds } from '../verdict/index.js';
import { assembleSummary, runWarnings, settleOutcome } from './assemble.js';
import { costOfRun } from './cost.js';
import { checkTargets } from './target-check.js';
import { checkOffline } from './check-offline.js';
import { defaultOutDir, ResultsWriter } from './results-writer.js';
import { CpuSampler, generatorHealth } from './health.js';
import { ProgressTracker, type ProgressUpdate } from './progress.js';
import { WindowMerger, type MergedWindow } from './window-merger.js';
import { ComparisonCollector } from './comparison.js';
import { actionFailed, decideStep, runAction, type Judgement, type StepDecision } from '../comparison/index.js';
import type { CanaryResult } from '../core/comparison.js';
import { TargetMetrics } from './target-metrics.js';
import { FaultTimeline, type FaultInjectorFactory } from './faults-timeline.js';
import type { ChecksSummary } from '../core/checks.js';

export interface RunOptions {
  /** Results folder; default results/<timestamp>. */
  outDir?: string;
  /** Abort → stop within a second, keep partial results, verdict `interrupted`. */
  signal?: AbortSignal;
  onProgress?: (p: ProgressUpdate) => void;
  /** Called with each merged window's records after they are written — every window intervals.ndjson holds, in the order written. */
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
  /** A progressive canary: each step's judgement as soon as it is made (the CLI's gate server serves it). */
  onCanaryStep?: (judgement: Judgement<CanaryResult>) => void;
  /** Opens the fault proxy of a plan with `faults:` (default: src/faults' proxy in front of the target). */
  faultInjector?: FaultInjectorFactory;
  /** One line per fault-timeline event as it happens (a fault on or off, an action's start and end). */
  log?: (line: string) => void;
  /**
   * The plan's assumption checks, already run before the load (the CLI runs them first, `runChecks`):
   * kept in `summary.checks`, and a failed one fails the run. Absent: the plan's checks are not judged
   * (thresholds on check figures are left out).
   */
  checks?: ChecksSummary;
  /**
   * Where the shards run (default: `options.workers` worker threads of this process). The scale-out
   * coordinator (src/scale) passes remote shards: the same merge, thresholds, verdict and results.
   */
  shards?: ShardSource;
}

/** Shards run elsewhere (other processes, other machines), seen as ShardHandles. */
export interface ShardSource {
  /** How many shards in all (the merger waits for each one's windows). */
  readonly count: number;
  /** Opens shard `index` (0 ≤ index < count); `onFailure`: it stopped mid-run without finishing. */
  open(index: number, onBatch: (b: ShardBatch) => void, onFailure: (err: Error) => void): ShardHandle;
  /** When the load starts (absolute hrtime, once every shard is ready); default 20 ms from now. */
  startTime?(): bigint;
  /**
   * Called once with the assembled summary, before thresholds and verdict: adds the source's own
   * section; returns its warnings and the failures that make the run invalid (as a dead thread's would).
   */
  finish?(summary: Summary): { warnings: string[]; failures: string[] };
}

export interface RunResult {
  summary: Summary;
  outDir: string;
  exitCode: ExitCode;
}

export async function run(plan: Plan, opts: RunOptions = {}): Promise<RunResult> {
  // A plan with `faults:`: the load goes through the fault proxy, closed on every way out.
  let faults: FaultTimeline | null = null;
  try {
    faults = await FaultTimeline.open(plan, opts.faultInjector);
    return await runPlan(faults?.proxied ?? plan, opts, faults);
  } catch (e) {
    // Errors from talking to the target quote its URLs and its answers (which may echo them).
    throw redactError(e, plan.secrets);
  } finally {
    await faults?.close();
  }
}

async function runPlan(plan: Plan, opts: RunOptions, faults: FaultTimeline | null): Promise<RunResult> {
  // Data, checks, traces: every problem at once (exit 2), before the target is touched and before
  // a results folder exists. (The load runs in worker threads, which read their data themselves.)
  await checkOffline(plan, opts.signal);
  if (!opts.skipTargetCheck) await checkTargets(plan);
  // Target metrics (plan `monitor:`): every source checked before the load, like the target.
  const targets = await TargetMetrics.start(plan);
  const outDir = opts.outDir ?? defaultOutDir();
  const writer = new ResultsWriter(outDir, (s) => redact(s, plan.secrets));
  writer.writeJson('plan.resolved.json', redactPlan(faults?.plan ?? plan));
  faults?.attach((e) => writer.appendEvent('faults.ndjson', e), opts.log);

  const workers = Math.max(1, plan.options.workers);
  const source = opts.shards;
  const merger = new WindowMerger(source?.count ?? workers);
  // A canary with steps: each step judged as soon as its windows are in (the load goes on), and
  // src/comparison/canary's decideStep says what follows: the step / promote action, nothing, or a
  // rollback that ends the run. A failed step or promote action is a fail (after rollback).
  // The actions run one after another, in the order decided (a step's and the promote action may be
  // decided together at the end of the run: the router must see them in order).
  let actions: Promise<unknown> = Promise.resolve();
  const queue = (f: () => Promise<unknown>) => {
    actions = actions.then(f).catch(() => undefined);
  };
  let stopEarly: (reason: string) => void = () => {};
  const canary = plan.comparison?.canary;
  /** The step the router was last moved to (null: not yet, or promoted); a rollback runs at most once. */
  let routerAt: { step: number; share: number } | null = null;
  let rolledBack = false;
  const act = async (name: 'step' | 'promote' | 'rollback', share: number) => {
    if (name === 'rollback' && rolledBack) return null;
    if (name === 'rollback') rolledBack = true;
    const a = canary?.actions?.[name];
    return a ? { name, ...(await runAction(a, share, plan.secrets)) } : null;
  };
  /** The run was cut short mid-rollout: the rollback action at the router's share, after any action in flight. */
  const rollbackCutShort = (why: string) => {
    const at = routerAt;
    if (!at || !comparison) return;
    const st = comparison.steps[at.step];
    queue(async () => {
      const rb = await act('rollback', at.share);
      if (rb)
        st.action = `${st.action ? `${st.action}; ` : ''}${why}: ${rb.ok ? 'rollback' : 'ROLLBACK FAILED'}: ${rb.detail}`;
    });
  };
  const comparison = plan.comparison
    ? new ComparisonCollector(
        plan.comparison,
        plan.scenarios.find((s) => s.name === plan.comparison!.scenario)?.startTimeMs ?? 0,
        (i, st) => {
          const shares = canary!.steps.map((s) => s.share);
          const rollback = async (d: StepDecision, why: string) => {
            if (d.kind !== 'stop') return;
            st.stop = d.verdict;
            const rb = await act(d.action, d.share);
            if (rb)
              st.action = `${st.action ? `${st.action}; ` : ''}${rb.ok ? 'rollback' : 'ROLLBACK FAILED'}: ${rb.detail}`;
            stopEarly(why);
          };
          opts.onCanaryStep?.(comparison!.stepJudgement(i));
          const d = decideStep(st.judgement!, shares, i);
          if (d.kind === 'stop') {
            st.stop = d.verdict; // at once: the run's end judges no later step
            queue(() =>
              rollback(d, `canary step ${i + 1} ${d.verdict === 'fail' ? 'failed' : 'had no data to judge'}`),
            );
          } else if (d.kind === 'advance' && stopping) {
            // Interrupted or stopped early: the step was not run to its end (or the user said stop),
            // so the rollout does not go on; the router stays where it is.
            st.action = `${st.action ? `${st.action}; ` : ''}no ${d.action} action: the run was stopped`;
          } else if (d.kind === 'advance')
            queue(async () => {
              // Stopped while it waited (interrupted, or an earlier action failed and rolled back): no further.
              if (stopping || comparison?.steps.some((x) => x.stop !== undefined)) return;
              routerAt = d.action === 'step' ? { step: i + 1, share: d.share } : null;
              const r = await act(d.action, d.share);
              if (!r) return;
              st.action = `${r.name}: ${r.detail}`;
              if (!r.ok) await rollback(actionFailed(shares, i), `canary step ${i + 1}: the ${r.name} action failed`);
            });
        },
      )
    : null;
  const startedAt = new Date();
  const t0Hr = process.hrtime.bigint();
  const cpu = new CpuSampler(plan.options.intervalMs);
  const progress = opts.onProgress ? new ProgressTracker(plan, (n) => merger.span(n)) : undefined;
  let status = 'completed' as Summary['status'];
  const aborted: string[] = [];
  const shardFailures: string[] = [];
  const abortable = plan.thresholds.filter((t) => t.abortOnFail);
  const handles: ShardHandle[] = [];
  let stopping = false;
  let endedEarly: string | undefined;
  /** Load start (t = 0 of the windows), once started; and how far the merged windows reach (ms). */
  let loadT0: bigint | null = null;
  let coveredMs = 0;
  /** Time since the load started (the windows' t = 0); the run's elapsed time also counts the pre-load checks. */
  const sinceLoadStartMs = () => (loadT0 === null ? 0 : Math.max(0, Number(process.hrtime.bigint() - loadT0) / 1e6));
  const summarise = (st: Summary['status'], live: boolean): Summary =>
    assembleSummary({
      plan,
      merger,
      startedAt,
      elapsedMs: Number(process.hrtime.bigint() - t0Hr) / 1e6,
      status: st,
      endedEarly,
      generator: generatorHealth(plan, merger, cpu),
      openEndMs: live ? coveredMs : sinceLoadStartMs(),
      live,
    });

  const stopAll = (drainMs: number) => {
    if (stopping) return;
    stopping = true;
    for (const h of handles) h.stop(drainMs);
  };

  // Merge windows as they arrive: write them, report progress, check abortOnFail thresholds live.
  // Every merged window, however it became complete (in order, a worker's death, the final flush),
  // goes through here: the hooks see exactly what intervals.ndjson holds.
  let loadDone = false;
  const emitWindow = (w: MergedWindow) => {
    comparison?.addWindow(w.snapshots);
    // A/B sequential mode: look at the cumulative data; on harm or a settled answer, stop early.
    const why = stopping || loadDone ? undefined : comparison?.look(merger.totals, coveredMs);
    comparison?.decorate(w.records, w.index);
    opts.decorateWindow?.(w.records, w.index);
    writer.appendIntervals(w.records);
    targets?.window(w.records);
    opts.onWindow?.(w.records);
    if (why) stopEarly(why);
  };
  const onBatch = (b: ShardBatch) => {
    comparison?.addBatch(b);
    for (const w of merger.add(b)) {
      coveredMs = Math.max(coveredMs, (w.index + 1) * plan.options.intervalMs);
      emitWindow(w);
      cpu.sample();
      progress?.add(w.records);
      if (progress) opts.onProgress?.(progress.update(w.index));
      if (abortable.length > 0 && !stopping) {
        const failing = evaluateLive(abortable, summarise('completed', true), sinceLoadStartMs());
        if (failing.length > 0) {
          status = 'aborted';
          aborted.push(...failing.map((t) => t.expression));
          stopAll(0);
          // A failed release gate mid-rollout: traffic back to the control, as a failed step does
          // (Argo Rollouts' abort); whatever canary.onInterrupt says, that is for a person's Ctrl-C.
          rollbackCutShort(`aborted (abortOnFail: ${failing.map((t) => t.expression).join(', ')})`);
        }
      }
    }
  };

  // Start shards: always worker threads, also for one worker — this (main) thread merges, encodes,
  // writes and evaluates each window, which must not hold up the thread that sends and receives.
  for (let i = 0; i < (source?.count ?? workers); i++) {
    const failed = (err: Error) => onShardFailure(i, err);
    handles.push(
      source ? source.open(i, onBatch, failed) : workerShard(plan, { index: i, count: workers }, onBatch, failed),
    );
  }
  function onShardFailure(index: number, err: Error): void {
    // A source names its own failures (finish()): a remote worker is not a thread of this process.
    if (!source)
      shardFailures.push(
        `worker ${index + 1} of ${workers} died mid-run (${err.message}): its share of the load stopped, and its last window may be missing`,
      );
    for (const w of merger.shardFailed(index)) emitWindow(w);
  }
  const onAbort = () => {
    status = 'interrupted';
    stopAll(0);
    void faults?.stop(true); // Ctrl-C removes every fault at once
    // Interrupted mid-rollout: traffic back to the control (canary.onInterrupt: rollback, as Argo
    // Rollouts' abort does), after any action in flight; or, with `hold`, the router stays.
    const at = routerAt;
    if (!at || !comparison) return;
    if (canary?.onInterrupt === 'hold') {
      const st = comparison.steps[at.step];
      st.action = `${st.action ? `${st.action}; ` : ''}interrupted: the router holds at ${at.share * 100}% (canary.onInterrupt: hold)`;
    } else rollbackCutShort('interrupted');
  };
  try {
    const ready = Promise.all(handles.map((h) => h.ready));
    // Remote shards may wait minutes for their workers: Ctrl-C ends the wait (local threads are quick).
    await (source && opts.signal ? Promise.race([ready, interrupted(opts.signal)]) : ready);
  } catch (e) {
    stopAll(0);
    writer.close();
    await targets?.abandon();
    throw e;
  }
  stopEarly = (reason: string) => {
    if (stopping) return;
    endedEarly = reason;
    // Requests in flight finish (bounded by each scenario's graceful stop), as at a planned end.
    const drain = Math.max(0, ...plan.scenarios.map((s) => s.gracefulStopMs));
    stopAll(drain);
  };
  const onStop = () => {
    const r: unknown = opts.stop?.reason;
    stopEarly(typeof r === 'string' ? r : 'ended early');
  };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.stop?.aborted) onStop();
  opts.stop?.addEventListener('abort', onStop, { once: true });
  // A canary's first step: move the router to its share before the load starts.
  // (Queued: a rollback asked for by an interruption meanwhile runs after it.)
  if (canary && canary.steps.length > 0 && comparison) {
    const st = comparison.steps[0];
    routerAt = { step: 0, share: st.share };
    queue(async () => {
      const r = await act('step', st.share);
      if (r) st.action = `step: ${r.detail}`;
      if (r && !r.ok) {
        // The router is not at the first share (maybe half moved): roll back, and send no load.
        st.stop = 'fail';
        const rb = await act('rollback', st.share);
        if (rb) st.action += `; ${rb.ok ? 'rollback' : 'ROLLBACK FAILED'}: ${rb.detail}`;
        stopEarly('canary step 1: the step action failed');
      }
    });
    await actions;
  }
  // All shards start together, 20 ms from now (remote ones later: the start must reach them first).
  const t0 = source?.startTime?.() ?? absoluteNow() + 20_000_000n;
  const leadMs = Number(t0 - absoluteNow()) / 1e6;
  loadT0 = t0;
  if (!stopping) {
    for (const h of handles) h.start(t0);
    targets?.loadStarted(Date.now() + leadMs);
    opts.onStart?.(performance.now() + leadMs);
    faults?.start(performance.now() + leadMs);
  } else for (const h of handles) h.stop(0);
  await Promise.all(handles.map((h) => h.done));
  loadDone = true;
  const loadEndedAt = Date.now();
  await faults?.stop(status === 'interrupted');
  opts.signal?.removeEventListener('abort', onAbort);
  opts.stop?.removeEventListener('abort', onStop);
  for (const w of merger.flush()) emitWindow(w);
  writer.close();

  // Assemble, decide, write.
  comparison?.finishSteps(); // the last step, judged now that its windows are in (its action too)
  await actions;
  const summary = summarise(status, false);
  if (comparison) {
    const sc = summary.scenarios[comparison.plan.scenario];
    summary.comparison = comparison.judge(merger.totals, sc?.durationS ?? summary.durationS);
  }
  const targetWarnings =
    (await targets?.finish(loadEndedAt, writer, summary, {
      ...(faults ? { faultWindows: faults.summary().windows } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    })) ?? [];
  if (opts.checks) summary.checks = opts.checks;
  const fromSource = source?.finish?.(summary);
  shardFailures.push(...(fromSource?.failures ?? []));
  // Check figures are judged only when the checks ran (not with --skip-checks).
  const judged = opts.checks ? plan.thresholds : plan.thresholds.filter((t) => t.check === undefined);
  summary.thresholds = evaluateThresholds(judged, summary);
  // The cost reads the capacity the run measured (and whether it kept its SLO), then its thresholds are judged.
  const costWarnings = plan.cost ? costOfRun(plan.cost, summary) : [];
  if (plan.cost) summary.thresholds = evaluateThresholds(judged, summary);
  if (shardFailures.length > 0) summary.generator.worker_failures = shardFailures;
  summary.warnings = [
    ...runWarnings(plan, summary, { status, shardFailures, aborted }),
    ...(fromSource?.warnings ?? []),
    ...targetWarnings,
    ...costWarnings,
  ];
  if (faults) {
    faults.seal();
    summary.faults = faults.summary();
    summary.warnings.push(...faults.warnings());
  }
  const outcome = settleOutcome(summary);
  writer.finish(summary); // throws a ResultsWriteError (with the summary) if any results write failed
  return { summary, outDir, exitCode: outcome.exitCode };
}

/** Rejects (E_INTERRUPTED: nothing was sent) when `signal` aborts. */
function interrupted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new PreflightError('E_INTERRUPTED', 'interrupted while waiting for the workers'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
