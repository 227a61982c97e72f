/**
 * `profile:` section → ProfilePlan: which keys each profile type takes, their defaults, and the
 * rules across keys (one of rate/concurrency, run/http, …). The walker has already checked each
 * key's own type and unit; here only what depends on the profile type. See docs/profiles.md.
 */
import type { ObjectSpec, Raw, Walker } from './spec.js';
import { defaultValue, join } from './spec.js';
import { PROFILE_FIELDS, profileSpec } from './syntax.js';
import type {
  CapacityProfile,
  MemorySource,
  ProfilePlan,
  ProfileType,
  RecoveryRule,
  RolloutAction,
  ScenarioTemplate,
  SteadyLoad,
  SteadyRule,
  StressStep,
  SweepProfile,
  TargetPlan,
  TracePlan,
} from './types.js';
import { tryParseRate } from './units.js';
import { LIMIT_HINTS, LIMITS } from './limits.js';
import { splitCommand } from './command-line.js';

/** Helpers of resolve.ts that the profile needs (passed in to keep imports acyclic). */
export interface ProfileHelpers {
  checkInputFile(path: string, p: string, what: string): string;
  resolveFile(p: string): string;
  buildTrace(path: string, t: Raw, speed: number): TracePlan;
  sensitiveHeaders(path: string, headers: Record<string, string>): void;
}

const P = 'profile';
const pp = (k: string): string => join(P, k);

// In its own module so that monitor.ts can use it without an import cycle (profile → syntax → monitor).
export { splitCommand };

/** Geometric levels from..to: by factor (while ≤ to), or `steps` levels spaced evenly in log scale. */
export function geometricLevels(
  from: number,
  to: number,
  opts: { factor?: number; steps?: number },
  integer: boolean,
): number[] {
  const out: number[] = [];
  if (!(from > 0) || !(to >= from)) return [from];
  if (opts.steps !== undefined) {
    for (let i = 0; i < opts.steps; i++)
      out.push(from * Math.pow(to / from, opts.steps === 1 ? 0 : i / (opts.steps - 1)));
  } else {
    const f = opts.factor ?? 2;
    for (let x = from; x <= to * (1 + 1e-9) && out.length < 1000; x *= f) out.push(x);
  }
  const vals = integer ? out.map((x) => Math.round(x)) : out.map((x) => Math.round(x * 1000) / 1000);
  return [...new Set(vals)];
}

interface StageValue {
  stageTarget: string | number;
  raw: string;
  interpolated: boolean;
}

function level(
  w: Walker,
  path: string,
  v: StageValue | undefined,
): { mode: 'rate' | 'concurrency'; value: number } | undefined {
  if (!v) return undefined;
  const t = v.stageTarget;
  if (typeof t === 'string' && t.includes('/')) {
    const r = tryParseRate(t);
    if (!r.ok || r.value <= 0) {
      w.problemAt(
        path,
        r.ok
          ? 'a level must be more than 0/s'
          : v.interpolated
            ? `\`${v.raw}\` is not a rate after interpolation`
            : r.message,
        r.ok ? undefined : r.hint,
      );
      return undefined;
    }
    if (r.value > LIMITS.ratePerS) {
      w.problemAt(path, `a level must be at most ${LIMITS.ratePerS.toLocaleString('en-US')}/s`, LIMIT_HINTS.rate);
      return undefined;
    }
    return { mode: 'rate', value: r.value };
  }
  const n = typeof t === 'number' ? t : /^\s*\d+\s*$/.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(n) || n < 1) {
    w.problemAt(
      path,
      `expected a rate like \`50/s\` or a concurrency (an integer ≥ 1), got \`${v.interpolated ? v.raw : String(t)}\``,
      'e.g. levels: [25/s, 50/s, 100/s] or levels: [1, 2, 4, 8]',
    );
    return undefined;
  }
  if (n > LIMITS.inFlight) {
    w.problemAt(path, `a level must be at most ${LIMITS.inFlight} requests in flight`, LIMIT_HINTS.inFlight);
    return undefined;
  }
  return { mode: 'concurrency', value: n };
}

function buildLevels(w: Walker, raw: unknown): SweepProfile['levels'] | undefined {
  const path = pp('levels');
  let items: Array<{ mode: 'rate' | 'concurrency'; value: number }> = [];
  if (Array.isArray(raw)) {
    raw.forEach((v, i) => {
      const l = level(w, join(path, i), v as StageValue);
      if (l) items.push(l);
    });
    if (items.length !== raw.length) return undefined;
  } else if (raw && typeof raw === 'object') {
    const r = raw as Raw;
    const from = level(w, join(path, 'from'), r['from'] as StageValue | undefined);
    const to = level(w, join(path, 'to'), r['to'] as StageValue | undefined);
    if (!from || !to) return undefined;
    if (from.mode !== to.mode) {
      w.problemAt(
        path,
        '`from` and `to` must both be rates or both be concurrencies',
        'e.g. { from: 10/s, to: 160/s } or { from: 1, to: 64 }',
        'key',
      );
      return undefined;
    }
    if (to.value < from.value) {
      w.problemAt(join(path, 'to'), `\`to\` (${to.value}) is below \`from\` (${from.value})`);
      return undefined;
    }
    if (w.has(join(path, 'factor')) && w.has(join(path, 'steps'))) {
      w.problemAt(join(path, 'steps'), 'give `factor` or `steps`, not both', undefined, 'key');
      return undefined;
    }
    const values = geometricLevels(
      from.value,
      to.value,
      { factor: r['factor'] as number | undefined, steps: r['steps'] as number | undefined },
      from.mode === 'concurrency',
    );
    items = values.map((value) => ({ mode: from.mode, value }));
  } else return undefined;
  if (items.length === 0) return undefined;
  const mode = items[0].mode;
  if (items.some((x) => x.mode !== mode)) {
    w.problemAt(
      path,
      'levels mix rates and concurrencies',
      'use rates (open model, e.g. 50/s) or integers (closed model, concurrency), not both',
      'key',
    );
    return undefined;
  }
  const values = items.map((x) => x.value);
  for (let i = 1; i < values.length; i++) {
    if (values[i] <= values[i - 1]) {
      w.problemAt(join(path, i), 'levels must increase', `e.g. ${values[0]} then something larger`);
      return undefined;
    }
  }
  return { mode, values };
}

function buildMemory(w: Walker, m: Raw, h: ProfileHelpers): MemorySource | undefined {
  const path = pp('memory');
  const given = ['pid', 'pidFile', 'url'].filter((k) => w.has(join(path, k)));
  if (given.length !== 1) {
    w.problemAt(
      path,
      given.length === 0
        ? 'memory needs one of `pid`, `pidFile` or `url`'
        : `memory takes one source; got ${given.map((k) => `\`${k}\``).join(' and ')}`,
      'pid / pidFile: a local process (Linux VmRSS); url: a Prometheus /metrics endpoint',
      'key',
    );
    return undefined;
  }
  if (w.has(join(path, 'metric')) && !w.has(join(path, 'url')))
    w.problemAt(join(path, 'metric'), '`metric` is for a Prometheus `url`', undefined, 'key');
  const out: MemorySource = { metric: (m['metric'] as string | undefined) ?? 'process_resident_memory_bytes' };
  if (m['pid'] !== undefined) out.pid = m['pid'] as number;
  if (typeof m['pidFile'] === 'string') out.pidFile = h.resolveFile(m['pidFile']);
  if (typeof m['url'] === 'string') out.url = m['url'];
  return out;
}

function buildAction(
  w: Walker,
  r: Raw,
  target: Pick<TargetPlan, 'url' | 'headers'>,
  template: ScenarioTemplate,
  h: ProfileHelpers,
): RolloutAction | undefined {
  if (w.has(pp('run')) && w.has(pp('http'))) {
    w.problemAt(pp('http'), 'give `run` (a command) or `http` (a call), not both', undefined, 'key');
    return undefined;
  }
  if (w.has(pp('shell')) && !w.has(pp('run')))
    w.problemAt(pp('shell'), '`shell` is for a `run` command', undefined, 'key');
  const run = r['run'];
  if (typeof run === 'string') {
    const shell = r['shell'] === true;
    if (shell) return { kind: 'run', argv: ['/bin/sh', '-c', run], shell, display: run };
    const split = splitCommand(run);
    if (!split.ok) {
      w.problemAt(
        pp('run'),
        split.message,
        'quote arguments with spaces, or give a list: run: [kubectl, rollout, restart, deployment/model]',
      );
      return undefined;
    }
    return { kind: 'run', argv: split.argv, shell: false, display: run };
  }
  if (Array.isArray(run)) {
    const argv = run as string[];
    if (r['shell'] === true) {
      w.problemAt(
        pp('shell'),
        '`shell: true` takes a command line (a string), not a list',
        'write run: "…" as one string',
        'key',
      );
      return undefined;
    }
    return {
      kind: 'run',
      argv,
      shell: false,
      display: argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' '),
    };
  }
  const hr = r['http'] as Raw | undefined;
  if (!hr || typeof hr['url'] !== 'string') return undefined;
  const base = template.target?.url ?? target.url;
  let url: URL;
  try {
    url = hr['url'].startsWith('/') ? new URL(hr['url'], new URL(base).origin) : new URL(hr['url']);
  } catch {
    w.problemAt(
      pp('http.url'),
      "expected a path starting with `/` or an http:// URL on the target's host",
      'e.g. url: /admin/version',
    );
    return undefined;
  }
  const targetHost = new URL(base).hostname;
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname !== targetHost) {
    w.problemAt(
      pp('http.url'),
      `for safety, the rollout http action may only call the target's host (${targetHost})`,
      'give a path, e.g. /admin/version, or a URL on that host; to call anything else, use `run`',
    );
    return undefined;
  }
  const headers = { ...((hr['headers'] ?? {}) as Record<string, string>) };
  h.sensitiveHeaders(pp('http.headers'), headers);
  const method = String(hr['method'] ?? 'POST').toUpperCase();
  const out: RolloutAction = {
    kind: 'http',
    method,
    url: url.toString(),
    headers,
    display: `${method} ${url.pathname}${url.search}`,
  };
  if (w.has(pp('http.body')) && w.has(pp('http.json')))
    w.problemAt(pp('http.json'), '`body` and `json` are exclusive', undefined, 'key');
  if (typeof hr['body'] === 'string') out.body = hr['body'];
  else if (w.has(pp('http.json'))) {
    out.body = JSON.stringify(hr['json']);
    if (headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  }
  return out;
}

/** The fields of an object key of `profile:` (recovery, steady), defaults from its spec in syntax.ts. */
function subSettings(key: 'recovery' | 'steady', r: Raw | undefined): (k: string) => number {
  const fields = (profileSpec.fields[key] as ObjectSpec).fields;
  return (k) => ((r ?? {})[k] ?? defaultValue(fields[k])) as number;
}

function buildRecovery(r: Raw | undefined): RecoveryRule {
  const x = subSettings('recovery', r);
  return { latencyTolerance: x('latency'), marginMs: x('margin'), errorTolerance: x('errors'), windows: x('windows') };
}

function buildSteady(r: Raw | undefined): SteadyRule {
  const x = subSettings('steady', r);
  return { windowMs: x('window'), tolerance: x('tolerance'), windows: x('windows'), maxStepMs: x('maxStepDuration') };
}

/** Checks the keys against the profile type and resolves defaults. Problems go to the walker. */
export function buildProfile(
  w: Walker,
  r: Raw,
  template: ScenarioTemplate,
  target: Pick<TargetPlan, 'url' | 'headers'>,
  h: ProfileHelpers,
): ProfilePlan | undefined {
  const type = r['type'] as ProfileType | undefined;
  if (type === undefined) return undefined;
  const rule = PROFILE_FIELDS[type];
  let ok = true;
  for (const k of Object.keys(PROFILE_FIELDS)
    .flatMap((t) => PROFILE_FIELDS[t].keys)
    .filter((k, i, a) => a.indexOf(k) === i)) {
    if (!w.has(pp(k)) || rule.keys.includes(k)) continue;
    const takers = Object.entries(PROFILE_FIELDS)
      .filter(([, x]) => x.keys.includes(k))
      .map(([t]) => t);
    w.problemAt(
      pp(k),
      `\`${k}\` does not apply to profile type ${type}`,
      `\`${k}\` is for ${takers.join(', ')}; ${type} takes ${rule.keys.map((x) => `\`${x}\``).join(', ')}`,
      'key',
    );
    ok = false;
  }
  for (const alts of rule.required) {
    if (alts.some((a) => w.has(pp(a)) || w.suggested.has(pp(a)))) continue;
    w.problemAt(
      P,
      `profile type ${type} needs ${alts.map((a) => `\`${a}\``).join(' or ')}`,
      PROFILE_HINTS[type],
      'key',
    );
    ok = false;
  }
  const exclusive = (a: string, b: string, hint?: string): void => {
    if (w.has(pp(a)) && w.has(pp(b)) && rule.keys.includes(a) && rule.keys.includes(b)) {
      w.problemAt(pp(b), `give \`${a}\` or \`${b}\`, not both`, hint, 'key');
      ok = false;
    }
  };
  exclusive(
    'rate',
    'concurrency',
    'rate: an open workload (arrivals per second); concurrency: a closed one (requests in flight)',
  );
  exclusive('rateStep', 'factor', 'rateStep: linear steps; factor: geometric steps');
  exclusive('spikeRate', 'factor');
  exclusive('peakRate', 'factor');

  const num = (k: string): number | undefined => (w.has(pp(k)) ? (r[k] as number | undefined) : undefined);
  /** stress and capacity search upward from `startRate`: it must not start above `maxRate`. */
  const startRateFits = (startRate: number, maxRate: number): boolean => {
    if (startRate <= maxRate) return true;
    w.problemAt(pp('startRate'), `startRate (${startRate}/s) is above maxRate (${maxRate}/s)`);
    return false;
  };
  /** A key's value: as written, or the default its spec in syntax.ts declares (the only place defaults are declared). */
  const setting = <V>(k: string): V => (r[k] ?? defaultValue(profileSpec.fields[k])) as V;
  const rate = num('rate');
  const concurrency = num('concurrency');
  // Key order as before (plan.resolved.json stays byte for byte): type, template, rate, concurrency, memory, then the kind's.
  const base = {
    type,
    template,
    ...(rate !== undefined ? { rate } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
  };
  let memory: MemorySource | undefined;
  if (rule.keys.includes('memory') && w.has(pp('memory')) && r['memory']) {
    memory = buildMemory(w, r['memory'] as Raw, h);
    if (!memory) ok = false;
  }
  const single = { ...base, ...(memory ? { memory } : {}) };
  const steadyLoad = (): SteadyLoad | undefined =>
    rate !== undefined ? { rate } : concurrency !== undefined ? { concurrency } : undefined;
  const result = ((): ProfilePlan | undefined => {
    switch (type) {
      case 'load':
        if (rate === undefined) return undefined;
        return {
          ...single,
          type,
          rate,
          steps: setting('steps'),
          stepDurationMs: setting('stepDuration'),
          holdMs: setting('hold'),
        };
      case 'stress': {
        const maxRate = num('maxRate');
        if (maxRate === undefined) return undefined;
        const factor = num('factor');
        const step: StressStep = factor !== undefined ? { factor } : { rateStep: num('rateStep') ?? maxRate / 10 };
        const startRate = num('startRate') ?? step.rateStep ?? maxRate / 10;
        if (!startRateFits(startRate, maxRate)) ok = false;
        const maxDurationMs = w.has(pp('maxDuration')) ? (r['maxDuration'] as number) : undefined;
        return {
          ...single,
          type,
          maxRate,
          ...step,
          startRate,
          stepDurationMs: setting('stepDuration'),
          ...(maxDurationMs !== undefined ? { maxDurationMs } : {}),
          stopAfter: setting('stopAfter'),
          errorLimit: setting('errorLimit'),
        };
      }
      case 'soak': {
        const d = num('duration');
        const load = steadyLoad();
        if (d === undefined || !load) return undefined;
        const warmupMs = w.has(pp('warmup')) ? (r['warmup'] as number) : Math.min(0.1 * d, 300_000);
        if (warmupMs >= d) {
          w.problemAt(
            pp('warmup'),
            'the warm-up is as long as the whole soak: nothing would be analysed',
            'make it shorter than duration',
          );
          ok = false;
        }
        return {
          type,
          template,
          ...load,
          ...(memory ? { memory } : {}),
          durationMs: d,
          warmupMs,
          bucketMs: w.has(pp('bucket')) ? (r['bucket'] as number) : 0,
          alpha: setting('alpha'),
          minChange: setting('minChange'),
          minErrorChange: setting('minErrorChange'),
        };
      }
      case 'spike': {
        if (rate === undefined) return undefined;
        const spikeRate = num('spikeRate') ?? rate * (num('factor') ?? 10);
        return {
          ...single,
          type,
          rate,
          spikeRate,
          factor: spikeRate / rate,
          beforeMs: setting('before'),
          spikeMs: setting('spike'),
          afterMs: setting('after'),
          recovery: buildRecovery(r['recovery'] as Raw | undefined),
        };
      }
      case 'burst':
        if (rate === undefined) return undefined;
        // duration has no spec default: soak and rollout require it; a burst phase is 60 s unless given.
        return {
          ...single,
          type,
          rate,
          burstiness: setting('burstiness'),
          durationMs: num('duration') ?? 60_000,
          smooth: setting('smooth'),
        };
      case 'sweep': {
        const levels = w.has(pp('levels')) ? buildLevels(w, r['levels']) : undefined;
        if (!levels) {
          ok = false;
          return undefined;
        }
        return {
          ...base,
          type,
          levels,
          steady: buildSteady(r['steady'] as Raw | undefined),
          cooldownMs: setting('cooldown'),
        };
      }
      case 'capacity': {
        const maxRate = num('maxRate');
        if (maxRate === undefined) return undefined;
        const startRate = num('startRate') ?? Math.min(10, maxRate);
        if (!startRateFits(startRate, maxRate)) ok = false;
        const atLeast = w.has(pp('atLeast')) ? (r['atLeast'] as number) : undefined;
        return {
          ...base,
          type,
          maxRate,
          startRate,
          precision: { ...setting<CapacityProfile['precision']>('precision') },
          steady: buildSteady(r['steady'] as Raw | undefined),
          cooldownMs: setting('cooldown'),
          minThroughput: setting('minThroughput'),
          maxSteps: setting('maxSteps'),
          ...(atLeast !== undefined ? { atLeast } : {}),
        };
      }
      case 'rollout': {
        const d = num('duration');
        const load = steadyLoad();
        if (d === undefined || !load) return undefined;
        const atMs = w.has(pp('at')) ? (r['at'] as number) : Math.round(d / 3);
        if (atMs >= d) {
          w.problemAt(pp('at'), 'the action would start after the load ends', 'make `at` shorter than `duration`');
          ok = false;
        }
        const actionTimeoutMs = w.has(pp('timeout')) ? (r['timeout'] as number) : Math.max(1000, d - atMs);
        const action = buildAction(w, r, target, template, h);
        if (!action) {
          ok = false;
          return undefined;
        }
        return {
          type,
          template,
          ...load,
          ...(memory ? { memory } : {}),
          durationMs: d,
          atMs,
          actionTimeoutMs,
          action,
          recovery: buildRecovery(r['recovery'] as Raw | undefined),
        };
      }
      case 'resilience': {
        const d = num('duration');
        const load = steadyLoad();
        if (d === undefined || !load) return undefined;
        return {
          type,
          template,
          ...load,
          ...(memory ? { memory } : {}),
          durationMs: d,
          recovery: buildRecovery(r['recovery'] as Raw | undefined),
          ...(typeof r['targetRequests'] === 'string' ? { targetRequests: r['targetRequests'] } : {}),
        };
      }
      case 'autoscale': {
        if (rate === undefined) return undefined;
        const peakRate = num('peakRate') ?? rate * (num('factor') ?? Number.NaN);
        if (!(peakRate > rate)) {
          if (!Number.isNaN(peakRate))
            w.problemAt(
              pp(w.has(pp('peakRate')) ? 'peakRate' : 'factor'),
              `the step up (${peakRate}/s) is not above the baseline rate (${rate}/s)`,
              'make peakRate larger than rate',
            );
          return undefined;
        }
        return {
          ...single,
          type,
          rate,
          peakRate,
          factor: peakRate / rate,
          beforeMs: setting('before'),
          holdMs: setting('hold'),
          afterMs: setting('after'),
          replicas: setting('replicas'),
          desired: setting('desired'),
        };
      }
      case 'replay': {
        const t = r['trace'] as Raw | undefined;
        if (!t) return undefined;
        const trace = h.buildTrace(pp('trace'), t, setting('speed'));
        if (trace.row !== undefined) {
          const d = template.data;
          if (!d)
            w.problemAt(
              pp('trace.row'),
              'trace `row` picks a data row, but the scenario template has no `data`',
              'add data to `scenario:`, or remove row',
              'key',
            );
          else if (d.order !== 'sequential' || d.batch.min !== 1 || d.batch.max !== 1)
            w.problemAt(
              pp('trace.row'),
              'trace `row` needs data with order: sequential and batch: 1',
              undefined,
              'key',
            );
        }
        return { ...single, type, trace };
      }
    }
  })();
  return ok ? result : undefined;
}

const PROFILE_HINTS: Record<ProfileType, string> = {
  load: 'e.g. profile: { type: load, rate: 200/s, steps: 4, stepDuration: 30s, hold: 2m }',
  stress: 'e.g. profile: { type: stress, startRate: 50/s, rateStep: 50/s, maxRate: 1000/s, stepDuration: 30s }',
  soak: 'e.g. profile: { type: soak, rate: 100/s, duration: 2h, memory: { url: http://127.0.0.1:8000/metrics } }',
  spike: 'e.g. profile: { type: spike, rate: 50/s, factor: 10, before: 30s, spike: 10s, after: 60s }',
  burst: 'e.g. profile: { type: burst, rate: 100/s, burstiness: 4, duration: 60s }',
  sweep: 'e.g. profile: { type: sweep, levels: { from: 25/s, to: 400/s, factor: 2 } }',
  capacity: 'e.g. profile: { type: capacity, startRate: 50/s, maxRate: 5000/s, precision: 5% }',
  rollout:
    'e.g. profile: { type: rollout, rate: 100/s, duration: 3m, at: 60s, run: "kubectl rollout restart deployment/model" }',
  replay: 'e.g. profile: { type: replay, trace: { file: trace.csv, time: timestamp, unit: s }, speed: 1 }',
  autoscale:
    'e.g. profile: { type: autoscale, rate: 20/s, peakRate: 200/s, before: 30s, hold: 3m, after: 6m } with monitor: { scrape: [http://127.0.0.1:8000/metrics], preset: preflight }',
  resilience:
    'e.g. profile: { type: resilience, rate: 50/s, duration: 2m } with faults: { timeline: [ { at: 30s, for: 20s, fault: { latency: 200ms } } ] }',
};
