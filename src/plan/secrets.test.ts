import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem } from '../core/errors.js';
import { interpolate, parsePlan, redact, redactPlan, validatePlan } from './index.js';

test('interpolation: ${VAR}, ${VAR:-default}, $${ and missing variables', () => {
  const env = { A: 'alpha', EMPTY: '' };
  const cases: Array<[string, string, string[]]> = [
    ['no vars', 'no vars', []],
    ['${A}', 'alpha', []],
    ['x-${A}-y', 'x-alpha-y', []],
    ['${B:-beta}', 'beta', []],
    ['${A:-beta}', 'alpha', []],
    ['${EMPTY:-fallback}', 'fallback', []],
    ['[${EMPTY}]', '[]', []],
    ['${B:-}', '', []],
    ['$${A}', '${A}', []],
    ['${A}${A}', 'alphaalpha', []],
    ['${MISSING}', '', ['MISSING']],
  ];
  for (const [input, value, missing] of cases) {
    const r = interpolate(input, env);
    assert.deepEqual(r.missing, missing, input);
    if (missing.length === 0) assert.equal(r.value, value, input);
    assert.deepEqual(r.errors, [], input);
  }
  assert.deepEqual(interpolate('${A}', env).secrets, ['alpha']);
  assert.deepEqual(interpolate('${B:-default-value}', env).secrets, [], 'defaults are written in the plan: not secret');
  assert.deepEqual(interpolate('${PORT}', { PORT: '8080' }).secrets, [], 'plain numbers are not redacted');
  assert.match(interpolate('${1BAD}', env).errors[0], /not a valid variable reference/);
  assert.match(interpolate('${A', env).errors[0], /unterminated/);
});

test('redact: every occurrence, JSON-escaped and URL-encoded forms, longest first', () => {
  assert.equal(redact('Bearer abc123 and abc123', ['abc123']), 'Bearer *** and ***');
  assert.equal(redact(JSON.stringify({ h: 'a"b\\c' }), ['a"b\\c']), '{"h":"***"}');
  assert.equal(redact('https://x/?k=p%40ss%2Fw', ['p@ss/w']), 'https://x/?k=***');
  assert.equal(redact('abcdef', ['abc', 'abcdef']), '***');
  assert.equal(redact('text', []), 'text');
  assert.equal(redact('text', ['']), 'text');
});

const TOKEN = 'sk-live-9f8e7d6c5b4a';

test('a secret is interpolated, listed in plan.secrets, and never in redactPlan output', () => {
  const plan = parsePlan(
    `target:
  url: http://127.0.0.1:8080
  headers: { authorization: "Bearer \${MODEL_TOKEN}", x-key: "\${MODEL_TOKEN}" }
scenarios:
  a:
    executor: constant-arrival-rate
    rate: 1/s
    duration: 1s
    request: { method: POST, path: "/infer?key=\${MODEL_TOKEN}", json: { token: "\${MODEL_TOKEN}" } }
    tags: { who: "\${MODEL_TOKEN}" }
`,
    { env: { MODEL_TOKEN: TOKEN } },
  );
  assert.equal(plan.target.headers['authorization'], `Bearer ${TOKEN}`);
  assert.deepEqual(plan.secrets, [TOKEN]);
  const redacted = redactPlan(plan);
  const text = JSON.stringify(redacted);
  assert.ok(!text.includes(TOKEN), text);
  assert.equal(redacted.target.headers['authorization'], 'Bearer ***');
  assert.equal(redacted.scenarios[0].request?.path, '/infer?key=***');
  assert.deepEqual(redacted.secrets, ['***']);
  // The original is untouched.
  assert.equal(plan.scenarios[0].tags['who'], TOKEN);
});

test('a secret never appears in any problem, whatever field it lands in', () => {
  const text = `target:
  url: "\${T}"
  connections: "\${T}"
  headers: { authorization: "Bearer \${T}" }
scenarios:
  a:
    executor: "\${T}"
    rate: "\${T}"
    duration: "\${T}"
    request: { path: "\${T}" }
  b:
    executor: ramping-arrival-rate
    stages: [{ duration: 1s, target: "\${T}" }]
    protocol: kserve-v2
    model: m
    data: { file: "\${T}.csv" }
thresholds:
  - "\${T} < 1s"
  - "p99 < \${T}"
  - "\${MISSING_ONE}"
`;
  const r = validatePlan(text, { file: 'plan.yaml', env: { T: TOKEN } });
  assert.equal(r.ok, false);
  assert.ok(r.problems.length >= 10, r.problems.map((p) => formatProblem(p)).join('\n'));
  const all = JSON.stringify(r.problems) + r.problems.map((p) => formatProblem(p)).join('\n') + JSON.stringify(r.warnings);
  assert.ok(!all.includes(TOKEN), all);
  assert.ok(!all.includes('sk-live'), all);
  assert.ok(r.problems.some((p) => /MISSING_ONE/.test(p.message)), 'names the missing variable');
  // Messages show what was written instead.
  assert.ok(r.problems.some((p) => p.message.includes('${T}')), all);
});
