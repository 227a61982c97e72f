/**
 * A release comparison (summary.comparison: A/B, canary, shadow) as titled tables of formatted
 * cells — the one view the terminal, summary.md, report.html and junit.xml all render, so they
 * say the same thing in the same words and numbers.
 */
import type { ComparisonSummary, StatTest } from '../core/comparison.js';
import type { ScenarioSummary, Summary } from '../core/results.js';
import { fmtInt, fmtMs, fmtNum, fmtP, fmtPct, fmtSignedPp } from '../core/format.js';

export interface ViewTable {
  title: string;
  head: string[];
  rows: string[][];
}

export interface ReleaseView {
  /** e.g. `A/B test of v2 (candidate) against v1 (control), scenario steady`. */
  title: string;
  verdict: ComparisonSummary['verdict'];
  reasons: string[];
  /** One-line facts (canary score, shadow agreement, paired counts, correction). */
  facts: string[];
  tables: ViewTable[];
  /** One entry per statistical test (junit: a test case each). */
  tests: Array<{ name: string; outcome: StatTest['outcome']; text: string }>;
}

const KIND: Record<ComparisonSummary['kind'], string> = {
  ab: 'A/B test',
  canary: 'Canary',
  shadow: 'Shadow comparison',
};

/** summary.comparison.shadow.ml keys in words (docs/release-comparisons.md), and how each is shown. */
const ML_WORDS: Record<string, [string, 'share' | 'count' | 'number']> = {
  identicalResponses: ['identical responses', 'share'],
  labelAgreement: ['label agreement', 'share'],
  noiseLabelAgreement: ['label agreement primary/secondary', 'share'],
  topKOverlap: ['top-k overlap', 'share'],
  maxAbsProbabilityDiff: ['largest probability difference', 'number'],
  meanAbsProbabilityDiff: ['mean probability difference', 'number'],
  jsDivergence: ['Jensen–Shannon divergence', 'number'],
  scoreLengthMismatches: ['score lists of different length', 'count'],
  scoresReadAsLogits: ['scores read as logits', 'share'],
  textEditDistance: ['mean text edit distance', 'number'],
  textNormalisedEditDistance: ['mean normalised edit distance', 'number'],
  textExactMatch: ['texts identical', 'share'],
  textTruncated: ['text distances that are upper bounds', 'share'],
  primaryAccuracy: ['primary accuracy', 'share'],
  candidateAccuracy: ['candidate accuracy', 'share'],
};

/** A value in a test's unit (ms, fraction, per second). */
function val(v: number, unit: StatTest['unit']): string {
  if (unit === 'ms') return fmtMs(v);
  if (unit === 'fraction') return fmtPct(v);
  if (unit === 'per_s') return `${fmtNum(v)}/s`;
  return fmtNum(v);
}

/** An effect (candidate − control, or a ratio) in a test's unit, signed. */
function effect(v: number, t: Pick<StatTest, 'scale' | 'unit'>): string {
  if (!Number.isFinite(v)) return '–';
  if (t.scale === 'ratio') return `×${fmtNum(v)}`;
  if (t.unit === 'fraction') return fmtSignedPp(v);
  const s = val(Math.abs(v), t.unit);
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${s}`;
}

const TEST_HEAD = ['metric', 'method', 'control', 'candidate', 'effect', 'CI', 'p', 'adj. p', 'power', 'outcome'];

function testRow(t: StatTest): string[] {
  return [
    t.metric,
    t.method,
    val(t.control, t.unit),
    val(t.candidate, t.unit),
    effect(t.estimate, t),
    `${effect(t.ci[0], t)} … ${effect(t.ci[1], t)} (${fmtNum(t.confidence * 100)}%)`,
    fmtP(t.pValue),
    t.adjustedPValue === undefined ? '–' : fmtP(t.adjustedPValue),
    t.power === undefined ? '–' : fmtPct(t.power, 2),
    t.outcome,
  ];
}

function testText(t: StatTest): string {
  const r = testRow(t);
  return `${t.metric}: ${t.outcome} — control ${r[2]}, candidate ${r[3]}, effect ${r[4]}, CI ${r[5]}, p ${r[6]}, adjusted p ${r[7]}, power ${r[8]} (${t.method})`;
}

/** The variants' measurements side by side (their results groups). */
function variantsTable(cmp: ComparisonSummary, sc: ScenarioSummary | undefined): ViewTable {
  const variants = cmp.variants ?? [
    { name: cmp.control, role: cmp.kind === 'shadow' ? 'primary' : 'control' },
    { name: cmp.candidate, role: 'candidate' },
  ];
  const rows = variants.map((v) => {
    const g = sc?.groups?.[v.name];
    if (!g) return [v.name, v.role, '–', '–', '–', '–', '–', '–'];
    const q = g.quality as { accuracy?: number } | undefined;
    return [
      v.name,
      v.role,
      fmtInt(g.requests),
      fmtPct(g.error_rate),
      g.latency_ms.count > 0 ? fmtMs(g.latency_ms.p50) : '–',
      g.latency_ms.count > 0 ? fmtMs(g.latency_ms.p90) : '–',
      g.latency_ms.count > 0 ? fmtMs(g.latency_ms.p99) : '–',
      typeof q?.accuracy === 'number' ? fmtPct(q.accuracy) : '–',
    ];
  });
  return {
    title: 'Variants (same load, same time)',
    head: ['variant', 'role', 'requests', 'error rate', 'p50', 'p90', 'p99', 'accuracy'],
    rows,
  };
}

const CORRECTION = { holm: 'Holm', bh: 'Benjamini–Hochberg', bonferroni: 'Bonferroni', none: '' } as const;

export function releaseView(summary: Pick<Summary, 'comparison' | 'scenarios'>): ReleaseView | null {
  const cmp = summary.comparison;
  if (!cmp) return null;
  const sc = summary.scenarios?.[cmp.scenario];
  const controlRole = cmp.kind === 'shadow' ? 'primary' : 'control';
  const view: ReleaseView = {
    title: `${KIND[cmp.kind]} of ${cmp.candidate} (candidate) against ${cmp.control} (${controlRole}), scenario ${cmp.scenario}`,
    verdict: cmp.verdict,
    reasons: cmp.reasons,
    facts: [],
    tables: [],
    tests: [],
  };
  if (cmp.ab) {
    const a = cmp.ab;
    view.facts.push(
      `alpha ${fmtNum(a.alpha)}, ${a.correction === 'none' ? 'no multiple-metric correction' : `${CORRECTION[a.correction]} correction over ${a.tests.length} metrics`}, ${a.paired ? 'paired design (the same rows in both arms)' : 'independent arms'}`,
    );
    if (a.sequential) {
      const q = a.sequential;
      const at = q.stoppedAt
        ? ` at ${fmtInt(q.stoppedAt.requests)} requests, ${fmtNum(q.stoppedAt.seconds)} s into the load`
        : '';
      const looks = q.looks !== undefined ? `, ${fmtInt(q.looks)} looks` : '';
      view.facts.push(
        `sequential (${q.method}${looks}): ${q.stoppedEarly ? `stopped early${at}${q.reason ? ` — ${q.reason.replace(/\.$/, '')}` : ''}` : 'not stopped early'}${q.judgedBy === 'always-valid' ? '; verdict from the always-valid p-values and intervals (a fixed-sample test is not valid after looking)' : ''}`,
      );
    }
    if (a.tests.length > 0) view.tables.push({ title: 'Tests', head: TEST_HEAD, rows: a.tests.map(testRow) });
    for (const t of a.tests) view.tests.push({ name: t.metric, outcome: t.outcome, text: testText(t) });
  }
  if (cmp.paired) {
    const p = cmp.paired;
    view.facts.push(
      `paired rows: both right ${fmtInt(p.bothCorrect)}, only ${cmp.control} right ${fmtInt(p.controlOnly)}, only ${cmp.candidate} right ${fmtInt(p.candidateOnly)}, both wrong ${fmtInt(p.neither)}${p.unpaired > 0 ? `, not joined ${fmtInt(p.unpaired)} (an arm failed or was not scored)` : ''}`,
    );
  }
  if (cmp.canary) {
    const c = cmp.canary;
    view.facts.push(
      `score ${fmtNum(c.score)} of 100 → ${c.classification} (pass ≥ ${fmtNum(c.thresholds.pass)}, marginal ≥ ${fmtNum(c.thresholds.marginal)}), judge ${c.judge}`,
    );
    const groups = Object.entries(c.groups);
    if (groups.length > 0)
      view.facts.push(
        `groups: ${groups.map(([g, x]) => `${g} ${fmtNum(x.score)} (weight ${fmtNum(x.weight)})`).join(', ')}`,
      );
    if (c.metrics.length > 0)
      view.tables.push({
        title: 'Canary metrics',
        // The numbers are in the tests table below: a note only for a metric without a test (no data).
        head: ['metric', 'group', 'direction', 'class', 'critical', 'control n', 'canary n', 'note'],
        rows: c.metrics.map((m) => [
          m.name,
          m.group,
          m.direction,
          m.failed && m.classification === 'NoData' ? 'NoData (fails)' : m.classification,
          m.critical ? 'yes' : '',
          fmtInt(m.controlCount),
          fmtInt(m.experimentCount),
          m.tests.length === 0 ? (m.reason ?? '') : '',
        ]),
      });
    const all = c.metrics.flatMap((m) => m.tests);
    if (all.length > 0) view.tables.push({ title: 'Canary tests', head: TEST_HEAD, rows: all.map(testRow) });
    for (const m of c.metrics)
      view.tests.push({
        name: m.name,
        outcome:
          m.classification === 'Pass' ? 'no-difference' : m.classification === 'NoData' ? 'inconclusive' : 'worse',
        text: `${m.name} (${m.group}): ${m.classification}${m.reason ? ` — ${m.reason}` : ''}${m.tests.length ? `; ${m.tests.map(testText).join('; ')}` : ''}`,
      });
    if (c.steps && c.steps.length > 0)
      view.tables.push({
        title: 'Steps',
        head: ['share', 'score', 'class', 'action'],
        rows: c.steps.map((s) => [fmtPct(s.share), fmtNum(s.score), s.classification, s.action ?? '']),
      });
  }
  if (cmp.shadow) {
    const s = cmp.shadow;
    view.facts.push(
      `${fmtInt(s.compared)} requests compared; prediction agreement ${Number.isFinite(s.agreement) ? fmtPct(s.agreement) : '–'}`,
    );
    view.facts.push(
      "every arrival went to all three variants: the scenario's own requests and throughput count all three",
    );
    if (s.ml)
      view.facts.push(
        Object.entries(s.ml)
          .map(([k, v]) => {
            const [words, unit] = ML_WORDS[k] ?? [k, 'number'];
            return `${words} ${unit === 'share' ? fmtPct(v) : unit === 'count' ? fmtInt(v) : fmtNum(v)}`;
          })
          .join(', '),
      );
    if (s.fields.length > 0)
      view.tables.push({
        title: 'Fields (primary vs candidate, against primary vs secondary noise)',
        head: ['field', 'differs', 'noise', 'relative', 'absolute', 'reported'],
        rows: s.fields.map((f) => [
          f.path,
          fmtPct(f.rawRate),
          fmtPct(f.noiseRate),
          fmtNum(f.relative),
          fmtNum(f.absolute),
          f.reported ? 'yes' : 'no (noise)',
        ]),
      });
    if (s.correctness) {
      view.tables.push({ title: 'Correctness (same inputs)', head: TEST_HEAD, rows: [testRow(s.correctness)] });
      view.tests.push({ name: 'correctness', outcome: s.correctness.outcome, text: testText(s.correctness) });
    }
  }
  view.tables.push(variantsTable(cmp, sc));
  return view;
}

/** Verdict ranks of `comparison.verdict` thresholds back to words (see VERDICT_RANK in plan/thresholds.ts). */
export const VERDICT_NAMES = ['fail', 'inconclusive', 'marginal', 'pass'] as const;
