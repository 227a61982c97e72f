/**
 * Profile plans: the syntax (validation with line:column and hints, defaults), the expansion into
 * scenarios, time scaling, and that every example plan in examples/ is valid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPlanFile, parsePlan, planJsonSchema, validatePlan } from '../plan/index.js';
import { splitCommand, geometricLevels } from '../plan/profile.js';
import type { Plan, PlanOf, ProfileType } from '../plan/types.js';
import { scaleProfile, stepPlan } from './expand.js';
import { expand, expandBurst, expandLoad, expandSpike, stressRates } from './kinds/index.js';

const HEAD = `target: { url: http://127.0.0.1:8000 }\n`;
const TEMPLATE = `scenario: { request: { method: GET, path: /health } }\n`;
const problems = (text: string) => validatePlan(text, { file: 'p.yaml' }).problems;
/** The plan, its profile narrowed to the kind it must be. */
const as = <T extends ProfileType>(type: T, plan: Plan): PlanOf<T> => {
  assert.equal(plan.profile?.type, type);
  return plan as PlanOf<T>;
};

test('a profile plan resolves: template, defaults per type, thresholds kept unscoped', () => {
  const plan = parsePlan(`${HEAD}profile: { type: stress, maxRate: 1000/s }\n${TEMPLATE}thresholds: [ p99 < 100ms ]\n`);
  assert.deepEqual(plan.scenarios, []);
  const p = as('stress', plan).profile;
  assert.equal(p.type, 'stress');
  assert.equal(p.template.request?.path, '/health');
  assert.equal(p.rateStep, 100);
  assert.equal(p.startRate, 100);
  assert.equal(p.stepDurationMs, 30_000);
  assert.equal(p.stopAfter, 2);
  assert.equal(p.errorLimit, 0.05);
  assert.equal(plan.thresholds[0].scenario, undefined);
  const soak = as(
    'soak',
    parsePlan(
      `${HEAD}profile: { type: soak, rate: 50/s, duration: 2h, memory: { url: http://127.0.0.1:8000/metrics } }\n${TEMPLATE}`,
    ),
  ).profile;
  assert.equal(soak.warmupMs, 300_000);
  assert.equal(soak.minChange, 0.1);
  assert.deepEqual(soak.memory, { metric: 'process_resident_memory_bytes', url: 'http://127.0.0.1:8000/metrics' });
  const sweep = as(
    'sweep',
    parsePlan(`${HEAD}profile: { type: sweep, levels: { from: 10/s, to: 160/s } }\n${TEMPLATE}`),
  ).profile;
  assert.deepEqual(sweep.levels, { mode: 'rate', values: [10, 20, 40, 80, 160] });
  assert.deepEqual(sweep.steady, { windowMs: 5000, tolerance: 0.1, windows: 3, maxStepMs: 60_000 });
  const conc = as(
    'sweep',
    parsePlan(`${HEAD}profile: { type: sweep, levels: [1, 2, 4], steady: { tolerance: 5% } }\n${TEMPLATE}`),
  ).profile;
  assert.deepEqual(conc.levels, { mode: 'concurrency', values: [1, 2, 4] });
  assert.equal(conc.steady.tolerance, 0.05);
  const cap = as(
    'capacity',
    parsePlan(
      `${HEAD}profile: { type: capacity, maxRate: 5k/s, precision: 20/s }\n${TEMPLATE}thresholds: [ p99 < 50ms ]\n`,
    ),
  ).profile;
  assert.deepEqual(cap.precision, { absolute: 20 });
  assert.equal(cap.minThroughput, 0.95);
});

test('keys of another profile type, missing keys and exclusive keys are problems with hints', () => {
  const ps = problems(`${HEAD}profile:\n  type: spike\n  rate: 10/s\n  hold: 60s\n  rateStep: 5/s\n${TEMPLATE}`);
  const hold = ps.find((p) => p.path === 'profile.hold')!;
  assert.equal(hold.line, 5);
  assert.match(hold.message, /`hold` does not apply to profile type spike/);
  assert.match(hold.hint!, /`hold` is for load/);
  assert.ok(ps.some((p) => p.path === 'profile.rateStep'));
  const missing = problems(`${HEAD}profile: { type: capacity }\n${TEMPLATE}thresholds: [ p99 < 1s ]\n`);
  assert.match(missing[0].message, /profile type capacity needs `maxRate`/);
  assert.match(missing[0].hint!, /e\.g\. profile: \{ type: capacity/);
  const both = problems(`${HEAD}profile: { type: soak, rate: 10/s, concurrency: 4, duration: 1h }\n${TEMPLATE}`);
  assert.match(both[0].message, /give `rate` or `concurrency`, not both/);
  const typo = problems(`${HEAD}profile: { type: stres, maxRate: 10/s }\n${TEMPLATE}`);
  assert.match(typo[0].hint!, /stress/);
});

test('profile plans: scenario vs scenarios, template load keys, scoped thresholds, SLO required', () => {
  assert.match(
    problems(
      `${HEAD}profile: { type: load, rate: 10/s }\nscenarios: { a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } } }\n${TEMPLATE}thresholds: [ p99 < 1s ]\n`,
    )[0].message,
    /takes a `scenario:` template, not `scenarios:`/,
  );
  assert.match(
    problems(`${HEAD}profile: { type: load, rate: 10/s }\nthresholds: [ p99 < 1s ]\n`)[0].message,
    /needs a `scenario:` template/,
  );
  assert.match(problems(`${HEAD}${TEMPLATE}`)[0].message, /template of a profile/);
  assert.match(problems(HEAD)[0].message, /missing `scenarios`/);
  const load = problems(
    `${HEAD}profile: { type: load, rate: 10/s }\nscenario:\n  rate: 5/s\n  request: { path: / }\nthresholds: [ p99 < 1s ]\n`,
  );
  assert.equal(load[0].line, 4);
  assert.match(load[0].message, /unknown key `rate` in scenario template/);
  assert.match(load[0].hint!, /the profile sets the load/);
  const scoped = problems(`${HEAD}profile: { type: load, rate: 10/s }\n${TEMPLATE}thresholds: [ load.p99 < 1s ]\n`);
  assert.match(scoped[0].message, /thresholds apply to each step or phase/);
  assert.match(
    problems(`${HEAD}profile: { type: capacity, maxRate: 100/s }\n${TEMPLATE}`)[0].message,
    /needs thresholds: it searches for the highest rate/,
  );
  assert.match(problems(`${HEAD}profile: { type: load, rate: 100/s }\n${TEMPLATE}`)[0].message, /needs thresholds/);
});

test('rollout actions: commands split without a shell; HTTP calls only to the target host', () => {
  assert.deepEqual(splitCommand(`kubectl rollout restart "deploy/my model" --namespace='a b' x\\ y`), {
    ok: true,
    argv: ['kubectl', 'rollout', 'restart', 'deploy/my model', '--namespace=a b', 'x y'],
  });
  assert.equal(splitCommand('echo "unterminated').ok, false);
  const run = as(
    'rollout',
    parsePlan(
      `${HEAD}profile: { type: rollout, rate: 10/s, duration: 30s, run: "kubectl rollout restart deployment/m" }\n${TEMPLATE}`,
    ),
  ).profile;
  assert.deepEqual(run.action, {
    kind: 'run',
    argv: ['kubectl', 'rollout', 'restart', 'deployment/m'],
    shell: false,
    display: 'kubectl rollout restart deployment/m',
  });
  assert.equal(run.atMs, 10_000);
  assert.equal(run.actionTimeoutMs, 20_000);
  const sh = as(
    'rollout',
    parsePlan(
      `${HEAD}profile: { type: rollout, rate: 10/s, duration: 30s, at: 5s, shell: true, run: "a && b" }\n${TEMPLATE}`,
    ),
  ).profile;
  assert.deepEqual(sh.action, { kind: 'run', argv: ['/bin/sh', '-c', 'a && b'], shell: true, display: 'a && b' });
  const http = as(
    'rollout',
    parsePlan(
      `${HEAD}profile: { type: rollout, rate: 10/s, duration: 30s, http: { url: /admin/version, json: { version: v2 } } }\n${TEMPLATE}`,
    ),
  ).profile;
  assert.deepEqual(http.action, {
    kind: 'http',
    method: 'POST',
    url: 'http://127.0.0.1:8000/admin/version',
    headers: { 'content-type': 'application/json' },
    display: 'POST /admin/version',
    body: '{"version":"v2"}',
  });
  const other = problems(
    `${HEAD}profile: { type: rollout, rate: 10/s, duration: 30s, http: { url: "http://example.com/deploy" } }\n${TEMPLATE}`,
  );
  assert.match(other[0].message, /may only call the target's host \(127\.0\.0\.1\)/);
  assert.match(
    problems(`${HEAD}profile: { type: rollout, rate: 10/s, duration: 30s }\n${TEMPLATE}`)[0].message,
    /needs `run` or `http`/,
  );
});

test('gamma arrivals and the replay executor in plain scenarios', () => {
  const plan = parsePlan(
    `${HEAD}scenarios:\n  b: { executor: constant-arrival-rate, rate: 10/s, duration: 5s, burstiness: 3, request: { path: / } }\n`,
  );
  assert.equal(plan.scenarios[0].arrival, 'gamma');
  assert.equal(plan.scenarios[0].burstiness, 3);
  const bad = problems(
    `${HEAD}scenarios:\n  b: { executor: constant-arrival-rate, rate: 10/s, duration: 5s, arrival: poisson, burstiness: 3, request: { path: / } }\n`,
  );
  assert.match(bad[0].message, /`burstiness` is for arrival: gamma/);
  const here = path.dirname(fileURLToPath(import.meta.url));
  const examples = path.join(here, '..', '..', '..', 'examples');
  const r = parsePlan(
    `${HEAD}scenarios:\n  r: { executor: replay, trace: { file: data/trace.csv }, speed: 2, request: { path: / } }\n`,
    { baseDir: examples },
  );
  const rs = r.scenarios[0];
  assert.ok(rs.executor === 'replay');
  assert.deepEqual(rs.trace, {
    file: path.join(examples, 'data', 'trace.csv'),
    format: 'csv',
    time: 'timestamp',
    unit: 's',
    speed: 2,
  });
  assert.match(
    problems(`${HEAD}scenarios:\n  r: { executor: replay, request: { path: / } }\n`)[0].message,
    /needs `trace`/,
  );
  assert.match(
    problems(
      `${HEAD}scenarios:\n  r: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, speed: 2, request: { path: / } }\n`,
    )[0].message,
    /`speed` does not apply/,
  );
});

test('expansions: load steps, stress rates, spike phases, burst phases, sweep steps', () => {
  const base = (profile: string, th = 'thresholds: [ p99 < 100ms ]\n') =>
    parsePlan(`${HEAD}profile: ${profile}\n${TEMPLATE}${th}`);
  const load = expandLoad(as('load', base('{ type: load, rate: 200/s, steps: 4, stepDuration: 10s, hold: 30s }')));
  assert.deepEqual(
    load.plan.scenarios.map((s) => [s.name, 'rate' in s ? s.rate : undefined, s.startTimeMs, s.durationMs]),
    [
      ['step-1', 50, 0, 10_000],
      ['step-2', 100, 10_000, 10_000],
      ['step-3', 150, 20_000, 10_000],
      ['step-4', 200, 30_000, 30_000],
    ],
  );
  assert.deepEqual(
    load.plan.thresholds.map((t) => [t.scenario, t.expression]),
    [
      ['step-1', 'step-1.p99 < 100ms'],
      ['step-2', 'step-2.p99 < 100ms'],
      ['step-3', 'step-3.p99 < 100ms'],
      ['step-4', 'step-4.p99 < 100ms'],
    ],
  );
  assert.equal(load.plan.profile, undefined, 'the expanded plan is an ordinary plan');
  assert.equal(load.plan.scenarios[0].request?.path, '/health');
  assert.deepEqual(
    stressRates(as('stress', base('{ type: stress, startRate: 100/s, rateStep: 300/s, maxRate: 1000/s }')).profile),
    [100, 400, 700, 1000],
  );
  assert.deepEqual(
    stressRates(as('stress', base('{ type: stress, startRate: 100/s, factor: 2, maxRate: 1000/s }')).profile),
    [100, 200, 400, 800, 1000],
  );
  assert.deepEqual(
    stressRates(
      as(
        'stress',
        base(
          '{ type: stress, startRate: 100/s, rateStep: 100/s, maxRate: 1000/s, stepDuration: 10s, maxDuration: 35s }',
        ),
      ).profile,
    ),
    [100, 200, 300],
  );
  const spike = expandSpike(
    as('spike', base('{ type: spike, rate: 20/s, factor: 10, before: 10s, spike: 5s, after: 20s }')),
  );
  assert.deepEqual(spike.phases, [
    { name: 'before', startS: 0, endS: 10, rate: 20 },
    { name: 'spike', startS: 10, endS: 15, rate: 200 },
    { name: 'after', startS: 15, endS: 35, rate: 20 },
  ]);
  assert.equal(spike.plan.scenarios[1].gracefulStopMs, 20_000, 'spike requests may finish during the after phase');
  assert.deepEqual(
    spike.plan.thresholds.map((t) => t.scenario),
    ['before'],
  );
  const burst = expandBurst(as('burst', base('{ type: burst, rate: 100/s, burstiness: 3, duration: 20s }')));
  assert.deepEqual(
    burst.plan.scenarios.map((s) => [s.name, s.arrival, 'burstiness' in s ? s.burstiness : undefined, s.startTimeMs]),
    [
      ['warmup', 'uniform', undefined, 0],
      ['smooth', 'uniform', undefined, 4000],
      ['bursty', 'gamma', 3, 24_000],
    ],
  );
  const sweep = as('sweep', base('{ type: sweep, levels: [1, 2] }', ''));
  const sp = stepPlan(sweep, 'step-2', { mode: 'concurrency', value: 2 }, 60_000);
  const sp0 = sp.scenarios[0];
  assert.ok(sp0.executor === 'constant-concurrency');
  assert.deepEqual([sp0.executor, sp0.concurrency, sp0.durationMs], ['constant-concurrency', 2, 60_000]);
  assert.throws(() => expand(sweep), /not a single-run profile/);
  assert.deepEqual(geometricLevels(1, 64, { steps: 7 }, true), [1, 2, 4, 8, 16, 32, 64]);
});

test('--time-scale shortens every duration of a profile (and the interval), not its rates', () => {
  const plan = parsePlan(
    `${HEAD}profile: { type: spike, rate: 20/s, before: 30s, spike: 10s, after: 60s }\n${TEMPLATE}`,
  );
  const s = scaleProfile(plan, 0.1);
  const sp = as('spike', s).profile;
  assert.deepEqual([sp.beforeMs, sp.spikeMs, sp.afterMs, sp.rate, s.options.intervalMs], [3000, 1000, 6000, 20, 100]);
  assert.equal(as('spike', plan).profile.beforeMs, 30_000, 'the original is unchanged');
  const monitored = parsePlan(
    `${HEAD}profile: { type: spike, rate: 20/s, before: 30s, spike: 10s, after: 60s }\n${TEMPLATE}monitor: { scrape: [ http://127.0.0.1:9/metrics ], preset: triton }\n`,
  );
  assert.equal(scaleProfile(monitored, 0.1).monitor!.intervalMs, 100, 'the target is read every scaled window');
});

test('the example profile plans are valid, and the JSON Schema accepts profile plans', async () => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = path.join(here, '..', '..', '..', 'examples');
  const types = new Set<string>();
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
    const r = await checkPlanFile(path.join(dir, f));
    if (!r.plan?.profile) continue;
    assert.deepEqual(r.problems, [], f);
    types.add(r.plan.profile.type);
  }
  assert.deepEqual([...types].sort(), [
    'autoscale',
    'burst',
    'capacity',
    'load',
    'replay',
    'resilience',
    'rollout',
    'soak',
    'spike',
    'stress',
    'sweep',
  ]);
  const schema = JSON.stringify(planJsonSchema());
  for (const k of ['"profile"', '"scenario"', '"stopAfter"', '"burstiness"', '"gamma"', '"replay"'])
    assert.ok(schema.includes(k), k);
});
