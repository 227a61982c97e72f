/**
 * CLI glue for report files and baseline comparison.
 */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;
import { ExitCode } from '../core/exit-codes.js';
import { PreflightError } from '../core/errors.js';
import { compareRuns, comparisonExitCode, formatComparisonText, parseTolerances, writeAllReports, writeComparison } from '../report/index.js';
import { paint, useColor } from './format.js';

export async function writeReportsFor(dir: string, quiet: boolean): Promise<void> {
  const written = await writeAllReports(dir);
  if (!quiet) {
    const c = paint(useColor(process.stderr));
    if (written.html) process.stdout.write(`report: ${written.html}\n`);
    const others = [written.markdown, written.junit, written.csv].filter((f): f is string => Boolean(f));
    if (others.length > 0) process.stderr.write(c.dim(`also: ${others.map((f) => path.basename(f)).join(', ')}\n`));
  }
}

export async function reportCommand(argv: string[]): Promise<number> {
  const { positionals } = parse(argv, {});
  if (positionals.length !== 1) throw new PreflightError('E_ARGS', 'report takes one results folder: preflight report <results-dir>');
  await writeReportsFor(positionals[0], false);
  return ExitCode.Passed;
}

export async function compareCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { tolerance: { type: 'string', multiple: true } });
  if (positionals.length !== 2) throw new PreflightError('E_ARGS', 'compare takes two results folders: preflight compare <baseline-dir> <candidate-dir>');
  const tolerances = parseTolerances((values.tolerance as string[] | undefined) ?? []);
  const cmp = compareRuns(positionals[0], positionals[1], tolerances);
  process.stdout.write(formatComparisonText(cmp, { color: useColor() }) + '\n');
  return comparisonExitCode(cmp);
}

/** `run --baseline DIR`: compare, write comparison.json into the run's folder; true when regressed. */
export async function baselineCompare(baselineDir: string, runDir: string, quiet: boolean): Promise<boolean> {
  const cmp = compareRuns(baselineDir, runDir, []);
  await writeComparison(runDir, cmp);
  if (!quiet) process.stdout.write('\n' + formatComparisonText(cmp, { color: useColor() }) + '\n');
  return cmp.verdict === 'regression';
}

function parse(argv: string[], options: ParseArgsOptions) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new PreflightError('E_ARGS', (e as Error).message);
  }
}
