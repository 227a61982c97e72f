import { RateProfile, createArrivals } from '../../pacing/index.js';
import { EXECUTOR_DEFAULTS } from '../../plan/executors.js';
import type { ExecutorConfigOf } from '../../plan/types.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { OpenModelExecutor } from './open-model.js';
import { defaultMaxInFlight, shardMaxInFlight } from './limits.js';

/** A fixed arrival rate for a duration. */
export function constantArrivalRate(
  rt: ScenarioRuntime,
  p: ExecutorConfigOf<'constant-arrival-rate'>,
  shard: Shard,
  seed: number,
): Executor {
  const profile = RateProfile.constant(p.rate, p.durationMs / 1000);
  return new OpenModelExecutor(
    rt,
    profile,
    createArrivals(p.arrival, seed, p.burstiness ?? EXECUTOR_DEFAULTS.burstiness),
    shard,
    shardMaxInFlight(p.maxInFlight ?? defaultMaxInFlight(p.rate), shard),
    p.maxRequests,
  );
}
