/**
 * The progress view model (ProgressTracker) built from merged window records alone: running totals,
 * the last window's figures, a stage executor's current stage, and waiting/running/done states.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IntervalRecord } from '../core/results.js';
import { parsePlan } from '../plan/index.js';
import { plannedEndMs, ProgressTracker } from './progress.js';

const PLAN = `target: { url: http://127.0.0.1:8000 }
options: { interval: 1s }
scenarios:
  ramp:
    executor: ramping-arrival-rate
    stages: [ { duration: 2s, target: 10/s }, { duration: 3s, target: 10/s } ]
    request: { method: GET, path: /a }
  later:
    executor: constant-arrival-rate
    rate: 5/s
    duration: 2s
    startTime: 4s
    request: { method: GET, path: /b }
`;

function rec(
  scenario: string,
  t: number,
  requests: number,
  ok: number,
  extra: Partial<IntervalRecord> = {},
): IntervalRecord {
  return {
    scenario,
    t,
    start_s: t,
    duration_s: 1,
    requests,
    ok,
    errors: {},
    throughput: requests,
    in_flight: 1,
    late: 0,
    latency_ms: { p50: 10, p90: 20, p99: 30, max: 40 },
    service_time_ms: null,
    counters: {},
    histograms_ms: {},
    hdr: {},
    ...extra,
  };
}

test('progress: totals over windows, last window figures, current stage, waiting → running → done', () => {
  const plan = parsePlan(PLAN);
  assert.deepEqual(plan.scenarios.map(plannedEndMs), [5000, 6000]);
  const spans = new Map<string, { startMs: number; endMs: number | null }>([['ramp', { startMs: 0, endMs: null }]]);
  const tracker = new ProgressTracker(plan, (n) => spans.get(n));
  tracker.add([rec('ramp', 0, 4, 3), rec('ramp', 0, 2, 2, { group: 'g' })]);
  tracker.add([rec('ramp', 1, 8, 8)]);
  const u = tracker.update(1);
  assert.equal(u.elapsedS, 2);
  assert.equal(u.plannedS, 6);
  const [ramp, later] = u.scenarios;
  // group records are not counted in the scenario's line
  assert.deepEqual([ramp.state, ramp.requests, ramp.errors, ramp.throughput, ramp.p99], ['running', 12, 1, 8, 30]);
  assert.deepEqual(ramp.stage, { index: 2, count: 2, remainingS: 3 });
  assert.equal(ramp.plannedS, 5);
  assert.equal(later.state, 'waiting');
  assert.equal(later.requests, 0);
  // a window with no record for the scenario: no throughput, no latency from an older window
  const u2 = tracker.update(2);
  assert.equal(u2.scenarios[0].throughput, 0);
  assert.equal(u2.scenarios[0].p99, undefined);
  // ended in every worker: done, no stage
  spans.set('ramp', { startMs: 0, endMs: 5000 });
  const done = tracker.update(5).scenarios[0];
  assert.equal(done.state, 'done');
  assert.equal(done.stage, undefined);
});
