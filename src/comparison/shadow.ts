/**
 * Shadow comparison: every request sent to primary, secondary and candidate; per JSON field, the
 * primary–candidate difference rate against the primary–secondary noise rate (as Diffy does), and
 * ML-aware agreement on top. The engine feeds one accumulator per shard on the sending thread
 * (`observe` must stay in the microseconds), takes its counts per window (`take`), and run() merges
 * them (`mergeShadowCounts`) and judges them (`judgeShadow`).
 */
import type { ShadowResult } from '../core/comparison.js';
import type { ShadowPlan } from '../plan/comparison.js';

/** What one variant answered to one request. */
export interface ShadowExchange {
  status: number;
  /** Parsed JSON body when the response was JSON, else the text; null when no response (error). */
  body: unknown;
  errorClass?: string;
  /** The prediction the adapter extracted, when the plan has a quality section. */
  prediction?: { label?: number | string; scores?: number[]; text?: string };
}

/** Mergeable, JSON-serialisable counts of one window (or a whole run) of shadow comparisons. */
export interface ShadowCounts {
  compared: number;
}

export class ShadowAccumulator {
  private counts: ShadowCounts = { compared: 0 };
  constructor(readonly plan: ShadowPlan) {}

  /** One request's three answers; `label` is the row's true label when the data has one. */
  observe(
    _primary: ShadowExchange,
    _secondary: ShadowExchange,
    _candidate: ShadowExchange,
    _label?: number | string,
  ): void {
    this.counts.compared++;
  }

  /** The counts since the last take (the window's), resetting them. */
  take(): ShadowCounts {
    const c = this.counts;
    this.counts = { compared: 0 };
    return c;
  }
}

export function mergeShadowCounts(parts: readonly ShadowCounts[]): ShadowCounts {
  let compared = 0;
  for (const p of parts) compared += p.compared;
  return { compared };
}

export function judgeShadow(counts: ShadowCounts, _plan: ShadowPlan): ShadowResult {
  return { compared: counts.compared, agreement: Number.NaN, fields: [] };
}
