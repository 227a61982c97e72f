/**
 * The fault timeline in a real run (plan `faults:`): the load goes through the injector (a real TCP
 * pipe here, src/run/test-fault-injector.ts; the real proxy is src/faults) with the target's Host
 * header; faults are added and removed at their times; actions run at theirs, bounded by their
 * timeouts (a hanging one is killed and reported, a failing one reported, and the run goes on);
 * events go to faults.ndjson and summary.faults; and the injector is closed — no listener left —
 * at the end and on Ctrl-C mid-fault.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Summary } from '../src/core/results.js';
import { parsePlan } from '../src/plan/index.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { run } from '../src/run/index.js';
import { pipeInjectorFactory } from '../src/run/test-fault-injector.js';
import { httpServer, type TestServer } from './helpers/servers.js';

const dirs: string[] = [];
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'pf-timeline-'));
  dirs.push(d);
  return d;
};

/** Refused once nothing listens on the port. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

async function target(): Promise<{ server: TestServer; hosts: Set<string> }> {
  const hosts = new Set<string>();
  const server = await httpServer((req, res) => {
    hosts.add(String(req.headers.host));
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  servers.push(server);
  return { server, hosts };
}

const node = JSON.stringify(process.execPath);

test('faults on and off at their times, actions bounded and reported, events written, the proxy closed', async () => {
  const { server, hosts } = await target();
  const dir = tmp();
  const plan = parsePlan(`
target: { url: ${server.url} }
scenarios:
  steady: { executor: constant-arrival-rate, rate: 40/s, duration: 3s, request: { path: /x } }
faults:
  timeline:
    - { at: 500ms, for: 1s, name: slow, fault: { latency: 100ms, toxicity: 50% } }
    - { at: 1s, for: 1s, fault: { abort: 503 } }
    - { at: 300ms, name: hangs, action: { command: [${node}, -e, "setTimeout(() => {}, 60000)"], timeout: 500ms } }
    - { at: 600ms, name: fails, action: { command: [${node}, -e, "process.stderr.write('boom'); process.exit(3)"] } }
    - { at: 700ms, name: calls, action: { http: { url: "${server.url}/admin" } } }
`);
  const factory = pipeInjectorFactory();
  const logged: string[] = [];
  const r = await run(plan, { outDir: dir, skipTargetCheck: true, faultInjector: factory, log: (l) => logged.push(l) });
  assert.ok(
    logged.some((l) => /^timeline [\d.]+ s: fault on: slow \(latency\)$/.test(l)),
    logged.join('\n'),
  );
  assert.ok(
    logged.some((l) => /^timeline [\d.]+ s: action FAILED: fails — Command node exited 3/.test(l)),
    logged.join('\n'),
  );
  assert.equal(factory.made.length, 1);
  const inj = factory.made[0];
  assert.ok(inj.closed, 'the injector is closed at the end');
  assert.ok(await refused(inj.port), 'no listener left');
  assert.deepEqual([...hosts], [new URL(server.url).host], 'the Host header stays the target’s');
  assert.ok(inj.counts().connections > 0, 'the load went through the proxy');
  assert.equal(r.summary.status, 'completed', 'failed actions do not stop the run');
  assert.ok(r.summary.total.requests >= 100);

  // add/remove calls, in order, with the resolved faults; timing within a generous tolerance
  const adds = inj.calls.filter((c) => c.op === 'add');
  assert.deepEqual(
    adds.map((c) => c.fault?.fault.type),
    ['latency', 'abort'],
  );
  assert.deepEqual(adds[0].fault?.toxicity, { share: 0.5, per: 'request' });
  const removes = inj.calls.filter((c) => c.op === 'remove').map((c) => c.id);
  assert.deepEqual(
    removes,
    adds.map((c) => c.id),
  );
  const s = r.summary.faults!;
  const win = (n: string) => s.windows.find((w) => w.name === n)!;
  assert.ok(Math.abs(win('slow').started_s! - 0.5) < 0.3, `slow started at ${win('slow').started_s}`);
  assert.ok(Math.abs(win('slow').ended_s! - 1.5) < 0.3, `slow ended at ${win('slow').ended_s}`);
  assert.ok(Math.abs(win('abort at 1s').started_s! - 1) < 0.3);

  const end = (n: string) => s.events.find((e) => e.event === 'action_end' && e.name === n)!;
  assert.equal(end('hangs').ok, false);
  assert.match(end('hangs').detail!, /timed out after 500 ms and was killed/);
  assert.ok(end('hangs').t_s < 2.9, 'killed at its timeout, not at the end of the run');
  assert.equal(end('fails').ok, false);
  assert.equal(end('fails').exit_code, 3);
  assert.match(end('fails').detail!, /exited 3 .*boom/);
  assert.equal(end('calls').ok, true);
  assert.equal(end('calls').status, 200);
  assert.ok(r.summary.warnings.some((w) => /action of `fails` failed/.test(w)));
  assert.ok(r.summary.warnings.some((w) => /action of `hangs` failed/.test(w)));

  // faults.ndjson: every event, one a line, as summary.faults has them
  const lines = fs
    .readFileSync(path.join(dir, 'faults.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines, s.events);
  assert.deepEqual(
    lines.filter((e) => e.event === 'fault_on' || e.event === 'fault_off').map((e) => `${e.event} ${e.name}`),
    ['fault_on slow', 'fault_on abort at 1s', 'fault_off slow', 'fault_off abort at 1s'],
  );
  // summary.md lists the timeline
  const md = renderMarkdown(r.summary);
  assert.match(md, /\*\*Fault timeline\*\* \(against `http:\/\/127\.0\.0\.1:\d+`\)/);
  assert.match(md, /- fault `slow` \(latency\): [\d.]+ s – [\d.]+ s/);
  assert.match(md, /❌ action `fails` at [\d.]+ s: Command node exited 3/);
  // plan.resolved.json keeps the target, not the proxy
  const resolved = JSON.parse(fs.readFileSync(path.join(dir, 'plan.resolved.json'), 'utf8'));
  assert.equal(resolved.target.url, server.url);
});

test('Ctrl-C mid-fault: every fault removed at once, the injector closed, no listener left', async () => {
  const { server } = await target();
  const plan = parsePlan(`
target: { url: ${server.url} }
scenarios:
  steady: { executor: constant-arrival-rate, rate: 20/s, duration: 20s, request: { path: /x } }
faults:
  timeline:
    - { at: 200ms, for: 15s, name: long, fault: { latency: 50ms } }
    - { at: 18s, for: 1s, name: never, fault: { down: true } }
`);
  const factory = pipeInjectorFactory();
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 1200);
  const t0 = performance.now();
  const r = await run(plan, { outDir: tmp(), skipTargetCheck: true, faultInjector: factory, signal: ac.signal });
  clearTimeout(timer);
  assert.ok(performance.now() - t0 < 10_000, 'the run stopped at once');
  assert.equal(r.summary.status, 'interrupted');
  const inj = factory.made[0];
  assert.ok(inj.closed);
  assert.deepEqual(inj.active(), []);
  assert.ok(await refused(inj.port), 'no listener left');
  const off = r.summary.faults!.events.find((e) => e.event === 'fault_off' && e.name === 'long');
  assert.equal(off?.reason, 'the run was interrupted');
  assert.ok(!inj.calls.some((c) => c.op === 'add' && c.fault?.name === 'never'), 'nothing starts after the stop');
  const never = r.summary.faults!.windows.find((w) => w.name === 'never');
  assert.equal(never?.started_s, null);
});

test('Ctrl-C while an action runs on: faults.ndjson says what summary.faults says (a late end is not appended after)', async () => {
  // Regression: the run waits 2 s for running actions when interrupted; one that ended later still
  // appended its action_end to faults.ndjson after summary.json was written — the two disagreed.
  const { server } = await target();
  const plan = parsePlan(`
target: { url: ${server.url} }
scenarios:
  steady: { executor: constant-arrival-rate, rate: 20/s, duration: 20s, request: { path: /x } }
faults:
  timeline:
    - { at: 200ms, name: slow, action: { command: [${node}, -e, "setTimeout(() => {}, 3500)"], timeout: 10s } }
`);
  const ac = new AbortController();
  const out = tmp();
  const running = run(plan, {
    outDir: out,
    skipTargetCheck: true,
    faultInjector: pipeInjectorFactory(),
    signal: ac.signal,
  });
  // Interrupt once the action has started (its action_start is the file's first line).
  const ndjson = path.join(out, 'faults.ndjson');
  for (let i = 0; i < 150 && !fs.existsSync(ndjson); i++) await new Promise((res) => setTimeout(res, 100));
  ac.abort();
  const r = await running;
  assert.equal(r.summary.status, 'interrupted');
  await new Promise((res) => setTimeout(res, 3500)); // the action ends meanwhile
  const lines = fs.readFileSync(ndjson, 'utf8').trim().split('\n');
  const written = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { event: string }).event),
    written.faults!.events.map((e) => e.event),
  );
  assert.ok(
    !written.faults!.events.some((e) => e.event === 'action_end'),
    'it had not ended when the summary was made',
  );
});

test('the default injector is the real fault proxy: a latency fault slows exactly its window, and the proxy frames the requests', async () => {
  const { server, hosts } = await target();
  const dir = tmp();
  const plan = parsePlan(`
target: { url: ${server.url} }
options: { interval: 500ms }
scenarios:
  steady: { executor: constant-arrival-rate, rate: 20/s, duration: 3s, request: { path: /x } }
faults:
  timeline: [ { at: 1s, for: 1s, name: slow, fault: { latency: 150ms } } ]
`);
  const r = await run(plan, { outDir: dir, skipTargetCheck: true });
  assert.deepEqual([...hosts], [new URL(server.url).host], 'the Host header stays the target’s');
  const s = r.summary.faults!;
  assert.ok(s.proxy && s.proxy.requests >= 50, JSON.stringify(s.proxy));
  const lines = fs
    .readFileSync(path.join(dir, 'intervals.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { start_s: number; duration_s: number; latency_ms: { p50: number } | null });
  // Windows wholly before and wholly inside the fault (150 ms downstream on every chunk).
  const before = lines.filter((w) => w.latency_ms && w.start_s + w.duration_s <= 1);
  const during = lines.filter((w) => w.latency_ms && w.start_s >= 1 && w.start_s + w.duration_s <= 2);
  assert.ok(before.length > 0 && during.length > 0, JSON.stringify(lines.map((w) => w.start_s)));
  for (const w of before) assert.ok(w.latency_ms!.p50 < 100, `before: ${JSON.stringify(w.latency_ms)}`);
  for (const w of during) assert.ok(w.latency_ms!.p50 >= 140, `during: ${JSON.stringify(w.latency_ms)}`);
});

test('TCP and HTTP faults together through the real proxy: aborts only in their window, latency only in its own', async () => {
  const { server } = await target();
  const before = server.hits;
  const dir = tmp();
  const plan = parsePlan(`
target: { url: ${server.url} }
options: { interval: 500ms }
scenarios:
  steady: { executor: constant-arrival-rate, rate: 40/s, duration: 3s, request: { path: /x } }
faults:
  timeline:
    - { at: 500ms, for: 1s, name: shed, fault: { abort: { status: 503, retryAfter: 1s }, toxicity: 50% } }
    - { at: 2s, for: 500ms, name: slow, fault: { latency: 120ms } }
`);
  const r = await run(plan, { outDir: dir, skipTargetCheck: true });
  const sc = r.summary.scenarios['steady'];
  const aborted = sc.errors['http_5xx'] ?? 0;
  // 50% of the ~40 requests in the 1 s window, drawn per request: well inside 8..32.
  assert.ok(aborted >= 8 && aborted <= 32, `aborted ${aborted}: ${JSON.stringify(sc.errors)}`);
  assert.equal(sc.requests - aborted, server.hits - before, 'aborted requests never reached the target');
  const lines = fs
    .readFileSync(path.join(dir, 'intervals.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map(
      (l) => JSON.parse(l) as { start_s: number; errors: Record<string, number>; latency_ms: { p50: number } | null },
    );
  for (const w of lines.filter((w) => w.start_s < 0.5 || w.start_s >= 1.5))
    assert.equal(w.errors['http_5xx'] ?? 0, 0, `no abort outside its window: ${JSON.stringify(w)}`);
  const slow = lines.find((w) => w.start_s === 2);
  assert.ok(slow?.latency_ms && slow.latency_ms.p50 >= 110, JSON.stringify(slow));
  assert.ok(r.summary.faults!.proxy!.requests >= 100, JSON.stringify(r.summary.faults!.proxy));
});
