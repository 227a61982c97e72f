import { RateProfile, createArrivals } from '../../pacing/index.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { OpenModelExecutor } from './open-model.js';
import { defaultMaxInFlight, shardMaxInFlight } from './limits.js';

/** A fixed arrival rate for a duration. */
export function constantArrivalRate(rt: ScenarioRuntime, shard: Shard, seed: number): Executor {
  const p = rt.plan;
  const profile = RateProfile.constant(p.rate!, (p.durationMs ?? 0) / 1000);
  return new OpenModelExecutor(
    rt,
    profile,
    createArrivals(p.arrival, seed, p.burstiness ?? 1),
    shard,
    shardMaxInFlight(p.maxInFlight ?? defaultMaxInFlight(p.rate!), shard),
    p.maxRequests,
  );
}
