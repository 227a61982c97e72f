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
import { compileJsonPath, evalJsonPath, MISSING } from '../data/json.js';
import type { PathStep } from '../data/json.js';
import type { ErrorClass } from '../core/types.js';
import { classifyStatus } from './common.js';

type Op = '==' | '!=' | '<' | '<=' | '>' | '>=';

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

const PATH = String.raw`\$(?:\.[^\s.\[]+|\[[^\]]*\])*`;
const RE_STATUS_CMP = /^status\s*(==|!=|<=|>=|<|>)\s*(\d{3})$/;
const RE_STATUS_IN = /^status\s+in\s*\[([\d\s,]+)\]$/;
const RE_EXISTS = new RegExp(`^(${PATH})\\s+(not\\s+)?exists$`);
const RE_MATCHES = new RegExp(`^(${PATH}|body)\\s+matches\\s+(.+)$`);
const RE_CONTAINS = new RegExp(`^(${PATH}|body)\\s+contains\\s+(.+)$`);
const RE_CMP = new RegExp(`^(${PATH})\\s*(==|!=|<=|>=|<|>)\\s*(.+)$`);

function parseLiteral(s: string): unknown {
  const t = s.trim();
  if (t.startsWith("'") && t.endsWith("'") && t.length >= 2) return t.slice(1, -1);
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

function parseRegex(s: string): RegExp {
  const t = s.trim();
  const m = /^\/(.*)\/([a-z]*)$/.exec(t);
  return m ? new RegExp(m[1], m[2]) : new RegExp(t);
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
  const e = expression.trim();
  let m: RegExpExecArray | null;
  if ((m = RE_STATUS_CMP.exec(e))) {
    const op = m[1] as Op;
    const v = Number(m[2]);
    return { expression, usesBody: false, usesJson: false, usesStatus: true, test: (s) => compare(s, op, v) };
  }
  if ((m = RE_STATUS_IN.exec(e))) {
    const set = new Set(m[1].split(',').map((x) => Number(x.trim())).filter((x) => Number.isFinite(x)));
    return { expression, usesBody: false, usesJson: false, usesStatus: true, test: (s) => set.has(s) };
  }
  if ((m = RE_EXISTS.exec(e))) {
    const steps = compileJsonPath(m[1]);
    const negate = Boolean(m[2]);
    return { expression, usesBody: true, usesJson: true, usesStatus: false, test: (_s, j) => (j !== undefined && evalJsonPath(j, steps) !== MISSING) !== negate };
  }
  if ((m = RE_MATCHES.exec(e))) {
    const re = parseRegex(m[2]);
    if (m[1] === 'body') return { expression, usesBody: true, usesJson: false, usesStatus: false, test: (_s, _j, text) => re.test(text()) };
    const steps = compileJsonPath(m[1]);
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
  if ((m = RE_CONTAINS.exec(e))) {
    const lit = parseLiteral(m[2]);
    if (m[1] === 'body') {
      const needle = String(lit);
      return { expression, usesBody: true, usesJson: false, usesStatus: false, test: (_s, _j, text) => text().includes(needle) };
    }
    const steps: PathStep[] = compileJsonPath(m[1]);
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
  if ((m = RE_CMP.exec(e))) {
    const steps = compileJsonPath(m[1]);
    const op = m[2] as Op;
    const lit = parseLiteral(m[3]);
    return {
      expression,
      usesBody: true,
      usesJson: true,
      usesStatus: false,
      test: (_s, j) => {
        const v = j === undefined ? MISSING : evalJsonPath(j, steps);
        return v !== MISSING && compare(v, op, lit);
      },
    };
  }
  throw new Error(
    `cannot read check "${expression}"; expected e.g. \`status == 200\`, \`$.outputs[0].data exists\`, \`$.model_name == "digits"\`, \`$.id matches ^[a-z]+$\``,
  );
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
