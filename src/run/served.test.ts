/**
 * A run that served nothing cannot pass (issue 10, item 2): nothingServed and the verdict's precedence;
 * error_rate, ok_throughput and error_reasons of a scenario summary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../core/exit-codes.js';
import type { ScenarioSummary } from '../core/results.js';
import { Accumulator } from '../metrics/index.js';
import { redact } from '../plan/index.js';
import { combineReasons, scenarioSummary } from './summary.js';
import { parseThresholdExpression } from '../plan/thresholds.js';
import { decideOutcome, evaluateThresholds, nothingServed } from '../verdict/index.js';

function acc(counters: Record<string, number>, windowMs = 2000): Accumulator {
  const a = new Accumulator();
  Object.assign(a.counters, counters);
  a.windowMs = windowMs;
  return a;
}

const sc = (counters: Record<string, number>, extra: Parameters<typeof scenarioSummary>[3] = {}): ScenarioSummary =>
  scenarioSummary(acc(counters), 'constant-arrival-rate', 'http', { activeMs: 2000, ...extra });

test('error_rate counts requests cancelled at the stop as failed; throughput counts completed, ok_throughput served', () => {
  const s = sc({ requests: 90, ok: 80, 'err.http_5xx': 10 }, { cancelled: 10 });
  assert.equal(s.error_rate, 0.2, '(10 failed + 10 cancelled) / (90 + 10)');
  assert.equal(s.throughput, 45);
  assert.equal(s.ok_throughput, 40);
  const none = sc({}, { cancelled: 7 });
  assert.equal(none.requests, 0);
  assert.equal(none.error_rate, 1, 'nothing completed, everything cancelled: 100% failed, not 0%');
  assert.equal(sc({}).error_rate, 0, 'nothing attempted: no failure');
});

test('nothingServed names each scenario with attempts and no success; the verdict is invalid (4), after failed and interrupted', () => {
  const scenarios = {
    down: sc({ requests: 20, ok: 0, 'err.connection_refused': 20 }),
    stuck: sc({}, { cancelled: 5 }),
    fine: sc({ requests: 20, ok: 19, 'err.http_5xx': 1 }),
    idle: sc({}),
  };
  const reasons = nothingServed({ scenarios });
  assert.equal(reasons.length, 2, reasons.join(' | '));
  assert.match(
    reasons[0],
    /^no_request_succeeded: scenario down: not one of its 20 requests succeeded \(20 failed \(connection_refused 20\)\)/,
  );
  assert.match(
    reasons[1],
    /scenario stuck: not one of its 5 requests succeeded \(5 never completed and were cancelled at the stop\)/,
  );
  assert.deepEqual(nothingServed({ scenarios: { fine: scenarios.fine, idle: scenarios.idle } }), []);
  const of = (
    thresholds: Array<{ expression: string; value: number | null; ok: boolean }>,
    status: 'completed' | 'interrupted' = 'completed',
  ) => ({ status, thresholds, scenarios });
  const v = decideOutcome(of([]));
  assert.equal(v.verdict, 'invalid');
  assert.equal(v.exitCode, ExitCode.RunInvalid);
  assert.deepEqual(v.reasons, reasons);
  assert.equal(decideOutcome(of([{ expression: 'p99 < 1s', value: null, ok: false }])).verdict, 'failed');
  assert.equal(decideOutcome(of([], 'interrupted')).verdict, 'interrupted');
  assert.equal(
    decideOutcome({ status: 'completed', thresholds: [], scenarios: { fine: scenarios.fine, idle: scenarios.idle } })
      .verdict,
    'passed',
  );
});

test('combineReasons: at most 3 distinct per class across shards, secrets redacted before the cut', () => {
  const secret = 'tok-0123456789';
  const long = `${'a'.repeat(190)} ${secret} ${'b'.repeat(500)}`;
  const out = combineReasons(
    [
      { timeout: ['t1', 't2'], other: [long] },
      { timeout: ['t2', 't3', 't4'], tls: [`bad cert for ${secret}`] },
    ],
    (m) => redact(m, [secret]),
  );
  assert.deepEqual(out.timeout, ['t1', 't2', 't3']);
  assert.deepEqual(out.tls, ['bad cert for ***']);
  assert.equal(out.other[0].length, 200);
  assert.ok(!JSON.stringify(out).includes('tok-'), JSON.stringify(out));
});

test('ok_throughput is a threshold metric (rate), measured from the summary', () => {
  const r = parseThresholdExpression('ok_throughput >= 30/s');
  assert.ok(r.ok, JSON.stringify(r));
  const s = sc({ requests: 90, ok: 40, 'err.connection_refused': 50 });
  const [res] = evaluateThresholds([{ ...r.threshold, abortOnFail: false, delayAbortEvalMs: 0 }], {
    total: s,
    scenarios: { s },
  });
  assert.equal(res.value, 20);
  assert.equal(res.ok, false, 'throughput is 45/s, but only 20/s were served');
});
