/**
 * Secrets never printed or written, checked as a user meets them: the built CLI in a child process,
 * real servers on loopback. Distinct secrets are planted in the URL path, the URL's password, a
 * header and a query value (from the environment) and a literal `api_key=`; then every output —
 * stdout, stderr, every file of the results folder — of a successful run, an invalid plan, an
 * unreachable target, a not-ready target that echoes what it was sent, and `preflight report` is
 * searched for each of them.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closedPort, httpServer, type TestServer } from './helpers/servers.js';
import { preflight as spawnCli, type CliResult } from './helpers/cli.js';

/** In the test's folder, with the planted secrets in the environment. */
const preflight = (args: string[], timeoutMs = 60_000): Promise<CliResult> =>
  spawnCli(args, { cwd: dir, env: ENV, timeoutMs });

const servers: TestServer[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-secrets-'));
after(async () => {
  for (const s of servers) await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const ENV = {
  PF_PATH_TOKEN: 'pathTok-7Q2xWv',
  PF_PASS: 'pwSecret-93kdZr',
  PF_HDR: 'hdrSecret-55abQe',
  PF_QUERY: 'qrySecret-11cdMn',
  /** Any value from the environment is a secret, even a threshold's (printed in the terminal summary). */
  PF_SLO: '59999ms',
};
const LITERAL_KEY = 'LiteralApiKey-8812Lk';
const BASIC = Buffer.from(`alice:${ENV.PF_PASS}`).toString('base64');
const SECRETS = [...Object.values(ENV), LITERAL_KEY, BASIC];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Every file under `d` (recursively), as text. */
function filesOf(d: string): Array<[string, string]> {
  if (!fs.existsSync(d)) return [];
  return fs
    .readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const f = path.join(e.parentPath, e.name);
      return [f, fs.readFileSync(f, 'latin1')];
    });
}

/** No planted secret in the outputs of `r` nor in any file of `out`, in any usual encoding. */
function assertNoSecrets(what: string, r: Result, out?: string): void {
  const places: Array<[string, string]> = [['stdout', r.stdout], ['stderr', r.stderr], ...(out ? filesOf(out) : [])];
  for (const secret of SECRETS) {
    for (const form of new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')])) {
      for (const [where, text] of places)
        assert.ok(
          !text.includes(form),
          `${what}: ${where} contains the secret ${secret}${form !== secret ? ` (as ${form})` : ''}`,
        );
    }
  }
}

function planFile(name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/** The plan every case uses, pointing at `origin` (extra lines go under the scenario). */
function planText(origin: string, opts: { protocol?: string; ready?: string; extra?: string } = {}): string {
  const host = origin.replace(/^http:\/\//, '');
  return `target:
  url: "http://alice:\${PF_PASS}@${host}/\${PF_PATH_TOKEN}"
  headers: { x-api-key: "\${PF_HDR}" }
  ready: ${opts.ready ?? '"/ready?token=${PF_QUERY}"'}
  readyTimeout: 1s
scenarios:
  s:
    executor: constant-arrival-rate
    rate: 20/s
    duration: 1s
${opts.protocol === 'kserve-v2' ? '    protocol: kserve-v2\n    model: m\n    synthetic: { distribution: uniform }\n' : `    request: { method: GET, path: "/infer?api_key=${LITERAL_KEY}&token=\${PF_QUERY}" }\n`}${opts.extra ?? ''}thresholds:
  - p99 < 10s
  - "max < \${PF_SLO}"
options: { maxDispatchLag: 1s }
`;
}

test('a successful run and `preflight report`: credentials reach the server, no secret in any output', async () => {
  const seen: Array<{ url: string; authorization?: string; key?: string | string[] }> = [];
  const srv = await httpServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization, key: req.headers['x-api-key'] });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  servers.push(srv);
  const out = path.join(dir, 'out-ok');
  const r = await preflight(['run', planFile('ok.yaml', planText(srv.url)), '--out', out]);
  assert.ok(r.code === 0 || r.code === 4, `exit ${r.code}: ${r.stderr}`); // 4: a stalled shared machine, not secrets
  assert.match(r.stderr, /target http:\/\/127\.0\.0\.1:\d+\/\*\*\* · /, 'the target line, redacted');
  assert.match(r.stdout, /max < \*\*\*/, 'the summary, redacted');
  assert.ok(seen.length > 10, `${seen.length} requests`);
  // The credentials were sent: Basic auth from the URL, the header, the path and query as written.
  for (const s of seen) {
    assert.equal(s.authorization, `Basic ${BASIC}`, s.url);
    assert.equal(s.key, ENV.PF_HDR);
  }
  assert.ok(
    seen.some((s) => s.url === `/ready?token=${ENV.PF_QUERY}`),
    'readiness',
  );
  assert.ok(
    seen.some((s) => s.url === `/${ENV.PF_PATH_TOKEN}/infer?api_key=${LITERAL_KEY}&token=${ENV.PF_QUERY}`),
    seen.map((s) => s.url).join(' '),
  );
  for (const f of ['summary.json', 'plan.resolved.json', 'report.html', 'summary.md'])
    assert.ok(fs.existsSync(path.join(out, f)), f);
  assertNoSecrets('run', r, out);

  const rep = await preflight(['report', out]);
  assert.equal(rep.code, 0, rep.stderr);
  assertNoSecrets('report', rep, out);
});

test('run --baseline: comparison.json is redacted like every results file, also when the baseline folder holds a secret', async () => {
  const srv = await httpServer((_req, res) => res.end('ok'));
  servers.push(srv);
  const file = planFile('cmp.yaml', planText(srv.url));
  const base = path.join(dir, 'out-cmp-base');
  const b = await preflight(['run', file, '--out', base, '--quiet', '--no-report']);
  assert.ok(b.code === 0 || b.code === 4, `exit ${b.code}: ${b.stderr}`);
  // A baseline written elsewhere (another version, another machine) whose summary names the plan
  // by a path that holds a secret value of this plan: the comparison copies that name.
  const summaryFile = path.join(base, 'summary.json');
  const summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as { plan: string };
  summary.plan = `plans/${ENV.PF_HDR}/cmp.yaml`;
  fs.writeFileSync(summaryFile, JSON.stringify(summary));
  const out = path.join(dir, 'out-cmp');
  const r = await preflight(['run', file, '--out', out, '--baseline', base]);
  assert.ok([0, 4, 6].includes(r.code ?? -1), `exit ${r.code}: ${r.stderr}`);
  const cmp = fs.readFileSync(path.join(out, 'comparison.json'), 'utf8');
  assert.match(cmp, /"plan": "plans\/\*\*\*\/cmp\.yaml"/, 'the baseline plan, redacted');
  assertNoSecrets('run --baseline', r, out);
});

test('an invalid plan (run and validate): no secret in the problems', async () => {
  const port = await closedPort();
  // The URL with a literal `?api_key=` is invalid (no query in target.url), and so are the rate and
  // the threshold: the messages quote what was written.
  const text = planText(`http://127.0.0.1:${port}`)
    .replace('rate: 20/s', 'rate: "${PF_HDR}"')
    .replace('/${PF_PATH_TOKEN}"', `/\${PF_PATH_TOKEN}?api_key=${LITERAL_KEY}"`)
    .replace('  - p99 < 10s', '  - "p99 < ${PF_QUERY}"');
  const file = planFile('invalid.yaml', text);
  const out = path.join(dir, 'out-invalid');
  for (const args of [
    ['run', file, '--out', out],
    ['validate', file],
  ]) {
    const r = await preflight(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /invalid\.yaml:2:\d+/);
    assert.match(r.stderr, /alice:\*\*\*@/, 'the URL is quoted, its password redacted');
    assert.match(r.stderr, /\(scenarios\.s\.rate\)/);
    assert.match(r.stderr, /\(thresholds\[0\]\)/);
    assertNoSecrets(args[0], r, out);
  }
});

test('an unreachable target: no secret in the error', async () => {
  const port = await closedPort();
  const out = path.join(dir, 'out-unreachable');
  const r = await preflight(['run', planFile('unreachable.yaml', planText(`http://127.0.0.1:${port}`)), '--out', out]);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /connection refused/);
  assertNoSecrets('unreachable', r, out);
});

test('a not-ready target that echoes the request: no secret in the readiness or prepare error', async () => {
  const srv = await httpServer((req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end(
      `not ready: ${req.method} ${req.url} authorization=${req.headers.authorization} x-api-key=${req.headers['x-api-key']}`,
    );
  });
  servers.push(srv);
  // The readiness check (its path carries a secret query value).
  const out1 = path.join(dir, 'out-notready');
  const r1 = await preflight(['run', planFile('notready.yaml', planText(srv.url)), '--out', out1]);
  assert.equal(r1.code, 5, r1.stderr);
  assert.match(r1.stderr, /target not ready: GET \/ready\?token=\*\*\*/);
  assertNoSecrets('readiness', r1, out1);
  // kserve-v2's prepare requests quote the URL (with the path token) and the server's answer; in
  // worker threads too.
  const out2 = path.join(dir, 'out-prepare');
  const r2 = await preflight([
    'run',
    planFile('prepare.yaml', planText(srv.url, { protocol: 'kserve-v2', ready: 'false' })),
    '--out',
    out2,
    '--workers',
    '2',
  ]);
  assert.equal(r2.code, 5, r2.stderr);
  assert.match(
    r2.stderr,
    /server not ready: GET http:\/\/127\.0\.0\.1:\d+\/\*\*\*\/v2\/health\/ready → 503 not ready: GET \/\*\*\*\/v2\/health\/ready authorization=Basic \*\*\* x-api-key=\*\*\*/,
  );
  assertNoSecrets('prepare', r2, out2);
});

test('a shadow run whose variants echo a secret in a long response field: no secret, nor its start, in any output', async () => {
  // Each variant echoes the x-api-key header at the end of a field just under the example length
  // (200 characters): cut to length before redaction, an example would keep the secret's first
  // characters, which no redaction of the whole value can find afterwards.
  const echo = (pad: string) =>
    httpServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echo: `${pad.repeat(194)}${req.headers['x-api-key']}` }));
    });
  const primary = await echo('p');
  const candidate = await echo('c');
  servers.push(primary, candidate);
  const extra = `comparison:
  kind: shadow
  variants:
    - { name: primary, url: "${primary.url}" }
    - { name: secondary, url: "${primary.url}" }
    - { name: candidate, url: "${candidate.url}" }
`;
  const text = planText(primary.url, { ready: 'false' }).replace('thresholds:', `${extra}thresholds:`);
  const out = path.join(dir, 'out-shadow');
  const r = await preflight(['run', planFile('shadow.yaml', text), '--out', out]);
  assert.ok([0, 3, 4].includes(r.code ?? -1), `exit ${r.code}: ${r.stderr}`);
  const summary = fs.readFileSync(path.join(out, 'summary.json'), 'utf8');
  assert.match(summary, /"path": "\$\.echo"/, 'the echoed field was compared');
  assert.match(summary, /c{20,}\*\*\*/, 'its examples, the secret redacted');
  assertNoSecrets('shadow', r, out);
  const start = ENV.PF_HDR.slice(0, 6);
  for (const [where, t] of [['stdout', r.stdout], ['stderr', r.stderr], ...filesOf(out)])
    assert.ok(!t.includes(start), `${where} holds the secret's start ${start}`);
});
