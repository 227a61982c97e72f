/** The run side of a comparison before load: the requests each variant is planned to get. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlan } from '../plan/index.js';
import { plannedPerVariant } from './comparison.js';

const plan = (load: string, comparison: string) =>
  parsePlan(`
target: { url: http://127.0.0.1:9 }
scenarios:
  s:
    ${load}
    protocol: kserve-v2
    model: digits
    synthetic: { distribution: uniform }
comparison:
${comparison}
`);

test('planned requests per variant: the arrivals times the share; a shadow’s variants get all; concurrency: unknown', () => {
  const rate = 'executor: constant-arrival-rate\n    rate: 100/s\n    duration: 30s';
  assert.deepEqual(
    plannedPerVariant(plan(rate, '  kind: ab\n  variants: [ { name: a }, { name: b, weight: 3 } ]'))?.map(
      (v) => v.requests,
    ),
    [750, 2250],
  );
  assert.deepEqual(
    plannedPerVariant(plan(rate, '  kind: shadow\n  variants: [ { name: p }, { name: s }, { name: c } ]'))?.map(
      (v) => v.requests,
    ),
    [3000, 3000, 3000],
  );
  const steps = plan(
    rate,
    '  kind: canary\n  variants: [ { name: a }, { name: b } ]\n  canary: { steps: [ { share: 10%, duration: 10s }, { share: 50%, duration: 20s } ] }',
  );
  assert.deepEqual(
    plannedPerVariant(steps)?.map((v) => v.requests),
    [1900, 1100],
    '10% of 1,000 + 50% of 2,000 on the candidate',
  );
  const closed = plan(
    'executor: constant-concurrency\n    concurrency: 4\n    duration: 10s',
    '  kind: ab\n  variants: [ { name: a }, { name: b } ]',
  );
  assert.equal(plannedPerVariant(closed), null);
});
