/**
 * The end-of-run text: per scenario, latency (from the intended start) beside service time (from
 * the actual send), errors by class, then the thresholds with pass/fail marks and the verdict.
 */
import type { ScenarioSummary, Summary } from '../core/results.js';
import {
  ALERT_HEAD,
  alertmanagerLines,
  alertRows,
  CHECK_HEAD,
  checkRows,
  findingLines,
  COST_HEAD,
  costFacts,
  costRows,
  fmtMetricValue,
  fmtSignedPp,
  fmtTargetThreshold,
  releaseView,
  TARGET_HEAD,
  targetRows,
  terminal,
  windowsOverLimitText,
} from '../report/index.js';
import { paint, table, useColor } from './format.js';

export function renderSummary(summary: Summary, opts: { color?: boolean } = {}): string {
  const c = paint(opts.color ?? useColor());
  const out: string[] = [];
  for (const [name, s] of Object.entries(summary.scenarios)) {
    out.push(
      '',
      c.bold(`scenario ${name}`) + c.dim(` (${s.executor}, ${s.protocol}, ${s.model} workload, ${s.durationS}s)`),
    );
    out.push(scenarioBlock(s, c));
    if (s.groups) {
      for (const [g, gs] of Object.entries(s.groups)) {
        out.push(
          c.dim(
            `  ${name}/${g}: ${terminal.num(gs.requests)} requests, ${terminal.pct(gs.error_rate)} errors, latency p50 ${terminal.ms(gs.latency_ms.p50)} p99 ${terminal.ms(gs.latency_ms.p99)}`,
          ),
        );
      }
    }
  }
  const rv = releaseView(summary);
  if (rv) {
    const verdict =
      rv.verdict === 'pass'
        ? c.green('PASS')
        : rv.verdict === 'fail'
          ? c.red('FAIL')
          : c.yellow(rv.verdict.toUpperCase());
    out.push('', `${c.bold(rv.title)}: ${verdict}`);
    for (const r of rv.reasons) out.push(`  ${r}`);
    for (const f of rv.facts) out.push(c.dim(`  ${f}`));
    for (const t of rv.tables) out.push(`  ${t.title}`, indent(table([t.head, ...t.rows]), 4));
  }
  // The target's own metrics (plan `monitor:`), and where its time went.
  const target = targetRows(summary);
  if (target.length > 0) out.push('', c.bold('target metrics'), indent(table([TARGET_HEAD, ...target]), 2));
  if (summary.bottleneck) out.push(`  ${c.bold('bottleneck:')} ${summary.bottleneck.text}`);
  // Alert checks (plan `monitor.alerts`): a failed one fails the run.
  const alerts = alertRows(summary).map((r) => [...r.slice(0, -1), r.at(-1) === 'ok' ? c.green('✓') : c.red('✗')]);
  if (alerts.length > 0) {
    out.push('', c.bold('alert checks'), indent(table([ALERT_HEAD, ...alerts], { leftCols: 2 }), 2));
    for (const a of summary.alerts ?? []) for (const why of a.reasons) out.push(`  ${c.red('✗')} ${why}`);
    for (const l of alertmanagerLines(summary)) out.push(`  Alertmanager: ${l}`);
  }
  // Assumption checks (plan `checks:`): a failed or errored one fails the run.
  const checks = summary.checks?.results ?? [];
  if (checks.length > 0) {
    const rows = checkRows(summary).map((r, i) => {
      const st = checks[i].status;
      const mark = st === 'pass' ? c.green(r[0]) : st === 'warn' || st === 'skipped' ? c.yellow(r[0]) : c.red(r[0]);
      return [mark, ...r.slice(1)];
    });
    out.push('', c.bold('checks'), indent(table([CHECK_HEAD, ...rows], { leftCols: 3 }), 2));
    for (const r of checks) for (const l of findingLines(r)) out.push(`  ${c.red(r.id)} ${l}`);
  }
  // Capacity and cost (plan `cost:`).
  if (summary.cost) {
    out.push('', c.bold(`cost (${summary.cost.currency})`), indent(table([COST_HEAD, ...costRows(summary)]), 2));
    for (const f of costFacts(summary.cost)) out.push(c.dim(`  ${f}`));
  } else if (summary.cost_note) out.push('', c.bold('cost'), `  ${summary.cost_note}`);
  if (Object.keys(summary.scenarios).length > 0)
    out.push(
      '',
      c.dim(
        'latency = completion − intended start (includes any queueing before send); service time = completion − actual send; ttfb = first response byte − actual send.',
      ),
    );
  if (summary.thresholds.length > 0) {
    out.push('', c.bold('thresholds'));
    const rows = summary.thresholds.map((t) => [
      t.ok ? c.green('✓') : c.red('✗'),
      t.expression,
      t.value === null
        ? (t.note ?? 'no data')
        : (fmtTargetThreshold(summary, t.expression, t.value) ?? fmtMetricValue(t.expression, t.value)),
    ]);
    out.push(table(rows, { leftCols: 2 }));
  }
  // The generator's own health: its stalls are shown when there were any (overload is a warning).
  const stalls = windowsOverLimitText(summary.generator, terminal.ms);
  if (stalls) out.push('', c.dim(`load generator: ${stalls} (options.maxDispatchLag)`));
  for (const w of summary.warnings) out.push(c.yellow(`warning: ${w}`));
  const v = summary.verdict;
  const mark =
    v === 'passed'
      ? c.green('PASSED')
      : v === 'failed'
        ? c.red('FAILED')
        : v === 'invalid'
          ? c.red('INVALID (the numbers cannot be trusted: see the warnings)')
          : c.yellow('INTERRUPTED');
  out.push('', `${c.bold('verdict:')} ${mark}  ${c.dim(`(exit code ${summary.exitCode})`)}`);
  return out.join('\n');
}

function scenarioBlock(s: ScenarioSummary, c: ReturnType<typeof paint>): string {
  const lines: string[] = [];
  const rate = s.target_rate !== undefined ? ` (target ${terminal.num(s.target_rate)}/s)` : '';
  // throughput counts failed requests too: say what was served when that differs.
  const served =
    s.ok_throughput !== undefined && s.ok_throughput !== s.throughput ? ` (ok ${terminal.num(s.ok_throughput)}/s)` : '';
  lines.push(
    `  requests ${terminal.num(s.requests)}  ok ${terminal.num(s.ok)}  throughput ${terminal.num(s.throughput)}/s${served}${rate}  error rate ${s.error_rate > 0 ? c.red(terminal.pct(s.error_rate)) : terminal.pct(0)}`,
  );
  const errs = Object.entries(s.errors).filter(([, n]) => n > 0);
  if (errs.length > 0) lines.push(`  errors: ${errs.map(([k, n]) => `${k} ${terminal.num(n)}`).join(', ')}`);
  for (const [k] of errs) {
    const why = s.error_reasons?.[k];
    if (why && why.length > 0) lines.push(c.dim(`    ${k}: ${why.join(' | ')}`));
  }
  const extra: string[] = [];
  if (s.late > 0) extra.push(`late ${terminal.num(s.late)}`);
  if (s.unsent > 0) extra.push(`unsent ${terminal.num(s.unsent)}`);
  if (s.cancelled > 0)
    extra.push(
      c.red(`cancelled at stop ${terminal.num(s.cancelled)} (never completed; counted as failed in error rate)`),
    );
  if (extra.length > 0) lines.push(`  ${extra.join(', ')}`);
  if (s.requests === 0) {
    lines.push(c.dim(s.durationS > 0 ? '    no request completed: no timings' : '    did not start: no timings'));
    return lines.join('\n');
  }
  const rows: string[][] = [['', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean']];
  // An empty histogram (no response ever had a first byte, say) is shown as such, not as zeros.
  const row = (label: string, d: ScenarioSummary['latency_ms']) =>
    d.count > 0
      ? [
          label,
          terminal.ms(d.p50),
          terminal.ms(d.p90),
          terminal.ms(d.p99),
          terminal.ms(d.p999),
          terminal.ms(d.max),
          terminal.ms(d.mean),
        ]
      : [label, c.dim('no data'), '', '', '', '', ''];
  rows.push(row('latency', s.latency_ms), row('service time', s.service_time_ms), row('ttfb', s.ttfb_ms));
  for (const [k, d] of Object.entries(s.histograms)) rows.push(row(k.replace(/_ms$/, ''), d));
  lines.push(indent(table(rows), 4));
  if (s.ttfb_ms.count < s.latency_ms.count) {
    lines.push(
      c.dim(
        `    latency and service time include the ${terminal.num(s.latency_ms.count - s.ttfb_ms.count)} requests that failed without a response (timed to the failure); ttfb only those that got one`,
      ),
    );
  }
  const quality = s.quality as
    | { accuracy?: number; ci95?: [number, number]; ci_n?: number; effective_accuracy?: number; scored?: number }
    | undefined;
  if (quality && typeof quality.accuracy === 'number') {
    const rowsNote =
      quality.ci_n !== undefined && quality.ci_n < (quality.scored ?? 0)
        ? ` over the data's ${terminal.num(quality.ci_n)} distinct rows`
        : '';
    const ci = quality.ci95
      ? ` (95% CI ${terminal.pct(quality.ci95[0])}–${terminal.pct(quality.ci95[1])}${rowsNote})`
      : '';
    const eff =
      typeof quality.effective_accuracy === 'number'
        ? `, effective ${terminal.pct(quality.effective_accuracy)} (errors count as wrong)`
        : '';
    lines.push(
      `  accuracy ${terminal.pct(quality.accuracy)}${ci} over ${terminal.num(quality.scored ?? 0)} scored${eff}`,
    );
  }
  const drop = s.accuracy_drop;
  if (typeof drop === 'number')
    lines.push(`  accuracy drop vs light load ${fmtSignedPp(drop)} (positive = worse under load)`);
  const golden = s.golden as
    | {
        agreement?: number | null;
        compared?: number;
        max_diff?: number | null;
        worst?: Array<{ row: number; max_diff: number; group?: string }>;
      }
    | undefined;
  if (golden && typeof golden.agreement === 'number') {
    const worst = (golden.worst ?? [])
      .slice(0, 3)
      .map(
        (w) => `row ${w.row}${w.group ? ` (${w.group})` : ''} Δ${w.max_diff === null ? '∞' : w.max_diff.toFixed(4)}`,
      );
    lines.push(
      `  golden agreement ${terminal.pct(golden.agreement)} over ${terminal.num(golden.compared ?? 0)} outputs, max difference ${golden.max_diff ?? '—'}${worst.length ? `; worst: ${worst.join(', ')}` : ''}`,
    );
  }
  const gen = s.generation as
    | {
        goodput?: number | null;
        good_ratio?: number | null;
        tokens_per_s?: number;
        tokens_source?: { usage: number; chunks: number };
      }
    | undefined;
  if (gen) {
    const parts = [`tokens ${terminal.num(gen.tokens_per_s ?? 0)}/s out`];
    if (gen.tokens_source)
      parts.push(
        gen.tokens_source.chunks > 0
          ? `(${gen.tokens_source.chunks} requests counted by content chunks, not usage)`
          : '(from usage)',
      );
    if (typeof gen.goodput === 'number')
      parts.push(
        `goodput ${terminal.num(gen.goodput)}/s (${terminal.pct(gen.good_ratio ?? 0)} of requests met every SLO)`,
      );
    lines.push(`  ${parts.join(' ')}`);
  }
  return lines.join('\n');
}

const indent = (s: string, n: number) =>
  s
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
