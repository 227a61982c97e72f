/**
 * Scale-out (issue 16): the aggregate rate of N local worker processes against a fast loopback
 * target vs one worker, through a real `nats-server -js`, and what coordination costs per window.
 * With 2 cores here, N processes share the cores the one used: the point is not linear scaling
 * (it cannot show here) but that the coordination costs little — so the table prints the merge
 * and transport cost per window (ms, bytes) beside the rates, and says so.
 *
 *   node dist/bench/scale-out.js [--workers 2] [--duration 5] [--concurrency 32] [--groups 8] [--windows 50]
 *
 * Part 1: `preflight coordinator` + N `preflight worker` processes, a closed workload (constant
 * concurrency) for `duration` s; req/s and latency from the coordinator's summary.json, bytes and
 * messages each worker published from its log.
 * Part 2 (in this process): one shard window of a scenario with `groups` groups (a model mix; 9
 * histograms each, realistic spreads) — encoded on the worker (encodeBatch), published and consumed
 * through JetStream, decoded and merged on the coordinator: time per window and bytes on the wire.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { Summary } from '../src/core/results.js';
import type { ShardBatch } from '../src/engine/index.js';
import { CountsPool, MetricSet, RawMerge, recordClamped } from '../src/metrics/index.js';
import { connectNats, ensureStream } from '../src/scale/nats.js';
import { decodeBatch, encodeBatch } from '../src/scale/index.js';
import {
  REPO_ROOT,
  fmt,
  freePort,
  hasCommand,
  heading,
  machineLine,
  numericArgs,
  runChild,
  sleep,
  startFastTarget,
  table,
  waitForPort,
  warnIfBusy,
} from './common.js';

const args = numericArgs({ workers: 2, duration: 5, concurrency: 32, groups: 8, windows: 50 });
const N = Math.max(2, Math.round(args.workers));
const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

async function startNats(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-bench-nats-'));
  const port = await freePort();
  const child: ChildProcess = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitForPort(port, 10_000);
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Row {
  workers: number;
  rps: number;
  p50: number;
  p99: number;
  windows: number;
  bytesPerWindow: number;
  code: number | null;
}

async function scaleRun(nats: string, target: string, n: number, dir: string): Promise<Row> {
  const plan = path.join(dir, `plan-${n}.yaml`);
  fs.writeFileSync(
    plan,
    `target: { url: ${target} }
scenarios:
  fast:
    executor: constant-concurrency
    concurrency: ${args.concurrency}
    duration: ${args.duration}s
    request: { method: GET, path: / }
`,
  );
  const runId = `bench-${n}-${process.pid}-${Date.now()}`;
  const out = path.join(dir, `out-${n}`);
  const timeout = (args.duration + 120) * 1000;
  const workers = Array.from({ length: n }, (_, i) =>
    runChild(
      'env',
      [
        `JOB_COMPLETION_INDEX=${i}`,
        process.execPath,
        CLI,
        'worker',
        plan,
        '--workers',
        String(n),
        '--nats',
        nats,
        '--run-id',
        runId,
      ],
      timeout,
    ),
  );
  const co = await runChild(
    process.execPath,
    [
      CLI,
      'coordinator',
      plan,
      '--workers',
      String(n),
      '--nats',
      nats,
      '--run-id',
      runId,
      '--out',
      out,
      '--quiet',
      '--no-report',
    ],
    timeout,
  );
  const ws = await Promise.all(workers);
  const s = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
  let bytes = 0;
  for (const w of ws) {
    const m = /done: (\d+) messages, (\d+) bytes/.exec(w.stderr);
    if (m) bytes += Number(m[2]);
  }
  const windows = s.scale_out?.per_worker.reduce((a, w) => a + w.windows, 0) ?? 0;
  return {
    workers: n,
    rps: s.total.throughput,
    p50: s.total.latency_ms.p50,
    p99: s.total.latency_ms.p99,
    windows,
    bytesPerWindow: windows > 0 ? bytes / windows : 0,
    code: co.code,
  };
}

/** A shard window as a worker thread hands it over: scenario + groups, 9 histograms each. */
function window(groups: number, requests: number, index: number): ShardBatch {
  const names = ['ttft', 'itl', 'tpot', 'e2e', 'tokens_out'];
  const sets = [new MetricSet(), ...Array.from({ length: groups }, () => new MetricSet())];
  let x = index + 1;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < requests; i++) {
    const g = sets[1 + (i % groups)];
    const e2e = 80_000 + rnd() * 3_000_000;
    for (const s of [sets[0], g]) {
      recordClamped(s.latency, e2e);
      recordClamped(s.serviceTime, e2e - 200);
      recordClamped(s.ttfb, e2e / 10);
      recordClamped(s.dispatchLag, 50 + rnd() * 2000);
      for (const nm of names) s.record(nm, 1 + rnd() * 200_000);
      s.requests++;
      s.ok++;
    }
  }
  const pool = new CountsPool();
  const snapshots = sets.map((s, k) =>
    s.take('llm', k === 0 ? undefined : `model-${k}`, index, index * 1000, 1000, { in_flight: 4 }, pool),
  );
  const lag = new MetricSet();
  return {
    shard: 0,
    index,
    snapshots,
    unsent: { llm: 0 },
    cancelled: { llm: 0 },
    spans: { llm: { startMs: 0, endMs: null } },
    health: {
      generatorLag: lag.take('x', undefined, 0, 0, 1, {}).histograms.latency,
      eventLoopDelayMs: { p50: 0, p99: 1, max: 2 },
    },
    final: false,
  };
}

async function transportCost(nats: string): Promise<string[][]> {
  const { nc, js, jsm } = await connectNats(nats, 10_000);
  const run = `cost${process.pid}`;
  await ensureStream(jsm, run);
  const stream = `PREFLIGHT_${run}`;
  await jsm.consumers.add(stream, {
    durable_name: 'c',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  });
  const consumer = await (await js.consumers.get(stream, 'c')).consume();
  const batches = Array.from({ length: args.windows }, (_, i) => window(args.groups, 1000, i));
  let encMs = 0;
  let decMs = 0;
  let mergeMs = 0;
  let bytes = 0;
  let roundTripMs = 0;
  const it = consumer[Symbol.asyncIterator]();
  for (const b of batches) {
    const t0 = performance.now();
    const wire = encodeBatch(b);
    const t1 = performance.now();
    await js.publish(`preflight.${run}.w.0.batch`, wire);
    const m = (await it.next()).value!;
    m.ack();
    const t2 = performance.now();
    const back = decodeBatch(m.data);
    const t3 = performance.now();
    const merges = new Map<string, RawMerge>();
    for (const s of back.snapshots) {
      const k = `${s.group}`;
      if (!merges.has(k)) merges.set(k, new RawMerge());
      merges.get(k)!.add(s);
    }
    for (const mm of merges.values()) mm.finish();
    const t4 = performance.now();
    encMs += t1 - t0;
    roundTripMs += t2 - t1;
    decMs += t3 - t2;
    mergeMs += t4 - t3;
    bytes += wire.byteLength;
  }
  consumer.stop();
  await jsm.streams.delete(stream);
  await nc.close();
  const W = batches.length;
  return [
    ['per shard window', 'mean'],
    ['histograms in the window', String((1 + args.groups) * 9)],
    ['bytes on the wire (deflated counts + JSON header)', fmt(bytes / W)],
    ['encode on the worker (main thread, not the sending one)', `${(encMs / W).toFixed(3)} ms`],
    ['ack’d publish + delivery to the coordinator (loopback)', `${(roundTripMs / W).toFixed(3)} ms`],
    ['decode on the coordinator', `${(decMs / W).toFixed(3)} ms`],
    ['merge (raw counts into histograms + encode for intervals.ndjson)', `${(mergeMs / W).toFixed(3)} ms`],
  ];
}

async function main(): Promise<void> {
  if (!hasCommand('nats-server')) {
    process.stdout.write('scale-out: nats-server is not installed (apt-get install nats-server): skipped\n');
    return;
  }
  const busy = await warnIfBusy();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-bench-scale-'));
  const target = await startFastTarget(0);
  const nats = await startNats();
  try {
    const rows: Row[] = [];
    for (const n of [1, N]) rows.push(await scaleRun(nats.url, target.url, n, dir));
    heading(`Scale-out: ${N} worker processes vs 1 (closed model, ${args.concurrency} in flight, ${args.duration} s)`, [
      machineLine(),
      `target: ${target.label}`,
      ...(busy ? [busy] : []),
      `${os.cpus().length} cores: the workers, the coordinator, nats-server and the target share them — expect no linear scaling here.`,
    ]);
    process.stdout.write(
      table([
        ['worker processes', 'req/s', 'p50 ms', 'p99 ms', 'windows', 'bytes/window', 'exit'],
        ...rows.map((r) => [
          String(r.workers),
          fmt(r.rps),
          r.p50.toFixed(2),
          r.p99.toFixed(2),
          String(r.windows),
          fmt(r.bytesPerWindow),
          String(r.code),
        ]),
      ]) + '\n',
    );
    process.stdout.write(`ratio ${N} / 1 workers: ${(rows[1].rps / rows[0].rps).toFixed(2)}×\n\n`);
    heading(
      `Coordination cost per window (${args.groups} groups + the scenario, ${args.windows} windows, 1000 requests each)`,
      [],
    );
    process.stdout.write(table(await transportCost(nats.url)) + '\n');
  } finally {
    await nats.stop();
    await target.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
