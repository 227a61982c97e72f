/**
 * Plans built in code for engine tests (the plan parser has its own tests).
 */
import type {
  ConstantArrivalRateConfig,
  ExecutorConfig,
  Plan,
  ScenarioCommon,
  ScenarioPlan,
  ThresholdPlan,
} from '../../src/plan/types.js';

/**
 * One executor's keys for a test scenario, with what the helper fills in optional: `executor`
 * (default constant-arrival-rate), `arrival` (uniform), a ramping executor's start (0) and its
 * `durationMs` (the sum of its stages).
 */
type TestLoad<C = ExecutorConfig> = C extends ExecutorConfig
  ? Omit<C, Filled<C>> &
      Partial<Pick<C, Filled<C>>> &
      (C extends ConstantArrivalRateConfig ? unknown : Pick<C, 'executor'>)
  : never;
type Filled<C> = Extract<
  'executor' | 'arrival' | 'startRate' | 'startConcurrency' | (C extends { stages: unknown } ? 'durationMs' : never),
  keyof C
>;

export function scenario(name: string, s: Partial<ScenarioCommon> & TestLoad): ScenarioPlan {
  const out = {
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
  } as Record<string, unknown>;
  if ('stages' in s) {
    out['durationMs'] ??= s.stages.reduce((a, st) => a + st.durationMs, 0);
    if (s.executor === 'ramping-arrival-rate') out['startRate'] ??= 0;
    else out['startConcurrency'] ??= 0;
  }
  // TestLoad has each executor's keys; the defaults above complete them.
  return out as unknown as ScenarioPlan;
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
