import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan } from './index.js';

const base = `target: { url: http://127.0.0.1:1 }
scenarios:
  s: { executor: constant-arrival-rate, rate: 10/s, duration: 1s, request: { method: GET, path: / } }
`;

test('options.scaleOut: resolved only when set (other plans keep their plan.resolved.json shape)', () => {
  assert.equal(validatePlan(base, { env: {} }).plan!.options.scaleOut, undefined);
  const p = validatePlan(`${base}options: { scaleOut: { tolerateLoss: 25% } }\n`, { env: {} }).plan!;
  assert.deepEqual(p.options.scaleOut, { tolerateLoss: 0.25, maxClockSkewMs: 50 });
  const q = validatePlan(`${base}options: { scaleOut: { tolerateLoss: 0.1, maxClockSkew: 5ms } }\n`, { env: {} }).plan!;
  assert.deepEqual(q.options.scaleOut, { tolerateLoss: 0.1, maxClockSkewMs: 5 });
});

test('options.scaleOut: bad values are located problems with a hint', () => {
  const r = validatePlan(`${base}options: { scaleOut: { tolerateLoss: 2, maxClockSkew: 50, tolerate: 1 } }\n`, {
    file: 'plan.yaml',
    env: {},
  });
  assert.equal(r.ok, false);
  const text = r.problems.map((p) => `${p.line}:${p.path}: ${p.message} ${p.hint ?? ''}`).join('\n');
  assert.match(text, /4:options\.scaleOut\.tolerateLoss: a fraction is between 0 and 1/);
  assert.match(text, /options\.scaleOut\.maxClockSkew: .*no unit/);
  assert.match(text, /options\.scaleOut\.tolerate\b.*tolerateLoss/);
});
