import { concurrencyAt } from '../../pacing/index.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { ClosedModelExecutor } from './closed-model.js';

/** Users moving linearly between stage targets; users above the target finish their request and leave. */
export function rampingConcurrency(rt: ScenarioRuntime, shard: Shard): Executor {
  const p = rt.plan;
  const stages = (p.stages ?? []).map((s) => ({ durationS: s.durationMs / 1000, target: s.target }));
  const start = p.startConcurrency ?? 0;
  return new ClosedModelExecutor(rt, shard, {
    usersAt: (t) => concurrencyAt(start, stages, t),
    ramping: true,
    durationS: stages.reduce((s, st) => s + st.durationS, 0),
    thinkTimeMs: p.thinkTimeMs ?? 0,
    iterations: p.maxRequests,
  });
}
