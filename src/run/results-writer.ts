/**
 * The results folder, written as the run goes: intervals are appended (synchronously, one write a
 * window) so a crash loses at most the current window; the summary is written atomically.
 *
 * A write that fails (a full disk, the folder removed) does not crash the run: the first failure is
 * kept, intervals.ndjson is cut back to its last complete line, later windows are not written, and
 * `finish` reports it once as a ResultsWriteError (exit 7) that carries the summary, so the verdict
 * can still be shown. What was written before the failure stays intact.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PreflightError } from '../core/errors.js';
import { ensureDir, problemFromError, type PathProblem } from '../core/output-path.js';
import type { IntervalRecord, Summary } from '../core/results.js';
import { holdsPreflightSummary, jsonFileText, writeFileAtomicSync } from '../core/results-files.js';

/** Every file a run, a profile or `report`/`compare --baseline` writes at the top of a results folder. */
export const RESULT_FILES = [
  'summary.json',
  'intervals.ndjson',
  'plan.resolved.json',
  'report.html',
  'summary.md',
  'junit.xml',
  'intervals.csv',
  'comparison.json',
  'target-metrics.ndjson',
  'faults.ndjson',
] as const;

/** A results file could not be written. `summary`: the run's summary, when the run itself finished. */
export class ResultsWriteError extends PreflightError {
  summary?: Summary;
  constructor(
    readonly dir: string,
    problem: PathProblem,
    readonly kept: string[],
    cause?: unknown,
  ) {
    super('E_RESULTS_IO', `cannot write results to ${dir}: ${problem.message}`, {
      cause,
      problems: [
        {
          message: kept.length > 0 ? `kept intact: ${kept.join(', ')}` : 'no results file was complete yet',
          hint: problem.hint,
        },
      ],
    });
    this.name = 'ResultsWriteError';
  }
}

interface Failure {
  problem: PathProblem;
  cause: unknown;
  /** The results file whose write failed (set for kept failures). */
  file?: string;
}

/**
 * Makes `dir` ready for a new run: checks it is a folder that can be written (a bad path is an
 * E_ARGS error, exit 2; a full disk E_RESULTS_IO), creates it, and removes what an earlier run left
 * there — Preflight's own files only (RESULT_FILES, their .tmp leftovers, and profile `steps/N/`
 * folders holding only those): a stale comparison.json or report must not mix into the new run.
 * Anything else in the folder is left alone. A folder holding files with those names that no
 * Preflight run wrote (someone's own summary.json) is refused rather than overwritten.
 */
export function prepareOutDir(dir: string): void {
  if (dir.trim() === '')
    throw new PreflightError('E_ARGS', 'the results folder is empty ("")', {
      problems: [{ message: '--out needs a folder name', hint: 'e.g. --out results/my-run' }],
    });
  const problem = ensureDir(dir);
  if (problem) {
    throw new PreflightError(problem.argument ? 'E_ARGS' : 'E_RESULTS_IO', `cannot write results to ${dir}`, {
      problems: [{ message: problem.message, hint: problem.hint }],
    });
  }
  const present = RESULT_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
  if (present.length > 0 && !holdsPreflightResult(dir)) {
    throw new PreflightError(
      'E_ARGS',
      `${dir} holds ${present.join(', ')} that no Preflight run wrote: refusing to overwrite them`,
      {
        problems: [
          {
            message: `a Preflight run writes ${present.join(', ')} into its results folder`,
            hint: 'choose a new or empty folder for --out',
          },
        ],
      },
    );
  }
  try {
    clearResultFiles(dir);
    const steps = path.join(dir, 'steps');
    for (const name of fs.existsSync(steps) && fs.statSync(steps).isDirectory() ? fs.readdirSync(steps) : []) {
      const step = path.join(steps, name);
      if (!/^\d+$/.test(name) || !fs.statSync(step).isDirectory()) continue;
      clearResultFiles(step);
      if (fs.readdirSync(step).length === 0) fs.rmdirSync(step);
    }
    if (fs.existsSync(steps) && fs.statSync(steps).isDirectory() && fs.readdirSync(steps).length === 0)
      fs.rmdirSync(steps);
  } catch (err) {
    const p = problemFromError(dir, err);
    throw new PreflightError(p.argument ? 'E_ARGS' : 'E_RESULTS_IO', `cannot clear the previous results in ${dir}`, {
      problems: [{ message: p.message, hint: p.hint }],
    });
  }
}

/** A run wrote here: plan.resolved.json (written before load starts) or a Preflight summary.json. */
function holdsPreflightResult(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'plan.resolved.json')) || holdsPreflightSummary(dir);
}

function clearResultFiles(dir: string): void {
  for (const f of RESULT_FILES) {
    fs.rmSync(path.join(dir, f), { force: true });
    fs.rmSync(path.join(dir, `${f}.tmp`), { force: true });
  }
}

export class ResultsWriter {
  private fd: number | null = null;
  /** Bytes of complete lines in intervals.ndjson, and how many windows they hold. */
  private bytes = 0;
  private windows = 0;
  private readonly written = new Set<string>();
  /** The first write that failed (later ones are not attempted). */
  private failure: Failure | null = null;

  constructor(
    readonly dir: string,
    private readonly redact: (s: string) => string,
  ) {
    prepareOutDir(dir);
    try {
      this.fd = fs.openSync(path.join(dir, 'intervals.ndjson'), 'w');
    } catch (e) {
      throw new ResultsWriteError(dir, problemFromError('intervals.ndjson', e), [], e);
    }
  }

  /** Writes a JSON file atomically (tmp + rename): a failure leaves any earlier version as it was. */
  writeJson(name: string, value: unknown): void {
    const f = this.tryWriteJson(name, value);
    if (f) throw new ResultsWriteError(this.dir, f.problem, this.kept(), f.cause);
  }

  /**
   * Writes an NDJSON file at once, atomically (target-metrics.ndjson: read after the load, not live).
   * A failure is kept (reported by `finish`, with the summary still written if it can be), not thrown:
   * the run's results must not be lost for a side file.
   */
  writeNdjson(name: string, records: readonly unknown[]): void {
    const f = this.tryWriteJson(name, records);
    if (f && !this.failure) this.failure = { ...f, file: name };
  }

  private tryWriteJson(name: string, value: unknown): Failure | null {
    try {
      const text = name.endsWith('.ndjson')
        ? (value as unknown[]).map((r) => `${JSON.stringify(r)}\n`).join('')
        : jsonFileText(value);
      writeFileAtomicSync(path.join(this.dir, name), this.redact(text));
      this.written.add(name);
      return null;
    } catch (e) {
      return { problem: problemFromError(name, e), cause: e };
    }
  }

  appendIntervals(records: IntervalRecord[]): void {
    if (this.fd === null || records.length === 0) return;
    let text = '';
    for (const r of records) text += JSON.stringify(r) + '\n';
    const buf = Buffer.from(this.redact(text));
    try {
      // writeSync may write part of the buffer (a nearly full disk): loop, bounded.
      let off = 0;
      for (let i = 0; off < buf.length && i < 64; i++) off += fs.writeSync(this.fd, buf, off);
      if (off < buf.length) throw Object.assign(new Error('short write'), { code: 'EIO' });
      this.bytes += buf.length;
      this.windows++;
      this.written.add('intervals.ndjson');
    } catch (e) {
      // Cut the file back to its last complete line, and stop writing intervals.
      try {
        fs.ftruncateSync(this.fd, this.bytes);
      } catch {
        /* the file keeps a cut last line, which readers skip */
      }
      try {
        this.close();
      } catch {
        this.fd = null; // closing a file on a failed disk can fail too; nothing more to do with it
      }
      this.failure = { problem: problemFromError('intervals.ndjson', e), cause: e, file: 'intervals.ndjson' };
    }
  }

  /**
   * Appends one line to a small event log (faults.ndjson: rare events, so one appendFileSync each).
   * A failure is kept like an intervals failure (reported once by `finish`), never thrown mid-run.
   */
  appendEvent(name: 'faults.ndjson', value: unknown): void {
    if (this.failure) return;
    try {
      fs.appendFileSync(path.join(this.dir, name), this.redact(JSON.stringify(value) + '\n'));
      this.written.add(name);
    } catch (e) {
      this.failure = { problem: problemFromError(name, e), cause: e, file: name };
    }
  }

  writeSummary(summary: Summary): void {
    this.writeJson('summary.json', summary);
  }

  /**
   * The last write of a run: summary.json. Throws a ResultsWriteError carrying the summary when
   * this or any earlier write failed (the first failure is the one reported).
   */
  finish(summary: Summary): void {
    if (this.failure)
      summary.warnings.push(
        this.failure.file === 'intervals.ndjson'
          ? `intervals.ndjson is incomplete: it stops after ${this.windows} window(s) because writing failed (${this.failure.problem.message})`
          : `${this.failure.file} is incomplete or missing: writing it failed (${this.failure.problem.message})`,
      );
    const failed = this.tryWriteJson('summary.json', summary);
    const first = this.failure ?? failed;
    if (!first) return;
    const err = new ResultsWriteError(this.dir, first.problem, this.kept(), first.cause);
    err.summary = summary;
    err.problems.push({
      message: `the run itself finished: verdict ${summary.verdict} (its exit code would be ${summary.exitCode}); the exit code is 7 because the results are incomplete`,
    });
    throw err;
  }

  /** What is intact so far, for the error message. */
  private kept(): string[] {
    const out: string[] = [];
    for (const f of this.written)
      out.push(f === 'intervals.ndjson' ? `intervals.ndjson (${this.windows} window(s), complete lines)` : f);
    return out;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

export function defaultOutDir(now = new Date()): string {
  const stamp = now.toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  return path.join('results', stamp);
}
