/**
 * Responses that never finish must not pass (issue 10, item 2), against real misbehaving servers on
 * loopback, for both clients: the request timeout is a deadline for the whole response, requests
 * still in flight at the stop count as failed, a run that served nothing is not PASSED, and the
 * summary says why requests failed (error_reasons).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { run } from '../src/run/index.js';
import { ExitCode } from '../src/core/exit-codes.js';
import type { ThresholdPlan } from '../src/plan/types.js';
import { closedPort, delayServer, tcpServer, type TestServer } from './helpers/servers.js';
import { plan, scenario } from './helpers/plans.js';
import { preflight } from './helpers/cli.js';

const servers: TestServer[] = [];
/** Drip timers still running (cleared when their socket closes; all cleared at the end). */
const drips = new Set<NodeJS.Timeout>();
after(async () => {
  for (const t of drips) clearInterval(t);
  for (const s of servers) await s.close();
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-timeouts-'));

/** Answers every request with a head announcing 1000 bytes, then drips the body one byte per 100 ms. */
async function dripServer(): Promise<TestServer> {
  const srv = await tcpServer((sock) => {
    let buffered = '';
    sock.on('data', (d) => {
      buffered += d.toString('latin1');
      if (!buffered.includes('\r\n\r\n')) return;
      buffered = '';
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n');
      let sent = 0;
      const t = setInterval(() => {
        if (sock.destroyed || ++sent > 1000) {
          clearInterval(t);
          drips.delete(t);
          return;
        }
        sock.write('x');
      }, 100);
      drips.add(t);
      sock.once('close', () => {
        clearInterval(t);
        drips.delete(t);
      });
    });
  });
  servers.push(srv);
  return srv;
}

/** Sends the head of every response, then nothing. */
async function headThenStallServer(): Promise<TestServer> {
  const srv = await tcpServer((sock) =>
    sock.on('data', () => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n')),
  );
  servers.push(srv);
  return srv;
}

/** Accepts connections, reads requests, never answers. */
async function silentServer(): Promise<TestServer> {
  const srv = await tcpServer((sock) => sock.resume());
  servers.push(srv);
  return srv;
}

const errorRateBelow1pct: ThresholdPlan = {
  expression: 'error_rate < 1%',
  metric: 'error_rate',
  op: '<',
  value: 0.01,
  abortOnFail: false,
  delayAbortEvalMs: 0,
};

for (const client of ['auto', 'undici'] as const) {
  test(`timeout is a deadline for the whole response (client ${client}): drip body, head then stall, no answer → class timeout at about the timeout`, async () => {
    const drip = await dripServer();
    const stall = await headThenStallServer();
    const silent = await silentServer();
    const cases: Array<[string, string, RegExp]> = [
      ['drip', drip.url, /not complete within the request timeout/],
      ['stall', stall.url, /not complete within the request timeout/],
      ['silent', silent.url, /no response head within the request timeout/],
    ];
    const p = plan(
      drip.url,
      cases.map(([name, url]) => scenario(name, { rate: 5, durationMs: 1000, gracefulStopMs: 5000, target: { url } })),
      { timeoutMs: 1000 },
    );
    p.target.client = client;
    const started = Date.now();
    const { summary, exitCode } = await run(p, { outDir: tmp(), skipTargetCheck: true });
    assert.ok(
      Date.now() - started < 5000,
      `the run ended ${Date.now() - started} ms after it started: requests did not wait for the graceful stop`,
    );
    for (const [name, , reason] of cases) {
      const s = summary.scenarios[name];
      assert.equal(
        s.requests,
        5,
        `${name}: ${JSON.stringify({ requests: s.requests, cancelled: s.cancelled, errors: s.errors })}`,
      );
      assert.equal(s.cancelled, 0, `${name}: timed out, not cancelled at the stop`);
      assert.equal(s.errors.timeout, 5, `${name}: ${JSON.stringify(s.errors)}`);
      assert.equal(s.error_rate, 1);
      assert.equal(s.ok_throughput, 0);
      // Never early, at most a few ticks late (generous: noisy machines).
      assert.ok(
        s.service_time_ms.min >= 990 && s.service_time_ms.max < 2500,
        `${name}: service time ${s.service_time_ms.min}–${s.service_time_ms.max} ms with timeout 1 s`,
      );
      assert.equal(s.error_reasons?.timeout?.length, 1, `${name}: ${JSON.stringify(s.error_reasons)}`);
      assert.match(s.error_reasons!.timeout![0], reason);
      assert.match(s.error_reasons!.timeout![0], /1000 ms/);
    }
    assert.equal(summary.verdict, 'invalid', 'nothing was served: not PASSED, even without thresholds');
    assert.equal(exitCode, ExitCode.RunInvalid);
    assert.ok(
      summary.warnings.some((w) => /no_request_succeeded: scenario drip/.test(w)),
      summary.warnings.join(' | '),
    );
  });

  test(`requests still in flight at the graceful stop count as failed (client ${client}): a drip body with the default 30 s timeout`, async () => {
    const drip = await dripServer();
    const p = plan(drip.url, [scenario('d', { rate: 10, durationMs: 500, gracefulStopMs: 300 })], {
      timeoutMs: 30_000,
      thresholds: [errorRateBelow1pct],
    });
    p.target.client = client;
    const { summary, exitCode } = await run(p, { outDir: tmp(), skipTargetCheck: true });
    const s = summary.scenarios.d;
    assert.equal(s.requests, 0);
    assert.equal(s.cancelled, 5, JSON.stringify({ requests: s.requests, unsent: s.unsent, cancelled: s.cancelled }));
    assert.equal(s.error_rate, 1, 'cancelled at the stop = not served');
    assert.equal(summary.total.error_rate, 1);
    assert.deepEqual(
      [summary.thresholds[0].ok, summary.thresholds[0].value],
      [false, 1],
      JSON.stringify(summary.thresholds),
    );
    assert.equal(summary.verdict, 'failed');
    assert.equal(exitCode, ExitCode.ThresholdsFailed);
    assert.ok(
      summary.warnings.some((w) => /5 requests were still in flight when the graceful stop \(0\.3 s\) ended/.test(w)),
      summary.warnings.join(' | '),
    );
    // Without thresholds: invalid, never passed.
    const bare = plan(drip.url, [scenario('d', { rate: 10, durationMs: 500, gracefulStopMs: 300 })], {
      timeoutMs: 30_000,
    });
    bare.target.client = client;
    const r2 = await run(bare, { outDir: tmp(), skipTargetCheck: true });
    assert.equal(r2.summary.verdict, 'invalid');
    assert.equal(r2.exitCode, ExitCode.RunInvalid);
  });

  test(`a 1 MB response header is invalid_response (client ${client}), with its reason`, async () => {
    const big = 'x'.repeat(1024 * 1024);
    const srv = await tcpServer((sock) =>
      sock.once('data', () =>
        sock.write(`HTTP/1.1 200 OK\r\nX-Big: ${big}\r\nContent-Length: 2\r\n\r\nok`, () => sock.end()),
      ),
    );
    servers.push(srv);
    const p = plan(srv.url, [
      scenario('h', { executor: 'iterations', concurrency: 1, maxRequests: 3, durationMs: 10_000 }),
    ]);
    p.target.client = client;
    const { summary } = await run(p, { outDir: tmp(), skipTargetCheck: true });
    const s = summary.scenarios.h;
    assert.equal(s.requests, 3);
    assert.equal(s.errors.invalid_response, 3, JSON.stringify(s.errors));
    assert.match(s.error_reasons!.invalid_response![0], /HEADER.?S?_OVERFLOW/i);
  });
}

test('throughput counts completed requests, ok_throughput only served ones; failing fast does not look like serving', async () => {
  const ok = await delayServer(1);
  servers.push(ok);
  const refused = await closedPort();
  const p = plan(ok.url, [
    scenario('good', { rate: 20, durationMs: 1000 }),
    scenario('bad', { rate: 20, durationMs: 1000, target: { url: `http://127.0.0.1:${refused}` } }),
  ]);
  const { summary } = await run(p, { outDir: tmp(), skipTargetCheck: true });
  const good = summary.scenarios.good;
  const bad = summary.scenarios.bad;
  assert.equal(good.ok, 20);
  assert.equal(good.ok_throughput, good.throughput);
  assert.ok(bad.throughput > 10, `refused requests complete quickly: ${bad.throughput}/s`);
  assert.equal(bad.ok_throughput, 0);
  assert.match(bad.error_reasons!.connection_refused![0], /ECONNREFUSED/);
  assert.deepEqual(Object.keys(good.error_reasons ?? {}), []);
  assert.match(summary.total.error_reasons!.connection_refused![0], /ECONNREFUSED/);
  // One scenario served nothing: the run is invalid even though the other was fine.
  assert.equal(summary.verdict, 'invalid');
  assert.ok(
    summary.warnings.some((w) =>
      /no_request_succeeded: scenario bad: not one of its 20 requests succeeded \(20 failed \(connection_refused 20\)\)/.test(
        w,
      ),
    ),
    summary.warnings.join(' | '),
  );
  assert.ok(!summary.warnings.some((w) => /scenario good/.test(w)));
});

test('error reasons of HTTP failures name the status; secrets in messages are redacted', async () => {
  const srv = await delayServer(0, 503);
  servers.push(srv);
  const p = plan(srv.url, [scenario('s', { rate: 10, durationMs: 500 })]);
  // The target's port stands in for a secret that would appear in a message (e.g. a URL with a token).
  const refused = await closedPort();
  const p2 = plan(srv.url, [
    scenario('r', { rate: 10, durationMs: 300, target: { url: `http://127.0.0.1:${refused}` } }),
  ]);
  p2.secrets = [`127.0.0.1:${refused}`];
  const [a, b] = [
    await run(p, { outDir: tmp(), skipTargetCheck: true }),
    await run(p2, { outDir: tmp(), skipTargetCheck: true }),
  ];
  assert.deepEqual(a.summary.scenarios.s.error_reasons, { http_5xx: ['HTTP 503'] });
  const reasons = JSON.stringify(b.summary.scenarios.r.error_reasons);
  assert.match(reasons, /ECONNREFUSED/);
  assert.ok(!reasons.includes(`127.0.0.1:${refused}`), reasons);
  assert.match(reasons, /\*\*\*/);
});

// The command as a user runs it: a run whose responses never finish does not exit 0.

test('CLI: a drip-body target with timeout 1s exits 4 without thresholds and 3 with error_rate < 1%, and says why', async () => {
  const drip = await dripServer();
  const dir = tmp();
  const planText = (thresholds: string) => `target:
  url: ${drip.url}
  timeout: 1s
scenarios:
  drip:
    executor: constant-arrival-rate
    rate: 5/s
    duration: 1s
    request: { method: GET, path: / }
${thresholds}`;
  const file = path.join(dir, 'plan.yaml');
  fs.writeFileSync(file, planText(''));
  const bare = await preflight(['run', file, '--out', path.join(dir, 'bare')]);
  assert.equal(bare.code, ExitCode.RunInvalid, bare.stdout + bare.stderr);
  assert.match(bare.stdout, /INVALID/);
  assert.match(bare.stdout, /no_request_succeeded/);
  assert.match(bare.stdout, /timeout: .*not complete within the request timeout \(1000 ms/);
  assert.doesNotMatch(bare.stdout, /PASSED/);
  fs.writeFileSync(file, planText('thresholds:\n  - error_rate < 1%\n'));
  const gated = await preflight(['run', file, '--out', path.join(dir, 'gated')]);
  assert.equal(gated.code, ExitCode.ThresholdsFailed, gated.stdout + gated.stderr);
  const summary = JSON.parse(fs.readFileSync(path.join(dir, 'gated', 'summary.json'), 'utf8'));
  assert.equal(summary.scenarios.drip.errors.timeout, 5);
  assert.equal(summary.scenarios.drip.error_rate, 1);
  for (const f of ['summary.md', 'report.html'])
    assert.match(
      fs.readFileSync(path.join(dir, 'gated', f), 'utf8'),
      /not complete within the request timeout/,
      `${f} shows the reason`,
    );
});

// A connection-level guard: the drip server really keeps a socket open (so the tests above test a stall).
test('the drip server keeps dripping (sanity of the test server)', async () => {
  const drip = await dripServer();
  const got = await new Promise<number>((resolve) => {
    const sock = net.connect(drip.port, '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    let n = 0;
    sock.on('data', (d) => (n += d.length));
    setTimeout(() => {
      sock.destroy();
      resolve(n);
    }, 450);
  });
  assert.ok(got > 60 && got < 200, `${got} bytes in 450 ms: a head and a few body bytes`);
});
