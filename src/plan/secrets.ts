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
 *
 * Besides values, `redact` removes credentials by their place in any URL it sees, whatever their
 * length or origin: the password of `scheme://user:password@` (a user alone, `scheme://token@`, is
 * taken as a token) and the values of well-known credential query parameters (SECRET_QUERY_PARAMS).
 * Literal ones written in the plan are secrets too (`literalSecrets`), so a server's echo of them is
 * redacted as well.
 */
import { PreflightError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
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

/**
 * Query parameters whose values are credentials by convention (compared case-insensitively). Their
 * values are redacted in every URL shown or written.
 */
export const SECRET_QUERY_PARAMS: readonly string[] = [
  'api_key',
  'apikey',
  'api-key',
  'x-api-key',
  'key',
  'token',
  'access_token',
  'id_token',
  'refresh_token',
  'auth',
  'auth_token',
  'authorization',
  'password',
  'passwd',
  'pwd',
  'secret',
  'client_secret',
  'signature',
  'sig',
  'session',
  'sessionid',
  'session_token',
  'jwt',
  'x-amz-signature',
  'x-amz-security-token',
  'x-amz-credential',
  'x-goog-signature',
  'x-goog-credential',
];

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
/** `?name=value` / `&name=value` (`;`: `&amp;` in HTML); the value ends at the next separator or quote. */
const QUERY_SECRET = new RegExp(
  `([?&;](?:${SECRET_QUERY_PARAMS.map(escapeRe).join('|')})=)([^&#\\s"'\`<>\\\\]+)`,
  'gi',
);
/** `scheme://userinfo@`: the password after `user:`, or the whole userinfo when it has no `:`. */
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'`<>:\\]*)(:[^\s/?#@"'`<>\\]*)?@/gi;

/** Credentials removed by their place in URLs (see the header comment). */
function redactUrlCredentials(text: string): string {
  if (!text.includes('=') && !text.includes('@')) return text;
  return text
    .replace(QUERY_SECRET, '$1***')
    .replace(USERINFO, (m, scheme: string, user: string, pass: string | undefined) =>
      pass === undefined ? (user === '' || user === '***' ? m : `${scheme}***@`) : `${scheme}${user}:***@`,
    );
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Credentials written literally in plan text (a URL's password or token userinfo, values of
 * SECRET_QUERY_PARAMS), as written and decoded: secrets of the plan, like `${VAR}` values, so they
 * are redacted wherever they appear (a server's echo too). Values with `${` are left to
 * interpolation; values that `isRedactable` refuses are still removed from URLs by place.
 */
export function literalSecrets(text: string): string[] {
  const out = new Set<string>();
  const add = (v: string | undefined) => {
    if (v === undefined || v.includes('${')) return;
    for (const x of [v, decode(v)]) if (isRedactable(x)) out.add(x);
  };
  for (const m of text.matchAll(QUERY_SECRET)) add(m[2]);
  for (const m of text.matchAll(USERINFO)) add(m[3] === undefined ? m[2] : m[3].slice(1));
  return [...out];
}

/**
 * A URL's userinfo, decoded, and the URL without it; undefined when it has none. `url` must be an
 * absolute http(s) URL as the plan validated it.
 */
export function splitUserinfo(url: string): { url: string; username: string; password: string } | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i.exec(url);
  if (!m) return undefined;
  const sep = m[2].indexOf(':');
  const user = sep < 0 ? m[2] : m[2].slice(0, sep);
  const pass = sep < 0 ? '' : m[2].slice(sep + 1);
  return { url: m[1] + url.slice(m[0].length), username: decode(user), password: decode(pass) };
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
  if (text.length === 0) return text;
  const all = [...new Set(secrets.filter((s) => s.length > 0).flatMap(variants))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const s of all) if (out.includes(s)) out = out.split(s).join('***');
  return redactUrlCredentials(out);
}

/**
 * The same error with secrets redacted from its message, stack and problems (in place: its class
 * and code stay). For errors raised while talking to the target: they quote URLs and responses.
 */
export function redactError<T>(err: T, secrets: readonly string[]): T {
  if (!(err instanceof Error)) return typeof err === 'string' ? (redact(err, secrets) as T) : err;
  err.message = redact(err.message, secrets);
  if (err.stack !== undefined) err.stack = redact(err.stack, secrets);
  if (err instanceof PreflightError) {
    const problems: Problem[] = err.problems.map((p) => ({
      ...p,
      message: redact(p.message, secrets),
      ...(p.hint !== undefined ? { hint: redact(p.hint, secrets) } : {}),
      ...(p.path !== undefined ? { path: redact(p.path, secrets) } : {}),
    }));
    err.problems.splice(0, err.problems.length, ...problems);
  }
  return err;
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
