export { runCoordinator, RemoteShards, type CoordinatorOptions } from './coordinator.js';
export { runWorker, type WorkerOptions } from './worker.js';
export { checkRunId, decodeBatch, encodeBatch, segmentShards } from './protocol.js';
