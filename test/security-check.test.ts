/**
 * The security check against loopback servers of known behaviour: each part once passing and once
 * failing — a leaky server (500 with a Python traceback to bad JSON, `Server: gunicorn/19.9.0`), the
 * reference server, servers with and without auth and rate limiting, and TLS servers with certificates
 * made here with openssl (CA-signed, self-signed and soon to expire, TLSv1-capable).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runSecurityCheck } from '../src/checks/security.js';
import type { CheckResult } from '../src/core/checks.js';
import { redact } from '../src/plan/secrets.js';
import { startServer, type ServerHandle } from '../src/server/index.js';
import { makeCertificates, type TestCertificates } from './helpers/certs.js';
import { must, securityPlan, target } from './helpers/check-plans.js';
import { httpServer, type TestServer } from './helpers/servers.js';

const INFER = { inputs: [{ name: 'input', shape: [1, 64], datatype: 'FP32', data: Array(64).fill(0.5) }] };
const REQUEST = `request: { path: /v2/models/digits/infer, body: ${JSON.stringify(INFER)} }`;
const TOKEN = 'sekret-token-1234';
const ctx = (secrets: string[] = []) => ({
  signal: AbortSignal.timeout(60_000),
  redact: (s: string) => redact(s, secrets),
});
const byId = (rs: CheckResult[], id: string) => {
  const r = rs.find((x) => x.id === id);
  assert.ok(r, `no result ${id} in ${rs.map((x) => x.id).join(', ')}`);
  return r;
};

const closers: Array<() => Promise<void>> = [];
let leaky: TestServer;
let reference: ServerHandle;
let tmp: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-security-'));
  // Answers 500 with a Python traceback to anything that is not JSON, and names its version.
  leaky = await httpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    void chunks;
    res.setHeader('server', 'gunicorn/19.9.0');
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(
      'Traceback (most recent call last):\n  File "/home/app/venv/lib/python3.9/site-packages/flask/app.py", line 2447, in wsgi_app\njson.decoder.JSONDecodeError: Expecting value',
    );
  });
  closers.push(() => leaky.close());
  reference = await startServer({ port: 0 });
  closers.push(() => reference.close());
});

after(async () => {
  for (const c of closers.reverse()) await c();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a leaky server fails bad inputs (5xx) and leaks (traceback, file path, Server version), with redacted evidence', async () => {
  const plan = must(securityPlan(`${REQUEST}\nbadInputs: { oversize: 256KiB }`));
  const rs = await runSecurityCheck(plan, target(leaky.url), ctx());
  const bad = byId(rs, 'security.bad_inputs');
  assert.equal(bad.status, 'fail');
  assert.equal(bad.figures['5xx'], 6, JSON.stringify(bad.findings));
  assert.ok(bad.findings.some((f) => f.evidence?.startsWith('500 Traceback')));
  assert.ok(bad.findings.every((f) => (f.evidence ?? '').length <= 210));
  const leaks = byId(rs, 'security.leaks');
  assert.equal(leaks.status, 'fail');
  const kinds = leaks.findings.map((f) => f.what).join('\n');
  assert.match(kinds, /stack trace \(Python\)/);
  assert.match(kinds, /file path/);
  assert.match(kinds, /version in header server/);
  assert.ok(leaks.findings.some((f) => f.evidence === 'server: gunicorn/19.9.0'));
  assert.equal(rs.find((r) => r.id === 'security.tls')?.status, 'skipped', 'http:// target: TLS skipped');
});

test('the reference server passes bad inputs (4xx for each) and leaks', async () => {
  const plan = must(securityPlan(REQUEST));
  const rs = await runSecurityCheck(plan, target(reference.url), ctx());
  const bad = byId(rs, 'security.bad_inputs');
  assert.equal(bad.figures['5xx'], 0, JSON.stringify(bad.findings));
  assert.equal(bad.figures['no_answer'], 0, JSON.stringify(bad.findings));
  // It takes a JSON body sent as text/plain (a warning, not a fail); every other probe gets 4xx.
  assert.equal(bad.figures['4xx'], 5, JSON.stringify(bad.findings));
  assert.ok(
    bad.findings.some((f) => /oversized body \(33554432 bytes\) → 413/.test(f.what)),
    JSON.stringify(bad.findings),
  );
  assert.equal(bad.status, 'warn');
  assert.equal(byId(rs, 'security.leaks').status, 'pass', JSON.stringify(byId(rs, 'security.leaks').findings));
});

test('a bad input that hangs is a fail with "no answer within"', async () => {
  const hang = await httpServer((req, res) => {
    if (req.headers['content-type'] === 'text/plain') return; // never answers
    res.writeHead(400).end('bad');
  });
  closers.push(() => hang.close());
  const plan = must(
    securityPlan(`${REQUEST}\ntimeout: 300ms\nbadInputs: { probes: [wrong-content-type, empty-body] }\nleaks: false`),
  );
  const bad = byId(await runSecurityCheck(plan, target(hang.url), ctx()), 'security.bad_inputs');
  assert.equal(bad!.status, 'fail');
  assert.equal(bad!.figures['no_answer'], 1);
  assert.ok(
    bad!.findings.some((f) => f.evidence === 'no answer within 300 ms'),
    JSON.stringify(bad!.findings),
  );
});

test('auth: refused without or with a wrong credential passes; accepted fails; the token never shows', async () => {
  const strict = await httpServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) res.writeHead(401).end('unauthorized');
    else res.writeHead(200, { 'content-type': 'application/json' }).end(`{"echo":"${TOKEN}"}`);
  });
  const open = await httpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(`{"you_sent":"${req.headers.authorization ?? ''}"}`);
  });
  closers.push(
    () => strict.close(),
    () => open.close(),
  );
  const yaml = `${REQUEST}\nauth: required\nbadInputs: false\nleaks: false`;
  const b = securityPlan(yaml, { TOKEN });
  const plan = must(b);
  const t = (url: string) => target(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  const pass = await runSecurityCheck(plan, t(strict.url), ctx([TOKEN]));
  assert.equal(byId(pass, 'security.auth').status, 'pass', JSON.stringify(pass));
  assert.equal(byId(pass, 'security.auth').figures['accepted'], 0);
  const fail = await runSecurityCheck(plan, t(open.url), ctx([TOKEN]));
  const auth = byId(fail, 'security.auth');
  assert.equal(auth.status, 'fail');
  assert.equal(auth.figures['accepted'], 2);
  assert.match(auth.findings.map((f) => f.what).join('\n'), /without credentials → 200: accepted/);
  assert.ok(!JSON.stringify(fail).includes(TOKEN), 'no secret in the results');
  // A credential header the plan does not send is an error, not a silent pass.
  const none = await runSecurityCheck(plan, target(strict.url), ctx());
  assert.equal(byId(none, 'security.auth').status, 'error');
});

test('rate limiting: a burst gets 429 with Retry-After (pass); a server that never limits fails', async () => {
  let served = 0;
  const limited = await httpServer((_req, res) => {
    if (++served > 10) res.writeHead(429, { 'retry-after': '2' }).end('slow down');
    else res.writeHead(200).end('{}');
  });
  const unlimited = await httpServer((_req, res) => res.writeHead(200).end('{}'));
  closers.push(
    () => limited.close(),
    () => unlimited.close(),
  );
  const plan = must(securityPlan(`${REQUEST}\nbadInputs: false\nleaks: false\nrateLimit: { burst: 30, within: 1s }`));
  const ok = byId(await runSecurityCheck(plan, target(limited.url), ctx()), 'security.rate_limit');
  assert.equal(ok!.status, 'pass', JSON.stringify(ok));
  assert.equal(ok!.figures['429'], 20);
  assert.equal(ok!.figures['retry_after_s'], 2);
  const no = byId(await runSecurityCheck(plan, target(unlimited.url), ctx()), 'security.rate_limit');
  assert.equal(no!.status, 'fail');
  assert.equal(no!.figures['429'], 0);
});

/** An https server on 127.0.0.1 with `key`/`cert` and TLS options; answers 200. */
async function tlsServer(opts: https.ServerOptions): Promise<string> {
  const server = https.createServer(opts, (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A self-signed certificate made with openssl for `name` (`IP:127.0.0.1` or `DNS:…`); null without openssl. */
function selfSigned(days: number, name = 'IP:127.0.0.1'): { key: string; cert: string } | null {
  const dir = fs.mkdtempSync(path.join(tmp, 'self-'));
  const cn = name.slice(name.indexOf(':') + 1);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const args = ['req', '-x509', ...ec, '-keyout', 'k.pem', '-out', 'c.pem', '-subj', `/CN=${cn}`];
  const r = spawnSync('openssl', [...args, '-addext', `subjectAltName=${name}`, '-days', String(days)], {
    cwd: dir,
    stdio: 'ignore',
    timeout: 30_000,
  });
  if (r.status !== 0) return null;
  return {
    key: fs.readFileSync(path.join(dir, 'k.pem'), 'utf8'),
    cert: fs.readFileSync(path.join(dir, 'c.pem'), 'utf8'),
  };
}

/** A certificate for 127.0.0.1 valid only in January 2024 (`openssl ca` sets both dates); null without openssl. */
function expired(): { key: string; cert: string } | null {
  const dir = fs.mkdtempSync(path.join(tmp, 'expired-'));
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '01\n');
  fs.writeFileSync(
    path.join(dir, 'ca.cnf'),
    '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nserial=serial\nnew_certs_dir=.\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n',
  );
  const run = (args: string[]) =>
    spawnSync('openssl', args, { cwd: dir, stdio: 'ignore', timeout: 30_000 }).status === 0;
  const ok =
    run(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'k.pem'].concat(
        ['-out', 'r.csr', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ),
    ) &&
    run(
      ['ca', '-batch', '-config', 'ca.cnf', '-selfsign', '-keyfile', 'k.pem', '-in', 'r.csr', '-out', 'c.pem'].concat([
        '-startdate',
        '20240101000000Z',
        '-enddate',
        '20240201000000Z',
      ]),
    );
  if (!ok) return null;
  return {
    key: fs.readFileSync(path.join(dir, 'k.pem'), 'utf8'),
    cert: fs.readFileSync(path.join(dir, 'c.pem'), 'utf8'),
  };
}

const tlsOnly = 'badInputs: false\nleaks: false';

test('TLS: a CA-signed TLSv1.2+ server passes with the plan’s CA; without the CA the chain fails', async (t) => {
  const certs: TestCertificates | null = makeCertificates(fs.mkdtempSync(path.join(tmp, 'ca-')));
  if (!certs) {
    if (process.env['CI']) assert.fail('openssl is needed');
    return t.skip('openssl not available');
  }
  const url = await tlsServer({ key: certs.key, cert: certs.cert, minVersion: 'TLSv1.2' });
  const withCa = must(securityPlan(`tls: { caFile: ${JSON.stringify(certs.caFile)}, warnDays: 0 }\n${tlsOnly}`));
  const [ok] = await runSecurityCheck(withCa, target(url), ctx());
  assert.equal(ok!.id, 'security.tls');
  assert.equal(ok!.status, 'pass', JSON.stringify(ok!.findings));
  assert.equal(ok!.figures['old_version_accepted'], 0);
  assert.equal(ok!.figures['max_version'], 1.3);
  assert.ok(ok!.figures['days_to_expiry']! > 0 && ok!.figures['days_to_expiry']! <= 1.01);
  // The same server against a TLSv1.3 minimum: it still speaks TLSv1.2, which is now too old.
  const v13 = must(
    securityPlan(`tls: { caFile: ${JSON.stringify(certs.caFile)}, warnDays: 0, minVersion: TLSv1.3 }\n${tlsOnly}`),
  );
  const [old] = await runSecurityCheck(v13, target(url), ctx());
  assert.equal(old!.status, 'fail');
  assert.ok(old!.findings.some((f) => f.status === 'fail' && /at most TLSv1.2 was accepted/.test(f.what)));
  const [noCa] = await runSecurityCheck(must(securityPlan(`tls: { warnDays: 0 }\n${tlsOnly}`)), target(url), ctx());
  assert.equal(noCa!.status, 'fail');
  assert.ok(noCa!.findings.some((f) => f.status === 'fail' && /chain does not verify/.test(f.what)));
  // The probes go over https too, verifying with target.tls's CA; this server takes anything (a 2xx: fail).
  const probes = must(securityPlan(`${REQUEST}\ntls: false\nleaks: false\nbadInputs: { probes: [empty-body] }`));
  const rs = await runSecurityCheck(probes, target(url, { tls: { insecure: false, ca: certs.ca } }), ctx());
  assert.deepEqual(byId(rs, 'security.bad_inputs').figures, { probes: 1, '2xx': 1, '4xx': 0, '5xx': 0, no_answer: 0 });
  // Without the CA the probe's handshake fails: no answer, never an accepted insecure connection.
  const untrusted = await runSecurityCheck(probes, target(url), ctx());
  const notSent = byId(untrusted, 'security.bad_inputs');
  assert.equal(notSent.figures['no_answer'], 1);
  assert.equal(notSent.status, 'error', JSON.stringify(notSent.findings));
});

test('TLS: a self-signed certificate expiring in 5 days warns (warnDays 30) and fails the chain; TLSv1 accepted fails', async (t) => {
  const soon = selfSigned(5);
  if (!soon) {
    if (process.env['CI']) assert.fail('openssl is needed');
    return t.skip('openssl not available');
  }
  // Accepts TLSv1 (every cipher allowed, so the old handshake can succeed).
  const url = await tlsServer({ ...soon, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  const [r] = await runSecurityCheck(
    must(securityPlan(`tls: { minVersion: TLSv1.2 }\n${tlsOnly}`)),
    target(url),
    ctx(),
  );
  assert.equal(r!.status, 'fail');
  const days = r!.figures['days_to_expiry']!;
  assert.ok(days > 4 && days <= 5.01, String(days));
  assert.ok(r!.findings.some((f) => f.status === 'warn' && /expires within 30 days/.test(f.what)));
  assert.ok(r!.findings.some((f) => f.status === 'fail' && /chain does not verify/.test(f.what)));
  assert.ok(r!.findings.some((f) => f.status === 'fail' && /at most TLSv1.1 was accepted/.test(f.what)));
  assert.equal(r!.figures['old_version_accepted'], 1);
  assert.ok(r!.findings.some((f) => f.status === 'pass' && /valid for 127.0.0.1/.test(f.what)));
});

test('TLS: a certificate for another name fails the hostname check', async (t) => {
  const other = selfSigned(60, 'DNS:other.example');
  if (!other) {
    if (process.env['CI']) assert.fail('openssl is needed');
    return t.skip('openssl not available');
  }
  const url = await tlsServer(other);
  const [res] = await runSecurityCheck(must(securityPlan(tlsOnly)), target(url), ctx());
  assert.ok(
    res!.findings.some((f) => f.status === 'fail' && /not valid for 127.0.0.1/.test(f.what)),
    JSON.stringify(res),
  );
  assert.equal(res!.findings.find((f) => /expire/.test(f.what))?.status, 'pass', 'expiry in 60 days is fine');
});

test('TLS: an expired certificate fails, with negative days to expiry', async (t) => {
  const old = expired();
  if (!old) {
    if (process.env['CI']) assert.fail('openssl is needed');
    return t.skip('openssl not available');
  }
  const url = await tlsServer(old);
  const [r] = await runSecurityCheck(must(securityPlan(tlsOnly)), target(url), ctx());
  assert.equal(r!.status, 'fail');
  assert.ok(r!.figures['days_to_expiry']! < -300, String(r!.figures['days_to_expiry']));
  assert.ok(
    r!.findings.some((f) => f.status === 'fail' && f.what === 'certificate expired'),
    JSON.stringify(r!.findings),
  );
  assert.match(
    r!.findings.find((f) => f.what === 'certificate expired')!.evidence!,
    /expired 2024-02-01T00:00:00\.000Z \(\d+\.\d days ago\)/,
  );
});
