/**
 * capacity: the highest rate sustained within the SLO, found by doubling then bisecting.
 * One run() per step (src/profiles/steps.ts); the answer is written to the top-level results
 * folder. Keys and defaults: src/plan/syntax.ts (PROFILE_FIELDS); rules: docs/profiles.md.
 */
import path from 'node:path';
import { fmtNum } from '../../core/format.js';
import type { IntervalRecord, ScenarioSummary } from '../../core/results.js';
import { addEncoded, countAbove, newHistogram } from '../../metrics/index.js';
import type { PlanOf, ThresholdPlan } from '../../plan/types.js';
import { applyCost, defaultOutDir } from '../../run/index.js';
import { percentileClaim, type PercentileClaim } from '../../stats/index.js';
import { evaluateThresholds } from '../../verdict/index.js';
import { capacitySearch, checkStep, type Probe } from '../analysis.js';
import { scopedTo } from '../expand.js';
import { finishSummary, ms, pct, rate } from '../harness.js';
import { runStep, writeTopLevel, type StepOutcome } from '../steps.js';
import type { ProfileAnswer, ProfileResult, ProfileRunOptions } from '../types.js';
import { summarizeRecords, type WindowPoint } from '../windows.js';
import type { ProfileKind } from './kind.js';

export async function runCapacity(plan: PlanOf<'capacity'>, opts: ProfileRunOptions): Promise<ProfileResult> {
  const p = plan.profile;
  const rule = p.steady;
  const outDir = opts.outDir ?? defaultOutDir();
  const steps: StepOutcome[] = [];
  const probes: Array<Probe & { step: StepOutcome; reasons: string[] }> = [];
  // Cost thresholds judge the whole answer (after the search), not a probe.
  const sloThresholds = plan.thresholds.filter((t) => t.cost === undefined);
  const costThresholds = plan.thresholds.filter((t) => t.cost !== undefined);
  const judge = (s: ScenarioSummary, offered: number) =>
    checkStep(sloThresholds, s, { minThroughput: p.minThroughput, offered });
  let state = capacitySearch([], {
    start: p.startRate,
    maxRate: p.maxRate,
    precision: p.precision,
    maxSteps: p.maxSteps,
  });
  while (!state.done && state.next !== undefined && !opts.signal?.aborted) {
    const r = state.next;
    opts.log?.(
      `capacity probe ${probes.length + 1}: ${rate(r)} (held so far ${rate(state.lo)}, failed ${state.hi === null ? '–' : rate(state.hi)})`,
    );
    // A probe whose last windows each fail the thresholds is over: no need to wait for steady state.
    const clearlyFails = (ws: WindowPoint[]): boolean => ws.every((w) => !judge(summaryOfPoint(w, plan), r).ok);
    const s = await runStep(plan, steps.length, { mode: 'rate', value: r }, rule, outDir, opts, clearlyFails);
    steps.push(s);
    if (s.interrupted) break;
    const c = judge(s.measuredSummary, r);
    probes.push({ rate: r, ok: c.ok, step: s, reasons: c.reasons });
    opts.log?.(
      `  ${c.ok ? 'sustained' : `NOT sustained (${c.reasons.join('; ')})`}${s.steady.steady ? '' : ', never steady'}: throughput ${rate(s.measuredSummary.throughput)}, p99 ${ms(s.measuredSummary.latency_ms.p99)}, errors ${pct(s.measuredSummary.error_rate)}`,
    );
    state = capacitySearch(probes, {
      start: p.startRate,
      maxRate: p.maxRate,
      precision: p.precision,
      maxSteps: p.maxSteps,
    });
  }
  const interrupted = steps.some((s) => s.interrupted) || Boolean(opts.signal?.aborted);
  const best = probes.find((x) => x.ok && x.rate === state.lo);
  const worst = state.hi !== null ? probes.find((x) => !x.ok && x.rate === state.hi) : undefined;
  const thresholds = best
    ? evaluateThresholds(scopedTo(sloThresholds, best.step.name), {
        total: best.step.measuredSummary,
        scenarios: { [best.step.name]: best.step.measuredSummary },
      })
    : [];
  const top = writeTopLevel(plan, outDir, steps, thresholds, interrupted);
  const slo = sloThresholds.map((t) => t.expression).join(', ');
  const precision = p.precision.absolute !== undefined ? rate(p.precision.absolute) : pct(p.precision.relative);
  let text: string;
  if (!best)
    text = probes.length
      ? `Sustains none of the rates tried within the SLO (${slo}): even ${rate(state.hi)} failed (${worst?.reasons.join('; ') ?? ''}).`
      : 'No probe completed.';
  else if (state.hi === null)
    text = `Sustains the highest rate tried, ${rate(state.lo)}, within the SLO (${slo}): the capacity is higher (raise maxRate). At ${rate(state.lo)}: ${line(best.step.measuredSummary)}.`;
  else
    text = `Sustains at most ${rate(state.lo)} within the SLO (${slo}), to ${precision}: ${rate(state.lo)} held (${line(best.step.measuredSummary)}), ${rate(state.hi)} did not (${worst?.reasons.join('; ') ?? 'failed'}).`;
  if (p.atLeast !== undefined) text += ` Required: at least ${rate(p.atLeast)}.`;
  // The capacity claim with stated confidence: enough requests for each latency percentile at 99 %?
  const claims = best ? latencyClaims(sloThresholds, best.step.measuredRecords) : [];
  for (const c of claims) text += ` ${c.text}`;
  if (plan.cost) {
    top.summary.warnings.push(
      ...applyCost(
        plan.cost,
        top.summary,
        {
          perSecond: best ? state.lo : 0,
          source: 'the capacity profile: the highest rate sustained within the SLO (max_sustainable_rate)',
        },
        best?.step.measuredSummary,
      ),
    );
    if (costThresholds.length > 0) top.summary.thresholds.push(...evaluateThresholds(costThresholds, top.summary));
    const c = top.summary.cost;
    if (c)
      text += ` Cost: ${c.replicas} × ${c.instance} for ${rate(c.peak_per_s)} at the peak, ${money(c.headline.monthly, c.currency)} a month, ${money(c.headline.per_1k, c.currency)} per 1k inferences (${c.headline.basis}).`;
  }
  const rows = probes.map((x) => ({
    probe: x.step.index + 1,
    rate: x.rate,
    sustained: x.ok,
    failed: x.reasons,
    stable: x.step.steady.steady,
    throughput: x.step.measuredSummary.throughput,
    p50_ms: x.step.measuredSummary.latency_ms.p50,
    p99_ms: x.step.measuredSummary.latency_ms.p99,
    error_rate: x.step.measuredSummary.error_rate,
    duration_s: x.step.summary.durationS,
    ended: x.step.endedEarly ?? 'max step time',
    dir: path.relative(outDir, x.step.dir),
  }));
  const verdictOk = best !== undefined && (p.atLeast === undefined || state.lo >= p.atLeast);
  const answer: ProfileAnswer = {
    type: 'capacity',
    verdict: probes.length === 0 ? 'inconclusive' : verdictOk ? 'passed' : 'failed',
    answer: interrupted ? `Interrupted — partial answer: ${text}` : text,
    numbers: {
      max_sustainable_rate: best ? state.lo : 0,
      first_failing_rate: state.hi,
      slo,
      precision,
      probes: probes.length,
      p99_at_capacity_ms: best?.step.measuredSummary.latency_ms.p99 ?? null,
      throughput_at_capacity: best?.step.measuredSummary.throughput ?? null,
      ...(claims.length > 0
        ? {
            claim_requests: claims[0].claim.requests,
            claim_exceeded: claims[0].claim.exceeded,
            claim_enough_99: claims.every((c) => c.claim.enough),
            claim_more_requests: Math.max(...claims.map((c) => c.claim.more_needed)),
          }
        : {}),
    },
    ...(claims.length > 0 ? { claims: claims.map((c) => ({ threshold: c.threshold, ...c.claim })) } : {}),
    curves: [
      {
        title: 'probes: p99 per offered rate',
        x_label: 'offered rate (/s)',
        y_label: 'p99 (ms)',
        series: [
          {
            name: 'sustained',
            points: rows.filter((x) => x.sustained).map((x) => [x.rate, x.p99_ms] as [number, number]),
          },
          {
            name: 'not sustained',
            points: rows.filter((x) => !x.sustained).map((x) => [x.rate, x.p99_ms] as [number, number]),
          },
        ],
      },
    ],
    marks: top.marks,
    steps: rows,
    search: {
      lo: state.lo,
      hi: state.hi,
      reason: state.reason ?? (interrupted ? 'interrupted' : ''),
      method:
        'double from startRate until a probe fails, then bisect between the highest rate that held and the lowest that failed',
    },
  };
  const fin = finishSummary(top.summary, outDir, plan, answer);
  return { summary: fin.summary, outDir, exitCode: fin.exitCode, answer };
}

function money(x: number, currency: string): string {
  return `${fmtNum(x)} ${currency}`;
}

/**
 * For each latency-percentile threshold (`p99 < 250ms`), whether the requests of the step that held
 * suffice to claim it at 99 % confidence (MLPerf's early-stopping rule, src/stats/early-stopping.ts):
 * n requests measured, k of them over the bound (from the exact histograms).
 */
function latencyClaims(
  thresholds: readonly ThresholdPlan[],
  records: readonly IntervalRecord[],
): Array<{ threshold: string; claim: PercentileClaim; text: string }> {
  const out: Array<{ threshold: string; claim: PercentileClaim; text: string }> = [];
  const h = newHistogram();
  for (const r of records) if (r.group === undefined && r.hdr?.latency) addEncoded(h, r.hdr.latency);
  for (const t of thresholds) {
    if (t.metric !== 'latency' || !t.stat || !/^p\d/.test(t.stat) || (t.op !== '<' && t.op !== '<=')) continue;
    const q = Number(t.stat.slice(1)) / 100;
    const claim = percentileClaim(h.totalCount, countAbove(h, t.value * 1000), q, 0.99);
    const head = `The claim ${t.expression} was checked with ${claim.requests} requests, ${claim.exceeded} over the bound:`;
    const text = claim.enough
      ? `${head} enough for 99 % confidence (MLPerf early stopping).`
      : `${head} not enough for 99 % confidence (MLPerf early stopping) — it takes ${claim.min_requests} requests with ${claim.exceeded} over the bound (${claim.more_needed} more, if no more exceed it)${claim.exceeded > 0 ? `, ${claim.min_requests_zero} with none over` : ''}.`;
    out.push({ threshold: t.expression, claim, text });
  }
  return out;
}

function line(s: ScenarioSummary): string {
  return `p99 ${ms(s.latency_ms.p99)}, errors ${pct(s.error_rate)}, throughput ${rate(s.throughput)}`;
}

/** A measurement window as a ScenarioSummary-like subject for thresholds (percentiles p50/p90/p99/max only). */
function summaryOfPoint(w: WindowPoint, plan: PlanOf<'capacity'>): ScenarioSummary {
  const s = summarizeRecords([], 'constant-arrival-rate', plan.profile.template.protocol);
  s.requests = w.requests;
  s.ok = w.ok;
  s.errors = w.errors;
  s.error_rate = w.error_rate;
  s.throughput = w.throughput;
  s.counters = w.counters;
  const l = {
    count: w.requests,
    min: 0,
    mean: w.p50 ?? 0,
    p50: w.p50 ?? 0,
    p90: w.p90 ?? 0,
    p95: w.p99 ?? 0,
    p99: w.p99 ?? 0,
    p999: w.max ?? 0,
    max: w.max ?? 0,
  };
  s.latency_ms = l;
  return s;
}

export const capacity: ProfileKind<'capacity'> = { type: 'capacity', run: runCapacity };
