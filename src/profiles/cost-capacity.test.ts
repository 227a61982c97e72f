/**
 * The capacity profile with a `cost:` section, against a server of known capacity (200/s, FIFO):
 * the cost reads the max sustainable rate within the SLO; the answer states with how many requests
 * the latency claim was checked and whether that suffices at 99 % confidence (early stopping); a
 * broken budget fails the profile (exit 3) although the SLO search passed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode } from '../core/exit-codes.js';
import type { Summary } from '../core/results.js';
import { parsePlan } from '../plan/index.js';
import { percentileClaim } from '../stats/index.js';
import { runProfile } from './run-profile.js';
import { capacityServer, tempDirs, type TestServer } from './test-servers.js';

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
const dirs = tempDirs('preflight-cost-capacity-');
after(() => dirs.removeAll());

test('capacity + cost: replicas from the max sustainable rate, the claim with its request count, the budget gate', async () => {
  const srv = await capacityServer({ capacity: 200 });
  servers.push(srv);
  const dir = dirs.make();
  fs.writeFileSync(path.join(dir, 'prices.yaml'), 'currency: USD\ninstances:\n  m: { onDemand: 2.0, spot: 0.5 }\n');
  const plan = parsePlan(
    `target: { url: ${srv.url}, timeout: 10s }
scenario: { request: { path: / }, gracefulStop: 2s }
profile: { type: capacity, startRate: 120/s, maxRate: 2000/s, precision: 10%, cooldown: 500ms, steady: { window: 500ms, windows: 3, maxStepDuration: 2500ms } }
options: { interval: 500ms }
cost: { prices: prices.yaml, instance: m, peak: 1000/s, headroom: 20% }
thresholds: [ p99 < 100ms, error_rate < 1%, cost.monthly <= 100 ]
`,
    { baseDir: dir },
  );
  const outDir = dirs.make();
  const r = await runProfile(plan, { outDir });
  const written = JSON.parse(fs.readFileSync(path.join(outDir, 'summary.json'), 'utf8')) as Summary;
  const rate = r.answer.numbers['max_sustainable_rate'] as number;
  assert.ok(rate >= 150 && rate <= 210, `capacity ${rate}: ${r.answer.answer}`);
  const c = written.cost;
  assert.ok(c, 'summary.cost');
  assert.equal(c.capacity_per_replica, rate);
  assert.match(c.capacity_source, /capacity profile/);
  // replicas = ceil(1000 × 1.2 / rate); monthly = replicas × 2.00 × 730
  assert.equal(c.replicas, Math.ceil((1000 * 1.2) / rate - 1e-9));
  assert.ok(Math.abs(c.on_demand.monthly_full - c.replicas * 2 * 730) < 1e-9);
  // The SLO search passed, but the budget of 100 a month is broken: failed, exit 3.
  const budget = written.thresholds.find((t) => t.expression === 'cost.monthly <= 100');
  assert.equal(budget?.ok, false);
  assert.equal(budget?.value, c.headline.monthly);
  assert.equal(r.exitCode, ExitCode.ThresholdsFailed);
  assert.equal(written.verdict, 'failed');
  // Probes were judged on the SLO alone (a cost threshold never fails a probe).
  const steps = r.answer['steps'] as Array<{ sustained: boolean; failed: string[] }>;
  assert.ok(steps.every((s) => s.failed.every((f) => !f.startsWith('cost.'))));
  // The capacity claim: with how many requests p99 < 100ms was checked, and whether that is enough.
  const claims = r.answer['claims'] as Array<{
    threshold: string;
    requests: number;
    exceeded: number;
    enough: boolean;
  }>;
  assert.equal(claims.length, 1);
  assert.equal(claims[0].threshold, 'p99 < 100ms');
  assert.ok(claims[0].requests > 0);
  const again = percentileClaim(claims[0].requests, claims[0].exceeded, 0.99, 0.99);
  assert.equal(claims[0].enough, again.enough);
  assert.match(
    r.answer.answer,
    /The claim p99 < 100ms was checked with \d+ requests, \d+ over the bound: (not )?enough/,
  );
  assert.equal(r.answer.numbers['claim_requests'], claims[0].requests);
});
