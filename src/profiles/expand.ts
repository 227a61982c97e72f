/**
 * A profile plan → the plan(s) that run: scenarios built from the `scenario:` template with the
 * load the profile asks for. Pure (no I/O), so each expansion is easy to test and to read.
 */
import type { Plan, ProfilePlan, ScenarioPlan, ThresholdPlan } from '../plan/types.js';

/** A scenario from the template, with `name` and load keys set. */
export function fromTemplate(template: ScenarioPlan, name: string, load: Partial<ScenarioPlan>): ScenarioPlan {
  const { executor: _e, durationMs: _d, rate: _r, concurrency: _c, stages: _s, startRate: _sr, startConcurrency: _sc, trace: _t, ...what } = template;
  return { ...what, name, executor: 'constant-arrival-rate', startTimeMs: 0, ...load };
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

function planWith(base: Plan, scenarios: ScenarioPlan[], thresholds: ThresholdPlan[]): Plan {
  const { profile: _p, ...rest } = base;
  return { ...rest, scenarios, thresholds };
}

function phases(scenarios: ScenarioPlan[]): Phase[] {
  return scenarios.map((s) => {
    const p: Phase = { name: s.name, startS: s.startTimeMs / 1000, endS: (s.startTimeMs + (s.durationMs ?? 0)) / 1000 };
    if (s.rate !== undefined) p.rate = s.rate;
    if (s.concurrency !== undefined) p.concurrency = s.concurrency;
    return p;
  });
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** load: `steps` steps up to `rate` (rate·k/steps), each `stepDuration`, the last one `hold`. */
export function expandLoad(plan: Plan): Expansion {
  const p = plan.profile!;
  const n = p.steps ?? 4;
  const out: ScenarioPlan[] = [];
  let t = 0;
  for (let k = 1; k <= n; k++) {
    const d = k === n ? p.holdMs! : p.stepDurationMs!;
    out.push(fromTemplate(p.template, `step-${k}`, { rate: r3((p.rate! * k) / n), durationMs: d, startTimeMs: t }));
    t += d;
  }
  return { plan: planWith(plan, out, out.flatMap((s) => scopedTo(plan.thresholds, s.name))), phases: phases(out) };
}

/** stress: the step rates, from startRate by rateStep (or × factor) up to maxRate, bounded by maxDuration. */
export function stressRates(p: ProfilePlan): number[] {
  const rates: number[] = [];
  const max = p.maxRate!;
  let r = p.startRate!;
  const limit = p.maxDurationMs !== undefined ? Math.max(1, Math.floor(p.maxDurationMs / p.stepDurationMs!)) : 1000;
  while (r <= max * (1 + 1e-9) && rates.length < limit) {
    rates.push(r3(r));
    r = p.factor !== undefined ? r * p.factor : r + p.rateStep!;
  }
  if (rates.length < limit && rates[rates.length - 1] < max * 0.999) rates.push(max);
  return rates;
}

/** stress: one scenario per step; thresholds are judged by the profile, not gating the run. */
export function expandStress(plan: Plan): Expansion {
  const p = plan.profile!;
  const out = stressRates(p).map((rate, i) => fromTemplate(p.template, `step-${i + 1}`, { rate, durationMs: p.stepDurationMs!, startTimeMs: i * p.stepDurationMs! }));
  return { plan: planWith(plan, out, []), phases: phases(out) };
}

/** The load of soak and rollout: an arrival rate, or a concurrency. */
function steadyLoad(p: ProfilePlan): Partial<ScenarioPlan> {
  return p.concurrency !== undefined ? { executor: 'constant-concurrency', concurrency: p.concurrency, durationMs: p.durationMs! } : { rate: p.rate!, durationMs: p.durationMs! };
}

/** soak: one scenario at constant load for the whole duration; thresholds over the whole run. */
export function expandSoak(plan: Plan): Expansion {
  const p = plan.profile!;
  const s = fromTemplate(p.template, 'soak', steadyLoad(p));
  return { plan: planWith(plan, [s], plan.thresholds), phases: phases([s]) };
}

/** rollout: one scenario at constant load; the action runs at `at`. Thresholds over the whole run. */
export function expandRollout(plan: Plan): Expansion {
  const p = plan.profile!;
  const s = fromTemplate(p.template, 'rollout', steadyLoad(p));
  return { plan: planWith(plan, [s], plan.thresholds), phases: phases([s]) };
}

/**
 * spike: `before` at the baseline rate, `spike` at spikeRate, `after` at the baseline again. The
 * spike's requests still in flight may finish during `after` (its graceful stop covers it), so
 * their latency is measured, not cancelled. Thresholds gate the `before` phase (the baseline must
 * meet the SLO); the recovery, not the thresholds, judges what follows.
 */
export function expandSpike(plan: Plan): Expansion {
  const p = plan.profile!;
  const b = p.beforeMs!;
  const s = p.spikeMs!;
  const a = p.afterMs!;
  const out = [
    fromTemplate(p.template, 'before', { rate: p.rate!, durationMs: b, startTimeMs: 0 }),
    fromTemplate(p.template, 'spike', { rate: p.spikeRate!, durationMs: s, startTimeMs: b, gracefulStopMs: Math.max(p.template.gracefulStopMs, a) }),
    fromTemplate(p.template, 'after', { rate: p.rate!, durationMs: a, startTimeMs: b + s }),
  ];
  return { plan: planWith(plan, out, scopedTo(plan.thresholds, 'before')), phases: phases(out) };
}

/** burst: the warm-up before the smooth phase: a fifth of a phase, at most 10 s. */
export const burstWarmupMs = (durationMs: number): number => Math.min(10_000, Math.round(durationMs / 5));

/**
 * burst: a short warm-up (smooth arrivals, not compared: connections and JIT warm up), a smooth
 * phase (uniform or Poisson arrivals), then a bursty one (gamma gaps) at the same mean rate.
 */
export function expandBurst(plan: Plan): Expansion {
  const p = plan.profile!;
  const d = p.durationMs!;
  const w = burstWarmupMs(d);
  const out = [
    fromTemplate(p.template, 'warmup', { rate: p.rate!, durationMs: w, arrival: p.smooth ?? 'uniform' }),
    fromTemplate(p.template, 'smooth', { rate: p.rate!, durationMs: d, startTimeMs: w, arrival: p.smooth ?? 'uniform' }),
    fromTemplate(p.template, 'bursty', { rate: p.rate!, durationMs: d, startTimeMs: w + d, arrival: 'gamma', burstiness: p.burstiness! }),
  ];
  return { plan: planWith(plan, out, [...scopedTo(plan.thresholds, 'smooth'), ...scopedTo(plan.thresholds, 'bursty')]), phases: phases(out) };
}

/** replay: one scenario with the replay executor. Thresholds over the whole run. */
export function expandReplay(plan: Plan): Expansion {
  const p = plan.profile!;
  const s = fromTemplate(p.template, 'replay', { executor: 'replay', trace: p.trace! });
  return { plan: planWith(plan, [s], plan.thresholds), phases: [{ name: 'replay', startS: 0, endS: 0 }] };
}

/** sweep / capacity: the plan of one step, at a rate (open) or a concurrency (closed), for at most `durationMs`. */
export function stepPlan(plan: Plan, name: string, level: { mode: 'rate' | 'concurrency'; value: number }, durationMs: number): Plan {
  const p = plan.profile!;
  const load: Partial<ScenarioPlan> = level.mode === 'rate' ? { rate: level.value, durationMs } : { executor: 'constant-concurrency', concurrency: level.value, durationMs };
  return planWith(plan, [fromTemplate(p.template, name, load)], []);
}

export function expand(plan: Plan): Expansion {
  switch (plan.profile?.type) {
    case 'load':
      return expandLoad(plan);
    case 'stress':
      return expandStress(plan);
    case 'soak':
      return expandSoak(plan);
    case 'spike':
      return expandSpike(plan);
    case 'burst':
      return expandBurst(plan);
    case 'rollout':
      return expandRollout(plan);
    case 'replay':
      return expandReplay(plan);
    default:
      throw new Error(`profile ${plan.profile?.type ?? '(none)'} is not a single-run profile`);
  }
}

/**
 * The same profile with every duration multiplied by `factor` (and the metrics interval with it,
 * at least 100 ms), to try a plan quickly: `preflight run plan.yaml --time-scale 0.1`. Rates stay.
 */
export function scaleProfile(plan: Plan, factor: number): Plan {
  const p = plan.profile;
  if (!p || factor === 1) return plan;
  const f = (x: number | undefined): number | undefined => (x === undefined ? undefined : Math.max(1, Math.round(x * factor)));
  const q: ProfilePlan = { ...p };
  for (const k of ['stepDurationMs', 'holdMs', 'maxDurationMs', 'durationMs', 'warmupMs', 'bucketMs', 'beforeMs', 'spikeMs', 'afterMs', 'atMs', 'actionTimeoutMs', 'cooldownMs'] as const) {
    if (q[k] !== undefined && q[k] !== 0) q[k] = f(q[k]);
  }
  const intervalMs = Math.max(100, Math.round(plan.options.intervalMs * factor));
  if (q.steady) q.steady = { ...q.steady, windowMs: Math.max(intervalMs, f(q.steady.windowMs)!), maxStepMs: f(q.steady.maxStepMs)! };
  if (q.trace) q.trace = { ...q.trace, speed: q.trace.speed / factor };
  q.template = { ...p.template, gracefulStopMs: f(p.template.gracefulStopMs)! };
  return { ...plan, profile: q, options: { ...plan.options, intervalMs } };
}
