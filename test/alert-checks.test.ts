/**
 * Alert checks (plan `monitor.alerts`) against a real Prometheus with a rule file, scraping the
 * reference server: an outage (the server's /admin/faults errorRate 1, then undone) makes
 * HighErrorRate fire within the expected time and resolve; a rule that never fires passes `never`;
 * an expectation that cannot be met fails the run (exit 3); an alert name Prometheus has no rule
 * for is exit 2 before any load.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadPlan, parsePlan } from '../src/plan/index.js';
import { root } from './helpers/cli.js';
import { run } from '../src/run/index.js';
import { renderMarkdown, writeHtmlReport } from '../src/report/index.js';
import { renderSummary } from '../src/cli/summary-view.js';
import { startServer, type ServerHandle } from '../src/server/index.js';
import type { PreflightError } from '../src/core/errors.js';
import { prometheusBinary, prometheusSkip, startPrometheus, type Prometheus } from './helpers/prometheus.js';

const RULES = `groups:
  - name: preflight-test
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: sum(rate(nv_inference_request_failure[5s])) > 0
        for: 1s
      - alert: QuietAlert
        expr: sum(nv_inference_request_success) < -1
      - alert: AlsoQuiet
        expr: sum(nv_inference_request_success) < -2
`;

const skip = prometheusSkip();
const dirs: string[] = [];
let server: ServerHandle | undefined;
let prom: Prometheus | undefined;

before(async () => {
  if (skip) return;
  server = await startServer({ port: 0, admin: true });
  prom = await startPrometheus({ targets: [new URL(server.url).host], scrapeInterval: '1s', rules: RULES });
  // Let Prometheus take its first scrapes and evaluations: up to 30 s, polled.
  for (let i = 0; i < 60; i++) {
    const r = await prom.query('count_over_time(up{job="target"}[10s])');
    if (Number(r[0]?.value[1] ?? 0) >= 3) break;
    await new Promise((res) => setTimeout(res, 500));
  }
});
after(async () => {
  await prom?.stop();
  await server?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function plan(alerts: string) {
  const url = server!.url;
  return parsePlan(`
target: { url: ${url}, ready: /v2/health/ready }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 40/s
    duration: 14s
    protocol: kserve-v2
    model: digits
    synthetic: { distribution: uniform, low: 0, high: 16 }
faults:
  timeline:
    - at: 3s
      for: 4s
      name: outage
      action: { http: { url: ${url}/admin/faults, json: { errorRate: 1 } }, timeout: 5s }
      undo: { http: { url: ${url}/admin/faults, json: { errorRate: 0 } }, timeout: 5s }
monitor:
  prometheus: ${prom!.url}
  metrics: { up: { promql: 'up{job="target"}' } }
  margin: 5s
  alerts:
${alerts}
options: { maxDispatchLag: 1s }
`);
}

test('an outage fires HighErrorRate within the expected time and it resolves; a quiet rule passes never; an unmet expectation fails the run', {
  skip,
  timeout: 180_000,
}, async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-alerts-'));
  dirs.push(out);
  const p = plan(`    - { name: HighErrorRate, fires: { within: 15s, of: outage }, resolves: { within: 30s } }
    - { name: QuietAlert, never: true }
    - { name: AlsoQuiet, fires: { within: 5s, of: load } }`);
  const { summary, exitCode } = await run(p, { outDir: out });
  t.diagnostic(JSON.stringify(summary.alerts));
  const by = new Map((summary.alerts ?? []).map((a) => [a.name, a]));
  const high = by.get('HighErrorRate')!;
  assert.ok(high, 'HighErrorRate checked');
  assert.equal(high.fired, true);
  assert.equal(high.cause?.name, 'outage');
  assert.ok(high.cause!.start_s !== null && Math.abs(high.cause!.start_s - 3) < 1, JSON.stringify(high.cause));
  // for: 1s + evaluation 1 s + scrape 1 s: firing a few seconds after the outage began, pending before it.
  assert.ok(
    high.firing_after_s !== null && high.firing_after_s >= 1 && high.firing_after_s <= 15,
    `${high.firing_after_s}`,
  );
  assert.ok(high.pending_after_s !== null && high.pending_after_s <= high.firing_after_s, `${high.pending_after_s}`);
  // rate(…[5s]) stays above 0 for up to ~5 s after the last failure: resolved after the outage ended, within 30 s.
  assert.ok(
    high.resolved_after_s !== null && high.resolved_after_s >= 0 && high.resolved_after_s <= 30,
    `${high.resolved_after_s}`,
  );
  assert.equal(high.false_alarms, 0);
  assert.equal(high.ok, true, high.reasons.join('; '));

  const quiet = by.get('QuietAlert')!;
  assert.deepEqual([quiet.expect, quiet.fired, quiet.false_alarms, quiet.ok], ['never', false, 0, true]);

  const unmet = by.get('AlsoQuiet')!;
  assert.equal(unmet.fired, false);
  assert.equal(unmet.ok, false);
  assert.match(unmet.reasons[0], /did not fire within 5 s of `load`/);

  assert.equal(summary.verdict, 'failed');
  assert.equal(exitCode, 3);
  const md = renderMarkdown(summary);
  assert.match(md, /### Alert checks/);
  assert.match(md, /\| `HighErrorRate` \| fires ≤ 15 s of outage, resolves ≤ 30 s \|/);
  assert.match(md, /AlsoQuiet did not fire/);
  const term = renderSummary(summary, { color: false });
  t.diagnostic(term);
  assert.match(term, /alert checks/);
  assert.match(term, /QuietAlert +never fires/);
  const html = fs.readFileSync(await writeHtmlReport(out), 'utf8');
  assert.match(html, /<h3>Alert checks<\/h3>/);
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as typeof summary;
  assert.equal(saved.alerts?.length, 3);
});

test('an alert name Prometheus has no rule for is exit 2 before any load, with a did-you-mean', {
  skip,
  timeout: 60_000,
}, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-alerts-'));
  dirs.push(out);
  const p = plan('    - { name: HighErorRate, never: true }');
  await assert.rejects(run(p, { outDir: out }), (e: PreflightError) => {
    assert.equal(e.code, 'E_PLAN_INVALID');
    const pr = e.problems?.[0];
    assert.equal(pr?.path, 'monitor.alerts[0].name');
    assert.match(pr?.message ?? '', /no alerting rule `HighErorRate`/);
    assert.match(pr?.hint ?? '', /did you mean `HighErrorRate`/);
    return true;
  });
  assert.equal(fs.existsSync(path.join(out, 'summary.json')), false, 'nothing ran');
});

test('examples/alerts-outage.yaml resolves its alert checks; its rule file passes promtool', { skip }, async () => {
  const p = await loadPlan(path.join(root, 'examples', 'alerts-outage.yaml'));
  assert.deepEqual(p.monitor?.alerts, [
    { name: 'HighErrorRate', never: false, fires: { withinMs: 30_000, of: 'outage' }, resolves: { withinMs: 60_000 } },
    { name: 'SlowInference', never: true },
  ]);
  // promtool ships with Debian's prometheus package, beside the binary.
  const promtool = path.join(path.dirname(fs.realpathSync(prometheusBinary()!)), 'promtool');
  const out = execFileSync(promtool, ['check', 'rules', path.join(root, 'examples', 'prometheus', 'alert-rules.yml')], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.match(out, /SUCCESS: 2 rules found/);
});
