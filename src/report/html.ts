/**
 * The HTML report: one self-contained file (uPlot and its CSS inlined, data embedded as JSON, a
 * Content-Security-Policy that forbids any network access). Verdict first, then thresholds,
 * warnings, comparison, scenarios with charts, profiles, plan and machine.
 */
import { CHECK_HEAD, checkRows, findingLines } from './checks.js';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../core/results-files.js';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PreflightError } from '../core/errors.js';
import type { DurationStats, IntervalRecord, ScenarioSummary, Summary, ThresholdResult } from '../core/results.js';
import type { ChartMark, ChartSeries, ChartSpec, ReportData } from './chart-spec.js';
import type { MetricVerdict } from './compare-core.js';
import type { Comparison, RunSeries } from './compare.js';
import { fmtChange, fmtCi, fmtComparisonValue, fmtTolerance, metricLabel } from './compare.js';
import {
  HTTP_CLIENT_NAME,
  fmtDuration,
  fmtInt,
  fmtMetricValue,
  fmtMs,
  fmtNum,
  fmtP,
  fmtPct,
  fmtRate,
  scoresAccuracy,
  windowsOverLimitText,
} from './format.js';
import { releaseView } from './release-view.js';
import { decodeSparse, mergeSparse, sparseQuantile } from './hdr.js';
import type { SparseHistogram } from './hdr.js';
import { preflightClient } from './html-client.js';
import { loadResults, scenarioIntervals } from './load.js';
import type { LoadedResults } from './load.js';
import { collectMarks, describeProfiles, runWarnings } from './profiles.js';
import { addTimeline, timelineSection } from './timeline.js';
import { partialWindowTest } from './windows.js';
import {
  ALERT_HEAD,
  alertmanagerLines,
  alertRows,
  fmtTargetThreshold,
  TARGET_HEAD,
  targetChartSpecs,
  targetRows,
} from './target-metrics.js';
import { COST_HEAD, costFacts, costRows } from './cost.js';
import type { ProfileView } from './profiles.js';

// ───────────────────────────── assets ─────────────────────────────

export interface ReportAssets {
  js: string;
  css: string;
}

let cachedAssets: ReportAssets | null = null;

/** uPlot's minified IIFE and CSS, read from node_modules. */
export function loadAssets(): ReportAssets {
  if (cachedAssets) return cachedAssets;
  const require = createRequire(import.meta.url);
  try {
    const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
    const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
    cachedAssets = { js, css };
    return cachedAssets;
  } catch (err) {
    throw new PreflightError(
      'E_INTERNAL',
      `cannot read the chart library (uplot) for the HTML report: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

// ───────────────────────────── helpers ─────────────────────────────

export function esc(s: unknown): string {
  return String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** JSON safe inside <script>: no "</script>", no "<!--". */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

const COLORS = {
  p50: '#2563eb',
  p90: '#d97706',
  p99: '#dc2626',
  throughput: '#0d9488',
  target: '#6b7280',
  inflight: '#7c3aed',
  vus: '#9ca3af',
  accuracy: '#16a34a',
  latency: '#2563eb',
  service: '#0d9488',
  baseline: '#9ca3af',
};

const ERROR_COLORS: Record<string, string> = {
  timeout: '#f59e0b',
  http_5xx: '#dc2626',
  http_4xx: '#f97316',
  connection_refused: '#7c3aed',
  connection_reset: '#a855f7',
  invalid_response: '#db2777',
  check_failed: '#be123c',
  tls: '#0891b2',
  dns: '#0284c7',
  other: '#6b7280',
};
const EXTRA_COLORS = ['#65a30d', '#0ea5e9', '#e11d48', '#78716c', '#c026d3', '#ca8a04'];
const CURVE_COLORS = ['#2563eb', '#dc2626', '#0d9488', '#d97706', '#7c3aed', '#db2777'];

function round4(v: number | null | undefined): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  return Number(v.toPrecision(4));
}

function fmtDate(iso: string | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return esc(iso);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

const CORE_HIST = new Set(['latency', 'service_time', 'ttfb', 'dispatch_lag']);

// ───────────────────────────── charts ─────────────────────────────

class Charts {
  readonly specs: ChartSpec[] = [];
  private n = 0;

  add(spec: Omit<ChartSpec, 'id'>, cls = '', note = ''): string {
    const id = `chart-${++this.n}`;
    this.specs.push({ id, ...spec });
    return `<figure class="chart-box${cls ? ` ${cls}` : ''}"><figcaption>${esc(spec.title)}</figcaption><div class="chart" id="${id}" data-chart="${esc(spec.title)}"></div>${note ? `<p class="legend-note chart-note">${esc(note)}</p>` : ''}</figure>`;
  }
}

function timeSeriesCharts(charts: Charts, recs: IntervalRecord[], marks: ChartMark[], accuracy = true): string {
  if (recs.length === 0) return '<p class="muted">No per-window records (intervals.ndjson) for this scenario.</p>';
  const xs = recs.map((r) => r.start_s);
  const parts: string[] = [];
  const pick = (key: 'latency_ms' | 'service_time_ms', p: 'p50' | 'p90' | 'p99'): Array<number | null> =>
    recs.map((r) => round4(r[key]?.[p]));
  parts.push(
    charts.add({
      title: 'Latency percentiles over time',
      x: { label: 'time (s)', kind: 'time' },
      y: { label: 'ms', unit: 'ms', min: 0 },
      xs,
      series: [
        { label: 'latency p50', values: pick('latency_ms', 'p50'), color: COLORS.p50, width: 2 },
        { label: 'latency p90', values: pick('latency_ms', 'p90'), color: COLORS.p90, width: 2 },
        { label: 'latency p99', values: pick('latency_ms', 'p99'), color: COLORS.p99, width: 2 },
        { label: 'service p50', values: pick('service_time_ms', 'p50'), color: COLORS.p50, dash: true, width: 1.3 },
        { label: 'service p90', values: pick('service_time_ms', 'p90'), color: COLORS.p90, dash: true, width: 1.3 },
        { label: 'service p99', values: pick('service_time_ms', 'p99'), color: COLORS.p99, dash: true, width: 1.3 },
      ],
      marks,
    }),
  );
  // Partial windows (the run's last, cut at its end) are not drawn as rates or accuracy: a few
  // requests in a few ms read as a spike (see windows.ts). Counts (errors, in flight) still are.
  const partial = partialWindowTest(recs);
  const partialRecs = recs.filter(partial);
  const partialNote = partialRecs.length
    ? `Not drawn: ${partialRecs.map((r) => `the partial window at ${fmtNum(r.start_s)} s (${fmtMs(r.duration_s * 1000)}, ${fmtInt(r.requests)} requests)`).join('; ')} — too short for a rate.`
    : '';
  const full = <T>(r: IntervalRecord, v: T): T | null => (partial(r) ? null : v);
  const hasTarget = recs.some((r) => r.target_rate !== undefined && r.target_rate !== null);
  const thr: ChartSeries[] = [
    { label: 'achieved', values: recs.map((r) => full(r, round4(r.throughput))), color: COLORS.throughput, width: 2 },
  ];
  if (hasTarget)
    thr.push({
      label: 'target',
      values: recs.map((r) => full(r, round4(r.target_rate))),
      color: COLORS.target,
      dash: true,
    });
  parts.push(
    charts.add(
      {
        title: 'Throughput: achieved vs target',
        x: { label: 'time (s)', kind: 'time' },
        y: { label: 'requests/s', unit: '/s', min: 0 },
        xs,
        series: thr,
        marks,
      },
      '',
      partialNote,
    ),
  );
  const classes = [...new Set(recs.flatMap((r) => Object.keys(r.errors ?? {})))].sort();
  if (classes.length > 0) {
    let extra = 0;
    parts.push(
      charts.add({
        title: 'Errors by class (per window)',
        x: { label: 'time (s)', kind: 'time' },
        y: { label: 'errors', unit: '', min: 0 },
        xs,
        stacked: true,
        series: classes.map((c) => ({
          label: c,
          values: recs.map((r) => r.errors?.[c] ?? 0),
          color: ERROR_COLORS[c] ?? EXTRA_COLORS[extra++ % EXTRA_COLORS.length],
        })),
        marks,
      }),
    );
  } else {
    parts.push(
      `<figure class="chart-box empty"><figcaption>Errors by class</figcaption><div class="no-errors">✓ No failed requests</div></figure>`,
    );
  }
  const inflight: ChartSeries[] = [
    { label: 'in flight', values: recs.map((r) => r.in_flight ?? null), color: COLORS.inflight, width: 2 },
  ];
  if (recs.some((r) => r.vus !== undefined))
    inflight.push({ label: 'VUs', values: recs.map((r) => r.vus ?? null), color: COLORS.vus, dash: true });
  parts.push(
    charts.add({
      title: 'Requests in flight',
      x: { label: 'time (s)', kind: 'time' },
      y: { label: 'requests', unit: '', min: 0 },
      xs,
      series: inflight,
      marks,
    }),
  );
  if (accuracy && recs.some((r) => (r.counters?.['quality.scored'] ?? 0) > 0)) {
    parts.push(
      charts.add(
        {
          title: 'Accuracy per window (quality.correct / quality.scored)',
          x: { label: 'time (s)', kind: 'time' },
          y: { label: 'accuracy', unit: '%' },
          xs,
          series: [
            {
              label: 'accuracy',
              values: recs.map((r) => {
                const s = r.counters?.['quality.scored'] ?? 0;
                return s > 0 && !partial(r) ? round4(((r.counters?.['quality.correct'] ?? 0) / s) * 100) : null;
              }),
              color: COLORS.accuracy,
              width: 2,
            },
          ],
          marks,
        },
        '',
        partialNote,
      ),
    );
  }
  const histNames = [...new Set(recs.flatMap((r) => Object.keys(r.histograms_ms ?? {})))]
    .filter((h) => !CORE_HIST.has(h.replace(/_ms$/, '')))
    .sort(histOrder);
  for (const h of histNames) {
    const label = histLabel(h);
    const short = h.replace(/_ms$/, '').toUpperCase();
    parts.push(
      charts.add({
        title: `${label} percentiles over time`,
        x: { label: 'time (s)', kind: 'time' },
        y: { label: 'ms', unit: 'ms', min: 0 },
        xs,
        series: (['p50', 'p90', 'p99'] as const).map((p) => ({
          label: `${short} ${p}`,
          values: recs.map((r) => round4(r.histograms_ms?.[h]?.[p])),
          color: COLORS[p],
          width: 2,
        })),
        marks,
      }),
    );
  }
  return parts.join('\n');
}

function histOrder(a: string, b: string): number {
  const rank = (s: string): number => (/^ttft/.test(s) ? 0 : /^itl/.test(s) ? 1 : /^tpot/.test(s) ? 2 : 3);
  return rank(a) - rank(b) || a.localeCompare(b);
}

function histLabel(h: string): string {
  const base = h.replace(/_ms$/, '');
  const known: Record<string, string> = {
    ttft: 'TTFT (time to first token)',
    itl: 'ITL (inter-token latency)',
    tpot: 'TPOT (time per output token)',
  };
  return known[base] ?? base.replace(/_/g, ' ');
}

/** Percentile spectrum points on a shared x grid (x = 1/(1−p)), ms; null beyond a histogram's last sample. */
function spectrumOn(xs: number[], h: SparseHistogram): Array<number | null> {
  return xs.map((x) => (x <= Math.max(2, h.total) ? round4(sparseQuantile(h, 1 - 1 / x) / 1000) : null));
}

function spectrumGrid(maxN: number, points = 100): number[] {
  const xMax = Math.max(2, maxN);
  const s = new Set<number>([1, 2]);
  for (let k = 0; k < points; k++) s.add(Number((xMax ** (k / (points - 1))).toPrecision(4)));
  for (let d = 10; d <= xMax; d *= 10) s.add(d);
  return [...s].filter((x) => x >= 1 && x <= xMax).sort((a, b) => a - b);
}

function decodeAll(recs: IntervalRecord[], key: string): SparseHistogram | null {
  const list: SparseHistogram[] = [];
  for (const r of recs) {
    const b64 = r.hdr?.[key];
    if (!b64) continue;
    try {
      list.push(decodeSparse(b64));
    } catch {
      /* a corrupt window is skipped */
    }
  }
  if (list.length === 0) return null;
  const m = mergeSparse(list);
  return m.total > 0 ? m : null;
}

function distributionChart(charts: Charts, recs: IntervalRecord[]): string {
  const lat = decodeAll(recs, 'latency');
  const svc = decodeAll(recs, 'service_time');
  if (!lat && !svc) return '';
  const xs = spectrumGrid(Math.max(lat?.total ?? 0, svc?.total ?? 0));
  const series: ChartSeries[] = [];
  if (lat) series.push({ label: 'latency', values: spectrumOn(xs, lat), color: COLORS.latency, width: 2 });
  if (svc)
    series.push({ label: 'service time', values: spectrumOn(xs, svc), color: COLORS.service, width: 2, dash: true });
  return charts.add(
    {
      title: 'Latency distribution (percentile spectrum, whole run)',
      x: { label: 'percentile (log scale of 1/(1−p))', kind: 'percentile' },
      y: { label: 'ms', unit: 'ms', min: 0 },
      xs,
      series,
    },
    'wide',
  );
}

// ───────────────────────────── sections ─────────────────────────────

const VERDICT_TEXT: Record<string, { mark: string; title: string; cls: string }> = {
  passed: { mark: '✓', title: 'Passed', cls: 'pass' },
  failed: { mark: '✗', title: 'Failed', cls: 'fail' },
  invalid: { mark: '!', title: 'Invalid run', cls: 'warn' },
  interrupted: { mark: '■', title: 'Interrupted', cls: 'warn' },
};

function verdictBanner(s: Summary, comparison?: Comparison): string {
  const v = VERDICT_TEXT[s.verdict] ?? { mark: '?', title: s.verdict ?? 'unknown', cls: 'warn' };
  const th = s.thresholds ?? [];
  const failed = th.filter((t) => !t.ok).length;
  let detail: string;
  if (s.verdict === 'invalid' && !s.generator?.overloaded)
    detail = 'The run is invalid: the numbers below cannot be trusted (see the warnings).';
  else if (s.verdict === 'invalid')
    detail = `The load generator was overloaded: the numbers below cannot be trusted.${s.generator?.reasons?.length ? ` (${s.generator.reasons.map(esc).join('; ')})` : ''}`;
  else if (s.verdict === 'interrupted') detail = 'The run was interrupted; results are partial.';
  else if (th.length === 0) detail = 'No thresholds were set.';
  else if (failed === 0) detail = `All ${th.length} threshold${th.length === 1 ? '' : 's'} held.`;
  else detail = `${failed} of ${th.length} threshold${th.length === 1 ? '' : 's'} failed.`;
  let cmp = '';
  if (comparison) {
    const c = CMP_BADGE[comparison.verdict];
    const regressions = comparison.scenarios.flatMap((sc) =>
      sc.metrics
        .filter((m) => m.verdict === 'regression')
        .map((m) => `${sc.scenario} ${metricLabel(m.metric)} ${fmtChange(m)}`),
    );
    cmp = `<div class="cmp-line"><span class="badge ${c.cls}">${c.mark} ${esc(comparison.verdict)}</span> vs baseline <code>${esc(comparison.baseline.dir)}</code>${
      regressions.length ? `: ${regressions.map(esc).join(', ')}` : ''
    } <a href="#comparison">details</a></div>`;
  }
  return `<section class="verdict ${v.cls}" id="verdict">
  <div class="verdict-mark" aria-hidden="true">${v.mark}</div>
  <div class="verdict-body">
    <div class="verdict-title">${esc(v.title)}</div>
    <div class="verdict-detail">${detail}</div>
    ${cmp}
  </div>
  <div class="verdict-exit">exit code <b>${esc(s.exitCode ?? '–')}</b></div>
</section>`;
}

function thresholdTable(th: ThresholdResult[], s: Pick<Summary, 'target_metrics'>): string {
  if (!th || th.length === 0) return '';
  const rows = th
    .map(
      (t) =>
        `<tr class="${t.ok ? 'ok' : 'bad'}"><td class="mark">${t.ok ? '<span class="ok-mark">✓</span>' : '<span class="bad-mark">✗</span>'}</td><td><code>${esc(t.expression)}</code></td><td>${esc(t.scenario ?? 'all scenarios')}</td><td class="num">${
          t.value === null
            ? '<span class="muted">no data</span>'
            : esc(fmtTargetThreshold(s, t.expression, t.value) ?? fmtMetricValue(t.expression, t.value))
        }</td><td>${t.ok ? 'pass' : 'fail'}${t.note ? ` <span class="muted">(${esc(t.note)})</span>` : ''}</td></tr>`,
    )
    .join('\n');
  return `<section id="thresholds"><h2>Thresholds</h2>
<table class="data thresholds"><thead><tr><th></th><th>Threshold</th><th>Scenario</th><th class="num">Measured</th><th>Result</th></tr></thead><tbody>
${rows}
</tbody></table></section>`;
}

function warningsSection(warnings: string[]): string {
  if (warnings.length === 0) return '';
  return `<section id="warnings" class="warnings"><h2>Warnings</h2><ul>${warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`;
}

function overviewTable(s: Summary): string {
  const names = Object.keys(s.scenarios ?? {});
  if (names.length < 2) return '';
  const row = (label: string, sc: ScenarioSummary, cls = ''): string =>
    `<tr class="${cls}"><td>${label}</td><td class="num">${fmtInt(sc.requests)}</td><td class="num">${esc(fmtRate(sc.throughput))}</td><td class="num">${esc(fmtPct(sc.error_rate))}</td><td class="num">${esc(fmtMs(sc.latency_ms?.p50))}</td><td class="num">${esc(
      fmtMs(sc.latency_ms?.p99),
    )}</td><td class="num">${esc(fmtMs(sc.service_time_ms?.p99))}</td></tr>`;
  return `<section id="overview"><h2>Overview</h2><table class="data"><thead><tr><th>Scenario</th><th class="num">Requests</th><th class="num">Throughput</th><th class="num">Error rate</th><th class="num">Latency p50</th><th class="num">Latency p99</th><th class="num">Service p99</th></tr></thead><tbody>
${names.map((n) => row(`<a href="#scenario-${esc(slug(n))}">${esc(n)}</a>`, s.scenarios[n])).join('\n')}
${s.total ? row('<b>All scenarios</b>', s.total, 'total') : ''}
</tbody></table></section>`;
}

function slug(s: string): string {
  return s.replace(/[^a-zA-Z0-9_-]+/g, '-');
}

function card(label: string, value: string, sub = '', cls = ''): string {
  return `<div class="card ${cls}"><div class="card-label">${esc(label)}</div><div class="card-value">${esc(value)}</div>${sub ? `<div class="card-sub">${esc(sub)}</div>` : ''}</div>`;
}

function durationRow(label: string, hint: string, d: DurationStats | undefined, cls = ''): string {
  if (!d || !d.count) return '';
  return `<tr class="${cls}"><th scope="row">${esc(label)}<div class="hint">${esc(hint)}</div></th>${[d.p50, d.p90, d.p99, d.p999, d.max, d.mean].map((v) => `<td class="num">${esc(fmtMs(v))}</td>`).join('')}</tr>`;
}

/**
 * How alarming the late / unsent figures are — by the rule of the run's warnings (run.ts): any
 * unsent arrival, or late sends above 1% of those sent, is significant (red); fewer late sends are
 * normal (JIT warm-up, a GC pause) and stay uncoloured; cancelled ones alone are not the target's fault.
 */
export function lateSignificance(sc: Pick<ScenarioSummary, 'late' | 'unsent' | 'requests' | 'cancelled'>): {
  cls: '' | 'bad-soft';
  note: string;
} {
  const sent = (sc.requests ?? 0) + (sc.cancelled ?? 0);
  const share = sent > 0 ? (sc.late ?? 0) / sent : 0;
  if ((sc.unsent ?? 0) > 0) return { cls: 'bad-soft', note: 'arrivals never sent' };
  if (share > 0.01) return { cls: 'bad-soft', note: `${fmtPct(share)} of sends late` };
  return { cls: '', note: sc.late ? `${fmtPct(share)} late: within 1%` : 'arrivals' };
}

function scenarioSection(
  charts: Charts,
  name: string,
  sc: ScenarioSummary,
  recs: IntervalRecord[],
  marks: ChartMark[],
): string {
  const errTotal = Object.values(sc.errors ?? {}).reduce((a, b) => a + b, 0);
  const cards: string[] = [];
  cards.push(card('Requests', fmtInt(sc.requests), `${fmtInt(sc.ok)} ok · ${fmtInt(errTotal)} failed`));
  const served =
    sc.ok_throughput !== undefined && sc.ok_throughput !== sc.throughput ? `ok ${fmtRate(sc.ok_throughput)} · ` : '';
  cards.push(
    card(
      'Throughput',
      fmtRate(sc.throughput),
      `${served}${sc.target_rate !== undefined ? `target ${fmtRate(sc.target_rate)}` : `${fmtDuration(sc.durationS)} active`}`,
    ),
  );
  cards.push(
    card(
      'Error rate',
      fmtPct(sc.error_rate),
      errTotal > 0 ? topErrors(sc.errors) : 'no failures',
      sc.error_rate > 0 ? 'bad-soft' : 'good-soft',
    ),
  );
  const scored = sc.counters?.['quality.scored'];
  if (scored && scoresAccuracy(sc)) {
    const correct = sc.counters['quality.correct'] ?? 0;
    cards.push(card('Accuracy', fmtPct(correct / scored), `${fmtInt(correct)} / ${fmtInt(scored)} scored`));
  }
  cards.push(card('Latency p99', fmtMs(sc.latency_ms?.p99), `service time p99 ${fmtMs(sc.service_time_ms?.p99)}`));
  if (sc.late || sc.unsent || sc.cancelled) {
    const l = lateSignificance(sc);
    const sub = [l.note, sc.cancelled ? `${fmtInt(sc.cancelled as number)} cancelled` : ''].filter(Boolean).join(' · ');
    cards.push(card('Late / unsent', `${fmtInt(sc.late)} / ${fmtInt(sc.unsent)}`, sub, l.cls));
  }
  const extraRows = Object.entries(sc.histograms ?? {})
    .sort(([a], [b]) => histOrder(a, b))
    .map(([k, d]) => durationRow(histLabel(k), 'recorded by the protocol', d, 'extra'))
    .join('');
  const table = `<table class="data latency"><thead><tr><th></th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th><th class="num">mean</th></tr></thead><tbody>
${durationRow('Latency', 'from the intended start (includes queueing and scheduling delay)', sc.latency_ms, 'primary')}
${durationRow('Service time', 'from the actual send', sc.service_time_ms)}
${durationRow('Time to first byte', 'from the actual send', sc.ttfb_ms)}
${durationRow('Dispatch lag', 'send − intended start', sc.dispatch_lag_ms)}
${extraRows}
</tbody></table>`;
  const errorsTable =
    errTotal > 0
      ? `<table class="data compact"><thead><tr><th>Error class</th><th class="num">Count</th><th class="num">Share of requests</th></tr></thead><tbody>${Object.entries(
          sc.errors,
        )
          .sort(([, a], [, b]) => b - a)
          .map(
            ([k, v]) =>
              `<tr><td><span class="swatch" style="background:${ERROR_COLORS[k] ?? '#6b7280'}"></span>${esc(k)}${(sc.error_reasons?.[k] ?? []).map((w) => `<div class="hint">${esc(w)}</div>`).join('')}</td><td class="num">${fmtInt(v)}</td><td class="num">${esc(fmtPct(sc.requests ? v / sc.requests : null))}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  const groups = sc.groups && Object.keys(sc.groups).length > 0 ? groupsTable(sc.groups) : '';
  const counters = Object.keys(sc.counters ?? {}).length
    ? `<details class="counters"><summary>Counters (${Object.keys(sc.counters).length})</summary><table class="data compact"><tbody>${Object.entries(
        sc.counters,
      )
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `<tr><td><code>${esc(k)}</code></td><td class="num">${fmtInt(v)}</td></tr>`)
        .join('')}</tbody></table></details>`
    : '';
  const model =
    sc.model === 'open'
      ? 'open model: latency counts from each request’s intended start'
      : 'closed model: intended start = actual send';
  return `<section class="scenario" id="scenario-${esc(slug(name))}">
<h2>${esc(name)} <span class="tags"><span class="tag">${esc(sc.executor)}</span><span class="tag">${esc(sc.protocol)}</span><span class="tag" title="${esc(model)}">${esc(sc.model)} model</span></span></h2>
<div class="cards">${cards.join('')}</div>
<div class="two">
<div>${table}<p class="legend-note"><b>Latency</b> counts from when the request <i>should</i> have started, so it includes time spent waiting behind a slow server (no coordinated omission). <b>Service time</b> counts from the actual send. A gap between them means requests queued.</p></div>
<div>${errorsTable}${counters}</div>
</div>
${groups}
<div class="grid">
${timeSeriesCharts(charts, recs, marks, scoresAccuracy(sc))}
${distributionChart(charts, recs)}
</div>
</section>`;
}

function topErrors(errors: Record<string, number>): string {
  return Object.entries(errors)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 2)
    .map(([k, v]) => `${k} ${fmtInt(v)}`)
    .join(' · ');
}

function groupsTable(groups: Record<string, ScenarioSummary>): string {
  return `<h3>Groups</h3><table class="data compact"><thead><tr><th>Group</th><th class="num">Requests</th><th class="num">Throughput</th><th class="num">Error rate</th><th class="num">Latency p50</th><th class="num">p99</th></tr></thead><tbody>${Object.entries(
    groups,
  )
    .map(
      ([g, s]) =>
        `<tr><td>${esc(g)}</td><td class="num">${fmtInt(s.requests)}</td><td class="num">${esc(fmtRate(s.throughput))}</td><td class="num">${esc(fmtPct(s.error_rate))}</td><td class="num">${esc(fmtMs(s.latency_ms?.p50))}</td><td class="num">${esc(fmtMs(s.latency_ms?.p99))}</td></tr>`,
    )
    .join('')}</tbody></table>`;
}

const CMP_BADGE: Record<MetricVerdict, { mark: string; cls: string }> = {
  regression: { mark: '✗', cls: 'fail' },
  improved: { mark: '✓', cls: 'pass' },
  unchanged: { mark: '=', cls: 'neutral' },
  inconclusive: { mark: '?', cls: 'warn' },
};

function mergeGrid(a: number[], b: number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

function onGrid(grid: number[], xs: number[], ys: Array<number | null>): Array<number | null> {
  const m = new Map<number, number | null>();
  xs.forEach((x, i) => m.set(x, ys[i] ?? null));
  return grid.map((x) => (m.has(x) ? (m.get(x) ?? null) : null));
}

function comparisonSection(charts: Charts, c: Comparison): string {
  const badge = CMP_BADGE[c.verdict];
  const rows = c.scenarios
    .flatMap((s) =>
      s.metrics.map((m, i) => {
        const b = CMP_BADGE[m.verdict];
        return `<tr class="v-${m.verdict}"><td>${i === 0 ? esc(s.scenario) : ''}</td><td>${esc(metricLabel(m.metric))}</td><td class="num">${esc(fmtComparisonValue(m, m.baseline))}</td><td class="num">${esc(
          fmtComparisonValue(m, m.candidate),
        )}</td><td class="num change">${esc(fmtChange(m))}</td><td class="num">${esc(fmtP(m.pValue))}</td><td class="num">${esc(fmtCi(m))}</td><td class="num">${esc(fmtTolerance(m))}</td><td><span class="badge ${b.cls}" title="${esc(m.reason)}">${b.mark} ${esc(m.verdict)}</span></td></tr>`;
      }),
    )
    .join('\n');
  const overlays = c.scenarios
    .map((s) => {
      const b = s.series.baseline;
      const k = s.series.candidate;
      const parts: string[] = [];
      const grid = mergeGrid(b.t, k.t);
      const line = (rs: RunSeries, key: keyof RunSeries, xsGrid: number[]): Array<number | null> =>
        onGrid(xsGrid, rs.t, rs[key] as Array<number | null>);
      if (grid.length > 0) {
        parts.push(
          charts.add({
            title: `${s.scenario}: latency p50 / p99, baseline vs candidate`,
            x: { label: 'time (s)', kind: 'time' },
            y: { label: 'ms', unit: 'ms', min: 0 },
            xs: grid,
            series: [
              {
                label: 'baseline p50',
                values: line(b, 'latency_p50', grid),
                color: COLORS.baseline,
                dash: true,
                spanGaps: true,
              },
              {
                label: 'baseline p99',
                values: line(b, 'latency_p99', grid),
                color: '#6b7280',
                dash: true,
                spanGaps: true,
              },
              {
                label: 'candidate p50',
                values: line(k, 'latency_p50', grid),
                color: COLORS.p50,
                width: 2,
                spanGaps: true,
              },
              {
                label: 'candidate p99',
                values: line(k, 'latency_p99', grid),
                color: COLORS.p99,
                width: 2,
                spanGaps: true,
              },
            ],
          }),
        );
        parts.push(
          charts.add({
            title: `${s.scenario}: throughput, baseline vs candidate`,
            x: { label: 'time (s)', kind: 'time' },
            y: { label: 'requests/s', unit: '/s', min: 0 },
            xs: grid,
            series: [
              {
                label: 'baseline',
                values: line(b, 'throughput', grid),
                color: COLORS.baseline,
                dash: true,
                spanGaps: true,
              },
              {
                label: 'candidate',
                values: line(k, 'throughput', grid),
                color: COLORS.throughput,
                width: 2,
                spanGaps: true,
              },
            ],
          }),
        );
      }
      if (b.spectrum && k.spectrum && b.spectrum.x.length > 0 && k.spectrum.x.length > 0) {
        const sg = mergeGrid(b.spectrum.x, k.spectrum.x);
        parts.push(
          charts.add(
            {
              title: `${s.scenario}: latency distribution, baseline vs candidate`,
              x: { label: 'percentile (log scale of 1/(1−p))', kind: 'percentile' },
              y: { label: 'ms', unit: 'ms', min: 0 },
              xs: sg,
              series: [
                {
                  label: 'baseline',
                  values: onGrid(sg, b.spectrum.x, b.spectrum.ms),
                  color: COLORS.baseline,
                  dash: true,
                  spanGaps: true,
                  width: 2,
                },
                {
                  label: 'candidate',
                  values: onGrid(sg, k.spectrum.x, k.spectrum.ms),
                  color: COLORS.latency,
                  spanGaps: true,
                  width: 2,
                },
              ],
            },
            'wide',
          ),
        );
      }
      return parts.join('\n');
    })
    .join('\n');
  return `<section id="comparison" class="comparison"><h2>Compared with baseline <span class="badge big ${badge.cls}">${badge.mark} ${esc(c.verdict)}</span></h2>
<p class="muted">Baseline <code>${esc(c.baseline.dir)}</code> (${fmtDate(c.baseline.startedAt)}, preflight ${esc(c.baseline.version)}) vs this run. Significant at p &lt; ${esc(c.alpha)}; ${esc(
    Math.round(c.confidence * 100),
  )}% intervals of the difference by moving-block bootstrap (${fmtInt(c.resamples)} resamples, seed ${esc(c.seed)}). Hover a verdict for the reason.</p>
${c.warnings.length ? `<ul class="warn-list">${c.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<table class="data cmp"><thead><tr><th>Scenario</th><th>Metric</th><th class="num">Baseline</th><th class="num">Candidate</th><th class="num">Change</th><th class="num">p</th><th class="num">${esc(Math.round(c.confidence * 100))}% CI of diff</th><th class="num">Tolerance</th><th>Verdict</th></tr></thead><tbody>
${rows}
</tbody></table>
<div class="grid">${overlays}</div>
</section>`;
}

/** summary.comparison (A/B, canary, shadow): verdict, reasons, the tests and the variants side by side. */
function releaseSection(s: Summary): string {
  const v = releaseView(s);
  if (!v) return '';
  const cls = v.verdict === 'pass' ? 'pass' : v.verdict === 'fail' ? 'fail' : 'warn';
  const tables = v.tables
    .map(
      (t) =>
        `<h3>${esc(t.title)}</h3><table class="data"><thead><tr>${t.head.map((h, i) => `<th${i > 1 ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows.map((r) => `<tr>${r.map((c, i) => `<td${i > 1 ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
    )
    .join('\n');
  return `<section id="release" class="release"><h2>${esc(v.title)} <span class="badge big ${cls}">${esc(v.verdict)}</span></h2>
<ul>${v.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>
${v.facts.length ? `<p class="note">${v.facts.map(esc).join('<br>')}</p>` : ''}
${tables}
</section>`;
}

function profilesSection(charts: Charts, views: ProfileView[]): string {
  if (views.length === 0) return '';
  const body = views
    .map((v) => {
      const nums = v.numbers.length
        ? `<table class="data compact kv"><tbody>${v.numbers.map(([k, val]) => `<tr><td>${esc(k)}</td><td class="num">${esc(typeof val === 'number' ? fmtMetricValue(k, val) : String(val))}</td></tr>`).join('')}</tbody></table>`
        : '';
      const curves = v.curves
        .map((c) => {
          const xs = [...new Set(c.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
          return charts.add({
            title: c.title,
            x: { label: c.xLabel, kind: 'linear' },
            y: { label: c.yLabel, unit: '' },
            xs,
            series: c.series.map((s, i) => ({
              label: s.name,
              values: onGrid(
                xs,
                s.points.map((p) => p[0]),
                s.points.map((p) => p[1]),
              ),
              color: CURVE_COLORS[i % CURVE_COLORS.length],
              width: 2,
              points: true,
              spanGaps: true,
            })),
          });
        })
        .join('\n');
      return `<div class="profile"><h3>${esc(v.name)}</h3>${v.answer ? `<p class="answer">${esc(v.answer)}</p>` : ''}<div class="two"><div>${nums}</div><div></div></div>${curves ? `<div class="grid">${curves}</div>` : ''}<details><summary>Raw profile data</summary><pre>${esc(
        JSON.stringify(v.raw, null, 2),
      )}</pre></details></div>`;
    })
    .join('\n');
  return `<section id="profiles"><h2>Profiles</h2>${body}</section>`;
}

function machineSection(s: Summary, skipped: number): string {
  const g = s.generator;
  const rows: Array<[string, string]> = [
    ['Preflight', `${s.tool?.name ?? 'preflight'} ${s.tool?.version ?? ''}`],
    ['Node.js', s.tool?.node ?? '–'],
    ['Platform', `${s.machine?.platform ?? '–'} ${s.machine?.arch ?? ''}`],
    ['CPU', `${s.machine?.cpus ?? '–'} × ${s.machine?.cpuModel ?? '–'}`],
    ['Memory', s.machine?.memoryGiB !== undefined ? `${fmtNum(s.machine.memoryGiB)} GiB` : '–'],
    ['Started', fmtDate(s.startedAt)],
    ['Ended', fmtDate(s.endedAt)],
    ['Status', s.status ?? '–'],
  ];
  if (g) {
    rows.push(['Generator workers', String(g.workers)]);
    if (g.http_client) rows.push(['HTTP client', HTTP_CLIENT_NAME[g.http_client] ?? g.http_client]);
    rows.push([
      'Generator CPU',
      `${fmtNum(g.cpu_percent?.mean)}% mean, ${fmtNum(g.cpu_percent?.max)}% max (of one core)`,
    ]);
    rows.push([
      'Event-loop delay',
      `p99 ${fmtMs(g.event_loop_delay_ms?.p99)} (worst second), max ${fmtMs(g.event_loop_delay_ms?.max)}`,
    ]);
    rows.push(['Generator lag', `p99 ${fmtMs(g.dispatch_lag_ms?.p99)}, max ${fmtMs(g.dispatch_lag_ms?.max)}`]);
    const stalls = windowsOverLimitText(g);
    if (stalls) rows.push(['Generator stalls', `${stalls} (options.maxDispatchLag)`]);
    rows.push(['Generator overloaded', g.overloaded ? `yes — ${(g.reasons ?? []).join('; ')}` : 'no']);
  }
  if (skipped > 0) rows.push(['Unreadable interval lines', String(skipped)]);
  return `<section id="machine"><h2>Machine and versions</h2><table class="data compact kv"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th><td>${k === 'Started' || k === 'Ended' ? v : esc(v)}</td></tr>`).join('')}</tbody></table></section>`;
}

function planSection(plan: unknown): string {
  if (plan === undefined) return '';
  return `<section id="plan"><h2>Plan</h2><details><summary>The plan that ran (resolved, secrets redacted)</summary><pre>${esc(JSON.stringify(plan, null, 2))}</pre></details></section>`;
}

// ───────────────────────────── page ─────────────────────────────

const CSS = `
:root{--fg:#111827;--muted:#6b7280;--line:#e5e7eb;--bg:#f6f7f9;--card:#fff;--pass:#15803d;--pass-bg:#ecfdf3;--fail:#b91c1c;--fail-bg:#fef2f2;--warn:#b45309;--warn-bg:#fffbeb;--accent:#2563eb}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1240px;margin:0 auto;padding:24px 24px 64px}
header.top{display:flex;align-items:baseline;justify-content:space-between;gap:16px;flex-wrap:wrap;margin-bottom:16px}
header.top h1{font-size:22px;margin:0;font-weight:650;letter-spacing:-.01em}
header.top h1 .brand{color:var(--muted);font-weight:500}
header.top .meta{color:var(--muted);font-size:13px}
h2{font-size:18px;margin:0 0 12px;font-weight:650;letter-spacing:-.01em;display:flex;align-items:center;gap:10px;flex-wrap:wrap}
h3{font-size:15px;margin:16px 0 8px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:0 0 16px}
a{color:var(--accent)}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f3f4f6;border-radius:4px;padding:1px 5px}
pre{font:12px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f8fafc;border:1px solid var(--line);border-radius:8px;padding:12px;overflow:auto;max-height:480px}
.muted{color:var(--muted)}
.verdict{display:flex;align-items:center;gap:18px;border-width:1px 1px 1px 6px}
.verdict.pass{background:var(--pass-bg);border-color:#bbf7d0 #bbf7d0 #bbf7d0 var(--pass)}
.verdict.fail{background:var(--fail-bg);border-color:#fecaca #fecaca #fecaca var(--fail)}
.verdict.warn{background:var(--warn-bg);border-color:#fde68a #fde68a #fde68a var(--warn)}
.verdict-mark{flex:0 0 52px;height:52px;border-radius:50%;display:flex;align-items:center;justify-content:center;font-size:28px;font-weight:700;color:#fff}
.pass .verdict-mark{background:var(--pass)}.fail .verdict-mark{background:var(--fail)}.warn .verdict-mark{background:var(--warn)}
.verdict-body{flex:1}
.verdict-title{font-size:24px;font-weight:700;letter-spacing:-.01em}
.pass .verdict-title{color:var(--pass)}.fail .verdict-title{color:var(--fail)}.warn .verdict-title{color:var(--warn)}
.verdict-detail{font-size:15px}
.verdict-exit{color:var(--muted);font-size:13px;white-space:nowrap}
.cmp-line{margin-top:6px;font-size:13.5px}
table.data{border-collapse:collapse;width:100%;font-size:13.5px}
table.data th,table.data td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.data thead th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em;border-bottom:1.5px solid #d1d5db}
table.data .num{text-align:right;white-space:nowrap}
table.data tr.total td{font-weight:600;border-top:1.5px solid #d1d5db}
table.data.compact td,table.data.compact th{padding:4px 8px}
table.kv th{font-weight:500;color:var(--muted);width:40%}
table.latency tbody th{font-weight:600}
table.latency tr.primary td{font-weight:650}
table.latency .hint{font-weight:400;color:var(--muted);font-size:11.5px}
table.compact .hint{color:var(--muted);font-size:11.5px;overflow-wrap:anywhere}
table.thresholds td.mark{width:28px;text-align:center}
tr.bad td{background:#fff5f5}
.band-key{display:inline-block;width:.9em;height:.9em;background:rgba(220,38,38,.18);border:1px solid rgba(220,38,38,.5);vertical-align:-1px}
.ok-mark{color:var(--pass);font-weight:700}.bad-mark{color:var(--fail);font-weight:700}
.warnings{background:var(--warn-bg);border-color:#fde68a}
.warnings h2{color:var(--warn)}
.warnings ul,.warn-list{margin:0;padding-left:20px}
.warn-list{color:var(--warn);margin-bottom:10px}
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;white-space:nowrap}
.badge.big{font-size:13px;padding:2px 10px}
.badge.pass{background:#dcfce7;color:var(--pass)}.badge.fail{background:#fee2e2;color:var(--fail)}.badge.warn{background:#fef3c7;color:var(--warn)}.badge.neutral{background:#f3f4f6;color:#4b5563}
tr.v-regression td{background:#fff5f5}
.tags{display:inline-flex;gap:6px;flex-wrap:wrap}
.tag{font-size:11.5px;font-weight:500;color:#374151;background:#f3f4f6;border:1px solid var(--line);border-radius:999px;padding:1px 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:10px;margin-bottom:14px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fcfcfd}
.card-label{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.card-value{font-size:22px;font-weight:650;letter-spacing:-.01em}
.card-sub{font-size:12px;color:var(--muted)}
.card.bad-soft .card-value{color:var(--fail)}.card.good-soft .card-value{color:var(--pass)}
.two{display:grid;grid-template-columns:minmax(0,1.5fr) minmax(0,1fr);gap:18px;align-items:start;margin-bottom:8px}
.two>div>table+table,.two>div>table+details{margin-top:12px}
.legend-note{font-size:12.5px;color:var(--muted);margin:8px 0 0}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px;margin-top:14px}
.chart-box{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 10px 4px;background:#fff;min-width:0}
.chart-box.wide{grid-column:1/-1}
.chart-box figcaption{font-weight:600;font-size:13px;margin:0 0 4px 4px}
.chart{width:100%;min-height:230px}
.chart-box.empty .no-errors{height:230px;display:flex;align-items:center;justify-content:center;color:var(--pass);font-weight:600}
.uplot{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.u-legend{font-size:12px;text-align:left;padding:2px 6px}
.u-legend .u-marker{width:12px;height:3px;border-radius:1px}
.u-legend th{font-weight:500}
.u-legend tr.u-series{margin-right:10px}
details summary{cursor:pointer;color:#374151;font-weight:500}
.counters{margin-top:12px}
.answer{font-size:15px;background:#eff6ff;border-left:4px solid var(--accent);padding:8px 12px;border-radius:4px}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:24px}
@media (max-width:860px){.grid,.two{grid-template-columns:minmax(0,1fr)}main{padding:12px}section{padding:14px}table.data{display:block;overflow-x:auto;white-space:nowrap}table.data code{white-space:nowrap}.verdict{flex-wrap:wrap;gap:12px}.verdict-mark{flex-basis:40px;height:40px;font-size:22px}.verdict-title{font-size:20px}}
@media print{body{background:#fff}section{break-inside:avoid}}
`;

export interface RenderOptions {
  /** Override the inlined chart library (tests). */
  assets?: ReportAssets;
}

/** Render report.html for loaded results. */
export function renderHtmlReport(r: LoadedResults, opts: RenderOptions = {}): string {
  const assets = opts.assets ?? loadAssets();
  const s = r.summary;
  const charts = new Charts();
  const profiles = describeProfiles(s.profiles);
  const marks = collectMarks(s.profiles);
  const warnings = runWarnings(s, r.skippedIntervalLines);
  const names = Object.keys(s.scenarios ?? {});
  const marksFor = (n: string): ChartMark[] =>
    marks.filter((m) => m.scenario === undefined || m.scenario === n).map((m) => ({ x: m.x, label: m.label }));
  const scenarioHtml = names
    .map((n) => scenarioSection(charts, n, s.scenarios[n], scenarioIntervals(r.intervals, n), marksFor(n)))
    .join('\n');
  const comparisonHtml = r.comparison ? comparisonSection(charts, r.comparison) : '';
  const profilesHtml = profilesSection(charts, profiles);
  addTimeline(charts.specs, s.faults);
  const data: ReportData = { format: 'preflight-report-data/1', charts: charts.specs };
  const title = `Preflight report — ${s.plan ?? 'run'}`;
  const csp =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; font-src data:";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="generator" content="preflight ${esc(s.tool?.version ?? '')}">
<title>${esc(title)}</title>
<style>${assets.css}</style>
<style>${CSS}</style>
</head>
<body>
<main>
<header class="top">
  <h1><span class="brand">Preflight ·</span> ${esc(s.plan ?? 'run')}</h1>
  <div class="meta">${fmtDate(s.startedAt)} · ${esc(fmtDuration(s.durationS))} · ${names.length} scenario${names.length === 1 ? '' : 's'} · ${fmtInt(s.total?.requests)} requests</div>
</header>
${verdictBanner(s, r.comparison)}
${thresholdTable(s.thresholds ?? [], s)}
${warningsSection(warnings)}
${releaseSection(s)}
${comparisonHtml}
${overviewTable(s)}
${scenarioHtml}
${checksSection(s)}
${targetSection(charts, s, r)}
${costSection(s)}
${timelineSection(s.faults, esc)}
${profilesHtml}
${planSection(r.plan)}
${machineSection(s, r.skippedIntervalLines)}
<footer>Generated by preflight ${esc(s.tool?.version ?? '')} from <code>summary.json</code> and <code>intervals.ndjson</code>. Charts: uPlot (MIT). Works offline.</footer>
</main>
<script type="application/json" id="preflight-data">${scriptJson(data)}</script>
<script>${inlineScript(assets.js)}</script>
<script>(${inlineScript(preflightClient.toString())})();</script>
</body>
</html>
`;
}

/** Assumption checks (plan `checks:`): one row per check, its findings and evidence below. */
function checksSection(s: Summary): string {
  const results = s.checks?.results ?? [];
  if (results.length === 0) return '';
  const rows = checkRows(s);
  const body = results
    .map((res, i) => {
      const row = rows[i];
      const findings = findingLines(res, true)
        .map((l) => `<li>${esc(l)}</li>`)
        .join('');
      return `<tr class="check-${esc(res.status)}"><td>${esc(row[0])}</td><td><code>${esc(row[1])}</code><br><small>${esc(res.title)}</small></td><td>${esc(row[2])}</td><td class="num">${esc(row[3])}</td></tr><tr><td></td><td colspan="3"><ul class="findings">${findings}</ul></td></tr>`;
    })
    .join('');
  return `<section id="checks"><h2>Checks</h2>
<table class="data compact"><thead><tr>${CHECK_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>
<p class="legend-note">Assumption checks (plan <code>checks:</code>, docs/checks.md): a failed or errored check fails the run.</p>
</section>`;
}

/** The cost (plan `cost:`): a compact table, on-demand beside spot, and what it rests on. */
function costSection(s: Summary): string {
  const c = s.cost;
  if (!c) return s.cost_note ? `<section id="cost"><h2>Cost</h2><p>${esc(s.cost_note)}</p></section>` : '';
  const rows = costRows(s)
    .map(
      (row) =>
        `<tr>${row.map((v, i) => (i === 0 ? `<td>${esc(v)}</td>` : `<td class="num">${esc(v)}</td>`)).join('')}</tr>`,
    )
    .join('');
  return `<section id="cost"><h2>Cost (${esc(c.currency)})</h2>
<table class="data compact"><thead><tr>${COST_HEAD.map((h, i) => `<th${i > 0 ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>
<ul class="legend-note">${costFacts(c)
    .map((f) => `<li>${esc(f)}</li>`)
    .join('')}</ul>
</section>`;
}

/** The target's metrics (plan `monitor:`): table, bottleneck words, charts on the load's time axis. */
function targetSection(charts: Charts, s: Summary, r: LoadedResults): string {
  const rows = targetRows(s);
  const alerts = alertRows(s);
  if (rows.length === 0 && !s.bottleneck && alerts.length === 0) return '';
  const throughput = new Map<number, number>();
  for (const rec of r.intervals) if (!rec.group) throughput.set(rec.t, (throughput.get(rec.t) ?? 0) + rec.throughput);
  const specs = targetChartSpecs(r.targetWindows ?? [], s, throughput);
  const table = `<table class="data compact"><thead><tr>${TARGET_HEAD.map((h, i) => `<th${i > 0 ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (row) =>
        `<tr>${row.map((c, i) => (i === 0 ? `<td><code>${esc(c)}</code></td>` : `<td class="num">${esc(c)}</td>`)).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
  return `<section id="target-metrics"><h2>Target metrics</h2>
${rows.length > 0 ? table : ''}
${s.bottleneck ? `<p><b>Bottleneck:</b> ${esc(s.bottleneck.text)}</p>` : ''}
${
  alerts.length > 0
    ? `<h3>Alert checks</h3><table class="data compact"><thead><tr>${ALERT_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${alerts
        .map(
          (row) =>
            `<tr>${row.map((c, i) => (i === 0 ? `<td><code>${esc(c)}</code></td>` : `<td>${esc(c)}</td>`)).join('')}</tr>`,
        )
        .join(
          '',
        )}</tbody></table><p class="legend-note">Pending and firing: seconds after the cause started; resolved: after it ended. ${esc((s.alerts ?? []).flatMap((a) => a.reasons).join(' '))}</p>${alertmanagerLines(
        s,
      )
        .map((l) => `<p class="legend-note">Alertmanager: ${esc(l)}</p>`)
        .join('')}`
    : ''
}
<p class="legend-note">Read from the target's own metrics (plan <code>monitor:</code>) per window, on the same time axis as the load (0 = load start; the margins before and after are drawn too). Gaps are windows without a value.</p>
<div class="grid">${specs.map((sp) => charts.add(sp)).join('\n')}</div>
</section>`;
}

/** Read DIR's results and write DIR/report.html. Returns the report's path. */
export async function writeHtmlReport(dir: string): Promise<string> {
  const r = await loadResults(dir);
  const html = renderHtmlReport(r);
  const p = join(dir, 'report.html');
  await writeFileAtomic(p, html);
  return p;
}
