/**
 * The `consistency` assumption check (plan `checks.consistency`, docs/checks.md): the first `rows`
 * requests of a scenario (its protocol adapter builds them from the plan's data, as a run would) sent
 * to the target and to a second environment, and the answers compared by the shadow comparison's own
 * code (ShadowAccumulator / FieldDiffer: JSON paths, tolerances, ignore patterns, redacted examples);
 * the model metadata (KServe v2 server and model metadata, TF Serving model status and metadata, the
 * OpenAI model list) compared exactly. Results:
 *   consistency.outputs   figures mismatch_rate, max_abs_diff, compared
 *   consistency.metadata  figure metadata_diffs
 * The second environment gets its own headers, never the target's (credentials are not shared).
 */
import { ShadowAccumulator } from '../comparison/shadow.js';
import { FieldDiffer } from '../comparison/shadow-diff.js';
import type { CheckFinding, CheckResult } from '../core/checks.js';
import type { AdapterContext, WireRequest } from '../core/types.js';
import type { ShadowPlan } from '../plan/comparison.js';
import type { ConsistencyCheckPlan } from '../plan/consistency-check.js';
import type { ScenarioCommon, TargetPlan } from '../plan/types.js';
import { createAdapter, modelPath } from '../protocols/index.js';
import { clopperPearson } from '../stats/index.js';
import { checkResult as result, type CheckContext, type CheckKind } from './kind.js';
import { probe, snippet, splitUrl } from './security-probe.js';
import type { ProbeAnswer, ProbeRequest, ProbeTarget } from './security-probe.js';

/** What the consistency check uses of a check kind's context (src/checks/kind.ts): the plan builds the requests. */
export type ConsistencyContext = Pick<CheckContext, 'signal' | 'redact' | 'plan'>;

interface Env {
  where: ProbeTarget;
  basePath: string;
  headers: Record<string, string>;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function parseBody(a: ProbeAnswer): unknown {
  const text = a.body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const noAnswer = (a: ProbeAnswer, timeoutMs: number) =>
  a.error === 'timeout' ? `no answer within ${timeoutMs} ms` : `no answer (${a.error ?? 'unknown'})`;

export async function runConsistencyCheck(
  plan: ConsistencyCheckPlan,
  target: TargetPlan,
  ctx: ConsistencyContext,
): Promise<CheckResult[]> {
  const started = performance.now();
  const scenario: ScenarioCommon | undefined =
    plan.scenario === undefined ? ctx.plan.scenarios[0] : ctx.plan.scenarios.find((s) => s.name === plan.scenario);
  const errorBoth = (what: string, evidence?: string): CheckResult[] => {
    const f: CheckFinding = {
      status: 'error',
      what: ctx.redact(what),
      ...(evidence ? { evidence: ctx.redact(evidence) } : {}),
    };
    return [
      result(
        'consistency.outputs',
        'Answers agree between the environments',
        [f],
        { mismatch_rate: null, max_abs_diff: null, compared: 0 },
        started,
      ),
      result('consistency.metadata', 'Model metadata and versions agree', [f], { metadata_diffs: null }, started),
    ];
  };
  if (!scenario)
    return errorBoth(
      `no scenario ${plan.scenario === undefined ? 'in the plan' : `named "${plan.scenario}"`} to take requests from`,
    );

  const targetUrl = scenario.target?.url ?? target.url;
  const mine = splitUrl(targetUrl);
  const theirs = splitUrl(plan.other.url);
  const targetHeaders = { ...target.headers, ...(scenario.target?.headers ?? {}) };
  const a: Env = {
    where: { origin: mine.origin, tls: target.tls },
    basePath: mine.basePath,
    headers: targetHeaders,
  };
  const b: Env = {
    where: { origin: theirs.origin, tls: plan.other.tls },
    basePath: theirs.basePath,
    headers: plan.other.headers,
  };
  const send = (env: Env, req: ProbeRequest) =>
    probe(env.where, req, { timeoutMs: plan.timeoutMs, signal: ctx.signal, keepBytes: 4 * 1024 * 1024 });

  // Is the second environment there at all? One GET of its base path: any status will do.
  const hello = await send(b, { method: 'GET', path: b.basePath || '/', headers: b.headers });
  if (hello.status === 0)
    return errorBoth(`the second environment ${plan.other.url} is unreachable`, noAnswer(hello, plan.timeoutMs));

  const metadata = plan.metadata ? await compareMetadata(plan, scenario, a, b, send, ctx) : undefined;

  let requests: WireRequest[];
  try {
    const adapter = await createAdapter(
      scenario,
      { ...ctx.plan, target: { ...target, url: targetUrl } },
      {
        shard: { index: 0, count: 1 },
        seed: ctx.plan.options?.seed ?? 1,
        signal: ctx.signal,
      },
    );
    if (adapter.prepare) await adapter.prepare(adapterContext(a, send));
    requests = Array.from({ length: plan.rows }, (_, i) => adapter.request(i));
  } catch (e) {
    return [
      result(
        'consistency.outputs',
        'Answers agree between the environments',
        [
          {
            status: 'error',
            what: `cannot build the requests of scenario "${scenario.name}"`,
            evidence: snippet(ctx.redact(errorText(e))),
          },
        ],
        { mismatch_rate: null, max_abs_diff: null, compared: 0 },
        started,
      ),
      ...(metadata ? [metadata] : []),
    ];
  }
  const outputs = await compareOutputs(plan, requests, a, b, send, ctx, started);
  return metadata ? [outputs, metadata] : [outputs];
}

/** An error's message with its located problems (a PlanError or DataError says "N problems" otherwise). */
function errorText(e: unknown): string {
  const problems = (e as { problems?: Array<{ path?: string; message: string }> }).problems ?? [];
  const parts = problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));
  return parts.length > 0 ? parts.join('; ') : e instanceof Error ? e.message : String(e);
}

/** The adapter's pre-run checks (readiness, metadata against the data) against the target. */
function adapterContext(env: Env, send: (env: Env, req: ProbeRequest) => Promise<ProbeAnswer>): AdapterContext {
  return {
    origin: env.where.origin,
    headers: env.headers,
    shard: { index: 0, count: 1 },
    seed: 1,
    async fetch(path, init) {
      const body =
        init?.body === undefined ? undefined : Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body);
      const r = await send(env, {
        method: init?.method ?? 'GET',
        path,
        headers: { ...env.headers, ...(init?.headers ?? {}) },
        ...(body ? { body } : {}),
      });
      if (r.status === 0) throw new Error(`${env.where.origin}${path}: ${r.error ?? 'no answer'}`);
      return { status: r.status, body: r.body };
    },
  };
}

/** The request for the other environment: its base path, and its own headers instead of the target's. */
function retarget(req: WireRequest, a: Env, b: Env): ProbeRequest {
  const path = a.basePath && req.path.startsWith(a.basePath) ? req.path.slice(a.basePath.length) : req.path;
  const headers: Record<string, string> = {};
  const targetKeys = new Set(Object.keys(a.headers).map((k) => k.toLowerCase()));
  for (const [k, v] of Object.entries(req.headers)) if (!targetKeys.has(k.toLowerCase())) headers[k] = v;
  return {
    method: req.method,
    path: b.basePath + path,
    headers: { ...headers, ...b.headers },
    ...(req.body ? { body: req.body } : {}),
  };
}

async function compareOutputs(
  plan: ConsistencyCheckPlan,
  requests: WireRequest[],
  a: Env,
  b: Env,
  send: (env: Env, req: ProbeRequest) => Promise<ProbeAnswer>,
  ctx: Pick<CheckContext, 'signal' | 'redact'>,
  started: number,
): Promise<CheckResult> {
  const title = 'Answers agree between the environments';
  const shadow: ShadowPlan = {
    ignore: plan.ignore,
    tolerance: plan.tolerance,
    relativeThreshold: 20,
    absoluteThreshold: 0.03,
    allowSideEffects: true,
    topK: 5,
    maxExamples: 2,
  };
  let acc: ShadowAccumulator;
  let exact: FieldDiffer;
  try {
    acc = new ShadowAccumulator(shadow);
    // Every element its own path and no tolerance: the largest numeric difference, within tolerance or not.
    exact = new FieldDiffer(plan.ignore, { absolute: 0, relative: 0 }, Number.POSITIVE_INFINITY);
  } catch (e) {
    return result(
      'consistency.outputs',
      title,
      [{ status: 'error', what: snippet((e as Error).message) }],
      { mismatch_rate: null, max_abs_diff: null, compared: 0 },
      started,
    );
  }
  let maxAbs = 0;
  let unanswered = 0;
  let firstUnanswered: string | undefined;
  const onExact = (_p: string, kind: string, x: unknown, y: unknown) => {
    if (kind === 'value' && typeof x === 'number' && typeof y === 'number') maxAbs = Math.max(maxAbs, Math.abs(x - y));
  };
  for (const req of requests) {
    if (ctx.signal.aborted) break;
    const [ra, rb] = await Promise.all([
      send(a, { method: req.method, path: req.path, headers: req.headers, ...(req.body ? { body: req.body } : {}) }),
      send(b, retarget(req, a, b)),
    ]);
    if (ra.status === 0 || rb.status === 0) {
      unanswered++;
      firstUnanswered ??= `${ra.status === 0 ? 'target' : 'other'}: ${noAnswer(ra.status === 0 ? ra : rb, plan.timeoutMs)}`;
    }
    const ea = {
      status: ra.status,
      body: ra.status === 0 ? null : parseBody(ra),
      ...(ra.status === 0 ? { errorClass: ra.error ?? 'error' } : {}),
    };
    const eb = {
      status: rb.status,
      body: rb.status === 0 ? null : parseBody(rb),
      ...(rb.status === 0 ? { errorClass: rb.error ?? 'error' } : {}),
    };
    // No noise baseline: the target answers once, so it is its own "secondary".
    acc.observe(ea, ea, eb);
    if (ra.status !== 0 && rb.status !== 0) exact.diff(ea.body, eb.body, onExact);
  }
  const counts = acc.take();
  const compared = counts.compared;
  const mismatch = compared === 0 ? null : (compared - counts.identical) / compared;
  // What `compared` answers can show: the exact (Clopper–Pearson) interval of the true mismatch rate.
  const [lo, hi] = clopperPearson(compared - counts.identical, compared);
  const findings: CheckFinding[] = [];
  if (compared > 0 && unanswered === compared)
    findings.push({
      status: 'error',
      what: `no request was answered by both environments (${compared} sent)`,
      evidence: firstUnanswered,
    });
  else {
    const over = mismatch !== null && mismatch > plan.maxMismatchRate;
    const fields = Object.entries(counts.fields).sort((x, y) => y[1].raw - x[1].raw);
    for (const [path, f] of fields.slice(0, 10)) {
      const ex = f.examples[0];
      findings.push({
        status: over ? 'fail' : 'warn',
        what: `${path} differs in ${f.raw} of ${compared} answers`,
        ...(ex
          ? {
              evidence: snippet(
                ctx.redact(
                  `target ${JSON.stringify(ex.primary) ?? 'absent'} · other ${JSON.stringify(ex.candidate) ?? 'absent'}`,
                ),
              ),
            }
          : {}),
      });
    }
    if (fields.length > 10)
      findings.push({ status: over ? 'fail' : 'warn', what: `… and ${fields.length - 10} more differing paths` });
    findings.unshift({
      status: over ? 'fail' : 'pass',
      what: `${counts.identical} of ${compared} answers identical within tolerance (absolute ${plan.tolerance.absolute}, relative ${plan.tolerance.relative}); mismatch rate ${pct(mismatch ?? 0)} (95% interval ${pct(lo)}–${pct(hi)}; allowed ${pct(plan.maxMismatchRate)})`,
      ...(unanswered > 0 ? { evidence: `${unanswered} unanswered: ${firstUnanswered}` } : {}),
    });
  }
  return result(
    'consistency.outputs',
    title,
    findings,
    {
      mismatch_rate: mismatch,
      mismatch_rate_upper: compared > 0 ? hi : null,
      max_abs_diff: compared > unanswered ? maxAbs : null,
      compared,
    },
    started,
  );
}

/** The paths read for metadata, by protocol; empty when the protocol has none on the inference port. */
function metadataPaths(scenario: ScenarioCommon): string[] {
  const m = scenario.model;
  switch (scenario.protocol) {
    case 'kserve-v2':
      return ['/v2', ...(m ? [modelPath(m, scenario.modelVersion)] : [])];
    case 'tfserving':
      return m ? [`/v1/models/${encodeURIComponent(m)}`, `/v1/models/${encodeURIComponent(m)}/metadata`] : [];
    case 'openai':
      return ['/v1/models'];
    default:
      return [];
  }
}

async function compareMetadata(
  plan: ConsistencyCheckPlan,
  scenario: ScenarioCommon,
  a: Env,
  b: Env,
  send: (env: Env, req: ProbeRequest) => Promise<ProbeAnswer>,
  ctx: Pick<CheckContext, 'signal' | 'redact'>,
): Promise<CheckResult> {
  const started = performance.now();
  const title = 'Model metadata and versions agree';
  const paths = metadataPaths(scenario);
  if (paths.length === 0)
    return result(
      'consistency.metadata',
      title,
      [{ status: 'skipped', what: `protocol ${scenario.protocol} has no model metadata to compare` }],
      { metadata_diffs: null },
      started,
    );
  const findings: CheckFinding[] = [];
  let diffs = 0;
  // Exact: metadata has no float noise. Volatile fields (creation times) are the plan's to ignore.
  const differ = new FieldDiffer(
    plan.ignore.filter((p) => p !== '$.id'),
    { absolute: 0, relative: 0 },
  );
  for (const p of paths) {
    const [ra, rb] = await Promise.all([
      send(a, { method: 'GET', path: a.basePath + p, headers: a.headers }),
      send(b, { method: 'GET', path: b.basePath + p, headers: b.headers }),
    ]);
    if (ra.status === 0 || rb.status === 0) {
      findings.push({
        status: 'error',
        what: `GET ${p}: ${ra.status === 0 ? 'target' : 'other'} ${noAnswer(ra.status === 0 ? ra : rb, plan.timeoutMs)}`,
      });
      continue;
    }
    if (ra.status !== rb.status) {
      diffs++;
      findings.push({
        status: 'fail',
        what: `GET ${p}: target ${ra.status}, other ${rb.status}`,
        evidence: snippet(ctx.redact(`other: ${rb.body.toString('utf8')}`)),
      });
      continue;
    }
    const here: CheckFinding[] = [];
    differ.diff(parseBody(ra), parseBody(rb), (path, _kind, x, y) => {
      diffs++;
      if (here.length < 10)
        here.push({
          status: 'fail',
          what: `GET ${p}: ${path} differs`,
          evidence: snippet(
            ctx.redact(`target ${JSON.stringify(x) ?? 'absent'} · other ${JSON.stringify(y) ?? 'absent'}`),
          ),
        });
    });
    findings.push(...here);
    if (here.length === 0) findings.push({ status: 'pass', what: `GET ${p}: the same (${ra.status})` });
  }
  return result('consistency.metadata', title, findings, { metadata_diffs: diffs }, started);
}

/** The `consistency` check kind (registry: kinds.ts). */
export const consistencyKind: CheckKind<'consistency'> = {
  kind: 'consistency',
  describe: (p) => `consistency: ${p.rows} requests to the target and to ${p.other.url}`,
  run: (p, ctx) => runConsistencyCheck(p, ctx.plan.target, ctx),
};
