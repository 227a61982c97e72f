/**
 * aimAtProxy: requests to the faulted target go to the proxy with the target's Host header; a
 * scenario on another target keeps its own URL and Host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlan } from '../plan/index.js';
import { aimAtProxy } from './faults-timeline.js';

test('the faulted target goes through the proxy with its Host; another target keeps its own', () => {
  const plan = parsePlan(`
target: { url: "http://127.0.0.1:9/base", headers: { x-a: "1" } }
scenarios:
  a: { executor: constant-arrival-rate, rate: 1/s, duration: 5s, request: { path: /x } }
  b: { executor: constant-arrival-rate, rate: 1/s, duration: 5s, request: { path: /x }, target: { url: "http://127.0.0.1:10" } }
  c: { executor: constant-arrival-rate, rate: 1/s, duration: 5s, request: { path: /x }, target: { url: "http://127.0.0.1:9/other" } }
faults:
  target: http://127.0.0.1:9
  timeline: [ { at: 1s, for: 1s, fault: { latency: 1ms } } ]
`);
  const p = aimAtProxy(plan, 'http://127.0.0.1:9', 'http://127.0.0.1:4000');
  assert.equal(p.target.url, 'http://127.0.0.1:4000/base');
  assert.deepEqual(p.target.headers, { 'x-a': '1', host: '127.0.0.1:9' });
  const sc = (n: string) => p.scenarios.find((s) => s.name === n)!;
  assert.equal(sc('a').target, plan.scenarios.find((s) => s.name === 'a')!.target);
  assert.equal(sc('b').target?.url, 'http://127.0.0.1:10');
  assert.equal(sc('b').target?.headers?.['host'], '127.0.0.1:10');
  assert.equal(sc('c').target?.url, 'http://127.0.0.1:4000/other');
  assert.equal(sc('c').target?.headers?.['host'], '127.0.0.1:9');
  assert.equal(plan.target.url, 'http://127.0.0.1:9/base', 'the plan itself is not changed');
});

test('a Host the plan sets is kept, however it is spelt (a virtual host behind an ingress)', () => {
  // Regression: only a lowercase `host` was seen; a plan built in code with `Host` got a second,
  // lowercase Host (the target's address) that won when the headers were merged.
  const plan = parsePlan(`
target: { url: "http://127.0.0.1:9/v1" }
scenarios:
  a: { executor: constant-arrival-rate, rate: 1/s, duration: 5s, request: { path: /x } }
  b: { executor: constant-arrival-rate, rate: 1/s, duration: 5s, request: { path: /x }, target: { url: "http://127.0.0.1:10" } }
faults:
  target: http://127.0.0.1:9
  timeline: [ { at: 1s, for: 1s, fault: { latency: 1ms } } ]
`);
  plan.target.headers = { Host: 'iris.default.example.com' };
  const p = aimAtProxy(plan, 'http://127.0.0.1:9', 'http://127.0.0.1:4000');
  assert.deepEqual(p.target.headers, { Host: 'iris.default.example.com' });
  const b = p.scenarios.find((s) => s.name === 'b')!;
  assert.equal(b.target?.headers?.['host'], undefined, 'the plan-wide Host is not replaced for another target');
});
