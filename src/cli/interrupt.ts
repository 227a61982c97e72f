/**
 * Ctrl-C / SIGTERM for long commands: the first signal aborts (the run stops within a second and
 * keeps partial results), a second one quits at once.
 */
import { ExitCode } from '../core/exit-codes.js';
import { paint, useColor } from './format.js';

export async function withInterrupt<T>(what: string, body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const err = process.stderr;
  const c = paint(useColor(err));
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      err.write(c.yellow(`\ninterrupted: stopping ${what}, keeping partial results (Ctrl-C again to quit at once)\n`));
      controller.abort();
    } else process.exit(ExitCode.Interrupted);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await body(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
