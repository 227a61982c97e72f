/**
 * `preflight run plan.yaml --time-scale F` for a plan of scenarios (profiles have their own,
 * scaleProfile): every time *in the run's schedule* is multiplied by F — scenario durations, stages,
 * start times, graceful stops, a threshold's abort delay, the metrics interval and the target's scrape
 * interval (at least 100 ms) and a
 * replay trace's gaps (its speed is divided by F), a canary's step durations, a fault timeline's times. Rates, concurrency, think time and timeouts stay:
 * they are the load and the target's limits, not the schedule, so a scaled plan is the same test,
 * shorter.
 */
import { scaleFaults } from './faults.js';
import { scaleMonitor } from './monitor.js';
import type { Plan, ScenarioPlan } from './types.js';

export function scalePlan(plan: Plan, factor: number): Plan {
  if (factor === 1) return plan;
  // at least 1 ms, so a scaled duration stays a duration; 0 (no start offset, no grace) stays 0
  const f = (x: number): number => (x === 0 ? 0 : Math.max(1, Math.round(x * factor)));
  const scenarios = plan.scenarios.map((s): ScenarioPlan => {
    const out = { ...s, startTimeMs: f(s.startTimeMs), gracefulStopMs: f(s.gracefulStopMs) };
    if (out.durationMs !== undefined) out.durationMs = f(out.durationMs);
    if ('stages' in out) {
      out.stages = out.stages.map((st) => ({ ...st, durationMs: f(st.durationMs) }));
      // a ramping scenario lasts the sum of its stages: of the scaled ones (each rounded), not the scaled sum
      out.durationMs = out.stages.reduce((a, st) => a + st.durationMs, 0);
    }
    if ('trace' in out) out.trace = { ...out.trace, speed: out.trace.speed / factor };
    return out;
  });
  const thresholds = plan.thresholds.map((t) => ({ ...t, delayAbortEvalMs: f(t.delayAbortEvalMs) }));
  const intervalMs = Math.max(100, Math.round(plan.options.intervalMs * factor));
  const out: Plan = { ...plan, scenarios, thresholds, options: { ...plan.options, intervalMs } };
  if (plan.faults) out.faults = scaleFaults(plan.faults, factor);
  if (plan.monitor) out.monitor = scaleMonitor(plan.monitor, factor);
  const canary = plan.comparison?.canary;
  if (canary && canary.steps.length > 0)
    out.comparison = {
      ...plan.comparison!,
      canary: { ...canary, steps: canary.steps.map((st) => ({ ...st, durationMs: f(st.durationMs) })) },
    };
  return out;
}
