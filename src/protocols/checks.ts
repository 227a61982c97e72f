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

function compileOne(expression: string): Compiled {
  const r = parseCheck(expression);
  if (!r.ok) throw new Error(`check "${expression}": ${r.message}${r.hint ? ` (${r.hint})` : ''}`);
  const c = r.check;
  switch (c.kind) {
    case 'status':
      return { expression, usesBody: false, usesJson: false, usesStatus: true, test: (s) => compare(s, c.op, c.value) };
    case 'status-in': {
      const set = new Set(c.values);
      return { expression, usesBody: false, usesJson: false, usesStatus: true, test: (s) => set.has(s) };
    }
    case 'exists':
      return {
        expression,
        usesBody: true,
        usesJson: true,
        usesStatus: false,
        test: (_s, j) => (j !== undefined && evalJsonPath(j, c.path) !== MISSING) !== c.negate,
      };
    case 'matches': {
      const re = c.re;
      if (c.target === 'body')
        return {
          expression,
          usesBody: true,
          usesJson: false,
          usesStatus: false,
          test: (_s, _j, text) => re.test(text()),
        };
      const steps = c.target;
      return {
        expression,
        usesBody: true,
        usesJson: true,
        usesStatus: false,
        test: (_s, j) => {
          const v = j === undefined ? MISSING : evalJsonPath(j, steps);
          if (v === MISSING || v === null || typeof v === 'object') return false;
          return re.test(String(v));
        },
      };
    }
    case 'contains': {
      const lit = c.literal;
      if (c.target === 'body') {
        const needle = String(lit);
        return {
          expression,
          usesBody: true,
          usesJson: false,
          usesStatus: false,
          test: (_s, _j, text) => text().includes(needle),
        };
      }
      const steps: PathStep[] = c.target;
      return {
        expression,
        usesBody: true,
        usesJson: true,
        usesStatus: false,
        test: (_s, j) => {
          const v = j === undefined ? MISSING : evalJsonPath(j, steps);
          if (typeof v === 'string') return v.includes(String(lit));
          if (Array.isArray(v)) return v.some((x) => compare(x, '==', lit));
          return false;
        },
      };
    }
    case 'compare':
      return {
        expression,
        usesBody: true,
        usesJson: true,
        usesStatus: false,
        test: (_s, j) => {
          const v = j === undefined ? MISSING : evalJsonPath(j, c.path);
          return v !== MISSING && compare(v, c.op, c.literal);
        },
      };
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
