import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatProblem } from '../core/errors.js';
import { formatProblem as fmt, PreflightError } from '../core/errors.js';
import { interpolate, literalSecrets, parsePlan, redact, redactError, redactPlan, validatePlan } from './index.js';

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
  const all =
    JSON.stringify(r.problems) + r.problems.map((p) => formatProblem(p)).join('\n') + JSON.stringify(r.warnings);
  assert.ok(!all.includes(TOKEN), all);
  assert.ok(!all.includes('sk-live'), all);
  assert.ok(
    r.problems.some((p) => /MISSING_ONE/.test(p.message)),
    'names the missing variable',
  );
  // Messages show what was written instead.
  assert.ok(
    r.problems.some((p) => p.message.includes('${T}')),
    all,
  );
});

test('redact removes credentials by their place in URLs: userinfo and well-known query parameters', () => {
  assert.equal(
    redact('GET http://u:p%40ss@h:80/a?api_key=xyz&x=1&TOKEN=ab#f', []),
    'GET http://u:***@h:80/a?api_key=***&x=1&TOKEN=***#f',
  );
  assert.equal(
    redact('see https://ghp_tok@github.com/x', []),
    'see https://***@github.com/x',
    'a user alone is a token',
  );
  assert.equal(
    redact('"path":"/infer?sig=1&key=k&keys=2&monkey=3"', []),
    '"path":"/infer?sig=***&key=***&keys=2&monkey=3"',
  );
  assert.equal(
    redact('<a href="/x?a=1&amp;access_token=zz">', []),
    '<a href="/x?a=1&amp;access_token=***">',
    'HTML-escaped &',
  );
  assert.equal(
    redact('http://127.0.0.1:8000/v2 and user@example.com', []),
    'http://127.0.0.1:8000/v2 and user@example.com',
  );
  assert.deepEqual(literalSecrets('http://user:p%40ssword@h/x?api_key=literalKEY&token=${Q}&sig=ab'), [
    'literalKEY',
    'p%40ssword',
    'p@ssword',
  ]);
});

test('URL userinfo becomes Basic auth, is stripped from target.url, and is a secret', () => {
  const env = { PASS: 'envPASSword1', TOK: 'pathTOKEN999' };
  const r = validatePlan(
    `target:
  url: http://user:\${PASS}@127.0.0.1:8000/\${TOK}
scenarios:
  s: { executor: constant-arrival-rate, rate: 5/s, duration: 1s, request: { path: "/infer?api_key=literalKEY123&token=ab" } }
`,
    { env },
  );
  assert.equal(r.ok, true, JSON.stringify(r.problems));
  const plan = r.plan!;
  assert.equal(plan.target.url, 'http://127.0.0.1:8000/pathTOKEN999');
  const basic = Buffer.from('user:envPASSword1').toString('base64');
  assert.equal(plan.target.headers['authorization'], `Basic ${basic}`);
  for (const s of [basic, 'envPASSword1', 'pathTOKEN999', 'literalKEY123']) assert.ok(plan.secrets.includes(s), s);
  assert.deepEqual(r.warnings, [], 'the password came from the environment: no warning');
  const text = JSON.stringify(redactPlan(plan));
  for (const s of ['envPASSword1', 'pathTOKEN999', 'literalKEY123', basic, 'token=ab'])
    assert.ok(!text.includes(s), `${s} in ${text}`);

  // A literal password works too, with a warning; a scenario's own URL credentials are for that scenario.
  const lit = validatePlan(
    `target: { url: "http://me:litPASS99@127.0.0.1:8000" }
scenarios:
  s: { executor: constant-arrival-rate, rate: 5/s, duration: 1s, request: { path: / }, target: { url: "http://other:otherPW77@127.0.0.1:9000" } }
`,
  );
  assert.equal(lit.ok, true, JSON.stringify(lit.problems));
  assert.match(lit.warnings.map((w) => fmt(w)).join('\n'), /literal credential.*\n.*\$\{PASSWORD\}/);
  assert.ok(!JSON.stringify(lit.warnings).includes('litPASS99'));
  assert.equal(lit.plan!.scenarios[0].target?.url, 'http://127.0.0.1:9000');
  assert.equal(
    lit.plan!.scenarios[0].target?.headers?.['authorization'],
    `Basic ${Buffer.from('other:otherPW77').toString('base64')}`,
  );
  assert.ok(lit.plan!.secrets.includes('litPASS99') && lit.plan!.secrets.includes('otherPW77'));
});

test('URL credentials and an authorization header are a conflict; an invalid URL never shows its password', () => {
  const both = validatePlan(
    `target:
  url: http://user:\${PASS}@127.0.0.1:8000
  headers: { authorization: "Bearer \${TOK}" }
scenarios:
  s: { executor: constant-arrival-rate, rate: 5/s, duration: 1s, request: { path: / } }
`,
    { file: 'plan.yaml', env: { PASS: 'envPASSword1', TOK: 'tokTOKtok' } },
  );
  assert.equal(both.ok, false);
  const msg = both.problems.map((p) => fmt(p)).join('\n');
  assert.match(msg, /plan\.yaml:2:\d+: the URL has credentials .* and the headers an `authorization`: give one/);
  assert.ok(!msg.includes('envPASSword1') && !msg.includes('tokTOKtok'), msg);

  for (const pw of ['litPASS99', 'pw']) {
    const bad = validatePlan(
      `target: { url: "http://user:${pw}@127.0.0.1:8000/?api_key=k1" }\nscenarios:\n  s: { executor: constant-arrival-rate, rate: 5/s, duration: 1s, request: { path: / } }\n`,
    );
    assert.equal(bad.ok, false);
    const text = bad.problems.map((p) => fmt(p)).join('\n');
    assert.match(text, /without query or fragment, got `http:\/\/user:\*\*\*@127\.0\.0\.1:8000\/\?api_key=\*\*\*`/);
    assert.ok(!text.includes(pw + '@'), text);
  }
});

test('redactError redacts message, problems and stack in place (class and code kept)', () => {
  const e = new PreflightError(
    'E_TARGET_NOT_READY',
    'GET http://h/sekret-path-1/v2 → 503 echo /sekret-path-1/v2?token=abc',
    { problems: [{ message: 'at sekret-path-1', hint: 'x?api_key=zz' }] },
  );
  const r = redactError(e, ['sekret-path-1']);
  assert.equal(r, e);
  assert.equal(r.code, 'E_TARGET_NOT_READY');
  assert.equal(r.message, 'GET http://h/***/v2 → 503 echo /***/v2?token=***');
  assert.deepEqual(r.problems, [{ message: 'at ***', hint: 'x?api_key=***' }]);
  assert.ok(!r.stack?.includes('sekret-path-1'));
});
