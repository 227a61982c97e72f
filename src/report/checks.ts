/**
 * Assumption checks (summary.checks, docs/checks.md) in the reports: one row per check for the
 * terminal, summary.md and report.html, and the failing findings that explain a failed one.
 */
import type { CheckResult, CheckStatus } from '../core/checks.js';
import { checkFails } from '../core/checks.js';
import type { Summary } from '../core/results.js';
import { fmtCheckFigure, fmtMs } from './format.js';

export const CHECK_HEAD = ['', 'check', 'figures', 'took'];

const MARK: Record<CheckStatus, string> = { pass: '✓', warn: '!', fail: '✗', error: '✗', skipped: '–' };

export function checkMark(s: CheckStatus): string {
  return MARK[s];
}

/** A check's measured figures in words: `p50 0.2 ms · p99 0.6 ms`. */
export function checkFiguresText(r: CheckResult): string {
  return Object.entries(r.figures)
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${fmtCheckFigure(`${r.id}.${k}`, v) ?? String(v)}`)
    .join(' · ');
}

/** One row per check: mark, `id (status)`, figures, wall time. */
export function checkRows(summary: Pick<Summary, 'checks'>): string[][] {
  return (summary.checks?.results ?? []).map((r) => [
    checkMark(r.status),
    `${r.id}${r.status === 'pass' ? '' : ` (${r.status})`}`,
    checkFiguresText(r) || '–',
    fmtMs(r.durationMs),
  ]);
}

/** The findings that fail a check (or all of them for a passing one, when `all`), one line each with evidence. */
export function findingLines(r: CheckResult, all = false): string[] {
  return r.findings
    .filter((f) => all || checkFails(f.status) || f.status === 'warn')
    .map(
      (f) =>
        `${checkMark(f.status)} ${f.what}${f.evidence ? ` — ${f.evidence.replace(/\s+/g, ' ').slice(0, 300)}` : ''}`,
    );
}

/** summary.md lines of the checks (empty without them). */
export function checksMarkdown(summary: Pick<Summary, 'checks'>): string[] {
  const results = summary.checks?.results ?? [];
  if (results.length === 0) return [];
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const out = ['### Checks', '', `| ${CHECK_HEAD.join(' | ')} |`, `|${CHECK_HEAD.map(() => '---').join('|')}|`];
  for (const row of checkRows(summary)) out.push(`| ${row.map(cell).join(' | ')} |`);
  out.push('');
  for (const r of results) {
    const lines = findingLines(r, true);
    out.push(`- **${cell(r.id)}** ${cell(r.title)}`);
    for (const l of lines) out.push(`  - ${cell(l)}`);
  }
  out.push('');
  return out;
}
