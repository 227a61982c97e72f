/**
 * A compared scenario's variants on the sending thread: which variant an arrival goes to (A/B and
 * canary: a weighted split, interleaved so drift cancels; paired: the same row to both arms in one
 * slot), the paired-correctness join, and the shadow join of three answers. Everything here is O(1)
 * per request and bounded in memory.
 */
import type { PairedCounts } from '../comparison/types.js';
import type { ShadowAccumulator, ShadowExchange } from '../comparison/shadow.js';
import type { Adapter, Recorder } from '../core/types.js';
import { predictionOf } from '../data/quality.js';
import { decodeKserveOutputs, decodeTfOutputs } from '../protocols/index.js';
import type { ScenarioPlan } from '../plan/types.js';
import type { Transport } from './http-pool.js';

/** One variant: its own adapter (model, version, headers) and its own connection pool (URL). */
export interface VariantArm {
  name: string;
  adapter: Adapter;
  pool: Transport;
}

/** Pairs waiting for their second arm, at most (older ones are dropped and counted as unpaired). */
export const MAX_OPEN_PAIRS = 4096;
/** Response bodies larger than this are compared as text, not parsed (parsing must stay well under 1 ms). */
export const MAX_PARSED_BODY = 64 * 1024;

/**
 * Smooth weighted round robin (nginx's): with weights 1:1 it alternates A B A B, with 1:9 it spreads
 * the one A evenly among the nine Bs — each short stretch of time gets its share of every variant,
 * so a drift of the target or the generator hits both alike. Deterministic: no random draws.
 */
export class WeightedSplit {
  private readonly current: number[];
  private readonly total: number;
  constructor(private readonly weights: readonly number[]) {
    this.current = weights.map(() => 0);
    this.total = weights.reduce((a, b) => a + b, 0);
  }

  next(): number {
    let best = 0;
    for (let i = 0; i < this.weights.length; i++) {
      this.current[i] += this.weights[i];
      if (this.current[i] > this.current[best]) best = i;
    }
    this.current[best] -= this.total;
    return best;
  }
}

/**
 * Paired design (two arms, the same row in one slot): arrival n belongs to slot ⌊n/2⌋; the order
 * within a slot alternates A B, B A (ABBA), so neither arm is always the first one sent.
 */
export function pairedArm(n: number): number {
  return (n & 1) ^ ((n >> 1) & 1);
}

/** Per-request correctness seen by a recorder (quality.scored / quality.correct), for the paired join. */
export class CorrectnessCapture implements Recorder {
  scored = 0;
  correct = 0;
  constructor(private readonly inner: Recorder) {}
  reset(): void {
    this.scored = 0;
    this.correct = 0;
  }
  count(name: string, n = 1): void {
    if (name === 'quality.scored') this.scored += n;
    else if (name === 'quality.correct') this.correct += n;
    this.inner.count(name, n);
  }
  record(name: string, value: number): void {
    this.inner.record(name, value);
  }
  max(name: string, value: number): void {
    this.inner.max(name, value);
  }
}

/** The two arms' correctness per slot → PairedCounts (a window's, taken by the shard). */
export class PairedJoin {
  /** slot → the first arm's outcome: 1 correct, 0 wrong, -1 not scored (failed, no label). */
  private readonly open = new Map<number, { arm: number; outcome: number }>();
  counts: PairedCounts & { unpaired: number } = emptyCounts();

  /** One arm's result of slot `slot`: `outcome` as above. */
  add(slot: number, arm: number, outcome: number): void {
    const first = this.open.get(slot);
    if (first === undefined) {
      if (this.open.size >= MAX_OPEN_PAIRS) {
        const oldest = this.open.keys().next().value as number;
        this.open.delete(oldest);
        this.counts.unpaired++;
      }
      this.open.set(slot, { arm, outcome });
      return;
    }
    this.open.delete(slot);
    if (first.arm === arm) {
      this.counts.unpaired++;
      return;
    }
    const control = arm === 0 ? outcome : first.outcome;
    const candidate = arm === 0 ? first.outcome : outcome;
    if (control < 0 || candidate < 0) this.counts.unpaired++;
    else if (control === 1 && candidate === 1) this.counts.bothCorrect++;
    else if (control === 1) this.counts.controlOnly++;
    else if (candidate === 1) this.counts.candidateOnly++;
    else this.counts.neither++;
  }

  take(): PairedCounts & { unpaired: number } {
    const c = this.counts;
    this.counts = emptyCounts();
    return c;
  }
}

function emptyCounts(): PairedCounts & { unpaired: number } {
  return { bothCorrect: 0, controlOnly: 0, candidateOnly: 0, neither: 0, unpaired: 0 };
}

/**
 * Shadow: the three requests of one arrival. The arrival's owner (executor, virtual user) is told
 * once, when all three have finished; the accumulator sees the three answers then, unless one was
 * cancelled by us (a stop): such an arrival is not compared.
 */
export class MirrorJoin {
  remaining: number;
  cancelled = false;
  readonly exchanges: Array<ShadowExchange | undefined>;
  /** Per variant: the row scored right (1), wrong (0), or not scored (-1) — see shadowLabel. */
  readonly correct: number[];
  constructor(
    private readonly owner: { onRequestDone(): void },
    private readonly acc: ShadowAccumulator,
    n: number,
  ) {
    this.remaining = n;
    this.exchanges = new Array<ShadowExchange | undefined>(n);
    this.correct = new Array<number>(n).fill(-1);
  }

  onRequestDone(): void {
    if (--this.remaining > 0) return;
    if (!this.cancelled) {
      const [p, s, c] = this.exchanges;
      if (p && s && c) this.acc.observe(p, s, c, shadowLabel(this.exchanges as ShadowExchange[], this.correct));
    }
    this.owner.onRequestDone();
  }
}

/** A label no prediction equals: every variant that scored the row was wrong. */
export const NO_CORRECT_LABEL = '\u0000wrong';

/**
 * The row's true label as far as correctness goes: the adapter knows labels, the engine sees only
 * whether each variant's prediction was right (its quality counters). A right variant's prediction
 * is the label; when every variant that scored the row was wrong, a value none predicted. Exact for
 * what the label is used for (who is right); undefined when no variant scored the row.
 */
export function shadowLabel(ex: readonly ShadowExchange[], correct: readonly number[]): number | string | undefined {
  let anyScored = false;
  for (let i = 0; i < ex.length; i++) {
    if (correct[i] === 1 && ex[i].prediction?.label !== undefined) return ex[i].prediction!.label;
    if (correct[i] >= 0) anyScored = true;
  }
  return anyScored ? NO_CORRECT_LABEL : undefined;
}

/**
 * How to read a prediction from a parsed response for the shadow comparison: the protocol's own
 * output decoding (as its quality scoring does), one row; null when the scenario predicts nothing
 * (no classification quality, a JSON-path prediction, several rows per request).
 */
export function shadowPredictor(sc: ScenarioPlan): ((body: unknown) => ShadowExchange['prediction']) | null {
  if (sc.protocol === 'openai')
    return (body) => {
      const c = (body as { choices?: Array<{ message?: { content?: unknown }; text?: unknown }> } | null)?.choices?.[0];
      const text = c?.message?.content ?? c?.text;
      return typeof text === 'string' ? { text } : undefined;
    };
  const q = sc.quality;
  if (q?.task !== 'classification' || q.prediction.kind !== 'argmax') return null;
  if (sc.data && sc.data.batch.max !== 1) return null;
  const output = q.prediction.output;
  const rowOf = (body: unknown): unknown => {
    const d =
      sc.protocol === 'kserve-v2'
        ? decodeKserveOutputs(body, 1, output)
        : sc.protocol === 'tfserving'
          ? decodeTfOutputs(body, 1, output)
          : {
              kind: 'rows' as const,
              rows: [Array.isArray(body) && body.length === 1 && Array.isArray(body[0]) ? body[0] : body],
            };
    return d.kind === 'rows' ? d.rows[0] : undefined;
  };
  return (body) => {
    const raw = rowOf(body);
    const p = predictionOf(raw, 'classification');
    if (p.kind !== 'value') return undefined;
    const scores = Array.isArray(raw) && raw.every((x) => typeof x === 'number') ? (raw as number[]) : undefined;
    return scores ? { label: p.value, scores } : { label: p.value };
  };
}

/** A response body for the shadow comparison: JSON parsed when it is JSON (and small), else text. */
export function exchangeBody(body: Buffer | null): unknown {
  if (body === null) return null;
  const text = body.toString('utf8');
  if (body.length > MAX_PARSED_BODY) return text;
  const c = text.charCodeAt(0);
  // `{`, `[`, or whitespace before them: worth a parse; anything else is compared as text.
  if (c === 123 || c === 91 || c === 32 || c === 10 || c === 13 || c === 9) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
