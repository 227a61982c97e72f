/**
 * `comparison:` → ComparisonPlan: defaults filled once, and every rule that spans keys (roles,
 * weights, the kind's section, paired design, metric names) checked here, all problems at once with
 * their location, before any load. The per-key syntax is in syntax.ts (comparisonSpec).
 */
import type { ActionPlan, CanaryMetricConfig, ComparisonPlan, VariantPlan } from './comparison.js';
import { join, show } from './spec.js';
import type { Raw, Walker } from './spec.js';
import { splitCommand } from './profile.js';
import { didYouMean } from './suggest.js';
import { AB_EFFECT_KEYS, CANARY_METRICS } from './syntax.js';
import type { ScenarioPlan } from './types.js';
import { tryParseDuration, tryParsePercent } from './units.js';

/** Helpers of resolve.ts the comparison needs (credentials in variant URLs and headers). */
export interface ComparisonHelpers {
  /** A variant URL: normalised, credentials moved to an authorization header (secrets registered). */
  url(path: string, url: string, headers: Record<string, string>): string;
  sensitiveHeaders(path: string, headers: Record<string, string>): void;
}

const ROLES: Record<ComparisonPlan['kind'], VariantPlan['role'][]> = {
  ab: ['control', 'candidate'],
  canary: ['control', 'candidate'],
  shadow: ['primary', 'secondary', 'candidate'],
};

/** Methods a shadow mirrors without `allowSideEffects` (protocol http; model protocols' inference calls are reads). */
const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

const P = 'comparison';
/** The groups of the judge's default canary metrics (src/comparison/canary defaults). */
const DEFAULT_GROUPS = ['latency', 'errors', 'quality'];
/** `{{share}}` in an action (plan files interpolate `${…}` from the environment) → the judge's `${SHARE}`. */
const share = (s: string) => s.replaceAll('{{share}}', '${SHARE}');

export function buildComparison(
  w: Walker,
  c: Raw,
  scenarios: ScenarioPlan[],
  hasProfile: boolean,
  h: ComparisonHelpers,
): ComparisonPlan | undefined {
  const kind = c['kind'] as ComparisonPlan['kind'] | undefined;
  if (kind === undefined) return undefined; // reported by the walker
  if (hasProfile) {
    w.problemAt(
      P,
      'a comparison runs on `scenarios:`, not on a profile',
      'name the scenario under `scenarios:` and point `comparison.scenario` at it',
      'key',
    );
    return undefined;
  }
  let ok = true;
  const bad = (path: string, message: string, hint?: string, prefer: 'key' | 'value' = 'value') => {
    w.problemAt(path, message, hint, prefer);
    ok = false;
  };

  // The scenario
  const names = scenarios.map((s) => s.name);
  let scName = c['scenario'] as string | undefined;
  if (scName === undefined) {
    if (scenarios.length === 1) scName = scenarios[0].name;
    else if (scenarios.length > 1)
      bad(
        P,
        `the plan has ${scenarios.length} scenarios: say which one the comparison splits`,
        `e.g. scenario: ${names[0]}`,
        'key',
      );
  } else if (!names.includes(scName))
    bad(join(P, 'scenario'), `unknown scenario \`${scName}\``, didYouMean(scName, names, 'scenarios'));
  const sc = scenarios.find((s) => s.name === scName);
  if (sc?.mix)
    bad(
      join(P, 'scenario'),
      `scenario \`${sc.name}\` has a traffic mix: its groups would collide with the variants'`,
      'compare a scenario without `mix` (one model per variant)',
      w.has(join(P, 'scenario')) ? 'value' : 'key',
    );

  // Variants: names, roles, weights
  const vRaw = (c['variants'] ?? []) as Raw[];
  const want = ROLES[kind];
  const vp = (i: number, k?: string) =>
    k === undefined ? join(join(P, 'variants'), i) : join(join(join(P, 'variants'), i), k);
  if (vRaw.length !== want.length)
    bad(
      join(P, 'variants'),
      `${kind === 'ab' ? 'an A/B test' : `a ${kind}`} compares ${want.length} variants (${want.join(', ')}), got ${vRaw.length}`,
      kind === 'shadow'
        ? 'list primary (current version), secondary (a second instance of it, for the noise) and candidate'
        : 'list the control (current version) first, then the candidate',
    );
  const seen = new Set<string>();
  const variants: VariantPlan[] = vRaw.map((v, i) => {
    const name = String(v['name'] ?? '');
    if (seen.has(name))
      bad(
        vp(i, 'name'),
        `variant \`${name}\` is listed twice`,
        'each variant is a results group: give each a distinct name',
      );
    seen.add(name);
    const role = (v['role'] as VariantPlan['role'] | undefined) ?? want[i] ?? 'candidate';
    if (!want.includes(role))
      bad(vp(i, 'role'), `role \`${role}\` is not one of a ${kind}'s`, `${kind}: ${want.join(', ')}`);
    const headers = { ...((v['headers'] ?? {}) as Record<string, string>) };
    h.sensitiveHeaders(vp(i, 'headers'), headers);
    const out: VariantPlan = { name, role, weight: (v['weight'] as number | undefined) ?? 1 };
    if (typeof v['url'] === 'string') out.url = h.url(vp(i), v['url'], headers);
    if (Object.keys(headers).length > 0) out.headers = headers;
    if (v['model'] !== undefined) out.model = String(v['model']);
    if (v['version'] !== undefined) out.modelVersion = String(v['version']);
    if (kind === 'shadow' && w.has(vp(i, 'weight')))
      bad(vp(i, 'weight'), 'a shadow sends every request to every variant: no weights', 'remove `weight`', 'key');
    if (kind !== 'shadow' && out.weight === 0)
      bad(
        vp(i, 'weight'),
        `variant \`${name}\` has weight 0: it would get no traffic to compare`,
        'give it a positive weight',
      );
    return out;
  });
  if (vRaw.length === want.length) {
    for (const r of want) {
      const n = variants.filter((v) => v.role === r).length;
      if (n !== 1)
        bad(
          join(P, 'variants'),
          `a ${kind} needs exactly one ${r} variant, got ${n}`,
          `roles: ${want.join(', ')} (default: by position)`,
          'key',
        );
    }
  }
  // The control / primary first: the engine and the judges read variants in role order.
  variants.sort((a, b) => want.indexOf(a.role) - want.indexOf(b.role));
  if (
    sc &&
    !sc.model &&
    variants.some((v) => v.modelVersion !== undefined && v.model === undefined) &&
    sc.protocol !== 'http'
  )
    w.warnAt(
      join(P, 'variants'),
      'a variant sets `version` but the scenario has no `model`',
      'set `model:` in the scenario',
    );
  if (sc?.protocol === 'http' && variants.some((v) => v.model !== undefined || v.modelVersion !== undefined))
    bad(
      join(P, 'variants'),
      'protocol http has no model: a variant of an http scenario differs by `url` or `headers`',
      'use `url:` (another server) or a model protocol (kserve-v2, tfserving, torchserve, openai)',
      'key',
    );
  if (
    variants.length === want.length &&
    variants.every(
      (v) => v.url === undefined && v.model === undefined && v.modelVersion === undefined && v.headers === undefined,
    )
  )
    w.warnAt(
      join(P, 'variants'),
      'the variants are all the same target: the comparison compares a version with itself',
      undefined,
      'key',
    );

  // The kind's own section (and no other kind's)
  for (const k of ['ab', 'canary', 'shadow'] as const)
    if (k !== kind && w.has(join(P, k)))
      bad(
        join(P, k),
        `\`${k}\` options do not apply to a comparison of kind ${kind}`,
        `remove \`${k}:\` or set kind: ${k}`,
        'key',
      );

  const plan: ComparisonPlan = {
    kind,
    scenario: scName ?? '',
    variants,
    inconclusive:
      (c['inconclusive'] as ComparisonPlan['inconclusive'] | undefined) ?? (kind === 'canary' ? 'invalid' : 'pass'),
  };
  if (kind === 'ab') {
    const a = (c['ab'] ?? {}) as Raw;
    const ap = join(P, 'ab');
    const minimumEffects: Record<string, number> = { accuracy: 0.01, error_rate: 0.01 };
    for (const [k, v] of Object.entries((a['minimumEffects'] ?? {}) as Record<string, unknown>)) {
      const kp = join(join(ap, 'minimumEffects'), k);
      if (!(AB_EFFECT_KEYS as readonly string[]).includes(k)) {
        bad(kp, `unknown metric \`${k}\``, didYouMean(k, AB_EFFECT_KEYS, 'metrics'), 'key');
        continue;
      }
      const text = String(v).trim();
      if (k.startsWith('latency.')) {
        const d = tryParseDuration(text);
        if (!d.ok || d.value <= 0) bad(kp, `\`${k}\` is a duration, got ${show(text)}`, 'e.g. 10ms');
        else minimumEffects[k] = d.value;
      } else {
        const f = /^\d+(\.\d+)?$/.test(text)
          ? { ok: true as const, value: Number(text) }
          : tryParsePercent(text.replace(/pp$/, '%'));
        if (!f.ok || !(f.value > 0 && f.value <= 1))
          bad(kp, `\`${k}\` is a share, got ${show(text)}`, 'e.g. 1% (or 0.01)');
        else minimumEffects[k] = f.value;
      }
    }
    plan.ab = {
      correction: (a['correction'] as 'holm' | 'bh' | 'none' | undefined) ?? 'holm',
      alpha: (a['alpha'] as number | undefined) ?? 0.05,
      power: (a['power'] as number | undefined) ?? 0.8,
      paired: a['paired'] === true,
      minimumEffects,
      sequential: a['sequential'] === true,
    };
    if (plan.ab.paired && sc) {
      const pp = join(ap, 'paired');
      if (!sc.data)
        bad(
          pp,
          'a paired design sends the same data rows to both arms: the scenario has no `data`',
          'add `data:` with a file, or paired: false',
        );
      else if (sc.data.batch.max !== 1)
        bad(pp, 'a paired design joins the arms row by row: it needs batch 1', 'set data.batch: 1, or paired: false');
      if (variants.length === 2 && variants[0].weight !== variants[1].weight)
        bad(
          pp,
          'a paired design sends each row to both arms: the weights must be equal',
          'remove the weights, or paired: false',
        );
    }
  } else if (kind === 'canary') plan.canary = buildCanary(w, bad, (c['canary'] ?? {}) as Raw, sc);
  else {
    const s = (c['shadow'] ?? {}) as Raw;
    const tol = (s['tolerance'] ?? {}) as Raw;
    plan.shadow = {
      ignore: (s['ignore'] as string[] | undefined) ?? [],
      tolerance: {
        absolute: (tol['absolute'] as number | undefined) ?? 0,
        relative: (tol['relative'] as number | undefined) ?? 0,
      },
      relativeThreshold: (s['relativeThreshold'] as number | undefined) ?? 20,
      absoluteThreshold: (s['absoluteThreshold'] as number | undefined) ?? 0.03,
      allowSideEffects: s['allowSideEffects'] === true,
      topK: (s['topK'] as number | undefined) ?? 5,
      maxExamples: (s['maxExamples'] as number | undefined) ?? 3,
    };
    const method = sc?.request?.method?.toUpperCase();
    if (
      sc?.protocol === 'http' &&
      method !== undefined &&
      !SAFE_METHODS.includes(method) &&
      !plan.shadow.allowSideEffects
    )
      bad(
        join(P, 'kind'),
        `a shadow sends every request three times: ${method} may change state on the servers`,
        'set shadow.allowSideEffects: true if the endpoint is read-only (inference), or shadow a GET',
      );
  }
  return ok ? plan : undefined;
}

type Bad = (path: string, message: string, hint?: string, prefer?: 'key' | 'value') => void;

/** Kayenta's metric defaults; the default metric set follows what the scenario records. */
function buildCanary(w: Walker, bad: Bad, c: Raw, sc: ScenarioPlan | undefined): NonNullable<ComparisonPlan['canary']> {
  const cp = join(P, 'canary');
  // No metrics: the judge's defaults (latency; error_rate and, with labels, accuracy, critical), in its groups.
  const given = (c['metrics'] as Raw[] | undefined) ?? [];
  const classification = sc?.quality?.task === 'classification';
  const metrics: CanaryMetricConfig[] = [];
  given.forEach((m, i) => {
    const mp = join(join(cp, 'metrics'), i);
    const metric = String(m['metric'] ?? '');
    if (!(CANARY_METRICS as readonly string[]).includes(metric)) {
      bad(join(mp, 'metric'), `unknown metric \`${metric}\``, didYouMean(metric, CANARY_METRICS, 'metrics'));
      return;
    }
    if (metric === 'accuracy' && sc && !classification)
      bad(join(mp, 'metric'), `\`accuracy\` needs \`quality\` (task classification) in scenario \`${sc.name}\``);
    if ((metric === 'ttft' || metric === 'itl') && sc && sc.protocol !== 'openai')
      bad(
        join(mp, 'metric'),
        `\`${metric}\` is recorded by protocol openai only; scenario \`${sc.name}\` uses ${sc.protocol}`,
      );
    const es = (m['effectSize'] ?? {}) as Raw;
    const measure = (es['measure'] as 'meanRatio' | 'cles' | undefined) ?? 'meanRatio';
    const dflt = measure === 'cles' ? 0.5 : 1.0;
    const out = (m['outliers'] ?? {}) as Raw;
    metrics.push({
      name: (m['name'] as string | undefined) ?? metric,
      metric,
      group: (m['group'] as string | undefined) ?? metric,
      direction: (m['direction'] as CanaryMetricConfig['direction'] | undefined) ?? 'either',
      critical: m['critical'] === true,
      mustHaveData: m['mustHaveData'] === true,
      nanStrategy: m['nanStrategy'] === 'replace' ? 'replace' : 'remove',
      outliers: {
        strategy: out['strategy'] === 'remove' ? 'remove' : 'keep',
        factor: (out['factor'] as number | undefined) ?? 3,
      },
      effectSize: {
        measure,
        allowedIncrease: (es['allowedIncrease'] as number | undefined) ?? dflt,
        allowedDecrease: (es['allowedDecrease'] as number | undefined) ?? dflt,
        ...(es['criticalIncrease'] !== undefined ? { criticalIncrease: es['criticalIncrease'] as number } : {}),
        ...(es['criticalDecrease'] !== undefined ? { criticalDecrease: es['criticalDecrease'] as number } : {}),
      },
    });
  });
  const names = new Set<string>();
  metrics.forEach((m) => {
    if (names.has(m.name))
      bad(join(cp, 'metrics'), `canary metric \`${m.name}\` is listed twice`, 'give each a distinct `name`', 'key');
    names.add(m.name);
  });
  const groupWeights = { ...((c['groupWeights'] ?? {}) as Record<string, number>) };
  const groups = new Set(metrics.length > 0 ? metrics.map((m) => m.group) : DEFAULT_GROUPS);
  let sum = 0;
  for (const [g, wt] of Object.entries(groupWeights)) {
    sum += wt;
    if (!groups.has(g))
      bad(
        join(join(cp, 'groupWeights'), g),
        `no canary metric is in group \`${g}\``,
        didYouMean(g, [...groups], 'groups'),
        'key',
      );
  }
  if (sum > 100 + 1e-9)
    bad(
      join(cp, 'groupWeights'),
      `group weights sum to ${sum}, more than 100`,
      'weights are percentages of the score; groups without one share the rest',
      'key',
    );
  else if (Object.keys(groupWeights).length === groups.size && groups.size > 0 && Math.abs(sum - 100) > 1e-9)
    bad(
      join(cp, 'groupWeights'),
      `every group has a weight, and they sum to ${sum}, not 100`,
      'make them sum to 100',
      'key',
    );
  const th = (c['thresholds'] ?? {}) as Raw;
  const thresholds = {
    pass: (th['pass'] as number | undefined) ?? 95,
    marginal: (th['marginal'] as number | undefined) ?? 75,
  };
  if (thresholds.marginal > thresholds.pass)
    bad(
      join(cp, 'thresholds'),
      `marginal (${thresholds.marginal}) is above pass (${thresholds.pass})`,
      'e.g. pass: 95, marginal: 75',
      'key',
    );
  const steps = ((c['steps'] ?? []) as Raw[]).map((s, i) => {
    const share = (s['share'] as number | undefined) ?? 0;
    if (w.has(join(join(join(cp, 'steps'), i), 'share')) && !(share > 0 && share <= 1))
      bad(
        join(join(join(cp, 'steps'), i), 'share'),
        `a step's share is in (0, 100%], got ${share * 100}%`,
        'e.g. share: 5%',
      );
    return { share, durationMs: (s['duration'] as number | undefined) ?? 0 };
  });
  if (steps.length > 0 && sc) {
    const total = steps.reduce((a, s) => a + s.durationMs, 0);
    if (sc.executor !== 'constant-arrival-rate' && sc.executor !== 'constant-concurrency')
      bad(
        join(cp, 'steps'),
        `canary steps change the split over a steady load: scenario \`${sc.name}\` uses ${sc.executor}`,
        'use executor constant-arrival-rate or constant-concurrency',
        'key',
      );
    else if (sc.durationMs !== total)
      bad(
        join(cp, 'steps'),
        `the steps last ${total / 1000} s in all, scenario \`${sc.name}\` ${(sc.durationMs ?? 0) / 1000} s`,
        `make them equal, e.g. duration: ${total / 1000}s in the scenario`,
        'key',
      );
  }
  steps.forEach((s, i) => {
    if (i > 0 && s.share < steps[i - 1].share)
      w.warnAt(join(join(join(cp, 'steps'), i), 'share'), 'this step’s share is lower than the previous one’s');
  });
  const out: NonNullable<ComparisonPlan['canary']> = {
    judge: c['judge'] === 'kayenta' ? 'kayenta' : 'preflight',
    metrics,
    groupWeights,
    thresholds,
    steps,
    marginalPasses: c['marginalPasses'] === true,
    onInterrupt: c['onInterrupt'] === 'hold' ? 'hold' : 'rollback',
  };
  const a = c['actions'] as Raw | undefined;
  if (a) {
    const actions: NonNullable<typeof out.actions> = {};
    for (const k of ['step', 'promote', 'rollback'] as const) {
      if (a[k] === undefined) continue;
      const act = buildAction(bad, join(join(cp, 'actions'), k), a[k] as Raw);
      if (act) actions[k] = act;
    }
    out.actions = actions;
  }
  return out;
}

function buildAction(bad: Bad, path: string, a: Raw): ActionPlan | undefined {
  const timeoutMs = (a['timeout'] as number | undefined) ?? 60_000;
  if ((a['run'] === undefined) === (a['http'] === undefined)) {
    bad(
      path,
      'an action is a command (`run`) or an HTTP call (`http`): give exactly one',
      'e.g. run: [kubectl, argo, rollouts, promote, model]',
      'key',
    );
    return undefined;
  }
  const run = a['run'];
  if (run !== undefined) {
    if (Array.isArray(run)) return { kind: 'command', argv: run.map((x) => share(String(x))), timeoutMs };
    const split = splitCommand(String(run));
    if (!split.ok) {
      bad(join(path, 'run'), split.message, 'quote arguments with spaces, or give a list');
      return undefined;
    }
    return { kind: 'command', argv: split.argv.map(share), timeoutMs };
  }
  const hx = a['http'] as Raw;
  return {
    kind: 'http',
    method: String(hx['method'] ?? 'POST').toUpperCase(),
    url: share(String(hx['url'])),
    headers: Object.fromEntries(
      Object.entries((hx['headers'] ?? {}) as Record<string, string>).map(([k, v]) => [k, share(v)]),
    ),
    ...(hx['body'] !== undefined ? { body: share(String(hx['body'])) } : {}),
    timeoutMs,
  };
}

/** Threshold group names of the compared scenario: its variants. */
export function variantGroups(plan: ComparisonPlan | undefined, scenario: string): string[] | undefined {
  return plan && plan.scenario === scenario ? plan.variants.map((v) => v.name) : undefined;
}
