/**
 * The consistency check against reference servers of known behaviour: two serving the same version
 * agree (pass); v1 against v2 answer differently (fail: model_version and the probabilities, with the
 * largest difference measured); a second environment that loads fewer versions has different model
 * metadata; an unreachable one is an `error` with the reason; its own credentials are sent to it, never
 * the target's.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { runConsistencyCheck } from '../src/checks/consistency.js';
import type { CheckResult } from '../src/core/checks.js';
import { runChecks } from '../src/checks/index.js';
import { parsePlan } from '../src/plan/index.js';
import { redact } from '../src/plan/secrets.js';
import type { Plan } from '../src/plan/types.js';
import { startServer, type ServerHandle } from '../src/server/index.js';
import { freePort } from './helpers/child-process.js';
import { consistencyPlan, must } from './helpers/check-plans.js';
import { httpServer } from './helpers/servers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const data = path.join(root, 'examples', 'data', 'digits-test.csv');

let v1: ServerHandle;
let v1b: ServerHandle;
let v2: ServerHandle;
let v1only: ServerHandle;

function plan(url: string, headers = '', model = 'digits'): Plan {
  return parsePlan(
    `target: { url: ${url}${headers} }
scenarios:
  digits:
    executor: constant-arrival-rate
    protocol: kserve-v2
    model: ${model}
    rate: 1/s
    duration: 1s
    data:
      file: ${JSON.stringify(data)}
      inputs: [ { name: input, columns: p0..p63, datatype: FP32 } ]
      batch: 2
`,
    { env: { TARGET_TOKEN: 'target-secret-123' } },
  );
}

const ctx = (p: Plan) => ({
  signal: AbortSignal.timeout(60_000),
  redact: (s: string) => redact(s, p.secrets),
  plan: p,
});
const byId = (rs: CheckResult[], id: string) => {
  const r = rs.find((x) => x.id === id);
  assert.ok(r, `no ${id} in ${JSON.stringify(rs)}`);
  return r;
};

before(async () => {
  [v1, v1b, v2, v1only] = await Promise.all([
    startServer({ port: 0, version: 'v1' }),
    startServer({ port: 0, version: 'v1' }),
    startServer({ port: 0, version: 'v2' }),
    startServer({ port: 0, version: 'v1', versions: ['v1'] }),
  ]);
});
after(async () => {
  await Promise.all([v1, v1b, v2, v1only].map((s) => s?.close()));
});

test('two environments serving the same model version agree: outputs and metadata pass', async () => {
  const p = plan(v1.url);
  const c = must(consistencyPlan(`other: ${v1b.url}\nrows: 20`));
  const rs = await runConsistencyCheck(c, p.target, ctx(p));
  const out = byId(rs, 'consistency.outputs');
  assert.equal(out.status, 'pass', JSON.stringify(out.findings));
  assert.equal(out.figures['compared'], 20);
  assert.equal(out.figures['mismatch_rate'], 0);
  assert.equal(out.figures['max_abs_diff'], 0);
  // 0 of 20: the exact 95% interval's upper end is 1 − 0.025^(1/20) = 16.8%.
  assert.ok(Math.abs(out.figures['mismatch_rate_upper']! - (1 - 0.025 ** (1 / 20))) < 1e-9);
  assert.match(out.findings[0]!.what, /mismatch rate 0\.0% \(95% interval 0\.0%–16\.8%; allowed 0\.0%\)/);
  const md = byId(rs, 'consistency.metadata');
  assert.equal(md.status, 'pass', JSON.stringify(md.findings));
  assert.equal(md.figures['metadata_diffs'], 0);
});

test('v1 against v2: every answer differs (model_version, probabilities) and the check fails', async () => {
  const p = plan(v1.url);
  const c = must(consistencyPlan(`other: { url: ${v2.url} }\nrows: 10`));
  const out = byId(await runConsistencyCheck(c, p.target, ctx(p)), 'consistency.outputs');
  assert.equal(out.status, 'fail');
  assert.equal(out.figures['mismatch_rate'], 1);
  const maxAbs = out.figures['max_abs_diff']!;
  assert.ok(maxAbs > 1e-5 && maxAbs <= 1, String(maxAbs));
  const text = out.findings.map((f) => `${f.what} ${f.evidence ?? ''}`).join('\n');
  assert.match(text, /\$\.model_version differs in 10 of 10 answers/);
  assert.match(text, /target "v1" · other "v2"/);
  // Allowing every answer to differ (and ignoring the version) leaves the probabilities as warnings.
  const lenient = must(
    consistencyPlan(`other: ${v2.url}\nrows: 10\nmaxMismatchRate: 1\nignore: [$.id, $.model_version]`),
  );
  const out2 = byId(await runConsistencyCheck(lenient, p.target, ctx(p)), 'consistency.outputs');
  assert.equal(out2.status, 'warn', JSON.stringify(out2.findings));
  assert.ok(!out2.findings.some((f) => /model_version/.test(f.what)));
});

test('tolerances: differences within them are equal', async () => {
  const p = plan(v1.url);
  const c = must(
    consistencyPlan(`other: ${v2.url}\nrows: 10\nignore: [$.id, $.model_version]\ntolerance: { absolute: 1 }`),
  );
  const out = byId(await runConsistencyCheck(c, p.target, ctx(p)), 'consistency.outputs');
  assert.equal(out.status, 'pass', JSON.stringify(out.findings));
  assert.equal(out.figures['mismatch_rate'], 0);
  assert.ok(out.figures['max_abs_diff']! > 0, 'the raw difference is still measured');
});

test('metadata: a second environment without version v2 differs in the model metadata', async () => {
  const p = plan(v1.url);
  const c = must(consistencyPlan(`other: ${v1only.url}\nrows: 5`));
  const rs = await runConsistencyCheck(c, p.target, ctx(p));
  const md = byId(rs, 'consistency.metadata');
  assert.equal(md.status, 'fail');
  assert.ok(md.figures['metadata_diffs']! >= 1);
  assert.ok(
    md.findings.some((f) => /\/v2\/models\/digits: \$\.versions\[1\] differs/.test(f.what)),
    JSON.stringify(md.findings),
  );
  assert.equal(byId(rs, 'consistency.outputs').status, 'pass');
});

test('an unreachable second environment is an error with the reason', async () => {
  const p = plan(v1.url);
  const port = await freePort();
  const c = must(consistencyPlan(`other: http://127.0.0.1:${port}\ntimeout: 2s`));
  const rs = await runConsistencyCheck(c, p.target, ctx(p));
  assert.deepEqual(
    rs.map((r) => [r.id, r.status]),
    [
      ['consistency.outputs', 'error'],
      ['consistency.metadata', 'error'],
    ],
  );
  assert.match(rs[0]!.findings[0]!.what, /second environment http:\/\/127\.0\.0\.1:\d+ is unreachable/);
  assert.match(rs[0]!.findings[0]!.evidence ?? '', /ECONNREFUSED/);
});

test('requests the scenario cannot build (a model the target does not serve) are an error with the reason', async () => {
  const p = plan(v1.url, '', 'nope');
  const rs = await runConsistencyCheck(must(consistencyPlan(`other: ${v1b.url}\nrows: 3`)), p.target, ctx(p));
  const out = byId(rs, 'consistency.outputs');
  assert.equal(out.status, 'error');
  assert.match(out.findings[0]!.what, /cannot build the requests of scenario "digits"/);
  assert.match(out.findings[0]!.evidence ?? '', /model "nope" not ready: .* 404/);
  // Metadata is still compared: both lack the model alike.
  assert.equal(byId(rs, 'consistency.metadata').status, 'pass', JSON.stringify(byId(rs, 'consistency.metadata')));
});

test('the second environment gets its own credentials, never the target’s', async () => {
  const seen: Array<string | undefined> = [];
  const other = await httpServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  try {
    const p = plan(v1.url, ', headers: { authorization: "Bearer ${TARGET_TOKEN}" }');
    const c = must(
      consistencyPlan(
        `other: { url: ${other.url}, headers: { authorization: "Bearer \${OTHER}" } }\nrows: 3\nmetadata: false`,
        { OTHER: 'other-secret-456' },
      ),
    );
    const rs = await runConsistencyCheck(c, p.target, ctx(p));
    assert.ok(seen.length >= 4, String(seen.length));
    assert.ok(
      seen.every((h) => h === 'Bearer other-secret-456'),
      JSON.stringify(seen),
    );
    assert.equal(byId(rs, 'consistency.outputs').status, 'fail', 'a {} answer is not the model’s');
    assert.ok(!JSON.stringify(rs).includes('target-secret-123'));
  } finally {
    await other.close();
  }
});

test('examples/checks-security.yaml: its checks pass against two reference servers, and fail against v2', async () => {
  const text = fs
    .readFileSync(path.join(root, 'examples', 'checks-security.yaml'), 'utf8')
    .replaceAll('http://127.0.0.1:8000', v1.url);
  // The whole plan as `preflight check` reads it, its checks run by the checks registry.
  const run = async (other: string) => {
    const p = parsePlan(text.replaceAll('http://127.0.0.1:8001', other), { baseDir: path.join(root, 'examples') });
    return (await runChecks(p)).results;
  };
  const same = await run(v1b.url);
  assert.deepEqual(
    same.map((r) => [r.id, r.status]),
    [
      ['security.tls', 'skipped'],
      ['security.bad_inputs', 'warn'], // the reference server takes JSON sent as text/plain
      ['security.leaks', 'pass'],
      ['consistency.outputs', 'pass'],
      ['consistency.metadata', 'pass'],
    ],
  );
  const other = await run(v2.url);
  assert.equal(other.find((r) => r.id === 'consistency.outputs')?.status, 'fail');
});
