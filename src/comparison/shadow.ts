/**
 * Shadow comparison: every request sent to primary, secondary and candidate; per JSON field, the
 * primary–candidate difference rate against the primary–secondary noise rate (as Diffy does), and
 * ML-aware agreement on top. The engine feeds one accumulator per shard on the sending thread
 * (`observe` must stay in the microseconds), takes its counts per window (`take`), and run() merges
 * them (`mergeShadowCounts`) and judges them (`judgeShadow`, `shadowVerdict`).
 *
 * Memory does not grow with requests: arrays longer than ARRAY_INDEX_LIMIT are one field `[*]`, at
 * most MAX_TRACKED_PATHS distinct paths are tracked (differences elsewhere are counted as
 * `(untracked)`), and each field keeps at most `maxExamples` examples of bounded size.
 */
import type { ShadowFieldResult, ShadowResult, StatTest } from '../core/comparison.js';
import { PlanError, type Problem } from '../core/errors.js';
import type { ShadowPlan } from '../plan/comparison.js';
import { redact } from '../plan/secrets.js';
import { compilePathPattern, type DiffKind, FieldDiffer } from './shadow-diff.js';
import { argmax, compareScores, compareText } from './shadow-ml.js';
import { mcnemar } from './shadow-stats.js';

/** What one variant answered to one request. */
export interface ShadowExchange {
  status: number;
  /** Parsed JSON body when the response was JSON, else the text; null when no response (error). */
  body: unknown;
  errorClass?: string;
  /** The prediction the adapter extracted, when the plan has a quality section. */
  prediction?: { label?: number | string; scores?: number[]; text?: string };
}

/** Distinct paths tracked per accumulator and per merge; differences elsewhere count as `(untracked)`. */
export const MAX_TRACKED_PATHS = 512;
/** Characters kept of an example value (strings, or the JSON text of objects), after redaction. */
export const MAX_EXAMPLE_CHARS = 200;
/** The path of status codes and error classes (`200`, `503 http_5xx`, `0 timeout`). */
export const STATUS_PATH = 'status';
/** The pseudo-field of differences on paths beyond MAX_TRACKED_PATHS. */
export const UNTRACKED_PATH = '(untracked)';

/** One differing pair of values; a side without the field has `undefined` (no key in JSON). */
export interface ShadowExample {
  primary: unknown;
  candidate: unknown;
}

export interface ShadowFieldCounts {
  /** Requests where primary and candidate differ here (raw), and primary and secondary (noise). */
  raw: number;
  noise: number;
  /** Raw differences by kind: a different value, absent in the candidate, only in the candidate, another JSON type. */
  kinds: Record<DiffKind, number>;
  examples: ShadowExample[];
}

/** Sums and counts of the ML-aware figures (means are taken at judging time). */
export interface ShadowMlCounts {
  /** Requests where the primary predicted a label (or top-1 of scores) / the candidate predicted the same. */
  labelPairs: number;
  labelAgree: number;
  /** The same for primary vs secondary (the current version's own disagreement). */
  noiseLabelPairs: number;
  noiseLabelAgree: number;
  /** Score vectors of the same length on both sides; of different lengths (not compared). */
  scorePairs: number;
  scoreMismatch: number;
  /** Pairs where a side was read as logits (softmax). */
  softmax: number;
  topKOverlapSum: number;
  maxAbsDiff: number;
  meanAbsDiffSum: number;
  jsSum: number;
  textPairs: number;
  textExact: number;
  textDistanceSum: number;
  textNormalisedSum: number;
  textTruncated: number;
  /** With the row's true label: pairs scored, and their correctness. */
  scored: number;
  bothCorrect: number;
  primaryOnly: number;
  candidateOnly: number;
  neither: number;
}

/** Mergeable, JSON-serialisable counts of one window (or a whole run) of shadow comparisons. */
export interface ShadowCounts {
  compared: number;
  /** Requests with no raw difference at all (status and every non-ignored field). */
  identical: number;
  fields: Record<string, ShadowFieldCounts>;
  /** Requests with a raw / noise difference on an untracked path (merged: an upper bound), and such differences. */
  untracked: { raw: number; noise: number; differences: number };
  ml: ShadowMlCounts;
  /** Examples kept per field. */
  maxExamples: number;
}

const emptyMl = (): ShadowMlCounts => ({
  labelPairs: 0,
  labelAgree: 0,
  noiseLabelPairs: 0,
  noiseLabelAgree: 0,
  scorePairs: 0,
  scoreMismatch: 0,
  softmax: 0,
  topKOverlapSum: 0,
  maxAbsDiff: 0,
  meanAbsDiffSum: 0,
  jsSum: 0,
  textPairs: 0,
  textExact: 0,
  textDistanceSum: 0,
  textNormalisedSum: 0,
  textTruncated: 0,
  scored: 0,
  bothCorrect: 0,
  primaryOnly: 0,
  candidateOnly: 0,
  neither: 0,
});

function emptyCounts(maxExamples: number): ShadowCounts {
  return {
    compared: 0,
    identical: 0,
    fields: {},
    untracked: { raw: 0, noise: 0, differences: 0 },
    ml: emptyMl(),
    maxExamples,
  };
}

const newField = (): ShadowFieldCounts => ({
  raw: 0,
  noise: 0,
  kinds: { value: 0, missing: 0, added: 0, type: 0 },
  examples: [],
});

/**
 * Keys whose values are credentials wherever they appear in a response: `token`, `access_token`,
 * `x-api-key`, `client_secret`, `secret_key`, … — but not `completion_tokens` or `max_tokens`.
 */
const SECRET_KEY =
  /^(?:.*[-_])?(?:authorization|api[-_]?key|token|secret|password|passwd|cookie|credentials?)(?:[-_](?:key|value))?$/i;
const PATH_KEY = /\.([\p{L}_][\p{L}\p{N}_]*)|\['((?:[^'\\]|\\.)*)'\]/gu;

function maskSecretKeys(v: unknown, depth = 0): unknown {
  if (v === null || typeof v !== 'object' || depth > 16) return v;
  if (Array.isArray(v)) return v.map((x) => maskSecretKeys(x, depth + 1));
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = SECRET_KEY.test(k) ? '***' : maskSecretKeys(x, depth + 1);
  return o;
}

const truncate = (s: string) => (s.length > MAX_EXAMPLE_CHARS ? `${s.slice(0, MAX_EXAMPLE_CHARS)}…` : s);

/**
 * An example value as it may appear in output: secret-named keys masked, the plan's secrets redacted
 * (before truncation, so no secret is cut in two), at most MAX_EXAMPLE_CHARS characters.
 */
function exampleValue(v: unknown, path: string, secrets: readonly string[]): unknown {
  if (v === undefined) return v;
  // under a credential's key (at any depth of the path)
  for (const m of path.matchAll(PATH_KEY)) if (SECRET_KEY.test(m[1] ?? m[2])) return '***';
  if (typeof v === 'string') return truncate(redact(v, secrets));
  const text = redact(JSON.stringify(maskSecretKeys(v)), secrets);
  if (text.length > MAX_EXAMPLE_CHARS) return truncate(text);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const statusText = (e: ShadowExchange) =>
  e.errorClass === undefined ? String(e.status) : `${e.status} ${e.errorClass}`;
/** Whether the variant answered at all (a failed request without a response has no body to compare). */
const responded = (e: ShadowExchange) => !(e.errorClass !== undefined && (e.body === null || e.body === undefined));

function predictedLabel(e: ShadowExchange): string | undefined {
  const p = e.prediction;
  if (p === undefined) return undefined;
  if (p.label !== undefined) return String(p.label);
  if (p.scores !== undefined && p.scores.length > 0) return String(argmax(p.scores));
  return undefined;
}

/**
 * What is wrong with a shadow configuration (located at `at`, the plan path of the shadow section):
 * malformed ignore patterns, negative tolerances or thresholds, topK / maxExamples not whole numbers.
 * Empty when it is usable. run() can call it before any load; ShadowAccumulator throws them.
 */
export function shadowPlanProblems(plan: ShadowPlan, at = 'comparison.shadow'): Problem[] {
  const out: Problem[] = [];
  plan.ignore.forEach((p, i) => {
    try {
      compilePathPattern(p);
    } catch (e) {
      out.push({
        path: `${at}.ignore[${i}]`,
        message: (e as Error).message,
        hint: "a JSON path such as $.id, $.outputs[*].id, $.meta.* or $['odd key']",
      });
    }
  });
  const nonNegative = (v: number, name: string) => {
    if (!(Number.isFinite(v) && v >= 0))
      out.push({ path: `${at}.${name}`, message: `${name} must be a number ≥ 0, got ${v}` });
  };
  nonNegative(plan.tolerance.absolute, 'tolerance.absolute');
  nonNegative(plan.tolerance.relative, 'tolerance.relative');
  nonNegative(plan.relativeThreshold, 'relativeThreshold');
  nonNegative(plan.absoluteThreshold, 'absoluteThreshold');
  if (!(Number.isInteger(plan.topK) && plan.topK >= 1))
    out.push({ path: `${at}.topK`, message: `topK must be a whole number ≥ 1, got ${plan.topK}` });
  if (!(Number.isInteger(plan.maxExamples) && plan.maxExamples >= 0))
    out.push({ path: `${at}.maxExamples`, message: `maxExamples must be a whole number ≥ 0, got ${plan.maxExamples}` });
  return out;
}

export class ShadowAccumulator {
  private counts: ShadowCounts;
  private readonly differ: FieldDiffer;
  private readonly secrets: readonly string[];
  private fieldCount = 0;
  /** Per observe(): any raw difference, any on an untracked path (raw / noise). */
  private anyRaw = false;
  private untrackedRaw = false;
  private untrackedNoise = false;

  /** `secrets` (the plan's) are redacted from examples. Throws a PlanError on a bad configuration. */
  constructor(
    readonly plan: ShadowPlan,
    opts: { secrets?: readonly string[] } = {},
  ) {
    const problems = shadowPlanProblems(plan);
    if (problems.length > 0) throw new PlanError(problems);
    this.counts = emptyCounts(plan.maxExamples);
    this.differ = new FieldDiffer(plan.ignore, plan.tolerance);
    this.secrets = opts.secrets ?? [];
  }

  private field(path: string): ShadowFieldCounts | undefined {
    const f = this.counts.fields[path];
    if (f !== undefined) return f;
    if (this.fieldCount >= MAX_TRACKED_PATHS) return undefined;
    this.fieldCount++;
    return (this.counts.fields[path] = newField());
  }

  private readonly onRaw = (path: string, kind: DiffKind, a: unknown, b: unknown): void => {
    this.anyRaw = true;
    const f = this.field(path);
    if (f === undefined) {
      this.untrackedRaw = true;
      this.counts.untracked.differences++;
      return;
    }
    f.raw++;
    f.kinds[kind]++;
    if (f.examples.length < this.counts.maxExamples) {
      f.examples.push({ primary: exampleValue(a, path, this.secrets), candidate: exampleValue(b, path, this.secrets) });
    }
  };

  private readonly onAnyRaw = (): void => {
    this.anyRaw = true;
  };

  private readonly onNoise = (path: string): void => {
    const f = this.field(path);
    if (f === undefined) this.untrackedNoise = true;
    else f.noise++;
  };

  /** One request's three answers; `label` is the row's true label when the data has one. */
  observe(
    primary: ShadowExchange,
    secondary: ShadowExchange,
    candidate: ShadowExchange,
    label?: number | string,
  ): void {
    const k = this.counts;
    k.compared++;
    this.anyRaw = false;
    this.untrackedRaw = false;
    this.untrackedNoise = false;
    if (primary.status !== candidate.status || primary.errorClass !== candidate.errorClass)
      this.onRaw(STATUS_PATH, 'value', statusText(primary), statusText(candidate));
    if (primary.status !== secondary.status || primary.errorClass !== secondary.errorClass) this.onNoise(STATUS_PATH);
    // Bodies only when all three answered: raw and noise then count over the same requests (noise
    // measured on fewer requests than raw would make every noisy field look like a real difference).
    if (responded(primary) && responded(secondary) && responded(candidate)) {
      this.differ.diff(primary.body, candidate.body, this.onRaw);
      this.differ.diff(primary.body, secondary.body, this.onNoise);
    } else if (responded(primary) && responded(candidate))
      // no field counts, but whether the two answers were identical still does
      this.differ.diff(primary.body, candidate.body, this.onAnyRaw);
    if (!this.anyRaw) k.identical++;
    if (this.untrackedRaw) k.untracked.raw++;
    if (this.untrackedNoise) k.untracked.noise++;
    if (primary.prediction !== undefined || candidate.prediction !== undefined || label !== undefined)
      this.observeMl(k.ml, primary, secondary, candidate, label);
  }

  private observeMl(
    ml: ShadowMlCounts,
    primary: ShadowExchange,
    secondary: ShadowExchange,
    candidate: ShadowExchange,
    label: number | string | undefined,
  ): void {
    const lp = predictedLabel(primary);
    const lc = predictedLabel(candidate);
    const ls = predictedLabel(secondary);
    // Judged where the primary predicted: a variant without a prediction (failed) disagrees.
    if (lp !== undefined) {
      ml.labelPairs++;
      if (lp === lc) ml.labelAgree++;
      ml.noiseLabelPairs++;
      if (lp === ls) ml.noiseLabelAgree++;
    }
    const sp = primary.prediction?.scores;
    const sc = candidate.prediction?.scores;
    if (sp !== undefined && sc !== undefined && sp.length > 0 && sc.length > 0) {
      if (sp.length !== sc.length) ml.scoreMismatch++;
      else {
        const r = compareScores(sp, sc, this.plan.topK);
        ml.scorePairs++;
        if (r.softmax) ml.softmax++;
        ml.topKOverlapSum += r.topKOverlap;
        if (r.maxAbsDiff > ml.maxAbsDiff) ml.maxAbsDiff = r.maxAbsDiff;
        ml.meanAbsDiffSum += r.meanAbsDiff;
        ml.jsSum += r.jsDivergence;
      }
    }
    const tp = primary.prediction?.text;
    const tc = candidate.prediction?.text;
    if (tp !== undefined && tc !== undefined) {
      const r = compareText(tp, tc);
      ml.textPairs++;
      if (r.exact) ml.textExact++;
      if (r.truncated) ml.textTruncated++;
      ml.textDistanceSum += r.distance;
      ml.textNormalisedSum += r.normalised;
    }
    // Correctness: a side without a prediction (a failed request) is not correct.
    if (label !== undefined && (lp !== undefined || lc !== undefined)) {
      const truth = String(label);
      const pOk = lp === truth;
      const cOk = lc === truth;
      ml.scored++;
      if (pOk && cOk) ml.bothCorrect++;
      else if (pOk) ml.primaryOnly++;
      else if (cOk) ml.candidateOnly++;
      else ml.neither++;
    }
  }

  /** The counts since the last take (the window's), resetting them. */
  take(): ShadowCounts {
    const c = this.counts;
    this.counts = emptyCounts(this.plan.maxExamples);
    this.fieldCount = 0;
    return c;
  }
}

export function mergeShadowCounts(parts: readonly ShadowCounts[]): ShadowCounts {
  const out = emptyCounts(0);
  for (const p of parts) out.maxExamples = Math.max(out.maxExamples, p.maxExamples ?? 0);
  let tracked = 0;
  for (const p of parts) {
    out.compared += p.compared;
    out.identical += p.identical ?? 0;
    if (p.untracked !== undefined) {
      out.untracked.raw += p.untracked.raw;
      out.untracked.noise += p.untracked.noise;
      out.untracked.differences += p.untracked.differences;
    }
    for (const [path, f] of Object.entries(p.fields ?? {})) {
      let o = out.fields[path];
      if (o === undefined) {
        if (tracked >= MAX_TRACKED_PATHS) {
          out.untracked.raw += f.raw;
          out.untracked.noise += f.noise;
          out.untracked.differences += f.raw;
          continue;
        }
        tracked++;
        o = out.fields[path] = newField();
      }
      o.raw += f.raw;
      o.noise += f.noise;
      for (const kind of ['value', 'missing', 'added', 'type'] as const) o.kinds[kind] += f.kinds[kind];
      for (const ex of f.examples) if (o.examples.length < out.maxExamples) o.examples.push(ex);
    }
    if (p.ml !== undefined) {
      const m = out.ml;
      for (const key of Object.keys(m) as Array<keyof ShadowMlCounts>) {
        if (key === 'maxAbsDiff') m.maxAbsDiff = Math.max(m.maxAbsDiff, p.ml.maxAbsDiff);
        else m[key] += p.ml[key] ?? 0;
      }
    }
  }
  out.untracked.raw = Math.min(out.untracked.raw, out.compared);
  out.untracked.noise = Math.min(out.untracked.noise, out.compared);
  return out;
}

/** How the correctness test decides; defaults in SHADOW_JUDGE_DEFAULTS. */
export interface ShadowJudgeOptions {
  /** Significance level of the McNemar test (one test: no multiple-comparison correction needed). */
  alpha: number;
  confidence: number;
  /** Smallest accuracy drop worth detecting (fraction), and the power needed to call "no difference". */
  minimumEffect: number;
  power: number;
  /** Fewer compared requests than this: the verdict is inconclusive (unless a field already fails). */
  minCompared: number;
}

export const SHADOW_JUDGE_DEFAULTS: ShadowJudgeOptions = {
  alpha: 0.05,
  confidence: 0.95,
  minimumEffect: 0.01,
  power: 0.8,
  minCompared: 100,
};

/** Diffy's rule: raw > noise, relative > relativeThreshold and absolute > absoluteThreshold (percent, strict). */
export function diffyField(
  path: string,
  raw: number,
  noise: number,
  total: number,
  plan: Pick<ShadowPlan, 'relativeThreshold' | 'absoluteThreshold'>,
): ShadowFieldResult {
  const gap = Math.abs(raw - noise);
  // gap × 100 first: 3 of 10,000 gives exactly 0.03, which must not pass the strict > 0.03.
  const relative = raw + noise === 0 ? 0 : (gap * 100) / (raw + noise);
  const absolute = total === 0 ? 0 : (gap * 100) / total;
  return {
    path,
    rawRate: total === 0 ? 0 : raw / total,
    noiseRate: total === 0 ? 0 : noise / total,
    relative,
    absolute,
    reported: raw > noise && relative > plan.relativeThreshold && absolute > plan.absoluteThreshold,
  };
}

function correctnessTest(ml: ShadowMlCounts, o: ShadowJudgeOptions): StatTest | undefined {
  const n = ml.scored;
  if (n === 0) return undefined;
  const r = mcnemar(ml.primaryOnly, ml.candidateOnly, n, o);
  const outcome: StatTest['outcome'] =
    r.pValue < o.alpha ? (r.estimate < 0 ? 'worse' : 'better') : r.power >= o.power ? 'no-difference' : 'inconclusive';
  return {
    metric: 'accuracy',
    method: 'mcnemar-exact',
    control: (ml.bothCorrect + ml.primaryOnly) / n,
    candidate: (ml.bothCorrect + ml.candidateOnly) / n,
    estimate: r.estimate,
    scale: 'difference',
    ci: r.ci,
    confidence: o.confidence,
    pValue: r.pValue,
    power: r.power,
    minimumEffect: o.minimumEffect,
    unit: 'fraction',
    outcome,
  };
}

export function judgeShadow(
  counts: ShadowCounts,
  plan: ShadowPlan,
  options: Partial<ShadowJudgeOptions> = {},
): ShadowResult {
  const o = { ...SHADOW_JUDGE_DEFAULTS, ...options };
  const n = counts.compared;
  const fields: ShadowFieldResult[] = [];
  for (const [path, f] of Object.entries(counts.fields)) {
    if (f.raw === 0 && f.noise === 0) continue;
    const r = diffyField(path, f.raw, f.noise, n, plan);
    if (r.reported && f.examples.length > 0) r.examples = f.examples.slice(0, plan.maxExamples);
    fields.push(r);
  }
  const u = counts.untracked;
  if (u.raw > 0 || u.noise > 0) fields.push(diffyField(UNTRACKED_PATH, u.raw, u.noise, n, plan));
  fields.sort(
    (a, b) =>
      Number(b.reported) - Number(a.reported) ||
      b.rawRate - a.rawRate ||
      (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  );
  const m = counts.ml;
  const ml: Record<string, number> = {};
  if (n > 0) ml.identicalResponses = counts.identical / n;
  if (m.labelPairs > 0) ml.labelAgreement = m.labelAgree / m.labelPairs;
  if (m.noiseLabelPairs > 0) ml.noiseLabelAgreement = m.noiseLabelAgree / m.noiseLabelPairs;
  if (m.scorePairs > 0) {
    ml.topKOverlap = m.topKOverlapSum / m.scorePairs;
    ml.maxAbsProbabilityDiff = m.maxAbsDiff;
    ml.meanAbsProbabilityDiff = m.meanAbsDiffSum / m.scorePairs;
    ml.jsDivergence = m.jsSum / m.scorePairs;
  }
  if (m.scoreMismatch > 0) ml.scoreLengthMismatches = m.scoreMismatch;
  if (m.scorePairs > 0) ml.scoresReadAsLogits = m.softmax / m.scorePairs;
  if (m.textPairs > 0) {
    ml.textEditDistance = m.textDistanceSum / m.textPairs;
    ml.textNormalisedEditDistance = m.textNormalisedSum / m.textPairs;
    ml.textExactMatch = m.textExact / m.textPairs;
    if (m.textTruncated > 0) ml.textTruncated = m.textTruncated / m.textPairs;
  }
  const correctness = correctnessTest(m, o);
  if (correctness) {
    ml.primaryAccuracy = correctness.control;
    ml.candidateAccuracy = correctness.candidate;
  }
  // With predictions: share of the same predicted label; without: share of identical responses.
  const agreement = m.labelPairs > 0 ? m.labelAgree / m.labelPairs : n > 0 ? counts.identical / n : Number.NaN;
  return { compared: n, agreement, fields, ml, ...(correctness ? { correctness } : {}) };
}

const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.001 ? 3 : 1)}%`;

/**
 * fail: a field is reported (differs beyond the primary's own noise by Diffy's rule) or the candidate
 * is less accurate (McNemar); inconclusive: fewer than `minCompared` requests compared, or the
 * accuracy test underpowered; else pass.
 */
export function shadowVerdict(
  result: ShadowResult,
  plan: ShadowPlan,
  options: Partial<ShadowJudgeOptions> = {},
): { verdict: 'pass' | 'fail' | 'inconclusive'; reasons: string[] } {
  const o = { ...SHADOW_JUDGE_DEFAULTS, ...options };
  const failures: string[] = [];
  for (const f of result.fields) {
    if (!f.reported) continue;
    const hint =
      f.path === UNTRACKED_PATH
        ? ` — on paths beyond the ${MAX_TRACKED_PATHS} tracked: add map-like fields (keys that vary) to the ignore list`
        : '';
    failures.push(
      `${f.path} differs in ${pct(f.rawRate)} of requests against ${pct(f.noiseRate)} between primary and secondary ` +
        `(relative ${f.relative.toFixed(1)} > ${plan.relativeThreshold}, absolute ${f.absolute.toFixed(3)} > ${plan.absoluteThreshold})${hint}`,
    );
  }
  const c = result.correctness;
  const accuracy = c
    ? `accuracy ${pct(c.candidate)} (candidate) vs ${pct(c.control)} (primary), McNemar exact p = ${c.pValue.toPrecision(3)}, power ${pct(c.power ?? 0)} to detect ${pct(c.minimumEffect ?? 0)}`
    : '';
  if (c?.outcome === 'worse') failures.unshift(`candidate is less accurate: ${accuracy}`);
  if (failures.length > 0) return { verdict: 'fail', reasons: failures };
  if (result.compared < o.minCompared)
    return {
      verdict: 'inconclusive',
      reasons: [`only ${result.compared} requests compared; at least ${o.minCompared} are needed`],
    };
  if (c?.outcome === 'inconclusive')
    return { verdict: 'inconclusive', reasons: [`too little data to tell the accuracies apart: ${accuracy}`] };
  const reasons = [`no field differs beyond the primary's own noise over ${result.compared} requests`];
  if (c)
    reasons.push(
      c.outcome === 'better' ? `candidate is more accurate: ${accuracy}` : `no accuracy difference: ${accuracy}`,
    );
  return { verdict: 'pass', reasons };
}
