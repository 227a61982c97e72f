import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { constantArrivalRate } from './constant-arrival-rate.js';
import { rampingArrivalRate } from './ramping-arrival-rate.js';
import { constantConcurrency } from './constant-concurrency.js';
import { rampingConcurrency } from './ramping-concurrency.js';
import { iterations } from './iterations.js';
import { replay } from './replay.js';

export type { Executor, Shard } from './executor.js';
export { generatorLag } from './open-model.js';

export function createExecutor(rt: ScenarioRuntime, shard: Shard, seed: number): Executor {
  switch (rt.plan.executor) {
    case 'constant-arrival-rate':
      return constantArrivalRate(rt, shard, seed);
    case 'ramping-arrival-rate':
      return rampingArrivalRate(rt, shard, seed);
    case 'constant-concurrency':
      return constantConcurrency(rt, shard);
    case 'ramping-concurrency':
      return rampingConcurrency(rt, shard);
    case 'iterations':
      return iterations(rt, shard);
    case 'replay':
      return replay(rt, shard);
  }
}

/** Open (arrival-rate) or closed (concurrency) model. */
export function workloadModel(executor: string): 'open' | 'closed' {
  return executor.endsWith('arrival-rate') || executor === 'replay' ? 'open' : 'closed';
}
