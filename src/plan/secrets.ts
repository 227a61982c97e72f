/**
 * `${VAR}` interpolation from the environment, and redaction of the values it brought in.
 *
 *   ${VAR}            value of VAR; unset → a problem naming VAR (set-but-empty gives '')
 *   ${VAR:-default}   value of VAR, or `default` when VAR is unset or empty
 *   $${               a literal `${`
 *
 * Every value taken from the environment is a secret: it goes into `plan.secrets`, and outputs pass
 * through `redact` / `redactPlan`. Defaults are written in the plan file, so they are not. Exceptions,
 * because redacting them would corrupt every output (results JSON is redacted as text): values that
 * are shorter than 4 characters, plain numbers, or true/false/null. Credential headers are secrets
 * whatever their length (see resolve.ts).
 */
import type { Plan } from './types.js';

export type Env = Record<string, string | undefined>;

export interface Interpolation {
  value: string;
  /** Whether any `${…}` was replaced. */
  interpolated: boolean;
  /** Values taken from the environment (non-empty), for `plan.secrets`. */
  secrets: string[];
  /** Variables that were referenced without a default but are not set. */
  missing: string[];
  /** Malformed references, described without values. */
  errors: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether an interpolated value is recorded as a secret (see the header comment). */
export function isRedactable(v: string): boolean {
  return v.length >= 4 && !/^[+-]?\d+(\.\d+)?$/.test(v) && !/^(true|false|null)$/i.test(v);
}

export function interpolate(text: string, env: Env): Interpolation {
  const out: Interpolation = { value: text, interpolated: false, secrets: [], missing: [], errors: [] };
  if (!text.includes('${')) return out;
  let result = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('${', i);
    if (start < 0) {
      result += text.slice(i);
      break;
    }
    if (start > 0 && text[start - 1] === '$') {
      // `$${` → literal `${`
      result += text.slice(i, start - 1) + '${';
      i = start + 2;
      continue;
    }
    result += text.slice(i, start);
    const end = text.indexOf('}', start + 2);
    if (end < 0) {
      out.errors.push('unterminated `${` (no closing `}`)');
      result += text.slice(start);
      break;
    }
    const inner = text.slice(start + 2, end);
    const sep = inner.indexOf(':-');
    const name = sep >= 0 ? inner.slice(0, sep) : inner;
    const fallback = sep >= 0 ? inner.slice(sep + 2) : undefined;
    if (!NAME.test(name)) {
      out.errors.push(`\`\${${name.length > 40 ? `${name.slice(0, 40)}…` : name}}\` is not a valid variable reference`);
      result += text.slice(start, end + 1);
      i = end + 1;
      continue;
    }
    out.interpolated = true;
    const v = env[name];
    if (v !== undefined && !(fallback !== undefined && v === '')) {
      result += v;
      if (isRedactable(v)) out.secrets.push(v);
    } else if (fallback !== undefined) {
      result += fallback;
    } else {
      out.missing.push(name);
    }
    i = end + 1;
  }
  out.value = result;
  return out;
}

/** Every form in which a secret may appear in output text: as is, JSON-escaped and URL-encoded. */
function variants(secret: string): string[] {
  const set = new Set<string>([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
  return [...set].filter((v) => v.length > 0);
}

/**
 * Replaces every occurrence of every secret in `text` by `***` (longest first). Use it for free
 * text (messages, logs, request echoes); use `redactPlan` for the plan itself.
 */
export function redact(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0 || text.length === 0) return text;
  const all = [...new Set(secrets.filter((s) => s.length > 0).flatMap(variants))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of all) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

function redactValue(v: unknown, secrets: readonly string[]): unknown {
  if (typeof v === 'string') return redact(v, secrets);
  if (Array.isArray(v)) return v.map((x) => redactValue(x, secrets));
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = redactValue(x, secrets);
    return o;
  }
  return v;
}

/**
 * A deep copy of the resolved plan with every secret value (in any string: headers, URLs, bodies…)
 * replaced by `***`, and `secrets` itself masked. Safe to print or write as plan.resolved.json.
 */
export function redactPlan(plan: Plan): Plan {
  const copy = redactValue({ ...plan, secrets: [] }, plan.secrets) as Plan;
  copy.secrets = plan.secrets.map(() => '***');
  return copy;
}
