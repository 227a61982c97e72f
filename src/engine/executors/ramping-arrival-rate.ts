import { RateProfile, createArrivals } from '../../pacing/index.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { OpenModelExecutor } from './open-model.js';
import { defaultMaxInFlight, shardMaxInFlight } from './limits.js';

/** Arrival rate moving linearly between stage targets. */
export function rampingArrivalRate(rt: ScenarioRuntime, shard: Shard, seed: number): Executor {
  const p = rt.plan;
  const stages = (p.stages ?? []).map((s) => ({ durationS: s.durationMs / 1000, target: s.target }));
  const profile = new RateProfile(p.startRate ?? 0, stages);
  const peak = Math.max(p.startRate ?? 0, ...stages.map((s) => s.target));
  return new OpenModelExecutor(
    rt,
    profile,
    createArrivals(p.arrival, seed, p.burstiness ?? 1),
    shard,
    shardMaxInFlight(p.maxInFlight ?? defaultMaxInFlight(peak), shard),
    p.maxRequests,
  );
}
