import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { episodesOf, judgeAlert, readAlerts } from './alerts.js';
import type { PromSeries } from './sources.js';

// ALERTS samples every 1 s from t0 = 1000 (unix s).
const series = (
  state: 'pending' | 'firing',
  from: number,
  to: number,
  labels: Record<string, string> = {},
): PromSeries => ({
  metric: { alertname: 'A', alertstate: state, ...labels },
  values: Array.from({ length: to - from + 1 }, (_, i) => [1000 + from + i, '1'] as [number, string]),
});

test('episodesOf: pending then firing is one episode; a gap splits; label sets merge; still active at the end', () => {
  const eps = episodesOf(
    [
      series('pending', 5, 6),
      series('firing', 7, 12),
      series('firing', 9, 13, { instance: 'b' }),
      series('pending', 30, 30),
      series('firing', 40, 44),
    ],
    1000,
    1,
    1044,
  );
  assert.deepEqual(eps, [
    { active_s: 5, firing_s: 7, resolved_s: 14 },
    { active_s: 30, firing_s: null, resolved_s: 31 },
    { active_s: 40, firing_s: 40, resolved_s: null },
  ]);
});

test('judgeAlert: detection and resolution latencies from the cause; late, unresolved, false alarms, never', () => {
  const eps = episodesOf([series('pending', 5, 6), series('firing', 7, 12)], 1000, 1, 1060);
  const cause = { start_s: 4, end_s: 10 };
  const fires = { name: 'A', never: false, fires: { withinMs: 5000, of: 'outage' }, resolves: { withinMs: 5000 } };
  const ok = judgeAlert(fires, eps, cause, 60, 1);
  assert.deepEqual(
    [ok.fired, ok.pending_after_s, ok.firing_after_s, ok.resolved_after_s, ok.false_alarms, ok.ok],
    [true, 1, 3, 3, 0, true],
  );
  const late = judgeAlert({ ...fires, fires: { withinMs: 2000, of: 'outage' } }, eps, cause, 60, 1);
  assert.equal(late.ok, false);
  assert.match(late.reasons[0], /fired 3 s after `outage` started \(expected within 2 s\)/);
  const slow = judgeAlert({ ...fires, resolves: { withinMs: 2000 } }, eps, cause, 60, 1);
  assert.match(slow.reasons.join(), /resolved 3 s after `outage` ended \(expected within 2 s\)/);
  const stuck = judgeAlert(fires, episodesOf([series('firing', 7, 60)], 1000, 1, 1060), cause, 60, 1);
  assert.match(stuck.reasons.join(), /still active when last read/);
  // Firing before the cause and long after it: false alarms, and the run's expectation fails.
  const noisy = episodesOf([series('firing', 0, 1), series('firing', 7, 8), series('firing', 50, 52)], 1000, 1, 1060);
  const n = judgeAlert(fires, noisy, cause, 60, 1);
  assert.deepEqual([n.fired, n.false_alarms, n.ok], [true, 2, false]);
  assert.match(n.reasons.join(), /fired 2 times outside `outage`/);
  const never = judgeAlert({ name: 'A', never: true }, eps, undefined, 60, 1);
  assert.deepEqual([never.fired, never.false_alarms, never.ok], [true, 1, false]);
  assert.deepEqual(judgeAlert({ name: 'A', never: true }, [], undefined, 60, 1).ok, true);
  // A pending-only episode is not a false alarm (that is what `for:` is for).
  const pend = episodesOf([series('pending', 20, 21)], 1000, 1, 1060);
  assert.equal(judgeAlert({ name: 'A', never: true }, pend, undefined, 60, 1).ok, true);
  const never2 = judgeAlert(fires, eps, { start_s: null, end_s: null }, 60, 1);
  assert.match(never2.reasons[0], /never started/);
});

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

test('readAlerts: a Prometheus that fails after the load fails each check with its reason, never throws', async () => {
  // A loopback server answering the API with an error, as a Prometheus behind a failing proxy would.
  const server = http.createServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'overloaded' }));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const now = Date.now();
  const checks = await readAlerts(
    { url, headers: {} },
    { timeoutMs: 2000 },
    [
      { name: 'A', never: true },
      { name: 'B', never: false, fires: { withinMs: 1000, of: 'load' } },
    ],
    {
      loadStartMs: now - 5000,
      loadEndMs: now,
      marginMs: 1000,
      causes: new Map([['load', { start_s: 0, end_s: 5 }]]),
      settleMs: 0,
    },
  );
  assert.deepEqual(
    checks.map((c) => [c.name, c.ok]),
    [
      ['A', false],
      ['B', false],
    ],
  );
  assert.match(checks[0].reasons[0], /^A: could not read Prometheus' ALERTS series: .*overloaded/);
});
