#!/usr/bin/env node
/**
 * The `preflight` command: a thin layer over the library. Parses arguments, maps errors to exit
 * codes, and renders to the terminal. All real work lives in the library modules.
 */
import { ExitCode } from '../core/exit-codes.js';
import { formatProblem, PreflightError } from '../core/errors.js';
import { problemFromError } from '../core/output-path.js';
import { paint, useColor } from './format.js';
import { commands, usage } from './commands.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? ExitCode.InvalidPlan : ExitCode.Passed;
  }
  if (name === '-v' || name === '--version' || name === 'version') {
    const { toolVersion } = await import('../run/summary.js');
    process.stdout.write(`preflight ${toolVersion()}\n`);
    return ExitCode.Passed;
  }
  const cmd = commands[name];
  if (!cmd) {
    const known = Object.keys(commands);
    process.stderr.write(
      `preflight: unknown command "${name}". Commands: ${known.join(', ')}. See preflight --help.\n`,
    );
    return ExitCode.InvalidPlan;
  }
  // `preflight run --help` and the like: the usage (serve has its own, longer help).
  if (name !== 'serve' && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(usage());
    return ExitCode.Passed;
  }
  return cmd(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const c = paint(useColor(process.stderr));
    const err = asWriteFailure(e);
    if (err instanceof PreflightError) {
      process.stderr.write(`${c.red('error')} [${err.code}] ${err.message}\n`);
      for (const p of err.problems) process.stderr.write(`  ${formatProblem(p)}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`${c.red('internal error')}: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = ExitCode.InternalError;
    }
  },
);

/**
 * A disk that fills up (or a folder made read-only) under a writer that has no error handling of
 * its own is still a results write failure, not a bug: one clear line and exit 7, no stack trace.
 */
function asWriteFailure(e: unknown): unknown {
  const x = e as NodeJS.ErrnoException;
  const writing = ['write', 'open', 'mkdir', 'rename', 'copyfile', 'close', 'ftruncate', 'fsync'];
  if (e instanceof PreflightError || !x || typeof x.code !== 'string' || !writing.includes(x.syscall ?? '')) return e;
  if (!['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG'].includes(x.code)) return e;
  const p = problemFromError(x.path ?? 'a results file', e);
  return new PreflightError('E_RESULTS_IO', `cannot write ${p.message}`, {
    cause: e,
    problems: p.hint ? [{ message: 'files written before this one are intact', hint: p.hint }] : [],
  });
}
