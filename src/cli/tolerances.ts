/**
 * `--tolerance` arguments of `preflight compare` as typed tolerances for the comparison decision.
 */
import { PreflightError } from '../core/errors.js';
import { COMPARISON_METRICS, PROPORTION_METRICS } from '../report/index.js';
import type { Tolerance } from '../report/index.js';

function argsError(message: string, hint?: string): PreflightError {
  return new PreflightError('E_ARGS', message, { problems: [{ file: '<args>', message, hint }] });
}

/**
 * Parse `latency.p99=10%`, `latency=10%` (p50 and p99), `error_rate=0.5pp`; several may be
 * comma-separated. Latency, service time and throughput take `%`; error_rate and accuracy take `pp`.
 */
export function parseTolerances(spec: string | readonly string[]): Tolerance[] {
  const parts = (typeof spec === 'string' ? [spec] : spec)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const out: Tolerance[] = [];
  for (const part of parts) {
    const m = /^([a-z_.0-9]+)\s*[=:]\s*([0-9]*\.?[0-9]+)\s*(%|pp)$/i.exec(part);
    if (!m)
      throw argsError(
        `cannot parse tolerance "${part}"`,
        'write metric=value%, e.g. latency.p99=10% or error_rate=0.5pp',
      );
    const name = m[1].toLowerCase().replace(/-/g, '_');
    const value = Number(m[2]);
    const unit = m[3].toLowerCase();
    const metrics = COMPARISON_METRICS.filter((k) => k === name || k.startsWith(`${name}.`));
    if (metrics.length === 0)
      throw argsError(`unknown metric "${m[1]}" in tolerance "${part}"`, `metrics: ${COMPARISON_METRICS.join(', ')}`);
    for (const metric of metrics) {
      if (PROPORTION_METRICS.has(metric)) {
        if (unit !== 'pp')
          throw argsError(`${metric} tolerance must be in percentage points: "${part}"`, `e.g. ${metric}=0.5pp`);
        out.push({ metric, maxRegressionPp: value });
      } else {
        if (unit !== '%') throw argsError(`${metric} tolerance must be a percentage: "${part}"`, `e.g. ${metric}=10%`);
        out.push({ metric, maxRegressionPct: value });
      }
    }
  }
  return out;
}
