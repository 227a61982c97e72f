/** Messages between the batcher (HTTP thread) and instance workers. */
import type { ModelInfo } from '../model/types.js';

export interface WorkerData {
  /** Module URL (file:…) exporting loadModel. */
  modelModule: string;
  versions: string[];
  modelOptions: unknown;
  /** Simulated model cost: a batch's reply waits until this long after it started, ms (0 = none). */
  computeTimeMs: number;
}

export type ToWorker =
  | { type: 'run'; id: number; version: string; input: Float32Array; batch: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; infos: ModelInfo[] }
  | { type: 'fatal'; message: string }
  | { type: 'done'; id: number; output: Float32Array; computeUs: number }
  | { type: 'fail'; id: number; message: string };
