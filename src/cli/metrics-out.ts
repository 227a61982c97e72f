/**
 * `--metrics-port`, `--metrics-host`, `--metrics-linger` for `preflight run` (plain runs and profiles):
 * the flags, the line on the terminal, the hooks that feed the exporter, and its end (final figures, linger).
 */
import { tryParseDuration } from '../core/duration.js';
import { PreflightError } from '../core/errors.js';
import type { Summary } from '../core/results.js';
import { isLoopback, type LiveMetrics, MAX_LINGER_MS, type ProgressUpdate } from '../run/index.js';
import { paint, useColor } from './format.js';

export interface MetricsOut {
  exporter: LiveMetrics;
  lingerMs: number;
}

/** The flags → the exporter's settings (undefined without --metrics-port). Throws E_ARGS. */
export function metricsArgs(
  values: Record<string, unknown>,
): { port: number; host: string; lingerMs: number } | undefined {
  const raw = values['metrics-port'] as string | undefined;
  if (raw === undefined) {
    for (const f of ['metrics-host', 'metrics-linger'])
      if (values[f] !== undefined) throw new PreflightError('E_ARGS', `--${f} needs --metrics-port`);
    return undefined;
  }
  const port = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(port >= 0 && port <= 65535))
    throw new PreflightError('E_ARGS', `--metrics-port must be an integer 0–65535 (0 = any free port), got "${raw}"`);
  const host = (values['metrics-host'] as string | undefined) ?? '127.0.0.1';
  let lingerMs = 0;
  const linger = values['metrics-linger'] as string | undefined;
  if (linger !== undefined) {
    const d = tryParseDuration(linger);
    if (!d.ok || d.value > MAX_LINGER_MS)
      throw new PreflightError(
        'E_ARGS',
        `--metrics-linger must be a duration up to ${MAX_LINGER_MS / 60_000}m (e.g. 5s), got "${linger}"`,
      );
    lingerMs = d.value;
  }
  return { port, host, lingerMs };
}

/** Says where the metrics are; off loopback anyone who reaches the port reads them: a warning even when quiet. */
export function announceMetrics(
  m: MetricsOut | undefined,
  quiet: boolean,
  err: NodeJS.WriteStream = process.stderr,
): void {
  if (!m) return;
  const c = paint(useColor(err));
  const url = m.exporter.url;
  const open = !isLoopback(new URL(url).hostname.replace(/^\[|\]$/g, ''));
  if (open) err.write(c.yellow(`warning: live metrics are served beyond loopback, at ${url}\n`));
  else if (!quiet) err.write(c.dim(`live metrics at ${url}\n`));
}

/** run()'s (or runProfile()'s) onProgress beside the terminal view's, and onWindow. */
export function metricsHooks(m: MetricsOut | undefined, view: ((p: ProgressUpdate) => void) | undefined) {
  const live = m?.exporter;
  return {
    onProgress:
      view || live
        ? (p: ProgressUpdate) => {
            view?.(p);
            live?.onProgress(p);
          }
        : undefined,
    onWindow: live ? live.onWindow.bind(live) : undefined,
  };
}

/** The run's end: final figures, then serve them `--metrics-linger` longer (Ctrl-C ends it). */
export async function finishMetrics(
  m: MetricsOut | undefined,
  summary: Summary,
  exitCode: number,
  signal: AbortSignal,
  quiet: boolean,
): Promise<void> {
  if (!m) return;
  m.exporter.finish(summary, exitCode);
  if (m.lingerMs > 0 && !signal.aborted && !quiet) {
    const err = process.stderr;
    err.write(
      paint(useColor(err)).dim(`serving the final metrics for ${m.lingerMs / 1000} s more (Ctrl-C ends this)\n`),
    );
  }
  await m.exporter.linger(m.lingerMs, signal);
}
