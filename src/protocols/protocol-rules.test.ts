import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreflightError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
import { validatePlan } from '../plan/index.js';
import type { ScenarioPlan } from '../plan/types.js';
import { createAdapter } from './index.js';
import { testPlan } from './testing/helpers.js';

// Nothing is sent: createAdapter rejects before any adapter (or data) is built.
const URL = 'http://127.0.0.1:1';
const shard1 = { shard: { index: 0, count: 1 }, seed: 1 };

async function rejection(scenario: Partial<ScenarioPlan> & Pick<ScenarioPlan, 'protocol'>): Promise<Problem[]> {
  const plan = testPlan(URL, scenario);
  try {
    await createAdapter(plan.scenarios[0], plan, shard1);
  } catch (e) {
    assert.ok(e instanceof PreflightError && e.code === 'E_PLAN_INVALID', String(e));
    return e.problems;
  }
  assert.fail(`createAdapter accepted ${JSON.stringify(scenario)}`);
}

function fileProblems(scenario: string): Problem[] {
  const text = `target: { url: ${URL} }\nscenarios:\n  test: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, ${scenario} }\n`;
  return validatePlan(text, { env: {} }).problems;
}

test('a protocol rule has one text: a plan built in code meets the rule a plan file is told at line:column', async () => {
  const cases: Array<[Partial<ScenarioPlan> & Pick<ScenarioPlan, 'protocol'>, string, RegExp]> = [
    [
      { protocol: 'kserve-v2', synthetic: { distribution: 'uniform', batch: 1 } },
      'protocol: kserve-v2, synthetic: {}',
      /needs `model`/,
    ],
    [
      { protocol: 'tfserving', model: 'm' },
      'protocol: tfserving, model: m',
      /needs `data`, `synthetic` or a fixed `request.body`/,
    ],
    [
      {
        protocol: 'torchserve',
        model: 'm',
        synthetic: { distribution: 'uniform', batch: 1 },
        request: { method: 'POST', path: '/', headers: {}, body: '{}' },
      },
      'protocol: torchserve, model: m, synthetic: {}',
      /`synthetic` needs model metadata/,
    ],
    // before: silently sent request.body instead of the raw bytes it was asked for
    [
      {
        protocol: 'torchserve',
        model: 'm',
        torchserve: { payload: 'raw', column: 'c' },
        request: { method: 'POST', path: '/', headers: {}, body: 'x' },
      },
      'protocol: torchserve, model: m, request: { body: x }, torchserve: { payload: raw, column: c }',
      /payload raw reads its bytes from `data`/,
    ],
    [
      { protocol: 'openai', request: { method: 'POST', path: '/', headers: {}, body: '[1]' } },
      'protocol: openai, model: m, request: { json: [1] }',
      /must be a JSON object/,
    ],
    [{ protocol: 'openai' }, 'protocol: openai', /\(protocol openai\) needs `model`/],
    // before: told only by the offline check, without a position
    [
      { protocol: 'openai', model: 'm', checks: [{ expression: 'status == 200' }] },
      "protocol: openai, model: m, checks: ['status == 200']",
      /checks are not available for protocol openai/,
    ],
  ];
  for (const [scenario, yaml, message] of cases) {
    const inCode = (await rejection(scenario)).find((p) => message.test(p.message));
    const inFile = fileProblems(yaml).find((p) => message.test(p.message));
    assert.ok(inCode, `${JSON.stringify(scenario)}: no problem like ${message}`);
    assert.ok(inFile, `${yaml}: no problem like ${message}`);
    assert.equal(inCode.message, inFile.message);
    assert.equal(inCode.hint, inFile.hint);
    assert.equal(inFile.line, 3, yaml);
    assert.equal(inCode.path?.startsWith('scenarios.test'), true);
  }
});

test('a scenario of a traffic mix needs no model of its own', async () => {
  const plan = testPlan(URL, {
    protocol: 'kserve-v2',
    mix: { models: [{ name: 'a', weight: 1 }] },
    request: { method: 'POST', path: '/', headers: {}, body: '{"inputs":[]}' },
  });
  const a = await createAdapter(plan.scenarios[0], plan, shard1);
  assert.match(a.request(0).path, /\/v2\/models\/a\/infer$/);
});
