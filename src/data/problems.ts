/**
 * Collects every data problem before a run starts, so the user fixes them all at once.
 * The list is capped (default 20 entries) with a final entry counting the rest.
 */
import { DataError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';

export const MAX_PROBLEMS = 20;

export class ProblemList {
  readonly items: Problem[] = [];
  /** Problems seen in total, including those beyond the cap. */
  total = 0;
  constructor(readonly cap = MAX_PROBLEMS) {}

  add(p: Problem): void {
    this.total++;
    if (this.items.length < this.cap) this.items.push(p);
  }

  get size(): number {
    return this.total;
  }

  /** The capped list, with a last entry "… and N more problems" when some were left off. */
  list(): Problem[] {
    const out = this.items.slice();
    const rest = this.total - this.items.length;
    if (rest > 0) {
      const file = out.length > 0 ? out[out.length - 1].file : undefined;
      out.push({ ...(file ? { file } : {}), message: `… and ${rest} more problem${rest === 1 ? '' : 's'}` });
    }
    return out;
  }

  /** Throws a DataError listing every problem (capped) when there is any. */
  throwIfAny(what = 'data'): void {
    if (this.total === 0) return;
    const first = this.items[0];
    const where = first?.file ? ` in ${first.file}` : '';
    throw new DataError(this.list(), `${what}${where} has ${this.total} problem${this.total === 1 ? '' : 's'}`);
  }
}
