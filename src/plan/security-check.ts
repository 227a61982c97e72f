/**
 * The `security` assumption check's plan section (`checks.security`, docs/checks.md): which probes
 * may be sent to the plan's target, and what they must get back. Syntax here (`securityCheckSpec`, for
 * the walker and the JSON Schema); `buildSecurityCheck` turns the walked value into the resolved
 * `SecurityCheckPlan`, reporting every problem located through the walker. The probes themselves run in
 * src/checks/security.ts.
 */
import { readFileSync } from 'node:fs';
import { tryParseSize } from './monitor.js';
import { join, show } from './spec.js';
import type { ObjectSpec, Raw, Walker } from './spec.js';
import type { CheckKindSyntax } from './check-kinds.js';
import { headers as headersSpec } from './spec.js';

/** The malformed inputs the bad-input probe sends, each one request. */
export const BAD_INPUT_PROBES = [
  'malformed-json',
  'empty-body',
  'wrong-type',
  'wrong-shape',
  'wrong-content-type',
  'oversized',
] as const;
export type BadInputProbe = (typeof BAD_INPUT_PROBES)[number];

export const TLS_VERSIONS = ['TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** Response headers that name software (and often its version): absent by default. */
export const DEFAULT_FORBIDDEN_HEADERS = ['x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version', 'x-runtime'];

/** The valid request the probes start from (auth without credentials, bad inputs, the burst). */
export interface SecurityRequest {
  method: string;
  /** Path and query under the target URL's base path. */
  path: string;
  headers: Record<string, string>;
  /** Body text (a JSON value in the plan is serialised once). */
  body?: string;
}

export interface SecurityCheckPlan {
  request?: SecurityRequest;
  /** Deadline of every probe request (and TLS handshake): no answer within it is a fail. */
  timeoutMs: number;
  /** Present when the plan says auth is required: the credential headers the probes remove or spoil. */
  auth?: { headers: string[] };
  /** TLS of an https:// target (skipped on http://). */
  tls?: { warnDays: number; minVersion: TlsVersion; ca?: string };
  /** Malformed inputs: each must get a 4xx. */
  badInputs?: { probes: BadInputProbe[]; oversizeBytes: number };
  /** What error answers must not show. */
  leaks?: { forbidHeaders: string[]; serverVersion: boolean; requireHeaders: Record<string, string> };
  /** A burst of `burst` copies of the request within `withinMs` must get at least one 429. */
  rateLimit?: { burst: number; withinMs: number };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerName = {
  t: 'string',
  nonEmpty: true,
  pattern: HEADER_NAME,
  patternMessage: 'expected an HTTP header name',
} as const;

export const securityCheckSpec: ObjectSpec = {
  t: 'object',
  what: 'security check',
  description: 'Security assumptions of the target: auth, TLS, bad inputs, leaks, rate limiting (docs/checks.md).',
  fields: {
    request: {
      t: 'object',
      what: 'request',
      description: 'A valid request to the target (usually inference); the probes alter it.',
      fields: {
        method: { t: 'string', default: 'POST', pattern: /^[A-Z]+$/, patternMessage: 'expected an HTTP method' },
        path: {
          t: 'string',
          required: true,
          pattern: /^\/\S*$/,
          patternMessage: 'expected a path starting with /',
          description: 'e.g. /v2/models/digits/infer',
        },
        headers: headersSpec,
        body: { t: 'any', description: 'A JSON value (sent as JSON) or a string.' },
      },
    },
    timeout: { t: 'duration', positive: true, default: '5s', description: 'Deadline of each probe.' },
    auth: {
      t: 'union',
      expected: '`required`, `false` or `{ required, headers }`',
      string: { t: 'string', enum: ['required'] },
      bool: { t: 'bool' },
      map: {
        t: 'object',
        what: 'auth',
        fields: {
          required: { t: 'bool', default: true },
          headers: {
            t: 'array',
            minItems: 1,
            items: headerName,
            default: ['authorization'],
            description: 'The credential headers of the request (target.headers or request.headers).',
          },
        },
      },
    },
    tls: {
      t: 'union',
      expected: '`true`, `false` or `{ warnDays, minVersion, caFile }`',
      bool: { t: 'bool' },
      map: {
        t: 'object',
        what: 'tls',
        fields: {
          warnDays: { t: 'int', min: 0, max: 3650, default: 30, description: 'Warn when expiry is nearer.' },
          minVersion: { t: 'string', enum: TLS_VERSIONS, default: 'TLSv1.2', description: 'Older must be refused.' },
          caFile: { t: 'string', nonEmpty: true, description: 'PEM CA the chain must verify against.' },
        },
      },
    },
    badInputs: {
      t: 'union',
      expected: '`true`, `false` or `{ probes, oversize }`',
      bool: { t: 'bool' },
      map: {
        t: 'object',
        what: 'badInputs',
        fields: {
          probes: { t: 'array', minItems: 1, items: { t: 'string', enum: BAD_INPUT_PROBES } },
          oversize: {
            t: 'union',
            expected: 'a size like `32MiB`',
            string: { t: 'string', nonEmpty: true },
            number: { t: 'int', min: 1 },
            description: 'Body size of the oversized probe (default 32MiB).',
          },
        },
      },
    },
    leaks: {
      t: 'union',
      expected: '`true`, `false` or `{ forbidHeaders, serverVersion, requireHeaders }`',
      bool: { t: 'bool' },
      map: {
        t: 'object',
        what: 'leaks',
        fields: {
          forbidHeaders: { t: 'array', items: headerName, description: 'Response headers that must be absent.' },
          serverVersion: { t: 'bool', default: true, description: 'A version number in `Server` is a leak.' },
          requireHeaders: {
            t: 'map',
            what: 'requireHeaders',
            lowerCaseKeys: true,
            keyPattern: HEADER_NAME,
            values: { t: 'string', description: 'Expected value (case-insensitive); empty: any value.' },
          },
        },
      },
    },
    rateLimit: {
      t: 'object',
      what: 'rateLimit',
      description: 'The target claims rate limiting: a burst must get a 429.',
      fields: {
        burst: { t: 'int', min: 1, max: 1000, required: true, description: 'Requests sent at once.' },
        within: { t: 'duration', positive: true, default: '1s', description: 'The window of the claim.' },
      },
    },
  },
};

export interface SecurityBuildHelpers {
  /** A path written in the plan, made absolute (relative to the plan file's folder). */
  resolveFile?(p: string): string;
}

/** A CA file named in a check (`written` as in the plan), read; problems located at `at`. */
export function readCaFile(
  w: Walker,
  at: string,
  written: unknown,
  resolveFile?: (p: string) => string,
): string | undefined {
  if (typeof written !== 'string') return undefined;
  try {
    const pem = readFileSync(resolveFile ? resolveFile(written) : written, 'utf8');
    if (pem.includes('-----BEGIN CERTIFICATE-----')) return pem;
    w.problemAt(
      at,
      `CA file ${show(written)} is not a PEM certificate`,
      'expected text starting with -----BEGIN CERTIFICATE-----',
    );
  } catch (err) {
    w.problemAt(
      at,
      `cannot read CA file ${show(written)} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      "paths are relative to the plan file's folder",
    );
  }
  return undefined;
}

const DEFAULT_OVERSIZE = 32 * 1024 * 1024;
/** The oversized probe streams this much at most. */
const MAX_OVERSIZE = 1024 * 1024 * 1024;

/**
 * The resolved `security` check from the walked `raw` (as `securityCheckSpec` gave it) at `path`
 * (e.g. `checks.security`); undefined when there is none or it had problems (reported to `w`).
 */
export function buildSecurityCheck(
  w: Walker,
  path: string,
  raw: unknown,
  h: SecurityBuildHelpers = {},
): SecurityCheckPlan | undefined {
  if (raw === undefined || raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Raw;
  const before = w.problems.length;
  const p = (...keys: string[]) => keys.reduce((acc, k) => join(acc, k), path);
  const out: SecurityCheckPlan = { timeoutMs: r['timeout'] ?? 5000 };

  const req = r['request'] as Raw | undefined;
  if (req && typeof req['path'] === 'string') {
    const body = req['body'];
    const hdrs = { ...((req['headers'] ?? {}) as Record<string, string>) };
    if (body !== undefined && typeof body !== 'string' && hdrs['content-type'] === undefined)
      hdrs['content-type'] = 'application/json';
    out.request = {
      method: req['method'] ?? 'POST',
      path: req['path'],
      headers: hdrs,
      ...(body === undefined || body === null ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    };
    // Credential headers are secrets whatever their length (as target.headers'): the part after `Bearer`.
    for (const [k, v] of Object.entries(hdrs))
      if (/authorization|api-key|cookie/.test(k) && v)
        w.secrets.add(/^(?:Bearer|Basic|Token|ApiKey)\s+(.+)$/i.exec(v)?.[1] ?? v);
  }

  const auth = r['auth'];
  if (auth === 'required' || auth === true) out.auth = { headers: ['authorization'] };
  else if (auth && typeof auth === 'object' && (auth as Raw)['required'] !== false)
    out.auth = { headers: ((auth as Raw)['headers'] as string[]).map((x) => x.toLowerCase()) };

  const tls = r['tls'];
  if (tls !== false) {
    const t = (typeof tls === 'object' && tls !== null ? tls : {}) as Raw;
    out.tls = { warnDays: t['warnDays'] ?? 30, minVersion: t['minVersion'] ?? 'TLSv1.2' };
    const ca = readCaFile(w, p('tls', 'caFile'), t['caFile'], h.resolveFile);
    if (ca !== undefined) out.tls.ca = ca;
  }

  const bad = r['badInputs'];
  // On by default when there is a request to alter; asked for without one is a problem below.
  if (bad === true || (bad && typeof bad === 'object') || (bad === undefined && out.request)) {
    const b = (typeof bad === 'object' ? bad : {}) as Raw;
    let oversizeBytes = DEFAULT_OVERSIZE;
    const o = b['oversize'];
    if (typeof o === 'number') oversizeBytes = o;
    else if (typeof o === 'string') {
      const s = tryParseSize(o.trim());
      if (!s.ok) w.problemAt(p('badInputs', 'oversize'), s.message, s.hint);
      else oversizeBytes = Math.round(s.value);
    }
    if (oversizeBytes > MAX_OVERSIZE)
      w.problemAt(p('badInputs', 'oversize'), 'must be at most 1GiB', 'a few MiB above the server’s body limit');
    else if (oversizeBytes < 1) w.problemAt(p('badInputs', 'oversize'), 'must be at least 1 byte');
    out.badInputs = { probes: [...new Set((b['probes'] ?? BAD_INPUT_PROBES) as BadInputProbe[])], oversizeBytes };
  }

  const leaks = r['leaks'];
  if (leaks !== false) {
    const l = (typeof leaks === 'object' && leaks !== null ? leaks : {}) as Raw;
    out.leaks = {
      forbidHeaders: ((l['forbidHeaders'] ?? DEFAULT_FORBIDDEN_HEADERS) as string[]).map((x) => x.toLowerCase()),
      serverVersion: l['serverVersion'] ?? true,
      requireHeaders: (l['requireHeaders'] ?? {}) as Record<string, string>,
    };
  }

  const rl = r['rateLimit'] as Raw | undefined;
  if (rl && typeof rl['burst'] === 'number') out.rateLimit = { burst: rl['burst'], withinMs: rl['within'] ?? 1000 };

  if (!out.request) {
    const needs = [out.auth && 'auth', bad !== undefined && bad !== false && 'badInputs', out.rateLimit && 'rateLimit']
      .filter((x): x is string => typeof x === 'string')
      .map((x) => `\`${x}\``);
    if (needs.length > 0 && !w.has(p('request')))
      w.problemAt(
        path,
        `${needs.join(', ')} ${needs.length === 1 ? 'needs' : 'need'} \`request\`: the valid request the probes alter`,
        'request: { method: POST, path: /v2/models/digits/infer, body: {…} }',
        'key',
      );
  }
  if (out.request && out.badInputs && out.request.body === undefined) {
    const shaped = out.badInputs.probes.filter((x) => x === 'wrong-type' || x === 'wrong-shape');
    if (shaped.length > 0 && w.has(p('badInputs', 'probes')))
      w.problemAt(
        p('badInputs', 'probes'),
        `${shaped.join(' and ')} alter the request's JSON body, but \`request\` has no body`,
        'give request.body (a valid inference body), or leave these probes out',
      );
  }
  return w.problems.length > before ? undefined : out;
}

/** `checks.security` for the checks registry (src/plan/check-kinds.ts). */
export const securityCheckSyntax: CheckKindSyntax<SecurityCheckPlan> = {
  spec: securityCheckSpec,
  figures: {
    'security.auth': { accepted: 'count' },
    'security.tls': {
      days_to_expiry: 'number',
      handshake_ms: 'ms',
      max_version: 'number',
      old_version_accepted: 'count',
    },
    'security.bad_inputs': { probes: 'count', '2xx': 'count', '4xx': 'count', '5xx': 'count', no_answer: 'count' },
    'security.leaks': { leaks: 'count', answers: 'count' },
    'security.rate_limit': {
      sent: 'count',
      '429': 'count',
      no_answer: 'count',
      retry_after_s: 'number',
      burst_ms: 'ms',
    },
  },
  build: (w, raw, path, ctx) => buildSecurityCheck(w, path, raw, { resolveFile: ctx.resolveFile }),
};
