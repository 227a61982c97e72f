/**
 * Ctrl-C / SIGTERM / SIGHUP for long commands: the first signal aborts (the run stops within a
 * second and keeps partial results), a second one quits at once. SIGHUP is what a closed terminal,
 * a dropped SSH session or some CI cancels send: without a handler Node dies at once and the summary
 * is lost, so it is treated like Ctrl-C.
 */
import { ExitCode } from '../core/exit-codes.js';
import { paint, useColor } from './format.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export async function withInterrupt<T>(
  what: string,
  body: (signal: AbortSignal) => Promise<T>,
  /** What stopping does, for the message (a proxy keeps no results: it removes its faults). */
  stopping = 'keeping partial results',
): Promise<T> {
  const controller = new AbortController();
  const err = process.stderr;
  const c = paint(useColor(err));
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (sig === 'SIGHUP') {
      // The terminal may be gone: writing to it fails (EIO/EPIPE). Keep going so the results are
      // written; what cannot be printed is lost, the files are not.
      const ignore = () => {};
      process.stdout.on('error', ignore);
      process.stderr.on('error', ignore);
    }
    if (interrupts === 1) {
      err.write(c.yellow(`\ninterrupted (${sig}): stopping ${what}, ${stopping} (Ctrl-C again to quit at once)\n`));
      controller.abort();
    } else process.exit(ExitCode.Interrupted);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  try {
    return await body(controller.signal);
  } finally {
    for (const s of SIGNALS) process.off(s, onSignal);
  }
}
