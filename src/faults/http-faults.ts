/**
 * Draws for the HTTP `delay` fault, and the checks every HTTP fault gets before the proxy applies
 * it (a bad value is a located error, never a silently odd proxy).
 */
import type { DelayDistribution, Fault, HttpFault, HttpMatch, Toxicity } from '../core/faults.js';
import { PreflightError, type Problem } from '../core/errors.js';
import type { Rng } from '../core/random.js';

/**
 * The longest delay the proxy holds a request or an event (1 h). A Pareto tail can draw far more;
 * setTimeout fires at once past 2^31 − 1 ms, so draws are capped here (a documented limit).
 */
export const MAX_FAULT_DELAY_MS = 3_600_000;

/** One draw from `d`, in ms (0 ≤ x ≤ MAX_FAULT_DELAY_MS). */
export function sampleDelay(d: DelayDistribution, rng: Rng): number {
  let x: number;
  switch (d.kind) {
    case 'fixed':
      x = d.ms;
      break;
    case 'uniform':
      x = rng.uniform(d.minMs, d.maxMs);
      break;
    case 'lognormal':
      x = rng.logNormal(d.medianMs, d.sigma);
      break;
    case 'pareto':
      // Inverse CDF: F(x) = 1 − (scale / x)^shape for x ≥ scale; 1 − u is in (0, 1].
      x = d.scaleMs / Math.pow(1 - rng.float(), 1 / d.shape);
      break;
  }
  return Math.min(Math.max(x, 0), MAX_FAULT_DELAY_MS);
}

const HINT_MS = `a number of milliseconds, 0 to ${MAX_FAULT_DELAY_MS}`;

/**
 * Problems with an HTTP fault as the proxy would apply it (empty when it is fine). `tcp` faults are
 * reported too: the TCP proxy applies those.
 */
export function httpFaultProblems(fault: Fault): Problem[] {
  const out: Problem[] = [];
  const bad = (path: string, message: string, hint?: string) => out.push({ path, message, ...(hint ? { hint } : {}) });
  if (fault.layer !== 'http') {
    bad(
      'layer',
      `the HTTP fault proxy applies only layer 'http' faults (got '${String(fault.layer)}')`,
      'TCP faults (toxics) are applied by the TCP fault proxy',
    );
    return out;
  }
  toxicityProblems(fault.toxicity, bad);
  if (fault.match !== undefined) matchProblems(fault.match, bad);
  faultProblems(fault.fault, bad);
  return out;
}

type Bad = (path: string, message: string, hint?: string) => void;

const isMs = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_FAULT_DELAY_MS;
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function toxicityProblems(t: Toxicity | undefined, bad: Bad): void {
  if (t === undefined || typeof t !== 'object') return bad('toxicity', 'toxicity is missing', '{ share: 0..1, per }');
  if (typeof t.share !== 'number' || !(t.share >= 0 && t.share <= 1)) {
    bad('toxicity.share', `share must be a number from 0 to 1 (got ${String(t.share)})`, '1 = every request');
  }
  if (t.per !== 'request' && t.per !== 'connection') {
    bad('toxicity.per', `per must be 'request' or 'connection' (got ${String(t.per)})`);
  }
}

function matchProblems(m: HttpMatch, bad: Bad): void {
  if (m.pathPrefix !== undefined && (typeof m.pathPrefix !== 'string' || !m.pathPrefix.startsWith('/'))) {
    bad('match.pathPrefix', `a path prefix starts with '/' (got ${JSON.stringify(m.pathPrefix)})`);
  }
  if (m.method !== undefined && (typeof m.method !== 'string' || !/^[A-Za-z]+$/.test(m.method))) {
    bad('match.method', `not an HTTP method: ${JSON.stringify(m.method)}`);
  }
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    if (typeof v !== 'string') bad(`match.headers.${k}`, 'a header value to match is a string');
  }
}

function faultProblems(f: HttpFault, bad: Bad): void {
  switch (f.type) {
    case 'abort':
      if (!Number.isInteger(f.status) || f.status < 400 || f.status > 599) {
        bad('fault.status', `an abort answers a 4xx or 5xx status (got ${String(f.status)})`, 'e.g. 503, 500, 429');
      }
      if (f.retryAfterS !== undefined && !isCount(f.retryAfterS)) {
        bad('fault.retryAfterS', `Retry-After is whole seconds ≥ 0 (got ${String(f.retryAfterS)})`);
      }
      return;
    case 'delay':
      return delayProblems(f.delay, bad);
    case 'sse_stall':
      if (!isCount(f.afterEvents)) bad('fault.afterEvents', `a count of events ≥ 0 (got ${String(f.afterEvents)})`);
      if (!isMs(f.stallMs)) bad('fault.stallMs', `stallMs out of range (got ${String(f.stallMs)})`, HINT_MS);
      return;
    case 'sse_truncate':
    case 'sse_malformed':
      if (!isCount(f.afterEvents)) bad('fault.afterEvents', `a count of events ≥ 0 (got ${String(f.afterEvents)})`);
      return;
    case 'sse_slow':
      if (!isMs(f.extraMs)) bad('fault.extraMs', `extraMs out of range (got ${String(f.extraMs)})`, HINT_MS);
      return;
    default:
      bad(
        'fault.type',
        `unknown HTTP fault '${String((f as { type?: unknown }).type)}'`,
        'abort, delay, sse_stall, sse_truncate, sse_slow, sse_malformed',
      );
  }
}

function delayProblems(d: DelayDistribution | undefined, bad: Bad): void {
  if (d === undefined || typeof d !== 'object') return bad('fault.delay', 'the delay distribution is missing');
  switch (d.kind) {
    case 'fixed':
      if (!isMs(d.ms)) bad('fault.delay.ms', `delay out of range (got ${String(d.ms)})`, HINT_MS);
      return;
    case 'uniform':
      if (!isMs(d.minMs)) bad('fault.delay.minMs', `out of range (got ${String(d.minMs)})`, HINT_MS);
      if (!isMs(d.maxMs)) bad('fault.delay.maxMs', `out of range (got ${String(d.maxMs)})`, HINT_MS);
      if (isMs(d.minMs) && isMs(d.maxMs) && d.minMs > d.maxMs) {
        bad('fault.delay', `minMs ${d.minMs} is above maxMs ${d.maxMs}`);
      }
      return;
    case 'lognormal':
      if (!isMs(d.medianMs)) bad('fault.delay.medianMs', `out of range (got ${String(d.medianMs)})`, HINT_MS);
      if (typeof d.sigma !== 'number' || !(d.sigma >= 0 && d.sigma <= 5)) {
        bad('fault.delay.sigma', `sigma must be from 0 to 5 (got ${String(d.sigma)})`, 'e.g. 0.5');
      }
      return;
    case 'pareto':
      if (!isMs(d.scaleMs)) bad('fault.delay.scaleMs', `out of range (got ${String(d.scaleMs)})`, HINT_MS);
      if (typeof d.shape !== 'number' || !(d.shape > 0 && d.shape <= 100)) {
        bad('fault.delay.shape', `shape must be above 0 (got ${String(d.shape)})`, '> 1 for a finite mean, e.g. 2');
      }
      return;
    default:
      bad(
        'fault.delay.kind',
        `unknown distribution '${String((d as { kind?: unknown }).kind)}'`,
        'fixed, uniform, lognormal, pareto',
      );
  }
}

/** Throws a PreflightError (E_ARGS) listing every problem with `fault`. */
export function assertHttpFault(fault: Fault): void {
  const problems = httpFaultProblems(fault);
  if (problems.length === 0) return;
  const name = typeof fault?.name === 'string' ? ` '${fault.name}'` : '';
  throw new PreflightError('E_ARGS', `HTTP fault${name}: ${problems.map((p) => p.message).join('; ')}`, {
    problems: problems.map((p) => ({ ...p, path: `faults${name ? `.${fault.name}` : ''}.${p.path}` })),
  });
}
