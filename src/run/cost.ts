/**
 * The plan's `cost:` section applied to what was measured (docs/cost.md): the capacity per replica
 * from the run (or the plan), the figures from the cost model (src/cost), into `summary.cost`.
 * Plain runs call `costOfRun`; the capacity profile calls `applyCost` with its max sustainable rate.
 */
import type { CostSummary } from '../core/cost.js';
import type { ScenarioSummary, Summary } from '../core/results.js';
import { computeCost } from '../cost/index.js';
import type { CostPlan } from '../plan/cost.js';

/** Output tokens per successful inference (text generation), and accuracy, from a scenario summary. */
function extrasOf(s: ScenarioSummary | undefined): { tokens: number | null; accuracy: number | null } {
  if (!s) return { tokens: null, accuracy: null };
  const out = s.counters?.['tokens_out'];
  const tokens = typeof out === 'number' && out > 0 && s.ok > 0 ? out / s.ok : null;
  const acc = typeof s['accuracy'] === 'number' ? (s['accuracy'] as number) : null;
  return { tokens, accuracy: acc };
}

/**
 * Puts the cost into the summary from a measured capacity (the whole tested target: divided by
 * testedReplicas), or a note saying why there is none. Returns the warnings it adds.
 */
export function applyCost(
  cost: CostPlan,
  summary: Summary,
  measured: { perSecond: number; source: string },
  subject: ScenarioSummary | undefined = summary.total,
): string[] {
  const perReplica = cost.capacity.fromRun ? measured.perSecond / cost.testedReplicas : cost.capacity.perSecond;
  const source = cost.capacity.fromRun
    ? cost.testedReplicas > 1
      ? `${measured.source}, divided by the ${cost.testedReplicas} tested replicas`
      : measured.source
    : 'the plan (cost.capacity)';
  if (!(perReplica > 0)) {
    summary.cost_note = `no cost: the capacity measured was 0/s (${measured.source})`;
    return [`cost: ${summary.cost_note}`];
  }
  const { tokens, accuracy } = extrasOf(subject);
  const c: CostSummary = computeCost({
    prices: cost.prices,
    instance: cost.instance,
    capacityPerReplica: perReplica,
    capacitySource: source,
    peakPerS: cost.peakPerS,
    headroom: cost.headroom,
    minReplicas: cost.minReplicas,
    ...(cost.curve ? { curve: cost.curve } : {}),
    hoursPerMonth: cost.hoursPerMonth,
    tokensPerInference: tokens,
    accuracy,
  });
  summary.cost = c;
  return [];
}

/**
 * A plain run's capacity: its goodput (requests per second meeting every openai.slo) when measured,
 * else its successful throughput. Either is only what the run *offered* unless it saturated the
 * target within the SLO — the capacity profile finds the real maximum — so the source says so.
 */
export function costOfRun(cost: CostPlan, summary: Summary): string[] {
  const t = summary.total;
  const goodput = typeof t['goodput'] === 'number' ? (t['goodput'] as number) : null;
  const slo = summary.thresholds.filter((r) => !r.ok && !r.expression.trim().startsWith('cost.'));
  const caveat = slo.length > 0 ? '; the run broke its thresholds, so this is not a capacity within the SLO' : '';
  const measured =
    goodput !== null
      ? { perSecond: goodput, source: `the run's goodput (requests/s meeting every openai.slo)${caveat}` }
      : {
          perSecond: t.ok_throughput ?? t.throughput,
          source: `the run's successful throughput (the load it was offered, not necessarily its capacity: use profile capacity for that)${caveat}`,
        };
  const warnings = applyCost(cost, summary, measured);
  if (cost.capacity.fromRun && slo.length > 0)
    warnings.push('cost: the run broke its thresholds; its throughput is not a capacity within the SLO');
  return warnings;
}

/**
 * The cost of a run already made (`preflight cost <results-dir>`): a capacity profile's max
 * sustainable rate, else the run's goodput or successful throughput, as after the run itself.
 */
export function costOfResults(cost: CostPlan, summary: Summary): string[] {
  delete summary.cost;
  delete summary.cost_note;
  const cap = summary.profiles?.['capacity'] as { numbers?: Record<string, unknown> } | undefined;
  const rate = cap?.numbers?.['max_sustainable_rate'];
  if (typeof rate === 'number')
    return applyCost(cost, summary, {
      perSecond: rate,
      source: 'the capacity profile: the highest rate sustained within the SLO (max_sustainable_rate)',
    });
  if (summary.profiles && Object.keys(summary.profiles).length > 0)
    throw new RangeError(
      `a ${Object.keys(summary.profiles).join(', ')} profile's results: the cost reads a plain run or a capacity profile`,
    );
  return costOfRun(cost, summary);
}
