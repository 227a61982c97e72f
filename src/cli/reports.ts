/**
 * CLI glue for report files and baseline comparison.
 */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;
import { ExitCode } from '../core/exit-codes.js';
import { PreflightError } from '../core/errors.js';
import { problemFromError } from '../core/output-path.js';
import { redact } from '../plan/index.js';
import {
  compareResults,
  compareRuns,
  comparisonExitCode,
  loadResultsSync,
  formatComparisonText,
  writeAllReports,
  writeComparison,
} from '../report/index.js';
import { paint, useColor } from './format.js';
import { parseTolerances } from './tolerances.js';

export async function writeReportsFor(dir: string, quiet: boolean): Promise<void> {
  const written = await writeAllReports(dir).catch((e: unknown) => {
    throw writeFailure(
      e,
      dir,
      'the reports',
      'summary.json and intervals.ndjson are complete and the verdict stands (exit code 7 only says the reports are missing); `preflight report DIR` renders them once there is space',
    );
  });
  const c = paint(useColor(process.stderr));
  for (const w of written.warnings ?? []) process.stderr.write(c.yellow(`warning: ${w}\n`));
  if (!quiet) {
    if (written.html) process.stdout.write(`report: ${written.html}\n`);
    const others = [written.markdown, written.junit, written.csv].filter((f): f is string => Boolean(f));
    if (others.length > 0) process.stderr.write(c.dim(`also: ${others.map((f) => path.basename(f)).join(', ')}\n`));
  }
}

export async function reportCommand(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {});
  if (positionals.length !== 1)
    throw new PreflightError('E_ARGS', 'report takes one results folder: preflight report <results-dir>');
  await writeReportsFor(positionals[0], false);
  return ExitCode.Passed;
}

export async function compareCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { tolerance: { type: 'string', multiple: true } });
  if (positionals.length !== 2)
    throw new PreflightError(
      'E_ARGS',
      'compare takes two results folders: preflight compare <baseline-dir> <candidate-dir>',
    );
  const tolerances = parseTolerances((values.tolerance as string[] | undefined) ?? []);
  const [base, cand] = [loadResultsSync(positionals[0]), loadResultsSync(positionals[1])];
  const c = paint(useColor(process.stderr));
  for (const w of [...(base.warnings ?? []), ...(cand.warnings ?? [])])
    process.stderr.write(c.yellow(`warning: ${w}\n`));
  const cmp = compareResults(base, cand, tolerances);
  process.stdout.write(formatComparisonText(cmp, { color: useColor() }) + '\n');
  return comparisonExitCode(cmp.verdict);
}

/**
 * `run --baseline DIR`: compare, write comparison.json into the run's folder; true when regressed.
 * `secrets`: the run's plan's, redacted from comparison.json and the printed table.
 */
export async function baselineCompare(
  baselineDir: string,
  runDir: string,
  quiet: boolean,
  secrets: readonly string[],
): Promise<boolean> {
  const cmp = compareRuns(baselineDir, runDir, []);
  await writeComparison(runDir, cmp, secrets).catch((e: unknown) => {
    throw writeFailure(
      e,
      runDir,
      'comparison.json',
      'summary.json and intervals.ndjson are complete; `preflight compare BASELINE DIR` compares them again',
    );
  });
  if (!quiet) process.stdout.write('\n' + redact(formatComparisonText(cmp, { color: useColor() }), secrets) + '\n');
  return cmp.verdict === 'regression';
}

/** A filesystem error while writing into a results folder → one clear E_RESULTS_IO error (exit 7). */
function writeFailure(e: unknown, dir: string, what: string, kept: string): unknown {
  if (e instanceof PreflightError || typeof (e as NodeJS.ErrnoException)?.code !== 'string') return e;
  const p = problemFromError(what, e);
  return new PreflightError('E_RESULTS_IO', `cannot write ${what} in ${dir}: ${p.message.replace(`${what}: `, '')}`, {
    cause: e,
    problems: [{ message: kept.replace('DIR', dir), hint: p.hint }],
  });
}

function parse(argv: string[], options: ParseArgsOptions) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new PreflightError('E_ARGS', (e as Error).message);
  }
}
