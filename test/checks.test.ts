/**
 * `preflight check` (plan `checks:`) against real loopback servers of known behaviour: the reference
 * server (passes), a metrics endpoint missing a series, a closed port, a deploy command that starts
 * the reference server after a known delay, one that fails; the results folder (junit.xml) and bad
 * input reported all at once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CheckResult } from '../src/core/checks.js';
import { runCheckPlan } from '../src/run/index.js';
import { parsePlan, validatePlan } from '../src/plan/index.js';
import { startServer } from '../src/server/index.js';
import { kneeOf, sweepSizes } from '../src/checks/index.js';
import { freePort } from './helpers/child-process.js';
import { makeCertificates } from './helpers/certs.js';
import { cli, preflight } from './helpers/cli.js';
import { httpServer, type TestServer } from './helpers/servers.js';

type Server = Awaited<ReturnType<typeof startServer>>;

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-checks-'));
const byId = (rs: CheckResult[], id: string): CheckResult => {
  const r = rs.find((x) => x.id === id);
  assert.ok(r, `no result ${id} in ${rs.map((x) => x.id).join(', ')}`);
  return r;
};

let server: Server;
let metricsOnly: TestServer;
const dirs: string[] = [];

before(async () => {
  server = await startServer({ port: 0 });
  // A metrics endpoint that exposes one series and not the other.
  metricsOnly = await httpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end('# TYPE model_requests_total counter\nmodel_requests_total{model="digits"} 12\n');
  });
});
after(async () => {
  await server.close();
  await metricsOnly.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A plan file in a new temporary folder: the folder and the file's path. */
function writePlan(text: string): { dir: string; file: string } {
  const dir = tmp();
  dirs.push(dir);
  const file = path.join(dir, 'plan.yaml');
  fs.writeFileSync(file, text);
  return { dir, file };
}

async function check(text: string) {
  const out = tmp();
  dirs.push(out);
  const r = await runCheckPlan(parsePlan(text), { outDir: out });
  return { ...r, results: r.summary.checks!.results };
}

describe('network', () => {
  test('loopback: connect percentiles, no TLS on http, a sweep to /sink with bandwidth and sizes', async () => {
    const r = await check(`
target: { url: ${server.url} }
checks:
  network: { samples: 8, interval: 10ms, payload: { path: /sink, from: 1KiB, to: 256KiB, repeats: 2 } }
thresholds: [ network.connect.p99 < 2s, network.payload.largest_ok >= 256KiB, p99 < 1s ]
`);
    const connect = byId(r.results, 'network.connect');
    assert.equal(connect.status, 'pass');
    assert.ok(connect.figures['p50']! > 0 && connect.figures['p99']! < 2000, JSON.stringify(connect.figures));
    assert.equal(byId(r.results, 'network.tls').status, 'skipped');
    const payload = byId(r.results, 'network.payload');
    assert.equal(payload.status, 'pass', JSON.stringify(payload.findings));
    assert.equal(payload.figures['largest_ok'], 256 * 1024);
    assert.ok(payload.figures['bandwidth']! > 0);
    assert.equal(payload.findings.filter((f) => f.what.includes('POST /sink with')).length, 9); // 1 KiB … 256 KiB
    assert.equal(r.exitCode, 0);
    assert.deepEqual(
      r.summary.thresholds.map((t) => t.ok),
      [true, true],
    );
    // A load threshold has nothing to read without a load: said, not failed.
    assert.match(r.summary.warnings.join('\n'), /not judged without a load: p99 < 1s/);
  });

  test('a closed port: the connect check errors (exit 3), its figure thresholds have no data', async () => {
    const port = await freePort();
    const r = await check(`
target: { url: http://127.0.0.1:${port} }
checks: { network: { samples: 3, interval: 1ms, timeout: 2s } }
thresholds: [ network.connect.p99 < 5ms ]
`);
    const connect = byId(r.results, 'network.connect');
    assert.equal(connect.status, 'error');
    assert.match(connect.findings[0].evidence ?? '', /ECONNREFUSED/);
    assert.equal(r.summary.thresholds[0].value, null);
    assert.equal(r.exitCode, 3);
    assert.equal(r.summary.verdict, 'failed');
  });

  test('a sweep path that refuses bodies: the payload check fails at the first size', async () => {
    const r = await check(`
target: { url: ${server.url} }
checks: { network: { samples: 1, payload: { path: /v2/health/ready, to: 4KiB } } }
`);
    assert.notEqual(byId(r.results, 'network.payload').status, 'pass');
    assert.equal(r.exitCode, 3);
  });

  test('knee and sizes', () => {
    assert.deepEqual(sweepSizes(1024, 8192), [1024, 2048, 4096, 8192]);
    assert.deepEqual(sweepSizes(1000, 3000), [1000, 2000, 3000]);
    const flat = [1, 1.1, 0.9, 1.2].map((m, i) => ({ bytes: 1024 << i, medianMs: m }));
    assert.equal(kneeOf(flat), null);
    const bent = [1, 1.1, 0.9, 1.2, 5, 9].map((m, i) => ({ bytes: 1024 << i, medianMs: m }));
    assert.equal(kneeOf(bent), 1024 << 4);
    // One slow small size (a busy machine) is not the knee: the latency must stay up from there.
    const noisy = [10, 11, 23, 29, 9.5, 9, 62, 67, 200].map((m, i) => ({ bytes: 1024 << i, medianMs: m }));
    assert.equal(kneeOf(noisy), 1024 << 6);
  });
});

describe('network over TLS', () => {
  let tlsServer: https.Server | undefined;
  let url = '';
  let caFile = '';
  before(async () => {
    const dir = tmp();
    dirs.push(dir);
    const certs = makeCertificates(dir);
    if (!certs) return;
    caFile = certs.caFile;
    tlsServer = https.createServer({ key: certs.key, cert: certs.cert }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => tlsServer!.listen(0, '127.0.0.1', () => r()));
    url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
  });
  after(async () => {
    tlsServer?.closeAllConnections();
    if (tlsServer) await new Promise<void>((r) => tlsServer!.close(() => r()));
  });

  test('handshake percentiles with the plan’s CA; an untrusted certificate is an error with the reason', async (t) => {
    if (!tlsServer) {
      if (process.env['CI']) assert.fail('openssl is needed for the TLS checks test');
      t.skip('openssl not found: TLS check not tested');
      return;
    }
    const trusted = await check(`
target: { url: ${url}, tls: { caFile: ${JSON.stringify(caFile)} } }
checks: { network: { samples: 4, interval: 1ms } }
thresholds: [ network.tls.p99 < 10s ]
`);
    const tls = byId(trusted.results, 'network.tls');
    assert.equal(tls.status, 'pass', JSON.stringify(tls.findings));
    assert.ok(tls.figures['p50']! > 0);
    assert.equal(trusted.exitCode, 0);
    const untrusted = await check(`
target: { url: ${url} }
checks: { network: { samples: 2, interval: 1ms } }
`);
    const bad = byId(untrusted.results, 'network.tls');
    assert.equal(bad.status, 'error');
    assert.match(bad.findings.map((f) => f.evidence ?? '').join(' '), /UNABLE_TO_VERIFY|SELF_SIGNED|unable to verify/i);
    assert.equal(byId(untrusted.results, 'network.connect').status, 'pass');
    assert.equal(untrusted.exitCode, 3);
  });
});

describe('monitoring', () => {
  test('the reference server exposes the named series; a preset’s GPU series only warn', async () => {
    const r = await check(`
target: { url: ${server.url} }
checks:
  monitoring: { scrape: ${server.url}/metrics, expect: [nv_inference_count, nv_inference_request_success], preset: triton }
`);
    assert.equal(byId(r.results, 'monitoring.scrape').status, 'pass');
    const series = byId(r.results, 'monitoring.series');
    assert.equal(series.figures['missing'], 0);
    assert.ok(series.status === 'pass' || series.status === 'warn', series.status);
    assert.equal(r.exitCode, 0);
  });

  test('an endpoint missing a series: listed, the check fails', async () => {
    const r = await check(`
target: { url: ${server.url} }
checks:
  monitoring: { scrape: ${metricsOnly.url}/metrics, expect: [ 'model_requests_total{model="digits"}', model_queue_seconds ] }
`);
    const series = byId(r.results, 'monitoring.series');
    assert.equal(series.status, 'fail');
    assert.equal(series.figures['missing'], 1);
    assert.deepEqual(
      series.findings.filter((f) => f.status === 'fail').map((f) => f.what),
      ['missing: model_queue_seconds (expect)'],
    );
    assert.equal(r.exitCode, 3);
  });
});

describe('deploy', () => {
  test('a command that starts the reference server after 1.5 s: ready ≈ 1.5 s, correct on a known input', async () => {
    const port = await freePort();
    const row = Array.from({ length: 64 }, (_, i) => (i * 7) % 17);
    const r = await check(`
target: { url: http://127.0.0.1:${port} }
checks:
  deploy:
    command: "sleep 1.5; exec '${process.execPath}' '${cli}' serve --port ${port}"
    ready: /v2/health/ready
    timeout: 60s
    poll: 100ms
    inputs:
      - request:
          path: /v2/models/digits/infer
          json: { inputs: [ { name: input, datatype: FP32, shape: [1, 64], data: ${JSON.stringify(row)} } ] }
        expect: [ 'status == 200', '$.outputs[0].name == "probabilities"' ]
    rollback: { command: [true], timeout: 30s }
thresholds: [ deploy.apply.ready < 60s ]
`);
    const apply = byId(r.results, 'deploy.apply');
    assert.equal(apply.status, 'pass', JSON.stringify(apply.findings));
    const ready = apply.figures['ready']!;
    assert.ok(ready >= 1400 && ready < 45_000, `ready after ${ready} ms`);
    assert.ok(apply.figures['correct']! >= ready);
    // The rollback (`true` exits at once) with the server still up: ready and correct at once.
    const rollback = byId(r.results, 'deploy.rollback');
    assert.equal(rollback.status, 'pass', JSON.stringify(rollback.findings));
    assert.equal(r.exitCode, 0);
    // The command that was the server is stopped when the check ends.
    const after = await fetch(`http://127.0.0.1:${port}/v2/health/ready`).then(
      (x) => x.status,
      () => 0,
    );
    assert.equal(after, 0);
  });

  test('a command that fails: its output is the evidence, and the check fails', async () => {
    const port = await freePort();
    const r = await check(`
target: { url: http://127.0.0.1:${port} }
checks:
  deploy: { command: "echo 'deploying model v2'; echo 'error: quota exceeded' >&2; exit 3", timeout: 20s, poll: 50ms }
`);
    const apply = byId(r.results, 'deploy.apply');
    assert.equal(apply.status, 'fail');
    const cmd = apply.findings.find((f) => f.what.includes('exited 3'));
    assert.ok(cmd, JSON.stringify(apply.findings));
    assert.match(cmd.evidence ?? '', /quota exceeded/);
    assert.equal(apply.figures['ready'], null);
    assert.equal(r.exitCode, 3);
  });
});

describe('deploy: HTTP calls, secrets, Ctrl-C', () => {
  test('an HTTP deploy call, then ready; a call answered 500 is an error', async () => {
    const calls: string[] = [];
    const api = await httpServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      if (req.url === '/deploy') res.writeHead(202).end('accepted');
      else if (req.url === '/broken') res.writeHead(500).end('internal');
      else res.writeHead(200).end('ready');
    });
    try {
      const ok = await check(`
target: { url: ${api.url} }
checks: { deploy: { http: { url: ${api.url}/deploy, body: '{"version":"v2"}' }, ready: /healthz, timeout: 10s, poll: 50ms } }
`);
      const apply = byId(ok.results, 'deploy.apply');
      assert.equal(apply.status, 'pass', JSON.stringify(apply.findings));
      assert.ok(apply.figures['command']! >= 0 && apply.figures['ready']! >= apply.figures['command']!);
      assert.deepEqual(calls.slice(0, 2), ['POST /deploy', 'GET /healthz']);
      const bad = await check(`
target: { url: ${api.url} }
checks: { deploy: { http: { url: ${api.url}/broken }, timeout: 10s } }
`);
      assert.equal(byId(bad.results, 'deploy.apply').status, 'error');
      assert.equal(bad.exitCode, 3);
    } finally {
      await api.close();
    }
  });

  test('a secret in the command and its output is redacted from the evidence and the results folder', async () => {
    const port = await freePort();
    const out = tmp();
    dirs.push(out);
    const plan = parsePlan(
      `target: { url: http://127.0.0.1:${port} }
checks: { deploy: { command: 'echo "using token \${DEPLOY_TOKEN}"; exit 1', timeout: 10s } }
`,
      { env: { DEPLOY_TOKEN: 's3cret-deploy-token-value' } },
    );
    const r = await runCheckPlan(plan, { outDir: out });
    const text = JSON.stringify(r.summary.checks);
    assert.ok(!text.includes('s3cret-deploy-token-value'), text);
    assert.match(text, /using token \*\*\*/);
    for (const f of fs.readdirSync(out))
      assert.ok(!fs.readFileSync(path.join(out, f), 'utf8').includes('s3cret-deploy-token-value'), f);
  });

  test('Ctrl-C stops a deploy check that waits: exit 130, the summary kept and marked interrupted', async () => {
    const port = await freePort();
    const { dir, file: planFile } = writePlan(
      `target: { url: http://127.0.0.1:${port} }\nchecks: { deploy: { command: "sleep 60", timeout: 5m, poll: 100ms } }\n`,
    );
    // SIGINT once the deploy check has started (its line on stderr), not after a fixed time: a busy machine loads slowly.
    const t0 = performance.now();
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'check', planFile, '--out', path.join(dir, 'out'), '--no-report'], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      let sent = false;
      child.stderr.on('data', (d) => {
        stderr += d;
        if (!sent && stderr.includes('check deploy:')) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 300);
        }
      });
      const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(kill);
        resolve({ code, stderr });
      });
    });
    assert.equal(r.code, 130, r.stderr);
    assert.ok(performance.now() - t0 < 30_000);
    const summary = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'summary.json'), 'utf8'));
    assert.equal(summary.status, 'interrupted');
    assert.equal(summary.checks.results[0].id, 'deploy.apply');
  });
});

describe('plans and the command', () => {
  test('bad input: a missing program, an unknown kind, a bad figure — all reported at once, located', () => {
    const v = validatePlan(
      `target: { url: http://127.0.0.1:9 }
checks:
  deploy: { command: [no-such-deploy-tool, apply] }
  netwrk: {}
thresholds: [ network.conect.p99 < 5ms, deploy.apply.ready < 10 ]
`,
      { file: 'plan.yaml' },
    );
    assert.equal(v.ok, false);
    const msgs = v.problems.map((p) => `${p.line}: ${p.message} | ${p.hint ?? ''}`);
    assert.equal(v.problems.length, 4, msgs.join('\n'));
    assert.ok(
      msgs.some((m) => /^3: program `no-such-deploy-tool` not found on PATH/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => /^4: unknown key `netwrk`.*did you mean `network`/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => /^5: .*unknown check figure.*did you mean `network.connect.p99`/.test(m)),
      msgs.join('\n'),
    );
    assert.ok(
      msgs.some((m) => /^5: .*deploy.apply.ready.*is a duration/.test(m)),
      msgs.join('\n'),
    );
  });

  test('a threshold on a kind the plan does not have is a problem; a check-only plan needs no scenarios', () => {
    const v = validatePlan(
      `target: { url: http://127.0.0.1:9 }\nchecks: { network: {} }\nthresholds: [ deploy.apply.ready < 1m ]\n`,
    );
    assert.equal(v.ok, false);
    assert.match(v.problems[0].message, /plan has no `checks.deploy`/);
    assert.equal(validatePlan(`target: { url: http://127.0.0.1:9 }\nchecks: { network: {} }\n`).ok, true);
  });

  test('preflight check writes the results folder: junit.xml has one testcase per check with its failing findings', async () => {
    const { dir, file: planFile } = writePlan(`target: { url: ${server.url} }
checks:
  network: { samples: 3, interval: 1ms }
  monitoring: { scrape: ${metricsOnly.url}/metrics, expect: [model_requests_total, model_queue_seconds] }
`);
    const out = path.join(dir, 'out');
    const r = await preflight(['check', planFile, '--out', out], { timeoutMs: 60_000 });
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /monitoring\.series/);
    const junit = fs.readFileSync(path.join(out, 'junit.xml'), 'utf8');
    assert.match(junit, /<testcase classname="[^"]*\.checks\.network" name="network\.connect: [^"]*" time="0"\/>/);
    assert.match(
      junit,
      /<testcase classname="[^"]*\.checks\.monitoring" name="monitoring\.series: [^"]*" time="0">\s*<failure type="CheckFailed" message="✗ missing: model_queue_seconds \(expect\)">/,
    );
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.checks.counts.fail, 1);
    assert.equal(summary.exitCode, 3);
    assert.match(fs.readFileSync(path.join(out, 'summary.md'), 'utf8'), /### Checks/);
    assert.match(fs.readFileSync(path.join(out, 'report.html'), 'utf8'), /id="checks"/);
    // The same plan has no load: `preflight run` says to use `preflight check` (exit 2).
    const run = await preflight(['run', planFile, '--out', path.join(dir, 'run')], { timeoutMs: 30_000 });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /preflight check/);
  });

  test('preflight run runs the checks before the load: a failed check fails the run; --skip-checks leaves them out', async () => {
    const { dir, file: planFile } = writePlan(`target: { url: ${server.url} }
scenarios:
  smoke: { executor: constant-arrival-rate, rate: 5/s, duration: 1s, request: { method: GET, path: /v2/health/ready } }
checks:
  monitoring: { scrape: ${metricsOnly.url}/metrics, expect: [model_queue_seconds] }
thresholds: [ error_rate < 1%, monitoring.series.missing == 0 ]
options: { maxDispatchLag: 2s }   # the server shares the test process: a busy machine is not the subject here
`);
    const out = path.join(dir, 'run');
    const r = await preflight(['run', planFile, '--out', out, '--no-report'], { timeoutMs: 60_000 });
    assert.equal(r.code, 3, r.stderr);
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.checks.results.find((x: CheckResult) => x.id === 'monitoring.series').status, 'fail');
    assert.equal(summary.scenarios.smoke.ok > 0, true);
    assert.deepEqual(
      summary.thresholds.map((t: { expression: string; ok: boolean }) => [t.expression, t.ok]),
      [
        ['error_rate < 1%', true],
        ['monitoring.series.missing == 0', false],
      ],
    );
    const skipped = await preflight(['run', planFile, '--out', out, '--no-report', '--skip-checks'], {
      timeoutMs: 60_000,
    });
    // Not 3: no check, no threshold on one (4 would be a generator overloaded on a very busy machine).
    assert.ok(skipped.code === 0 || skipped.code === 4, `exit ${skipped.code}: ${skipped.stderr}`);
    const s2 = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    assert.equal(s2.checks, undefined);
    assert.deepEqual(
      s2.thresholds.map((t: { expression: string }) => t.expression),
      ['error_rate < 1%'],
    );
  });
});
