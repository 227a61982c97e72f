import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlan, validatePlan } from './index.js';

const HEAD = `target: { url: http://127.0.0.1:8000 }\nscenarios:\n`;
const REQ = 'request: { path: / }';

test('after: a predecessor with a planned end → an ordinary start time (chains too); the offset is startTime', () => {
  const plan =
    parsePlan(`${HEAD}  warm: { executor: constant-arrival-rate, rate: 5/s, duration: 10s, startTime: 2s, ${REQ} }
  ramp: { executor: ramping-arrival-rate, after: warm, startTime: 1s, stages: [ { duration: 5s, target: 10/s }, { duration: 5s, target: 10/s } ], ${REQ} }
  last: { executor: constant-concurrency, concurrency: 2, duration: 3s, after: ramp, ${REQ} }
`);
  const [warm, ramp, last] = plan.scenarios;
  assert.equal(warm.startTimeMs, 2000);
  assert.equal(ramp.startTimeMs, 13_000, '2 s + 10 s + 1 s offset');
  assert.equal(last.startTimeMs, 23_000, 'its predecessor ends at 13 s + 10 s of stages');
  assert.equal(ramp.after, undefined);
  assert.equal(last.after, undefined);
});

test('after: a count-bounded predecessor (iterations, maxRequests) → decided at run time; so is what follows it', () => {
  const plan = parsePlan(`${HEAD}  light: { executor: iterations, maxRequests: 50, concurrency: 2, ${REQ} }
  capped: { executor: constant-arrival-rate, rate: 5/s, duration: 10s, maxRequests: 20, after: light, startTime: 500ms, ${REQ} }
  heavy: { executor: constant-arrival-rate, rate: 50/s, duration: 10s, after: capped, ${REQ} }
`);
  const [, capped, heavy] = plan.scenarios;
  assert.equal(capped.after, 'light');
  assert.equal(capped.startTimeMs, 500, 'the offset after light ends');
  assert.equal(heavy.after, 'capped', 'maxRequests may end capped before its duration');
  assert.equal(heavy.startTimeMs, 0);
});

test('after: unknown names (with a suggestion), itself, and circles are located errors', () => {
  const probs = (text: string) => validatePlan(`${HEAD}${text}`, { file: 'p.yaml' }).problems;
  const unknown = probs(
    `  light: { executor: iterations, maxRequests: 5, concurrency: 1, ${REQ} }\n  heavy: { executor: constant-arrival-rate, rate: 5/s, duration: 1s, after: lihgt, ${REQ} }\n`,
  );
  assert.equal(unknown.length, 1);
  assert.equal(unknown[0].path, 'scenarios.heavy.after');
  assert.match(unknown[0].message, /unknown scenario `lihgt`/);
  assert.match(unknown[0].hint ?? '', /light/);
  assert.equal(unknown[0].line, 4);
  const self = probs(`  a: { executor: iterations, maxRequests: 5, concurrency: 1, after: a, ${REQ} }\n`);
  assert.match(self[0].message, /cannot start after itself/);
  const circle = probs(
    `  a: { executor: iterations, maxRequests: 5, concurrency: 1, after: b, ${REQ} }\n  b: { executor: iterations, maxRequests: 5, concurrency: 1, after: a, ${REQ} }\n`,
  );
  assert.ok(
    circle.length >= 1 && circle.every((p) => /circle: (a → b → a|b → a → b)/.test(p.message)),
    JSON.stringify(circle),
  );
});
