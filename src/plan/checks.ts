/**
 * The grammar of response `checks` (see src/protocols/checks.ts for what each one tests). Parsed
 * here, during plan validation, so `validate` reports a malformed check with its line and column;
 * the protocol layer compiles the parsed form into tests.
 */
import { compileJsonPath } from './json-path.js';
import type { PathStep } from './json-path.js';

export type CheckOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type ParsedCheck =
  | { kind: 'status'; op: CheckOp; value: number }
  | { kind: 'status-in'; values: number[] }
  | { kind: 'exists'; path: PathStep[]; negate: boolean }
  | { kind: 'matches'; target: 'body' | PathStep[]; re: RegExp }
  | { kind: 'contains'; target: 'body' | PathStep[]; literal: unknown }
  | { kind: 'compare'; path: PathStep[]; op: CheckOp; literal: unknown };

export type CheckParse = { ok: true; check: ParsedCheck } | { ok: false; message: string; hint?: string };

const EXAMPLES =
  'e.g. `status == 200`, `$.outputs[0].data exists`, `$.model_name == "digits"`, `$.id matches ^[a-z]+$`';
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

function target(t: string): 'body' | PathStep[] {
  return t === 'body' ? 'body' : compileJsonPath(t);
}

/** Parses one check expression; never throws. */
export function parseCheck(expression: string): CheckParse {
  const e = expression.trim();
  try {
    let m: RegExpExecArray | null;
    if ((m = RE_STATUS_CMP.exec(e)))
      return { ok: true, check: { kind: 'status', op: m[1] as CheckOp, value: Number(m[2]) } };
    if ((m = RE_STATUS_IN.exec(e))) {
      const values = m[1]
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      const bad = values.find((x) => !/^\d{3}$/.test(x));
      if (bad !== undefined || values.length === 0)
        return {
          ok: false,
          message: `\`status in [...]\` takes 3-digit status codes${bad !== undefined ? `, got ${bad}` : ''}`,
          hint: 'e.g. status in [200, 204]',
        };
      return { ok: true, check: { kind: 'status-in', values: values.map(Number) } };
    }
    if ((m = RE_EXISTS.exec(e)))
      return { ok: true, check: { kind: 'exists', path: compileJsonPath(m[1]), negate: Boolean(m[2]) } };
    if ((m = RE_MATCHES.exec(e))) {
      const t = target(m[1]);
      let re: RegExp;
      try {
        re = parseRegex(m[2]);
      } catch (err) {
        return {
          ok: false,
          message: `bad regular expression: ${(err as Error).message}`,
          hint: 'the pattern runs to the end of the check; /re/flags is accepted too',
        };
      }
      return { ok: true, check: { kind: 'matches', target: t, re } };
    }
    if ((m = RE_CONTAINS.exec(e)))
      return { ok: true, check: { kind: 'contains', target: target(m[1]), literal: parseLiteral(m[2]) } };
    if ((m = RE_CMP.exec(e)))
      return {
        ok: true,
        check: { kind: 'compare', path: compileJsonPath(m[1]), op: m[2] as CheckOp, literal: parseLiteral(m[3]) },
      };
  } catch (err) {
    // compileJsonPath: a bad JSON path
    return { ok: false, message: (err as Error).message, hint: "JSON paths: $, .key, ['key'], [0], [-1], [*]" };
  }
  if (/^status\b/.test(e))
    return {
      ok: false,
      message: 'cannot read this status check',
      hint: 'e.g. `status == 200`, `status < 300`, `status in [200, 204]` (operators ==, !=, <, <=, >, >=)',
    };
  if (e.startsWith('$') && !/\s/.test(e))
    return {
      ok: false,
      message: 'a JSON path alone is not a check',
      hint: `add a test, e.g. \`${e} exists\` or \`${e} == 1\``,
    };
  return { ok: false, message: 'cannot read this check', hint: EXAMPLES };
}
