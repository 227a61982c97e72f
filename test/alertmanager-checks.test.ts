/**
 * Alert checks with Alertmanager (plan `monitor.alertmanager`): a real Prometheus with a rule file,
 * scraping the reference server and sending its alerts to a real Alertmanager (Debian's
 * prometheus-alertmanager; one route, group_wait 1 s, no gossip). An outage (the server's
 * /admin/faults errorRate 1) fires three rules alike: one reaches Alertmanager active with its
 * receiver (it would notify), one is silenced there (suppressed: no one is notified), and one
 * Prometheus drops before sending (alert_relabel_configs) — it fired but never reached Alertmanager,
 * which fails its check. A quiet rule is not seen there at all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { run } from '../src/run/index.js';
import { renderMarkdown } from '../src/report/index.js';
import { renderSummary } from '../src/cli/summary-view.js';
import { startServer, type ServerHandle } from '../src/server/index.js';
import { prometheusSkip, startPrometheus, type Prometheus } from './helpers/prometheus.js';
import { alertmanagerSkip, startAlertmanager, type Alertmanager } from './helpers/alertmanager.js';

const OUTAGE = 'sum(rate(nv_inference_request_failure[5s])) > 0';
const RULES = `groups:
  - name: preflight-test
    interval: 1s
    rules:
      - { alert: HighErrorRate, expr: '${OUTAGE}', for: 1s }
      - { alert: SilencedErrors, expr: '${OUTAGE}', for: 1s }
      - { alert: NotSent, expr: '${OUTAGE}', for: 1s }
      - { alert: QuietAlert, expr: 'sum(nv_inference_request_success) < -1' }
`;

const skip = prometheusSkip() ?? alertmanagerSkip();
const dirs: string[] = [];
let server: ServerHandle | undefined;
let prom: Prometheus | undefined;
let am: Alertmanager | undefined;
let silence = '';

before(async () => {
  if (skip) return;
  server = await startServer({ port: 0, admin: true });
  am = await startAlertmanager({ groupWait: '1s' });
  silence = await am.silence('SilencedErrors');
  prom = await startPrometheus({
    targets: [new URL(server.url).host],
    scrapeInterval: '1s',
    rules: RULES,
    alertmanagers: [am.host],
    dropAlerts: ['NotSent'],
  });
  for (let i = 0; i < 60; i++) {
    const r = await prom.query('count_over_time(up{job="target"}[10s])');
    if (Number(r[0]?.value[1] ?? 0) >= 3) break;
    await new Promise((res) => setTimeout(res, 500));
  }
});
after(async () => {
  await prom?.stop();
  await am?.stop();
  await server?.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('Alertmanager: reached and would notify, silenced, never reached (fails), quiet', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const url = server!.url;
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-am-'));
  dirs.push(out);
  const p = parsePlan(`
target: { url: ${url}, ready: /v2/health/ready }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 30/s
    duration: 9s
    protocol: kserve-v2
    model: digits
    synthetic: { distribution: uniform, low: 0, high: 16 }
faults:
  timeline:
    - at: 2s
      for: 4s
      name: outage
      action: { http: { url: ${url}/admin/faults, json: { errorRate: 1 } }, timeout: 5s }
      undo: { http: { url: ${url}/admin/faults, json: { errorRate: 0 } }, timeout: 5s }
monitor:
  prometheus: ${prom!.url}
  alertmanager: ${am!.url}
  margin: 5s
  alerts:
    - { name: HighErrorRate, fires: { within: 15s, of: outage } }
    - { name: SilencedErrors, fires: { within: 15s, of: outage } }
    - { name: NotSent, fires: { within: 15s, of: outage } }
    - { name: QuietAlert, never: true }
options: { maxDispatchLag: 1s }
`);
  const { summary, exitCode } = await run(p, { outDir: out });
  t.diagnostic(
    JSON.stringify(summary.alerts?.map((a) => ({ name: a.name, firing: a.firing_after_s, am: a.alertmanager }))),
  );
  const by = new Map((summary.alerts ?? []).map((a) => [a.name, a]));

  const high = by.get('HighErrorRate')!;
  assert.equal(high.fired, true);
  const v = high.alertmanager!;
  assert.equal(v.reached, true, JSON.stringify(v));
  assert.deepEqual([v.state, v.receivers, v.would_notify], ['active', ['team'], true]);
  // Prometheus sends it when it fires: seen at Alertmanager no earlier than a poll before the firing.
  assert.ok(
    v.seen_after_s !== null && v.seen_after_s >= high.firing_after_s! - 1.5 && v.seen_after_s <= 15,
    `seen ${v.seen_after_s}, firing ${high.firing_after_s}`,
  );
  assert.ok(v.starts_at_s !== null && v.starts_at_s >= 2 - 1.5 && v.starts_at_s <= v.seen_s! + 0.5, JSON.stringify(v));
  assert.equal(high.ok, true, high.reasons.join('; '));

  const sil = by.get('SilencedErrors')!.alertmanager!;
  assert.deepEqual([sil.reached, sil.state, sil.silenced_by, sil.would_notify], [true, 'suppressed', [silence], false]);
  assert.equal(
    by.get('SilencedErrors')!.ok,
    true,
    'a silenced alert still fired: the check holds, the silence is noted',
  );

  const notSent = by.get('NotSent')!;
  assert.equal(notSent.fired, true, 'it fired in Prometheus');
  assert.equal(notSent.alertmanager?.reached, false);
  assert.equal(notSent.ok, false);
  assert.match(notSent.reasons.join(' '), /fired in Prometheus but never reached Alertmanager/);

  const quiet = by.get('QuietAlert')!;
  assert.deepEqual([quiet.ok, quiet.alertmanager?.reached], [true, false]);
  assert.equal(exitCode, 3, 'NotSent failed the run');

  const term = renderSummary(summary, { color: false });
  assert.match(
    term,
    /Alertmanager: HighErrorRate: reached Alertmanager .* after `outage` started .*active, receivers team — it would notify/,
  );
  assert.match(term, /Alertmanager: SilencedErrors: .*suppressed \(silenced by /);
  assert.match(term, /Alertmanager: NotSent: never reached Alertmanager\./);
  assert.match(renderMarkdown(summary), /- Alertmanager: HighErrorRate: reached Alertmanager/);
});

test('an unreachable Alertmanager is exit 5 before any load', { skip, timeout: 60_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-am-'));
  dirs.push(out);
  const p = parsePlan(`
target: { url: ${server!.url} }
scenarios: { s: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } } }
monitor:
  prometheus: ${prom!.url}
  alertmanager: http://127.0.0.1:9
  alerts: [ { name: QuietAlert, never: true } ]
`);
  await assert.rejects(run(p, { outDir: out }), (e: { code?: string; problems?: Array<{ path?: string }> }) => {
    assert.equal(e.code, 'E_TARGET_UNREACHABLE');
    assert.equal(e.problems?.[0]?.path, 'monitor.alertmanager');
    return true;
  });
  assert.equal(fs.existsSync(path.join(out, 'summary.json')), false, 'nothing ran');
});
