/**
 * Timing truth (issue 10): does the generator measure what the target did, or its own stalls?
 * A loopback target with known timing (bench/timed-server.ts, pinned to core 0) records when it
 * actually wrote each token / response; Preflight (pinned to core 1) measures the same streams.
 *
 * - Streams: OpenAI chat SSE, first token 100 ms after the request, then every 15 ms, 20 tokens;
 *   driven in the closed model at 10, 100 and 1,000 concurrent streams. Compared: TTFT p99 and the
 *   inter-token max, Preflight vs the server's own. Target: within 2 ms.
 * - Plain requests: 500/s (open model, uniform arrivals) against 10 ms service time. Compared:
 *   latency p99.9, Preflight vs the server's own request-in → response-out time. Target: within 2 ms.
 *
 *   node dist/bench/stream-timing.js [--duration 8] [--tokens 20] [--rate 500] [--max-streams 1000]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  BENCH_DIR,
  fmt,
  freePort,
  heading,
  machineLine,
  numericArgs,
  pinned,
  runPreflight,
  sleep,
  table,
  verdict,
  waitForPort,
  warnIfBusy,
  type LoadReport,
} from './common.js';

const args = numericArgs({ duration: 8, tokens: 20, rate: 500, 'max-streams': 1000, 'steady-from': 1 });
/** Compared: what completed from this many seconds on, on both sides (the first requests of each stream include connection set-up and JIT warm-up, which the server does not see). */
const FROM_S = args['steady-from'];
const TTFT_MS = 100;
const GAP_MS = 15;
const SERVICE_MS = 10;
const TOLERANCE_MS = 2;

interface Truth {
  streams: number;
  ttft: number[];
  gaps: number[];
  service: number[];
  /** The server's own event-loop delay over the step (see timed-server.ts). */
  eventLoopDelayMs?: { p99: number; max: number };
}

/** Nearest-rank percentile (the HdrHistogram definition). */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const k = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, k) - 1];
}

async function truth(url: string): Promise<Truth> {
  const res = await fetch(`${url}/__stats?from=${FROM_S}`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as Truth;
}

const port = await freePort();
const [cmd, cargs] = pinned(0, process.execPath, [
  path.join(BENCH_DIR, 'timed-server.js'),
  '--port',
  String(port),
  '--ttft',
  String(TTFT_MS),
  '--gap',
  String(GAP_MS),
  '--tokens',
  String(args.tokens),
  '--service',
  String(SERVICE_MS),
]);
const server = spawn(cmd, cargs, { stdio: 'ignore' });
const exited = new Promise<void>((r) => server.once('exit', () => r()));
const url = `http://127.0.0.1:${port}`;
const d = (measured: number, actual: number) => measured - actual;
const f2 = (x: number) => (Number.isFinite(x) ? fmt(x, 2) : '—');
try {
  await waitForPort(port);
  const busy = await warnIfBusy();
  const rows: string[][] = [
    [
      'streams',
      'done',
      'TTFT p99 server',
      'Preflight',
      'diff',
      'ITL max server',
      'Preflight',
      'diff',
      'overloaded',
      'windows over 50 ms',
      'verdict',
    ],
  ];
  const notes: string[] = [];
  for (const n of [10, 100, 1000].filter((x) => x <= args['max-streams'])) {
    await truth(url); // reset
    const r: LoadReport = await runPreflight({
      url,
      executor: 'constant-concurrency',
      concurrency: n,
      durationS: args.duration,
      protocol: 'openai',
      tokens: args.tokens,
      timeoutMs: 30_000,
    });
    await sleep(200);
    const t = await truth(url);
    const ttftS = percentile(t.ttft, 99);
    const itlS = t.gaps.length ? t.gaps[t.gaps.length - 1] : NaN;
    const ttftP = r.steady?.histograms.ttft_ms?.p99 ?? NaN;
    const itlP = r.steady?.histograms.itl_ms?.max ?? NaN;
    notes.push(
      `${n} streams, whole run incl. the first second: TTFT p99 ${f2(r.histograms?.ttft_ms?.p99 ?? NaN)} ms, ITL max ${f2(r.histograms?.itl_ms?.max ?? NaN)} ms`,
    );
    const ok = Math.abs(d(ttftP, ttftS)) <= TOLERANCE_MS && Math.abs(d(itlP, itlS)) <= TOLERANCE_MS;
    const w = r.generator.windows_over_limit;
    rows.push([
      String(n),
      `${fmt(r.steady?.histograms.ttft_ms?.count ?? 0)}/${fmt(t.streams)}`,
      f2(ttftS),
      f2(ttftP),
      f2(d(ttftP, ttftS)),
      f2(itlS),
      f2(itlP),
      f2(d(itlP, itlS)),
      r.generator.overloaded ? 'yes' : 'no',
      w ? `${w.count}/${w.of}` : 'n/a',
      verdict(ok),
    ]);
    notes.push(
      `${n} streams: generator event-loop delay max ${f2(r.generator.event_loop_delay_ms.max)} ms, CPU ${fmt(r.cpuPercent)}%${r.generator.reasons.length ? `; ${r.generator.reasons.join('; ')}` : ''}; server event-loop delay p99 ${f2(t.eventLoopDelayMs?.p99 ?? NaN)} ms, max ${f2(t.eventLoopDelayMs?.max ?? NaN)} ms (a request waiting for the server's loop is in the client's TTFT, not in the server's)`,
    );
  }
  await truth(url);
  const r = await runPreflight({
    url,
    executor: 'constant-arrival-rate',
    rate: args.rate,
    durationS: args.duration,
    timeoutMs: 30_000,
  });
  await sleep(200);
  const t = await truth(url);
  const sP = percentile(t.service, 99.9);
  const lP = r.steady?.histograms.latency_ms?.p999 ?? NaN;
  heading(
    `Timing truth: SSE ${TTFT_MS} ms TTFT + ${GAP_MS} ms/token × ${args.tokens}; plain ${SERVICE_MS} ms at ${args.rate}/s — ${args.duration} s each`,
    [
      machineLine(),
      busy,
      `target: bench/timed-server.js (pinned to core 0 when taskset exists); Preflight pinned to core 1; target within ${TOLERANCE_MS} ms of the server's own timing; compared: what completed from ${FROM_S} s on ('done' = Preflight/server)`,
      '',
      table(rows),
      ...notes,
      '',
      table([
        [
          'plain requests',
          'done',
          'latency p99.9 server',
          'Preflight',
          'diff',
          'p99 server',
          'Preflight',
          'late',
          'overloaded',
          'verdict',
        ],
        [
          `${args.rate}/s`,
          `${fmt(r.steady?.histograms.latency_ms?.count ?? 0)}/${fmt(t.service.length)}`,
          f2(sP),
          f2(lP),
          f2(d(lP, sP)),
          f2(percentile(t.service, 99)),
          f2(r.steady?.histograms.latency_ms?.p99 ?? NaN),
          fmt(r.late),
          r.generator.overloaded ? 'yes' : 'no',
          verdict(Math.abs(d(lP, sP)) <= TOLERANCE_MS),
        ],
      ]),
      `plain, whole run: latency p99.9 ${f2(r.latency_ms.p999)} ms; generator dispatch lag p99 ${f2(r.generator.dispatch_lag_ms.p99)} ms, max ${f2(r.generator.dispatch_lag_ms.max)} ms; event-loop delay max ${f2(r.generator.event_loop_delay_ms.max)} ms`,
    ],
  );
} finally {
  server.kill('SIGTERM');
  await Promise.race([exited, sleep(2000)]);
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
}
