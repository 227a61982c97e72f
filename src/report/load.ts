/**
 * Reading a results folder (summary.json, intervals.ndjson, plan.resolved.json, comparison.json).
 * Tolerant of what old or interrupted runs leave behind: a truncated last line in intervals.ndjson,
 * missing optional files, missing optional fields.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PreflightError } from '../core/errors.js';
import type { IntervalRecord, Summary } from '../core/results.js';
import type { Comparison } from './compare.js';

export interface LoadedResults {
  dir: string;
  summary: Summary;
  intervals: IntervalRecord[];
  /** plan.resolved.json (already redacted), when present. */
  plan?: unknown;
  /** comparison.json (this run vs a baseline), when present. */
  comparison?: Comparison;
  /** Lines of intervals.ndjson that could not be parsed (e.g. cut off by an interrupt). */
  skippedIntervalLines: number;
}

/** Parse intervals.ndjson text; unparsable lines are skipped and counted. */
export function parseIntervals(text: string): { intervals: IntervalRecord[]; skipped: number } {
  const intervals: IntervalRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    const s = line.trim();
    if (!s) continue;
    try {
      const rec = JSON.parse(s) as IntervalRecord;
      if (rec && typeof rec === 'object' && typeof rec.scenario === 'string') intervals.push(rec);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { intervals, skipped };
}

function parseJson<T>(text: string, file: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new PreflightError('E_RESULTS_IO', `${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

function missingSummary(dir: string): PreflightError {
  return new PreflightError('E_ARGS', `no summary.json in ${dir} — is this a Preflight results folder?`, {
    problems: [{ file: '<args>', message: `${join(dir, 'summary.json')} not found`, hint: 'pass the folder a run wrote (e.g. results/<plan>-<time>)' }],
  });
}

function assemble(dir: string, files: { summary: string; intervals?: string; plan?: string; comparison?: string }): LoadedResults {
  const summary = parseJson<Summary>(files.summary, join(dir, 'summary.json'));
  if (!summary || typeof summary !== 'object' || !summary.scenarios) {
    throw new PreflightError('E_RESULTS_IO', `${join(dir, 'summary.json')} is not a Preflight summary (no "scenarios")`);
  }
  const { intervals, skipped } = files.intervals !== undefined ? parseIntervals(files.intervals) : { intervals: [], skipped: 0 };
  const out: LoadedResults = { dir, summary, intervals, skippedIntervalLines: skipped };
  if (files.plan !== undefined) out.plan = parseJson<unknown>(files.plan, join(dir, 'plan.resolved.json'));
  if (files.comparison !== undefined) out.comparison = parseJson<Comparison>(files.comparison, join(dir, 'comparison.json'));
  return out;
}

/** Read a results folder. Throws a PreflightError (E_ARGS) when there is no summary.json. */
export async function loadResults(dir: string): Promise<LoadedResults> {
  const read = async (name: string): Promise<string | undefined> => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new PreflightError('E_RESULTS_IO', `cannot read ${join(dir, name)}: ${(err as Error).message}`, { cause: err });
    }
  };
  const [summary, intervals, plan, comparison] = await Promise.all([
    read('summary.json'),
    read('intervals.ndjson'),
    read('plan.resolved.json'),
    read('comparison.json'),
  ]);
  if (summary === undefined) throw missingSummary(dir);
  return assemble(dir, { summary, intervals, plan, comparison });
}

/** Synchronous loadResults (for compareRuns). */
export function loadResultsSync(dir: string): LoadedResults {
  const read = (name: string): string | undefined => {
    const p = join(dir, name);
    if (!existsSync(p)) return undefined;
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new PreflightError('E_RESULTS_IO', `cannot read ${p}: ${(err as Error).message}`, { cause: err });
    }
  };
  const summary = read('summary.json');
  if (summary === undefined) throw missingSummary(dir);
  return assemble(dir, { summary, intervals: read('intervals.ndjson'), plan: read('plan.resolved.json'), comparison: read('comparison.json') });
}

/** Scenario-level interval records (no group) of one scenario, in time order. */
export function scenarioIntervals(intervals: readonly IntervalRecord[], scenario: string, group?: string): IntervalRecord[] {
  return intervals
    .filter((r) => r.scenario === scenario && (group === undefined ? r.group === undefined || r.group === null || r.group === '' : r.group === group))
    .sort((a, b) => a.t - b.t || a.start_s - b.start_s);
}
