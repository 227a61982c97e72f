/** The reference server's Prometheus metrics (Triton-style nv_* names plus preflight_server_* and process_*). */
import type { FaultState } from './faults.js';
import { Registry } from './metrics.js';
import { FAULT_KEYS } from './options.js';
import type { ResolvedServerOptions } from './options.js';

/** What the gauges read at scrape time (the batcher is created after the registry, hence functions). */
export interface LiveState {
  queued(version: string): { requests: number; rows: number };
  executing(): number;
  inFlight(): number;
  served(): string;
  instances(): { ready: number; starting: number };
  /** The autoscaler's desired count (the configured instances without scaling mode). */
  desired(): number;
  decisions(): { up: number; down: number };
}

export type ServerMetrics = ReturnType<typeof createServerMetrics>;

export function createServerMetrics(o: ResolvedServerOptions, faults: FaultState, live: LiveState) {
  const reg = new Registry();
  const mSuccess = reg.counter(
    'nv_inference_request_success',
    'Number of successful inference requests, all batch sizes',
  );
  const mFailure = reg.counter(
    'nv_inference_request_failure',
    'Number of failed inference requests, all batch sizes (reason: REJECTED = shed, BACKEND = model error, INJECTED = fault knob, OTHER = invalid request, CANCELED = shutdown)',
  );
  const mCount = reg.counter('nv_inference_count', 'Number of inferences performed (rows)');
  const mExec = reg.counter('nv_inference_exec_count', 'Number of model executions performed (batches)');
  const mReqDur = reg.counter(
    'nv_inference_request_duration_us',
    'Cumulative inference request duration in microseconds (successful requests, receipt to reply)',
  );
  const mQueueDur = reg.counter(
    'nv_inference_queue_duration_us',
    'Cumulative inference queuing duration in microseconds (successful requests)',
  );
  const mComputeDur = reg.counter(
    'nv_inference_compute_infer_duration_us',
    'Cumulative compute inference duration in microseconds (successful requests; each request counts its whole batch)',
  );
  reg.gauge(
    'nv_inference_pending_request_count',
    'Instantaneous number of pending requests awaiting execution per-model.',
    () => o.versions.map((v) => [{ model: o.modelName, version: v }, live.queued(v).requests]),
  );
  reg.gauge('preflight_server_queue_rows', 'Rows waiting in the dynamic batcher queue per model version.', () =>
    o.versions.map((v) => [{ model: o.modelName, version: v }, live.queued(v).rows]),
  );
  reg.gauge(
    'preflight_server_requests_in_flight',
    'HTTP requests received and not yet answered (all endpoints, streams included).',
    () => [[{}, live.inFlight()]],
  );
  reg.gauge('preflight_server_batches_executing', 'Batches running on model instances now.', () => [
    [{}, live.executing()],
  ]);
  reg.gauge(
    'preflight_server_instances',
    'Model instances (worker threads): ready = serving, starting = loading or within the start-up delay.',
    () => {
      const c = live.instances();
      return [
        [{ state: 'ready' }, c.ready],
        [{ state: 'starting' }, c.starting],
      ];
    },
  );
  reg.gauge(
    'preflight_server_instances_desired',
    'Instances the autoscaler wants (scaling mode; else the configured count).',
    () => [[{}, live.desired()]],
  );
  reg.collectedCounter(
    'preflight_server_scaling_decisions_total',
    'Scaling decisions by direction (scaling mode).',
    () => {
      const d = live.decisions();
      return [
        [{ direction: 'up' }, d.up],
        [{ direction: 'down' }, d.down],
      ];
    },
  );
  const mBatch = reg.histogram(
    'preflight_server_batch_size',
    'Rows per executed batch.',
    [1, 2, 4, 8, 16, 32, 64, 128, 256],
  );
  const mInferDur = reg.histogram(
    'preflight_server_infer_duration_seconds',
    'Inference request duration, receipt to reply (successful requests), seconds.',
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  const mHttp = reg.counter(
    'preflight_server_http_requests_total',
    'HTTP responses by model, version and status (model/version empty for non-model endpoints).',
  );
  reg.gauge('preflight_server_served_version', '1 for the version unversioned requests go to, else 0.', () =>
    o.versions.map((v) => [{ model: o.modelName, version: v }, v === live.served() ? 1 : 0]),
  );
  reg.gauge('preflight_server_fault', 'Fault knobs in force (0 = off).', () => {
    const f = faults.get();
    return FAULT_KEYS.map((k) => [{ knob: k }, f[k]]);
  });
  reg.gauge('preflight_server_leaked_bytes', 'Memory retained on purpose by the leak fault knobs, bytes.', () => [
    [{}, faults.leakedBytes],
  ]);
  const startedAt = Date.now() / 1000;
  reg.collectedCounter(
    'process_cpu_seconds_total',
    'Total user and system CPU time spent in seconds (all threads).',
    () => {
      const u = process.cpuUsage();
      return [[{}, (u.user + u.system) / 1e6]];
    },
  );
  reg.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => [[{}, process.memoryUsage.rss()]]);
  reg.gauge(
    'process_heap_bytes',
    'Process heap size in bytes: V8 heap used plus external (Buffer/ArrayBuffer) memory.',
    () => {
      const m = process.memoryUsage();
      return [[{}, m.heapUsed + m.external]];
    },
  );
  reg.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => [
    [{}, startedAt],
  ]);
  for (const v of o.versions) {
    const l = { model: o.modelName, version: v };
    for (const c of [mSuccess, mCount, mExec, mReqDur, mQueueDur, mComputeDur]) c.touch(l);
    mBatch.touch(l);
    mInferDur.touch(l);
  }
  return {
    reg,
    mSuccess,
    mFailure,
    mCount,
    mExec,
    mReqDur,
    mQueueDur,
    mComputeDur,
    mBatch,
    mInferDur,
    countHttp: (model: string, ver: string, status: number): void =>
      mHttp.inc({ model, version: ver, status: String(status) }),
  };
}
