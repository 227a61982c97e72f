import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan, scalePlan } from './index.js';
import type { ExecutorPlan, Plan, ScenarioPlan } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'pf-executors-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'trace.csv'), 'timestamp,row\n0,0\n0.5,1\n1,2\n');
writeFileSync(join(dir, 'rows.csv'), 'a,b\n1,2\n3,4\n5,6\n');

const HEAD = 'target: { url: http://127.0.0.1:1 }\nscenarios:\n';
const REQ = 'request: { method: GET, path: / }';

/** Every executor, with and without its optional keys. */
const PLANS: Record<string, string> = {
  car: `${HEAD}  a: { executor: constant-arrival-rate, rate: 50/s, duration: 3s, ${REQ} }
  b: { executor: constant-arrival-rate, rate: 50/s, duration: 3s, maxRequests: 9, arrival: poisson, maxInFlight: 7, ${REQ} }
  c: { executor: constant-arrival-rate, rate: 50/s, duration: 3s, burstiness: 2, ${REQ}, after: a }
  d: { executor: constant-arrival-rate, rate: 50/s, duration: 3s, arrival: gamma, ${REQ}, startTime: 2s }
`,
  rar: `${HEAD}  a: { executor: ramping-arrival-rate, stages: [{duration: 1s, target: 10/s}, {duration: 2s, target: 5/s}], ${REQ} }
  b: { executor: ramping-arrival-rate, startRate: 3/s, stages: [{duration: 1s, target: 10/s}], maxInFlight: 4, arrival: gamma, burstiness: 3, maxRequests: 10, ${REQ} }
`,
  cc: `${HEAD}  a: { executor: constant-concurrency, concurrency: 3, duration: 2s, ${REQ} }
  b: { executor: constant-concurrency, vus: 3, duration: 2s, thinkTime: 5ms, maxRequests: 40, ${REQ}, after: a }
`,
  rc: `${HEAD}  a: { executor: ramping-concurrency, stages: [{duration: 1s, target: 4}, {duration: 1s, target: 0}], ${REQ} }
  b: { executor: ramping-concurrency, startConcurrency: 2, thinkTime: 1ms, maxRequests: 5, stages: [{duration: 1s, target: 4}], ${REQ} }
`,
  it: `${HEAD}  a: { executor: iterations, maxRequests: 10, concurrency: 2, ${REQ} }
  b: { executor: iterations, iterations: 10, vus: 2, duration: 5s, thinkTime: 2ms, after: a, startTime: 1s, ${REQ} }
`,
  rp: `${HEAD}  a: { executor: replay, trace: { file: ${dir}/trace.csv }, speed: 2, ${REQ} }
  b: { executor: replay, trace: { file: ${dir}/trace.csv, row: row, unit: s }, data: { file: ${dir}/rows.csv }, maxInFlight: 3, duration: 1s, maxRequests: 2, ${REQ} }
`,
};

/**
 * The resolved scenarios as plan.resolved.json held them before executor configs became a union
 * (written by that code): the union changes no value and no key order.
 */
const BEFORE: Record<string, string[]> = {
  car: [
    `{"name":"a","executor":"constant-arrival-rate","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"durationMs":3000,"rate":50,"request":{"method":"GET","path":"/","headers":{}}}`,
    `{"name":"b","executor":"constant-arrival-rate","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"poisson","checks":[],"tags":{},"durationMs":3000,"maxRequests":9,"rate":50,"maxInFlight":7,"request":{"method":"GET","path":"/","headers":{}}}`,
    `{"name":"c","executor":"constant-arrival-rate","protocol":"http","startTimeMs":3000,"gracefulStopMs":10000,"arrival":"gamma","checks":[],"tags":{},"durationMs":3000,"rate":50,"burstiness":2,"request":{"method":"GET","path":"/","headers":{}}}`,
    `{"name":"d","executor":"constant-arrival-rate","protocol":"http","startTimeMs":2000,"gracefulStopMs":10000,"arrival":"gamma","checks":[],"tags":{},"durationMs":3000,"rate":50,"request":{"method":"GET","path":"/","headers":{}}}`,
  ],
  rar: [
    `{"name":"a","executor":"ramping-arrival-rate","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"stages":[{"durationMs":1000,"target":10},{"durationMs":2000,"target":5}],"startRate":0,"durationMs":3000,"request":{"method":"GET","path":"/","headers":{}}}`,
    `{"name":"b","executor":"ramping-arrival-rate","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"gamma","checks":[],"tags":{},"maxRequests":10,"startRate":3,"maxInFlight":4,"burstiness":3,"stages":[{"durationMs":1000,"target":10}],"durationMs":1000,"request":{"method":"GET","path":"/","headers":{}}}`,
  ],
  cc: [
    `{"name":"a","executor":"constant-concurrency","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"durationMs":2000,"concurrency":3,"request":{"method":"GET","path":"/","headers":{}}}`,
    `{"name":"b","executor":"constant-concurrency","protocol":"http","startTimeMs":2000,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"durationMs":2000,"maxRequests":40,"concurrency":3,"thinkTimeMs":5,"request":{"method":"GET","path":"/","headers":{}}}`,
  ],
  rc: [
    `{"name":"a","executor":"ramping-concurrency","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"stages":[{"durationMs":1000,"target":4},{"durationMs":1000,"target":0}],"startConcurrency":0,"durationMs":2000,"request":{"method":"GET","path":"/","headers":{}}}`,
    `{"name":"b","executor":"ramping-concurrency","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"maxRequests":5,"startConcurrency":2,"thinkTimeMs":1,"stages":[{"durationMs":1000,"target":4}],"durationMs":1000,"request":{"method":"GET","path":"/","headers":{}}}`,
  ],
  it: [
    `{"name":"a","executor":"iterations","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"maxRequests":10,"concurrency":2,"request":{"method":"GET","path":"/","headers":{}}}`,
    `{"name":"b","executor":"iterations","protocol":"http","startTimeMs":1000,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"durationMs":5000,"after":"a","maxRequests":10,"concurrency":2,"thinkTimeMs":2,"request":{"method":"GET","path":"/","headers":{}}}`,
  ],
  rp: [
    `{"name":"a","executor":"replay","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"trace":{"file":"${dir}/trace.csv","format":"csv","time":"timestamp","unit":"s","speed":2},"request":{"method":"GET","path":"/","headers":{}}}`,
    `{"name":"b","executor":"replay","protocol":"http","startTimeMs":0,"gracefulStopMs":10000,"arrival":"uniform","checks":[],"tags":{},"durationMs":1000,"maxRequests":2,"maxInFlight":3,"trace":{"file":"${dir}/trace.csv","format":"csv","time":"timestamp","unit":"s","speed":1,"row":"row"},"request":{"method":"GET","path":"/","headers":{}},"data":{"file":"${dir}/rows.csv","format":"csv","order":"sequential","batch":{"min":1,"max":1}}}`,
  ],
};

test('each executor resolves to the same plan.resolved.json as before (values and key order)', () => {
  for (const [name, text] of Object.entries(PLANS)) {
    const plan = parsePlan(text, { env: {}, baseDir: dir });
    assert.deepEqual(
      plan.scenarios.map((s) => JSON.stringify(s)),
      BEFORE[name],
      name,
    );
  }
});

test("an executor's config has its own keys only; defaults are resolved where the plan is", () => {
  const plan = parsePlan(PLANS['rar'] + PLANS['rc'].slice(HEAD.length).replaceAll(/^ {2}(a|b):/gm, '  c$1:'), {
    env: {},
    baseDir: dir,
  });
  const [ra, , rc] = plan.scenarios;
  assert.ok(ra.executor === 'ramping-arrival-rate' && rc.executor === 'ramping-concurrency');
  assert.equal(ra.startRate, 0);
  assert.equal(rc.startConcurrency, 0);
  assert.equal(ra.durationMs, 3000, 'a ramping scenario lasts the sum of its stages');
  assert.ok(!('concurrency' in ra) && !('rate' in rc));
});

test('the compiler knows which keys an executor has', () => {
  const closed = parsePlan(PLANS['cc'], { env: {} }).scenarios[0];
  assert.ok(closed.executor === 'constant-concurrency');
  const c: ExecutorPlan<'constant-concurrency'> = closed;
  // @ts-expect-error a closed-model executor has no rate
  assert.equal(c.rate, undefined);
  const any: ScenarioPlan = c;
  // @ts-expect-error `stages` is only on the ramping executors: narrow first
  assert.equal(any.stages, undefined);
  assert.equal(c.concurrency, 3);
});

test('time-scale: a ramping scenario lasts the sum of its scaled (rounded) stages', () => {
  // 3 stages of 1001 ms × 0.5: each rounds to 501 → 1503 ms; the scaled sum would round to 1502.
  const text = `${HEAD}  r: { executor: ramping-concurrency, stages: [{duration: 1001ms, target: 2}, {duration: 1001ms, target: 2}, {duration: 1001ms, target: 0}], ${REQ} }\n`;
  const plan: Plan = scalePlan(parsePlan(text, { env: {} }), 0.5);
  const r = plan.scenarios[0];
  assert.ok(r.executor === 'ramping-concurrency');
  assert.deepEqual(
    r.stages.map((s) => s.durationMs),
    [501, 501, 501],
  );
  assert.equal(r.durationMs, 1503);
});
