/**
 * Loads a reference model for serving. Default runtime: onnxruntime-node (one InferenceSession per
 * loadModel call, intra-op threads 1 because the server runs several instances in worker threads).
 * If onnxruntime cannot load and no runtime was asked for, falls back — with a logged reason — to
 * the plain-TypeScript forward pass over the same FP32 weights (models/digits-<v>.weights.json).
 */
import { readFileSync } from 'node:fs';

import { PreflightError } from '../core/errors.js';
import { MODEL_NAME, MODEL_VERSIONS } from './catalog.js';
import { CLASSES, FEATURES } from './dataset.js';
import { readManifest } from './manifest.js';
import { forward, networkFromJson } from './network.js';
import type { Network } from './network.js';
import { INPUT_NAME, OUTPUT_NAME } from './onnx.js';
import { onnxPath, weightsPath } from './paths.js';
import type { LoadModelOptions, LoadedModel, ModelInfo, ModelRuntime, ModelVersion } from './types.js';

type Ort = typeof import('onnxruntime-node');
type OrtSession = import('onnxruntime-node').InferenceSession;

export function isModelVersion(v: unknown): v is ModelVersion {
  return typeof v === 'string' && (MODEL_VERSIONS as readonly string[]).includes(v);
}

function assertVersion(version: unknown): asserts version is ModelVersion {
  if (!isModelVersion(version)) {
    throw new PreflightError(
      'E_ARGS',
      `unknown ${MODEL_NAME} model version ${JSON.stringify(version)} (expected ${MODEL_VERSIONS.join(' or ')})`,
    );
  }
}

/** Metadata for KServe v2 model metadata responses. `platform` is the runtime serving it. */
export function modelInfo(version: ModelVersion, platform: ModelRuntime = 'onnxruntime'): ModelInfo {
  assertVersion(version);
  let heldOutAccuracy: number;
  try {
    heldOutAccuracy = readManifest().versions[version].heldOutAccuracy;
  } catch (cause) {
    throw new PreflightError(
      'E_INTERNAL',
      `cannot read models/models.json for ${MODEL_NAME} ${version}: ${(cause as Error).message}`,
      { cause },
    );
  }
  return {
    name: MODEL_NAME,
    version,
    platform,
    inputs: [{ name: INPUT_NAME, datatype: 'FP32', shape: [-1, FEATURES] }],
    outputs: [{ name: OUTPUT_NAME, datatype: 'FP32', shape: [-1, CLASSES] }],
    heldOutAccuracy,
  };
}

export async function loadModel(version: ModelVersion, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  assertVersion(version);
  if (opts.runtime === 'typescript') return loadTypeScript(version);
  try {
    return await loadOnnxRuntime(version, opts.intraOpThreads ?? 1);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    if (opts.runtime === 'onnxruntime') {
      throw new PreflightError('E_INTERNAL', `cannot load ${MODEL_NAME} ${version} with onnxruntime-node: ${reason}`, {
        cause,
      });
    }
    // onnxruntime-node is an optional peer dependency (288 MB): a CI job that only tests a real endpoint
    // should not have to install it, so its absence is a normal case with a one-line explanation.
    const missing = (cause as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    (opts.log ?? console.warn)(
      missing
        ? `preflight: onnxruntime-node is not installed; serving ${MODEL_NAME} ${version} with the TypeScript runtime (same weights, same answers, slower). To serve with ONNX Runtime: npm install onnxruntime-node`
        : `preflight: onnxruntime-node cannot load ${MODEL_NAME} ${version} (${reason}); using the TypeScript runtime`,
    );
    return loadTypeScript(version);
  }
}

function checkInput(input: Float32Array, batch: number): void {
  if (!(input instanceof Float32Array)) throw new TypeError('input must be a Float32Array');
  if (!Number.isInteger(batch) || batch < 0) throw new RangeError(`batch must be a non-negative integer, got ${batch}`);
  if (input.length !== batch * FEATURES) {
    throw new RangeError(
      `input has ${input.length} values; batch ${batch} needs ${batch * FEATURES} (${FEATURES} per row)`,
    );
  }
}

function closedError(info: ModelInfo): Error {
  return new Error(`${info.name} ${info.version} model is closed`);
}

// ---- onnxruntime-node ----

let ortModule: Promise<Ort> | undefined;

async function loadOnnxRuntime(version: ModelVersion, intraOpThreads: number): Promise<LoadedModel> {
  ortModule ??= import('onnxruntime-node');
  let ort: Ort;
  try {
    ort = await ortModule;
  } catch (err) {
    ortModule = undefined;
    throw err;
  }
  const bytes = readFileSync(onnxPath(version));
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  if (!session.inputNames.includes(INPUT_NAME) || !session.outputNames.includes(OUTPUT_NAME)) {
    await session.release();
    throw new Error(`${onnxPath(version)} has inputs [${session.inputNames}] and outputs [${session.outputNames}]`);
  }
  return new OnnxRuntimeModel(modelInfo(version, 'onnxruntime'), ort, session);
}

class OnnxRuntimeModel implements LoadedModel {
  private session: OrtSession | undefined;
  constructor(
    readonly info: ModelInfo,
    private readonly ort: Ort,
    session: OrtSession,
  ) {
    this.session = session;
  }

  async predict(input: Float32Array, batch: number): Promise<Float32Array> {
    checkInput(input, batch);
    const session = this.session;
    if (!session) throw closedError(this.info);
    if (batch === 0) return new Float32Array(0);
    const tensor = new this.ort.Tensor('float32', input, [batch, FEATURES]);
    const result = await session.run({ [INPUT_NAME]: tensor });
    const out = result[OUTPUT_NAME];
    const data = out.data;
    if (!(data instanceof Float32Array) || data.length !== batch * CLASSES) {
      throw new Error(
        `onnxruntime returned ${out.type} ${JSON.stringify(out.dims)}, expected float32 [${batch}, ${CLASSES}]`,
      );
    }
    return data;
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.release();
  }
}

// ---- plain TypeScript ----

const networks = new Map<ModelVersion, Network>();

function loadNetwork(version: ModelVersion): Network {
  let net = networks.get(version);
  if (!net) {
    const path = weightsPath(version);
    try {
      net = networkFromJson(JSON.parse(readFileSync(path, 'utf8')));
    } catch (cause) {
      throw new PreflightError(
        'E_INTERNAL',
        `cannot load ${MODEL_NAME} ${version} weights from ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
    networks.set(version, net);
  }
  return net;
}

async function loadTypeScript(version: ModelVersion): Promise<LoadedModel> {
  return new TypeScriptModel(modelInfo(version, 'typescript'), loadNetwork(version));
}

class TypeScriptModel implements LoadedModel {
  private closed = false;
  constructor(
    readonly info: ModelInfo,
    private readonly net: Network,
  ) {}

  async predict(input: Float32Array, batch: number): Promise<Float32Array> {
    checkInput(input, batch);
    if (this.closed) throw closedError(this.info);
    return forward(this.net, input, batch);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
