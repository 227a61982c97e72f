import type { ExecutorConfigOf } from '../../plan/types.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { ClosedModelExecutor } from './closed-model.js';

/** A fixed number of requests shared by `concurrency` users; `duration`, if set, is an upper bound. */
export function iterations(rt: ScenarioRuntime, p: ExecutorConfigOf<'iterations'>, shard: Shard): Executor {
  const n = p.concurrency;
  return new ClosedModelExecutor(rt, shard, {
    usersAt: () => n,
    peakUsers: n,
    ramping: false,
    durationS: p.durationMs !== undefined ? p.durationMs / 1000 : undefined,
    thinkTimeMs: p.thinkTimeMs,
    iterations: p.maxRequests,
  });
}
