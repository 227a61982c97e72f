import { concurrencyAt } from '../../pacing/index.js';
import type { ExecutorConfigOf } from '../../plan/types.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { ClosedModelExecutor } from './closed-model.js';

/** Users moving linearly between stage targets; users above the target finish their request and leave. */
export function rampingConcurrency(
  rt: ScenarioRuntime,
  p: ExecutorConfigOf<'ramping-concurrency'>,
  shard: Shard,
): Executor {
  const stages = p.stages.map((s) => ({ durationS: s.durationMs / 1000, target: s.target }));
  const start = p.startConcurrency;
  return new ClosedModelExecutor(rt, shard, {
    usersAt: (t) => concurrencyAt(start, stages, t),
    ramping: true,
    peakUsers: Math.max(start, ...stages.map((st) => st.target)),
    durationS: stages.reduce((s, st) => s + st.durationS, 0),
    thinkTimeMs: p.thinkTimeMs,
    iterations: p.maxRequests,
  });
}
