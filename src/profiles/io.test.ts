/**
 * What profiles read and do outside the load: target memory (/proc VmRSS, Prometheus text), the
 * rollout action (a command without a shell, an HTTP call, a timeout), and replay traces.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseTrace } from '../data/trace.js';
import { shardOfTrace } from '../engine/executors/replay.js';
import { runAction } from './action.js';
import { MemorySampler, parsePrometheusMetric, parseVmRss } from './memory.js';
import type { IntervalRecord } from '../core/results.js';
import type { PlanOf } from '../plan/types.js';
import { encodeHistogram, newHistogram, recordClamped } from '../metrics/index.js';
import { buckets, mergePoint, summarizeRecords, timeline } from './windows.js';

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function serve(handler: http.RequestListener): Promise<string> {
  const s = http.createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

test('VmRSS and Prometheus gauges are parsed', () => {
  assert.equal(parseVmRss('Name:\tnode\nVmPeak:\t 2000 kB\nVmRSS:\t   51200 kB\nThreads: 7\n'), 51200 * 1024);
  assert.equal(parseVmRss('Name: x\n'), undefined);
  const text = [
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    'process_resident_memory_bytes 1.5e+08',
    'process_resident_memory_bytes_peak 9',
    'worker_rss_bytes{worker="a",path="x}y"} 100',
    'worker_rss_bytes{worker="b"} 200 1700000000000',
  ].join('\n');
  assert.equal(parsePrometheusMetric(text, 'process_resident_memory_bytes'), 1.5e8);
  assert.equal(parsePrometheusMetric(text, 'worker_rss_bytes'), 300, 'label sets are summed');
  assert.equal(parsePrometheusMetric(text, 'missing_metric'), undefined);
});

test('memory is sampled from a local pid and from a /metrics URL', async () => {
  const bySelf = new MemorySampler({ pid: process.pid, metric: 'process_resident_memory_bytes' });
  bySelf.start(50);
  let v = 12_345;
  const url = await serve((_req, res) => res.end(`process_resident_memory_bytes ${(v += 1000)}\n`));
  const byUrl = new MemorySampler({ url: `${url}/metrics`, metric: 'process_resident_memory_bytes' });
  byUrl.start(50);
  await new Promise((r) => setTimeout(r, 300));
  bySelf.stop();
  byUrl.stop();
  const a = bySelf.stats()!;
  assert.ok(a.samples >= 2 && a.last_bytes > 10 * 2 ** 20, JSON.stringify(a));
  const b = byUrl.stats()!;
  assert.ok(b.samples >= 2 && b.last_bytes > b.first_bytes, JSON.stringify(b));
  const none = new MemorySampler({ pid: 2 ** 22 + 17, metric: 'x' });
  none.start(50);
  await new Promise((r) => setTimeout(r, 120));
  none.stop();
  assert.equal(none.stats(), undefined);
  assert.ok(none.failures >= 1);
});

test('rollout action: a command runs without a shell, its exit code and output are kept', async () => {
  const ok = await runAction(
    { kind: 'run', argv: [process.execPath, '-e', 'console.log("rolled $HOME")'], shell: false, display: 'node -e …' },
    { timeoutMs: 10_000 },
  );
  assert.equal(ok.ok, true);
  assert.equal(ok.exit_code, 0);
  assert.match(ok.output_tail, /rolled \$HOME/, 'no shell: $HOME is not expanded');
  const bad = await runAction(
    { kind: 'run', argv: [process.execPath, '-e', 'process.exit(3)'], shell: false, display: 'exit 3' },
    { timeoutMs: 10_000 },
  );
  assert.equal(bad.ok, false);
  assert.equal(bad.exit_code, 3);
  const missing = await runAction(
    { kind: 'run', argv: ['/nonexistent/preflight-cmd'], shell: false, display: 'missing' },
    { timeoutMs: 10_000 },
  );
  assert.equal(missing.ok, false);
  assert.match(missing.error ?? '', /ENOENT/);
  const slow = await runAction(
    { kind: 'run', argv: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], shell: false, display: 'sleep' },
    { timeoutMs: 300 },
  );
  assert.equal(slow.timed_out, true);
  assert.equal(slow.ok, false);
  assert.ok(slow.duration_s < 5, String(slow.duration_s));
});

test('rollout action: an HTTP call with its status and body', async () => {
  const url = await serve((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.writeHead(req.method === 'POST' ? 200 : 405);
      res.end(`got ${req.method} ${body}`);
    });
  });
  const r = await runAction(
    {
      kind: 'http',
      method: 'POST',
      url: `${url}/admin/version`,
      headers: { 'content-type': 'application/json' },
      body: '{"version":"v2"}',
      display: 'POST /admin/version',
    },
    { timeoutMs: 5000 },
  );
  assert.equal(r.ok, true);
  assert.equal(r.status, 200);
  assert.equal(r.output_tail, 'got POST {"version":"v2"}');
  const g = await runAction(
    { kind: 'http', method: 'GET', url: `${url}/`, headers: {}, display: 'GET /' },
    { timeoutMs: 5000 },
  );
  assert.equal(g.ok, false);
  assert.equal(g.status, 405);
});

test('traces: CSV and JSON Lines, units, ISO dates, sorting, speed, rows, and problems with line numbers', () => {
  const csv = parseTrace('timestamp,row\n100.5,3\n100.0,1\n101.0,2\n', {
    format: 'csv',
    time: 'timestamp',
    unit: 's',
    speed: 2,
    row: 'row',
  });
  assert.deepEqual([...csv.timesS], [0, 0.25, 0.5]);
  assert.deepEqual([...csv.rows!], [1, 3, 2]);
  assert.equal(csv.durationS, 0.5);
  const ms = parseTrace('{"t": 5000}\n{"t": 5250}\n\n', { format: 'jsonl', time: 't', unit: 'ms', speed: 1 });
  assert.deepEqual([...ms.timesS], [0, 0.25]);
  const iso = parseTrace('ts\n2025-06-02T09:00:00Z\n2025-06-02T09:00:01.5Z\n', {
    format: 'csv',
    time: 'ts',
    unit: 's',
    speed: 1,
  });
  assert.deepEqual([...iso.timesS], [0, 1.5]);
  assert.throws(
    () => parseTrace('when\n1\n', { format: 'csv', time: 'timestamp', unit: 's', speed: 1, file: 't.csv' }),
    (e: Error & { problems?: Array<{ message: string; hint?: string }> }) => {
      assert.match(e.problems![0].message, /no column `timestamp`/);
      assert.match(e.problems![0].hint!, /columns: when/);
      return true;
    },
  );
  assert.throws(
    () => parseTrace('timestamp\n1\nsoon\n', { format: 'csv', time: 'timestamp', unit: 's', speed: 1 }),
    (e: Error & { problems?: Array<{ line?: number }> }) => e.problems![0].line === 3,
  );
});

test('replay sharding: every request once; with a row column each shard gets the rows its data table maps back', () => {
  const trace = parseTrace(
    't,row\n' + Array.from({ length: 10 }, (_, i) => `${i / 10},${(i * 7) % 10}`).join('\n') + '\n',
    { format: 'csv', time: 't', unit: 's', speed: 1, row: 'row' },
  );
  const shards = [0, 1, 2].map((index) => shardOfTrace(trace, { index, count: 3 }));
  assert.equal(
    shards.reduce((a, s) => a + s.timesS.length, 0),
    10,
  );
  // Row r is sent by shard r mod 3 with sequence ⌊r / 3⌋, which src/data/order.ts maps back to row r.
  for (const s of shards) for (const seq of s.seqs) assert.ok(Number.isInteger(seq));
  const rowsOf = (k: number) => [...shards[k].seqs].map((seq) => k + seq * 3).sort((a, b) => a - b);
  assert.deepEqual(
    [...rowsOf(0), ...rowsOf(1), ...rowsOf(2)].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  const cut = shardOfTrace(trace, { index: 0, count: 1 }, { durationS: 0.45, maxRequests: 100 });
  assert.equal(cut.timesS.length, 5);
});

function record(
  scenario: string,
  t: number,
  latenciesMs: number[],
  errors: Record<string, number> = {},
  extra: Partial<IntervalRecord> = {},
): IntervalRecord {
  const h = newHistogram();
  for (const v of latenciesMs) recordClamped(h, v * 1000);
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    scenario,
    t,
    start_s: t,
    duration_s: 1,
    requests: latenciesMs.length,
    ok: latenciesMs.length - failed,
    errors,
    throughput: latenciesMs.length,
    in_flight: 2,
    late: 0,
    latency_ms: null,
    service_time_ms: null,
    counters: {},
    histograms_ms: {},
    hdr: { latency: encodeHistogram(h) },
    ...extra,
  };
}

test('windows: scenarios merged exactly per window, buckets of windows, and a summary of any span', () => {
  const a = Array.from({ length: 99 }, () => 10);
  const recs = [
    record('x', 0, a),
    record('y', 0, [1000], { http_5xx: 1 }, { counters: { 'status.503': 1 }, target_memory_bytes: 5e6 }),
    record('x', 1, [20, 20]),
    { ...record('x', 1, [999]), group: 'g' },
  ];
  const tl = timeline(recs);
  assert.equal(tl.length, 2);
  assert.equal(tl[0].requests, 100);
  assert.equal(tl[0].error_rate, 0.01);
  assert.ok(Math.abs(tl[0].p50! - 10) < 0.02, String(tl[0].p50));
  assert.ok(Math.abs(tl[0].max! - 1000) < 1, "the other scenario's slow request is in the merged window");
  assert.equal(tl[0].in_flight, 4);
  assert.equal(tl[0].counters['status.503'], 1);
  assert.equal(tl[0].memory, 5e6);
  assert.equal(tl[1].requests, 2, 'group records are not counted twice');
  const b = buckets(recs, 2, ['x']);
  assert.equal(b.length, 1);
  assert.equal(b[0].requests, 101);
  assert.equal(b[0].duration_s, 2);
  assert.ok(Math.abs(b[0].throughput - 50.5) < 1e-9);
  assert.equal(mergePoint([]).p99, null);
  const s = summarizeRecords(recs.filter((r) => r.group === undefined));
  assert.equal(s.requests, 102);
  assert.equal(s.errors['http_5xx'], 1);
  assert.ok(Math.abs(s.latency_ms.p50 - 10) < 0.02);
  assert.equal(s.durationS, 2);
});

test('a profile analyses the windows run() wrote, without reading intervals.ndjson back (single run and step)', async () => {
  const { parsePlan } = await import('../plan/index.js');
  const { expand } = await import('./kinds/index.js');
  const { runSingle } = await import('./harness.js');
  const { runStep } = await import('./steps.js');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const url = await serve((_req, res) => res.end('ok'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-windows-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fromFile = (d: string): IntervalRecord[] =>
    fs
      .readFileSync(path.join(d, 'intervals.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as IntervalRecord);
  const plan = parsePlan(
    `target: { url: ${url} }\noptions: { interval: 200ms }\nprofile: { type: load, rate: 20/s, steps: 2, stepDuration: 600ms, hold: 600ms }\nscenario: { request: { method: GET, path: / } }\nthresholds: [ p99 < 5s ]\n`,
  );
  const single = await runSingle(expand(plan).plan, undefined, { outDir: path.join(dir, 'single') });
  assert.ok(single.records.length >= 4, `windows: ${single.records.length}`);
  // Same records, same order; the last windows (flushed at the end of the run) included.
  assert.deepEqual(JSON.parse(JSON.stringify(single.records)), fromFile(path.join(dir, 'single')));
  const sweep = parsePlan(
    `target: { url: ${url} }\noptions: { interval: 200ms }\nprofile: { type: sweep, levels: [10/s], steady: { window: 200ms, windows: 2, maxStepDuration: 1s } }\nscenario: { request: { method: GET, path: / } }\n`,
  );
  assert.equal(sweep.profile?.type, 'sweep');
  const sweepPlan = sweep as PlanOf<'sweep'>;
  const step = await runStep(
    sweepPlan,
    0,
    { mode: 'rate', value: 10 },
    sweepPlan.profile.steady,
    path.join(dir, 'sweep'),
    {},
  );
  assert.ok(step.records.length >= 2, `windows: ${step.records.length}`);
  assert.deepEqual(JSON.parse(JSON.stringify(step.records)), fromFile(step.dir));
});
