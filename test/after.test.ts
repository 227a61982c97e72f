/**
 * `after:` end to end against a loopback server that notes when each request arrived and when its
 * answer went out: a scenario after a count-bounded one (iterations) sends nothing before that
 * one's last answer, in one worker thread and in two.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { run } from '../src/run/index.js';
import { ExitCode } from '../src/core/exit-codes.js';
import { httpServer, type TestServer } from './helpers/servers.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

for (const workers of [1, 2]) {
  test(`after: light (iterations) → heavy starts when light has finished (workers ${workers})`, async () => {
    const seen: Array<{ path: string; arrived: number; answered: number }> = [];
    const srv = await httpServer((req, res) => {
      const arrived = performance.now();
      setTimeout(() => {
        seen.push({ path: req.url ?? '', arrived, answered: performance.now() });
        res.end('ok');
      }, 20);
    });
    servers.push(srv);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-after-'));
    dirs.push(out);
    const plan = parsePlan(`target: { url: "${srv.url}" }
options: { workers: ${workers}, maxDispatchLag: 1s }
scenarios:
  light: { executor: iterations, maxRequests: 20, concurrency: 2, request: { path: /light } }
  heavy: { executor: constant-arrival-rate, rate: 20/s, duration: 1s, after: light, startTime: 300ms, request: { path: /heavy } }
`);
    assert.equal(plan.scenarios[1].after, 'light', 'decided at run time');
    const { summary, exitCode } = await run(plan, { outDir: out });
    assert.equal(exitCode, ExitCode.Passed);
    assert.equal(summary.scenarios.light.requests, 20);
    assert.equal(summary.scenarios.heavy.requests, 20);
    const light = seen.filter((s) => s.path === '/light');
    const heavy = seen.filter((s) => s.path === '/heavy');
    const lightDone = Math.max(...light.map((s) => s.answered));
    const heavyFirst = Math.min(...heavy.map((s) => s.arrived));
    // (20 requests of 20 ms by 2 users: light takes ≈ 200 ms; heavy waits for it, then 300 ms more; with 2 threads each waits for its own half of light, which ends at about the same time)
    assert.ok(
      heavyFirst > lightDone,
      `heavy's first request ${heavyFirst.toFixed(1)} ms after light's last answer ${lightDone.toFixed(1)} ms`,
    );
    if (workers === 1)
      assert.ok(
        heavyFirst - lightDone >= 280,
        `offset: ${(heavyFirst - lightDone).toFixed(1)} ms ≥ 300 ms startTime (timer slack aside)`,
      );
  });
}
