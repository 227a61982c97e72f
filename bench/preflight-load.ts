/**
 * The generator side of the benchmarks: runs one Preflight scenario through the library entry
 * `run(plan)` in this process and prints one JSON line (LoadReport) on stdout. The benchmarks start
 * it as a child, pinned to a core: `taskset -c 1 node dist/bench/preflight-load.js --url … `.
 *
 *   --url URL  --executor constant-concurrency|constant-arrival-rate  --duration S
 *   [--rate R] [--concurrency N] [--connections N] [--arrival uniform|poisson]
 *   [--sample-ms MS]  (sample this process's memory every MS ms)  [--timeout-ms MS]
 *   [--protocol http|openai] [--tokens N]  (openai: streamed chat completions of N tokens, model `tiny`)
 *
 *   [--renice-others N]  (experiment, bench/plain-stall.ts: once the run's worker thread exists, set
 *   nice N on every other thread of this process — main thread, V8's and libuv's helpers — so that
 *   on a shared core the sending thread is not made to wait behind them)
 *   [--others-core C]  (the same experiment, but those threads are moved to core C: `taskset -pc C <tid>`)
 *
 * PREFLIGHT_BENCH_CLIENT=undici (environment) sends with undici instead of the built-in HTTP/1.1
 * client, to compare the two in any benchmark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { run } from '../src/run/index.js';
import { addEncoded, durationStats, newHistogram, type Histogram } from '../src/metrics/index.js';
import type { Plan, ScenarioPlan } from '../src/plan/types.js';
import type { LoadReport } from './common.js';

const { values: v } = parseArgs({
  options: {
    url: { type: 'string' },
    executor: { type: 'string', default: 'constant-concurrency' },
    duration: { type: 'string', default: '10' },
    rate: { type: 'string' },
    concurrency: { type: 'string' },
    connections: { type: 'string' },
    arrival: { type: 'string', default: 'uniform' },
    'sample-ms': { type: 'string', default: '0' },
    'timeout-ms': { type: 'string', default: '30000' },
    protocol: { type: 'string', default: 'http' },
    tokens: { type: 'string', default: '16' },
    'steady-from': { type: 'string', default: '1' },
    'renice-others': { type: 'string' },
    'others-core': { type: 'string' },
  },
  strict: true,
});

if (!v.url || !new URL(v.url).hostname.startsWith('127.'))
  throw new Error('--url must be http://127.x.x.x:port (benchmarks stay on loopback)');
const executor = v.executor as ScenarioPlan['executor'];
if (executor !== 'constant-concurrency' && executor !== 'constant-arrival-rate')
  throw new Error(`unsupported --executor ${executor}`);
const num = (s: string | undefined) => (s === undefined ? undefined : Number(s));

const durationMs = Number(v.duration) * 1000;
const scenario: ScenarioPlan = {
  name: 'bench',
  protocol: 'http',
  startTimeMs: 0,
  gracefulStopMs: 5000,
  checks: [],
  tags: {},
  request: { method: 'GET', path: '/', headers: {} },
  ...(executor === 'constant-arrival-rate'
    ? { executor, durationMs, arrival: v.arrival as 'uniform' | 'poisson', rate: num(v.rate) ?? 100 }
    : { executor, durationMs, arrival: 'uniform' as const, concurrency: num(v.concurrency) ?? 1 }),
};
if (v.protocol === 'openai') {
  scenario.protocol = 'openai';
  scenario.model = 'tiny';
  scenario.openai = { endpoint: 'chat', stream: true, maxTokens: Number(v.tokens) };
  delete scenario.request;
} else if (v.protocol !== 'http') throw new Error(`unsupported --protocol ${v.protocol}`);

const plan: Plan = {
  source: '<bench>',
  target: {
    url: v.url,
    headers: {},
    timeoutMs: Number(v['timeout-ms']),
    connectTimeoutMs: 2000,
    client: process.env['PREFLIGHT_BENCH_CLIENT'] === 'undici' ? 'undici' : 'auto',
    tls: { insecure: false },
    readyPath: null,
    readyTimeoutMs: 5000,
  },
  scenarios: [scenario],
  thresholds: [],
  options: { workers: 1, seed: 1, intervalMs: 1000, maxDispatchLagMs: 50 },
  secrets: [],
};
const connections = num(v.connections);
if (connections !== undefined) plan.target.connections = connections;

const MB = 2 ** 20;
const memory: LoadReport['memory'] = [];
const sampleMs = Number(v['sample-ms']);
const windows: number[] = [];
/** Histograms of the windows from --steady-from (s) on: without the first requests' set-up and JIT warm-up. */
const steadyFrom = Number(v['steady-from']);
const steady = new Map<string, Histogram>();
const windowDetail: LoadReport['windowDetail'] = [];
const outDir = mkdtempSync(path.join(os.tmpdir(), 'preflight-bench-run-'));

const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
const sample = () => {
  const m = process.memoryUsage();
  memory.push({
    tS: Math.round(Number(process.hrtime.bigint() - t0) / 1e6) / 1000,
    rssMB: round(m.rss / MB),
    heapUsedMB: round(m.heapUsed / MB),
    heapTotalMB: round(m.heapTotal / MB),
    externalMB: round(m.external / MB),
    arrayBuffersMB: round(m.arrayBuffers / MB),
  });
};
let sampler: NodeJS.Timeout | null = null;
if (sampleMs > 0) {
  sample();
  sampler = setInterval(sample, sampleMs);
}
const reniceOthers = v['renice-others'] === undefined ? null : Number(v['renice-others']);
const othersCore = v['others-core'] === undefined ? null : Number(v['others-core']);
/** Threads that exist before run(): all but the worker thread(s) it starts. */
const threadsBefore = reniceOthers === null && othersCore === null ? [] : readdirSync('/proc/self/task').map(Number);
let reniced = false;
try {
  const { summary } = await run(plan, {
    outDir,
    onWindow: (records) => {
      if ((reniceOthers !== null || othersCore !== null) && !reniced) {
        reniced = true;
        // Linux: setpriority(PRIO_PROCESS, tid) sets one thread's nice value; taskset -p one thread's CPUs.
        for (const tid of threadsBefore) {
          if (reniceOthers !== null) os.setPriority(tid, reniceOthers);
          if (othersCore !== null) spawnSync('taskset', ['-pc', String(othersCore), String(tid)], { stdio: 'ignore' });
        }
      }
      for (const r of records) {
        if (r.group !== undefined) continue;
        windows.push(r.throughput);
        if (r.start_s >= steadyFrom) {
          for (const [k, enc] of Object.entries(r.hdr ?? {})) {
            let h = steady.get(k);
            if (h === undefined) steady.set(k, (h = newHistogram()));
            addEncoded(h, enc);
          }
        }
        windowDetail.push({
          t: r.t,
          requests: r.requests,
          late: r.late,
          p50: r.latency_ms?.p50 ?? 0,
          p99: r.latency_ms?.p99 ?? 0,
        });
      }
    },
  });
  const cpu = process.cpuUsage(cpu0);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  if (sampler !== null) {
    clearInterval(sampler);
    sample();
  }
  const s = summary.scenarios.bench;
  const g = summary.generator;
  const report: LoadReport = {
    requests: s.requests,
    ok: s.ok,
    errors: s.errors,
    throughput: s.throughput,
    durationS: s.durationS,
    late: s.late,
    unsent: s.unsent,
    cancelled: s.cancelled,
    latency_ms: s.latency_ms,
    service_time_ms: s.service_time_ms,
    dispatch_lag_ms: s.dispatch_lag_ms,
    generator: {
      overloaded: g.overloaded,
      dispatch_lag_ms: g.dispatch_lag_ms,
      event_loop_delay_ms: g.event_loop_delay_ms,
      cpu_percent: g.cpu_percent,
      reasons: g.reasons,
      windows_over_limit: g.windows_over_limit,
    },
    histograms: s.histograms,
    steady: {
      fromS: steadyFrom,
      histograms: Object.fromEntries([...steady].map(([k, h]) => [`${k}_ms`, durationStats(h)])),
    },
    windows,
    windowDetail,
    cpuPercent: round(((cpu.user + cpu.system) / wallUs) * 100),
    runWallS: round(wallUs / 1e6),
    memory,
    maxRssMB: round((process.resourceUsage().maxRSS * 1024) / MB),
  };
  process.stdout.write(JSON.stringify(report) + '\n');
} finally {
  if (sampler !== null) clearInterval(sampler);
  rmSync(outDir, { recursive: true, force: true });
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
