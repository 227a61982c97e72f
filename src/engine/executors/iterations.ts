import type { ScenarioRuntime } from '../scenario-runtime.js';
import type { Executor, Shard } from './executor.js';
import { ClosedModelExecutor } from './closed-model.js';

/** A fixed number of requests shared by `concurrency` users; `duration`, if set, is an upper bound. */
export function iterations(rt: ScenarioRuntime, shard: Shard): Executor {
  const p = rt.plan;
  const n = p.concurrency ?? 1;
  return new ClosedModelExecutor(rt, shard, {
    usersAt: () => n,
    ramping: false,
    durationS: (p.durationMs ?? 0) / 1000,
    thinkTimeMs: p.thinkTimeMs ?? 0,
    iterations: p.maxRequests ?? 1,
  });
}
