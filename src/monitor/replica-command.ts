/**
 * Replica counts from a command (plan `monitor.replicas`, docs/monitoring.md#replicas-from-a-command):
 * e.g. `kubectl get deploy model -o jsonpath='{.status.readyReplicas} {.spec.replicas}'`, run without
 * a shell every `every` from the load's start, one run at a time (a run still going when the next is
 * due skips it), each killed after `timeout`. It prints the ready count and optionally the desired
 * one. The child process does the work; this thread only waits for it asynchronously, so the sending
 * threads never wait. A run that fails (exit code, timeout, output that is not counts) is a gap and
 * is counted for one warning — never a crash.
 */
import { execFile } from 'node:child_process';
import type { ReplicaCommand } from '../plan/monitor.js';

export interface ReplicaReading {
  /** ms since the epoch: the middle of the run. */
  t: number;
  ready: number;
  desired?: number;
}

/** Most readings kept (a day at one a second is 86,400). */
const MAX_READINGS = 200_000;

/**
 * `<ready> [<desired>]`, separated by spaces or a comma. An empty first field with a second one is 0
 * (kubectl's jsonpath prints nothing for a missing `readyReplicas`: no replica ready).
 */
export function parseReplicaOutput(text: string): { ready: number; desired?: number } | string {
  const body = text.replace(/\s+$/, '');
  const bad = `expected \`<ready> [<desired>]\` (numbers ≥ 0), got \`${body.slice(0, 60)}\``;
  if (body.trim() === '') return 'it printed nothing (expected `<ready> [<desired>]`)';
  let fields = body.split(/[\s,]+/);
  if (fields[0] === '') fields = ['0', ...fields.slice(1)];
  if (fields.length > 2 || fields.some((f) => !/^\d+(\.\d+)?$/.test(f))) return bad;
  const [ready, desired] = fields.map(Number);
  return desired === undefined ? { ready } : { ready, desired };
}

export class ReplicaSampler {
  readonly readings: ReplicaReading[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<string | undefined> | undefined;
  private stopped = false;
  private failures = 0;
  private runs = 0;
  private lastFailure = '';

  constructor(private readonly cmd: ReplicaCommand) {}

  /** Runs the command once and keeps its reading; resolves with why it failed (undefined: it did not). */
  sample(): Promise<string | undefined> {
    const started = Date.now();
    this.runs++;
    return new Promise((resolve) => {
      execFile(
        this.cmd.argv[0],
        this.cmd.argv.slice(1),
        { timeout: this.cmd.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, encoding: 'utf8' },
        (err, stdout, stderr) => {
          let why: string | undefined;
          if (err) {
            const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
            why = e.killed
              ? `no answer in ${this.cmd.timeoutMs} ms (killed)`
              : typeof e.code === 'number'
                ? `exit code ${e.code}${stderr.trim() ? `: ${stderr.trim().split('\n')[0].slice(0, 200)}` : ''}`
                : `${this.cmd.argv[0]}: ${e.code ?? e.message}`;
          } else {
            const r = parseReplicaOutput(stdout);
            if (typeof r === 'string') why = r;
            else if (this.readings.length < MAX_READINGS) this.readings.push({ t: (started + Date.now()) / 2, ...r });
          }
          if (why !== undefined) {
            this.failures++;
            this.lastFailure = why;
          }
          resolve(why);
        },
      );
    });
  }

  /** Runs it every `everyMs` from now until stop(). */
  start(): void {
    const tick = () => {
      if (this.stopped) return;
      if (!this.inFlight)
        this.inFlight = this.sample().finally(() => {
          this.inFlight = undefined;
        });
      this.timer = setTimeout(tick, this.cmd.everyMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  /** Per window k of n from t0 (length I ms): the mean of the readings in it, or null (a gap). The last takes what follows. */
  perWindow(t0: number, I: number, n: number, part: 'ready' | 'desired'): Array<number | null> {
    const sum = new Array<number>(n).fill(0);
    const count = new Array<number>(n).fill(0);
    for (const r of this.readings) {
      const v = part === 'ready' ? r.ready : r.desired;
      if (v === undefined) continue;
      const k = Math.min(n - 1, Math.floor((r.t - t0) / I));
      if (k < 0) continue;
      sum[k] += v;
      count[k]++;
    }
    return sum.map((s, k) => (count[k] > 0 ? s / count[k] : null));
  }

  /** One warning for the runs that failed (their windows are gaps). */
  warning(): string | undefined {
    return this.failures > 0
      ? `monitor: the replica count command failed ${this.failures} of ${this.runs} time(s) (those moments are gaps): ${this.lastFailure}`
      : undefined;
  }
}
