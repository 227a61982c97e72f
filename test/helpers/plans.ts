/**
 * Plans built in code for engine tests (the plan parser has its own tests).
 */
import type { Plan, ScenarioPlan, ThresholdPlan } from '../../src/plan/types.js';

export function scenario(name: string, s: Partial<ScenarioPlan>): ScenarioPlan {
  return {
    name,
    executor: 'constant-arrival-rate',
    protocol: 'http',
    startTimeMs: 0,
    gracefulStopMs: 2000,
    arrival: 'uniform',
    checks: [],
    tags: {},
    request: { method: 'GET', path: '/', headers: {} },
    ...s,
  };
}

/**
 * A plan for engine tests. The generator-overload limit is relaxed (1 s) unless a test sets it:
 * these machines are shared and noisy, and overload has its own test.
 */
export function plan(
  url: string,
  scenarios: ScenarioPlan[],
  extra: { thresholds?: ThresholdPlan[]; workers?: number; timeoutMs?: number; maxDispatchLagMs?: number } = {},
): Plan {
  return {
    source: '<test>',
    target: {
      url,
      headers: {},
      timeoutMs: extra.timeoutMs ?? 5000,
      connectTimeoutMs: 2000,
      client: 'auto',
      tls: { insecure: false },
      readyPath: null,
      readyTimeoutMs: 5000,
    },
    scenarios,
    thresholds: extra.thresholds ?? [],
    options: {
      workers: extra.workers ?? 1,
      seed: 1,
      intervalMs: 1000,
      maxDispatchLagMs: extra.maxDispatchLagMs ?? 1000,
    },
    secrets: [],
  };
}
