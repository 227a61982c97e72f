/**
 * The run side of a release comparison: gathers what the shards measured for each variant (its
 * results group's totals and per-window latency, the paired-correctness and shadow counts the
 * windows carry), builds the judges' ComparisonInput and calls the judge of the plan's kind →
 * `summary.comparison`.
 */
import {
  abSampleSize,
  DEFAULT_MINIMUM_EFFECTS,
  judgeAb,
  judgeAbSequential,
  judgeCanary,
  newSequentialState,
  type SequentialProgress,
  type SequentialState,
  sequentialLook,
  judgeShadow,
  mergeShadowCounts,
  shadowVerdict,
} from '../comparison/index.js';
import type { ShadowCounts } from '../comparison/shadow.js';
import type { ComparisonInput, PairedCounts, VariantData } from '../comparison/types.js';
import type { CanaryResult, ComparisonSummary } from '../core/comparison.js';
import type { Judgement } from '../comparison/types.js';
import type { IntervalSnapshot } from '../core/types.js';
import type { IntervalRecord } from '../core/results.js';
import type { ShardBatch } from '../engine/index.js';
import { Accumulator, decodeHistogram, type Histogram } from '../metrics/index.js';
import type { ComparisonPlan } from '../plan/comparison.js';
import type { Plan } from '../plan/types.js';
import { plannedEndMs } from './progress.js';
import { plannedMeanRate } from './summary.js';
import type { Binned } from '../stats/binned.js';

/** Histograms that are not per-request durations of the variant (or are the latency itself). */
const NOT_DURATIONS = new Set(['latency', 'dispatch_lag']);

/** An HDR histogram (µs) as binned values in ms: each non-empty bucket's highest equivalent value. */
export function binnedMs(h: Histogram): Binned {
  const values: number[] = [];
  const counts: number[] = [];
  if (h.totalCount > 0) {
    // Walk only the recorded range: buckets between min and max.
    const hh = h as unknown as {
      countsArrayLength: number;
      getCountAtIndex(i: number): number;
      valueFromIndex(i: number): number;
      highestEquivalentValue(v: number): number;
      countsArrayIndex(v: number): number;
    };
    const from = hh.countsArrayIndex(h.minNonZeroValue);
    const to = Math.min(hh.countsArrayLength - 1, hh.countsArrayIndex(h.maxValue));
    for (let i = from; i <= to; i++) {
      const c = hh.getCountAtIndex(i);
      if (c > 0) {
        values.push(hh.highestEquivalentValue(hh.valueFromIndex(i)) / 1000);
        counts.push(c);
      }
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(counts) };
}

/** One canary step as the run sees it: its share and span (ms since load start), and what was measured in it. */
interface StepState {
  share: number;
  startMs: number;
  endMs: number;
  /** variant → its windows of this step, merged (a window belongs to the step its start falls in). */
  totals: Map<string, Accumulator>;
  windows: Map<string, Map<number, Binned>>;
  judgement?: Judgement<CanaryResult>;
  action?: string;
  /** The rollout stopped at this step: fail (judged so, or an action failed) or inconclusive (no data). */
  stop?: 'fail' | 'inconclusive';
}

export class ComparisonCollector {
  private paired: (PairedCounts & { unpaired: number }) | null = null;
  private shadow: ShadowCounts | null = null;
  /** variant → window index → latency (ms) of that window, merged over shards. */
  private readonly windows = new Map<string, Map<number, Binned>>();
  /** Window index → its paired / shadow counts over the shards so far (until the merged window is written). */
  private readonly byWindow = new Map<
    number,
    { paired?: PairedCounts & { unpaired: number }; shadow?: ShadowCounts }
  >();
  /** Canary steps (empty: one judgement of the whole run). */
  readonly steps: StepState[] = [];
  private judged = 0;
  /** A/B sequential mode: one always-valid state for the whole run, and what its looks saw. */
  private readonly seq: { state: SequentialState; progress: SequentialProgress } | null;

  /**
   * `scenarioStartMs`: when the compared scenario starts (its planned start time). `onStep` is told
   * each canary step's judgement as soon as the step's windows are in (live: the run may stop).
   */
  constructor(
    readonly plan: ComparisonPlan,
    scenarioStartMs = 0,
    private readonly onStep?: (index: number, step: StepState) => void,
  ) {
    this.seq =
      plan.kind === 'ab' && plan.ab?.sequential
        ? { state: newSequentialState(), progress: { looks: 0, stoppedEarly: false } }
        : null;
    let at = scenarioStartMs;
    for (const st of plan.canary?.steps ?? []) {
      this.steps.push({
        share: st.share,
        startMs: at,
        endMs: at + st.durationMs,
        totals: new Map(),
        windows: new Map(),
      });
      at += st.durationMs;
    }
  }

  /** A shard's window batch: its paired / shadow counts (before the merger takes the batch). */
  addBatch(b: ShardBatch): void {
    const c = b.comparison?.[this.plan.scenario];
    if (!c) return;
    let w = this.byWindow.get(b.index);
    if (!w) this.byWindow.set(b.index, (w = {}));
    if (c.paired) {
      addPaired((this.paired ??= emptyPaired()), c.paired);
      addPaired((w.paired ??= emptyPaired()), c.paired);
    }
    if (c.shadow) {
      this.shadow = this.shadow === null ? c.shadow : mergeShadowCounts([this.shadow, c.shadow]);
      w.shadow = w.shadow === undefined ? c.shadow : mergeShadowCounts([w.shadow, c.shadow]);
    }
  }

  /** The merged window's records: the compared scenario's own line gets what the window added (intervals.ndjson). */
  decorate(records: IntervalRecord[], index: number): void {
    const w = this.byWindow.get(index);
    if (!w) return;
    this.byWindow.delete(index);
    const rec = records.find((r) => r.scenario === this.plan.scenario && r.group === undefined);
    if (rec) rec.comparison = w;
  }

  /** A merged window: each variant group's latency of the window, for per-window judges (block bootstrap). */
  addWindow(snapshots: readonly IntervalSnapshot[]): void {
    let latestMs = -1;
    for (const s of snapshots) {
      if (s.scenario !== this.plan.scenario) continue;
      latestMs = Math.max(latestMs, s.startMs);
      if (s.group === undefined) continue;
      const enc = s.histograms['latency'];
      const lat = enc ? binnedMs(decodeHistogram(enc)) : null;
      if (lat) {
        let m = this.windows.get(s.group);
        if (!m) this.windows.set(s.group, (m = new Map()));
        m.set(s.index, lat);
      }
      const step = this.steps.find((st) => s.startMs >= st.startMs && s.startMs < st.endMs);
      if (step) {
        let acc = step.totals.get(s.group);
        if (!acc) step.totals.set(s.group, (acc = new Accumulator()));
        acc.add(s);
        if (lat) {
          let m = step.windows.get(s.group);
          if (!m) step.windows.set(s.group, (m = new Map()));
          m.set(s.index, lat);
        }
      }
    }
    // Windows arrive in order: a window past a step's end means the step is complete. None after a
    // stopped step: its rollback may still be running, and the load stops when it is done.
    while (
      this.judged < this.steps.length &&
      latestMs >= this.steps[this.judged].endMs &&
      !this.steps.some((st) => st.stop !== undefined)
    )
      this.judgeStep(this.judged++);
  }

  /**
   * A/B sequential mode, after each merged window while the load runs (main thread): a look at both
   * arms' cumulative data. Returns why to stop the load — harm, or every metric settled — once.
   */
  look(totals: ReadonlyMap<string, Accumulator>, sinceLoadStartMs: number): string | undefined {
    const q = this.seq;
    if (!q || q.progress.stoppedEarly) return undefined;
    const input = this.input(totals, sinceLoadStartMs / 1000);
    if (input.control.requests === 0 || input.candidate.requests === 0) return undefined;
    const l = sequentialLook(input, this.plan.ab!, q.state);
    q.progress.looks++;
    if (!l.stop || !l.reason) return undefined;
    const requests = input.control.requests + input.candidate.requests;
    const seconds = Math.round(sinceLoadStartMs / 100) / 10;
    q.progress = {
      ...q.progress,
      stoppedEarly: true,
      reason: l.reason,
      stoppedAt: { requests, seconds },
    };
    return `${l.reason.replace(/\.$/, '')} — stopped after ${requests} requests, ${seconds} s`;
  }

  /** Judges the canary step `i` from its own windows (each step at its own share). */
  private judgeStep(i: number): void {
    const st = this.steps[i];
    const totals = new Map<string, Accumulator>();
    for (const [g, acc] of st.totals) totals.set(`${this.plan.scenario}\u0000${g}`, acc);
    const durationS = (st.endMs - st.startMs) / 1000;
    st.judgement = judgeCanary(this.input(totals, durationS, st.windows), this.plan.canary!);
    this.onStep?.(i, st);
  }

  /** A progressive canary's judgement so far: step `i`'s, listing every step judged up to it (a gate serves it live). */
  stepJudgement(i: number): Judgement<CanaryResult> {
    const j = this.steps[i].judgement!;
    const steps = this.steps
      .slice(0, i + 1)
      .filter((st) => st.judgement !== undefined)
      .map((st) => ({
        share: st.share,
        score: st.judgement!.result.score,
        classification: st.judgement!.result.classification,
      }));
    return { ...j, result: { ...j.result, steps } };
  }

  /**
   * At the end of the run: the steps it reached whose windows are in but which were not judged yet
   * (the last one, at least) — none after a failed step (the run was stopped there).
   */
  finishSteps(): void {
    const stopped = () => this.steps.some((st) => st.stop !== undefined);
    while (this.judged < this.steps.length && this.steps[this.judged].totals.size > 0 && !stopped())
      this.judgeStep(this.judged++);
  }

  /** Paired counts over the whole run (with `unpaired`: slots not joined, e.g. a failed arm). */
  get pairedCounts(): (PairedCounts & { unpaired: number }) | null {
    return this.paired;
  }

  /** One variant's data from its results group. */
  variantData(
    name: string,
    totals: ReadonlyMap<string, Accumulator>,
    windows: ReadonlyMap<string, Map<number, Binned>> = this.windows,
  ): VariantData {
    const acc = totals.get(`${this.plan.scenario}\u0000${name}`);
    const requests = acc?.counters['requests'] ?? 0;
    const ok = acc?.counters['ok'] ?? 0;
    const durations: Record<string, Binned> = {};
    for (const [k, h] of acc?.histograms ?? [])
      if (!NOT_DURATIONS.has(k) && h.totalCount > 0) durations[k] = binnedMs(h);
    const lat = acc?.histograms.get('latency');
    const byWindow = windows.get(name) ?? new Map<number, Binned>();
    const d: VariantData = {
      name,
      requests,
      errors: requests - ok,
      latency: lat ? binnedMs(lat) : { values: [], counts: [] },
      latencyWindows: [...byWindow.keys()].sort((a, b) => a - b).map((i) => byWindow.get(i)!),
      durations,
    };
    const scored = acc?.counters['quality.scored'];
    if (scored !== undefined) {
      d.scored = scored;
      d.correct = acc?.counters['quality.correct'] ?? 0;
    }
    return d;
  }

  /** The judges' input: control (or primary) and candidate. */
  input(
    totals: ReadonlyMap<string, Accumulator>,
    durationS: number,
    windows: ReadonlyMap<string, Map<number, Binned>> = this.windows,
  ): ComparisonInput {
    const control = this.plan.variants.find((v) => v.role === 'control' || v.role === 'primary')!;
    const candidate = this.plan.variants.find((v) => v.role === 'candidate')!;
    const input: ComparisonInput = {
      control: this.variantData(control.name, totals, windows),
      candidate: this.variantData(candidate.name, totals, windows),
      durationS,
    };
    if (this.paired) {
      const { unpaired: _u, ...p } = this.paired;
      input.paired = p;
    }
    return input;
  }

  /** Judges the run → summary.comparison. */
  judge(totals: ReadonlyMap<string, Accumulator>, durationS: number): ComparisonSummary {
    const plan = this.plan;
    const input = this.input(totals, durationS);
    const base = {
      kind: plan.kind,
      scenario: plan.scenario,
      control: input.control.name,
      candidate: input.candidate.name,
      inconclusive: plan.inconclusive,
      ...(plan.canary ? { marginalPasses: plan.canary.marginalPasses } : {}),
      variants: plan.variants.map((v) => ({ name: v.name, role: v.role })),
    };
    if (plan.kind === 'ab') {
      // Sequential: the verdict from the always-valid figures (a final look at all the data).
      const q = this.seq;
      const j = q
        ? judgeAbSequential(input, plan.ab!, q.state, { ...q.progress, looks: q.progress.looks + 1 })
        : judgeAb(input, plan.ab!);
      const out: ComparisonSummary = { ...base, verdict: j.verdict, reasons: j.reasons, ab: j.result };
      if (this.paired) out.paired = this.paired;
      return out;
    }
    if (plan.kind === 'canary') {
      if (this.steps.length === 0) {
        const j = judgeCanary(input, plan.canary!);
        return { ...base, verdict: j.verdict, reasons: j.reasons, canary: j.result };
      }
      // Progressive: each step judged at its share; the first failed step decides, else the last one judged.
      this.finishSteps();
      const judged = this.steps.filter((st) => st.judgement !== undefined);
      if (judged.length === 0) {
        const j = judgeCanary(input, plan.canary!);
        // The first step's action failed before the load: a fail, as a failed step action later is.
        const failed = this.steps.find((st) => st.stop === 'fail');
        return {
          ...base,
          verdict: failed ? 'fail' : 'inconclusive',
          reasons: [
            failed ? `the rollout stopped before the load (${failed.action})` : 'no canary step was completed',
            ...j.reasons,
          ],
          canary: j.result,
        };
      }
      const stopped = judged.find((st) => st.stop !== undefined);
      const decisive = stopped ?? judged[judged.length - 1];
      const j = decisive.judgement!;
      const steps = judged.map((st) => ({
        share: st.share,
        score: st.judgement!.result.score,
        classification: st.judgement!.result.classification,
        ...(st.action !== undefined ? { action: st.action } : {}),
      }));
      const at = `step ${this.steps.indexOf(decisive) + 1} of ${this.steps.length} (${Math.round(decisive.share * 100)}% on the candidate)`;
      const reasons = [
        stopped
          ? `the rollout stopped at ${at}: ${stopped.stop === 'inconclusive' ? 'no data to judge' : `${j.result.classification}, score ${j.result.score}`}${stopped.action ? ` (${stopped.action})` : ''}`
          : `${judged.length} of ${this.steps.length} steps judged; the last, ${at}: ${j.result.classification}, score ${j.result.score}`,
        ...j.reasons,
      ];
      return { ...base, verdict: stopped?.stop ?? j.verdict, reasons, canary: { ...j.result, steps } };
    }
    const result = judgeShadow(this.shadow ?? mergeShadowCounts([]), plan.shadow!);
    const { verdict, reasons } = shadowVerdict(result, plan.shadow!);
    return { ...base, verdict, reasons, shadow: result };
  }
}

function emptyPaired(): PairedCounts & { unpaired: number } {
  return { bothCorrect: 0, controlOnly: 0, candidateOnly: 0, neither: 0, unpaired: 0 };
}

function addPaired(into: PairedCounts & { unpaired: number }, c: PairedCounts & { unpaired: number }): void {
  into.bothCorrect += c.bothCorrect;
  into.controlOnly += c.controlOnly;
  into.candidateOnly += c.candidateOnly;
  into.neither += c.neither;
  into.unpaired += c.unpaired;
}

/**
 * Before a run: the requests each variant is planned to get (open workloads: the planned arrivals
 * times the variant's share; a shadow's variants get every arrival), or null when the load is a
 * concurrency (its arrivals are not known in advance).
 */
export function plannedPerVariant(plan: Plan): Array<{ name: string; role: string; requests: number }> | null {
  const cmp = plan.comparison;
  const sc = plan.scenarios.find((s) => s.name === cmp?.scenario);
  if (!cmp || !sc) return null;
  const rate = plannedMeanRate(sc);
  const endMs = plannedEndMs(sc);
  if (rate === undefined || endMs === null) return null;
  const arrivals = (rate * (endMs - sc.startTimeMs)) / 1000;
  const steps = cmp.canary?.steps ?? [];
  const total = cmp.variants.reduce((a, v) => a + v.weight, 0);
  return cmp.variants.map((v, i) => {
    let share: number;
    if (cmp.kind === 'shadow') share = 1;
    else if (steps.length > 0) {
      const candidate = steps.reduce((a, st) => a + st.share * st.durationMs, 0) / (endMs - sc.startTimeMs);
      share = i === 0 ? 1 - candidate : candidate;
    } else share = total > 0 ? v.weight / total : 0;
    return { name: v.name, role: v.role, requests: Math.round(arrivals * share) };
  });
}

/**
 * What an A/B run is assumed to see before it runs: the control's accuracy and error rate are not
 * known yet, and the requests needed depend on them (1 pp of accuracy at alpha 0.05/5, power 0.8:
 * ≈ 4,600 per arm at 98.5%, ≈ 12,100 at 95%). Stated in validate's output beside the number.
 */
export const ASSUMED_BASELINES = { accuracy: 0.95, error_rate: 0.01 } as const;

/**
 * Before an A/B run: the requests per arm needed to detect each minimum effect at the plan's power
 * (abSampleSize, at the judge's Bonferroni level alpha/k for power), at ASSUMED_BASELINES —
 * accuracy when the scenario is scored, and the error rate; latency needs the control's spread, so
 * it is not planned here. Null for other kinds.
 */
export function plannedSampleSizes(plan: Plan): Array<{ metric: string; perArm: number; assumed: string }> | null {
  const cmp = plan.comparison;
  const sc = plan.scenarios.find((s) => s.name === cmp?.scenario);
  if (!cmp || cmp.kind !== 'ab' || !cmp.ab || !sc) return null;
  const ab = cmp.ab;
  const scored = sc.quality !== undefined;
  const acc = ab.minimumEffects.accuracy ?? DEFAULT_MINIMUM_EFFECTS.accuracy;
  const err = ab.minimumEffects.error_rate ?? DEFAULT_MINIMUM_EFFECTS.error_rate;
  // The judge's family: latency median, p90, p99, error rate (and accuracy when scored).
  const sizes = abSampleSize({
    alpha: ab.alpha,
    power: ab.power,
    correction: ab.correction,
    metrics: scored ? 5 : 4,
    ...(scored ? { accuracy: { baseline: ASSUMED_BASELINES.accuracy, drop: acc } } : {}),
    errorRate: { baseline: ASSUMED_BASELINES.error_rate, increase: err },
  });
  const pct = (x: number) => `${Number((x * 100).toFixed(2))}%`;
  return sizes.map((s) => {
    const baseline = ASSUMED_BASELINES[s.metric as keyof typeof ASSUMED_BASELINES];
    const effect = s.metric === 'accuracy' ? -acc : err;
    return {
      metric: s.metric,
      perArm: s.perArm,
      assumed: `${s.metric.replace('_', ' ')} ${pct(baseline)} → ${pct(baseline + effect)}${ab.paired && s.metric === 'accuracy' ? ', unpaired formula: pairing needs fewer when the versions mostly agree' : ''}`,
    };
  });
}
