/**
 * Traffic mixes: `scenario.mix` spreads requests over several models (weights, or zipf(s) by the
 * order listed: weight of the i-th model ∝ 1/i^s). The choice is a precomputed, seeded table of
 * 10,000 slots apportioned exactly to the weights (largest remainder) and shuffled; request `seq` of
 * shard k uses slot (k + seq·count) mod 10,000, so shards together walk the table and no random
 * number is drawn on the hot path. Each model gets its own sub-adapter (same protocol) whose
 * requests carry `group` = model name; judge/openStream dispatch on that group.
 */
import type {
  Adapter,
  AdapterContext,
  BodyMode,
  ErrorClass,
  Recorder,
  StreamObserver,
  WireRequest,
} from '../core/types.js';
import { PlanError } from '../core/errors.js';
import { Rng, deriveSeed, shuffleInPlace } from '../core/random.js';
import type { AdapterOptions } from './common.js';
import { classifyStatus, scenarioDataset } from './common.js';

export const MIX_TABLE_SIZE = 10_000;

export interface MixModel {
  /** Results group. */
  name: string;
  /** Model name on the server (default: name). */
  model?: string;
  weight: number;
  version?: string;
}

/** Normalised weights: zipf(s) over the listed order when `zipf` is set, else the given weights. */
export function mixWeights(models: readonly MixModel[], zipf?: number): number[] {
  const raw =
    zipf !== undefined ? models.map((_, i) => 1 / Math.pow(i + 1, zipf)) : models.map((m) => Math.max(0, m.weight));
  const sum = raw.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new PlanError([{ path: 'mix', message: 'traffic mix weights must add up to more than 0' }]);
  return raw.map((w) => w / sum);
}

/** Slot → model index, exactly apportioned then shuffled with the seed. */
export function mixTable(weights: readonly number[], seed: number, size = MIX_TABLE_SIZE): Uint16Array {
  const exact = weights.map((w) => w * size);
  const counts = exact.map((x) => Math.floor(x));
  let left = size - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, r: x - Math.floor(x) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) counts[order[k].i]++;
  const table: number[] = [];
  counts.forEach((c, i) => {
    for (let k = 0; k < c; k++) table.push(i);
  });
  shuffleInPlace(table, new Rng(deriveSeed(seed, 'mix')));
  return Uint16Array.from(table);
}

/** `dir/golden.jsonl` → `dir/golden.<model>.jsonl` (model name made file-safe). */
export function perModelFile(file: string, model: string): string {
  const safe = model.replace(/[^A-Za-z0-9._-]+/g, '_');
  const slash = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  const dot = file.lastIndexOf('.');
  return dot > slash + 1 ? `${file.slice(0, dot)}.${safe}${file.slice(dot)}` : `${file}.${safe}`;
}

export type AdapterFactory = (o: AdapterOptions) => Promise<Adapter>;

export async function createMixAdapter(o: AdapterOptions, factory: AdapterFactory): Promise<Adapter> {
  // Distinct model names (each is a results group) are checked where the plan is validated (plan/resolve.ts).
  const mix = o.scenario.mix!;
  const weights = mixWeights(mix.models, mix.zipf);
  const table = mixTable(weights, o.seed);
  const dataset = await scenarioDataset(o);
  const subs: Adapter[] = [];
  for (const m of mix.models) {
    const q = o.scenario.quality;
    // golden outputs differ per model: one file per model, `golden.jsonl` → `golden.<model>.jsonl`
    const quality = q
      ? {
          ...q,
          ...(q.saveGolden ? { saveGolden: perModelFile(q.saveGolden, m.name) } : {}),
          ...(q.golden ? { golden: { ...q.golden, file: perModelFile(q.golden.file, m.name) } } : {}),
        }
      : undefined;
    subs.push(
      await factory({
        ...o,
        scenario: {
          ...o.scenario,
          model: m.model ?? m.name,
          modelVersion: m.version ?? o.scenario.modelVersion,
          mix: undefined,
          ...(quality ? { quality } : {}),
        },
        ...(dataset ? { dataset } : {}),
        group: m.name,
      }),
    );
  }
  const byGroup = new Map<string, Adapter>();
  mix.models.forEach((m, i) => byGroup.set(m.name, subs[i]));
  const modes = new Set<BodyMode>(subs.map((s) => s.bodyMode));
  const bodyMode: BodyMode = modes.has('stream') ? 'stream' : modes.has('full') ? 'full' : 'none';
  const T = table.length;
  const k = o.shard.index % T;
  const step = o.shard.count % T;
  const first = subs[0];
  const adapter: Adapter & { report(): Record<string, unknown> } = {
    protocol: first.protocol,
    bodyMode,
    async prepare(ctx: AdapterContext) {
      for (const s of subs) if (s.prepare) await s.prepare(ctx);
    },
    request(seq: number): WireRequest {
      const slot = (k + (((seq % T) * step) % T)) % T;
      return subs[table[slot]].request(seq);
    },
    judge(req: WireRequest, status: number, body: Buffer | null, rec: Recorder): ErrorClass | null {
      const s = (req.group !== undefined ? byGroup.get(req.group) : undefined) ?? first;
      return s.judge ? s.judge(req, status, body, rec) : classifyStatus(status);
    },
    async finish() {
      for (const s of subs) if (s.finish) await s.finish();
    },
    report() {
      const out: Record<string, unknown> = {};
      mix.models.forEach((m, i) => {
        const r = (subs[i] as { report?: () => unknown }).report;
        if (r) out[m.name] = r.call(subs[i]);
      });
      return out;
    },
  };
  if (subs.some((s) => s.openStream)) {
    adapter.openStream = (req: WireRequest, status: number): StreamObserver => {
      const s = (req.group !== undefined ? byGroup.get(req.group) : undefined) ?? first;
      return s.openStream!(req, status);
    };
  }
  return adapter;
}
