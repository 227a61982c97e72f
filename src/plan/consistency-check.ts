/**
 * The `consistency` assumption check's plan section (`checks.consistency`, docs/checks.md): a second
 * environment (`other`, e.g. production beside a staging target) that must answer the same inputs as
 * the target does, within tolerances, with the same model metadata. Syntax (`consistencyCheckSpec`) and
 * the resolved form (`buildConsistencyCheck`); the comparison runs in src/checks/consistency.ts.
 */
import { isRedactable, splitUserinfo } from './secrets.js';
import { readCaFile } from './security-check.js';
import { join, show } from './spec.js';
import type { ObjectSpec, Raw, Walker } from './spec.js';
import type { CheckKindSyntax } from './check-kinds.js';
import { didYouMean } from './suggest.js';
import { headers as headersSpec } from './spec.js';

export interface ConsistencyCheckPlan {
  /** The second environment: origin plus optional base path, headers (its own credentials), TLS. */
  other: { url: string; headers: Record<string, string>; tls: { insecure: boolean; ca?: string } };
  /** The scenario whose requests (protocol, model, data rows) are sent; default the plan's first. */
  scenario?: string;
  /** Requests sent to each environment (the first rows of the scenario's data). */
  rows: number;
  /** Numbers within these tolerances are equal (as in the shadow comparison). */
  tolerance: { absolute: number; relative: number };
  /** JSON paths of the answers not compared (shadow-comparison patterns). */
  ignore: string[];
  /** Compare the model metadata (KServe v2, TF Serving, OpenAI model list). */
  metadata: boolean;
  /** Largest share of requests whose answers may differ (0–1); above it the check fails. */
  maxMismatchRate: number;
  /** Deadline of each request. */
  timeoutMs: number;
}

const httpUrl = {
  t: 'string',
  nonEmpty: true,
  pattern: /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/,
  patternMessage: 'expected an http:// or https:// URL (scheme, host, port and an optional base path)',
} as const;

export const consistencyCheckSpec: ObjectSpec = {
  t: 'object',
  what: 'consistency check',
  description: 'The same inputs sent to the target and to a second environment must agree (docs/checks.md).',
  fields: {
    other: {
      t: 'union',
      expected: 'a URL or `{ url, headers, tls }`',
      string: httpUrl,
      map: {
        t: 'object',
        what: 'other environment',
        fields: {
          url: { ...httpUrl, required: true, description: 'e.g. https://prod.example.com' },
          headers: headersSpec,
          tls: {
            t: 'object',
            what: 'tls',
            fields: {
              insecure: { t: 'bool', default: false, description: 'Skip certificate verification (warned about).' },
              caFile: { t: 'string', nonEmpty: true, description: 'PEM file of an extra CA.' },
            },
          },
        },
      },
      description: 'The second environment (its headers replace the target’s: credentials are never shared).',
    },
    scenario: { t: 'string', nonEmpty: true, description: 'Scenario whose requests are sent (default: the first).' },
    rows: { t: 'int', min: 1, max: 1000, default: 50, description: 'Requests sent to each environment.' },
    tolerance: {
      t: 'object',
      what: 'tolerance',
      fields: {
        absolute: { t: 'number', min: 0, default: 1e-6 },
        relative: { t: 'number', min: 0, default: 1e-5 },
      },
    },
    ignore: {
      t: 'array',
      items: { t: 'string', nonEmpty: true, pattern: /^\$/, patternMessage: 'expected a JSON path starting with $' },
      default: ['$.id'],
      description: 'JSON paths not compared (request ids differ by nature).',
    },
    metadata: { t: 'bool', default: true, description: 'Compare model metadata and versions.' },
    maxMismatchRate: { t: 'number', min: 0, max: 1, default: 0, description: 'Share of differing answers allowed.' },
    timeout: { t: 'duration', positive: true, default: '10s', description: 'Deadline of each request.' },
  },
};

export interface ConsistencyBuildHelpers {
  resolveFile?(p: string): string;
  /** The plan's scenario names, to check `scenario` against. */
  scenarios?: readonly string[];
  /** The target's URL, to catch a second environment that is the target itself. */
  targetUrl?: string;
}

/** The resolved `consistency` check from the walked `raw` at `path`; undefined when absent or with problems. */
export function buildConsistencyCheck(
  w: Walker,
  path: string,
  raw: unknown,
  h: ConsistencyBuildHelpers = {},
): ConsistencyCheckPlan | undefined {
  if (raw === undefined || raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Raw;
  const before = w.problems.length;
  const otherRaw = r['other'];
  if (otherRaw === undefined) {
    if (!w.has(join(path, 'other')))
      w.problemAt(
        path,
        'consistency check is missing `other`',
        'other: { url: https://prod.example.com, headers: { authorization: "Bearer ${PROD_TOKEN}" } }',
        'key',
      );
    return undefined;
  }
  const o: Raw = typeof otherRaw === 'string' ? { url: otherRaw } : (otherRaw as Raw);
  const urlPath = typeof otherRaw === 'string' ? join(path, 'other') : join(join(path, 'other'), 'url');
  if (typeof o['url'] !== 'string') return undefined;
  const headers: Record<string, string> = { ...((o['headers'] ?? {}) as Record<string, string>) };
  let url = o['url'].replace(/\/+$/, '');
  const cred = splitUserinfo(url);
  if (cred) {
    url = cred.url;
    if (headers['authorization'] !== undefined)
      w.problemAt(urlPath, 'the URL has credentials (user:password@) and the headers an `authorization`: give one');
    else {
      const token = Buffer.from(`${cred.username}:${cred.password}`, 'utf8').toString('base64');
      headers['authorization'] = `Basic ${token}`;
      w.secrets.add(token);
      for (const v of [cred.username, cred.password]) if (isRedactable(v)) w.secrets.add(v);
    }
  }
  for (const [k, v] of Object.entries(headers))
    if (/authorization|api-key|cookie/.test(k) && v)
      w.secrets.add(/^(?:Bearer|Basic|Token|ApiKey)\s+(.+)$/i.exec(v)?.[1] ?? v);
  if (h.targetUrl !== undefined && sameOrigin(h.targetUrl, url))
    w.problemAt(
      urlPath,
      'the second environment is the target itself: the comparison would always pass',
      'point `other` at the other environment (e.g. production when the target is staging)',
    );
  const tlsRaw = (o['tls'] ?? {}) as Raw;
  const tls: ConsistencyCheckPlan['other']['tls'] = { insecure: tlsRaw['insecure'] === true };
  if (tls.insecure) w.warnAt(`${path}.other.tls.insecure`, 'TLS certificate verification is off');
  const ca = readCaFile(w, `${path}.other.tls.caFile`, tlsRaw['caFile'], h.resolveFile);
  if (ca !== undefined) tls.ca = ca;
  const scenario = r['scenario'] as string | undefined;
  if (scenario !== undefined && h.scenarios && !h.scenarios.includes(scenario))
    w.problemAt(
      join(path, 'scenario'),
      `no scenario named ${show(scenario)}`,
      didYouMean(scenario, h.scenarios, 'scenarios:') ?? `scenarios: ${h.scenarios.join(', ')}`,
    );
  const tol = (r['tolerance'] ?? {}) as Raw;
  const out: ConsistencyCheckPlan = {
    other: { url, headers, tls },
    ...(scenario !== undefined ? { scenario } : {}),
    rows: r['rows'] ?? 50,
    tolerance: { absolute: tol['absolute'] ?? 1e-6, relative: tol['relative'] ?? 1e-5 },
    ignore: (r['ignore'] ?? ['$.id']) as string[],
    metadata: r['metadata'] ?? true,
    maxMismatchRate: r['maxMismatchRate'] ?? 0,
    timeoutMs: r['timeout'] ?? 10_000,
  };
  return w.problems.length > before ? undefined : out;
}

function sameOrigin(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin === y.origin && x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '');
  } catch {
    return false;
  }
}

/** `checks.consistency` for the checks registry (src/plan/check-kinds.ts). */
export const consistencyCheckSyntax: CheckKindSyntax<ConsistencyCheckPlan> = {
  spec: consistencyCheckSpec,
  figures: {
    'consistency.outputs': {
      mismatch_rate: 'fraction',
      mismatch_rate_upper: 'fraction',
      max_abs_diff: 'number',
      compared: 'count',
    },
    'consistency.metadata': { metadata_diffs: 'count' },
  },
  build: (w, raw, path, ctx) => {
    if (ctx.scenarios.length === 0) {
      // Its requests are a scenario's (protocol, model, data rows): without one there is nothing to send.
      w.problemAt(
        path,
        'the consistency check sends a scenario’s requests, but the plan has no scenarios',
        'add a scenario with its protocol, model and data (it need not run: `preflight check` sends no load)',
        'key',
      );
      return undefined;
    }
    return buildConsistencyCheck(w, path, raw, {
      resolveFile: ctx.resolveFile,
      scenarios: ctx.scenarios,
      targetUrl: ctx.target.url,
    });
  },
};
