/**
 * summary.cost (plan `cost:`, docs/cost.md) for people: one table (on-demand beside spot) and the
 * facts behind it, shared by the terminal, summary.md and report.html.
 */
import type { CostFigures, CostSummary } from '../core/cost.js';
import type { Summary } from '../core/results.js';
import { fmtNum, fmtPct, fmtRate } from '../core/format.js';

export const COST_HEAD = ['', 'on-demand', 'spot'];

/** Rows of the cost table: what each figure is, on-demand, spot (– without a spot price). */
export function costRows(summary: Pick<Summary, 'cost'>): string[][] {
  const c = summary.cost;
  if (!c) return [];
  const row = (label: string, f: (x: CostFigures) => number | null): string[] => [
    label,
    money(f(c.on_demand)),
    c.spot ? money(f(c.spot)) : '–',
  ];
  const rows = [
    row('price per replica-hour', (x) => x.price_per_hour),
    row(`monthly, ${c.replicas} replicas all month`, (x) => x.monthly_full),
  ];
  if (c.curve) rows.push(row('monthly, following the daily curve', (x) => x.monthly_curve));
  rows.push(
    row('per 1k inferences, full use (floor)', (x) => x.per_1k_full_use),
    row(`per 1k inferences, actual use${c.curve ? ' (curve)' : ' (peak)'}`, (x) => x.per_1k_actual),
    row(`per 1M inferences, actual use`, (x) => x.per_1m_actual),
  );
  if (c.tokens_per_inference !== null) {
    rows.push(
      row('per 1M output tokens, full use', (x) => x.per_1m_tokens_full_use),
      row('per 1M output tokens, actual use', (x) => x.per_1m_tokens_actual),
    );
  }
  if (c.accuracy !== null) rows.push(row('per 1k correct inferences, actual use', (x) => x.per_1k_correct_actual));
  return rows;
}

/** What the table rests on, in words. */
export function costFacts(c: CostSummary): string[] {
  const gpus = c.gpus ? ` (${c.gpus} GPU${c.gpus > 1 ? 's' : ''} each)` : '';
  const facts = [
    `${c.replicas} × ${c.instance}${gpus} for ${fmtRate(c.peak_per_s)} at the peak with ${fmtPct(c.headroom)} headroom (at least ${c.min_replicas}); utilisation at the peak ${fmtPct(c.utilisation_at_peak)}.`,
    `Capacity ${fmtRate(c.capacity_per_replica)} per replica, from ${c.capacity_source}.`,
  ];
  if (c.curve)
    facts.push(
      `Daily curve: ${fmtNum(c.curve.replica_hours_per_day)} replica-hours a day (${Math.min(...c.curve.replicas)}–${Math.max(...c.curve.replicas)} replicas), ${fmtPct(c.curve.utilisation)} of their capacity used.`,
    );
  if (c.tokens_per_inference !== null) facts.push(`${fmtNum(c.tokens_per_inference)} output tokens per inference.`);
  if (c.accuracy !== null)
    facts.push(`Accuracy ${fmtPct(c.accuracy)}: per correct inference = per inference / accuracy.`);
  facts.push(
    `Currency ${c.currency}; a month is ${fmtNum(c.hours_per_month)} hours; prices from ${c.prices_file}. Thresholds read ${c.headline.basis}.`,
  );
  return facts;
}

function money(x: number | null): string {
  return x === null ? '–' : fmtNum(x);
}

/** summary.md lines of the cost (empty without one). */
export function costMarkdown(summary: Pick<Summary, 'cost' | 'cost_note'>): string[] {
  const c = summary.cost;
  if (!c) return summary.cost_note ? ['### Cost', '', summary.cost_note, ''] : [];
  const out = [`### Cost (${c.currency})`, '', `| ${COST_HEAD.join(' | ')} |`, '|---|---:|---:|'];
  for (const r of costRows(summary)) out.push(`| ${r.join(' | ')} |`);
  out.push('');
  for (const f of costFacts(c)) out.push(`- ${f}`);
  out.push('');
  return out;
}
