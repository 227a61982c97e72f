import { RateProfile, createArrivals } from '../../pacing/index.js';
import { EXECUTOR_DEFAULTS } from '../../plan/executors.js';
import type { ExecutorConfigOf } from '../../plan/types.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { OpenModelExecutor } from './open-model.js';
import { defaultMaxInFlight, shardMaxInFlight } from './limits.js';

/** Arrival rate moving linearly between stage targets. */
export function rampingArrivalRate(
  rt: ScenarioRuntime,
  p: ExecutorConfigOf<'ramping-arrival-rate'>,
  shard: Shard,
  seed: number,
): Executor {
  const stages = p.stages.map((s) => ({ durationS: s.durationMs / 1000, target: s.target }));
  const profile = new RateProfile(p.startRate, stages);
  const peak = Math.max(p.startRate, ...stages.map((s) => s.target));
  return new OpenModelExecutor(
    rt,
    profile,
    createArrivals(p.arrival, seed, p.burstiness ?? EXECUTOR_DEFAULTS.burstiness),
    shard,
    shardMaxInFlight(p.maxInFlight ?? defaultMaxInFlight(peak), shard),
    p.maxRequests,
  );
}
