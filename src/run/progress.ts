/**
 * The progress view model: what `run()`'s `onProgress` reports after each merged window (the CLI's
 * live view draws it; profiles pass it through). Built from the windows, never from the engine.
 */
import type { IntervalRecord } from '../core/results.js';
import type { Plan } from '../plan/types.js';

export interface ScenarioProgress {
  name: string;
  state: 'waiting' | 'running' | 'done';
  elapsedS: number;
  plannedS: number | null;
  requests: number;
  errors: number;
  /** Last window. */
  throughput: number;
  targetRate?: number;
  vus?: number;
  inFlight: number;
  p50?: number;
  p99?: number;
  /** Stage executors: the current stage (1-based), how many, and seconds left in it. */
  stage?: { index: number; count: number; remainingS: number };
}

export interface ProgressUpdate {
  elapsedS: number;
  plannedS: number | null;
  scenarios: ScenarioProgress[];
}

/** A scenario's span over all shards (see WindowMerger.span). */
type SpanOf = (scenario: string) => { startMs: number; endMs: number | null } | undefined;

/** When a scenario is planned to end (ms since run start); null when bounded by count only. */
export function plannedEndMs(s: Plan['scenarios'][number]): number | null {
  // (a ramping executor's duration is the sum of its stages)
  const d = s.durationMs;
  // `after` a count-bounded scenario: it starts when that one ends, known only then
  return d === undefined || s.after !== undefined ? null : s.startTimeMs + d;
}

/** Follows the merged windows (latest record and running totals per scenario) and builds each update. */
export class ProgressTracker {
  private readonly latest = new Map<string, IntervalRecord>();
  private readonly totalsSoFar = new Map<string, { requests: number; errors: number }>();
  private readonly plannedS: number | null;

  constructor(
    private readonly plan: Plan,
    private readonly span: SpanOf,
  ) {
    const ends = plan.scenarios.map(plannedEndMs);
    this.plannedS = ends.some((e) => e === null) ? null : Math.max(...(ends as number[])) / 1000;
  }

  /** One merged window's records (group records are not shown). */
  add(records: readonly IntervalRecord[]): void {
    for (const r of records) {
      if (r.group !== undefined) continue;
      this.latest.set(r.scenario, r);
      const t = this.totalsSoFar.get(r.scenario) ?? { requests: 0, errors: 0 };
      t.requests += r.requests;
      t.errors += r.requests - r.ok;
      this.totalsSoFar.set(r.scenario, t);
    }
  }

  /** The update after window `index`. */
  update(index: number): ProgressUpdate {
    const plan = this.plan;
    const elapsedS = ((index + 1) * plan.options.intervalMs) / 1000;
    return {
      elapsedS,
      plannedS: this.plannedS,
      scenarios: plan.scenarios.map((s) => {
        const r = this.latest.get(s.name);
        const end = plannedEndMs(s);
        const span = this.span(s.name);
        // `after` a count-bounded scenario: waiting until it has started
        const startS = s.after !== undefined ? (span ? span.startMs / 1000 : Infinity) : s.startTimeMs / 1000;
        // done: past its planned end, or ended in every worker (iterations, maxRequests have no planned end)
        const ended = span?.endMs != null;
        const state: ScenarioProgress['state'] =
          elapsedS < startS && !ended
            ? 'waiting'
            : ended || (end !== null && elapsedS * 1000 >= end + plan.options.intervalMs)
              ? 'done'
              : 'running';
        const t = this.totalsSoFar.get(s.name) ?? { requests: 0, errors: 0 };
        const p: ScenarioProgress = {
          name: s.name,
          state,
          elapsedS: Math.max(0, elapsedS - startS),
          plannedS: end === null ? null : (end - s.startTimeMs) / 1000,
          requests: t.requests,
          errors: t.errors,
          throughput: r && r.t === index ? r.throughput : 0,
          inFlight: r && r.t === index ? r.in_flight : 0,
        };
        if ('stages' in s && s.stages.length > 0 && state === 'running') {
          let acc = 0;
          for (let i = 0; i < s.stages.length; i++) {
            acc += s.stages[i].durationMs / 1000;
            if (p.elapsedS < acc || i === s.stages.length - 1) {
              p.stage = { index: i + 1, count: s.stages.length, remainingS: Math.max(0, acc - p.elapsedS) };
              break;
            }
          }
        }
        if (r?.target_rate !== undefined) p.targetRate = r.target_rate;
        // the gauge of a finished scenario reads 0 users; it says nothing then
        if (r?.vus !== undefined && state === 'running') p.vus = r.vus;
        if (r?.latency_ms && r.t === index) {
          p.p50 = r.latency_ms.p50;
          p.p99 = r.latency_ms.p99;
        }
        return p;
      }),
    };
  }
}
