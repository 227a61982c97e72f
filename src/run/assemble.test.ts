/**
 * The run's warnings are built in one function (runWarnings) from the summary and what happened:
 * every kind in its fixed order, none for an interrupted run's cancellations or empty scenarios.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Summary } from '../core/results.js';
import { Accumulator } from '../metrics/index.js';
import { parsePlan } from '../plan/index.js';
import { runWarnings } from './assemble.js';
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
