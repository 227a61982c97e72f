/**
 * The run's warnings are built in one function (runWarnings) from the summary and what happened:
 * every kind in its fixed order, none for an interrupted run's cancellations or empty scenarios.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Summary } from '../core/results.js';
import { Accumulator } from '../metrics/index.js';
import { parsePlan } from '../plan/index.js';
import { assembleStepsSummary, profileWarnings, runWarnings, settleOutcome } from './assemble.js';
import { emptyHealth, scenarioSummary } from './summary.js';

const PLAN = `target: { url: https://127.0.0.1:8000, tls: { insecure: true } }
scenarios:
  open:
    executor: constant-arrival-rate
    rate: 10/s
    duration: 2s
    request: { method: GET, path: /a }
  users:
    executor: constant-concurrency
    concurrency: 2
    duration: 2s
    request: { method: GET, path: /b }
`;

function summaryOf(
  counters: Record<string, Record<string, number>>,
  extra: { unsent?: number; cancelled?: number } = {},
): Summary {
  const scenarios: Summary['scenarios'] = {};
  for (const [name, c] of Object.entries(counters)) {
    const a = new Accumulator();
    Object.assign(a.counters, c);
    scenarios[name] = scenarioSummary(a, 'constant-arrival-rate', 'http', {
      activeMs: 2000,
      ...(name === 'open' ? extra : {}),
    });
  }
  const generator = emptyHealth(1);
  generator.overloaded = true;
  generator.reasons.push('lag');
  return { generator, scenarios } as unknown as Summary;
}

test('runWarnings: timing, TLS, dead workers, abort, overload, then per scenario, then nothing served', () => {
  const plan = parsePlan(PLAN);
  const summary = summaryOf(
    { open: { requests: 100, ok: 100, late: 5 }, users: { requests: 4, ok: 0 } },
    { unsent: 3, cancelled: 2 },
  );
  const w = runWarnings(plan, summary, {
    status: 'aborted',
    shardFailures: ['worker 2 of 2 died mid-run (x)'],
    aborted: ['p99 < 1ms'],
  });
  const kinds = [
    /^users: closed workload/,
    /^TLS certificate verification was off/,
    /^worker 2 of 2 died mid-run/,
    /^aborted early: p99 < 1ms failed/,
    /^generator_overloaded: lag\./,
    /^open: 3 arrivals were due but never sent/,
    /^open: 5 requests \(100 completed, 2 cancelled at the stop\) were sent more than 10 ms/,
    /^open: 2 requests were still in flight when the run was aborted/,
    /^no_request_succeeded: scenario users/,
  ];
  assert.equal(w.length, kinds.length, w.join('\n'));
  kinds.forEach((k, i) => assert.match(w[i], k));
  // interrupted: cancellations and empty scenarios are the interruption's doing, not warnings
  const wi = runWarnings(plan, summary, { status: 'interrupted', shardFailures: [], aborted: [] });
  assert.ok(!wi.some((x) => /were still in flight|no_request_succeeded/.test(x)), wi.join('\n'));
});

test('assembleStepsSummary: a dead worker or stalls in any step count for the profile; settleOutcome decides (exit 4)', () => {
  const plan = parsePlan(PLAN);
  const step = (name: string, gen: Partial<Summary['generator']>, warnings: string[]): Summary => {
    const a = new Accumulator();
    Object.assign(a.counters, { requests: 10, ok: 10 });
    const sc = scenarioSummary(a, 'constant-arrival-rate', 'http', { activeMs: 1000 });
    return {
      status: 'completed',
      durationS: 1.5,
      warnings,
      generator: { ...emptyHealth(2), ...gen },
      scenarios: { [name]: sc },
      total: sc,
    } as unknown as Summary;
  };
  const s1 = step(
    'step-1',
    { worker_failures: ['worker 2 of 2 died mid-run'], windows_over_limit: { count: 1, of: 4, limit_ms: 5 } },
    ['worker 2 of 2 died mid-run', 'closed workload: one scenario'],
  );
  const s2 = step('step-2', { windows_over_limit: { count: 2, of: 6, limit_ms: 5 } }, []);
  const summary = assembleStepsSummary({
    plan,
    steps: [
      { name: 'step-1', summary: s1 },
      { name: 'step-2', summary: s2, unsteady: { maxStepMs: 2000, throughputSpread: 0.2, p99Spread: 0.5 } },
    ],
    total: s1.total,
    thresholds: [],
    interrupted: false,
  });
  assert.deepEqual(Object.keys(summary.scenarios), ['step-1', 'step-2']);
  assert.equal(summary.durationS, 3);
  assert.deepEqual(summary.generator.worker_failures, ['step-1: worker 2 of 2 died mid-run']);
  assert.deepEqual(summary.generator.windows_over_limit, { count: 3, of: 10, limit_ms: 5 });
  assert.equal(summary.warnings[0], 'step-1: worker 2 of 2 died mid-run');
  assert.match(summary.warnings[1], /^step-2 never stabilised within 2 s/);
  assert.equal(summary.warnings.length, 2, 'the closed-workload note of a step is left out');
  const outcome = settleOutcome(summary);
  assert.equal(outcome.exitCode, 4);
  assert.equal(summary.verdict, 'invalid');
  assert.equal(summary.exitCode, 4);
  // Interrupted wins, as for a run.
  const cut = assembleStepsSummary({ plan, steps: [], total: s1.total, thresholds: [], interrupted: true });
  assert.equal(settleOutcome(cut).exitCode, 130);
  assert.equal(cut.generator.worker_failures, undefined);
});

test("profileWarnings: a profile's own warnings, none when nothing went wrong", () => {
  assert.deepEqual(profileWarnings({}), []);
  assert.deepEqual(profileWarnings({ memoryUnsampled: { failures: 3, from: 'http://127.0.0.1:1/metrics' } }), [
    'target memory could not be sampled (3 failed samples from http://127.0.0.1:1/metrics)',
  ]);
});
