/**
 * `preflight run` for plans with a `profile:`: live progress and step lines on stderr, then the
 * summary and the profile's answer on stdout. Ctrl-C stops the profile and keeps a partial answer.
 */
import { redact } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import { formatAnswer, runProfile, type ProfileResult } from '../profiles/index.js';
import { paint, useColor } from './format.js';
import { ProgressView } from './progress.js';
import { withInterrupt } from './interrupt.js';
import { renderSummary } from './summary-view.js';
import { announceMetrics, finishMetrics, metricsHooks, type MetricsOut } from './metrics-out.js';

export async function runProfileWithTerminal(
  plan: Plan,
  opts: { outDir?: string; quiet?: boolean; metrics?: MetricsOut },
): Promise<ProfileResult> {
  const err = process.stderr;
  const c = paint(useColor(err));
  let view = opts.quiet ? null : new ProgressView(err);
  if (!opts.quiet)
    err.write(
      c.dim(
        `target ${redact(plan.target.url, plan.secrets)} · profile ${plan.profile!.type} · ${plan.options.workers} worker(s)\n`,
      ),
    );
  announceMetrics(opts.metrics, Boolean(opts.quiet), err);
  return withInterrupt('the profile', async (signal) => {
    const result = await runProfile(plan, {
      outDir: opts.outDir,
      signal,
      ...metricsHooks(opts.metrics, view ? (p) => view!.update(p) : undefined),
      log: opts.quiet
        ? undefined
        : (line) => {
            view?.end();
            err.write(c.cyan(`${redact(line, plan.secrets)}\n`));
            view = new ProgressView(err);
          },
    });
    view?.end();
    const out = paint(useColor());
    process.stdout.write(redact(renderSummary(result.summary), plan.secrets) + '\n\n');
    const [head, ...rest] = formatAnswer(result.answer).map((l) => redact(l, plan.secrets));
    process.stdout.write(out.bold(head) + '\n' + rest.map((l) => out.dim(l)).join('\n') + '\n');
    process.stdout.write(`results: ${result.outDir}\n`);
    await finishMetrics(opts.metrics, result.summary, result.exitCode, signal, Boolean(opts.quiet));
    return result;
  });
}
