/**
 * JSON helpers for responses: a tolerant parser (bare NaN / Infinity / -Infinity, as TF Serving
 * writes them) and a small JSON path subset used by checks and quality scoring.
 */

/**
 * Parses JSON, accepting bare `NaN`, `Infinity` and `-Infinity` outside strings (TF Serving emits
 * them). Fast path: plain `JSON.parse`; only when that fails is the text rewritten (`Infinity` →
 * `1e999`, which JSON.parse reads as Infinity; `NaN` → `null`, read back as NaN by numeric
 * decoders) and parsed again. Throws SyntaxError when the text is not JSON even then.
 */
export function parseJsonTolerant(text: string | Buffer): unknown {
  const s = typeof text === 'string' ? text : text.toString('utf8');
  try {
    return JSON.parse(s);
  } catch (err) {
    const fixed = replaceNonFinite(s);
    if (fixed === s) throw err;
    return JSON.parse(fixed);
  }
}

/** Rewrites bare NaN/Infinity/-Infinity tokens that are outside string literals. */
export function replaceNonFinite(s: string): string {
  let out = '';
  let last = 0;
  let inString = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c === 78 /* N */ && s.startsWith('NaN', i)) {
      out += s.slice(last, i) + 'null';
      i += 2;
      last = i + 1;
    } else if (c === 73 /* I */ && s.startsWith('Infinity', i)) {
      out += s.slice(last, i) + '1e999';
      i += 7;
      last = i + 1;
    }
  }
  if (last === 0) return s;
  return out + s.slice(last);
}

// The path compiler lives with the plan (paths are checked when the plan is validated).
export { compileJsonPath } from '../plan/json-path.js';
export type { PathStep } from '../plan/json-path.js';
import type { PathStep } from '../plan/json-path.js';

/** Sentinel for "the path does not exist". */
export const MISSING: unique symbol = Symbol('missing');

/**
 * Evaluates compiled steps. After a `[*]`, the remaining steps map over every element and the
 * result is an array (elements where the rest is missing are dropped).
 */
export function evalJsonPath(value: unknown, steps: readonly PathStep[], from = 0): unknown | typeof MISSING {
  let cur: unknown = value;
  for (let s = from; s < steps.length; s++) {
    const step = steps[s];
    if ('key' in step) {
      if (
        cur === null ||
        typeof cur !== 'object' ||
        Array.isArray(cur) ||
        !Object.prototype.hasOwnProperty.call(cur, step.key)
      )
        return MISSING;
      cur = (cur as Record<string, unknown>)[step.key];
    } else if ('index' in step) {
      if (!Array.isArray(cur)) return MISSING;
      const idx = step.index < 0 ? cur.length + step.index : step.index;
      if (idx < 0 || idx >= cur.length) return MISSING;
      cur = cur[idx];
    } else {
      const items = Array.isArray(cur) ? cur : cur !== null && typeof cur === 'object' ? Object.values(cur) : null;
      if (!items) return MISSING;
      const out: unknown[] = [];
      for (const item of items) {
        const v = evalJsonPath(item, steps, s + 1);
        if (v !== MISSING) out.push(v);
      }
      return out;
    }
  }
  return cur;
}

/** Flattens nested numeric arrays (row-major) into `out`; returns false if a leaf is not a number (null → NaN). */
export function flattenNumbers(value: unknown, out: number[]): boolean {
  if (typeof value === 'number') {
    out.push(value);
    return true;
  }
  if (value === null) {
    out.push(NaN);
    return true;
  }
  if (typeof value === 'boolean') {
    out.push(value ? 1 : 0);
    return true;
  }
  if (Array.isArray(value)) {
    for (const v of value) if (!flattenNumbers(v, out)) return false;
    return true;
  }
  return false;
}
