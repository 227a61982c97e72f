/**
 * The reference model's contract, shared by the training script, the runtime loader and the
 * reference server. A model takes FP32 [batch, 64] (8×8 digit images, pixels 0–16) and returns
 * FP32 [batch, 10] class probabilities.
 */

export interface TensorSpec {
  name: string;
  /** KServe v2 datatype, e.g. FP32. */
  datatype: string;
  /** -1 for a variable (batch) dimension. */
  shape: number[];
}

export interface ModelInfo {
  name: string;
  /** 'v1' (accurate) or 'v2' (smaller, faster, less accurate). */
  version: string;
  /** Runtime actually used: 'onnxruntime' or 'typescript' (fallback). */
  platform: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Accuracy on the held-out split, as recorded by the training script. */
  heldOutAccuracy: number;
}

export interface LoadedModel {
  readonly info: ModelInfo;
  /** Runs inference on `batch` rows of 64 features (row-major); returns batch×10 probabilities. */
  predict(input: Float32Array, batch: number): Promise<Float32Array>;
  close(): Promise<void>;
}

// --- Additions (reference model implementation; additive only) ---

/** The reference model's versions: 'v1' (accurate) and 'v2' (smaller, faster, less accurate). */
export type ModelVersion = 'v1' | 'v2';

/** How a model runs: onnxruntime-node, or the plain-TypeScript fallback on the same weights. */
export type ModelRuntime = 'onnxruntime' | 'typescript';

export interface LoadModelOptions {
  /**
   * Omitted: onnxruntime, falling back to 'typescript' (with a logged reason) if onnxruntime
   * cannot load. Given: exactly that runtime, or the load fails.
   */
  runtime?: ModelRuntime;
  /** onnxruntime intra-op threads. Default 1 (the server runs several instances in worker threads). */
  intraOpThreads?: number;
  /** Where the fallback reason is reported. Default: console.warn. */
  log?: (message: string) => void;
}
