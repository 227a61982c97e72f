/**
 * The reference server's scaling mode against known truth: each instance serves 50 requests/s (20 ms per
 * batch of 1), Preflight offers 120/s for 6 s and then 10/s. The first scale-up comes ≈ up-after after the
 * queue passes its target (± one evaluation tick), the new instance serves ≈ start-delay later, throughput
 * rises, and after the load drops the instances are given back ≈ cooldown later. Generous tolerances: two
 * shared cores.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IntervalRecord } from '../src/core/results.js';
import { parsePlan } from '../src/plan/index.js';
import { run } from '../src/run/index.js';
import { startServer, type ServerHandle } from '../src/server/index.js';

const UP_AFTER_MS = 2000;
const START_DELAY_MS = 1500;
const COOLDOWN_MS = 3000;
const TICK_MS = 250;

let server: ServerHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-autoscale-'));

before(async () => {
  server = await startServer({
    port: 0,
    admin: true,
    // The fallback linear model loads in milliseconds: the start-up delay is the configured one.
    modelModule: new URL('../src/server/linear-model.js', import.meta.url),
    maxBatchSize: 1,
    computeTimeMs: 20,
    maxQueue: 64,
    autoscale: {
      min: 1,
      max: 3,
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

test('scaling mode: scale-up after up-after, ready after start-delay, throughput rises, scale-down after cooldown', async () => {
  const plan = parsePlan(
    `target: { url: ${server.url}, ready: /v2/health/ready }
scenarios:
  high:
    executor: constant-arrival-rate
    protocol: kserve-v2
    model: digits
    rate: 120/s
    duration: 6s
    gracefulStop: 3s
    synthetic: { distribution: uniform, low: 0, high: 16 }
  low:
    executor: constant-arrival-rate
    protocol: kserve-v2
    model: digits
    startTime: 6s
    rate: 10/s
    duration: 5s
    synthetic: { distribution: uniform, low: 0, high: 16 }
`,
    { baseDir: dir },
  );
  let loadStart = 0;
  const windows: IntervalRecord[] = [];
  const before = server.scaling();
  assert.deepEqual([before.enabled, before.ready, before.starting, before.desired], [true, 1, 0, 1]);
  // The truth, measured beside the autoscaler: the queue depth every 50 ms, from /metrics.
  const samples: Array<{ t: number; q: number }> = [];
  const poll = setInterval(() => {
    let q = 0;
    for (const m of server.metricsText().matchAll(/^nv_inference_pending_request_count\{[^}]*\} (\d+)$/gm))
      q += Number(m[1]);
    samples.push({ t: Date.now(), q });
  }, 50);
  try {
    await run(plan, {
      outDir: path.join(dir, 'out'),
      onStart: () => (loadStart = Date.now() + 20),
      onWindow: (r) => windows.push(...r.filter((x) => x.group === undefined)),
    });
  } finally {
    clearInterval(poll);
  }
  const st = server.scaling();
  const at = (e: { at: string }) => (Date.parse(e.at) - loadStart) / 1000;
  const ups = st.events.filter((e) => e.kind === 'scale-up');
  const readies = st.events.filter((e) => e.kind === 'ready');
  const downs = st.events.filter((e) => e.kind === 'scale-down');
  const log = st.events.map((e) => `${at(e).toFixed(2)}s ${e.kind} ${e.from}→${e.to} ${e.reason}`).join('\n');
  assert.ok(ups.length >= 1 && readies.length >= 1 && downs.length >= 1, log);

  // 120/s against 50/s: the queue passes target × 1.1 (the HPA tolerance) at once; up-after later, the decision.
  const above = samples.find((x) => x.q > 4 * 1.1);
  assert.ok(above, log);
  const firstUp = at(ups[0]);
  const upDelay = firstUp - (above.t - loadStart) / 1000;
  assert.ok(
    upDelay >= UP_AFTER_MS / 1000 - 0.1 && upDelay <= (UP_AFTER_MS + TICK_MS) / 1000 + 0.5,
    `first up ${firstUp} s, ${upDelay} s after the queue passed its target\n${log}`,
  );
  assert.equal(ups[0].from, 1, log);
  // The new instance serves start-delay after the decision.
  const readyDelay = at(readies[0]) - firstUp;
  assert.ok(
    readyDelay >= START_DELAY_MS / 1000 - 0.05 && readyDelay <= START_DELAY_MS / 1000 + 1.0,
    `ready ${readyDelay}\n${log}`,
  );

  // Throughput of the high-load scenario: one instance (≈ 50/s) before the first ready, more after it.
  const high = windows.filter((w) => w.scenario === 'high');
  const tReady = at(readies[0]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const okRate = (w: IntervalRecord) => w.ok / w.duration_s;
  const beforeReady = mean(high.filter((w) => w.start_s + w.duration_s <= tReady && w.start_s >= 1).map(okRate));
  const afterReady = mean(high.filter((w) => w.start_s >= tReady + 0.5 && w.start_s + w.duration_s <= 6).map(okRate));
  assert.ok(beforeReady > 25 && beforeReady < 70, `one instance served ${beforeReady}/s\n${log}`);
  assert.ok(afterReady > beforeReady * 1.3, `throughput ${beforeReady}/s → ${afterReady}/s\n${log}`);

  // The queue falls below the target for the instances then (with the HPA tolerance) once capacity exceeds the
  // load (three instances: 150/s > 120/s) or the load drops at 6 s; all down to min ≈ cooldown after it did.
  const lastDown = downs.at(-1)!;
  assert.equal(lastDown.to, 1, log);
  const from = downs[0].from;
  const downAt = Date.parse(downs[0].at);
  // Not below: the HPA recommendation ceil(queue / 4) is still ≥ the count, or within the 10 % tolerance.
  const notBelow = (q: number) => Math.ceil(q / 4) >= from || q / from / 4 >= 0.9;
  const lastAbove = samples.filter((x) => x.t < downAt && notBelow(x.q)).at(-1);
  const belowSince = lastAbove ? lastAbove.t : Date.parse(readies.at(-1)!.at);
  const downDelay = (downAt - belowSince) / 1000;
  assert.ok(
    downDelay >= COOLDOWN_MS / 1000 - 0.1 && downDelay <= (COOLDOWN_MS + TICK_MS) / 1000 + 0.5,
    `scale-down ${downDelay} s after the queue fell below its target\n${log}`,
  );
  // The metrics say the same.
  const text = server.metricsText();
  assert.match(text, /preflight_server_instances\{state="ready"\} 1\n/);
  assert.match(text, /preflight_server_instances_desired 1\n/);
  assert.match(text, new RegExp(`preflight_server_scaling_decisions_total\\{direction="up"\\} ${ups.length}\\n`));
  // And /admin/scaling serves the log.
  const res = await fetch(`${server.url}/admin/scaling`);
  const body = (await res.json()) as { events: unknown[]; options: { cooldownMs: number } };
  assert.equal(body.options.cooldownMs, COOLDOWN_MS);
  assert.equal(body.events.length, st.events.length);
  console.log(
    `${log}\nmeasured: scale-up ${upDelay.toFixed(2)} s after the queue passed its target (up-after ${UP_AFTER_MS / 1000} s), ready ${readyDelay.toFixed(2)} s later (start-delay ${START_DELAY_MS / 1000} s), ${beforeReady.toFixed(0)}/s → ${afterReady.toFixed(0)}/s, scale-down ${downDelay.toFixed(2)} s after it fell below (cooldown ${COOLDOWN_MS / 1000} s)`,
  );
});
