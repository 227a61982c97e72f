/**
 * The autoscale profile's plan keys and its analysis on replica series of known shape (the end-to-end
 * check against the reference server's scaling mode is test/autoscale-profile.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan } from '../plan/index.js';
import { autoscaleNumbers, type CountPoint } from './kinds/autoscale.js';
import { expand } from './kinds/index.js';

const problems = (text: string) =>
  validatePlan(text, { env: {} }).problems.map((p) => `${p.path ?? ''}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`);

const plan = (profile: string, rest = 'monitor: { scrape: [http://127.0.0.1:9/metrics] }\n') => `
target: { url: http://127.0.0.1:9 }
profile: { type: autoscale, ${profile} }
scenario: { request: { path: / } }
${rest}`;

test('autoscale plan: phases, the reference server’s replica metrics by default, answer thresholds', () => {
  const r = validatePlan(
    plan(
      'rate: 10/s, factor: 12, before: 3s, hold: 7s, after: 6s',
      'monitor: { scrape: [http://127.0.0.1:9/metrics] }\nthresholds: [ "p99 < 200ms", "autoscale.scale_up_s < 5s", "autoscale.flaps < 1", "target.replicas.max <= 2" ]\n',
    ),
    { env: {} },
  );
  assert.deepEqual(r.problems, []);
  const p = r.plan!;
  assert.equal(p.profile?.type, 'autoscale');
  const prof = p.profile as { peakRate: number; replicas: string; desired: string };
  assert.equal(prof.peakRate, 120);
  assert.deepEqual([prof.replicas, prof.desired], ['replicas', 'replicas_desired']);
  const names = p.monitor!.metrics.map((m) => `${m.name}=${m.selector?.metric}`);
  assert.deepEqual(names, [
    'replicas=preflight_server_instances',
    'replicas_desired=preflight_server_instances_desired',
  ]);
  const th = p.thresholds.find((t) => t.expression === 'autoscale.scale_up_s < 5s')!;
  assert.deepEqual([th.value, th.answer], [5, { profile: 'autoscale', field: 'scale_up_s' }]);
  const e = expand(p);
  assert.deepEqual(
    e.phases.map((x) => [x.name, x.startS, x.endS]),
    [
      ['before', 0, 3],
      ['peak', 3, 10],
      ['after', 10, 16],
    ],
  );
  assert.deepEqual(e.plan.thresholds, [], 'judged after the run');
});

test('autoscale plan: bad input is located, with a hint', () => {
  assert.match(
    problems(plan('rate: 10/s, peakRate: 100/s', '')).join('\n'),
    /profile.type: profile autoscale reads the replica count .* no `monitor:` section/,
  );
  assert.match(
    problems(plan('rate: 10/s, peakRate: 5/s')).join('\n'),
    /profile.peakRate: the step up \(5\/s\) is not above/,
  );
  assert.match(problems(plan('rate: 10/s')).join('\n'), /peakRate/);
  assert.match(
    problems(
      plan(
        'rate: 10/s, factor: 4, replicas: replica',
        'monitor: { scrape: [http://127.0.0.1:9/metrics], preset: kube-state-metrics }',
      ),
    ).join('\n'),
    /profile.replicas: .*`replica`.*did you mean `replicas`/,
  );
  assert.match(
    problems(
      plan(
        'rate: 10/s, factor: 4',
        'monitor: { scrape: [http://127.0.0.1:9/metrics] }\nthresholds: [ "autoscale.scale_upp_s < 5" ]',
      ),
    ).join('\n'),
    /unknown autoscale metric `autoscale.scale_upp_s`.*did you mean `autoscale.scale_up_s`/,
  );
  assert.match(
    problems(`
target: { url: http://127.0.0.1:9 }
profile: { type: spike, rate: 10/s }
scenario: { request: { path: / } }
thresholds: [ "autoscale.scale_up_s < 5" ]`).join('\n'),
    /is an answer of the autoscale profile, but this plan is a spike profile/,
  );
  assert.match(
    problems(
      plan(
        'rate: 10/s, factor: 4',
        'monitor: { scrape: [http://127.0.0.1:9/metrics] }\nthresholds:\n  - { threshold: autoscale.flaps < 1, abortOnFail: true }',
      ),
    ).join('\n'),
    /the autoscale answer is known after the run, so it cannot abort it/,
  );
});

/** A count per 0.5 s window from a step function of time (the reading mid-window). */
function series(at: (t: number) => number, endS: number, w = 0.5): CountPoint[] {
  const out: CountPoint[] = [];
  for (let s = 0; s < endS - 1e-9; s += w) out.push({ start_s: s, duration_s: w, value: at(s + w / 2) });
  return out;
}

test('autoscale analysis: known step times are found within a window', () => {
  // Step up at 10 s, decision at 13.2 s, ready at 15.1 s (1 → 3), step down at 30 s, down to 1 at 34.4 s.
  const desired = series((t) => (t >= 13.2 && t < 34.4 ? 3 : 1), 50);
  const ready = series((t) => (t >= 15.1 && t < 34.4 ? 3 : 1), 50);
  const slo = [1, 1, 1, 1, 0, 0].map((b) => ({ duration_s: 0.5, broken: b === 1 }));
  const n = autoscaleNumbers(ready, desired, { stepUpS: 10, stepDownS: 30, endS: 50 }, slo);
  const near = (x: number | null, truth: number) =>
    assert.ok(x !== null && Math.abs(x - truth) <= 0.5, `${x} vs ${truth}`);
  near(n.scale_up_s, 3.2);
  near(n.ready_s, 5.1);
  near(n.scale_down_s, 4.4);
  near(n.scaled_in_s, 4.4);
  // Two replicas above the baseline for 4.4 s.
  assert.ok(Math.abs(n.overprovision_replica_seconds! - 8.8) <= 1, String(n.overprovision_replica_seconds));
  assert.deepEqual([n.baseline_replicas, n.peak_replicas, n.slo_violation_s, n.slo_violation_windows], [1, 3, 2, 4]);
  assert.deepEqual([n.direction_changes, n.flaps], [1, 0]);
  assert.deepEqual(n.notes, {});
});

test('autoscale analysis: flapping, no scale-in, no desired series, no data', () => {
  // Up at 12, down at 16, up at 20, down at 24 (during the load), up at 26: four direction changes.
  const flappy = series((t) => ((t >= 12 && t < 16) || (t >= 20 && t < 24) || t >= 26 ? 2 : 1), 40);
  const n = autoscaleNumbers(flappy, [], { stepUpS: 10, stepDownS: 30, endS: 40 }, null);
  assert.deepEqual([n.direction_changes, n.flaps], [4, 3]);
  assert.equal(n.scale_up_s, 2, 'the ready series stands in for the desired one');
  assert.equal(n.scaled_in_s, null);
  assert.equal(n.scale_down_s, null);
  assert.match(n.notes['scaled_in_s']!, /not back/);
  assert.equal(n.overprovision_replica_seconds, 10, 'one replica over for the 10 s after the step down');
  assert.equal(n.slo_violation_s, null);
  const none = autoscaleNumbers(
    series(() => Number.NaN, 10).map((p) => ({ ...p, value: null })),
    [],
    { stepUpS: 2, stepDownS: 5, endS: 10 },
    null,
  );
  assert.deepEqual([none.baseline_replicas, none.scale_up_s, none.overprovision_replica_seconds], [null, null, null]);
  assert.match(none.notes['scale_up_s']!, /no replica count/);
});
