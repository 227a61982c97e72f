import type { ExecutorConfigOf } from '../../plan/types.js';
import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { ClosedModelExecutor } from './closed-model.js';

/** A fixed number of users, each sending back-to-back (plus think time). */
export function constantConcurrency(
  rt: ScenarioRuntime,
  p: ExecutorConfigOf<'constant-concurrency'>,
  shard: Shard,
): Executor {
  const n = p.concurrency;
  return new ClosedModelExecutor(rt, shard, {
    usersAt: () => n,
    peakUsers: n,
    ramping: false,
    durationS: p.durationMs / 1000,
    thinkTimeMs: p.thinkTimeMs,
    iterations: p.maxRequests,
  });
}
