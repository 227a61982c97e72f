/**
 * Each executor's config, plan side (k6 keeps an executor's config, defaults, validation and run in
 * one file; the import rule splits them here, `plan` may not import `engine`):
 * - its type: `ExecutorConfig` in types.ts, a union keyed by `executor` (`ExecutorConfigOf<'replay'>`);
 * - the keys it requires: `EXECUTOR_RULES` in syntax.ts (also what the JSON Schema says);
 * - the keys it takes (and why the others do not): `EXECUTOR_FIELDS` below;
 * - its defaults and how its config is built from the keys as written: `EXECUTOR_DEFAULTS` and
 *   `executorConfig` below (resolve.ts calls it after the syntax checks);
 * - how it runs: its module in src/engine/executors/, which takes exactly its config.
 */
import { ARRIVAL_EXECUTORS } from './syntax.js';
import type { ArrivalProcess, Executor, ExecutorConfig, Stage, TracePlan } from './types.js';

/**
 * Defaults of executor keys, declared once. `startRate` and `startConcurrency` are written into the
 * resolved plan; `burstiness` and `thinkTimeMs` are not (plan.resolved.json stays as it was), so
 * the engine applies these when a key is absent.
 */
export const EXECUTOR_DEFAULTS = {
  /** ramping-arrival-rate: rate before the first stage. */
  startRate: 0,
  /** ramping-concurrency: concurrency before the first stage. */
  startConcurrency: 0,
  /** arrival gamma: coefficient of variation of the gaps (1 = Poisson). */
  burstiness: 1,
  /** Closed model: pause between a response and the next request. */
  thinkTimeMs: 0,
  /** replay: speed factor. */
  speed: 1,
} as const;

const ARRIVAL_ONLY_HINT = 'is for arrival-rate executors (constant-arrival-rate, ramping-arrival-rate)';

/** For each field that only some executors take: executors that take it, and why others do not. */
export const EXECUTOR_FIELDS: Record<string, { executors: Executor[]; hint: (ex: Executor) => string }> = {
  duration: {
    executors: ['constant-arrival-rate', 'constant-concurrency', 'iterations', 'replay'],
    hint: () => 'a ramping scenario lasts the sum of its stages; remove `duration`',
  },
  rate: {
    executors: ['constant-arrival-rate'],
    hint: (ex) =>
      ex === 'ramping-arrival-rate'
        ? 'ramping-arrival-rate takes its rates from `stages` (and `startRate`)'
        : 'a concurrency executor keeps `concurrency` requests in flight; for a fixed request rate use executor: constant-arrival-rate',
  },
  startRate: { executors: ['ramping-arrival-rate'], hint: () => '`startRate` is for ramping-arrival-rate' },
  arrival: {
    executors: ['constant-arrival-rate', 'ramping-arrival-rate'],
    hint: () => `\`arrival\` ${ARRIVAL_ONLY_HINT}`,
  },
  maxInFlight: {
    executors: ['constant-arrival-rate', 'ramping-arrival-rate', 'replay'],
    hint: () =>
      `\`maxInFlight\` ${ARRIVAL_ONLY_HINT} and replay; concurrency executors are capped by their concurrency`,
  },
  burstiness: {
    executors: ['constant-arrival-rate', 'ramping-arrival-rate'],
    hint: () => `\`burstiness\` ${ARRIVAL_ONLY_HINT} (with arrival: gamma)`,
  },
  trace: { executors: ['replay'], hint: () => '`trace` is for executor: replay' },
  speed: { executors: ['replay'], hint: () => '`speed` is for executor: replay' },
  concurrency: {
    executors: ['constant-concurrency', 'iterations'],
    hint: (ex) =>
      ex === 'ramping-concurrency'
        ? 'ramping-concurrency takes its concurrency from `stages` (and `startConcurrency`)'
        : 'arrival-rate executors start requests at a rate; cap requests in flight with `maxInFlight`',
  },
  startConcurrency: { executors: ['ramping-concurrency'], hint: () => '`startConcurrency` is for ramping-concurrency' },
  thinkTime: {
    executors: ['constant-concurrency', 'ramping-concurrency', 'iterations'],
    hint: () => 'arrival-rate executors start requests on a schedule, so there is no think time',
  },
  stages: {
    executors: ['ramping-arrival-rate', 'ramping-concurrency'],
    hint: (ex) =>
      `\`stages\` is for ramping executors; use executor: ${ARRIVAL_EXECUTORS.includes(ex) ? 'ramping-arrival-rate' : 'ramping-concurrency'}`,
  },
};

/** A scenario's load keys as written (resolved units; undefined when absent). */
export interface WrittenLoad {
  durationMs?: number;
  maxRequests?: number;
  rate?: number;
  startRate?: number;
  arrival: ArrivalProcess;
  burstiness?: number;
  maxInFlight?: number;
  trace?: TracePlan;
  concurrency?: number;
  startConcurrency?: number;
  thinkTimeMs?: number;
  /** The stages that parsed. */
  stages?: Stage[];
}

/** `{ key: v }`, or nothing when v is undefined (so an absent key stays absent in plan.resolved.json). */
function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

/**
 * An executor's config from its keys as written, defaults applied. A required key that is missing
 * has been reported (EXECUTOR_RULES) and the plan is invalid: it gets a placeholder (0, no stages,
 * an empty trace), so the rest of the plan can still be checked. Key order as before, so
 * plan.resolved.json stays byte for byte.
 */
export function executorConfig(executor: Executor, k: WrittenLoad): ExecutorConfig {
  const stagesMs = (st: Stage[]): number => st.reduce((a, s) => a + s.durationMs, 0);
  switch (executor) {
    case 'constant-arrival-rate':
      return {
        executor,
        arrival: k.arrival,
        durationMs: k.durationMs ?? 0,
        ...opt('maxRequests', k.maxRequests),
        rate: k.rate ?? 0,
        ...opt('maxInFlight', k.maxInFlight),
        ...opt('burstiness', k.burstiness),
      };
    case 'ramping-arrival-rate': {
      const stages = k.stages ?? [];
      return {
        executor,
        arrival: k.arrival,
        ...opt('maxRequests', k.maxRequests),
        // written twice: a startRate as written comes before the stages, the default after them (as before)
        ...opt('startRate', k.startRate),
        ...opt('maxInFlight', k.maxInFlight),
        ...opt('burstiness', k.burstiness),
        stages,
        startRate: k.startRate ?? EXECUTOR_DEFAULTS.startRate,
        durationMs: stagesMs(stages),
      };
    }
    case 'constant-concurrency':
      return {
        executor,
        arrival: 'uniform',
        durationMs: k.durationMs ?? 0,
        ...opt('maxRequests', k.maxRequests),
        concurrency: k.concurrency ?? 0,
        ...opt('thinkTimeMs', k.thinkTimeMs),
      };
    case 'ramping-concurrency': {
      const stages = k.stages ?? [];
      return {
        executor,
        arrival: 'uniform',
        ...opt('maxRequests', k.maxRequests),
        ...opt('startConcurrency', k.startConcurrency),
        ...opt('thinkTimeMs', k.thinkTimeMs),
        stages,
        startConcurrency: k.startConcurrency ?? EXECUTOR_DEFAULTS.startConcurrency,
        durationMs: stagesMs(stages),
      };
    }
    case 'iterations':
      return {
        executor,
        arrival: 'uniform',
        ...opt('durationMs', k.durationMs),
        maxRequests: k.maxRequests ?? 0,
        concurrency: k.concurrency ?? 0,
        ...opt('thinkTimeMs', k.thinkTimeMs),
      };
    case 'replay':
      return {
        executor,
        arrival: 'uniform',
        ...opt('durationMs', k.durationMs),
        ...opt('maxRequests', k.maxRequests),
        ...opt('maxInFlight', k.maxInFlight),
        trace: k.trace ?? { file: '', format: 'csv', time: 'timestamp', unit: 's', speed: EXECUTOR_DEFAULTS.speed },
      };
  }
}
