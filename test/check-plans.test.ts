/**
 * The security and consistency check sections as the plan walker reads them: defaults, secrets, and
 * every bad value reported located (line, column, path) with a hint where one helps.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { consistencyPlan, securityPlan } from './helpers/check-plans.js';

const shown = (ps: Array<{ line?: number; path?: string; message: string; hint?: string }>) =>
  ps.map((p) => `${p.line} ${p.path} ${p.message}${p.hint ? ` | ${p.hint}` : ''}`);

test('security: defaults (TLS on, leaks on, bad inputs on with a request, auth and rate limit off)', () => {
  const b = securityPlan('request: { path: /v2/models/m/infer, body: { inputs: [] } }');
  assert.deepEqual(b.problems, []);
  assert.deepEqual(b.plan, {
    timeoutMs: 5000,
    request: {
      method: 'POST',
      path: '/v2/models/m/infer',
      headers: { 'content-type': 'application/json' },
      body: '{"inputs":[]}',
    },
    tls: { warnDays: 30, minVersion: 'TLSv1.2' },
    badInputs: {
      probes: ['malformed-json', 'empty-body', 'wrong-type', 'wrong-shape', 'wrong-content-type', 'oversized'],
      oversizeBytes: 32 * 1024 * 1024,
    },
    leaks: {
      forbidHeaders: ['x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version', 'x-runtime'],
      serverVersion: true,
      requireHeaders: {},
    },
  });
  const all = securityPlan(
    'request: { path: /p, headers: { authorization: "Bearer ${TOKEN}" } }\nauth: { headers: [Authorization, X-Api-Key] }\nrateLimit: { burst: 50, within: 2s }\ntls: false\nleaks: { requireHeaders: { X-Content-Type-Options: nosniff } }\nbadInputs: { probes: [empty-body], oversize: 1MiB }',
    { TOKEN: 'abcd-secret' },
  );
  assert.deepEqual(all.problems, []);
  assert.deepEqual(all.plan?.auth, { headers: ['authorization', 'x-api-key'] });
  assert.deepEqual(all.plan?.rateLimit, { burst: 50, withinMs: 2000 });
  assert.equal(all.plan?.tls, undefined);
  assert.deepEqual(all.plan?.leaks?.requireHeaders, { 'x-content-type-options': 'nosniff' });
  assert.deepEqual(all.plan?.badInputs, { probes: ['empty-body'], oversizeBytes: 1024 * 1024 });
  assert.ok(all.secrets.includes('abcd-secret'));
  assert.deepEqual(securityPlan('tls: { minVersion: TLSv1.3 }\nauth: false').plan, {
    timeoutMs: 5000,
    tls: { warnDays: 30, minVersion: 'TLSv1.3' },
    leaks: {
      forbidHeaders: ['x-powered-by', 'x-aspnet-version', 'x-aspnetmvc-version', 'x-runtime'],
      serverVersion: true,
      requireHeaders: {},
    },
  });
});

test('security: bad values are located errors with hints', () => {
  const b = securityPlan(`request: { path: v2/infer }
timeout: 0s
auth: sometimes
tls: { warnDays: -1, minVersion: TLSv1.0, caFile: /no/such/ca.pem }
badInputs: { probes: [malformed-json, sql-injection], oversize: 2GiB }
rateLimit: { within: 1s }
leaks: { forbidHeaders: ["bad header"] }
colour: blue`);
  assert.equal(b.plan, undefined);
  assert.deepEqual(shown(b.problems), [
    '3 checks.security.request.path expected a path starting with /, got `v2/infer`',
    '4 checks.security.timeout must be more than 0s, got `0s`',
    '5 checks.security.auth unknown value `sometimes`; expected one of `required` | use one of: `required`',
    '6 checks.security.tls.warnDays must be at least 0, got `-1`',
    '6 checks.security.tls.minVersion unknown value `TLSv1.0`; expected one of `TLSv1.1`, `TLSv1.2`, `TLSv1.3` | did you mean `TLSv1.1`?',
    '7 checks.security.badInputs.probes[1] unknown value `sql-injection`; expected one of `malformed-json`, `empty-body`, `wrong-type`, `wrong-shape`, `wrong-content-type`, `oversized` | use one of: `malformed-json`, `empty-body`, `wrong-type`, `wrong-shape`, `wrong-content-type`, `oversized`',
    '8 checks.security.rateLimit.burst rateLimit is missing `burst` | burst: Requests sent at once.',
    '9 checks.security.leaks.forbidHeaders[0] expected an HTTP header name, got `bad header`',
    '10 checks.security.colour unknown key `colour` in security check | allowed keys: request, timeout, auth, tls, badInputs, leaks, rateLimit',
    "6 checks.security.tls.caFile cannot read CA file `/no/such/ca.pem` (ENOENT) | paths are relative to the plan file's folder",
    '7 checks.security.badInputs.oversize must be at most 1GiB | a few MiB above the server’s body limit',
  ]);
  // Probes that alter a request need one.
  assert.deepEqual(shown(securityPlan('auth: required\nrateLimit: { burst: 5 }').problems), [
    '3 checks.security `auth`, `rateLimit` need `request`: the valid request the probes alter | request: { method: POST, path: /v2/models/digits/infer, body: {…} }',
  ]);
  assert.deepEqual(shown(securityPlan('request: { path: /p }\nbadInputs: { probes: [wrong-shape] }').problems), [
    "4 checks.security.badInputs.probes wrong-shape alter the request's JSON body, but `request` has no body | give request.body (a valid inference body), or leave these probes out",
  ]);
});

test('security: a CA file that is not PEM is a located error; a PEM one is read', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-check-plans-'));
  try {
    fs.writeFileSync(path.join(dir, 'bad.pem'), 'hello');
    fs.writeFileSync(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n');
    const bad = securityPlan(`tls: { caFile: ${JSON.stringify(path.join(dir, 'bad.pem'))} }`);
    assert.match(shown(bad.problems)[0]!, /^3 checks\.security\.tls\.caFile CA file .* is not a PEM certificate/);
    const ok = securityPlan(`tls: { caFile: ${JSON.stringify(path.join(dir, 'ca.pem'))} }`);
    assert.match(ok.plan?.tls?.ca ?? '', /BEGIN CERTIFICATE/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('consistency: defaults, own credentials as secrets, URL credentials as Basic auth', () => {
  const b = consistencyPlan(
    'other: { url: "https://prod.example.com/api/", headers: { authorization: "Bearer ${PROD}" } }',
    {
      PROD: 'prod-token-1',
    },
  );
  assert.deepEqual(b.problems, []);
  assert.deepEqual(b.plan, {
    other: {
      url: 'https://prod.example.com/api',
      headers: { authorization: 'Bearer prod-token-1' },
      tls: { insecure: false },
    },
    rows: 50,
    tolerance: { absolute: 1e-6, relative: 1e-5 },
    ignore: ['$.id'],
    metadata: true,
    maxMismatchRate: 0,
    timeoutMs: 10_000,
  });
  assert.ok(b.secrets.includes('prod-token-1'));
  const basic = consistencyPlan('other: "http://svc:${PW}@127.0.0.1:9000"', { PW: 'hunter22' });
  assert.deepEqual(basic.problems, []);
  assert.equal(basic.plan?.other.url, 'http://127.0.0.1:9000');
  assert.equal(basic.plan?.other.headers['authorization'], `Basic ${Buffer.from('svc:hunter22').toString('base64')}`);
  assert.ok(basic.secrets.includes('hunter22'));
});

test('consistency: bad values are located errors (bad URL, missing other, unknown scenario, the target itself)', () => {
  assert.deepEqual(shown(consistencyPlan('rows: 10').problems), [
    '3 checks.consistency consistency check is missing `other` | other: { url: https://prod.example.com, headers: { authorization: "Bearer ${PROD_TOKEN}" } }',
  ]);
  assert.deepEqual(shown(consistencyPlan('other: prod.example.com').problems), [
    '3 checks.consistency.other expected an http:// or https:// URL (scheme, host, port and an optional base path), got `prod.example.com`',
  ]);
  const b = consistencyPlan(
    'other: { url: "http://127.0.0.1:8000/" }\nscenario: stedy\nrows: 0\nmaxMismatchRate: 2\nignore: [id]\ntolerance: { absolute: -1 }',
    {},
    { scenarios: ['steady', 'burst'], targetUrl: 'http://127.0.0.1:8000' },
  );
  assert.deepEqual(shown(b.problems), [
    '5 checks.consistency.rows must be at least 1, got `0`',
    '6 checks.consistency.maxMismatchRate must be at most 1, got `2`',
    '7 checks.consistency.ignore[0] expected a JSON path starting with $, got `id`',
    '8 checks.consistency.tolerance.absolute must be at least 0, got `-1`',
    '3 checks.consistency.other.url the second environment is the target itself: the comparison would always pass | point `other` at the other environment (e.g. production when the target is staging)',
    '4 checks.consistency.scenario no scenario named `stedy` | did you mean `steady`?',
  ]);
});

test('the whole plan: security and consistency under `checks:`, their figures gated in `thresholds:`; consistency without a scenario is located', async () => {
  const { validatePlan } = await import('../src/plan/index.js');
  const text = (scenarios: string) => `
target: { url: http://127.0.0.1:8000 }
${scenarios}
checks:
  security:
    request: { path: /v2/models/digits/infer, body: { inputs: [] } }
  consistency:
    other: http://127.0.0.1:8001
thresholds:
  - security.bad_inputs.5xx == 0
  - consistency.outputs.mismatch_rate < 1%
  - consistency.outputs.max_abs_diff < 0.001
  - security.tls.days_to_expiry > 30
`;
  const scenario = `scenarios:
  digits: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: digits, synthetic: { distribution: uniform, low: 0, high: 16 } }`;
  const ok = validatePlan(text(scenario), { env: {} });
  assert.deepEqual(ok.problems, []);
  assert.ok(ok.plan!.checks?.security && ok.plan!.checks?.consistency);
  assert.deepEqual(
    ok.plan!.thresholds.map((t) => t.value),
    [0, 0.01, 0.001, 30],
  );
  const bad = validatePlan(text(''), { env: {} });
  assert.match(
    bad.problems.map((p) => `${p.line}:${p.path}: ${p.message}`).join('\n'),
    /^7:checks\.consistency: the consistency check sends a scenario’s requests, but the plan has no scenarios/m,
  );
});
