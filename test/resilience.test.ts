/**
 * The resilience profile against a loopback server of known behaviour: it answers 503 for exactly
 * 5 s from the moment the timeline's HTTP action asks it to (its own timer). The answer must give a
 * recovery time consistent with 5 s at the windows' resolution, detect the outage within one window,
 * count the requests lost as about 5 s of the load, and gate `resilience.*` thresholds.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPlan, parsePlan } from '../src/plan/index.js';
import { runProfile, scaleProfile } from '../src/profiles/index.js';
import { startServer } from '../src/server/index.js';
import { root } from './helpers/cli.js';
import { pipeInjectorFactory } from '../src/run/test-fault-injector.js';
import { httpServer, type TestServer } from './helpers/servers.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const OUTAGE_MS = 5000;

/** 200 after 2 ms; POST /fail → 503 for exactly OUTAGE_MS from then. */
async function outageServer(): Promise<TestServer & { failedAt: () => number | null }> {
  let failUntil = 0;
  let failedAt: number | null = null;
  const s = await httpServer((req, res) => {
    if (req.url === '/fail') {
      failedAt = performance.now();
      failUntil = failedAt + OUTAGE_MS;
      res.writeHead(200).end('failing');
      return;
    }
    const failing = performance.now() < failUntil;
    setTimeout(() => {
      res.writeHead(failing ? 503 : 200, { 'content-type': 'text/plain' });
      res.end(failing ? 'down' : 'ok');
    }, 2);
  });
  servers.push(s);
  return Object.assign(s, { failedAt: () => failedAt });
}

test('a 5 s outage: detected within a window, recovered within a window of its end, ~5 s of requests lost', async () => {
  const server = await outageServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pf-resilience-'));
  dirs.push(dir);
  const rate = 40;
  const plan = parsePlan(`
target: { url: ${server.url} }
profile: { type: resilience, rate: ${rate}/s, duration: 11s, recovery: { windows: 2 } }
scenario: { request: { path: /infer } }
options: { interval: 500ms }
faults:
  timeline:
    - { at: 3s, for: 5s, name: outage, action: { http: { url: "${server.url}/fail" }, timeout: 2s } }
thresholds: [ "p99 < 250ms", "error_rate < 1%", "resilience.recovery_s < 2", "resilience.lost < 1" ]
`);
  const r = await runProfile(plan, { outDir: dir, skipTargetCheck: true, faultInjector: pipeInjectorFactory() });
  const a = r.answer as unknown as {
    numbers: Record<string, number | boolean | null>;
    windows: Array<{
      name: string;
      slo_held: boolean;
      detect_s: number | null;
      recovered: boolean;
      recovery_s: number | null;
      lost: number;
      errors: Record<string, number>;
      error_rate: number;
    }>;
  };
  assert.equal(a.windows.length, 1, r.answer.answer);
  const w = a.windows[0];
  const interval = 0.5;
  assert.equal(w.name, 'outage');
  assert.equal(w.slo_held, false, 'a 503 outage breaks the SLO');
  // At the windows' resolution: the outage shows in the window it starts in (≤ 1 window), and the
  // target is good again in the window after it ends. The action's own HTTP call (and the timers on
  // 2 shared, busy cores) may shift the server's outage by a little against the window's times, so
  // one more window of slack.
  const slack = interval + 0.15;
  assert.ok(w.detect_s !== null && w.detect_s <= interval + slack, `detected after ${w.detect_s}: ${r.answer.answer}`);
  assert.ok(w.recovered, r.answer.answer);
  assert.ok(
    w.recovery_s !== null && w.recovery_s <= interval + slack,
    `recovery ${w.recovery_s} s: ${r.answer.answer}`,
  );
  // Lost: the outage's share of the load (5 s × 40/s = 200), ± a window of the load each side.
  const expected = (OUTAGE_MS / 1000) * rate;
  assert.ok(Math.abs(w.lost - expected) <= rate * interval * 2 + 5, `lost ${w.lost}, expected about ${expected}`);
  assert.ok((w.errors['status_5xx'] ?? w.errors['http_5xx'] ?? Object.values(w.errors)[0]) > 0.8 * expected * 0.9);
  assert.match(
    r.answer.answer,
    /`outage` \(http, .*the SLO broke.*detected after .*recovered .* after it ended; \d+ requests lost\./,
  );
  // Thresholds: the SLO on the baseline (met), resilience.* on the answer.
  const th = r.summary.thresholds;
  assert.ok(th.find((t) => t.expression === 'baseline: p99 < 250ms')?.ok);
  assert.ok(th.find((t) => t.expression === 'baseline: error_rate < 1%')?.ok);
  assert.equal(th.find((t) => t.expression === 'resilience.recovery_s < 2')?.ok, true);
  assert.equal(th.find((t) => t.expression === 'resilience.lost < 1')?.ok, false);
  assert.equal(r.summary.verdict, 'failed', 'resilience.lost < 1 failed');
  assert.equal(r.exitCode, 3);
  assert.equal(r.answer.verdict, 'failed');
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  assert.equal(saved.profiles.resilience.windows[0].name, 'outage');
  assert.equal(saved.faults.windows[0].name, 'outage');
});

test('examples/resilience-outage.yaml (actions only: no proxy) against the reference server, time-scaled', async () => {
  const server = await startServer({ port: 0, instances: 1, admin: true });
  try {
    const file = path.join(root, 'examples', 'resilience-outage.yaml');
    const loaded = await loadPlan(file);
    const origin = 'http://127.0.0.1:8000';
    const here = (u: string) => u.replace(origin, server.url);
    const plan = scaleProfile(
      {
        ...loaded,
        target: { ...loaded.target, url: server.url },
        faults: {
          target: server.url,
          timeline: loaded.faults!.timeline.map((e) =>
            e.kind === 'action' && e.action.kind === 'http' && e.undo?.kind === 'http'
              ? { ...e, action: { ...e.action, url: here(e.action.url) }, undo: { ...e.undo, url: here(e.undo.url) } }
              : e,
          ),
        },
      },
      0.1,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pf-resilience-ex-'));
    dirs.push(dir);
    // No faultInjector: a timeline of actions only opens no proxy.
    const r = await runProfile(plan, { outDir: dir });
    const a = r.answer as unknown as {
      windows: Array<{ name: string; errors: Record<string, number>; lost: number; recovered: boolean }>;
    };
    assert.equal(a.windows.length, 1, r.answer.answer);
    const w = a.windows[0];
    assert.equal(w.name, 'outage');
    // 1.5 s of a 50/s load failed: about 75 requests (± a few windows' worth).
    assert.ok(w.lost > 40 && w.lost < 130, `lost ${w.lost}: ${r.answer.answer}`);
    assert.ok(w.recovered, r.answer.answer);
    assert.equal(r.summary.faults?.proxy, undefined, 'no proxy');
    assert.ok(
      r.summary.faults!.events.every((e) => e.event !== 'action_end' || e.ok),
      JSON.stringify(r.summary.faults!.events),
    );
  } finally {
    await server.close();
  }
});

test('examples/resilience-network.yaml through the real fault proxy (TCP latency, HTTP 503s, upstream down), time-scaled', async () => {
  const server = await startServer({ port: 0, instances: 1 });
  try {
    const loaded = await loadPlan(path.join(root, 'examples', 'resilience-network.yaml'));
    const plan = scaleProfile(
      { ...loaded, target: { ...loaded.target, url: server.url }, faults: { ...loaded.faults!, target: server.url } },
      0.1,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pf-resilience-net-'));
    dirs.push(dir);
    const r = await runProfile(plan, { outDir: dir }); // the default injector: src/faults' proxy
    const a = r.answer as unknown as {
      windows: Array<{ name: string; errors: Record<string, number>; p99_ms: number | null; requests: number }>;
    };
    const w = Object.fromEntries(a.windows.map((x) => [x.name, x]));
    assert.deepEqual(Object.keys(w), ['slow network', 'shedding', 'upstream down'], r.answer.answer);
    // Half the requests 200 ms (± 50) slower, drawn per request: the window's p99 carries the fault.
    assert.ok((w['slow network'].p99_ms ?? 0) >= 150, JSON.stringify(w['slow network']));
    // 10% of inference calls answered 503 by the proxy.
    assert.ok((w['shedding'].errors['http_5xx'] ?? 0) > 0, JSON.stringify(w['shedding']));
    // Down: connections refused or closed.
    const down = w['upstream down'];
    assert.ok(Object.values(down.errors).reduce((x, y) => x + y, 0) > 0, JSON.stringify(down));
    assert.ok(r.summary.faults!.proxy!.requests > 0, JSON.stringify(r.summary.faults!.proxy));
    assert.ok(
      r.summary.faults!.events.filter((e) => e.event === 'fault_on').every((e) => e.ok !== false),
      JSON.stringify(r.summary.faults!.events),
    );
  } finally {
    await server.close();
  }
});

test('two fault windows, the first not recovered when the second starts: no request is lost twice', async () => {
  // Regression: a window's losses ran until its recovery — past the next window's start — so the
  // second window's failures were counted in both, and `resilience.lost` exceeded the failures.
  const server = await outageServer();
  const other = await httpServer((_req, res) => res.writeHead(200).end('ok'));
  servers.push(other);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pf-resilience-'));
  dirs.push(dir);
  const plan = parsePlan(`
target: { url: ${server.url} }
profile: { type: resilience, rate: 40/s, duration: 10s, recovery: { windows: 2 } }
scenario: { request: { path: /infer } }
options: { interval: 500ms }
faults:
  timeline:
    - { at: 2s, for: 1s, name: first, action: { http: { url: "${server.url}/fail" }, timeout: 2s } }
    - { at: 4s, for: 1s, name: second, action: { http: { url: "${other.url}/noop" }, timeout: 2s } }
`);
  const r = await runProfile(plan, { outDir: dir, skipTargetCheck: true, faultInjector: pipeInjectorFactory() });
  const a = r.answer as unknown as { numbers: Record<string, number>; windows: Array<{ name: string; lost: number }> };
  const failed = r.summary.total.requests - r.summary.total.ok;
  assert.ok(failed > 100, `the 5 s outage failed ${failed} requests`);
  assert.deepEqual(
    a.windows.map((w) => w.name),
    ['first', 'second'],
  );
  assert.ok(a.numbers['lost'] <= failed, `lost ${a.numbers['lost']} of ${failed} failed: ${r.answer.answer}`);
  assert.ok(a.numbers['lost'] >= 0.8 * failed, `lost ${a.numbers['lost']} of ${failed} failed`);
});

test('a resilience plan whose first fault leaves no baseline before it is a located error', async () => {
  const { validatePlan } = await import('../src/plan/index.js');
  const r = validatePlan(
    `
target: { url: http://127.0.0.1:9 }
profile: { type: resilience, rate: 10/s, duration: 20s }
scenario: { request: { path: / } }
faults:
  timeline:
    - { at: 10s, for: 2s, fault: { latency: 100ms } }
    - { at: 1s, for: 2s, fault: { latency: 50ms } }
`,
    { env: {} },
  );
  assert.deepEqual(
    r.problems.map((p) => `${p.line}:${p.path}: ${p.message}`),
    [
      '8:faults.timeline[1].at: the first entry starts at 1s: the resilience profile needs a baseline before it (a whole window after a warm-up: at least 2s)',
    ],
  );
});
