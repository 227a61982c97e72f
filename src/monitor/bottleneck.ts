/**
 * Where the target's time goes as load grows, for servers that export queue and compute time
 * (Triton-style, TorchServe, vLLM): windows grouped into load levels by throughput, per level the
 * share of server time spent queueing, the batch size achieved, and the lowest level from which
 * queueing dominates — in numbers and in words.
 */
import type { BottleneckSummary, Summary, TargetWindowRecord } from '../core/results.js';

type Level = BottleneckSummary['levels'][number];

const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v && typeof v === 'object') {
    const m = (v as { mean?: unknown }).mean;
    return typeof m === 'number' && Number.isFinite(m) ? m : null;
  }
  return null;
};

const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

/** Levels from (rate, queue, compute, batch) points: a new level where the rate is over 15 % above the level's first. */
export function levelsOf(points: { rate: number; queue: number; compute: number; batch: number | null }[]): Level[] {
  const sorted = [...points].sort((a, b) => a.rate - b.rate);
  const groups: (typeof points)[] = [];
  for (const p of sorted) {
    const g = groups.at(-1);
    if (g && p.rate <= g[0].rate * 1.15 + 0.5) g.push(p);
    else groups.push([p]);
  }
  return groups.map((g) => {
    const mean = (f: (p: (typeof g)[number]) => number) => g.reduce((a, p) => a + f(p), 0) / g.length;
    const q = mean((p) => p.queue);
    const c = mean((p) => p.compute);
    const batches = g.map((p) => p.batch).filter((b): b is number => b !== null);
    const level: Level = {
      rate: mean((p) => p.rate),
      queue_ms: q,
      compute_ms: c,
      queue_share: q + c > 0 ? q / (q + c) : 0,
    };
    if (batches.length > 0) level.batch_size = batches.reduce((a, b) => a + b, 0) / batches.length;
    return level;
  });
}

/** The answer from levels (shared by a run and by profiles that run one level per step). */
export function bottleneckOf(levels: Level[]): BottleneckSummary | undefined {
  if (levels.length === 0) return undefined;
  const from = levels.find((l) => l.queue_share > 0.5);
  const top = levels[levels.length - 1];
  const batch = top.batch_size !== undefined ? `, batch size ${fmt(top.batch_size)}` : '';
  const at = (l: Level) =>
    `queue ${fmt(l.queue_ms)} ms vs compute ${fmt(l.compute_ms)} ms (${Math.round(l.queue_share * 100)} % queueing) at ${fmt(l.rate)} req/s`;
  const text = from
    ? `queue-dominated from ${fmt(from.rate)} req/s: ${at(from)}${from === top ? batch : `; at the top, ${at(top)}${batch}`}. Requests wait more than they compute: add replicas or batching (larger max batch, more instances).`
    : `compute-dominated at every load level measured (up to ${fmt(top.rate)} req/s): ${at(top)}${batch}. The model's own time dominates: optimise the model (or faster hardware) before adding replicas.`;
  return { levels, queue_dominated_from: from ? from.rate : null, text };
}

/** From a run's windows: target queue/compute time and Preflight's throughput per window. */
export function bottleneck(
  records: readonly TargetWindowRecord[],
  throughput: ReadonlyMap<number, number>,
): BottleneckSummary | undefined {
  const points: { rate: number; queue: number; compute: number; batch: number | null }[] = [];
  for (const r of records) {
    const rate = throughput.get(r.t);
    const queue = num(r.values['queue_time']);
    const compute = num(r.values['compute_time']);
    if (rate === undefined || rate <= 0 || queue === null || compute === null) continue;
    points.push({ rate, queue, compute, batch: num(r.values['batch_size']) });
  }
  return bottleneckOf(levelsOf(points));
}

/** From a profile's steps (one load level each): each step's target queue/compute means and throughput. */
export function bottleneckOfSteps(
  steps: readonly { rate: number; summary: Pick<Summary, 'target_metrics'> }[],
): BottleneckSummary | undefined {
  const levels: Level[] = [];
  for (const s of steps) {
    const tm = s.summary.target_metrics;
    const q = tm?.['queue_time']?.mean;
    const c = tm?.['compute_time']?.mean;
    if (typeof q !== 'number' || typeof c !== 'number' || !(s.rate > 0)) continue;
    const level: Level = { rate: s.rate, queue_ms: q, compute_ms: c, queue_share: q + c > 0 ? q / (q + c) : 0 };
    const b = tm?.['batch_size']?.mean;
    if (typeof b === 'number') level.batch_size = b;
    levels.push(level);
  }
  return bottleneckOf(levels.sort((a, b) => a.rate - b.rate));
}
