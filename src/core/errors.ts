/**
 * Errors that abort a command. A failed *request* is never one of these: it is data (see ErrorClass).
 * Each error has a stable code so callers (and tests) can branch on it without parsing messages.
 */
import { ExitCode } from './exit-codes.js';

export type PreflightErrorCode =
  | 'E_PLAN_INVALID'
  | 'E_PLAN_NOT_FOUND'
  | 'E_ARGS'
  | 'E_DATA_INVALID'
  | 'E_TARGET_UNREACHABLE'
  | 'E_TARGET_NOT_READY'
  | 'E_MODEL_MISMATCH'
  | 'E_RESULTS_IO'
  /** Ctrl-C before load started (e.g. while data files were read): nothing was sent. */
  | 'E_INTERRUPTED'
  /** Scale-out: the message system cannot be reached, a worker never became ready, the run id was used. Nothing (more) was measured. */
  | 'E_SCALE_OUT'
  | 'E_INTERNAL';

/** A problem found in user input, with where it is and how to fix it. */
export interface Problem {
  /** File path (or '<args>' for command-line arguments). */
  file?: string;
  line?: number;
  column?: number;
  /** Dotted path inside the document, e.g. `scenarios.steady.rate`. */
  path?: string;
  message: string;
  hint?: string;
}

export function formatProblem(p: Problem): string {
  const loc = p.file ? `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}` : '';
  const where = p.path ? ` (${p.path})` : '';
  const hint = p.hint ? `\n    hint: ${p.hint}` : '';
  return `${loc ? `${loc}: ` : ''}${p.message}${where}${hint}`;
}

export class PreflightError extends Error {
  readonly code: PreflightErrorCode;
  readonly exitCode: ExitCode;
  readonly problems: Problem[];
  constructor(
    code: PreflightErrorCode,
    message: string,
    opts: { exitCode?: ExitCode; problems?: Problem[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PreflightError';
    this.code = code;
    this.problems = opts.problems ?? [];
    this.exitCode = opts.exitCode ?? exitCodeFor(code);
  }
}

function exitCodeFor(code: PreflightErrorCode): ExitCode {
  switch (code) {
    case 'E_PLAN_INVALID':
    case 'E_PLAN_NOT_FOUND':
    case 'E_ARGS':
    case 'E_DATA_INVALID':
    case 'E_MODEL_MISMATCH':
      return ExitCode.InvalidPlan;
    case 'E_TARGET_UNREACHABLE':
    case 'E_TARGET_NOT_READY':
      return ExitCode.TargetUnreachable;
    case 'E_RESULTS_IO':
      return ExitCode.ResultsWriteFailed;
    case 'E_INTERRUPTED':
      return ExitCode.Interrupted;
    case 'E_SCALE_OUT':
      return ExitCode.RunInvalid;
    default:
      return ExitCode.InternalError;
  }
}

export class PlanError extends PreflightError {
  constructor(problems: Problem[], message = `plan has ${problems.length} problem${problems.length === 1 ? '' : 's'}`) {
    super('E_PLAN_INVALID', message, { problems });
    this.name = 'PlanError';
  }
}

export class DataError extends PreflightError {
  constructor(problems: Problem[], message = `data has ${problems.length} problem${problems.length === 1 ? '' : 's'}`) {
    super('E_DATA_INVALID', message, { problems });
    this.name = 'DataError';
  }
}

export class TargetUnreachableError extends PreflightError {
  constructor(message: string, cause?: unknown) {
    super('E_TARGET_UNREACHABLE', message, { cause });
    this.name = 'TargetUnreachableError';
  }
}
