/**
 * The autoscale profile against the reference server's scaling mode, known truth: each instance serves
 * 50 requests/s (20 ms per batch of 1), at most 2 instances (100/s), so the step from 10/s to 120/s
 * keeps the queue above its target for the whole step (no scale-down until the load falls). The
 * profile's answer — read only from the server's /metrics, one reading per 0.5 s window — must match
 * the server's own scaling log and the configured up-after, start-delay and cooldown within a window
 * or two. About 16 s of load.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { runProfile } from '../src/profiles/index.js';
import { startServer, type ServerHandle } from '../src/server/index.js';

const UP_AFTER_MS = 2000;
const START_DELAY_MS = 1500;
const COOLDOWN_MS = 3000;
const TICK_MS = 250;
const WINDOW_S = 0.5;

let server: ServerHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-autoscale-profile-'));

before(async () => {
  server = await startServer({
    port: 0,
    admin: true,
    modelModule: new URL('../src/server/linear-model.js', import.meta.url),
    maxBatchSize: 1,
    computeTimeMs: 20,
    maxQueue: 64,
    autoscale: {
      min: 1,
      max: 2,
      targetQueue: 4,
      upAfterMs: UP_AFTER_MS,
      startDelayMs: START_DELAY_MS,
      cooldownMs: COOLDOWN_MS,
      tickMs: TICK_MS,
    },
  });
});
after(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('autoscale profile: scale-up, ready, scale-down and over-provisioning match the server’s log and its settings', async () => {
  const plan = parsePlan(
    `target: { url: ${server.url} }
profile: { type: autoscale, rate: 10/s, peakRate: 120/s, before: 3s, hold: 7s, after: 6s }
scenario:
  protocol: kserve-v2
  model: digits
  synthetic: { distribution: uniform, low: 0, high: 16 }
monitor: { scrape: [ ${server.url}/metrics ] }
options: { interval: 500ms }
thresholds: [ "p99 < 200ms", "error_rate < 1%", "autoscale.scale_up_s < 4s", "autoscale.flaps < 1", "autoscale.scale_down_s < 1s" ]
`,
    { baseDir: dir },
  );
  let loadStartEpoch = 0;
  const r = await runProfile(plan, {
    outDir: path.join(dir, 'out'),
    onStart: (t) => (loadStartEpoch = Date.now() - performance.now() + t),
  });
  const a = r.answer;
  const n = a.numbers as Record<string, number | null>;
  const st = server.scaling();
  const at = (e: { at: string }) => (Date.parse(e.at) - loadStartEpoch) / 1000;
  const log = `${st.events.map((e) => `${at(e).toFixed(2)}s ${e.kind} ${e.from}→${e.to} ${e.reason}`).join('\n')}\n${a.answer}\n${JSON.stringify(n)}`;
  const ups = st.events.filter((e) => e.kind === 'scale-up');
  const readies = st.events.filter((e) => e.kind === 'ready');
  const downs = st.events.filter((e) => e.kind === 'scale-down');
  assert.deepEqual([ups.length, readies.length, downs.length], [1, 1, 1], log);
  const stepUp = 3;
  const stepDown = 10;
  // The truth, from the server's log, against the profile's reading of /metrics: within two windows.
  const truthUp = at(ups[0]) - stepUp;
  const truthReady = at(readies[0]) - stepUp;
  const truthDown = at(downs[0]) - stepDown;
  const near = (x: number | null, truth: number, what: string) =>
    assert.ok(x !== null && Math.abs(x - truth) <= 2 * WINDOW_S + 0.05, `${what}: ${x} vs ${truth.toFixed(2)}\n${log}`);
  near(n['scale_up_s']!, truthUp, 'scale_up_s');
  near(n['ready_s']!, truthReady, 'ready_s');
  near(n['scale_down_s']!, truthDown, 'scale_down_s');
  near(n['scaled_in_s']!, truthDown, 'scaled_in_s');
  // And the configured times: 120/s against 50/s passes the queue target at once, so the decision comes
  // up-after (+ a tick) after the step; the new instance serves start-delay later; after the step down the
  // queue (≤ 64) drains in under a second at 2 × 50/s − 10/s, and cooldown later the instance goes.
  const s = (x: number) => x / 1000;
  assert.ok(n['scale_up_s']! >= s(UP_AFTER_MS) - 2 * WINDOW_S, log);
  assert.ok(n['scale_up_s']! <= s(UP_AFTER_MS + TICK_MS) + 2 * WINDOW_S + 0.5, log);
  const readyAfterUp = n['ready_s']! - n['scale_up_s']!;
  assert.ok(Math.abs(readyAfterUp - s(START_DELAY_MS)) <= 2 * WINDOW_S + 0.05, `ready after ${readyAfterUp}\n${log}`);
  assert.ok(n['scale_down_s']! >= s(COOLDOWN_MS) - 2 * WINDOW_S, log);
  assert.ok(n['scale_down_s']! <= s(COOLDOWN_MS + TICK_MS) + 1 + 2 * WINDOW_S + 0.5, log);
  // Over-provisioning: one instance above the baseline of 1 from the step down until it went.
  assert.deepEqual([n['baseline_replicas'], n['peak_replicas']], [1, 2], log);
  assert.ok(Math.abs(n['overprovision_replica_seconds']! - truthDown) <= 2 * WINDOW_S + 0.05, log);
  assert.deepEqual([n['direction_changes'], n['flaps']], [1, 0], log);
  // The SLO (p99 < 200 ms, errors < 1 %) breaks at 120/s until the second instance serves, and after it
  // too: 100/s < 120/s, the queue stays full (64 waiting ≈ 640 ms) and sheds.
  assert.ok(n['slo_violation_s']! >= 7 - 2 && n['slo_violation_s']! <= 7 + WINDOW_S, log);
  assert.equal(n['baseline_slo_held'], true, log);
  assert.match(a.answer, /^Scaled up \d[\d.]* s after the step from 10\/s to 120\/s; the new replicas served/, log);
  assert.match(
    a.answer,
    /After the step down: first scale-down .* later, back to 1 after .*replica-seconds over-provisioned\. No flapping/,
  );
  // Thresholds: the SLO on the baseline; autoscale.* on the answer (scale_down_s ≈ 3.5 s fails < 1 s).
  const th = new Map(r.summary.thresholds.map((t) => [t.expression, t.ok]));
  assert.equal(th.get('baseline: p99 < 200ms'), true, log);
  assert.equal(th.get('autoscale.scale_up_s < 4s'), true, log);
  assert.equal(th.get('autoscale.flaps < 1'), true, log);
  assert.equal(th.get('autoscale.scale_down_s < 1s'), false, log);
  assert.equal(a.verdict, 'failed');
  assert.equal(r.exitCode, 3);
  const saved = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'summary.json'), 'utf8'));
  assert.equal(saved.profiles.autoscale.numbers.scale_up_s, n['scale_up_s']);
  assert.ok(saved.target_metrics.replicas, 'the replica count is a target metric too');
  console.log(
    `measured (truth from the server's log): scale-up ${n['scale_up_s']} s (${truthUp.toFixed(2)}), ready ${n['ready_s']} s (${truthReady.toFixed(2)}), scale-down ${n['scale_down_s']} s (${truthDown.toFixed(2)}), over-provisioned ${n['overprovision_replica_seconds']} replica-s, SLO broken ${n['slo_violation_s']} s of 7 s\n${a.answer}`,
  );
});
