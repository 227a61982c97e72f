/**
 * A release comparison in the verdict: fail → exit 3; inconclusive → a warning and exit 0, or
 * exit 3 with `comparison.inconclusive: fail`; comparison thresholds read summary.comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComparisonSummary } from '../core/comparison.js';
import { abComparison } from '../core/test-comparison.js';
import { parseThresholdExpression } from '../plan/thresholds.js';
import type { ThresholdPlan } from '../plan/types.js';
import { comparisonWarnings, decideOutcome, evaluateThresholds } from './evaluate.js';

const base: ComparisonSummary = { ...abComparison(), verdict: 'pass' };
const summaryOf = (c: ComparisonSummary) => ({
  status: 'completed' as const,
  thresholds: [],
  scenarios: {},
  comparison: c,
});

test('fail → exit 3; inconclusive → exit 0 with a warning, or exit 3 when the plan says inconclusive: fail', () => {
  assert.equal(decideOutcome(summaryOf({ ...base, verdict: 'fail' })).exitCode, 3);
  assert.match(decideOutcome(summaryOf({ ...base, verdict: 'fail' })).reasons[0], /A\/B test of v2 against v1 failed/);
  const inc = { ...base, verdict: 'inconclusive' as const };
  assert.equal(decideOutcome(summaryOf(inc)).exitCode, 0);
  assert.match(comparisonWarnings(inc)[0], /inconclusive .*Not a "no difference"/);
  assert.equal(decideOutcome(summaryOf({ ...inc, inconclusive: 'fail' })).exitCode, 3);
  assert.deepEqual(comparisonWarnings({ ...inc, inconclusive: 'fail' }), []);
  assert.equal(decideOutcome(summaryOf({ ...base, verdict: 'marginal' })).exitCode, 0, 'an A/B has no marginal rule');
  // A canary as Argo's Job provider reads it: marginal 3 unless marginalPasses; no data 4.
  const canary = { ...base, kind: 'canary' as const };
  assert.equal(decideOutcome(summaryOf({ ...canary, verdict: 'marginal' })).exitCode, 3);
  assert.equal(decideOutcome(summaryOf({ ...canary, verdict: 'marginal', marginalPasses: true })).exitCode, 0);
  const none = decideOutcome(summaryOf({ ...canary, verdict: 'inconclusive', inconclusive: 'invalid' }));
  assert.equal(none.exitCode, 4);
  assert.equal(none.verdict, 'invalid');
  assert.equal(decideOutcome(summaryOf(base)).exitCode, 0);
});

function th(expr: string): ThresholdPlan {
  const r = parseThresholdExpression(expr);
  assert.ok(r.ok, expr);
  return { ...r.threshold, abortOnFail: false, delayAbortEvalMs: 0 };
}

test('comparison thresholds pass and fail on summary.comparison; missing values are no data, with a note', () => {
  const s = { total: {} as never, scenarios: {}, comparison: base };
  const r = evaluateThresholds(
    [
      th('comparison.verdict == pass'),
      th('comparison.verdict == fail'),
      th('ab.accuracy.diff > -0.5pp'),
      th('ab.accuracy.diff > -10pp'),
      th('ab.latency.p99.diff < 10ms'),
      th('ab.latency.p99.diff < 2ms'),
      th('ab.accuracy.p < 0.05'),
      th('ab.error_rate.diff < 1%'),
      th('canary.score >= 95'),
    ],
    s,
  );
  assert.deepEqual(
    r.map((x) => x.ok),
    [true, false, false, true, true, false, true, false, false],
  );
  assert.equal(r[6].value, 0.00002, 'p is the adjusted p-value');
  assert.match(r[7].note ?? '', /no test of error_rate/);
  assert.match(r[8].note ?? '', /kind ab/);
  const canary: ComparisonSummary = {
    ...base,
    kind: 'canary',
    ab: undefined,
    canary: {
      judge: 'kayenta',
      score: 87.5,
      thresholds: { pass: 95, marginal: 75 },
      classification: 'marginal',
      metrics: [],
      groups: {},
    },
  };
  const c = evaluateThresholds([th('canary.score >= 95'), th('canary.score >= 75')], { ...s, comparison: canary });
  assert.deepEqual(
    c.map((x) => [x.ok, x.value]),
    [
      [false, 87.5],
      [true, 87.5],
    ],
  );
  const shadow: ComparisonSummary = {
    ...base,
    kind: 'shadow',
    ab: undefined,
    shadow: { compared: 100, agreement: 0.93, fields: [] },
  };
  const sh = evaluateThresholds([th('shadow.agreement >= 0.99'), th('shadow.compared >= 100')], {
    ...s,
    comparison: shadow,
  });
  assert.deepEqual(
    sh.map((x) => x.ok),
    [false, true],
  );
  assert.equal(
    evaluateThresholds([th('comparison.verdict == pass')], { total: {} as never, scenarios: {} })[0].value,
    null,
  );
});
