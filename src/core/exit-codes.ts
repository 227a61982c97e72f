/**
 * Process exit codes of the `preflight` command. Stable: CI scripts gate on them.
 * Documented in README.md ("Exit codes").
 */
export const ExitCode = {
  /** Run finished, every threshold held. */
  Passed: 0,
  /** Unexpected internal failure (a bug in Preflight). */
  InternalError: 1,
  /** The plan file or the command-line arguments are invalid. Nothing was sent. */
  InvalidPlan: 2,
  /** Run finished and at least one threshold failed. */
  ThresholdsFailed: 3,
  /** Results cannot be trusted: the load generator was overloaded, a worker died, or a scenario served no request. */
  RunInvalid: 4,
  /** The target could not be reached (or was not ready) before load started. Nothing was measured. */
  TargetUnreachable: 5,
  /** `compare` / `run --baseline`: a significant regression beyond tolerance. */
  Regression: 6,
  /**
   * The results could not be written (disk full, folder removed or made read-only mid-run). What
   * was written before the failure is kept intact; the verdict printed above it, if any, stands.
   */
  ResultsWriteFailed: 7,
  /** Interrupted (Ctrl-C, SIGTERM or SIGHUP). Partial results were kept. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
