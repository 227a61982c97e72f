/**
 * Response checks, compiled once. Grammar (one expression each):
 *
 *   status == 200          status != 500   status < 300   (==, !=, <, <=, >, >=)
 *   status in [200, 204]
 *   $.path exists          $.path not exists
 *   $.path == "digits"     $.path != 3   $.path >= 0.5   (literal: JSON, 'single-quoted' or bare word)
 *   $.path matches ^[a-z]+$          (regex to the end of the line; /re/flags also accepted)
 *   $.path contains "x"    (substring of a string, or element of an array)
 *   body contains "text"   body matches ^\{
 *
 * JSON paths: `$`, `.key`, `['key']`, `[0]`, `[-1]`, `[*]` (see src/data/json.ts).
 * A failed check makes the request `check_failed`. A check on the body of a response that is not
 * JSON fails too (the adapter reports such bodies as `invalid_response` first where the protocol
 * requires JSON).
 */
import { PlanError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
import type { Check } from '../plan/types.js';
import { evalJsonPath, MISSING } from '../data/json.js';
import { parseCheck } from '../plan/checks.js';
import type { CheckOp } from '../plan/checks.js';
import type { PathStep } from '../data/json.js';
import type { ErrorClass } from '../core/types.js';
import { classifyStatus } from './common.js';

type Op = CheckOp;

interface Compiled {
  expression: string;
  usesBody: boolean;
  usesJson: boolean;
  usesStatus: boolean;
  test(status: number, json: unknown, text: () => string): boolean;
}

export interface CompiledChecks {
  readonly count: number;
  /** Some check reads the body (the adapter needs bodyMode 'full'). */
  readonly readsBody: boolean;
  /** Some check reads the body as JSON. */
  readonly readsJson: boolean;
  /** Some check reads the status (see statusVerdict). */
  readonly readsStatus: boolean;
  /**
   * The status rule. Without status checks: 2xx → null, 4xx → http_4xx, 5xx → http_5xx, else other.
   * With status checks: a status they all accept is fine even when not 2xx (e.g. `status == 404`
   * for a negative test); a 2xx they reject → check_failed; a non-2xx they reject keeps its
   * http_4xx / http_5xx class (more telling than check_failed).
   */
  statusVerdict(status: number): ErrorClass | null;
  /** The first failing body check, or null when all pass. `json` is undefined when the body is not JSON. */
  evaluateBody(json: unknown, text: () => string): string | null;
}

function compare(a: unknown, op: Op, b: unknown): boolean {
  if (op === '==' || op === '!=') {
    const eq = a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b));
    return op === '==' ? eq : !eq;
  }
  if (typeof a !== 'number' || typeof b !== 'number') {
    if (typeof a === 'string' && typeof b === 'string') return cmpOrd(a < b ? -1 : a > b ? 1 : 0, op);
    return false;
  }
  return cmpOrd(a - b, op);
}

function cmpOrd(d: number, op: Op): boolean {
  switch (op) {
    case '<':
      return d < 0;
    case '<=':
      return d <= 0;
    case '>':
      return d > 0;
    case '>=':
      return d >= 0;
    default:
      return false;
  }
}

/** A check on the status line alone. */
const statusCheck = (expression: string, ok: (status: number) => boolean): Compiled => ({
  expression,
  usesBody: false,
  usesJson: false,
  usesStatus: true,
  test: (s) => ok(s),
});

/** A check on the body text (`body matches …`, `body contains …`): reads the body, not as JSON. */
const bodyCheck = (expression: string, ok: (text: string) => boolean): Compiled => ({
  expression,
  usesBody: true,
  usesJson: false,
  usesStatus: false,
  test: (_s, _j, text) => ok(text()),
});

/** A check on the value at a JSON path: MISSING when the body is not JSON or the path is absent. */
const jsonCheck = (expression: string, steps: readonly PathStep[], ok: (v: unknown) => boolean): Compiled => ({
  expression,
  usesBody: true,
  usesJson: true,
  usesStatus: false,
  test: (_s, j) => ok(j === undefined ? MISSING : evalJsonPath(j, steps)),
});

function compileOne(expression: string): Compiled {
  const r = parseCheck(expression);
  if (!r.ok) throw new Error(`check "${expression}": ${r.message}${r.hint ? ` (${r.hint})` : ''}`);
  const c = r.check;
  switch (c.kind) {
    case 'status':
      return statusCheck(expression, (s) => compare(s, c.op, c.value));
    case 'status-in': {
      const set = new Set(c.values);
      return statusCheck(expression, (s) => set.has(s));
    }
    case 'exists':
      return jsonCheck(expression, c.path, (v) => (v !== MISSING) !== c.negate);
    case 'matches': {
      const re = c.re;
      if (c.target === 'body') return bodyCheck(expression, (text) => re.test(text));
      // A scalar at the path, as text; an object, null or nothing never matches.
      return jsonCheck(
        expression,
        c.target,
        (v) => v !== MISSING && v !== null && typeof v !== 'object' && re.test(String(v)),
      );
    }
    case 'contains': {
      const lit = c.literal;
      const needle = String(lit);
      if (c.target === 'body') return bodyCheck(expression, (text) => text.includes(needle));
      // A substring of a string, or an element of an array.
      return jsonCheck(expression, c.target, (v) =>
        typeof v === 'string' ? v.includes(needle) : Array.isArray(v) && v.some((x) => compare(x, '==', lit)),
      );
    }
    case 'compare':
      return jsonCheck(expression, c.path, (v) => v !== MISSING && compare(v, c.op, c.literal));
  }
}

/** Compiles every check; a bad expression → PlanError listing all of them. */
export function compileChecks(checks: readonly Check[] | undefined, scenario = ''): CompiledChecks {
  const compiled: Compiled[] = [];
  const problems: Problem[] = [];
  (checks ?? []).forEach((c, i) => {
    try {
      compiled.push(compileOne(c.expression));
    } catch (err) {
      problems.push({ path: `scenarios.${scenario}.checks[${i}]`, message: (err as Error).message });
    }
  });
  if (problems.length > 0) throw new PlanError(problems);
  const statusChecks = compiled.filter((c) => c.usesStatus);
  const bodyChecks = compiled.filter((c) => !c.usesStatus);
  const ns = statusChecks.length;
  const nb = bodyChecks.length;
  const noText = (): string => '';
  return {
    count: compiled.length,
    readsBody: nb > 0,
    readsJson: bodyChecks.some((c) => c.usesJson),
    readsStatus: ns > 0,
    statusVerdict(status) {
      if (ns === 0) return classifyStatus(status);
      let pass = true;
      for (let i = 0; i < ns; i++) {
        if (!statusChecks[i].test(status, undefined, noText)) {
          pass = false;
          break;
        }
      }
      if (pass) return null;
      const cls = classifyStatus(status);
      return cls ?? 'check_failed';
    },
    evaluateBody(json, text) {
      for (let i = 0; i < nb; i++) if (!bodyChecks[i].test(0, json, text)) return bodyChecks[i].expression;
      return null;
    },
  };
}
