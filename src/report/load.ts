/**
 * Reading a results folder (summary.json, intervals.ndjson, plan.resolved.json, comparison.json).
 * Tolerant of what old or interrupted runs leave behind: a truncated last line in intervals.ndjson,
 * missing optional files, missing optional fields.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PreflightError } from '../core/errors.js';
import type { IntervalRecord, Summary, TargetWindowRecord } from '../core/results.js';
import { intervalsWarning, parseIntervals } from '../core/results-files.js';
import type { Comparison } from './compare.js';
import { parseTargetWindows } from './target-metrics.js';

// The tolerant intervals parser lives with the other results-file primitives, where run/ and profiles/ can reach it.
export { parseIntervals };

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
  /** What was skipped or ignored while reading (bad intervals lines with their numbers, a malformed optional file). */
  warnings?: string[];
  /** target-metrics.ndjson (plan `monitor:`), when present. */
  targetWindows?: TargetWindowRecord[];
}

function parseJson<T>(text: string, file: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw notResults(file, `is not valid JSON (${(err as Error).message})`);
  }
}

const NOT_RESULTS_HINT =
  'pass a folder written by `preflight run` (its summary.json has "format": "preflight-summary/1")';

function notResults(file: string, why: string): PreflightError {
  const dir = dirname(file);
  return new PreflightError('E_ARGS', `${dir} is not a Preflight result: ${basename(file)} ${why}`, {
    problems: [{ file, message: `${basename(file)} ${why}`, hint: NOT_RESULTS_HINT }],
  });
}

function missingSummary(dir: string): PreflightError {
  return new PreflightError('E_ARGS', `no summary.json in ${dir} — is this a Preflight results folder?`, {
    problems: [
      {
        file: '<args>',
        message: `${join(dir, 'summary.json')} not found`,
        hint: 'pass the folder a run wrote (e.g. results/<plan>-<time>)',
      },
    ],
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why this parsed summary.json is not one Preflight wrote (null when it is). */
function summaryShapeProblem(s: unknown): string | null {
  if (!isObject(s)) return 'is not a JSON object';
  if (s.format !== 'preflight-summary/1')
    return s.format === undefined
      ? 'has no "format": "preflight-summary/1"'
      : `has format ${JSON.stringify(s.format)}, not "preflight-summary/1"`;
  if (!isObject(s.scenarios)) return 'has no "scenarios" object';
  if (!isObject(s.total)) return 'has no "total" object';
  for (const [name, sc] of Object.entries(s.scenarios)) {
    if (!isObject(sc) || typeof sc.requests !== 'number' || !isObject(sc.latency_ms))
      return `has a scenario "${name}" without requests and latency_ms`;
  }
  return null;
}

function assemble(
  dir: string,
  files: { summary: string; intervals?: string; plan?: string; comparison?: string; target?: string },
): LoadedResults {
  const summaryFile = join(dir, 'summary.json');
  const summary = parseJson<Summary>(files.summary, summaryFile);
  const why = summaryShapeProblem(summary);
  if (why) throw notResults(summaryFile, why);
  const parsed =
    files.intervals !== undefined
      ? parseIntervals(files.intervals)
      : { intervals: [], skipped: 0, skippedLines: [], cutLast: false };
  const warnings = intervalsWarning(parsed, join(dir, 'intervals.ndjson'));
  const out: LoadedResults = {
    dir,
    summary,
    intervals: parsed.intervals,
    skippedIntervalLines: parsed.skipped,
    warnings,
  };
  // The optional files only add to a report: a malformed one is ignored with a warning, not fatal.
  if (files.target !== undefined) {
    const t = parseTargetWindows(files.target);
    out.targetWindows = t.records;
    if (t.skipped > 0) warnings.push(`${join(dir, 'target-metrics.ndjson')}: ${t.skipped} unreadable line(s) skipped`);
  }
  if (files.plan !== undefined) {
    try {
      out.plan = JSON.parse(files.plan);
    } catch (err) {
      warnings.push(`${join(dir, 'plan.resolved.json')} is not valid JSON (${(err as Error).message}); ignored`);
    }
  }
  if (files.comparison !== undefined) {
    let c: unknown;
    try {
      c = JSON.parse(files.comparison);
    } catch (err) {
      warnings.push(`${join(dir, 'comparison.json')} is not valid JSON (${(err as Error).message}); ignored`);
    }
    if (c !== undefined) {
      if (
        isObject(c) &&
        c.format === 'preflight-comparison/1' &&
        Array.isArray(c.scenarios) &&
        typeof c.verdict === 'string'
      )
        out.comparison = c as unknown as Comparison;
      else
        warnings.push(
          `${join(dir, 'comparison.json')} is not a Preflight comparison ("format": "preflight-comparison/1"); ignored`,
        );
    }
  }
  return out;
}

/** Read a results folder. Throws a PreflightError (E_ARGS) when there is no summary.json. */
export async function loadResults(dir: string): Promise<LoadedResults> {
  const read = async (name: string): Promise<string | undefined> => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new PreflightError('E_ARGS', `cannot read ${join(dir, name)}: ${(err as Error).message}`, { cause: err });
    }
  };
  const [summary, intervals, plan, comparison, target] = await Promise.all([
    read('summary.json'),
    read('intervals.ndjson'),
    read('plan.resolved.json'),
    read('comparison.json'),
    read('target-metrics.ndjson'),
  ]);
  if (summary === undefined) throw missingSummary(dir);
  return assemble(dir, { summary, intervals, plan, comparison, target });
}

/** Synchronous loadResults (for compareRuns). */
export function loadResultsSync(dir: string): LoadedResults {
  const read = (name: string): string | undefined => {
    const p = join(dir, name);
    if (!existsSync(p)) return undefined;
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new PreflightError('E_ARGS', `cannot read ${p}: ${(err as Error).message}`, { cause: err });
    }
  };
  const summary = read('summary.json');
  if (summary === undefined) throw missingSummary(dir);
  return assemble(dir, {
    summary,
    intervals: read('intervals.ndjson'),
    plan: read('plan.resolved.json'),
    comparison: read('comparison.json'),
    target: read('target-metrics.ndjson'),
  });
}

/** Scenario-level interval records (no group) of one scenario, in time order. */
export function scenarioIntervals(
  intervals: readonly IntervalRecord[],
  scenario: string,
  group?: string,
): IntervalRecord[] {
  return intervals
    .filter(
      (r) =>
        r.scenario === scenario &&
        (group === undefined ? r.group === undefined || r.group === null || r.group === '' : r.group === group),
    )
    .sort((a, b) => a.t - b.t || a.start_s - b.start_s);
}
