/**
 * Plan file text → validated, resolved Plan. Every problem is collected (syntax, types, units,
 * unknown keys, per-executor and per-protocol rules, cross references, thresholds) and reported
 * together with its line:column; a plan is returned only when there are none.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve as resolvePath } from 'node:path';
import { isScalar, LineCounter, parseDocument } from 'yaml';
import { PlanError, PreflightError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
import { isRedactable, literalSecrets, redact, splitUserinfo } from './secrets.js';
import type { Env } from './secrets.js';
import { join, show, Walker } from './spec.js';
import type { Raw } from './spec.js';
import { ARRIVAL_EXECUTORS, EXECUTOR_RULES, planSpec, scenarioSpec } from './syntax.js';
import { EXECUTOR_DEFAULTS, EXECUTOR_FIELDS, executorConfig, type WrittenLoad } from './executors.js';
import { resolveAfter } from './after.js';
import { didYouMean } from './suggest.js';
import { parseThresholdExpression } from './thresholds.js';
import type { ScenarioFacts, ThresholdContext } from './thresholds.js';
import type {
  ArrivalProcess,
  DataPlan,
  Executor,
  Plan,
  ProtocolName,
  QualityPlan,
  RequestTemplate,
  ScenarioCommon,
  ScenarioPlan,
  ScenarioTemplate,
  Stage,
  SyntheticPlan,
  TargetPlan,
  ThresholdPlan,
  TracePlan,
  ProfilePlan,
  ProfileType,
} from './types.js';
import { tryParseRate } from './units.js';
import { buildProfile } from './profile.js';
import { LIMIT_HINTS, LIMITS } from './limits.js';
import { parseCheck } from './checks.js';
import { buildCost } from './cost.js';
import { compileJsonPath } from './json-path.js';
import { dig, protocolRules } from './protocol-rules.js';
import { buildComparison } from './comparison-resolve.js';
import type { ComparisonPlan } from './comparison.js';
import type { MonitorPlan } from './monitor.js';
import { buildFaults, type FaultsPlan } from './faults.js';
import type { ScenarioKeys } from './protocol-rules.js';
import { addReplicaMetrics, buildAlerts, buildMonitor } from './monitor.js';
import { buildChecks, checkFigures, type ChecksPlan } from './check-kinds.js';

export interface ParseOptions {
  /** Plan file path, used in problems and as `plan.source` (default `<inline>`). */
  file?: string;
  /** Environment for `${VAR}` (default `process.env`). */
  env?: Env;
  /** Folder that data, golden and CA paths are relative to (default: the plan file's folder, else cwd). */
  baseDir?: string;
}

export interface PlanValidation {
  ok: boolean;
  /** The resolved plan, when there are no problems. */
  plan?: Plan;
  /** Errors, sorted by position. Never contain secret values. */
  problems: Problem[];
  /** Things that are allowed but worth saying (insecure TLS, literal credentials). */
  warnings: Problem[];
}

/** Headers whose literal values are treated as secrets (and warned about). */
const SENSITIVE_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key']);

const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  DUPLICATE_KEY: 'each key may appear once in a mapping',
  MULTIPLE_DOCS: 'a plan file holds one YAML document (remove the extra `---`)',
  BLOCK_AS_IMPLICIT_KEY: 'quote the value if it contains `: `, e.g. "a: b"',
  BAD_INDENT: 'check the indentation of this line against the lines above',
};

function sortProblems(ps: Problem[]): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const p of ps) {
    const k = `${p.line}:${p.column}:${p.path}:${p.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function scrub(ps: Problem[], secrets: readonly string[]): Problem[] {
  return ps.map((p) => ({
    ...p,
    message: redact(p.message, secrets),
    ...(p.hint ? { hint: redact(p.hint, secrets) } : {}),
    ...(p.path ? { path: redact(p.path, secrets) } : {}),
  }));
}

/** Validates plan text; never throws for problems in the plan (only for bugs). */
export function validatePlan(text: string, opts: ParseOptions = {}): PlanValidation {
  const file = opts.file ?? '<inline>';
  const baseDir = opts.baseDir ?? (opts.file ? dirname(resolvePath(opts.file)) : process.cwd());
  const env = opts.env ?? process.env;
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });

  if (doc.errors.length > 0) {
    const lines = text.split('\n');
    const seenLines = new Set<number>();
    const problems: Problem[] = [];
    for (const e of doc.errors) {
      const { line, col } = lc.linePos(e.pos[0]);
      if (seenLines.has(line)) continue; // later errors on a line are usually the same mistake
      seenLines.add(line);
      const src = lines[line - 1] ?? '';
      const hint =
        /\$\{/.test(src) && /[{[]/.test(src) && e.code === 'UNEXPECTED_TOKEN'
          ? 'inside { } or [ ], quote values that contain ${…}, e.g. "${TOKEN}"'
          : YAML_HINTS[e.code];
      problems.push({
        file,
        line,
        column: col,
        message: `YAML syntax: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
        ...(hint ? { hint } : {}),
      });
    }
    return { ok: false, problems: sortProblems(problems), warnings: [] };
  }
  if (doc.contents === null || (isScalar(doc.contents) && (doc.contents.value === null || doc.contents.value === ''))) {
    return {
      ok: false,
      problems: [
        {
          file,
          line: 1,
          column: 1,
          message: 'the plan is empty',
          hint: 'a plan needs at least `target:` and `scenarios:` (see docs/plan.md)',
        },
      ],
      warnings: [],
    };
  }

  const w = new Walker(doc, lc, file, env);
  const raw = w.walk(doc.contents, planSpec, '') as Raw | undefined;
  const secrets = new Set<string>();
  let plan: Plan | undefined;
  if (raw) plan = build(w, raw, { file, baseDir }, secrets);
  for (const s of w.secrets) secrets.add(s);
  // Credentials written literally in any string (URL passwords, `?api_key=`…) are secrets too.
  for (const { value } of w.index.values())
    if (isScalar(value) && typeof value.value === 'string') for (const s of literalSecrets(value.value)) secrets.add(s);
  const allSecrets = [...secrets];
  const problems = scrub(sortProblems(w.problems), allSecrets);
  const warnings = scrub(sortProblems(w.warnings), allSecrets);
  if (problems.length > 0 || !plan) return { ok: false, problems, warnings };
  plan.secrets = allSecrets;
  return { ok: true, plan, problems: [], warnings };
}

/** Parses and validates plan text; throws PlanError with every problem. */
export function parsePlan(text: string, opts: ParseOptions = {}): Plan {
  const r = validatePlan(text, opts);
  if (!r.ok || !r.plan) throw new PlanError(r.problems);
  return r.plan;
}

async function readPlanFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
      const message = code === 'EISDIR' ? `plan file ${path} is a directory` : `plan file not found: ${path}`;
      throw new PreflightError('E_PLAN_NOT_FOUND', message, {
        problems: [{ file: path, message, hint: 'give the path of a .yaml, .yml or .json plan file' }],
        cause: err,
      });
    }
    throw new PreflightError('E_PLAN_NOT_FOUND', `cannot read plan file ${path}: ${code ?? String(err)}`, {
      cause: err,
      problems: [{ file: path, message: `cannot read plan file: ${code ?? String(err)}` }],
    });
  }
}

/** Reads, parses and validates a plan file. Throws E_PLAN_NOT_FOUND or PlanError. */
export async function loadPlan(path: string, opts: Omit<ParseOptions, 'file'> = {}): Promise<Plan> {
  const text = await readPlanFile(path);
  return parsePlan(text, { ...opts, file: path, baseDir: opts.baseDir ?? dirname(resolvePath(path)) });
}

/**
 * Reads and validates a plan file without throwing for plan problems (for `preflight validate`):
 * the problems, sorted by position; empty when the plan is valid. A missing file still throws
 * E_PLAN_NOT_FOUND.
 */
export async function validatePlanFile(path: string, opts: Omit<ParseOptions, 'file'> = {}): Promise<Problem[]> {
  return (await checkPlanFile(path, opts)).problems;
}

/** Like validatePlanFile, with the resolved plan and the warnings too. */
export async function checkPlanFile(path: string, opts: Omit<ParseOptions, 'file'> = {}): Promise<PlanValidation> {
  const text = await readPlanFile(path);
  return validatePlan(text, { ...opts, file: path, baseDir: opts.baseDir ?? dirname(resolvePath(path)) });
}

// ---- building the resolved plan ----------------------------------------------------------------

interface Ctx {
  file: string;
  baseDir: string;
}

/** The text of a scalar as written (before interpolation): safe to show in messages. */
function writtenAt(w: Walker, path: string): string {
  const n = w.index.get(path)?.value;
  return isScalar(n) ? String(n.value) : path;
}

function wasInterpolated(w: Walker, path: string): boolean {
  const n = w.index.get(path)?.value;
  return isScalar(n) && typeof n.value === 'string' && n.value.includes('${');
}

function resolveFile(ctx: Ctx, p: string): string {
  return isAbsolute(p) ? p : resolvePath(ctx.baseDir, p);
}

function checkInputFile(w: Walker, ctx: Ctx, path: string, p: string, what: string): string {
  const abs = resolveFile(ctx, p);
  let ok = false;
  try {
    ok = statSync(abs).isFile();
  } catch {
    ok = false;
  }
  if (!ok) {
    w.problemAt(
      path,
      `${what} ${show(writtenAt(w, path))} not found`,
      `paths are relative to the plan file's folder${wasInterpolated(w, path) ? '' : ` (${ctx.baseDir})`}`,
    );
  }
  return abs;
}

function normaliseUrl(u: string): string {
  return u.endsWith('/') ? u.replace(/\/+$/, '') : u;
}

function build(w: Walker, raw: Raw, ctx: Ctx, secrets: Set<string>): Plan | undefined {
  const target = buildTarget(w, (raw['target'] ?? {}) as Raw, ctx, secrets);
  const scenariosRaw = (raw['scenarios'] ?? {}) as Record<string, Raw>;
  const scenarios: ScenarioPlan[] = [];
  for (const [name, s] of Object.entries(scenariosRaw)) {
    const b = buildScenario(w, name, s, join('scenarios', name), target, ctx, secrets);
    // an unknown executor has been reported; the scenario is still built, so the rest can be checked
    scenarios.push(scenarioOf(b.common, executorConfig(b.executor ?? 'constant-arrival-rate', b.load)));
  }
  crossCheckScenarios(w, scenarios);
  resolveAfter(w, scenarios);

  // A profile plan: `profile:` + a `scenario:` template instead of `scenarios:`.
  const hasProfile = w.has('profile');
  const hasTemplate = w.has('scenario');
  let profile: ProfilePlan | undefined;
  if (hasProfile || hasTemplate) {
    if (w.has('scenarios'))
      w.problemAt(
        'scenarios',
        'a plan with a profile takes a `scenario:` template, not `scenarios:`',
        'the profile generates the scenarios (see docs/profiles.md); put what to send under `scenario:`',
        'key',
      );
    if (hasProfile && !hasTemplate)
      w.problemAt(
        'profile',
        'a profile needs a `scenario:` template: what to send',
        'e.g. scenario: { request: { method: GET, path: /health } }',
        'key',
      );
    if (!hasProfile && hasTemplate)
      w.problemAt(
        'scenario',
        '`scenario:` is the template of a profile: add `profile:`, or put the scenario under `scenarios:` with a name',
        'e.g. profile: { type: load, rate: 100/s }',
        'key',
      );
    const type = (raw['profile'] as Raw | undefined)?.['type'] as ProfileType | undefined;
    const tr = raw['scenario'] as Raw | undefined;
    if (hasProfile && hasTemplate && tr) {
      const { common } = buildScenario(
        w,
        type ?? 'profile',
        { ...tr, executor: undefined },
        'scenario',
        target,
        ctx,
        secrets,
      );
      const template: ScenarioTemplate = scenarioOf(common, {
        executor: 'constant-arrival-rate',
        arrival: 'uniform',
      } as const);
      if (w.has('scenario.quality.reference'))
        w.problemAt(
          'scenario.quality.reference',
          '`quality.reference` names another scenario; a profile generates its own',
          'remove it: profiles report accuracy per step',
          'key',
        );
      if (raw['profile']) {
        profile = buildProfile(w, raw['profile'] as Raw, template, target, {
          checkInputFile: (path, p, what) => checkInputFile(w, ctx, path, p, what),
          resolveFile: (p) => resolveFile(ctx, p),
          buildTrace: (path, t, speed) => buildTrace(w, path, t, speed, ctx),
          sensitiveHeaders: (path, h) => sensitiveHeaders(w, path, h, secrets),
        });
      }
    }
  } else if (!w.has('scenarios') && !w.suggested.has('scenarios') && !w.has('checks')) {
    w.problem(
      w.doc.contents,
      'scenarios',
      'plan is missing `scenarios`',
      'scenarios: name → scenario (or a `profile:` with a `scenario:` template, see docs/profiles.md; a plan for `preflight check` alone needs only `target:` and `checks:`)',
    );
  }

  const protocolsOf = profile ? [profile.template] : scenarios;
  if (target.readyPath === undefined) {
    const protocols = new Set(protocolsOf.map((s) => s.protocol));
    target.readyPath =
      protocols.size === 1 && protocols.has('kserve-v2')
        ? '/v2/health/ready'
        : protocols.size === 1 && protocols.has('torchserve')
          ? '/ping'
          : null;
  }

  let comparison: ComparisonPlan | undefined;
  if (raw['comparison'])
    comparison = buildComparison(w, raw['comparison'] as Raw, scenarios, hasProfile || hasTemplate, {
      url: (path, u, headers) => urlCredentials(w, path, normaliseUrl(u), headers, secrets),
      sensitiveHeaders: (path, headers) => sensitiveHeaders(w, path, headers, secrets),
    });

  const o = (raw['options'] ?? {}) as Raw;
  const monitor = raw['monitor']
    ? buildMonitor(w, raw['monitor'] as Raw, o['interval'] ?? 1000, {
        resolveFile: (p) => resolveFile(ctx, p),
        secrets,
        interpolated: (p) => wasInterpolated(w, p),
        replicaDefaults: profile?.type === 'autoscale',
      })
    : undefined;
  if (profile?.type === 'autoscale') {
    if (!monitor) {
      if (!w.has('monitor'))
        w.problemAt(
          'profile.type',
          'profile autoscale reads the replica count from the target’s metrics, but the plan has no `monitor:` section',
          'add monitor: { scrape: [http://127.0.0.1:8000/metrics] } (the reference server), or preset: kube-state-metrics',
        );
    } else {
      const missing = addReplicaMetrics(monitor, profile);
      const names = monitor.metrics.map((m) => m.name);
      if (missing.replicas)
        w.problemAt(
          w.has('profile.replicas') ? 'profile.replicas' : 'profile.type',
          `profile autoscale reads the replica count from monitor metric \`${profile.replicas}\`, which the monitor does not define`,
          names.length
            ? didYouMean(profile.replicas, names, 'metrics')
            : 'define it, e.g. monitor: { metrics: { replicas: kube_deployment_status_replicas_available } }',
        );
      if (missing.desired && w.has('profile.desired'))
        w.problemAt(
          'profile.desired',
          `monitor metric \`${profile.desired}\` is not defined`,
          didYouMean(profile.desired, names, 'metrics'),
        );
    }
  }
  let faults: FaultsPlan | undefined;
  if (raw['faults'])
    faults = buildFaults(w, raw['faults'] as Raw, {
      targetUrls: [target.url, ...scenarios.map((s) => s.target?.url ?? target.url)],
      loadDurationMs: loadDuration(scenarios, profile, hasProfile),
      resolveFile: (p) => resolveFile(ctx, p),
    });
  const cost = raw['cost']
    ? buildCost(w, raw['cost'] as Raw, {
        resolveFile: (p) => resolveFile(ctx, p),
        profile: hasProfile ? String((raw['profile'] as Raw | undefined)?.['type'] ?? '') : undefined,
      })
    : undefined;
  if (monitor)
    monitor.alerts = buildAlerts(
      w,
      raw['monitor'] as Raw,
      monitor,
      // Causes are windows: faults, and actions with `for` (an instant action has no start and end to time from).
      faults
        ? faults.timeline.filter((e) => e.kind === 'fault' || e.forMs !== undefined).map((e) => e.name)
        : w.has('faults')
          ? undefined
          : [],
    );

  const checks = raw['checks']
    ? buildChecks(w, raw['checks'] as Raw, {
        target: target as TargetPlan,
        ...(monitor ? { monitor } : {}),
        resolveFile: (p) => resolveFile(ctx, p),
        scenarios: (profile ? [profile.template] : scenarios).map((s) => s.name),
        sensitiveHeaders: (path, h) => sensitiveHeaders(w, path, h, secrets),
      })
    : undefined;
  const thresholds = buildThresholds(
    w,
    (raw['thresholds'] ?? []) as unknown[],
    profile ? [profile.template] : scenarios,
    comparison ?? brokenComparison(raw['comparison'] as Raw | undefined, scenarios),
    w.has('comparison'),
    monitor,
    hasProfile ? String((raw['profile'] as Raw | undefined)?.['type'] ?? '') : undefined,
    checks,
    w.has('cost'),
  );
  if ((profile?.type === 'sweep' || profile?.type === 'capacity') && w.has('faults'))
    w.problemAt(
      'faults',
      `a fault timeline runs in one run; profile ${profile.type} runs one per step`,
      'use a single-run profile (resilience, spike, soak, …) or `scenarios:`',
      'key',
    );
  if ((profile?.type === 'sweep' || profile?.type === 'capacity') && w.has('monitor.alerts'))
    w.problemAt(
      'monitor.alerts',
      `alert checks judge one run; profile ${profile.type} runs one per step`,
      'use a single-run profile (resilience, spike, soak, …) or `scenarios:`',
      'key',
    );
  if (profile?.type === 'resilience' && !faults && !w.has('faults'))
    w.problemAt(
      'profile.type',
      'profile resilience answers per fault window, but the plan has no `faults:` timeline',
      'add faults: { timeline: [ { at: 30s, for: 20s, fault: { latency: 200ms } } ] }',
    );
  if (profile?.type === 'resilience' && faults && faults.timeline.length > 0) {
    // The baseline is the load before the first entry, less its first fifth (warm-up): without a whole
    // window of it, nothing is judged against (no latency limit for recovery, an empty SLO check).
    const intervalMs = (o['interval'] as number | undefined) ?? 1000;
    const atMs = Math.min(...faults.timeline.map((e) => e.atMs));
    // Located at the entry as written (the resolved timeline is sorted by time).
    const written = ((raw['faults'] as Raw | undefined)?.['timeline'] ?? []) as Raw[];
    const first = Math.max(
      0,
      written.findIndex((e) => e?.['at'] === atMs),
    );
    if (atMs < 2 * intervalMs)
      w.problemAt(
        join(join('faults.timeline', first), 'at'),
        `the first entry starts at ${atMs / 1000}s: the resilience profile needs a baseline before it (a whole window after a warm-up: at least ${(2 * intervalMs) / 1000}s)`,
        `start the first fault later, e.g. at: ${Math.max(10, Math.ceil((5 * intervalMs) / 1000))}s`,
      );
  }
  if (profile?.type === 'resilience') {
    // Retry amplification reads the target's own request count: a counter of the monitor.
    const name = profile.targetRequests ?? 'requests';
    const m = monitor?.metrics.find((x) => x.name === name);
    const where = profile.targetRequests !== undefined ? 'profile.targetRequests' : undefined;
    if (m && m.kind !== 'counter' && m.promql === undefined)
      w.problemAt(
        where ?? join('monitor.metrics', name),
        `retry amplification reads monitor metric \`${name}\` as the target's request count: it must be a counter`,
        `e.g. monitor: { metrics: { ${name}: { metric: ${m.selector?.metric ?? 'http_requests_total'}, kind: counter } } }`,
      );
    if (!m && where && (monitor || !w.has('monitor')))
      w.problemAt(
        where,
        `monitor metric \`${name}\` (the target's request count) is not defined`,
        monitor
          ? didYouMean(
              name,
              monitor.metrics.map((x) => x.name),
              'metrics',
            )
          : 'add monitor: { scrape: [http://127.0.0.1:8000/metrics], metrics: { … } }',
      );
    if (!m && !where && (monitor || !w.has('monitor')))
      thresholds.forEach((t, i) => {
        if (t.answer?.field === 'amplification')
          w.problemAt(
            join('thresholds', i),
            `\`${t.expression}\` needs the target's request count: a monitor metric \`requests\` (a counter)`,
            'e.g. monitor: { scrape: [http://127.0.0.1:8000/metrics], preset: triton }, or name one with profile.targetRequests',
          );
      });
  }
  if (profile) {
    thresholds.forEach((t, i) => {
      if (t.scenario !== undefined)
        w.problemAt(
          join('thresholds', i),
          `threshold \`${t.expression}\`: with a profile, thresholds apply to each step or phase, not to a named scenario`,
          `write it without \`${t.scenario}${t.group !== undefined ? '/' + t.group : ''}.\``,
        );
    });
  }
  if (profile && thresholds.length === 0 && !w.has('thresholds')) {
    const why =
      profile.type === 'capacity'
        ? 'searches for the highest rate that meets the thresholds, but there are none'
        : profile.type === 'load'
          ? 'checks each step against the thresholds (the SLO), but there are none'
          : undefined;
    if (why)
      w.problemAt(
        'profile.type',
        `profile ${profile.type} needs thresholds: it ${why}`,
        'add thresholds, e.g. thresholds: [ p99 < 250ms, error_rate < 1% ]',
      );
    else if (profile.type === 'stress')
      w.warnAt(
        'profile.type',
        'profile stress without thresholds: only the error limit breaks a step',
        'add a latency threshold, e.g. thresholds: [ p99 < 250ms ]',
      );
  }
  const plan: Plan = {
    source: ctx.file,
    target: target as TargetPlan,
    scenarios,
    thresholds,
    options: {
      workers: o['workers'] ?? 1,
      seed: o['seed'] ?? 1,
      intervalMs: o['interval'] ?? 1000,
      maxDispatchLagMs: o['maxDispatchLag'] ?? 50,
    },
    secrets: [],
  };
  // Only when the plan says: plan.resolved.json of other plans keeps its shape.
  const so = o['scaleOut'] as Raw | undefined;
  if (so)
    plan.options.scaleOut = {
      tolerateLoss: (so['tolerateLoss'] as number | undefined) ?? 0,
      maxClockSkewMs: (so['maxClockSkew'] as number | undefined) ?? 50,
    };
  if (profile) plan.profile = profile;
  if (comparison) plan.comparison = comparison;
  if (monitor) plan.monitor = monitor;
  if (faults) plan.faults = faults;
  if (checks && Object.keys(checks).length > 0) plan.checks = checks;
  if (cost) plan.cost = cost;
  return plan;
}

/** How long the load runs, when the plan says (a timeline must fit in it): scenarios' ends, or a timed profile's length. */
function loadDuration(
  scenarios: ScenarioPlan[],
  profile: ProfilePlan | undefined,
  hasProfile: boolean,
): number | undefined {
  if (hasProfile)
    return profile && 'durationMs' in profile && profile.type !== 'burst' ? profile.durationMs : undefined;
  if (scenarios.length === 0 || scenarios.some((s) => s.durationMs === undefined)) return undefined;
  return Math.max(...scenarios.map((s) => s.startTimeMs + (s.durationMs ?? 0)));
}

type PendingTarget = Omit<TargetPlan, 'readyPath'> & { readyPath: string | null | undefined };

function buildTarget(w: Walker, t: Raw, ctx: Ctx, secrets: Set<string>): PendingTarget {
  const headers = { ...((t['headers'] ?? {}) as Record<string, string>) };
  sensitiveHeaders(w, 'target.headers', headers, secrets);
  const tlsRaw = (t['tls'] ?? {}) as Raw;
  const tls: TargetPlan['tls'] = { insecure: tlsRaw['insecure'] === true };
  if (tls.insecure) {
    w.warnAt(
      'target.tls.insecure',
      'TLS certificate verification is off (tls.insecure: true)',
      'use tls.caFile for a private CA instead',
    );
  }
  if (typeof tlsRaw['caFile'] === 'string') {
    const abs = resolveFile(ctx, tlsRaw['caFile']);
    try {
      const pem = readFileSync(abs, 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----'))
        w.problemAt(
          'target.tls.caFile',
          `CA file ${show(writtenAt(w, 'target.tls.caFile'))} is not a PEM certificate`,
          'expected text starting with -----BEGIN CERTIFICATE-----',
        );
      else tls.ca = pem;
    } catch (err) {
      w.problemAt(
        'target.tls.caFile',
        `cannot read CA file ${show(writtenAt(w, 'target.tls.caFile'))} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        "paths are relative to the plan file's folder",
      );
    }
  }
  const url = typeof t['url'] === 'string' ? urlCredentials(w, 'target', normaliseUrl(t['url']), headers, secrets) : '';
  if (url.startsWith('http://') && tlsRaw['caFile'] !== undefined) {
    w.warnAt('target.tls', 'tls options have no effect on an http:// target');
  }
  const ready = t['ready'];
  return {
    url,
    headers,
    ...(t['connections'] !== undefined ? { connections: t['connections'] } : {}),
    timeoutMs: t['timeout'] ?? 30_000,
    connectTimeoutMs: t['connectTimeout'] ?? 10_000,
    client: t['client'] === 'undici' ? 'undici' : 'auto',
    tls,
    readyPath: ready === false ? null : typeof ready === 'string' ? ready : w.has('target.ready') ? null : undefined,
    readyTimeoutMs: t['readyTimeout'] ?? 30_000,
  };
}

/**
 * `scheme://user:password@host…` → the URL without its userinfo, and `authorization: Basic …` in
 * `headers` (credentials registered as secrets). An `authorization` header as well is a conflict:
 * which one was meant is not ours to guess.
 */
function urlCredentials(
  w: Walker,
  path: string,
  url: string,
  headers: Record<string, string>,
  secrets: Set<string>,
): string {
  const cred = splitUserinfo(url);
  if (!cred) return url;
  const urlPath = join(path, 'url');
  if (headers['authorization'] !== undefined) {
    w.problemAt(
      urlPath,
      'the URL has credentials (user:password@) and the headers an `authorization`: give one of them',
      'remove user:password@ from the URL (it is sent as Basic auth), or the authorization header',
    );
    return cred.url;
  }
  const token = Buffer.from(`${cred.username}:${cred.password}`, 'utf8').toString('base64');
  headers['authorization'] = `Basic ${token}`;
  secrets.add(token);
  // A user alone (`https://token@host`) is a token; a user with a password is a name.
  for (const v of cred.password === '' ? [cred.username] : [cred.password]) if (isRedactable(v)) secrets.add(v);
  const written = splitUserinfo(writtenAt(w, urlPath));
  if (written && !written.password.includes('${') && !(written.password === '' && written.username.includes('${'))) {
    w.warnAt(
      urlPath,
      'the URL has a literal credential in the plan file',
      'take it from the environment: user:${PASSWORD}@ (export PASSWORD=…)',
    );
  }
  return cred.url;
}

/** Literal values of credential headers are secrets too; warn that they belong in the environment. */
function sensitiveHeaders(w: Walker, path: string, headers: Record<string, string>, secrets: Set<string>): void {
  for (const [k, v] of Object.entries(headers)) {
    if (!SENSITIVE_HEADERS.has(k) || v === '') continue;
    if (!wasInterpolated(w, join(path, k))) {
      w.warnAt(
        join(path, k),
        `header \`${k}\` has a literal credential in the plan file`,
        `use an environment variable, e.g. ${k}: "Bearer \${TOKEN}"`,
      );
    }
    // The credential part after a scheme word (`Bearer …`) is what must not leak.
    const m = /^(Bearer|Basic|Token|ApiKey)\s+(.+)$/i.exec(v);
    secrets.add(m ? m[2] : v);
  }
}

/** Keys given for a scenario, by canonical name. */
function given(w: Walker, path: string, key: string): string | undefined {
  const aliases: Record<string, string[]> = {
    concurrency: ['concurrency', 'vus'],
    maxRequests: ['maxRequests', 'iterations'],
  };
  for (const k of aliases[key] ?? [key]) if (w.has(join(path, k))) return k;
  return undefined;
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A scenario's parts: what it sends (`common`, checked here) and its load keys as written, checked
 * against its executor (plan/executors.ts makes the executor's config of them).
 */
function buildScenario(
  w: Walker,
  name: string,
  s: Raw,
  path: string,
  target: PendingTarget,
  ctx: Ctx,
  secrets: Set<string>,
): { common: ScenarioCommon; executor: Executor | undefined; load: WrittenLoad } {
  const executor = s['executor'] as Executor | undefined;
  const protocol = (s['protocol'] ?? 'http') as ProtocolName;
  const protocolKnown = !w.has(join(path, 'protocol')) || s['protocol'] !== undefined;
  const p = (k: string): string => join(path, k);

  // Per-executor rules (only when the executor itself is valid).
  if (executor) {
    for (const alts of EXECUTOR_RULES[executor].required) {
      if (alts.some((a) => w.has(p(a)) || w.suggested.has(p(a)))) continue;
      const spec = scenarioSpec.fields[alts[0]];
      w.problemAt(
        path,
        `scenario \`${name}\` (${executor}) needs \`${alts[0]}\``,
        spec?.description ? `${alts[0]}: ${spec.description}` : undefined,
        'key',
      );
    }
    for (const [field, rule] of Object.entries(EXECUTOR_FIELDS)) {
      const k = given(w, path, field);
      if (k === undefined || rule.executors.includes(executor)) continue;
      w.problemAt(p(k), `\`${k}\` does not apply to executor ${executor}`, rule.hint(executor), 'key');
    }
  }

  // Per-protocol rules (plan/protocol-rules.ts), only when the protocol itself is valid.
  if (protocolKnown) {
    const req = s['request'] as Raw | undefined;
    const keys: ScenarioKeys = {
      name,
      protocol,
      has: (k) => w.has(p(k)),
      meant: (k) => w.has(p(k)) || w.suggested.has(p(k)),
      get: (k) => dig(s, k),
      requestJson: () => (typeof req?.['body'] === 'string' ? tryJson(req['body']) : req?.['json']),
    };
    protocolRules(keys, (k, message, hint, prefer) => w.problemAt(k ? p(k) : path, message, hint, prefer));
  }
  if (w.has(p('model')) && w.has(p('mix')))
    w.problemAt(p('mix'), '`model` and `mix` are exclusive', 'list every model in mix.models', 'key');
  if (w.has(p('modelVersion')) && w.has(p('mix')))
    w.problemAt(
      p('modelVersion'),
      '`modelVersion` does not combine with `mix`',
      'set `version` per model in mix.models',
      'key',
    );
  if (w.has(p('data')) && w.has(p('synthetic')))
    w.problemAt(p('synthetic'), '`data` and `synthetic` are exclusive', 'keep one source of inputs', 'key');

  // Stages: the unit of a target depends on the executor.
  let stages: Stage[] | undefined;
  if (Array.isArray(s['stages'])) {
    const parsed: Stage[] = [];
    stages = parsed;
    const arrival = executor ? ARRIVAL_EXECUTORS.includes(executor) : undefined;
    (s['stages'] as Raw[]).forEach((st, i) => {
      const sp = join(p('stages'), i);
      const t = st['target'] as { stageTarget: string | number; raw: string; interpolated: boolean } | undefined;
      if (st['duration'] === undefined || t === undefined || arrival === undefined) return;
      const tp = join(sp, 'target');
      if (arrival) {
        const r = tryParseRate(t.stageTarget);
        if (!r.ok) {
          w.problemAt(
            tp,
            t.interpolated
              ? `${show(t.raw)} is not a rate after interpolation`
              : `${executor} stage target: ${r.message}`,
            r.hint,
          );
          return;
        }
        if (r.value > LIMITS.ratePerS) {
          w.problemAt(
            tp,
            `must be at most ${LIMITS.ratePerS.toLocaleString('en-US')}/s, got ${t.interpolated ? `${show(t.raw)} (after interpolation)` : show(String(t.stageTarget))}`,
            LIMIT_HINTS.rate,
          );
          return;
        }
        parsed.push({ durationMs: st['duration'], target: r.value });
      } else {
        const n =
          typeof t.stageTarget === 'number'
            ? t.stageTarget
            : t.interpolated && /^\d+$/.test(t.stageTarget.trim())
              ? Number(t.stageTarget)
              : NaN;
        if (!Number.isInteger(n) || n < 0) {
          const looksRate = typeof t.stageTarget === 'string' && /\//.test(t.stageTarget);
          w.problemAt(
            tp,
            `${executor} stage target must be a concurrency (an integer ≥ 0), got ${t.interpolated ? show(t.raw) : typeof t.stageTarget === 'number' ? t.stageTarget : show(t.stageTarget)}`,
            looksRate
              ? 'rates are for ramping-arrival-rate; here write the number of requests in flight, e.g. 16'
              : 'e.g. target: 16',
          );
          return;
        }
        if (n > LIMITS.inFlight) {
          w.problemAt(
            tp,
            `must be at most ${LIMITS.inFlight}, got ${t.interpolated ? `${show(t.raw)} (after interpolation)` : n}`,
            LIMIT_HINTS.inFlight,
          );
          return;
        }
        parsed.push({ durationMs: st['duration'], target: n });
      }
    });
  }

  // The executor's keys as written; executorConfig (plan/executors.ts) makes its config of them.
  const load: WrittenLoad = { arrival: s['arrival'] ?? 'uniform' };
  if (s['duration'] !== undefined) load.durationMs = s['duration'];
  if (s['maxRequests'] !== undefined) load.maxRequests = s['maxRequests'];
  if (s['rate'] !== undefined) load.rate = s['rate'];
  if (s['startRate'] !== undefined) load.startRate = s['startRate'];
  if (s['maxInFlight'] !== undefined) load.maxInFlight = s['maxInFlight'];
  if (s['burstiness'] !== undefined) {
    load.burstiness = s['burstiness'];
    if (load.arrival !== 'gamma' && w.has(p('arrival')))
      w.problemAt(
        p('burstiness'),
        '`burstiness` is for arrival: gamma',
        'set arrival: gamma (burstiness 1 is Poisson)',
        'key',
      );
    else if (load.arrival !== 'gamma') load.arrival = 'gamma';
  }
  if (executor === 'replay' && s['trace'] && typeof s['trace'] === 'object') {
    load.trace = buildTrace(
      w,
      p('trace'),
      s['trace'] as Raw,
      (s['speed'] as number | undefined) ?? EXECUTOR_DEFAULTS.speed,
      ctx,
    );
    if (load.trace.row !== undefined) {
      const d = s['data'] as Raw | undefined;
      if (!d)
        w.problemAt(
          p('trace.row'),
          'trace `row` picks a data row, but the scenario has no `data`',
          'add data: { file: … }, or remove row',
          'key',
        );
      else if ((d['order'] ?? 'sequential') !== 'sequential' || (d['batch'] !== undefined && d['batch'] !== 1)) {
        w.problemAt(
          p('trace.row'),
          'trace `row` needs data with order: sequential and batch: 1',
          'the row column names the data row of each request',
          'key',
        );
      }
    }
  }
  if (s['concurrency'] !== undefined) load.concurrency = s['concurrency'];
  if (s['startConcurrency'] !== undefined) load.startConcurrency = s['startConcurrency'];
  if (s['thinkTime'] !== undefined) load.thinkTimeMs = s['thinkTime'];
  if (stages) load.stages = stages;
  if (
    (executor === 'ramping-arrival-rate' || executor === 'ramping-concurrency') &&
    stages &&
    Array.isArray(s['stages']) &&
    stages.length === s['stages'].length &&
    stages.reduce((a, st) => a + st.durationMs, 0) <= 0
  )
    w.problemAt(p('stages'), 'the stages last 0s in total', 'give at least one stage a duration', 'key');
  if ((executor === 'constant-arrival-rate' || executor === 'constant-concurrency') && load.durationMs === 0)
    w.problemAt(p('duration'), 'duration must be more than 0s');

  const sc: ScenarioCommon = {
    name,
    protocol,
    startTimeMs: s['startTime'] ?? 0,
    gracefulStopMs: s['gracefulStop'] ?? 10_000,
    checks: checksOf(w, p('checks'), s['checks']),
    tags: (s['tags'] ?? {}) as Record<string, string>,
  };
  if (s['after'] !== undefined) sc.after = s['after'];
  if (s['target']) {
    const o = s['target'] as Raw;
    const override: NonNullable<ScenarioPlan['target']> = {};
    if (o['headers'] !== undefined) {
      sensitiveHeaders(w, p('target.headers'), o['headers'], secrets);
      override.headers = { ...target.headers, ...(o['headers'] as Record<string, string>) };
    }
    if (o['url'] !== undefined) {
      // Credentials of this URL replace the target's authorization (they are for this host); with
      // an authorization header of this scenario too, it is a conflict.
      const own = { ...((o['headers'] ?? {}) as Record<string, string>) };
      override.url = urlCredentials(w, p('target'), normaliseUrl(o['url']), own, secrets);
      if (
        own['authorization'] !== undefined &&
        own['authorization'] !== (o['headers'] as Record<string, string> | undefined)?.['authorization']
      ) {
        override.headers = { ...(override.headers ?? target.headers), authorization: own['authorization'] };
      }
    }
    if (o['connections'] !== undefined) override.connections = o['connections'];
    if (o['timeout'] !== undefined) override.timeoutMs = o['timeout'];
    sc.target = override;
  }
  if (s['request']) sc.request = buildRequest(w, p('request'), s['request'] as Raw, secrets);
  if (s['model'] !== undefined) sc.model = s['model'];
  if (s['modelVersion'] !== undefined) sc.modelVersion = s['modelVersion'];
  if (protocol === 'openai') {
    const o = (s['openai'] ?? { endpoint: 'chat', stream: true }) as Raw;
    sc.openai = { endpoint: o['endpoint'] ?? 'chat', stream: o['stream'] ?? true };
    if (o['maxTokens'] !== undefined) sc.openai.maxTokens = o['maxTokens'];
    if (o['slo'] !== undefined && Object.keys(o['slo']).length > 0) sc.openai.slo = o['slo'];
    if (
      !sc.openai.stream &&
      sc.openai.slo &&
      (sc.openai.slo['ttft'] !== undefined || sc.openai.slo['itl'] !== undefined)
    ) {
      w.problemAt(
        p('openai.slo'),
        'ttft and itl SLOs need streamed responses',
        'set openai.stream: true, or use the e2e SLO',
        'key',
      );
    }
  }
  if (protocol === 'tfserving' && s['tfserving'] !== undefined) {
    const t = s['tfserving'] as Raw;
    sc.tfserving = {
      format: t['format'] ?? 'row',
      ...(t['signatureName'] !== undefined ? { signatureName: t['signatureName'] } : {}),
      ...(t['checkStatus'] === false ? { checkStatus: false } : {}),
    };
  }
  if (protocol === 'torchserve' && s['torchserve'] !== undefined) {
    const t = s['torchserve'] as Raw;
    sc.torchserve = { payload: t['payload'] ?? 'json' };
    for (const k of ['column', 'encoding', 'contentType'] as const) if (t[k] !== undefined) sc.torchserve[k] = t[k];
  }
  if (s['mix']) sc.mix = buildMix(w, p('mix'), s['mix'] as Raw);
  if (s['data']) sc.data = buildData(w, p('data'), s['data'] as Raw, ctx);
  if (s['synthetic']) sc.synthetic = buildSynthetic(w, p('synthetic'), s['synthetic'] as Raw);
  if (s['quality']) sc.quality = buildQuality(w, p('quality'), s['quality'] as Raw, ctx);
  return { common: sc, executor, load };
}

/** A scenario: what it sends and its executor's config, keys in the order plan.resolved.json has always had. */
function scenarioOf<C extends { executor: Executor; arrival: ArrivalProcess }>(
  common: ScenarioCommon,
  config: C,
): ScenarioCommon & C {
  const { name, protocol, startTimeMs, gracefulStopMs, checks, tags, after, ...rest } = common;
  const head = { name, executor: config.executor, protocol, startTimeMs, gracefulStopMs, arrival: config.arrival };
  // `after` follows a written duration (a ramping executor's comes after its stages)
  const written = 'durationMs' in config && !('stages' in config) ? { durationMs: config.durationMs } : {};
  return { ...head, checks, tags, ...written, ...(after !== undefined ? { after } : {}), ...config, ...rest };
}

/** Checks, parsed here so a malformed one is reported with its position (run would reject it later). */
function checksOf(w: Walker, path: string, raw: unknown): ScenarioPlan['checks'] {
  const items = Array.isArray(raw) ? (raw as unknown[]) : [];
  const out: ScenarioPlan['checks'] = [];
  items.forEach((expression, i) => {
    if (typeof expression !== 'string') return; // already reported
    const ip = join(path, i);
    const r = parseCheck(expression);
    if (!r.ok) {
      const written = wasInterpolated(w, ip)
        ? `${writtenAt(w, ip).trim()}\` (after interpolation)`
        : `${expression.trim()}\``;
      w.problemAt(ip, `check \`${written}: ${r.message}`, r.hint);
    }
    out.push({ expression });
  });
  return out;
}

function buildTrace(w: Walker, path: string, t: Raw, speed: number, ctx: Ctx): TracePlan {
  const file = typeof t['file'] === 'string' ? checkInputFile(w, ctx, join(path, 'file'), t['file'], 'trace file') : '';
  let format = t['format'] as TracePlan['format'] | undefined;
  if (format === undefined && file) {
    const ext = extname(file).toLowerCase();
    format = ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined;
    if (!format)
      w.problemAt(
        join(path, 'file'),
        `cannot tell the format of trace file ${show(writtenAt(w, join(path, 'file')))} from its extension`,
        'set trace.format: csv or jsonl',
      );
  }
  const out: TracePlan = {
    file,
    format: format ?? 'csv',
    time: t['time'] ?? 'timestamp',
    unit: t['unit'] ?? 's',
    speed,
  };
  if (t['row'] !== undefined) out.row = t['row'];
  return out;
}

function buildRequest(w: Walker, path: string, r: Raw, secrets: Set<string>): RequestTemplate {
  const headers = { ...((r['headers'] ?? {}) as Record<string, string>) };
  sensitiveHeaders(w, join(path, 'headers'), headers, secrets);
  const req: RequestTemplate = { method: String(r['method'] ?? 'GET').toUpperCase(), path: r['path'] ?? '/', headers };
  if (w.has(join(path, 'body')) && w.has(join(path, 'json'))) {
    w.problemAt(
      join(path, 'json'),
      '`body` and `json` are exclusive',
      'use `json` for a JSON value, `body` for literal text',
      'key',
    );
  }
  if (typeof r['body'] === 'string') req.body = r['body'];
  else if (w.has(join(path, 'json')) && r['json'] !== undefined) {
    req.body = JSON.stringify(r['json']);
    if (headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  }
  if ((req.method === 'GET' || req.method === 'HEAD') && req.body !== undefined) {
    w.warnAt(
      join(path, 'method'),
      `a ${req.method} request with a body`,
      'most servers expect POST for inference requests',
      'key',
    );
  }
  return req;
}

function buildMix(w: Walker, path: string, m: Raw): NonNullable<ScenarioPlan['mix']> {
  const models = ((m['models'] ?? []) as Raw[]).map((x) => ({
    name: String(x['name'] ?? ''),
    weight: (x['weight'] ?? 1) as number,
    ...(x['model'] !== undefined ? { model: String(x['model']) } : {}),
    ...(x['version'] !== undefined ? { version: x['version'] as string } : {}),
  }));
  const seen = new Set<string>();
  models.forEach((x, i) => {
    if (seen.has(x.name))
      w.problemAt(
        join(join(join(path, 'models'), i), 'name'),
        `\`${x.name}\` is listed twice in the mix`,
        "each entry is a results group; give each a distinct name (use `model:` for the server's model name)",
      );
    seen.add(x.name);
    if (m['zipf'] !== undefined && w.has(join(join(join(path, 'models'), i), 'weight'))) {
      w.problemAt(
        join(join(join(path, 'models'), i), 'weight'),
        '`weight` does not combine with `zipf`',
        'zipf sets the weights from the list order; remove weight or zipf',
        'key',
      );
    }
  });
  const mix: NonNullable<ScenarioPlan['mix']> = { models };
  if (m['zipf'] !== undefined) mix.zipf = m['zipf'];
  return mix;
}

const RANGE = /^([A-Za-z_][A-Za-z0-9_]*?)(\d+)\.\.([A-Za-z_][A-Za-z0-9_]*?)?(\d+)$/;
const MAX_RANGE = 1_000_000;

/** `p0..p63` → p0, p1, …, p63. */
export function expandColumnRange(
  text: string,
): { ok: true; columns: string[] } | { ok: false; message: string; hint?: string } {
  const m = RANGE.exec(text);
  if (!m)
    return {
      ok: false,
      message: `\`${text}\` is not a column range`,
      hint: 'write prefixFIRST..prefixLAST, e.g. p0..p63',
    };
  const [, prefix, a, prefix2, b] = m;
  if (prefix2 !== undefined && prefix2 !== prefix)
    return {
      ok: false,
      message: `column range \`${text}\` mixes prefixes \`${prefix}\` and \`${prefix2}\``,
      hint: `e.g. ${prefix}${a}..${prefix}${b}`,
    };
  const from = Number(a);
  const to = Number(b);
  if (to < from)
    return { ok: false, message: `column range \`${text}\` runs backwards`, hint: `e.g. ${prefix}${b}..${prefix}${a}` };
  if (to - from + 1 > MAX_RANGE)
    return { ok: false, message: `column range \`${text}\` is too large (over ${MAX_RANGE} columns)` };
  const columns: string[] = [];
  for (let i = from; i <= to; i++) columns.push(`${prefix}${i}`);
  return { ok: true, columns };
}

function buildData(w: Walker, path: string, d: Raw, ctx: Ctx): DataPlan {
  const file = typeof d['file'] === 'string' ? checkInputFile(w, ctx, join(path, 'file'), d['file'], 'data file') : '';
  let format = d['format'] as DataPlan['format'] | undefined;
  if (format === undefined && file) {
    const ext = extname(file).toLowerCase();
    format =
      ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : ext === '.json' ? 'json' : undefined;
    if (!format)
      w.problemAt(
        join(path, 'file'),
        `cannot tell the format of data file ${show(writtenAt(w, join(path, 'file')))} from its extension`,
        'set data.format: csv, jsonl or json',
      );
  }
  const out: DataPlan = { file, format: format ?? 'csv', order: d['order'] ?? 'sequential', batch: { min: 1, max: 1 } };
  if (Array.isArray(d['inputs'])) {
    out.inputs = [];
    const names = new Set<string>();
    (d['inputs'] as Raw[]).forEach((inp, i) => {
      const ip = join(join(path, 'inputs'), i);
      let columns: string[] | undefined;
      if (typeof inp['columns'] === 'string') {
        const r = expandColumnRange(inp['columns']);
        if (r.ok) columns = r.columns;
        else w.problemAt(join(ip, 'columns'), r.message, r.hint);
      } else if (Array.isArray(inp['columns'])) columns = inp['columns'] as string[];
      if (typeof inp['name'] === 'string') {
        if (names.has(inp['name'])) w.problemAt(join(ip, 'name'), `input \`${inp['name']}\` is listed twice`);
        names.add(inp['name']);
      }
      if (!columns || typeof inp['name'] !== 'string') return;
      const input: NonNullable<DataPlan['inputs']>[number] = {
        name: inp['name'],
        columns,
        datatype: inp['datatype'] ?? 'FP32',
      };
      if (Array.isArray(inp['shape'])) {
        input.shape = inp['shape'] as number[];
        const fixed = input.shape.filter((x) => x !== -1);
        if (input.shape.some((x) => x === 0 || x < -1))
          w.problemAt(join(ip, 'shape'), 'shape dimensions are positive, or -1 for a variable dimension');
        else if (input.shape.filter((x) => x === -1).length <= 1) {
          const per = fixed.reduce((a, x) => a * x, 1);
          const hasBatchDim = input.shape.includes(-1);
          if (!hasBatchDim && per !== columns.length) {
            w.problemAt(
              join(ip, 'shape'),
              `shape [${input.shape.join(', ')}] holds ${per} values but ${columns.length} columns are given`,
            );
          } else if (hasBatchDim && columns.length % per !== 0) {
            w.problemAt(
              join(ip, 'shape'),
              `shape [${input.shape.join(', ')}] does not divide the ${columns.length} columns`,
            );
          }
        }
      }
      out.inputs!.push(input);
    });
  }
  if (d['label'] !== undefined) out.label = d['label'];
  const b = d['batch'];
  if (typeof b === 'number') out.batch = { min: b, max: b };
  else if (b && typeof b === 'object') {
    const min = (b as Raw)['min'];
    const max = (b as Raw)['max'];
    if (typeof min === 'number' && typeof max === 'number') {
      if (min > max) w.problemAt(join(path, 'batch'), `batch min ${min} is more than max ${max}`);
      out.batch = { min, max };
    }
  }
  return out;
}

function buildSynthetic(w: Walker, path: string, s: Raw): SyntheticPlan {
  const distribution = (s['distribution'] ?? 'uniform') as SyntheticPlan['distribution'];
  const out: SyntheticPlan = { distribution, batch: s['batch'] ?? 1 };
  for (const k of ['low', 'high', 'mean', 'std'] as const) if (s[k] !== undefined) out[k] = s[k];
  // Each distribution's own keys; the other's are a mistake.
  const own = distribution === 'uniform' ? 'low and high' : 'mean and std';
  const other = distribution === 'uniform' ? 'normal' : 'uniform';
  for (const k of distribution === 'uniform' ? ['mean', 'std'] : ['low', 'high'])
    if (w.has(join(path, k)))
      w.problemAt(
        join(path, k),
        `\`${k}\` is for distribution: ${other}`,
        `a ${distribution} distribution takes ${own}`,
        'key',
      );
  if (distribution === 'uniform' && out.low !== undefined && out.high !== undefined && out.low >= out.high)
    w.problemAt(join(path, 'high'), `high (${out.high}) must be more than low (${out.low})`);
  return out;
}

function buildQuality(w: Walker, path: string, q: Raw, ctx: Ctx): QualityPlan {
  const task = (q['task'] ?? 'classification') as QualityPlan['task'];
  let prediction: QualityPlan['prediction'] = { kind: 'argmax' };
  const pr = q['prediction'];
  if (pr && typeof pr === 'object') {
    const o = pr as Raw;
    if (o['output'] !== undefined && o['path'] !== undefined)
      w.problemAt(join(path, 'prediction'), 'give `output` or `path`, not both', undefined, 'key');
    else if (o['path'] !== undefined) {
      prediction = { kind: 'path', path: o['path'] };
      try {
        compileJsonPath(o['path']);
      } catch (err) {
        w.problemAt(
          join(path, 'prediction.path'),
          (err as Error).message,
          "JSON paths: $, .key, ['key'], [0], [-1], [*]",
        );
      }
    } else if (o['output'] !== undefined) prediction = { kind: 'argmax', output: o['output'] };
    else if (Object.keys(o).length === 0 && w.has(join(path, 'prediction')))
      w.problemAt(
        join(path, 'prediction'),
        'prediction needs `output` or `path`',
        'e.g. prediction: { path: $.outputs[0].data[0] }',
        'key',
      );
  }
  if (task === 'regression' && prediction.kind !== 'path') {
    w.problemAt(
      w.has(join(path, 'prediction')) ? join(path, 'prediction') : join(path, 'task'),
      'a regression prediction is a value, not an argmax',
      'set prediction: { path: <JSON path of the predicted value> }',
      'key',
    );
  }
  const out: QualityPlan = { task, prediction };
  if (q['saveGolden'] !== undefined) out.saveGolden = resolveFile(ctx, q['saveGolden']);
  if (q['golden'] && typeof q['golden'] === 'object') {
    const g = q['golden'] as Raw;
    if (typeof g['file'] === 'string')
      out.golden = {
        file: checkInputFile(w, ctx, join(path, 'golden.file'), g['file'], 'golden file'),
        tolerance: g['tolerance'] ?? 0,
      };
  }
  if (w.has(join(path, 'saveGolden')) && w.has(join(path, 'golden'))) {
    w.problemAt(
      join(path, 'golden'),
      '`saveGolden` and `golden` are exclusive',
      'record a golden run first (saveGolden), then compare against it (golden)',
      'key',
    );
  }
  if (q['reference'] !== undefined) out.reference = q['reference'];
  const comparesGolden = w.has(join(path, 'golden')) || w.has(join(path, 'saveGolden'));
  const dataPath = path.replace(/quality$/, 'data'); // scenarios.<name>.data, or scenario.data of a profile template
  if (!comparesGolden) {
    if (!w.has(dataPath)) {
      w.problemAt(
        path,
        'quality needs labelled `data` (with `label`) or a `golden` file',
        'synthetic inputs have no labels: compare with golden (record it with saveGolden)',
        'key',
      );
    } else if (!w.has(join(dataPath, 'label'))) {
      w.problemAt(
        dataPath,
        'quality needs the true labels: set `data.label` to the label column',
        'or compare with a golden file (quality.golden)',
        'key',
      );
    }
  }
  return out;
}

/** Checks that need every scenario: quality.reference names. */
function crossCheckScenarios(w: Walker, scenarios: ScenarioPlan[]): void {
  const names = scenarios.map((s) => s.name);
  for (const s of scenarios) {
    const ref = s.quality?.reference;
    if (ref === undefined) continue;
    const rp = join(join(join('scenarios', s.name), 'quality'), 'reference');
    if (ref === s.name)
      w.problemAt(
        rp,
        `scenario \`${s.name}\` cannot be its own reference`,
        'name a light-load scenario, e.g. one at a low constant rate',
      );
    else if (!names.includes(ref))
      w.problemAt(
        rp,
        `unknown reference scenario \`${ref}\``,
        didYouMean(
          ref,
          names.filter((n) => n !== s.name),
          'scenarios',
        ),
      );
    else if (!scenarios.find((x) => x.name === ref)?.quality)
      w.problemAt(rp, `reference scenario \`${ref}\` has no \`quality\`, so no accuracy to compare with`);
  }
}

/** The variants' names of a comparison with problems, so thresholds on its groups are not reported as well. */
function brokenComparison(c: Raw | undefined, scenarios: readonly ScenarioCommon[]): ComparisonPlan | undefined {
  if (!c || !Array.isArray(c['variants'])) return undefined;
  const scenario = (c['scenario'] as string | undefined) ?? (scenarios.length === 1 ? scenarios[0].name : '');
  const variants = (c['variants'] as Raw[]).map((v) => ({
    name: String(v?.['name'] ?? ''),
    weight: 1,
    role: 'candidate' as const,
  }));
  return { kind: undefined as unknown as ComparisonPlan['kind'], scenario, variants, inconclusive: 'pass' };
}

function buildThresholds(
  w: Walker,
  items: unknown[],
  scenarios: readonly ScenarioCommon[],
  comparison: ComparisonPlan | undefined,
  hasComparison: boolean,
  monitor: MonitorPlan | undefined,
  profileType?: string,
  checks?: ChecksPlan,
  hasCost = false,
): ThresholdPlan[] {
  const facts = new Map<string, ScenarioFacts>();
  for (const s of scenarios) {
    const variants = comparison?.scenario === s.name ? comparison.variants.map((v) => v.name) : undefined;
    facts.set(s.name, {
      protocol: s.protocol,
      ...(s.mix ? { groups: s.mix.models.map((m) => m.name) } : variants ? { groups: variants } : {}),
      ...(s.quality
        ? {
            quality: {
              task: s.quality.task,
              golden: s.quality.golden !== undefined,
              reference: s.quality.reference !== undefined,
            },
          }
        : {}),
    });
  }
  const ctx: ThresholdContext = {
    scenarios: facts,
    // Comparison thresholds are checked against the plan's comparison (a broken one is already a problem).
    ...(hasComparison ? { comparison: { kind: comparison?.kind } } : {}),
    ...(monitor ? { targetMetrics: new Map(monitor.metrics.map((m) => [m.name, m.unit])) } : {}),
    ...(profileType !== undefined ? { profile: profileType } : {}),
    checkFigures: checkFigures(Object.keys(checks ?? {})),
    cost: hasCost,
  };
  const out: ThresholdPlan[] = [];
  items.forEach((item, i) => {
    if (item === undefined) return; // invalid item: already reported
    const ip = join('thresholds', i);
    const isObj = typeof item === 'object' && item !== null;
    const expr = isObj ? ((item as Raw)['threshold'] as string | undefined) : (item as string);
    if (typeof expr !== 'string') return;
    const exprPath = isObj ? join(ip, 'threshold') : ip;
    const r = parseThresholdExpression(expr, ctx);
    if (!r.ok) {
      // Show the expression as written: after interpolation it could hold a secret.
      const written = wasInterpolated(w, exprPath)
        ? `${writtenAt(w, exprPath).trim()}\` (after interpolation)`
        : `${expr.trim()}\``;
      w.problemAt(exprPath, `threshold \`${written}: ${r.message}`, r.hint);
      return;
    }
    const o = isObj ? (item as Raw) : {};
    const abortOnFail = o['abortOnFail'] === true;
    if (abortOnFail && r.threshold.answer !== undefined)
      w.problemAt(
        join(ip, 'abortOnFail'),
        `threshold \`${expr.trim()}\`: the ${r.threshold.answer.profile} answer is known after the run, so it cannot abort it`,
        'remove abortOnFail',
        'key',
      );
    if (abortOnFail && r.threshold.comparison !== undefined)
      w.problemAt(
        join(ip, 'abortOnFail'),
        `threshold \`${expr.trim()}\`: a comparison is judged after the run, so it cannot abort it`,
        'remove abortOnFail (an abortOnFail threshold on a variant group, e.g. steady/v2.error_rate < 5%, can)',
        'key',
      );
    if (abortOnFail && r.threshold.cost !== undefined)
      w.problemAt(
        join(ip, 'abortOnFail'),
        `threshold \`${expr.trim()}\`: the cost is computed after the run, so it cannot abort it`,
        'remove abortOnFail',
        'key',
      );
    if (abortOnFail && r.threshold.target !== undefined)
      w.problemAt(
        join(ip, 'abortOnFail'),
        `threshold \`${expr.trim()}\`: target metrics are summarised after the load, so it cannot abort the run`,
        'remove abortOnFail',
        'key',
      );
    if (abortOnFail && r.threshold.check !== undefined)
      w.problemAt(
        join(ip, 'abortOnFail'),
        `threshold \`${expr.trim()}\`: checks run before the load, so their figures cannot abort it`,
        'remove abortOnFail (a failed check already fails the run)',
        'key',
      );
    const delay = (o['delayAbortEval'] as number | undefined) ?? 0;
    if (!abortOnFail && w.has(join(ip, 'delayAbortEval')))
      w.warnAt(join(ip, 'delayAbortEval'), 'delayAbortEval has no effect without abortOnFail: true', undefined, 'key');
    out.push({ ...r.threshold, abortOnFail, delayAbortEvalMs: delay });
  });
  return out;
}
