/**
 * Markdown summary for pull-request comments and GitHub's job summary ($GITHUB_STEP_SUMMARY).
 * Short on purpose: verdict, thresholds, warnings, one row per scenario, the comparison.
 */
import { appendFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/results-files.js';
import { join } from 'node:path';
import type { ScenarioSummary, Summary } from '../core/results.js';
import type { MetricVerdict } from './compare-core.js';
import type { Comparison } from './compare.js';
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
  fmtSignedPp,
  scoresAccuracy,
  windowsOverLimitText,
} from './format.js';
import { releaseView } from './release-view.js';
import { loadResults } from './load.js';
import { runWarnings } from './profiles.js';
import { alertMarkdown, fmtTargetThreshold, targetMarkdown } from './target-metrics.js';
import { checksMarkdown } from './checks.js';
import { costMarkdown } from './cost.js';
import { timelineMarkdown } from './timeline.js';

const VERDICT: Record<string, string> = {
  passed: '✅ PASSED',
  failed: '❌ FAILED',
  invalid: '⚠️ INVALID',
  interrupted: '⏹️ INTERRUPTED',
};

const CMP: Record<MetricVerdict, string> = {
  regression: '❌ regression',
  improved: '✅ improved',
  unchanged: '➖ unchanged',
  inconclusive: '❔ inconclusive',
};

/** Escape text for a Markdown table cell. */
function cell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function codeCell(s: string): string {
  return `\`${s.replace(/`/g, 'ˋ').replace(/\|/g, '\\|')}\``;
}

function date(iso: string | undefined): string {
  if (!iso) return 'unknown time';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * Model-serving figures beyond the latency table, one bullet per scenario and traffic-mix group:
 * streaming (TTFT, TPOT, goodput, tokens/s), quality (accuracy with its interval, drop under load),
 * and each group of a mix.
 */
function servingLines(name: string, sc: ScenarioSummary): string[] {
  const out: string[] = [];
  const parts: string[] = [];
  const h = sc.histograms ?? {};
  const pct = (k: string, label: string) => {
    const d = h[k];
    if (d && d.count > 0) parts.push(`${label} p50 ${fmtMs(d.p50)} / p99 ${fmtMs(d.p99)}`);
  };
  pct('ttft_ms', 'TTFT');
  pct('tpot_ms', 'TPOT');
  if (typeof sc.goodput === 'number') parts.push(`goodput ${fmtRate(sc.goodput)}`);
  if (typeof sc.tokens_per_s === 'number') parts.push(`${fmtNum(sc.tokens_per_s)} tokens/s`);
  const q = sc.quality as { accuracy?: number | null; ci95?: [number, number] | null } | undefined;
  if (q && typeof q.accuracy === 'number')
    parts.push(`accuracy ${fmtPct(q.accuracy)}${q.ci95 ? ` (95% CI ${fmtPct(q.ci95[0])}–${fmtPct(q.ci95[1])})` : ''}`);
  if (typeof sc.accuracy_drop === 'number') parts.push(`accuracy drop vs light load ${fmtSignedPp(sc.accuracy_drop)}`);
  if (parts.length > 0) out.push(`- **${cell(name)}**: ${parts.join(' · ')}`);
  // Why requests failed: the first distinct messages per error class (summary error_reasons).
  for (const [k, n] of Object.entries(sc.errors ?? {})) {
    const why = sc.error_reasons?.[k];
    if (n > 0 && why && why.length > 0)
      out.push(`- **${cell(name)}** ${cell(k)} (${fmtInt(n)}): ${why.map((w) => codeCell(w)).join(' · ')}`);
  }
  if (sc.cancelled > 0)
    out.push(
      `- **${cell(name)}**: ${fmtInt(sc.cancelled)} requests never completed and were cancelled at the stop (counted as failed in the error rate)`,
    );
  for (const [g, gs] of Object.entries(sc.groups ?? {})) {
    const gq = gs.quality as { accuracy?: number | null } | undefined;
    const acc = gq && typeof gq.accuracy === 'number' ? ` · accuracy ${fmtPct(gq.accuracy)}` : '';
    out.push(
      `- **${cell(name)}/${cell(g)}**: ${fmtInt(gs.requests)} requests · error rate ${fmtPct(gs.error_rate)} · latency p50 ${fmtMs(gs.latency_ms?.p50)} / p99 ${fmtMs(gs.latency_ms?.p99)}${acc}`,
    );
  }
  return out;
}

/** Markdown for summary.md / PR comments. Deterministic for given inputs. */
export function renderMarkdown(summary: Summary, comparison?: Comparison): string {
  const s = summary;
  const out: string[] = [];
  const th = s.thresholds ?? [];
  const failed = th.filter((t) => !t.ok).length;
  const names = Object.keys(s.scenarios ?? {});
  out.push(`## ${VERDICT[s.verdict] ?? s.verdict} · Preflight \`${s.plan}\``);
  out.push('');
  const detail =
    s.verdict === 'invalid'
      ? s.generator?.overloaded
        ? 'load generator overloaded — results cannot be trusted'
        : 'results cannot be trusted — see the warnings'
      : s.verdict === 'interrupted'
        ? 'interrupted — partial results'
        : th.length === 0
          ? 'no thresholds'
          : failed === 0
            ? `all ${th.length} thresholds held`
            : `${failed} of ${th.length} thresholds failed`;
  out.push(
    `${detail} · ${fmtDuration(s.durationS)} · ${names.length} scenario${names.length === 1 ? '' : 's'} · ${fmtInt(s.total?.requests)} requests · ${date(s.startedAt)} · exit code ${s.exitCode}`,
  );
  if (comparison) out.push('', `**vs baseline:** ${CMP[comparison.verdict]}${regressionList(comparison)}`);
  out.push('');
  if (th.length > 0) {
    out.push('| | Threshold | Scenario | Measured |', '|:-:|---|---|--:|');
    for (const t of th) {
      out.push(
        `| ${t.ok ? '✅' : '❌'} | ${codeCell(t.expression)} | ${cell(t.scenario ?? 'all')} | ${t.value === null ? cell(t.note ?? 'no data') : (fmtTargetThreshold(s, t.expression, t.value) ?? fmtMetricValue(t.expression, t.value))} |`,
      );
    }
    out.push('');
  }
  const warnings = runWarnings(s);
  if (warnings.length > 0) {
    out.push('> [!WARNING]');
    for (const w of warnings) out.push(`> - ${w.replace(/\n/g, ' ')}`);
    out.push('');
  }
  if (names.length > 0) {
    out.push(
      '| Scenario | Requests | Throughput | Error rate | Latency p50 | p90 | p99 | Service time p50 | p99 |',
      '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    );
    for (const n of names) {
      const sc = s.scenarios[n];
      const scored = sc.counters?.['quality.scored'];
      const acc =
        scored && scoresAccuracy(sc) ? ` · accuracy ${fmtPct((sc.counters['quality.correct'] ?? 0) / scored)}` : '';
      const thr =
        sc.target_rate !== undefined
          ? `${fmtRate(sc.throughput)} (target ${fmtRate(sc.target_rate)})`
          : fmtRate(sc.throughput);
      out.push(
        `| **${cell(n)}** <sub>${cell(sc.protocol)}, ${cell(sc.model)}${acc}</sub> | ${fmtInt(sc.requests)} | ${thr} | ${fmtPct(sc.error_rate)} | ${fmtMs(sc.latency_ms?.p50)} | ${fmtMs(sc.latency_ms?.p90)} | ${fmtMs(sc.latency_ms?.p99)} | ${fmtMs(sc.service_time_ms?.p50)} | ${fmtMs(
          sc.service_time_ms?.p99,
        )} |`,
      );
    }
    out.push('');
    out.push(
      '<sub>Latency counts from each request’s intended start (includes queueing); service time from the actual send.</sub>',
    );
    out.push('');
    const extra = names.flatMap((n) => servingLines(n, s.scenarios[n]));
    if (extra.length > 0) out.push(...extra, '');
  }
  out.push(...checksMarkdown(s));
  out.push(...targetMarkdown(s));
  out.push(...alertMarkdown(s));
  out.push(...costMarkdown(s));
  out.push(...releaseMarkdown(s));
  out.push(...timelineMarkdown(s.faults));
  if (comparison) out.push(...comparisonMarkdown(comparison));
  out.push('<details><summary>Run details</summary>', '');
  out.push(
    `- preflight ${s.tool?.version ?? '?'} on Node.js ${s.tool?.node ?? '?'}, ${s.machine?.platform ?? '?'} ${s.machine?.arch ?? ''}, ${s.machine?.cpus ?? '?'} × ${s.machine?.cpuModel ?? '?'}, ${s.machine?.memoryGiB ?? '?'} GiB`,
  );
  out.push(`- started ${date(s.startedAt)}, status ${s.status}`);
  if (s.generator) {
    const stalls = windowsOverLimitText(s.generator);
    out.push(
      `- load generator: ${s.generator.workers} worker(s)${s.generator.http_client ? `, HTTP client ${HTTP_CLIENT_NAME[s.generator.http_client] ?? s.generator.http_client}` : ''}, CPU ${s.generator.cpu_percent?.mean ?? '?'}% mean / ${s.generator.cpu_percent?.max ?? '?'}% max, event-loop delay p99 ${fmtMs(s.generator.event_loop_delay_ms?.p99)} (worst second)${stalls ? `, ${stalls}` : ''}${s.generator.overloaded ? ' — **overloaded**' : ''}`,
    );
  }
  out.push('', '</details>', '');
  return out.join('\n');
}

function regressionList(c: Comparison): string {
  const r = c.scenarios.flatMap((s) =>
    s.metrics
      .filter((m) => m.verdict === 'regression')
      .map((m) => `${s.scenario} ${metricLabel(m.metric)} ${fmtChange(m)}`),
  );
  return r.length ? ` — ${r.join(', ')}` : '';
}

/** The comparison as Markdown (a heading, a table, the warnings). */
const RELEASE_VERDICT: Record<string, string> = {
  pass: '✅ pass',
  marginal: '⚠️ marginal',
  inconclusive: '❔ inconclusive',
  fail: '❌ fail',
};

/** summary.comparison (A/B, canary, shadow): the release view as markdown tables. */
export function releaseMarkdown(s: Pick<Summary, 'comparison' | 'scenarios'>): string[] {
  const v = releaseView(s);
  if (!v) return [];
  const out: string[] = [`### ${cell(v.title)}: ${RELEASE_VERDICT[v.verdict] ?? v.verdict}`, ''];
  for (const r of v.reasons) out.push(`- ${cell(r)}`);
  for (const f of v.facts) out.push(`- <sub>${cell(f)}</sub>`);
  out.push('');
  for (const t of v.tables) {
    out.push(`**${cell(t.title)}**`, '');
    out.push(`| ${t.head.map(cell).join(' | ')} |`, `|${t.head.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`);
    for (const r of t.rows) out.push(`| ${r.map(cell).join(' | ')} |`);
    out.push('');
  }
  return out;
}

export function comparisonMarkdown(c: Comparison): string[] {
  const out: string[] = [];
  out.push(`### Compared with baseline: ${CMP[c.verdict]}`, '');
  out.push(
    `Baseline \`${c.baseline.dir}\` (${date(c.baseline.startedAt)}). Significant at p < ${c.alpha}; ${Math.round(c.confidence * 100)}% CI of the difference by moving-block bootstrap.`,
    '',
  );
  out.push(
    `| Scenario | Metric | Baseline | Candidate | Change | p | ${Math.round(c.confidence * 100)}% CI of diff | Tolerance | Verdict |`,
    '|---|---|--:|--:|--:|--:|--:|--:|---|',
  );
  for (const s of c.scenarios) {
    s.metrics.forEach((m, i) => {
      out.push(
        `| ${i === 0 ? `**${cell(s.scenario)}**` : ''} | ${metricLabel(m.metric)} | ${fmtComparisonValue(m, m.baseline)} | ${fmtComparisonValue(m, m.candidate)} | ${m.verdict === 'regression' ? `**${fmtChange(m)}**` : fmtChange(m)} | ${fmtP(m.pValue)} | ${fmtCi(m)} | ${fmtTolerance(m)} | ${CMP[m.verdict]} |`,
      );
    });
  }
  out.push('');
  if (c.warnings.length) {
    for (const w of c.warnings) out.push(`> ${w}`);
    out.push('');
  }
  return out;
}

/**
 * Write DIR/summary.md (with DIR/comparison.json when present) and append it to
 * $GITHUB_STEP_SUMMARY when that is set. Returns the path of summary.md.
 */
export async function writeMarkdown(dir: string, opts: { githubStepSummary?: boolean } = {}): Promise<string> {
  const r = await loadResults(dir);
  const md = renderMarkdown(r.summary, r.comparison);
  const p = join(dir, 'summary.md');
  await writeFileAtomic(p, md);
  const gh = process.env.GITHUB_STEP_SUMMARY;
  if (gh && opts.githubStepSummary !== false) await appendFile(gh, `${md}\n`);
  return p;
}
