/**
 * Replica counts from a command (plan `monitor.replicas`) — the way a Kubernetes user reads them with
 * `kubectl get deploy … -o jsonpath=…`, here a node script that prints the reference server's ready
 * and desired instance counts from its /metrics. The autoscale profile's answer read that way must
 * match the server's own scaling log within a window or two (plus the command's own run time), as
 * test/autoscale-profile.test.ts does through a scrape. And a command that fails now and then is a
 * gap and a warning, never a crash.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { runProfile } from '../src/profiles/index.js';
import { run } from '../src/run/index.js';
import { startServer, type ServerHandle } from '../src/server/index.js';
import type { TargetWindowRecord } from '../src/core/results.js';

const WINDOW_S = 0.5;
let server: ServerHandle;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-autoscale-command-'));

/** Prints `<ready> <desired>` from the reference server's /metrics (argv[1]): a stand-in for kubectl. */
const COUNTS_SCRIPT = [
  'fetch(process.argv[1]).then((r) => r.text()).then((t) => {',
  "  const v = (re) => { const m = re.exec(t); if (!m) { console.error('no ' + re); process.exit(2); } return m[1]; };",
  '  console.log(v(/^preflight_server_instances\\{state="ready"\\} (\\d+)/m) + " " + v(/^preflight_server_instances_desired (\\d+)/m));',
  '}, (e) => { console.error(e.message); process.exit(1); });',
].join('\n');

before(async () => {
  server = await startServer({
    port: 0,
    modelModule: new URL('../src/server/linear-model.js', import.meta.url),
    maxBatchSize: 1,
    computeTimeMs: 20,
    maxQueue: 64,
    autoscale: { min: 1, max: 2, targetQueue: 4, upAfterMs: 2000, startDelayMs: 1500, cooldownMs: 3000, tickMs: 250 },
  });
});
after(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('autoscale profile with replicas from a command: matches the server’s scaling log', async (t) => {
  const plan = parsePlan(
    `target: { url: ${server.url} }
profile: { type: autoscale, rate: 10/s, peakRate: 120/s, before: 3s, hold: 7s, after: 6s }
scenario:
  protocol: kserve-v2
  model: digits
  synthetic: { distribution: uniform, low: 0, high: 16 }
monitor:
  replicas:
    command: [ ${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(COUNTS_SCRIPT)}, ${server.url}/metrics ]
    every: 500ms
options: { interval: 500ms, maxDispatchLag: 1s }
thresholds: [ "p99 < 200ms", "error_rate < 1%" ]
`,
    { baseDir: dir },
  );
  let loadStartEpoch = 0;
  const r = await runProfile(plan, {
    outDir: path.join(dir, 'out'),
    onStart: (x) => (loadStartEpoch = Date.now() - performance.now() + x),
  });
  const n = r.answer.numbers as Record<string, number | null>;
  const st = server.scaling();
  const at = (e: { at: string }) => (Date.parse(e.at) - loadStartEpoch) / 1000;
  const log = `${st.events.map((e) => `${at(e).toFixed(2)}s ${e.kind} ${e.from}→${e.to}`).join('\n')}\n${r.answer.answer}\n${JSON.stringify(n)}\n${r.summary.warnings?.join('\n')}`;
  t.diagnostic(log);
  const ups = st.events.filter((e) => e.kind === 'scale-up');
  const readies = st.events.filter((e) => e.kind === 'ready');
  const downs = st.events.filter((e) => e.kind === 'scale-down');
  assert.deepEqual([ups.length, readies.length, downs.length], [1, 1, 1], log);
  // Within two windows of the truth, plus the command's own start-up (a node process, ≤ 0.5 s on 2 busy cores).
  const near = (x: number | null, truth: number, what: string) =>
    assert.ok(x !== null && Math.abs(x - truth) <= 2 * WINDOW_S + 0.5, `${what}: ${x} vs ${truth.toFixed(2)}\n${log}`);
  near(n['scale_up_s']!, at(ups[0]) - 3, 'scale_up_s');
  near(n['ready_s']!, at(readies[0]) - 3, 'ready_s');
  near(n['scale_down_s']!, at(downs[0]) - 10, 'scale_down_s');
  assert.deepEqual([n['baseline_replicas'], n['peak_replicas']], [1, 2], log);
  assert.equal(r.summary.target_metrics?.['replicas']?.source, 'command', log);
  assert.equal(r.summary.target_metrics?.['replicas_desired']?.max, 2, log);
});

test('a replica command that fails every other run: gaps and one warning, the run completes', async () => {
  const counter = path.join(dir, 'runs');
  fs.writeFileSync(counter, '0');
  // Odd runs fail (exit 1), even runs print "1 1" (the first, before the load, succeeds).
  const script = `const f = process.argv[1], k = Number(require('fs').readFileSync(f, 'utf8')) + 1; require('fs').writeFileSync(f, String(k)); if (k % 2 === 0) { console.error('the API server said no'); process.exit(1); } console.log('1 1');`;
  const target = await startServer({ port: 0 });
  try {
    const plan = parsePlan(`
target: { url: ${target.url} }
scenarios: { s: { executor: constant-arrival-rate, rate: 10/s, duration: 3s, request: { path: /v2/health/ready } } }
monitor:
  replicas: { command: [ ${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(script)}, ${JSON.stringify(counter)} ], every: 250ms }
options: { interval: 500ms, maxDispatchLag: 1s }
`);
    const out = path.join(dir, 'flaky');
    const { summary, exitCode } = await run(plan, { outDir: out });
    assert.equal(exitCode, 0, JSON.stringify(summary.warnings));
    assert.ok(
      summary.warnings?.some((w) =>
        /replica count command failed \d+ of \d+ time\(s\).*the API server said no/.test(w),
      ),
      JSON.stringify(summary.warnings),
    );
    const recs = fs
      .readFileSync(path.join(out, 'target-metrics.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TargetWindowRecord);
    assert.ok(
      recs.some((x) => x.values['replicas'] === 1),
      JSON.stringify(recs),
    );
    assert.equal(summary.target_metrics?.['replicas']?.max, 1);
  } finally {
    await target.close();
  }
});
