/**
 * What runProfile takes and returns. The answer is what `summary.profiles.<type>` holds, in the
 * shape the reports render (src/report/profiles.ts): `answer`, `numbers`, `curves`, `marks`, plus
 * the details behind them.
 */
import type { ExitCode } from '../core/exit-codes.js';
import type { IntervalRecord, Summary } from '../core/results.js';
import type { ProfileType } from '../plan/types.js';
import type { FaultInjectorFactory, ProgressUpdate } from '../run/index.js';

export interface Curve {
  title: string;
  x_label: string;
  y_label: string;
  points?: Array<[number, number]>;
  series?: Array<{ name: string; points: Array<[number, number]> }>;
}

export interface Mark {
  t_s: number;
  label: string;
  scenario?: string;
}

export interface ProfileAnswer {
  type: ProfileType;
  /** passed: the question's answer is acceptable (see docs/profiles.md per profile). */
  verdict: 'passed' | 'failed' | 'inconclusive';
  /** The answer in one or two sentences. */
  answer: string;
  /** Headline figures (names ending _ms, _s, _rate, … are formatted by the reports). */
  numbers: Record<string, number | string | boolean | null>;
  curves?: Curve[];
  marks?: Mark[];
  /** The evidence: steps, phases, drift tests, … (profile-specific). */
  [detail: string]: unknown;
}

export interface ProfileRunOptions {
  /** Results folder (default results/<timestamp>). Multi-run profiles write steps/<n>/ inside it. */
  outDir?: string;
  /** Abort → stop within a second, keep partial results and a partial answer, verdict interrupted. */
  signal?: AbortSignal;
  /** Live progress of the run (or of the current step's run). */
  onProgress?: (p: ProgressUpdate) => void;
  /** Each merged window's records, of the run (or of each step's run, one after another). */
  onWindow?: (records: IntervalRecord[]) => void;
  /** One line per step or event ("step 3/8: 150/s …"), for a terminal or a log. */
  log?: (line: string) => void;
  /** Skip the reachability check (tests). */
  skipTargetCheck?: boolean;
  /** Opens the fault proxy of a plan with `faults:` (default: the wired one; tests pass their own). */
  faultInjector?: FaultInjectorFactory;
  /** The load started at this performance.now() (single-run profiles; tests compare with a server's log). */
  onStart?: (t: number) => void;
}

export interface ProfileResult {
  summary: Summary;
  outDir: string;
  exitCode: ExitCode;
  answer: ProfileAnswer;
}
