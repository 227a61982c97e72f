/**
 * Helpers shared by the adapters: target/base path/headers, status classification, fetching
 * JSON during prepare(). Nothing here is protocol-specific beyond "a request has a status".
 */
import type { AdapterContext, ErrorClass, WireRequest } from '../core/types.js';
import { PreflightError, TargetUnreachableError } from '../core/errors.js';
import type { Plan, ScenarioCommon } from '../plan/types.js';
import type { Dataset } from '../data/dataset.js';
import { parseJsonTolerant } from '../data/json.js';

/** What every adapter factory receives (built by createAdapter). */
export interface AdapterOptions {
  scenario: ScenarioCommon;
  plan: Plan;
  shard: { index: number; count: number };
  /** Seed for shared tables (data order, mixes): the plan seed, identical in every shard. */
  seed: number;
  /** Path prefix from the target URL (e.g. `/api`), '' when none. */
  basePath: string;
  /** Plan + scenario target headers (+ request template headers), names lower-case. */
  headers: Record<string, string>;
  /** Dataset already loaded (shared by the sub-adapters of a traffic mix). */
  dataset?: Dataset;
  /** Metrics group set on every WireRequest (traffic mixes). */
  group?: string;
  /** Aborts loading data (Ctrl-C during the checks before a run). */
  signal?: AbortSignal;
}

/** Lower-cases header names; later sources win. */
export function mergeHeaders(...sources: Array<Record<string, string> | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const src of sources) {
    if (!src) continue;
    for (const [k, v] of Object.entries(src)) out[k.toLowerCase()] = String(v);
  }
  return out;
}

/** Path part of the target URL without a trailing slash ('' for `http://h:8080` or `http://h:8080/`). */
export function basePathOf(url: string | undefined): string {
  if (!url) return '';
  try {
    const p = new URL(url).pathname;
    return p === '/' ? '' : p.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

export function joinPath(base: string, path: string): string {
  const p = path.startsWith('/') ? path : `/${path}`;
  return base ? `${base}${p}` : p;
}

/**
 * The one default judgement by status (adapters, checks, and the engine when an adapter has no
 * judge): 2xx → null; 4xx → http_4xx; 5xx → http_5xx; anything else (1xx, 3xx) → other.
 * A 3xx is an error, unlike k6's and Locust's default (200–399 pass): they follow redirects, so a
 * 3xx is rare there; preflight never follows one, so a 3xx means no inference was served (a
 * wrong URL, an http→https or login redirect) and counting it as ok would pass an SLO on
 * redirects. A plan that expects one says so with a status check (`status in [200, 302]`).
 */
export function classifyStatus(status: number): ErrorClass | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 400 && status < 500) return 'http_4xx';
  if (status >= 500 && status < 600) return 'http_5xx';
  return 'other';
}

/** Parses a response body as JSON (tolerating NaN/Infinity); undefined when it is not JSON. */
export function tryParseJson(body: Buffer | null): unknown | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    return parseJsonTolerant(body);
  } catch {
    return undefined;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Encodes a path segment (model names, versions). */
export function seg(s: string): string {
  return encodeURIComponent(s);
}

/**
 * GET (or other) during prepare(). Network failure → TargetUnreachableError naming the URL;
 * the caller judges the status.
 */
export async function prepFetch(
  ctx: AdapterContext,
  basePath: string,
  headers: Record<string, string>,
  path: string,
  init: { method?: string; body?: string | Buffer } = {},
): Promise<{ status: number; body: Buffer; json: unknown | undefined; url: string }> {
  const full = joinPath(basePath, path);
  const url = `${ctx.origin}${full}`;
  let res: { status: number; body: Buffer };
  try {
    res = await ctx.fetch(full, {
      method: init.method ?? 'GET',
      ...(init.body !== undefined ? { body: init.body } : {}),
      headers: { ...headers },
    });
  } catch (err) {
    if (err instanceof PreflightError) throw err;
    const code = (err as NodeJS.ErrnoException)?.code ?? (err as { cause?: NodeJS.ErrnoException })?.cause?.code;
    throw new TargetUnreachableError(
      `cannot reach ${url}${code ? ` (${code})` : ''}: ${(err as Error)?.message ?? String(err)}`,
      err,
    );
  }
  return { ...res, json: tryParseJson(res.body), url };
}

/** Short text of a body for error messages. */
export function bodySnippet(body: Buffer, max = 200): string {
  const s = body.toString('utf8').replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export function notReady(message: string): PreflightError {
  return new PreflightError('E_TARGET_NOT_READY', message);
}

export function mismatch(message: string, hint?: string): PreflightError {
  return new PreflightError('E_MODEL_MISMATCH', message, { problems: [{ message, ...(hint ? { hint } : {}) }] });
}

/** A WireRequest plus the batch it carries (not part of the contract; read back in judge()). */
export interface DataWireRequest extends WireRequest {
  /** Batch index in the adapter's batch table. */
  batch?: number;
}

import { loadDataset, resolveDataFile } from '../data/dataset.js';

/** The scenario's dataset: the one passed in (mixes), else loaded from `scenario.data`. */
export async function scenarioDataset(o: AdapterOptions): Promise<Dataset | undefined> {
  if (o.dataset) return o.dataset;
  const d = o.scenario.data;
  if (!d) return undefined;
  // kept on the options so createAdapter can report the load problems no check of a column threw
  o.dataset = await loadDataset(resolveDataFile(d.file, o.plan.source), d.format, { signal: o.signal });
  return o.dataset;
}

/** Pre-encoded bodies are kept while their total stays under this (else encoded per request). */
export const PREENCODE_BUDGET_BYTES = 50 * 1024 * 1024;
