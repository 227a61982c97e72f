import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan } from './index.js';
import { parseCheck } from './checks.js';

const problemsOf = (text: string, env: Record<string, string> = {}) =>
  validatePlan(text, { file: 'p.yaml', env }).problems;

test('checks are parsed at validation, in scenarios and in a profile template, located at line:column', () => {
  for (const ok of [
    'status == 200',
    'status in [200, 204]',
    '$.a[0] exists',
    '$.a not exists',
    '$.m == "digits"',
    "$['k'] >= 0.5",
    'body matches /^x/i',
    '$.xs contains 3',
  ]) {
    assert.equal(parseCheck(ok).ok, true, ok);
  }
  const ps = problemsOf(`target: { url: http://127.0.0.1:9 }
profile: { type: load, rate: 10/s }
scenario:
  request: { path: /x }
  checks: [ "status == 200", "status in [2000]", "$.a[x] == 1" ]
  quality: { prediction: { path: "$.out[" }, golden: { tolerance: 0 } }
thresholds: [ p99 < 1s ]
`);
  const at = (re: RegExp) => ps.find((p) => re.test(p.message));
  assert.equal(at(/check `status in \[2000\]`: .*3-digit/)?.line, 5);
  assert.equal(at(/check `\$\.a\[x\] == 1`: bad subscript/)?.line, 5);
  assert.ok(
    ps.some((p) => /unclosed "\[" in JSON path/.test(p.message) && p.line === 6),
    JSON.stringify(ps),
  );
});

test('absurd values are bounded with a hint; the largest sensible ones pass', () => {
  const plan = (
    rate: string,
    conc: number,
    stage: string,
    interval: string,
    workers: number,
  ) => `target: { url: http://127.0.0.1:9, connections: 10000 }
scenarios:
  a: { executor: constant-arrival-rate, rate: ${rate}, duration: 168h, maxInFlight: 100000, request: { path: /x } }
  b: { executor: constant-concurrency, concurrency: ${conc}, duration: 1s, request: { path: /x } }
  c: { executor: ramping-arrival-rate, stages: [ { duration: 1s, target: ${stage} } ], request: { path: /x } }
options: { interval: ${interval}, workers: ${workers} }
`;
  assert.deepEqual(problemsOf(plan('1M/s', 100000, '1M/s', '100ms', 64)), []);
  const ps = problemsOf(plan('999999M/s', 100000001, '2M/s', '1us', 65));
  assert.equal(ps.length, 5, JSON.stringify(ps));
  for (const p of ps) assert.ok(p.hint && p.line, JSON.stringify(p));
  assert.match(ps.find((p) => p.path === 'scenarios.c.stages[0].target')!.message, /at most 1,000,000\/s, got `2M\/s`/);
  assert.match(ps.find((p) => p.path === 'options.interval')!.message, /at least 100ms/);
  const long = problemsOf(plan('1/s', 1, '1/s', '1s', 1).replace('168h', '169h'));
  assert.match(long[0].message, /at most 168h/);
});

test('a header value with CR/LF or NUL is a problem (after interpolation), and the value is never shown', () => {
  const ps = problemsOf(
    `target: { url: http://127.0.0.1:9, headers: { x-api-key: "\${KEY}" } }
scenarios:
  a:
    executor: constant-arrival-rate
    rate: 1/s
    duration: 1s
    request: { path: /x, headers: { x-nul: "a\\u0000b", x-tab: "a\\tb" } }
`,
    { KEY: 'k3y-very-secret\r\n' },
  );
  assert.equal(ps.length, 2, JSON.stringify(ps));
  assert.match(ps[0].message, /line break \(CR\/LF\) after interpolating `\$\{KEY\}`/);
  assert.match(ps[1].message, /control character/);
  assert.equal(ps[1].path, 'scenarios.a.request.headers.x-nul');
  assert.doesNotMatch(JSON.stringify(ps), /k3y-very-secret/);
});
