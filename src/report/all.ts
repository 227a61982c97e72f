/**
 * Every report file of a results folder at once: report.html, summary.md, junit.xml, intervals.csv.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/results-files.js';
import { renderCsv } from './csv.js';
import { renderHtmlReport } from './html.js';
import { renderJUnit } from './junit.js';
import { loadResults } from './load.js';
import { renderMarkdown } from './markdown.js';

export interface WriteAllOptions {
  /** Which files to write; each defaults to true. */
  html?: boolean;
  markdown?: boolean;
  junit?: boolean;
  csv?: boolean;
  /** Append summary.md to $GITHUB_STEP_SUMMARY when that variable is set (default true). */
  githubStepSummary?: boolean;
}

export interface WrittenReports {
  html?: string;
  markdown?: string;
  junit?: string;
  csv?: string;
  /** What reading the folder skipped or ignored (bad intervals lines, a malformed comparison.json); absent when nothing was. */
  warnings?: string[];
}

/** Read DIR once and write the report files. Returns the paths written. */
export async function writeAllReports(dir: string, opts: WriteAllOptions = {}): Promise<WrittenReports> {
  const r = await loadResults(dir);
  const out: WrittenReports = r.warnings?.length ? { warnings: r.warnings } : {};
  if (opts.html !== false) {
    out.html = join(dir, 'report.html');
    await writeFileAtomic(out.html, renderHtmlReport(r));
  }
  if (opts.markdown !== false) {
    const md = renderMarkdown(r.summary, r.comparison);
    out.markdown = join(dir, 'summary.md');
    await writeFileAtomic(out.markdown, md);
    const gh = process.env.GITHUB_STEP_SUMMARY;
    if (gh && opts.githubStepSummary !== false) await appendFile(gh, `${md}\n`);
  }
  if (opts.junit !== false) {
    out.junit = join(dir, 'junit.xml');
    await writeFileAtomic(out.junit, renderJUnit(r.summary, r.comparison));
  }
  if (opts.csv !== false) {
    out.csv = join(dir, 'intervals.csv');
    await writeFileAtomic(out.csv, renderCsv(r.intervals));
  }
  return out;
}
