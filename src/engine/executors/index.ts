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
  // Each executor takes exactly its own config: the switch narrows the plan to it.
  const p = rt.plan;
  switch (p.executor) {
    case 'constant-arrival-rate':
      return constantArrivalRate(rt, p, shard, seed);
    case 'ramping-arrival-rate':
      return rampingArrivalRate(rt, p, shard, seed);
    case 'constant-concurrency':
      return constantConcurrency(rt, p, shard);
    case 'ramping-concurrency':
      return rampingConcurrency(rt, p, shard);
    case 'iterations':
      return iterations(rt, p, shard);
    case 'replay':
      return replay(rt, p, shard);
  }
}

/** Open (arrival-rate) or closed (concurrency) model. */
export function workloadModel(executor: string): 'open' | 'closed' {
  return executor.endsWith('arrival-rate') || executor === 'replay' ? 'open' : 'closed';
}
