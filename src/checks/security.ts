/**
 * The `security` assumption check (plan `checks.security`, docs/checks.md). It sends only what the
 * plan allows, only to the plan's target, each probe with a deadline:
 *   security.auth        the request without its credentials, and with wrong ones → 401/403
 *   security.tls         certificate, chain, hostname, expiry, minimum protocol version (https only)
 *   security.bad_inputs  malformed JSON, empty body, wrong types, wrong shape, wrong content type,
 *                        an oversized body (streamed) → 4xx, not 5xx, not a hang
 *   security.rate_limit  a burst of the request → at least one 429 (only when the plan claims a limit)
 *   security.leaks       the answers above (and one to a path that does not exist): no stack traces,
 *                        no file paths, no software versions in headers; required headers present
 * Evidence is redacted with the plan's secrets and cut to 200 characters.
 */
import type { CheckFinding, CheckResult } from '../core/checks.js';
import type { BadInputProbe, SecurityCheckPlan, SecurityRequest } from '../plan/security-check.js';
import type { TargetPlan } from '../plan/types.js';
import { findLeaks, missingHeaders } from './security-leaks.js';
import { checkResult as result, type CheckContext, type CheckKind } from './kind.js';
import { probe, snippet, splitUrl } from './security-probe.js';
import type { ProbeAnswer, ProbeRequest, ProbeTarget } from './security-probe.js';
import { checkTls } from './security-tls.js';

/** What the security check uses of a check kind's context (src/checks/kind.ts). */
export type SecurityContext = Pick<CheckContext, 'signal' | 'redact'>;

/** A value no server issues as a credential. */
const WRONG_CREDENTIAL = 'preflight-invalid-credential-0000';

interface Seen {
  what: string;
  answer: ProbeAnswer;
}

/** `401 {"error":…}` or `no answer within 5000 ms`, redacted and short. */
function describe(a: ProbeAnswer, timeoutMs: number, redact: (s: string) => string): string {
  if (a.status === 0) return a.error === 'timeout' ? `no answer within ${timeoutMs} ms` : `no answer (${a.error})`;
  const body = snippet(redact(a.body.toString('utf8')));
  return body ? `${a.status} ${body}` : String(a.status);
}

export async function runSecurityCheck(
  plan: SecurityCheckPlan,
  target: TargetPlan,
  ctx: SecurityContext,
): Promise<CheckResult[]> {
  const { origin, basePath } = splitUrl(target.url);
  const where: ProbeTarget = { origin, tls: target.tls };
  const seen: Seen[] = [];
  const send = async (what: string, req: ProbeRequest, keepBytes?: number, timeoutMs = plan.timeoutMs) => {
    const answer = await probe(where, req, {
      timeoutMs,
      signal: ctx.signal,
      ...(keepBytes !== undefined ? { keepBytes } : {}),
    });
    seen.push({ what, answer });
    return answer;
  };
  const base = plan.request ? baseRequest(plan.request, target, basePath) : undefined;
  const out: CheckResult[] = [];
  if (plan.auth && base) out.push(await authCheck(plan, base, send, ctx));
  if (plan.tls) {
    const started = performance.now();
    if (!origin.startsWith('https:'))
      out.push(
        result(
          'security.tls',
          'TLS: certificate, chain, hostname, expiry, minimum version',
          [{ status: 'skipped', what: `the target is ${origin} (http://): no TLS to check` }],
          { days_to_expiry: null, handshake_ms: null, max_version: null, old_version_accepted: null },
          started,
        ),
      );
    else {
      const ca = plan.tls.ca ?? target.tls.ca;
      const t = await checkTls(origin, {
        warnDays: plan.tls.warnDays,
        minVersion: plan.tls.minVersion,
        ...(ca ? { ca } : {}),
        timeoutMs: plan.timeoutMs,
        signal: ctx.signal,
      });
      out.push(
        result(
          'security.tls',
          'TLS: certificate, chain, hostname, expiry, minimum version',
          t.findings.map((f) => (f.evidence ? { ...f, evidence: ctx.redact(f.evidence) } : f)),
          t.figures,
          started,
        ),
      );
    }
  }
  if (plan.badInputs && base) out.push(await badInputsCheck(plan, base, send, ctx));
  if (plan.leaks) {
    // One error answer every server has: a path that does not exist (GET, no body).
    await send(`GET ${basePath}/preflight-security-probe-404`, {
      method: 'GET',
      path: `${basePath}/preflight-security-probe-404`,
      headers: { ...target.headers },
    });
  }
  if (plan.rateLimit && base) out.push(await rateLimitCheck(plan, base, send, ctx));
  if (plan.leaks) out.push(leaksCheck(plan.leaks, seen, ctx));
  return out;
}

function baseRequest(r: SecurityRequest, target: TargetPlan, basePath: string): ProbeRequest {
  return {
    method: r.method,
    path: basePath + r.path,
    headers: { ...target.headers, ...r.headers },
    ...(r.body !== undefined ? { body: Buffer.from(r.body) } : {}),
  };
}

type Send = (what: string, req: ProbeRequest, keepBytes?: number, timeoutMs?: number) => Promise<ProbeAnswer>;

async function authCheck(plan: SecurityCheckPlan, base: ProbeRequest, send: Send, ctx: SecurityContext) {
  const started = performance.now();
  const names = plan.auth!.headers;
  const findings: CheckFinding[] = [];
  const line = `${base.method} ${base.path}`;
  const missing = names.filter((n) => base.headers[n] === undefined);
  for (const n of missing)
    findings.push({
      status: 'error',
      what: `credential header \`${n}\` is not in the request the plan sends (target.headers, request.headers)`,
    });
  let accepted = 0;
  const present = names.filter((n) => base.headers[n] !== undefined);
  if (present.length > 0) {
    // With the plan's own credentials first: if they are refused too, a refusal below proves nothing.
    const control = await send(`${line} with the plan's credentials`, base);
    const controlRefused = control.status === 401 || control.status === 403 || control.status === 0;
    if (controlRefused)
      findings.push({
        status: 'error',
        what: `${line} with the plan's credentials → ${describe(control, plan.timeoutMs, ctx.redact)}: cannot tell a refusal of missing credentials from this`,
      });
    const without: Record<string, string> = { ...base.headers };
    for (const n of present) delete without[n];
    const wrong: Record<string, string> = { ...base.headers };
    for (const n of present) wrong[n] = n === 'authorization' ? `Bearer ${WRONG_CREDENTIAL}` : WRONG_CREDENTIAL;
    const probes: Array<[string, Record<string, string>]> = [
      ['without credentials', without],
      [`with a wrong ${present.join(', ')}`, wrong],
    ];
    for (const [how, headers] of probes) {
      const a = await send(`${line} ${how}`, { ...base, headers });
      const shown = describe(a, plan.timeoutMs, ctx.redact);
      const what = `${line} ${how} → ${a.status === 0 ? 'no answer' : a.status}`;
      if (a.status === 401 || a.status === 403) findings.push({ status: 'pass', what });
      else if (a.status >= 200 && a.status < 400) {
        accepted++;
        findings.push({ status: 'fail', what: `${what}: accepted without valid credentials`, evidence: shown });
      } else if (a.status === 0)
        findings.push({ status: cannotConnect(a.error) ? 'error' : 'fail', what, evidence: shown });
      else
        findings.push({
          status: 'warn',
          what: `${what}: not refused as unauthenticated (401/403) nor accepted`,
          evidence: shown,
        });
    }
  }
  return result('security.auth', 'Unauthenticated requests are refused (401/403)', findings, { accepted }, started);
}

/** The request body altered for one bad-input probe; undefined when it cannot be (no JSON body). */
function badRequest(kind: BadInputProbe, base: ProbeRequest, oversize: number): ProbeRequest | string {
  const json = { ...base.headers, 'content-type': 'application/json' };
  const body = base.body?.toString('utf8');
  switch (kind) {
    case 'malformed-json':
      return {
        ...base,
        headers: json,
        body: Buffer.from(body ? body.slice(0, Math.ceil(body.length / 2)) : '{"inputs": ['),
      };
    case 'empty-body':
      return { ...base, headers: json, body: Buffer.alloc(0) };
    case 'wrong-content-type':
      return {
        ...base,
        headers: { ...base.headers, 'content-type': 'text/plain' },
        body: base.body ?? Buffer.from('{}'),
      };
    case 'oversized':
      return { ...base, headers: json, body: { size: oversize } };
    case 'wrong-type':
    case 'wrong-shape': {
      let value: unknown;
      try {
        value = body === undefined ? undefined : JSON.parse(body);
      } catch {
        return 'the request body is not JSON';
      }
      const altered = alterTensor(
        value,
        kind === 'wrong-type' ? () => 'not-a-tensor' : (a) => a.slice(0, Math.floor(a.length / 2)),
      );
      if (altered === undefined) return 'the request body has no array of numbers (a tensor) to alter';
      return { ...base, headers: json, body: Buffer.from(JSON.stringify(altered)) };
    }
  }
}

/**
 * A copy of `v` with its first array of numbers (depth first: the tensor data) replaced by `f(array)`;
 * undefined when there is none.
 */
function alterTensor(v: unknown, f: (a: unknown[]) => unknown, depth = 0): unknown {
  if (depth > 32 || v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((x) => typeof x === 'number')) return f(v);
    for (let i = 0; i < v.length; i++) {
      const a = alterTensor(v[i], f, depth + 1);
      if (a !== undefined) return v.map((x, j) => (j === i ? a : x));
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    const a = alterTensor(x, f, depth + 1);
    if (a !== undefined) return { ...(v as Record<string, unknown>), [k]: a };
  }
  return undefined;
}

/** Failures before any byte reached the server (refused, unresolvable, untrusted certificate), or a cancelled check. */
function cannotConnect(code: string | undefined): boolean {
  return (
    code === 'aborted' ||
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    /CERT|SIGNATURE|SELF_SIGNED|ERR_TLS|ERR_SSL/.test(code ?? '')
  );
}

const PROBE_TEXT: Record<BadInputProbe, string> = {
  'malformed-json': 'malformed JSON',
  'empty-body': 'an empty body',
  'wrong-type': 'a string where a tensor is expected',
  'wrong-shape': 'a tensor of the wrong shape',
  'wrong-content-type': 'Content-Type: text/plain',
  oversized: 'an oversized body',
};

async function badInputsCheck(plan: SecurityCheckPlan, base: ProbeRequest, send: Send, ctx: SecurityContext) {
  const started = performance.now();
  const { probes, oversizeBytes } = plan.badInputs!;
  const findings: CheckFinding[] = [];
  const figures: Record<string, number | null> = { probes: 0, '2xx': 0, '4xx': 0, '5xx': 0, no_answer: 0 };
  const count = (k: string) => {
    figures[k] = (figures[k] ?? 0) + 1;
  };
  for (const kind of probes) {
    const req = badRequest(kind, base, oversizeBytes);
    const label = `${base.method} ${base.path} with ${PROBE_TEXT[kind]}${kind === 'oversized' ? ` (${oversizeBytes} bytes)` : ''}`;
    if (typeof req === 'string') {
      findings.push({ status: 'skipped', what: `${label}: not sent`, evidence: req });
      continue;
    }
    // The oversized upload gets time for its bytes too (at 8 MiB/s): a slow link is not taken for a hang.
    const deadline = kind === 'oversized' ? plan.timeoutMs + (oversizeBytes / (8 << 20)) * 1000 : undefined;
    const a = await send(label, req, undefined, deadline);
    count('probes');
    const shown = describe(a, Math.round(deadline ?? plan.timeoutMs), ctx.redact);
    const what = `${label} → ${a.status === 0 ? 'no answer' : a.status}`;
    if (a.status >= 400 && a.status < 500) {
      count('4xx');
      findings.push({ status: 'pass', what });
    } else if (a.status >= 500) {
      count('5xx');
      findings.push({ status: 'fail', what: `${what}: a server error for a client's mistake`, evidence: shown });
    } else if (a.status === 0) {
      count('no_answer');
      if (cannotConnect(a.error))
        // Not the server's answer to the bad input: the probe never reached it.
        findings.push({ status: 'error', what: `${what}: could not connect`, evidence: shown });
      else {
        // A hang is a fail; a connection closed mid-upload of the oversized body is a (rude) refusal.
        const closed = kind === 'oversized' && a.error !== 'timeout';
        findings.push({
          status: closed ? 'warn' : 'fail',
          what: closed ? `${what}: connection closed without a status` : what,
          evidence: shown,
        });
      }
    } else {
      count('2xx');
      // Lenient content types are common and harmless (the body is still parsed as JSON).
      findings.push({
        status: kind === 'wrong-content-type' ? 'warn' : 'fail',
        what: `${what}: accepted`,
        evidence: shown,
      });
    }
  }
  return result('security.bad_inputs', 'Bad inputs get 4xx, not 5xx or a hang', findings, figures, started);
}

async function rateLimitCheck(plan: SecurityCheckPlan, base: ProbeRequest, send: Send, ctx: SecurityContext) {
  const started = performance.now();
  const { burst, withinMs } = plan.rateLimit!;
  const line = `${base.method} ${base.path}`;
  // All at once: the burst lands well inside the claimed window. Only the first bytes of each answer are kept.
  const answers = await Promise.all(
    Array.from({ length: burst }, (_, i) => send(`${line} (burst ${i + 1}/${burst})`, base, 1024)),
  );
  const burstMs = performance.now() - started;
  const limited = answers.filter((a) => a.status === 429);
  const noAnswer = answers.filter((a) => a.status === 0).length;
  const retryAfter = limited.map((a) => a.headers['retry-after']).find((v) => v !== undefined);
  const retryS = retryAfter !== undefined && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter) : null;
  const byStatus = new Map<number, number>();
  for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
  const tally = [...byStatus].map(([s, n]) => `${n}× ${s === 0 ? 'no answer' : s}`).join(', ');
  const findings: CheckFinding[] = [];
  const what = `${burst} × ${line} at once (sent within ${Math.round(burstMs)} ms; claimed window ${withinMs} ms) → ${tally}`;
  if (limited.length > 0)
    findings.push({
      status: 'pass',
      what,
      evidence:
        retryAfter !== undefined
          ? `Retry-After: ${ctx.redact(retryAfter)}`
          : 'the 429 answers carry no Retry-After header',
    });
  else if (noAnswer === burst)
    findings.push({ status: 'error', what, evidence: describe(answers[0]!, plan.timeoutMs, ctx.redact) });
  else if (burstMs > withinMs)
    // The premise failed: the burst did not fit in the claimed window, so no 429 proves nothing.
    findings.push({ status: 'warn', what: `${what}: no 429, but the burst took longer than the window: inconclusive` });
  else
    findings.push({
      status: 'fail',
      what: `${what}: no 429`,
      evidence: describe(answers[0]!, plan.timeoutMs, ctx.redact),
    });
  if (limited.length > 0 && retryAfter === undefined)
    findings.push({ status: 'warn', what: '429 answers without Retry-After: clients cannot tell when to retry' });
  return result(
    'security.rate_limit',
    'A burst beyond the claimed rate limit gets 429',
    findings,
    { sent: burst, '429': limited.length, no_answer: noAnswer, retry_after_s: retryS, burst_ms: burstMs },
    started,
  );
}

function leaksCheck(rules: NonNullable<SecurityCheckPlan['leaks']>, seen: Seen[], ctx: SecurityContext): CheckResult {
  const started = performance.now();
  const findings: CheckFinding[] = [];
  const reported = new Set<string>();
  let leaks = 0;
  let scanned = 0;
  for (const { what, answer } of seen) {
    if (answer.status === 0) continue;
    scanned++;
    // Bodies of error answers only (a model's output may contain anything); headers of every answer.
    const body = answer.status >= 400 ? answer.body.toString('utf8') : '';
    for (const leak of findLeaks(answer.headers, body, rules)) {
      if (reported.has(leak.kind)) continue;
      reported.add(leak.kind);
      leaks++;
      findings.push({
        status: 'fail',
        what: `${leak.kind} in the answer to ${what} (${answer.status})`,
        evidence: snippet(ctx.redact(leak.match)),
      });
    }
    for (const m of missingHeaders(answer.headers, rules.requireHeaders)) {
      const key = `require ${m.name}`;
      if (reported.has(key)) continue;
      reported.add(key);
      leaks++;
      findings.push({
        status: 'fail',
        what: `required header ${m.name}${m.expected ? `: ${m.expected}` : ''} ${m.got === undefined ? 'missing' : `is "${ctx.redact(m.got)}"`} in the answer to ${what} (${answer.status})`,
      });
    }
  }
  if (scanned === 0) findings.push({ status: 'error', what: 'no answer to scan (every probe went unanswered)' });
  else if (leaks === 0)
    findings.push({
      status: 'pass',
      what: `${scanned} answer${scanned === 1 ? '' : 's'} scanned: no stack traces, file paths or versions in headers`,
    });
  return result(
    'security.leaks',
    'Error answers leak no stack traces, file paths or versions',
    findings,
    { leaks, answers: scanned },
    started,
  );
}

/** The `security` check kind (registry: kinds.ts). */
export const securityKind: CheckKind<'security'> = {
  kind: 'security',
  describe: (p) =>
    `security: ${[
      p.auth && 'auth',
      p.tls && 'TLS',
      p.badInputs && `${p.badInputs.probes.length} bad inputs`,
      p.leaks && 'leaks',
      p.rateLimit && `a burst of ${p.rateLimit.burst}`,
    ]
      .filter(Boolean)
      .join(', ')}`,
  run: (p, ctx) => runSecurityCheck(p, ctx.plan.target, ctx),
};
