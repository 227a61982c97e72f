export { LoadShard, type ShardBatch, type ShardHealth, type AdapterFactory } from './shard.js';
export { localShard, workerShard, batchBuffers, type ShardHandle } from './shard-handle.js';
export { workloadModel } from './executors/index.js';
export { LATE_TOLERANCE_NS } from './scenario-runtime.js';
export { absoluteNow, nowNs } from './clock.js';
export { classifyError } from './classify.js';
export { httpClientOf } from './http-pool.js';
export { targetAgent, tlsConnectOptions, tlsFailure } from './target-tls.js';
