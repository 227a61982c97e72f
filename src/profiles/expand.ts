/**
 * A profile plan → the plan(s) that run: what every kind's expansion (src/profiles/kinds/) builds
 * with — scenarios from the `scenario:` template with the load the kind asks for. Pure (no I/O).
 */
import type {
  ConstantArrivalRateConfig,
  ConstantConcurrencyConfig,
  ExecutorConfig,
  Plan,
  PlanOf,
  ProfilePlan,
  ScenarioCommon,
  ScenarioPlan,
  ScenarioTemplate,
  SteadyLoad,
  ThresholdPlan,
} from '../plan/types.js';
import { scaleFaults, scaleMonitor } from '../plan/index.js';

/** The load of a generated scenario: an executor's config, and when it starts (and drains) in the run. */
export type Load = ExecutorConfig & Partial<Pick<ScenarioCommon, 'startTimeMs' | 'gracefulStopMs'>>;

/** A scenario from the template, with `name` and the load set. */
export function fromTemplate(template: ScenarioTemplate, name: string, load: Load): ScenarioPlan {
  // The template's `executor` is a placeholder; the load's goes after what to send (key order as before).
  const { executor: _e, ...what } = template;
  return { ...what, name, startTimeMs: 0, ...load };
}

/** Open load: `rate` per second for `durationMs` (evenly spaced arrivals unless the caller says otherwise). */
export function constantRate(rate: number, durationMs: number): ConstantArrivalRateConfig {
  return { executor: 'constant-arrival-rate', arrival: 'uniform', rate, durationMs };
}

/** Closed load: `concurrency` requests in flight for `durationMs`. */
export function constantConcurrency(concurrency: number, durationMs: number): ConstantConcurrencyConfig {
  return { executor: 'constant-concurrency', arrival: 'uniform', concurrency, durationMs };
}

/** Unscoped thresholds applied to one scenario (`p99 < 250ms` → `step-2.p99 < 250ms`). */
export function scopedTo(thresholds: readonly ThresholdPlan[], scenario: string): ThresholdPlan[] {
  return thresholds.map((t) => ({ ...t, scenario, expression: `${scenario}.${t.expression.trim()}` }));
}

/** A phase of a single-run profile: one generated scenario. */
export interface Phase {
  name: string;
  startS: number;
  endS: number;
  rate?: number;
  concurrency?: number;
}

export interface Expansion {
  plan: Plan;
  phases: Phase[];
}

export function planWith(base: Plan, scenarios: ScenarioPlan[], thresholds: ThresholdPlan[]): Plan {
  // A step or phase is not the whole test: the profile computes the cost (capacity), not each run.
  const { profile: _p, cost: _c, ...rest } = base;
  return { ...rest, scenarios, thresholds };
}

export function phases(scenarios: ScenarioPlan[]): Phase[] {
  return scenarios.map((s) => {
    const p: Phase = { name: s.name, startS: s.startTimeMs / 1000, endS: (s.startTimeMs + (s.durationMs ?? 0)) / 1000 };
    if ('rate' in s) p.rate = s.rate;
    if ('concurrency' in s) p.concurrency = s.concurrency;
    return p;
  });
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The load of soak and rollout: an arrival rate, or a concurrency. */
function steadyLoad(p: SteadyLoad & { durationMs: number }): Load {
  return p.concurrency !== undefined
    ? constantConcurrency(p.concurrency, p.durationMs)
    : constantRate(p.rate, p.durationMs);
}

/** soak, rollout: one scenario at constant load for the whole duration; thresholds over the whole run. */
export function steadyScenario(plan: PlanOf<'soak' | 'rollout' | 'resilience'>): Expansion {
  const s = fromTemplate(plan.profile.template, plan.profile.type, steadyLoad(plan.profile));
  return { plan: planWith(plan, [s], plan.thresholds), phases: phases([s]) };
}

/** sweep / capacity: the plan of one step, at a rate (open) or a concurrency (closed), for at most `durationMs`. */
export function stepPlan(
  plan: PlanOf<'sweep' | 'capacity'>,
  name: string,
  level: { mode: 'rate' | 'concurrency'; value: number },
  durationMs: number,
): Plan {
  const p = plan.profile;
  const load =
    level.mode === 'rate' ? constantRate(level.value, durationMs) : constantConcurrency(level.value, durationMs);
  return planWith(plan, [fromTemplate(p.template, name, load)], []);
}

/**
 * The same profile with every duration multiplied by `factor` (and the metrics interval with it,
 * at least 100 ms), to try a plan quickly: `preflight run plan.yaml --time-scale 0.1`. Rates stay.
 */
export function scaleProfile(plan: Plan, factor: number): Plan {
  const p = plan.profile;
  if (!p || factor === 1) return plan;
  const f = (x: number | undefined): number | undefined =>
    x === undefined ? undefined : Math.max(1, Math.round(x * factor));
  // Every kind's durations by name (the kinds differ in which they have): a record, not the union.
  const q: Record<string, unknown> = { ...p };
  for (const k of [
    'stepDurationMs',
    'holdMs',
    'maxDurationMs',
    'durationMs',
    'warmupMs',
    'bucketMs',
    'beforeMs',
    'spikeMs',
    'afterMs',
    'atMs',
    'actionTimeoutMs',
    'cooldownMs',
  ]) {
    const v = q[k];
    if (typeof v === 'number' && v !== 0) q[k] = f(v);
  }
  const intervalMs = Math.max(100, Math.round(plan.options.intervalMs * factor));
  if ('steady' in p)
    q['steady'] = {
      ...p.steady,
      windowMs: Math.max(intervalMs, f(p.steady.windowMs) ?? intervalMs),
      maxStepMs: f(p.steady.maxStepMs),
    };
  if ('trace' in p) q['trace'] = { ...p.trace, speed: p.trace.speed / factor };
  q['template'] = { ...p.template, gracefulStopMs: f(p.template.gracefulStopMs) };
  const out: Plan = { ...plan, profile: q as unknown as ProfilePlan, options: { ...plan.options, intervalMs } };
  if (plan.faults) out.faults = scaleFaults(plan.faults, factor);
  if (plan.monitor) out.monitor = scaleMonitor(plan.monitor, factor);
  return out;
}
