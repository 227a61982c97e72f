/**
 * End to end against a server with a known capacity (200 requests/s, FIFO): stress finds the
 * breaking point and tells shedding (503, bounded queue) from an unbounded queue; capacity finds
 * the capacity within its precision; sweep puts the knee at the capacity. Short steps, 127.0.0.1.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode } from '../core/exit-codes.js';
import type { Summary } from '../core/results.js';
import { parsePlan } from '../plan/index.js';
import { runProfile } from './run-profile.js';
import { capacityServer, tempDirs, type TestServer } from './test-servers.js';

const CAPACITY = 200;
const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
const dirs = tempDirs('preflight-profile-');
after(() => dirs.removeAll());
const tmp = (): string => dirs.make();

async function profile(server: TestServer, yaml: string) {
  const plan = parsePlan(
    `target: { url: ${server.url}, timeout: 10s }\nscenario: { request: { path: / }, gracefulStop: 2s }\n${yaml}`,
  );
  const outDir = tmp();
  const r = await runProfile(plan, { outDir });
  const written = JSON.parse(fs.readFileSync(path.join(outDir, 'summary.json'), 'utf8')) as Summary;
  return { ...r, written };
}

test('stress: a server that sheds with 503 breaks gracefully just above its capacity', async () => {
  const srv = await capacityServer({ capacity: CAPACITY, maxQueue: 10 });
  servers.push(srv);
  const r = await profile(
    srv,
    'profile: { type: stress, startRate: 100/s, rateStep: 50/s, maxRate: 400/s, stepDuration: 2s }\nthresholds: [ p99 < 150ms ]\n',
  );
  const n = r.answer.numbers;
  assert.ok(n['last_good_rate'] === 150 || n['last_good_rate'] === 200, `last good ${n['last_good_rate']}`);
  assert.ok(n['breaking_rate'] === 200 || n['breaking_rate'] === 250, `breaking ${n['breaking_rate']}`);
  assert.equal(n['failure_mode'], 'graceful', r.answer.answer);
  assert.ok((n['shed_fraction'] as number) > 0.05);
  assert.equal(r.answer.verdict, 'passed');
  assert.equal(r.exitCode, ExitCode.Passed);
  assert.match(r.answer.answer, /^Breaks between .* Failure mode: graceful/);
  // Two failing steps end the run early; the rest never ran.
  assert.ok((n['steps_run'] as number) < 7, `steps run ${n['steps_run']}`);
  assert.match(r.summary.endedEarly ?? '', /consecutive steps failed/);
  assert.equal((r.written.profiles as Record<string, { type: string }>)['stress'].type, 'stress');
  assert.equal(r.written.exitCode, 0);
});

test('stress: a server whose queue grows without bound fails catastrophically', async () => {
  const srv = await capacityServer({ capacity: CAPACITY });
  servers.push(srv);
  const r = await profile(
    srv,
    'profile: { type: stress, startRate: 100/s, rateStep: 50/s, maxRate: 400/s, stepDuration: 2s }\nthresholds: [ p99 < 150ms ]\n',
  );
  const n = r.answer.numbers;
  assert.ok(n['breaking_rate'] === 200 || n['breaking_rate'] === 250, `breaking ${n['breaking_rate']}`);
  assert.equal(n['failure_mode'], 'catastrophic', r.answer.answer);
  const ev = r.answer['evidence'] as { latency_growing: boolean; shed_fraction: number };
  assert.equal(ev.latency_growing, true);
  assert.equal(ev.shed_fraction, 0);
  assert.equal(r.answer.verdict, 'failed');
  assert.equal(r.exitCode, ExitCode.ThresholdsFailed);
  assert.equal(r.written.verdict, 'failed');
});

test('capacity: doubling then bisection finds the 200/s capacity within 10%', async () => {
  const srv = await capacityServer({ capacity: CAPACITY });
  servers.push(srv);
  const r = await profile(
    srv,
    'profile: { type: capacity, startRate: 120/s, maxRate: 2000/s, precision: 10%, cooldown: 500ms, steady: { window: 500ms, windows: 3, maxStepDuration: 2500ms } }\nthresholds: [ p99 < 100ms, error_rate < 1% ]\noptions: { interval: 500ms }\n',
  );
  const found = r.answer.numbers['max_sustainable_rate'] as number;
  const hi = r.answer.numbers['first_failing_rate'] as number;
  assert.ok(
    found >= 0.85 * CAPACITY && found <= 1.02 * CAPACITY,
    `found ${found}/s, true ${CAPACITY}/s: ${r.answer.answer}`,
  );
  assert.ok(hi > CAPACITY * 0.98 && hi - found <= 0.1 * found + 1, `bracket [${found}, ${hi}]`);
  assert.equal(r.answer.verdict, 'passed');
  assert.match(r.answer.answer, /^Sustains at most/);
  // One results folder per probe, and a top-level summary whose scenarios are the probes.
  const steps = r.answer['steps'] as Array<{ dir: string; rate: number }>;
  for (const s of steps) assert.ok(fs.existsSync(path.join(r.outDir, s.dir, 'summary.json')), s.dir);
  assert.deepEqual(
    Object.keys(r.written.scenarios),
    steps.map((_, i) => `step-${i + 1}`),
  );
  assert.ok(fs.readFileSync(path.join(r.outDir, 'intervals.ndjson'), 'utf8').split('\n').length > steps.length);
  assert.ok(r.written.thresholds.length === 2 && r.written.thresholds.every((t) => t.ok));
});

test('sweep: the knee of the throughput–latency curve is at the capacity; overload never stabilises', async () => {
  const srv = await capacityServer({ capacity: CAPACITY });
  servers.push(srv);
  const r = await profile(
    srv,
    'profile: { type: sweep, levels: [50/s, 100/s, 150/s, 200/s, 250/s, 300/s], cooldown: 500ms, steady: { window: 500ms, windows: 3, tolerance: 25%, maxStepDuration: 2500ms } }\noptions: { interval: 500ms }\n',
  );
  const knee = r.answer.numbers['knee_rate'] as number;
  assert.ok(knee === 150 || knee === 200, `knee at ${knee}/s: ${r.answer.answer}`);
  const steps = r.answer['steps'] as Array<{ level: number; throughput: number; p99_ms: number; stable: boolean }>;
  assert.equal(steps.length, 6);
  assert.ok(steps[5].throughput < 1.1 * CAPACITY && steps[5].p99_ms > 10 * steps[0].p99_ms, JSON.stringify(steps[5]));
  assert.equal(steps[5].stable, false, 'past capacity latency keeps growing');
  assert.match(r.answer.answer, /never stabilised/);
  assert.ok(r.summary.warnings.some((w) => /step-6 never stabilised/.test(w)));
});
