/**
 * Protocol adapters (http, kserve-v2, tfserving, torchserve, openai), picked by
 * `scenario.protocol`, plus `enrichSummary` (quality / golden / goodput sections of a summary).
 */
import type { Adapter } from '../core/types.js';
import { PlanError } from '../core/errors.js';
import type { Plan, ProtocolName, ScenarioCommon } from '../plan/types.js';
import { scenarioNeeds } from '../plan/protocol-rules.js';
import type { AdapterOptions } from './common.js';
import { basePathOf, mergeHeaders } from './common.js';
import { createHttpAdapter } from './http.js';
import { createKserveV2Adapter } from './kserve-v2.js';
import { createTfservingAdapter } from './tfserving.js';
import { createTorchserveAdapter } from './torchserve.js';
import { createOpenaiAdapter } from './openai.js';
import { createMixAdapter } from './mix.js';
import type { AdapterFactory } from './mix.js';

export type { AdapterOptions, DataWireRequest } from './common.js';
export { compileChecks } from './checks.js';
export type { CompiledChecks } from './checks.js';
export { mixTable, mixWeights, perModelFile, MIX_TABLE_SIZE } from './mix.js';
export type { AdapterFactory, MixModel } from './mix.js';
export { createHttpAdapter } from './http.js';
export { createKserveV2Adapter, decodeKserveOutputs, parseMetadata, modelPath } from './kserve-v2.js';
export { matchInputs } from './tensor-common.js';
export type { KserveMetadata } from './kserve-v2.js';
export { createTfservingAdapter, decodeTfOutputs, tfSignatureInputs } from './tfserving.js';
export { createTorchserveAdapter, rawPayloads } from './torchserve.js';
export { createOpenaiAdapter, OpenaiObserver, parseSlo, DEFAULT_PROMPT } from './openai.js';
export type { Slo } from './openai.js';
export { SseParser } from './sse.js';
export type { SseHandler } from './sse.js';
export { compileTemplate, looksLikeJson } from './template.js';
export type { Template, TemplatePart, HoleMode } from './template.js';
export type { QualityHook, QualityReport, GoldenWorst, Decoded, Decoder } from './quality-hook.js';
export { classifyStatus, mergeHeaders, basePathOf, PREENCODE_BUDGET_BYTES } from './common.js';

const factories: Record<ProtocolName, AdapterFactory> = {
  http: createHttpAdapter,
  'kserve-v2': createKserveV2Adapter,
  tfserving: createTfservingAdapter,
  torchserve: createTorchserveAdapter,
  openai: createOpenaiAdapter,
};

/** Builds the options every adapter factory receives (headers merged, base path, plan seed). */
export function adapterOptions(
  scenario: ScenarioCommon,
  plan: Plan,
  ctx: { shard: { index: number; count: number }; seed: number },
): AdapterOptions {
  const url = scenario.target?.url ?? plan.target.url;
  return {
    scenario,
    plan,
    shard: ctx.shard,
    // tables (data order, mixes) must agree across shards: derive them from the plan seed
    seed: plan.options?.seed ?? ctx.seed,
    basePath: basePathOf(url),
    headers: mergeHeaders(plan.target.headers, scenario.target?.headers, scenario.request?.headers),
  };
}

/**
 * The adapter for a scenario, for one shard. Checks the protocol's needs (PlanError), loads and
 * validates data (DataError listing every problem), compiles checks (PlanError), builds static requests once. Network checks happen later
 * in `adapter.prepare(ctx)`.
 */
export async function createAdapter(
  scenario: ScenarioCommon,
  plan: Plan,
  ctx: { shard: { index: number; count: number }; seed: number; signal?: AbortSignal },
): Promise<Adapter> {
  const factory = factories[scenario.protocol];
  if (!factory) {
    throw new PlanError([
      {
        path: `scenarios.${scenario.name}.protocol`,
        message: `unknown protocol "${String(scenario.protocol)}"`,
        hint: Object.keys(factories).join(', '),
      },
    ]);
  }
  // the protocol's needs (model, inputs, …): plan files were checked with positions; plans built in code meet them here
  const needs = scenarioNeeds(scenario);
  if (needs.length > 0) throw new PlanError(needs);
  const o = adapterOptions(scenario, plan, ctx);
  if (ctx.signal) o.signal = ctx.signal;
  const adapter =
    scenario.mix && scenario.mix.models.length > 0 ? await createMixAdapter(o, factory) : await factory(o);
  // problems of the file itself (wrong-width rows, …) even when no column the scenario uses has any
  o.dataset?.problems.throwIfAny('data');
  return adapter;
}

export {
  enrichSummary,
  qualitySection,
  goldenSection,
  generationSection,
  accuracyDrop,
  differenceInterval,
  mergeAdapterReports,
  GOLDEN_WORST_ROWS,
} from './enrich.js';
export type {
  QualitySection,
  GoldenSection,
  GenerationSection,
  AccuracyDrop,
  AdapterReport,
  WorstRow,
} from './enrich.js';
