import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IntervalRecord, Summary } from '../core/results.js';
import { encodeHistogram, newHistogram, recordClamped } from '../metrics/index.js';
import { cumulativeCounts, LATENCY_BUCKETS_S, LiveMetrics } from './live-metrics.js';

const open: LiveMetrics[] = [];
after(async () => {
  for (const m of open) await m.close();
});

async function start(): Promise<LiveMetrics> {
  const m = await LiveMetrics.start({ port: 0, plan: 'plans/x.yaml' });
  open.push(m);
  return m;
}

/** A window record with these latencies (ms) and errors. */
function record(t: number, latMs: number[], errors: Record<string, number> = {}, group?: string): IntervalRecord {
  const h = newHistogram();
  for (const v of latMs) recordClamped(h, v * 1000);
  const lag = newHistogram();
  recordClamped(lag, 1500);
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  const r: IntervalRecord = {
    scenario: 'steady',
    t,
    start_s: t,
    duration_s: 1,
    requests: latMs.length,
    ok: latMs.length - failed,
    errors,
    throughput: latMs.length,
    target_rate: 20,
    in_flight: 3,
    late: 1,
    latency_ms: latMs.length ? { p50: 5, p90: 7, p99: 40, max: 41 } : null,
    service_time_ms: null,
    counters: {},
    histograms_ms: {},
    hdr: { latency: encodeHistogram(h), dispatch_lag: encodeHistogram(lag) },
  };
  if (group !== undefined) r.group = group;
  return r;
}

/** Exposition text → sample values by `name{labels}` as printed. */
async function scrape(m: LiveMetrics): Promise<{ text: string; value: (series: string) => number | undefined }> {
  const res = await fetch(m.url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    map.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return { text, value: (s) => map.get(s) };
}

test('the exposition: counters add up over windows, gauges hold the last window, the histogram is cumulative', async () => {
  const m = await start();
  assert.match(m.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const lat = [...new Array(10).fill(0.5), ...new Array(5).fill(3), 40];
  m.onWindow([record(0, lat, { http_5xx: 2 })]);
  m.onWindow([record(1, lat, { http_5xx: 1, timeout: 1 }), record(1, [3, 3], {}, 'v2')]);
  m.onProgress({ elapsedS: 2, plannedS: 8, scenarios: [] });
  const { text, value } = await scrape(m);
  const s = 'scenario="steady",group=""';
  assert.equal(value(`preflight_requests_total{${s},outcome="ok"}`), 14 + 14);
  assert.equal(value(`preflight_requests_total{${s},outcome="error"}`), 2 + 2);
  assert.equal(value(`preflight_requests_total{scenario="steady",group="v2",outcome="ok"}`), 2);
  assert.equal(value(`preflight_errors_total{${s},class="http_5xx"}`), 3);
  assert.equal(value(`preflight_errors_total{${s},class="timeout"}`), 1);
  assert.equal(value(`preflight_late_requests_total{${s}}`), 2);
  assert.equal(value('preflight_in_flight_requests{scenario="steady"}'), 3);
  assert.equal(value('preflight_target_rate{scenario="steady"}'), 20);
  assert.equal(value(`preflight_window_latency_seconds{${s},quantile="0.99"}`), 0.04);
  assert.equal(value(`preflight_window_latency_seconds{${s},quantile="1"}`), 0.041);
  assert.equal(value('preflight_run_progress_ratio'), 0.25);
  assert.equal(value('preflight_run_info{plan="plans/x.yaml",status="running"}'), 1);
  assert.equal(value('preflight_windows_total'), 2);
  // Two windows of 10 × 0.5 ms, 5 × 3 ms, 1 × 40 ms.
  assert.match(text, /# TYPE preflight_request_duration_seconds histogram/);
  const b = (le: string) => value(`preflight_request_duration_seconds_bucket{${s},le="${le}"}`);
  assert.equal(b('0.001'), 20);
  assert.equal(b('0.0025'), 20);
  assert.equal(b('0.005'), 30);
  assert.equal(b('0.025'), 30);
  assert.equal(b('0.05'), 32);
  assert.equal(b('+Inf'), 32);
  assert.equal(value(`preflight_request_duration_seconds_count{${s}}`), 32);
  const sum = value(`preflight_request_duration_seconds_sum{${s}}`)!;
  assert.ok(Math.abs(sum - 2 * (0.005 + 0.015 + 0.04)) < 0.001, `sum ${sum}`);
  assert.ok(Math.abs(value('preflight_dispatch_lag_seconds{scenario="steady",quantile="1"}')! - 0.0015) < 0.00001);
  // No exit code while running: 0 would read as "passed".
  assert.doesNotMatch(text, /preflight_run_exit_code \d/);
});

test('a window without completions leaves a gap in the latency gauges, not the last figure', async () => {
  const m = await start();
  m.onWindow([record(0, [2, 3])]);
  m.onWindow([record(1, [])]);
  const { value } = await scrape(m);
  assert.equal(value('preflight_window_latency_seconds{scenario="steady",group="",quantile="0.5"}'), undefined);
  assert.equal(value('preflight_requests_total{scenario="steady",group="",outcome="ok"}'), 2);
});

test('a scenario that has ended: its last-window gauges fall to 0 or go away, its counters stay', async () => {
  const m = await start();
  m.onWindow([record(0, [2, 3]), { ...record(0, [4]), scenario: 'other' }]);
  m.onWindow([{ ...record(1, [4]), scenario: 'other' }]);
  const { value } = await scrape(m);
  const s = 'scenario="steady",group=""';
  assert.equal(value(`preflight_achieved_rate{${s}}`), 0);
  assert.equal(value('preflight_in_flight_requests{scenario="steady"}'), 0);
  assert.equal(value('preflight_target_rate{scenario="steady"}'), undefined);
  assert.equal(value(`preflight_window_latency_seconds{${s},quantile="0.99"}`), undefined);
  assert.equal(value(`preflight_requests_total{${s},outcome="ok"}`), 2);
  assert.equal(value('preflight_achieved_rate{scenario="other",group=""}'), 1);
});

test('the end of the run: status, exit code, unsent and cancelled; other paths are 404', async () => {
  const m = await start();
  m.onWindow([record(0, [2])]);
  const summary = {
    status: 'interrupted',
    scenarios: { steady: { unsent: 7, cancelled: 2 } },
  } as unknown as Summary;
  m.finish(summary, 130);
  const { value } = await scrape(m);
  assert.equal(value('preflight_run_info{plan="plans/x.yaml",status="interrupted"}'), 1);
  assert.equal(value('preflight_run_info{plan="plans/x.yaml",status="running"}'), undefined);
  assert.equal(value('preflight_run_exit_code'), 130);
  assert.equal(value('preflight_unsent_requests{scenario="steady"}'), 7);
  assert.equal(value('preflight_cancelled_requests{scenario="steady"}'), 2);
  const other = await fetch(m.url.replace('/metrics', '/'));
  assert.equal(other.status, 404);
  await other.text();
});

test('a port in use and a bad host are argument errors', async () => {
  const m = await start();
  const port = Number(new URL(m.url).port);
  await assert.rejects(LiveMetrics.start({ port, plan: 'p' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'E_ARGS');
    assert.match(e.message, new RegExp(`--metrics-port ${port} on 127.0.0.1 is already in use`));
    return true;
  });
  await assert.rejects(LiveMetrics.start({ port: 0, host: 'not a host', plan: 'p' }), /--metrics-host must be/);
});

test('cumulativeCounts: an empty histogram and values beyond the last bound', () => {
  assert.deepEqual(cumulativeCounts(newHistogram(), [0.001, 1]), [0, 0]);
  const h = newHistogram();
  recordClamped(h, 60e6);
  recordClamped(h, 1);
  assert.deepEqual(cumulativeCounts(h, LATENCY_BUCKETS_S).at(-1), 1);
});

test('what an update costs on the main thread (measured, printed; generous bound)', async () => {
  const m = await start();
  const lat = Array.from({ length: 2000 }, (_, i) => 1 + (i % 97) * 0.3);
  const windows = Array.from({ length: 4 }, (_, k) => ({ ...record(0, lat, { http_5xx: 3 }), scenario: `s${k}` }));
  for (let i = 0; i < 60; i++) m.onWindow(windows);
  const mean = m.cost.totalMs / m.cost.updates;
  console.log(
    `live metrics update, 4 scenarios × 2000 requests/window: mean ${mean.toFixed(3)} ms, max ${m.cost.maxMs.toFixed(3)} ms over ${m.cost.updates} updates`,
  );
  assert.equal(m.cost.updates, 60);
  assert.ok(mean < 50, `mean update ${mean} ms`);
  await scrape(m);
});
