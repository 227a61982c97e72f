import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeCanary } from './judge.js';
import { actionFailed, decideStep } from './rollout.js';
import { canaryPlan, input, latencies, variant } from './test-canary-data.js';

const good = input(variant('v1', latencies(800, 20, 11)), variant('v2', latencies(800, 20, 12)));
const slow = input(variant('v1', latencies(800, 20, 13)), variant('v2', latencies(800, 30, 14)));
const empty = input(variant('v1', []), variant('v2', []));

const shares = [0.05, 0.25, 0.5];
const steps = shares.map((share) => ({ share, durationMs: 1000 }));
const plan = canaryPlan({ steps });
const marginalPlan = canaryPlan({ steps, thresholds: { pass: 95, marginal: 40 } });

describe('progressive rollout: the step rules', () => {
  it('pass: the step action with the next share; after the last step, promote at 100%', () => {
    const j = judgeCanary(good, plan);
    assert.equal(j.verdict, 'pass');
    assert.deepEqual(decideStep(j, shares, 0), { kind: 'advance', action: 'step', share: 0.25 });
    assert.deepEqual(decideStep(j, shares, 1), { kind: 'advance', action: 'step', share: 0.5 });
    assert.deepEqual(decideStep(j, shares, 2), { kind: 'advance', action: 'promote', share: 1 });
  });

  it('fail: rollback at the step’s own share, and stop', () => {
    const j = judgeCanary(slow, plan);
    assert.equal(j.verdict, 'fail');
    assert.deepEqual(decideStep(j, shares, 1), { kind: 'stop', verdict: 'fail', action: 'rollback', share: 0.25 });
  });

  it('no data: inconclusive, rolled back', () => {
    const j = judgeCanary(empty, plan);
    assert.equal(j.verdict, 'inconclusive');
    assert.deepEqual(decideStep(j, shares, 0), {
      kind: 'stop',
      verdict: 'inconclusive',
      action: 'rollback',
      share: 0.05,
    });
  });

  it('marginal: an intermediate step goes on, the last one is neither promoted nor rolled back', () => {
    const j = judgeCanary(slow, marginalPlan);
    assert.equal(j.verdict, 'marginal');
    assert.deepEqual(decideStep(j, shares, 1), { kind: 'advance', action: 'step', share: 0.5 });
    assert.deepEqual(decideStep(j, shares, 2), { kind: 'hold' });
  });

  it('a failed step or promote action: a fail, rolled back at the step’s share', () => {
    assert.deepEqual(actionFailed(shares, 2), { kind: 'stop', verdict: 'fail', action: 'rollback', share: 0.5 });
  });
});
