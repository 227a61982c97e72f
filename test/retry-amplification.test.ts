/**
 * Retry amplification with known truth: a real retrying hop — Debian's haproxy with `retries 3` and
 * `retry-on all-retryable-errors` (500 is one) — between Preflight and the reference server. A
 * resilience timeline makes the server fail every inference request (500) for a few seconds; haproxy
 * then sends each request 1 + 3 times. The server's own counters (`nv_inference_request_success` +
 * `_failure`, the triton preset's `requests`) read by the monitor must give ≈ 4 in the fault window
 * and ≈ 1 before it; the same fault without the retrying hop gives ≈ 1.
 *
 * haproxy comes from Debian (scripts/test.sh installs it as root). Without it the haproxy test skips
 * and says so — except on CI (`CI` set), where a missing haproxy is a failure.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { runProfile } from '../src/profiles/index.js';
import { startServer } from '../src/server/index.js';
import { haproxyBinary, serverTotals, startHaproxy, type Haproxy } from './helpers/haproxy.js';

const missing = haproxyBinary() === undefined;
const skip =
  missing && !process.env['CI']
    ? 'haproxy is not installed (Debian: apt-get install haproxy — scripts/test.sh does it as root; required when CI is set)'
    : false;

const RETRIES = 3;
const dirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Amp {
  ratio: number | null;
  target_requests: number;
  sent: number;
}
interface Answer {
  numbers: Record<string, number | string | boolean | null>;
  windows: Array<{ name: string; amplification?: Amp; errors: Record<string, number> }>;
  baseline: { amplification?: Amp };
}

/** A resilience run at `rate` through `url`: the server fails every request from 3 s for 3 s (its admin knob). */
async function run(url: string, server: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pf-amplification-'));
  dirs.push(dir);
  const plan = parsePlan(`
target: { url: ${url} }
profile: { type: resilience, rate: 40/s, duration: 9s, recovery: { windows: 2 } }
scenario: { protocol: kserve-v2, model: digits, synthetic: { distribution: uniform, low: 0, high: 16 } }
options: { interval: 500ms }
monitor: { scrape: [ ${server}/metrics ], preset: triton }
faults:
  timeline:
    - at: 3s
      for: 3s
      name: failing
      action: { http: { url: "${server}/admin/faults", json: { errorRate: 1 } }, timeout: 2s }
      undo: { http: { url: "${server}/admin/faults", json: { errorRate: 0 } }, timeout: 2s }
thresholds: [ "resilience.amplification < 1.5" ]
`);
  const r = await runProfile(plan, { outDir: dir });
  return { r, a: r.answer as unknown as Answer };
}

test('haproxy retrying 3 times: amplification ≈ 4 in the fault window, ≈ 1 before it', { skip }, async (t) => {
  const server = await startServer({ port: 0, instances: 1, admin: true });
  cleanups.push(() => server.close());
  const lb: Haproxy = await startHaproxy({ s1: { url: server.url, weight: 1 } }, 'model', undefined, [
    `retries ${RETRIES}`,
    'retry-on all-retryable-errors',
    'option redispatch',
  ]);
  cleanups.push(() => lb.stop());
  const { r, a } = await run(lb.url, server.url);
  assert.equal(a.windows.length, 1, r.answer.answer);
  const w = a.windows[0];
  t.diagnostic(`fault window ${JSON.stringify(w.amplification)}; baseline ${JSON.stringify(a.baseline.amplification)}`);
  assert.ok(w.amplification, JSON.stringify(w));
  const expected = 1 + RETRIES;
  // Generous: the window edges (a request retried across a window boundary, scrapes mid-window).
  assert.ok(
    w.amplification.ratio !== null && Math.abs(w.amplification.ratio - expected) <= 0.6,
    `amplification ${JSON.stringify(w.amplification)}, expected ≈ ${expected}: ${r.answer.answer}`,
  );
  assert.ok((w.errors['http_5xx'] ?? 0) > 0, JSON.stringify(w.errors));
  const base = a.baseline.amplification;
  assert.ok(base?.ratio != null && Math.abs(base.ratio - 1) <= 0.1, `baseline ${JSON.stringify(base)}`);
  assert.equal(a.numbers['amplification'], w.amplification.ratio);
  assert.equal(a.numbers['baseline_amplification'], base.ratio);
  assert.match(r.answer.answer, /amplification ×[\d.]+\)/);
  // haproxy's own count of what it sent the server agrees with the server's (both count the retries).
  const sentByHaproxy = (await serverTotals(lb))['s1'];
  const sentByPreflight = Object.values(r.summary.scenarios).reduce((x, s) => x + s.requests, 0);
  assert.ok(sentByHaproxy > sentByPreflight * 1.5, `haproxy sent ${sentByHaproxy} for ${sentByPreflight}`);
  const th = r.summary.thresholds.find((t) => t.expression === 'resilience.amplification < 1.5');
  assert.equal(th?.ok, false, JSON.stringify(r.summary.thresholds));
  assert.equal(r.exitCode, 3);
});

test('the same fault without a retrying hop: amplification ≈ 1', async (t) => {
  const server = await startServer({ port: 0, instances: 1, admin: true });
  cleanups.push(() => server.close());
  const { r, a } = await run(server.url, server.url);
  const w = a.windows[0];
  t.diagnostic(`fault window ${JSON.stringify(w.amplification)}; baseline ${JSON.stringify(a.baseline.amplification)}`);
  assert.ok(
    w.amplification?.ratio != null && Math.abs(w.amplification.ratio - 1) <= 0.1,
    `amplification ${JSON.stringify(w.amplification)}: ${r.answer.answer}`,
  );
  assert.ok((w.errors['http_5xx'] ?? 0) > 0, JSON.stringify(w.errors));
  const th = r.summary.thresholds.find((t) => t.expression === 'resilience.amplification < 1.5');
  assert.equal(th?.ok, true, JSON.stringify(r.summary.thresholds));
});
