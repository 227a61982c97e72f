/**
 * enrichSummary: derived, protocol-level sections of a summary, computed from counters only
 * (so it works the same on merged shards and on re-analysis). Pure: mutates `summary` in place and
 * does no I/O.
 *
 * Per scenario (and per group of a traffic mix, and for the merged total):
 *   quality     {task, accuracy, ci95, effective_accuracy, scored, correct, rows, requests, failed_requests,
 *                mae, rmse, empty, malformed, truncated, accuracy_drop?}
 *   golden      {agreement, ci95, compared, agree, missing, shape_mismatch, max_diff, tolerance, worst?}
 *               (`worst` comes from the merged adapter reports the coordinator puts in
 *               `summary.scenarios[x].adapter`, see mergeAdapterReports)
 *   generation  {goodput, good, good_ratio, slo, tokens_per_s, tokens_in_per_s, total_tokens_per_s,
 *                tokens_out, tokens_in, tokens_source, content_chunks, finish}
 * and the headline numbers at the top level of the scenario summary, where thresholds find them:
 *   accuracy, effective_accuracy, mae, rmse, accuracy_drop, agreement, goodput, tokens_per_s.
 */
import type { ScenarioSummary, Summary } from '../core/results.js';
import type { Plan, ScenarioPlan } from '../plan/types.js';
import { twoProportionTest, wilsonInterval } from '../stats/proportion.js';

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;
const r3 = (x: number): number => Math.round(x * 1e3) / 1e3;

function counter(s: ScenarioSummary, name: string): number {
  const v = s.counters?.[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function maxOf(s: ScenarioSummary, name: string): number | undefined {
  const m = (s as { maxes?: Record<string, number> }).maxes;
  const v = m?.[name];
  return typeof v === 'number' ? v : undefined;
}

function failedRequests(s: ScenarioSummary): number {
  let n = 0;
  for (const v of Object.values(s.errors ?? {})) n += typeof v === 'number' ? v : 0;
  return n;
}

export interface QualitySection {
  task: 'classification' | 'regression' | 'unknown';
  accuracy: number | null;
  /**
   * Wilson 95% interval of the accuracy, over `ci_n` answers: the scored answers, or the distinct
   * rows of the data when the run scored more than it has (a row scored again measures the load,
   * not more of the population, so repeats must not narrow the interval).
   */
  ci95: [number, number] | null;
  ci_n: number;
  effective_accuracy: number | null;
  scored: number;
  correct: number;
  rows: number;
  requests: number;
  failed_requests: number;
  mae: number | null;
  rmse: number | null;
  empty: number;
  malformed: number;
  truncated: number;
  accuracy_drop?: AccuracyDrop;
}

export interface AccuracyDrop {
  reference: string;
  reference_accuracy: number | null;
  /** reference accuracy − this accuracy (positive = worse under load). */
  value: number | null;
  /** Newcombe (Wilson-score hybrid) 95% interval of the drop. */
  ci95: [number, number] | null;
  z: number | null;
  p_value: number | null;
  /** p < 0.05 */
  significant: boolean;
}

/**
 * Quality section from counters; null when nothing was scored or attempted. With a known `task`
 * (the plan scores this scenario), a scenario whose every request failed still gets a section:
 * its effective accuracy is 0. `failed` overrides the failed requests counted (the total counts only
 * the failures of scenarios that score).
 */
export function qualitySection(
  s: ScenarioSummary,
  task?: 'classification' | 'regression',
  failedOverride?: number,
): QualitySection | null {
  const requests = counter(s, 'quality.requests');
  const rows = counter(s, 'quality.rows');
  const scored = counter(s, 'quality.scored');
  const failed = failedOverride ?? failedRequests(s);
  if (requests === 0 && rows === 0 && scored === 0 && !(task !== undefined && failed > 0)) return null;
  const correct = counter(s, 'quality.correct');
  const abs = counter(s, 'quality.abs_err_sum');
  const sq = counter(s, 'quality.sq_err_sum');
  const t: QualitySection['task'] =
    task ?? (correct > 0 ? 'classification' : abs > 0 || sq > 0 ? 'regression' : 'unknown');
  const meanRows = requests > 0 ? rows / requests : 1;
  const effDen = rows + failed * meanRows;
  const isClass = t !== 'regression';
  const ciN = effectiveN(s, scored);
  const w = isClass && scored > 0 ? wilsonInterval((correct * ciN) / scored, ciN) : null;
  return {
    task: t,
    accuracy: isClass && scored > 0 ? r6(correct / scored) : null,
    ci95: w ? [r6(w.low), r6(w.high)] : null,
    ci_n: ciN,
    effective_accuracy: isClass && effDen > 0 ? r6(correct / effDen) : null,
    scored,
    correct,
    rows,
    requests,
    failed_requests: failed,
    mae: !isClass && scored > 0 ? r6(abs / scored) : null,
    rmse: !isClass && scored > 0 ? r6(Math.sqrt(sq / scored)) : null,
    empty: counter(s, 'quality.empty'),
    malformed: counter(s, 'quality.malformed'),
    truncated: counter(s, 'quality.truncated'),
  };
}

/** Sample size for intervals and tests: the scored answers, at most the data's distinct rows. */
function effectiveN(s: ScenarioSummary, scored: number): number {
  const distinct = maxOf(s, 'quality.dataset_rows');
  return distinct !== undefined && distinct > 0 && scored > distinct ? distinct : scored;
}

/** Newcombe's hybrid score interval for p1 − p2 (method 10), from Wilson intervals. */
export function differenceInterval(x1: number, n1: number, x2: number, n2: number): [number, number] {
  const a = wilsonInterval(x1, n1);
  const b = wilsonInterval(x2, n2);
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const d = p1 - p2;
  const lo = d - Math.sqrt((p1 - a.low) ** 2 + (b.high - p2) ** 2);
  const hi = d + Math.sqrt((a.high - p1) ** 2 + (p2 - b.low) ** 2);
  return [Math.max(-1, lo), Math.min(1, hi)];
}

export function accuracyDrop(ref: ScenarioSummary, s: ScenarioSummary, reference: string): AccuracyDrop {
  const rcAll = counter(ref, 'quality.correct');
  const rnAll = counter(ref, 'quality.scored');
  const cAll = counter(s, 'quality.correct');
  const nAll = counter(s, 'quality.scored');
  if (rnAll === 0 || nAll === 0)
    return {
      reference,
      reference_accuracy: rnAll > 0 ? r6(rcAll / rnAll) : null,
      value: null,
      ci95: null,
      z: null,
      p_value: null,
      significant: false,
    };
  // Same proportions, sample sizes capped at the distinct rows (see QualitySection.ci95).
  const rn = effectiveN(ref, rnAll);
  const n = effectiveN(s, nAll);
  const rc = (rcAll * rn) / rnAll;
  const c = (cAll * n) / nAll;
  const test = twoProportionTest(rc, rn, c, n);
  const ci = differenceInterval(rc, rn, c, n);
  return {
    reference,
    reference_accuracy: r6(rc / rn),
    value: r6(rc / rn - c / n),
    ci95: [r6(ci[0]), r6(ci[1])],
    z: r3(-test.z),
    p_value: r6(test.pValue),
    significant: test.pValue < 0.05,
  };
}

export interface GoldenSection {
  agreement: number | null;
  ci95: [number, number] | null;
  compared: number;
  agree: number;
  missing: number;
  shape_mismatch: number;
  /** Largest |output − golden| seen (null when the summary carries no maxima). */
  max_diff: number | null;
  tolerance?: number;
  /** The rows furthest from their golden outputs (largest first), from the adapters' reports. */
  worst?: WorstRow[];
}

export function goldenSection(s: ScenarioSummary, tolerance?: number): GoldenSection | null {
  const compared = counter(s, 'golden.compared');
  const missing = counter(s, 'golden.missing');
  if (compared === 0 && missing === 0) return null;
  const agree = counter(s, 'golden.agree');
  const w = compared > 0 ? wilsonInterval(agree, compared) : null;
  const m = maxOf(s, 'golden.max_diff_e6');
  return {
    agreement: compared > 0 ? r6(agree / compared) : null,
    ci95: w ? [r6(w.low), r6(w.high)] : null,
    compared,
    agree,
    missing,
    shape_mismatch: counter(s, 'golden.shape_mismatch'),
    max_diff: m === undefined ? null : m >= Number.MAX_SAFE_INTEGER ? Infinity : m / 1e6,
    ...(tolerance !== undefined ? { tolerance } : {}),
  };
}

export interface GenerationSection {
  /** Requests per second that met every per-request SLO. */
  goodput: number | null;
  good: number;
  good_ratio: number | null;
  slo?: Record<string, number>;
  tokens_per_s: number;
  tokens_in_per_s: number;
  total_tokens_per_s: number;
  tokens_out: number;
  tokens_in: number;
  tokens_source: { usage: number; chunks: number };
  content_chunks: number;
  finish: Record<string, number>;
  stream_errors: number;
}

/**
 * `activeS`: the seconds goodput is measured over — the scenario's active time without the drain
 * after its planned end (requests in flight at the end still count when they meet the SLOs), so
 * that meeting every SLO at 10/s offered gives goodput 10/s. Defaults to `s.durationS`.
 */
export function generationSection(
  s: ScenarioSummary,
  slo?: Record<string, number>,
  activeS?: number,
): GenerationSection | null {
  const tokensOut = counter(s, 'tokens_out');
  const tokensIn = counter(s, 'tokens_in');
  const good = counter(s, 'goodput.good');
  const evaluated = counter(s, 'goodput.evaluated');
  const chunks = counter(s, 'content_chunks');
  if (tokensOut === 0 && tokensIn === 0 && good === 0 && evaluated === 0 && chunks === 0 && !slo) return null;
  const d = s.durationS > 0 ? s.durationS : 0;
  const a = activeS !== undefined && activeS > 0 ? Math.min(activeS, d) : d;
  const finish: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.counters ?? {})) if (k.startsWith('finish.')) finish[k.slice(7)] = v;
  // goodput.evaluated counts requests checked against SLOs (so the total knows SLOs were given)
  const hasSlo = (slo !== undefined && Object.keys(slo).length > 0) || evaluated > 0;
  return {
    goodput: hasSlo || good > 0 ? (a > 0 ? r3(good / a) : null) : null,
    good,
    good_ratio: s.requests > 0 && (hasSlo || good > 0) ? r6(good / s.requests) : null,
    ...(slo ? { slo } : {}),
    tokens_per_s: d > 0 ? r3(tokensOut / d) : 0,
    tokens_in_per_s: d > 0 ? r3(tokensIn / d) : 0,
    total_tokens_per_s: d > 0 ? r3((tokensIn + tokensOut) / d) : 0,
    tokens_out: tokensOut,
    tokens_in: tokensIn,
    tokens_source: { usage: counter(s, 'tokens_source.usage'), chunks: counter(s, 'tokens_source.chunks') },
    content_chunks: chunks,
    finish,
    stream_errors: counter(s, 'stream_errors'),
  };
}

/** A scenario's planned length (duration, or its stages' sum), ms; undefined for count-bounded executors. */
function plannedLengthMs(s: ScenarioPlan): number | undefined {
  // (a ramping executor's duration is the sum of its stages)
  return s.durationMs;
}

/**
 * Goodput's time base: the planned length (the drain after it is not active time), or for the
 * total the first planned start to the last planned end; undefined (→ the measured active time)
 * when some scenario has no planned length (count-bounded: it is active until its last request).
 */
function plannedActiveS(scenarios: ScenarioPlan[]): number | undefined {
  if (scenarios.length === 0) return undefined;
  let start = Infinity;
  let end = -Infinity;
  for (const sp of scenarios) {
    const len = plannedLengthMs(sp);
    // (`after` a count-bounded scenario: its start is known only at run time)
    if (len === undefined || (sp.after !== undefined && scenarios.length > 1)) return undefined;
    start = Math.min(start, sp.startTimeMs);
    end = Math.max(end, sp.startTimeMs + len);
  }
  return (end - start) / 1000;
}

function enrichOne(
  s: ScenarioSummary,
  plan: ScenarioPlan | undefined,
  ref: { name: string; summary: ScenarioSummary } | undefined,
  failed?: number,
  activeS?: number,
): void {
  const q = qualitySection(s, plan?.quality?.task, failed);
  if (q) {
    // a regression task has no accuracy, hence no accuracy drop (it would read 0 − 0 = 0)
    if (ref && ref.summary !== s && q.task !== 'regression') q.accuracy_drop = accuracyDrop(ref.summary, s, ref.name);
    s.quality = q;
    if (q.accuracy !== null) s.accuracy = q.accuracy;
    if (q.effective_accuracy !== null) s.effective_accuracy = q.effective_accuracy;
    if (q.mae !== null) s.mae = q.mae;
    if (q.rmse !== null) s.rmse = q.rmse;
    if (q.accuracy_drop && q.accuracy_drop.value !== null) s.accuracy_drop = q.accuracy_drop.value;
  }
  const g = goldenSection(s, plan?.quality?.golden?.tolerance);
  if (g) {
    const rep = s.adapter as AdapterReport | undefined;
    if (rep) g.worst = Array.isArray(rep.golden_worst) ? rep.golden_worst : [];
    s.golden = g;
    if (g.agreement !== null) s.agreement = g.agreement;
  }
  const gen = generationSection(s, plan?.openai?.slo, activeS);
  if (gen) {
    s.generation = gen;
    if (gen.goodput !== null) s.goodput = gen.goodput;
    s.tokens_per_s = gen.tokens_per_s;
  }
}

/**
 * Adds quality / golden / generation sections and headline numbers to every scenario (and its
 * groups) and to the total. `quality.reference` names the scenario whose accuracy is the
 * light-load reference: the drop is reference − this, with a two-proportion z-test and a Newcombe
 * interval; for a group, the reference scenario's group of the same name is used when it exists.
 */
export function enrichSummary(plan: Plan, summary: Summary): void {
  const plans = new Map(plan.scenarios.map((s) => [s.name, s] as const));
  for (const [name, s] of Object.entries(summary.scenarios ?? {})) {
    const sp = plans.get(name);
    const refName = sp?.quality?.reference;
    const refSummary = refName && refName !== name ? summary.scenarios[refName] : undefined;
    const activeS = sp ? plannedActiveS([sp]) : undefined;
    enrichOne(s, sp, refSummary && refName ? { name: refName, summary: refSummary } : undefined, undefined, activeS);
    for (const [gname, gs] of Object.entries(s.groups ?? {})) {
      const refGroup = refSummary?.groups?.[gname];
      const r = refGroup
        ? { name: `${refName}/${gname}`, summary: refGroup }
        : refSummary && refName
          ? { name: refName, summary: refSummary }
          : undefined;
      enrichOne(gs, sp, r, undefined, activeS);
    }
  }
  if (summary.total) {
    const tasks = new Set(
      plan.scenarios.map((s) => s.quality?.task).filter((t): t is 'classification' | 'regression' => t !== undefined),
    );
    const pseudo = tasks.size === 1 ? ({ quality: { task: [...tasks][0] } } as unknown as ScenarioPlan) : undefined;
    // effective accuracy of the total: only the failures of scenarios that score count as wrong answers
    let failed = 0;
    for (const sp of plan.scenarios)
      if (sp.quality && summary.scenarios?.[sp.name]) failed += failedRequests(summary.scenarios[sp.name]);
    enrichOne(summary.total, pseudo, undefined, failed, plannedActiveS(plan.scenarios));
  }
}

/** A data row whose output differed most from its golden output (`group`: the model, in a mix). */
export interface WorstRow {
  row: number;
  /** max |output − golden| over the row's values; Infinity (null in JSON) for a shape mismatch. */
  max_diff: number;
  group?: string;
}

/**
 * The adapters' end-of-run reports of one scenario, merged over shards (`summary.scenarios[x].adapter`,
 * and `…groups[g].adapter` for a traffic mix).
 */
export interface AdapterReport {
  /** How many shard reports were merged. */
  shards: number;
  /** The worst golden rows over every shard (and every model of a mix), largest difference first; absent when none differed. */
  golden_worst?: WorstRow[];
  /** Golden files written (saveGolden). */
  golden_saved?: string[];
  /** Request bytes encoded ahead of the run, summed over shards. */
  pre_encoded_bytes?: number;
  /** adapter.finish() failures (e.g. a golden file that could not be written), one per shard. */
  finish_errors?: string[];
  /** adapter.report() failures. */
  report_errors?: string[];
  /** Per model of a traffic mix. */
  groups?: Record<string, AdapterReport>;
  /** Other keys: numbers are summed; other values are kept as the list of distinct values. */
  [key: string]: unknown;
}

export const GOLDEN_WORST_ROWS = 5;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function worstRows(lists: unknown[]): WorstRow[] {
  const best = new Map<string, WorstRow>();
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const w of list) {
      if (!isRecord(w) || typeof w.row !== 'number' || typeof w.max_diff !== 'number') continue;
      const g = typeof w.group === 'string' ? w.group : undefined;
      const key = `${g ?? ''}\u0000${w.row}`;
      const prev = best.get(key);
      if (!prev || w.max_diff > prev.max_diff)
        best.set(key, { row: w.row, max_diff: w.max_diff, ...(g !== undefined ? { group: g } : {}) });
    }
  }
  return [...best.values()].sort((a, b) => b.max_diff - a.max_diff || a.row - b.row).slice(0, GOLDEN_WORST_ROWS);
}

function pushAll(out: AdapterReport, key: 'golden_saved' | 'finish_errors' | 'report_errors', values: unknown[]): void {
  const list = (out[key] ??= []);
  for (const v of values) if (typeof v === 'string' && !list.includes(v)) list.push(v);
  if (list.length === 0) delete out[key];
}

/** Merges plain (single-model) reports: known keys by meaning, the rest generically. */
function mergePlain(reports: Record<string, unknown>[], skip: ReadonlySet<string> = new Set()): AdapterReport {
  const out: AdapterReport = { shards: reports.length };
  const worst = worstRows(reports.map((r) => r.golden_worst));
  if (worst.length > 0) out.golden_worst = worst;
  pushAll(
    out,
    'golden_saved',
    reports.map((r) => r.golden_saved),
  );
  pushAll(
    out,
    'finish_errors',
    reports.map((r) => r.finish_error),
  );
  pushAll(
    out,
    'report_errors',
    reports.map((r) => r.report_error),
  );
  const known = new Set(['golden_worst', 'golden_saved', 'finish_error', 'report_error', ...skip]);
  const keys = new Set(reports.flatMap((r) => Object.keys(r)).filter((k) => !known.has(k)));
  for (const k of keys) {
    const vals = reports.map((r) => r[k]).filter((v) => v !== undefined);
    if (vals.every((v) => typeof v === 'number')) out[k] = (vals as number[]).reduce((a, b) => a + b, 0);
    else {
      const distinct: unknown[] = [];
      const seen = new Set<string>();
      for (const v of vals) {
        const j = JSON.stringify(v);
        if (!seen.has(j)) seen.add(j), distinct.push(v);
      }
      out[k] = distinct;
    }
  }
  return out;
}

/**
 * Merges one scenario's end-of-run adapter reports (one per shard, from `Adapter.report()`) into
 * one AdapterReport. The coordinator stays protocol-agnostic: it collects the reports and calls
 * this. A traffic mix's reports hold one sub-report per model: they are merged per model into
 * `groups`, and the scenario's `golden_worst` is the worst rows over every model (tagged `group`).
 * Returns undefined when there is nothing to merge.
 */
export function mergeAdapterReports(
  scenario: Pick<ScenarioPlan, 'mix'>,
  reports: readonly unknown[],
): AdapterReport | undefined {
  const rs = reports.filter(isRecord);
  if (rs.length === 0) return undefined;
  const models = scenario.mix?.models.map((m) => m.name) ?? [];
  if (models.length === 0) return mergePlain(rs);
  const out = mergePlain(rs, new Set(models));
  const groups: Record<string, AdapterReport> = {};
  for (const m of models) {
    const subs = rs.map((r) => r[m]).filter(isRecord);
    if (subs.length > 0) groups[m] = mergePlain(subs);
  }
  if (Object.keys(groups).length === 0) return out;
  out.groups = groups;
  const worst = worstRows(
    Object.entries(groups).map(([name, g]) => (g.golden_worst ?? []).map((w) => ({ ...w, group: name }))),
  );
  if (worst.length > 0) out.golden_worst = worst;
  pushAll(
    out,
    'golden_saved',
    Object.values(groups).flatMap((g) => g.golden_saved ?? []),
  );
  let bytes = 0;
  let anyBytes = false;
  for (const g of Object.values(groups)) {
    if (typeof g.pre_encoded_bytes === 'number') (bytes += g.pre_encoded_bytes), (anyBytes = true);
  }
  if (anyBytes) out.pre_encoded_bytes = bytes;
  return out;
}
