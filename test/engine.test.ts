/**
 * The load engine end to end against real HTTP servers on loopback: open and closed workloads,
 * every error class, timing semantics (intended start vs actual send), worker merging, partial
 * results on interrupt. Tolerances are wide: these machines are small and noisy.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { run } from '../src/run/index.js';
import { ExitCode } from '../src/core/exit-codes.js';
import { TargetUnreachableError } from '../src/core/errors.js';
import type { IntervalRecord } from '../src/core/results.js';
import { makeCertificates } from './helpers/certs.js';
import { closedPort, delayServer, httpServer, tcpServer, type TestServer } from './helpers/servers.js';
import { plan, scenario } from './helpers/plans.js';
import { ScenarioRuntime } from '../src/engine/scenario-runtime.js';
import { createPool } from '../src/engine/http-pool.js';
import { nowNs } from '../src/engine/clock.js';
import type { Adapter } from '../src/core/types.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-engine-'));
const readIntervals = (dir: string): IntervalRecord[] =>
  fs
    .readFileSync(path.join(dir, 'intervals.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

test('open workload: constant arrival rate sends the scheduled number of requests', async () => {
  const srv = await delayServer(5);
  servers.push(srv);
  const out = tmp();
  const { summary, exitCode } = await run(
    plan(srv.url, [scenario('steady', { executor: 'constant-arrival-rate', rate: 100, durationMs: 2000 })]),
    { outDir: out },
  );
  const s = summary.scenarios.steady;
  assert.equal(exitCode, ExitCode.Passed);
  assert.equal(s.model, 'open');
  // Exactly 200 arrivals are scheduled in 2 s at 100/s; all are sent.
  assert.equal(s.requests + s.unsent, 200);
  assert.equal(s.unsent, 0);
  assert.equal(s.ok, 200);
  assert.equal(srv.hits, 200);
  assert.ok(s.latency_ms.p50 >= 5, `latency p50 ${s.latency_ms.p50} ≥ server delay`);
  assert.ok(s.service_time_ms.p50 >= 5);
  assert.ok(s.target_rate! > 90 && s.target_rate! <= 100.5, `target rate ${s.target_rate}`);
  // Results folder: summary, plan, per-second intervals.
  const written = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(written.verdict, 'passed');
  assert.ok(fs.existsSync(path.join(out, 'plan.resolved.json')));
  const iv = readIntervals(out);
  assert.ok(iv.length >= 2 && iv.length <= 4, `intervals ${iv.length}`);
  assert.equal(
    iv.reduce((a, r) => a + r.requests, 0),
    200,
  );
  assert.ok(iv[0].hdr.latency.length > 0);
});

test('coordinated omission: with one request in flight, latency counts the wait from the intended start', async () => {
  // Server takes 100 ms; arrivals every 20 ms; only one in flight → arrivals queue behind each other.
  const srv = await delayServer(100);
  servers.push(srv);
  const { summary } = await run(
    plan(srv.url, [scenario('co', { rate: 50, durationMs: 1000, maxInFlight: 1, gracefulStopMs: 3000 })]),
    { outDir: tmp() },
  );
  const s = summary.scenarios.co;
  assert.ok(s.service_time_ms.p50 >= 95 && s.service_time_ms.p50 < 400, `service p50 ${s.service_time_ms.p50}`);
  // Each later arrival waited for all before it: latency grows far beyond service time.
  assert.ok(
    s.latency_ms.max > 3 * s.service_time_ms.p50,
    `latency max ${s.latency_ms.max} vs service ${s.service_time_ms.p50}`,
  );
  assert.ok(s.late > 0, 'late arrivals are counted');
  // Arrivals still waiting at the end are counted as unsent, never silently dropped.
  assert.equal(s.requests + s.unsent + s.cancelled, 50);
  assert.ok(s.unsent > 0);
});

test('closed workload: constant concurrency keeps N users busy; latency equals service time', async () => {
  const srv = await delayServer(20);
  servers.push(srv);
  const { summary } = await run(
    plan(srv.url, [scenario('users', { executor: 'constant-concurrency', concurrency: 4, durationMs: 1500 })]),
    { outDir: tmp() },
  );
  const s = summary.scenarios.users;
  assert.equal(s.model, 'closed');
  // 4 users × ~1500/20 ≈ 300 at most; the machine is slow sometimes, so only bound it.
  assert.ok(s.requests > 60 && s.requests <= 4 * 80, `requests ${s.requests}`);
  assert.ok(Math.abs(s.latency_ms.p50 - s.service_time_ms.p50) < 5, 'intended = actual send');
  assert.ok(summary.warnings.some((w) => w.includes('closed workload')));
});

test('iterations: exactly N requests shared by users, merged exactly across 2 worker threads', async () => {
  const srv = await delayServer(1);
  servers.push(srv);
  const { summary } = await run(
    plan(
      srv.url,
      [scenario('fixed', { executor: 'iterations', concurrency: 3, maxRequests: 101, durationMs: 20_000 })],
      { workers: 2 },
    ),
    { outDir: tmp() },
  );
  assert.equal(summary.scenarios.fixed.requests, 101);
  assert.equal(summary.scenarios.fixed.latency_ms.count, 101);
  assert.equal(srv.hits, 101);
  assert.equal(summary.generator.workers, 2);
});

test('ramping arrival rate follows the stages', async () => {
  const srv = await delayServer(1);
  servers.push(srv);
  const stages = [
    { durationMs: 1000, target: 100 },
    { durationMs: 1000, target: 100 },
  ];
  const { summary } = await run(
    plan(srv.url, [scenario('ramp', { executor: 'ramping-arrival-rate', startRate: 0, stages })]),
    { outDir: tmp() },
  );
  // Λ = 50 (ramp) + 100 (hold) = 150 arrivals, evenly spaced in operational time.
  const s = summary.scenarios.ramp;
  assert.ok(Math.abs(s.requests + s.unsent - 150) <= 1, `requests ${s.requests}`);
});

test('ramping concurrency adds users over time', async () => {
  const srv = await delayServer(10);
  servers.push(srv);
  const out = tmp();
  await run(
    plan(srv.url, [
      scenario('ramp', {
        executor: 'ramping-concurrency',
        startConcurrency: 1,
        stages: [{ durationMs: 3000, target: 10 }],
      }),
    ]),
    { outDir: out },
  );
  const iv = readIntervals(out).filter((r) => r.vus !== undefined);
  assert.ok(iv.length >= 2);
  const peak = Math.max(...iv.map((r) => r.vus!));
  assert.ok(peak > iv[0].vus!, `users grow: ${iv.map((r) => r.vus).join(', ')}`);
  assert.ok(peak >= 5);
});

for (const client of ['auto', 'undici'] as const)
  test(`error classes (client ${client}): refused, reset, timeout, garbage, 4xx, 5xx — counted, and the run goes on`, async () => {
    const refusedPort = await closedPort();
    const reset = await tcpServer((sock) => sock.once('data', () => sock.resetAndDestroy()));
    const hang = await tcpServer(() => {});
    const garbage = await tcpServer((sock) => sock.once('data', () => sock.end('this is not HTTP\r\n\r\n')));
    const notFound = await delayServer(0, 404);
    const broken = await delayServer(0, 503);
    servers.push(reset, hang, garbage, notFound, broken);
    const cases: Array<[string, string, string]> = [
      ['refused', `http://127.0.0.1:${refusedPort}`, 'connection_refused'],
      ['reset', reset.url, 'connection_reset'],
      ['hang', hang.url, 'timeout'],
      ['garbage', garbage.url, 'invalid_response'],
      ['notfound', notFound.url, 'http_4xx'],
      ['broken', broken.url, 'http_5xx'],
    ];
    const p = plan(
      notFound.url,
      cases.map(([name, url]) => scenario(name, { rate: 10, durationMs: 500, target: { url } })),
      { timeoutMs: 300 },
    );
    p.target.client = client;
    const { summary, exitCode } = await run(p, { outDir: tmp(), skipTargetCheck: true });
    assert.equal(summary.generator.http_client, client === 'auto' ? 'builtin' : 'undici');
    for (const [name, , cls] of cases) {
      const s = summary.scenarios[name];
      assert.ok(s.requests >= 4, `${name}: ${s.requests} requests`);
      assert.equal(s.ok, 0, `${name}: none ok`);
      assert.equal(s.errors[cls], s.requests, `${name}: all classified ${cls}, got ${JSON.stringify(s.errors)}`);
      assert.equal(s.error_rate, 1);
      assert.ok(
        (s.error_reasons?.[cls]?.length ?? 0) >= 1,
        `${name}: a reason for ${cls}: ${JSON.stringify(s.error_reasons)}`,
      );
    }
    // No thresholds, but not one request served: the run is invalid, never PASSED.
    assert.equal(exitCode, ExitCode.RunInvalid);
  });

test('a server that closes reused connections unannounced: requests go once more, none is lost or counted as an error', async () => {
  // Answers the first request of each connection, then closes it on the next without answering.
  const srv = await tcpServer((sock) => {
    let n = 0;
    sock.on('data', () => (n++ === 0 ? sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok') : sock.end()));
  });
  servers.push(srv);
  const p = plan(srv.url, [
    scenario('c', { executor: 'iterations', concurrency: 1, maxRequests: 10, durationMs: 10_000 }),
  ]);
  p.target.connections = 1;
  const { summary } = await run(p, { outDir: tmp(), skipTargetCheck: true });
  const s = summary.scenarios.c;
  assert.equal(s.requests, 10);
  assert.equal(s.ok, 10, JSON.stringify(s.errors));
  assert.equal(s.counters['retries.stale_connection'], 9, 'every request after the first found its connection closed');
});

for (const client of ['auto', 'undici'] as const)
  test(`TLS is verified by default; insecure: true is explicit and warned about (client ${client})`, async (t) => {
    // A certificate from a private CA the client is not told about: untrusted, like a self-signed one.
    const certs = makeCertificates(tmp());
    if (!certs) return t.skip('openssl is not available to make certificates');
    const server = https.createServer({ key: certs.key, cert: certs.cert }, (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const strict = plan(url, [scenario('s', { rate: 10, durationMs: 300 })]);
      strict.target.client = client;
      // The pre-load check fails at once (nothing sent); the load clients verify too when it is skipped.
      await assert.rejects(
        run(strict, { outDir: tmp() }),
        (e: TargetUnreachableError) =>
          e.code === 'E_TARGET_UNREACHABLE' && /certificate is not trusted/.test(e.message),
      );
      const verified = await run(strict, { outDir: tmp(), skipTargetCheck: true });
      assert.equal(verified.summary.generator.http_client, client === 'auto' ? 'builtin' : 'undici');
      const s = verified.summary.scenarios.s;
      assert.equal(s.errors.tls, s.requests, `untrusted certificate rejected: ${JSON.stringify(s.errors)}`);
      const p = plan(url, [scenario('s', { rate: 10, durationMs: 300 })]);
      p.target.tls.insecure = true;
      p.target.client = client;
      const insecure = await run(p, { outDir: tmp() });
      assert.equal(insecure.summary.scenarios.s.ok, insecure.summary.scenarios.s.requests);
      assert.ok(insecure.summary.warnings.some((w) => w.includes('tls.insecure')));
      // The CA that signed the certificate given as an extra CA (tls.caFile): verified, and accepted.
      const withCa = plan(url, [scenario('s', { rate: 10, durationMs: 300 })]);
      withCa.target.tls.ca = certs.ca;
      withCa.target.client = client;
      const trusted = await run(withCa, { outDir: tmp() });
      assert.ok(trusted.summary.scenarios.s.requests > 0);
      assert.equal(
        trusted.summary.scenarios.s.ok,
        trusted.summary.scenarios.s.requests,
        JSON.stringify(trusted.summary.scenarios.s.errors),
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

test('unreachable target fails fast before any load', async () => {
  const port = await closedPort();
  await assert.rejects(
    run(plan(`http://127.0.0.1:${port}`, [scenario('x', { rate: 10, durationMs: 500 })]), { outDir: tmp() }),
    (e: unknown) => {
      assert.ok(e instanceof TargetUnreachableError);
      assert.equal(e.exitCode, ExitCode.TargetUnreachable);
      assert.match(e.message, /connection refused/);
      return true;
    },
  );
});

test('thresholds decide the verdict and exit code', async () => {
  const srv = await delayServer(30);
  servers.push(srv);
  const mk = (expression: string, value: number, op: '<' | '>=' = '<') => ({
    expression,
    metric: 'latency',
    stat: 'p99',
    op,
    value,
    abortOnFail: false,
    delayAbortEvalMs: 0,
  });
  const pass = await run(
    plan(srv.url, [scenario('s', { rate: 20, durationMs: 1000 })], { thresholds: [mk('p99 < 5s', 5000)] }),
    { outDir: tmp() },
  );
  assert.equal(pass.exitCode, ExitCode.Passed);
  assert.equal(pass.summary.thresholds[0].ok, true);
  const fail = await run(
    plan(srv.url, [scenario('s', { rate: 20, durationMs: 1000 })], { thresholds: [mk('p99 < 10ms', 10)] }),
    { outDir: tmp() },
  );
  assert.equal(fail.exitCode, ExitCode.ThresholdsFailed);
  assert.equal(fail.summary.verdict, 'failed');
  assert.equal(fail.summary.thresholds[0].ok, false);
  assert.ok(fail.summary.thresholds[0].value! >= 30);
});

test('abortOnFail stops the run early', async () => {
  const srv = await delayServer(0, 500);
  servers.push(srv);
  const th = {
    expression: 'error_rate < 1%',
    metric: 'error_rate',
    op: '<' as const,
    value: 0.01,
    abortOnFail: true,
    delayAbortEvalMs: 0,
  };
  const started = Date.now();
  const { summary, exitCode } = await run(
    plan(srv.url, [scenario('s', { rate: 20, durationMs: 20_000 })], { thresholds: [th] }),
    { outDir: tmp() },
  );
  assert.ok(Date.now() - started < 10_000, 'stopped long before 20 s');
  assert.equal(summary.status, 'aborted');
  assert.equal(exitCode, ExitCode.ThresholdsFailed);
});

test('interrupt: stops within a second, keeps partial results, marked interrupted', async () => {
  const srv = await delayServer(2000); // requests in flight when we stop
  servers.push(srv);
  const out = tmp();
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 1500);
  const started = Date.now();
  const { summary, exitCode } = await run(plan(srv.url, [scenario('long', { rate: 20, durationMs: 60_000 })]), {
    outDir: out,
    signal: ac.signal,
  });
  const stopMs = Date.now() - started - 1500;
  assert.ok(stopMs < 1500, `stopped ${stopMs} ms after the interrupt`);
  assert.equal(exitCode, ExitCode.Interrupted);
  assert.equal(summary.verdict, 'interrupted');
  assert.ok(summary.scenarios.long.cancelled > 0, 'requests in flight were cancelled, not counted as errors');
  const written = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(written.status, 'interrupted');
  assert.ok(readIntervals(out).length >= 1);
});

test('a generator that cannot keep up marks the run invalid (exit 4)', async () => {
  // The load runs in a worker thread; the test hook blocks it for 80 ms every 100 ms, so the
  // generator cannot send on time: exactly what the self-monitor must notice.
  const srv = await delayServer(1);
  servers.push(srv);
  process.env['PREFLIGHT_TEST_BLOCK_WORKER'] = '80:100';
  try {
    const { summary, exitCode } = await run(
      plan(srv.url, [scenario('s', { rate: 50, durationMs: 1500 })], { maxDispatchLagMs: 50 }),
      { outDir: tmp() },
    );
    assert.equal(summary.generator.overloaded, true);
    assert.ok(summary.generator.reasons.length > 0);
    assert.equal(summary.verdict, 'invalid');
    assert.equal(exitCode, ExitCode.RunInvalid);
    assert.ok(summary.warnings.some((w) => w.startsWith('generator_overloaded')));
  } finally {
    delete process.env['PREFLIGHT_TEST_BLOCK_WORKER'];
  }
});

test('a stall that recurs every window is caught by the per-window max (summary.generator.windows_over_limit)', async () => {
  // Issue 10: a ~70 ms stall per window, a few requests at most delayed by it — the lag p99 alone
  // can miss it, but it distorts the tail of what is measured (TTFT p99, inter-token max).
  const srv = await delayServer(1);
  servers.push(srv);
  process.env['PREFLIGHT_TEST_BLOCK_WORKER'] = '70:500';
  try {
    const p = plan(srv.url, [scenario('s', { rate: 5, durationMs: 3000 })], { maxDispatchLagMs: 50 });
    p.options.intervalMs = 500;
    const { summary, exitCode } = await run(p, { outDir: tmp() });
    const w = summary.generator.windows_over_limit!;
    assert.ok(w.count >= 3 && w.count > 0.1 * w.of, `windows over the limit: ${JSON.stringify(w)}`);
    assert.ok(
      summary.generator.reasons.some((r) => /stalled for more than 50 ms in \d+ of \d+ windows/.test(r)),
      summary.generator.reasons.join('; '),
    );
    assert.equal(summary.verdict, 'invalid');
    assert.equal(exitCode, ExitCode.RunInvalid);
  } finally {
    delete process.env['PREFLIGHT_TEST_BLOCK_WORKER'];
  }
});

test('secrets from the plan never reach the results files', async () => {
  let seen = '';
  const srv = await httpServer((req, res, n) => {
    if (n === 0) seen = String(req.headers.authorization);
    res.end('ok');
  });
  servers.push(srv);
  const p = plan(srv.url, [scenario('s', { rate: 10, durationMs: 300 })]);
  p.target.headers = { authorization: 'Bearer s3cr3t-token-value' };
  p.secrets = ['s3cr3t-token-value'];
  const out = tmp();
  await run(p, { outDir: out });
  assert.equal(seen, 'Bearer s3cr3t-token-value', 'the header was sent');
  for (const f of fs.readdirSync(out))
    assert.ok(!fs.readFileSync(path.join(out, f), 'utf8').includes('s3cr3t'), `${f} leaks the secret`);
});

test("a worker thread that dies mid-run: the run ends on time, the surviving worker's load is kept, verdict invalid (exit 4)", async () => {
  const srv = await delayServer(1);
  servers.push(srv);
  const out = tmp();
  process.env['PREFLIGHT_TEST_CRASH_WORKER'] = '1:2500'; // worker 2 of 2 throws 2.5 s after it is ready
  try {
    const started = Date.now();
    const { summary, exitCode } = await run(
      plan(srv.url, [scenario('s', { rate: 100, durationMs: 4000 })], { workers: 2 }),
      { outDir: out },
    );
    assert.ok(Date.now() - started < 10_000, `ended after ${Date.now() - started} ms`);
    assert.equal(exitCode, ExitCode.RunInvalid);
    assert.equal(summary.verdict, 'invalid');
    assert.ok(
      summary.warnings.some((w) => /worker 2 of 2 died mid-run/.test(w)),
      summary.warnings.join(' | '),
    );
    // CPU is sampled over spans of at least half a window: never more than the machine's cores.
    const cpu = summary.generator.cpu_percent;
    assert.ok(cpu.max > 0 && cpu.max <= os.cpus().length * 100 + 25, JSON.stringify(cpu));
    // Worker 1 sent its half for 4 s (200); worker 2's windows until it died (about 2 s: 100).
    const n = summary.scenarios.s.requests;
    assert.ok(n >= 250 && n <= 340, `${n} requests`);
    assert.equal(summary.scenarios.s.ok, n, 'the survivor completed all its requests');
    const lines = fs
      .readFileSync(path.join(out, 'intervals.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as IntervalRecord);
    assert.ok(lines.filter((l) => l.scenario === 's').length >= 4, 'every second of the run has its window');
  } finally {
    delete process.env['PREFLIGHT_TEST_CRASH_WORKER'];
  }
});

test('interrupted before load starts: summary written, no crash (workers 1 and 2)', async () => {
  const srv = await delayServer(0);
  servers.push(srv);
  for (const workers of [1, 2]) {
    const out = tmp();
    const ac = new AbortController();
    ac.abort(); // Ctrl-C while the target was checked / adapters prepared
    const { summary, exitCode } = await run(
      plan(srv.url, [scenario('s', { rate: 20, durationMs: 5000 })], { workers }),
      { outDir: out, signal: ac.signal },
    );
    assert.equal(exitCode, ExitCode.Interrupted, `workers ${workers}`);
    assert.equal(summary.scenarios.s.requests, 0);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')).status, 'interrupted');
  }
});

for (const client of ['auto', 'undici'] as const)
  test(`graceful stop ends with requests still queued for a connection (client ${client}): they are counted as cancelled`, async () => {
    const srv = await delayServer(4000);
    servers.push(srv);
    const p = plan(srv.url, [scenario('q', { rate: 20, durationMs: 500, gracefulStopMs: 300 })]);
    p.target.connections = 1; // one request on the socket, the rest queued in the pool
    p.target.client = client;
    const started = Date.now();
    const { summary } = await run(p, { outDir: tmp(), skipTargetCheck: true });
    const s = summary.scenarios.q;
    assert.equal(
      s.requests + s.unsent + s.cancelled,
      10,
      JSON.stringify({ requests: s.requests, unsent: s.unsent, cancelled: s.cancelled }),
    );
    assert.equal(s.cancelled, 10);
    assert.ok(Date.now() - started < 3000, `stopped in ${Date.now() - started} ms`);
  });

test('abortOnFail on throughput judges the time measured so far, not the whole planned duration', async () => {
  const srv = await delayServer(1);
  servers.push(srv);
  const th = {
    expression: 's.throughput >= 10/s',
    scenario: 's',
    metric: 'throughput',
    op: '>=' as const,
    value: 10,
    abortOnFail: true,
    delayAbortEvalMs: 0,
  };
  const { summary, exitCode } = await run(
    plan(srv.url, [scenario('s', { rate: 20, durationMs: 4000 })], { thresholds: [th] }),
    { outDir: tmp() },
  );
  assert.equal(summary.status, 'completed', `warnings: ${summary.warnings.join(' | ')}`);
  assert.equal(exitCode, ExitCode.Passed);
  assert.equal(summary.scenarios.s.requests, 80);
});

for (const client of ['auto', 'undici'] as const)
  test(`dispatch lag is measured to the actual send (client ${client}): waiting for a pooled connection counts, and the request is late`, async () => {
    const srv = await delayServer(100);
    servers.push(srv);
    const p = plan(srv.url, [
      scenario('c', { executor: 'iterations', concurrency: 2, maxRequests: 6, durationMs: 10_000 }),
    ]);
    p.target.connections = 1; // two users, one connection: every other request waits ~100 ms in the pool
    p.target.client = client;
    const { summary } = await run(p, { outDir: tmp(), skipTargetCheck: true });
    const s = summary.scenarios.c;
    assert.equal(s.requests, 6);
    assert.ok(s.dispatch_lag_ms.max >= 50, `dispatch lag max ${s.dispatch_lag_ms.max} ms includes the pool wait`);
    // latency = dispatch lag + service time, request by request; so the means add up.
    assert.ok(
      Math.abs(s.latency_ms.mean - (s.dispatch_lag_ms.mean + s.service_time_ms.mean)) < 5,
      JSON.stringify([s.latency_ms.mean, s.dispatch_lag_ms.mean, s.service_time_ms.mean]),
    );
    assert.ok(s.late >= 2, `late ${s.late}`);
  });

test('an adapter whose judge throws: the request is still counted (as an error) and its owner told', async () => {
  const srv = await delayServer(0);
  servers.push(srv);
  const adapter: Adapter = {
    protocol: 'http',
    bodyMode: 'full',
    request: () => ({ method: 'GET', path: '/', headers: {} }),
    judge: () => {
      throw new Error('judge bug');
    },
  };
  const { done, rt } = await sendOne(srv.url, adapter);
  assert.equal(done, true, 'the owner (a virtual user, an executor) hears the request finished');
  assert.equal(rt.inFlight, 0);
  assert.equal(rt.metrics.requests, 1);
  assert.equal(rt.metrics.ok, 0);
});

/** Sends one request through a fresh ScenarioRuntime; done: its owner heard it finish (within 3 s). */
async function sendOne(url: string, adapter: Adapter): Promise<{ done: boolean; rt: ScenarioRuntime }> {
  const pool = createPool(url, { connections: null, connectTimeoutMs: 2000, tls: { insecure: false } });
  const rt = new ScenarioRuntime(scenario('one', { rate: 1, durationMs: 1000 }), adapter, pool, 2000);
  try {
    const done = await Promise.race([
      new Promise<boolean>((resolve) => rt.send(nowNs(), 0, { onRequestDone: () => resolve(true) })),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000)),
    ]);
    return { done, rt };
  } finally {
    await pool.destroy();
  }
}

test('an adapter without a judge: the one status rule applies (a 302 that is not followed is an error, a 200 ok)', async () => {
  const redirect = await httpServer((_req, res) => {
    res.writeHead(302, { location: '/elsewhere' });
    res.end();
  });
  const fine = await delayServer(0);
  servers.push(redirect, fine);
  const adapter: Adapter = {
    protocol: 'http',
    bodyMode: 'none',
    request: () => ({ method: 'GET', path: '/', headers: {} }),
  };
  for (const [srv, ok] of [
    [redirect, 0],
    [fine, 1],
  ] as const) {
    const { done, rt } = await sendOne(srv.url, adapter);
    assert.equal(done, true);
    assert.equal(rt.metrics.requests, 1);
    assert.equal(rt.metrics.ok, ok, `${srv.url}: ok ${rt.metrics.ok}`);
  }
});

test('maxInFlight caps the scenario, not each worker thread', async () => {
  let now = 0;
  let peak = 0;
  const srv = await httpServer((_req, res) => {
    peak = Math.max(peak, ++now);
    setTimeout(() => {
      now--;
      res.end('ok');
    }, 400);
  });
  servers.push(srv);
  const { summary } = await run(
    plan(srv.url, [scenario('cap', { rate: 20, durationMs: 1000, maxInFlight: 2, gracefulStopMs: 3000 })], {
      workers: 2,
    }),
    { outDir: tmp() },
  );
  const s = summary.scenarios.cap;
  assert.ok(peak <= 2, `${peak} requests in flight at once, cap 2`);
  assert.equal(s.requests + s.unsent + s.cancelled, 20);
});
