/**
 * Presentation of a baseline comparison: the comparison.json document (the decision of
 * compare-core.ts plus run references and chart series), writing it, and the terminal table.
 * The report sections (HTML, Markdown, JUnit) format its metrics with the helpers here.
 */
import { join } from 'node:path';
import { jsonFileText, writeFileAtomic } from '../core/results-files.js';
import type { IntervalRecord } from '../core/results.js';
import { redact } from '../plan/index.js';
import { comparisonExitCode, decideComparison, decodeWindowHdr, sumValues } from './compare-core.js';
import type {
  CompareOptions,
  ComparisonMetric,
  MetricComparison,
  MetricVerdict,
  ScenarioDecision,
  Tolerance,
} from './compare-core.js';
import { fmtMs, fmtNum, fmtP, fmtPct, fmtRate, fmtSignedPct, fmtSignedPp } from './format.js';
import { mergeSparse, percentileSpectrum } from './hdr.js';
import type { SparseHistogram } from './hdr.js';
import { loadResultsSync, scenarioIntervals } from './load.js';
import type { LoadedResults } from './load.js';
import { partialWindowTest } from './windows.js';

/** Per-window series and the latency spectrum of one side, for overlaid charts. */
export interface RunSeries {
  t: number[];
  latency_p50: Array<number | null>;
  latency_p99: Array<number | null>;
  service_time_p50: Array<number | null>;
  service_time_p99: Array<number | null>;
  /** Per window; null for a partial window (too short for a rate, see windows.ts). */
  throughput: Array<number | null>;
  error_rate: Array<number | null>;
  /** Percentile spectrum of the whole-run latency: x = 1/(1−p), ms. */
  spectrum: { x: number[]; ms: number[] } | null;
}

export interface ScenarioComparison extends ScenarioDecision {
  series: { baseline: RunSeries; candidate: RunSeries };
}

export interface RunRef {
  dir: string;
  plan: string;
  startedAt: string;
  verdict: string;
  version: string;
}

export interface Comparison {
  format: 'preflight-comparison/1';
  baseline: RunRef;
  candidate: RunRef;
  alpha: number;
  confidence: number;
  resamples: number;
  seed: number;
  tolerances: Tolerance[];
  scenarios: ScenarioComparison[];
  /** regression > inconclusive > improved > unchanged over all metrics. */
  verdict: MetricVerdict;
  /** ExitCode.Regression (6) on regression, else 0. */
  exitCode: number;
  warnings: string[];
}

const METRIC_LABEL: Record<ComparisonMetric, string> = {
  'latency.p50': 'latency p50',
  'latency.p99': 'latency p99',
  'service_time.p50': 'service time p50',
  'service_time.p99': 'service time p99',
  throughput: 'throughput',
  error_rate: 'error rate',
  accuracy: 'accuracy',
};

export function metricLabel(m: ComparisonMetric): string {
  return METRIC_LABEL[m] ?? m;
}

/** Compare two results folders (baseline first). Reads both synchronously. */
export function compareRuns(
  baselineDir: string,
  candidateDir: string,
  tolerances: readonly Tolerance[] = [],
  opts: CompareOptions = {},
): Comparison {
  return compareResults(loadResultsSync(baselineDir), loadResultsSync(candidateDir), tolerances, opts);
}

function ref(r: LoadedResults): RunRef {
  return {
    dir: r.dir,
    plan: r.summary.plan ?? '',
    startedAt: r.summary.startedAt ?? '',
    verdict: r.summary.verdict ?? '',
    version: r.summary.tool?.version ?? '',
  };
}

/** Compare loaded results (baseline first) into the comparison.json document. Deterministic for a given seed. */
export function compareResults(
  baseline: LoadedResults,
  candidate: LoadedResults,
  tolerances: readonly Tolerance[] = [],
  opts: CompareOptions = {},
): Comparison {
  const d = decideComparison(baseline, candidate, tolerances, opts);
  const scenarios = d.scenarios.map((s): ScenarioComparison => {
    const series = (r: LoadedResults): RunSeries => {
      const recs = scenarioIntervals(r.intervals, s.scenario);
      // The decision decoded these too; decoding latency again costs 7–18 ms for 240 windows (of 350–700 ms).
      return runSeries(
        recs,
        recs.map((w) => decodeWindowHdr(w.hdr?.latency)),
      );
    };
    return { ...s, series: { baseline: series(baseline), candidate: series(candidate) } };
  });
  // Key order is comparison.json's.
  return {
    format: 'preflight-comparison/1',
    baseline: ref(baseline),
    candidate: ref(candidate),
    alpha: d.alpha,
    confidence: d.confidence,
    resamples: d.resamples,
    seed: d.seed,
    tolerances: d.tolerances,
    scenarios,
    verdict: d.verdict,
    exitCode: comparisonExitCode(d.verdict),
    warnings: d.warnings,
  };
}

/**
 * Write DIR/comparison.json atomically (the HTML report and summary.md pick it up). Returns the path.
 * Redacted like every results file: the compared folders may come from elsewhere (another version,
 * another machine), so the plan's secrets (and URL credentials) are taken out of the text here too.
 */
export async function writeComparison(
  dir: string,
  comparison: Comparison,
  secrets: readonly string[] = [],
): Promise<string> {
  const p = join(dir, 'comparison.json');
  await writeFileAtomic(p, redact(jsonFileText(comparison), secrets));
  return p;
}

function runSeries(records: readonly IntervalRecord[], latencyHdr: Array<SparseHistogram | null>): RunSeries {
  const r3 = (v: number | null | undefined): number | null =>
    v === null || v === undefined || !Number.isFinite(v) ? null : Number(v.toPrecision(4));
  const present = latencyHdr.filter((h): h is SparseHistogram => h !== null && h.total > 0);
  let spectrum: RunSeries['spectrum'] = null;
  const partial = partialWindowTest(records);
  if (present.length > 0) {
    const s = percentileSpectrum(mergeSparse(present), 80);
    spectrum = { x: s.x, ms: s.ms.map((v) => Number(v.toPrecision(4))) };
  }
  return {
    t: records.map((r) => r.start_s),
    latency_p50: records.map((r) => r3(r.latency_ms?.p50)),
    latency_p99: records.map((r) => r3(r.latency_ms?.p99)),
    service_time_p50: records.map((r) => r3(r.service_time_ms?.p50)),
    service_time_p99: records.map((r) => r3(r.service_time_ms?.p99)),
    throughput: records.map((r) => (partial(r) ? null : (r3(r.throughput) ?? 0))),
    error_rate: records.map((r) => (r.requests > 0 ? r3(sumValues(r.errors) / r.requests) : null)),
    spectrum,
  };
}

// ───────────────────────────── text ─────────────────────────────

export interface TextOptions {
  /** ANSI colours; default: stdout is a TTY and NO_COLOR is unset. */
  color?: boolean;
}

const VERDICT_MARK: Record<MetricVerdict, string> = {
  regression: '✗',
  improved: '✓',
  unchanged: '=',
  inconclusive: '?',
};

/** Value in the metric's unit for tables. */
export function fmtComparisonValue(m: MetricComparison, v: number | null): string {
  if (m.unit === 'ms') return fmtMs(v);
  if (m.unit === 'per_s') return fmtRate(v);
  return fmtPct(v);
}

/** "▲ +12.3%" / "▼ −0.4 pp" / "= ±0%". */
export function fmtChange(m: MetricComparison): string {
  if (m.diff === null) return '–';
  const text = m.unit === 'fraction' ? fmtSignedPp(m.diff) : fmtSignedPct(m.changePct);
  const arrow = text.startsWith('+') ? '▲' : text.startsWith('−') ? '▼' : '=';
  return `${arrow} ${text}`;
}

/** CI of the difference, in the metric's unit: "[+1.2, +3.4] ms". */
export function fmtCi(m: MetricComparison): string {
  if (!m.ci || !Number.isFinite(m.ci.low) || !Number.isFinite(m.ci.high)) return '–';
  const s = (v: number): string =>
    `${v > 0 ? '+' : v < 0 ? '−' : ''}${fmtNum(Math.abs(m.unit === 'fraction' ? v * 100 : v))}`;
  const unit = m.unit === 'ms' ? ' ms' : m.unit === 'per_s' ? ' /s' : ' pp';
  return `[${s(m.ci.low)}, ${s(m.ci.high)}]${unit}`;
}

export function fmtTolerance(m: MetricComparison): string {
  if (m.tolerance.pp !== undefined) return `${fmtNum(m.tolerance.pp)} pp`;
  if (m.tolerance.pct !== undefined) return `${fmtNum(m.tolerance.pct)}%`;
  return '–';
}

/** Display width of a string (treats every code point as one column; our marks are narrow). */
function width(s: string): number {
  return [...s.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

function pad(s: string, w: number, right = false): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return right ? fill + s : s + fill;
}

/** Aligned plain-text table for the terminal. */
export function formatComparisonText(c: Comparison, opts: TextOptions = {}): string {
  const color = opts.color ?? (Boolean(process.stdout.isTTY) && !process.env.NO_COLOR);
  const paint = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const verdictColor: Record<MetricVerdict, string> = {
    regression: '31;1',
    improved: '32',
    unchanged: '2',
    inconclusive: '33',
  };
  const header = [
    'scenario',
    'metric',
    'baseline',
    'candidate',
    'change',
    'p',
    `${Math.round(c.confidence * 100)}% CI of diff`,
    'tolerance',
    'verdict',
  ];
  const rows: string[][] = [];
  const verdicts: MetricVerdict[] = [];
  for (const s of c.scenarios) {
    s.metrics.forEach((m, i) => {
      rows.push([
        i === 0 ? s.scenario : '',
        metricLabel(m.metric),
        fmtComparisonValue(m, m.baseline),
        fmtComparisonValue(m, m.candidate),
        fmtChange(m),
        fmtP(m.pValue),
        fmtCi(m),
        fmtTolerance(m),
        `${VERDICT_MARK[m.verdict]} ${m.verdict}`,
      ]);
      verdicts.push(m.verdict);
    });
  }
  const right = new Set([2, 3, 4, 5, 7]);
  const widths = header.map((h, k) => Math.max(width(h), ...rows.map((r) => width(r[k]))));
  const line = (cells: string[]): string =>
    cells
      .map((cell, k) => pad(cell, widths[k], right.has(k)))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  const title = `Compared with baseline ${c.baseline.dir} (${c.baseline.startedAt || 'unknown time'}): ${c.verdict.toUpperCase()}`;
  out.push(paint(verdictColor[c.verdict], title));
  out.push(paint('1', line(header)));
  rows.forEach((r, i) => {
    const v = verdicts[i];
    const cells = r.map((cell, k) =>
      k === 8 || (k === 4 && (v === 'regression' || v === 'improved'))
        ? paint(verdictColor[v], pad(cell, widths[k], right.has(k)))
        : pad(cell, widths[k], right.has(k)),
    );
    out.push(cells.join('  ').trimEnd());
  });
  for (const w of c.warnings) out.push(paint('33', `warning: ${w}`));
  const reg = c.scenarios.flatMap((s) =>
    s.metrics
      .filter((m) => m.verdict === 'regression')
      .map((m) => `${s.scenario} ${metricLabel(m.metric)}: ${m.reason}`),
  );
  for (const r of reg) out.push(paint('31', `regression: ${r}`));
  out.push(
    `(${Math.round(c.confidence * 100)}% CIs: moving-block bootstrap, ${c.resamples} resamples, seed ${c.seed}; significant at p < ${c.alpha})`,
  );
  return `${out.join('\n')}\n`;
}
