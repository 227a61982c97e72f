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
 * - `--truth wire` (root and tcpdump needed): each step's loopback traffic is also captured
 *   (bench/pcap.ts) and the same figures are read from the packets' timestamps — request's last byte
 *   to the client → server, token events server → client — a truth independent of both processes'
 *   clocks. Shown beside the server's clock (which it is checked against, request by request); the
 *   verdict is then against the wire. No comparison when tcpdump reports dropped packets.
 *
 *   node dist/bench/stream-timing.js [--duration 8] [--tokens 20] [--rate 500] [--max-streams 1000] [--truth server|wire]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BENCH_DIR,
  fmt,
  freePort,
  hasCommand,
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
} from './common.js';
import { captureProblem, httpExchanges, readPcap, startCapture, type Capture, type CaptureStats } from './pcap.js';

const args = numericArgs(
  { duration: 8, tokens: 20, rate: 500, 'max-streams': 1000, 'steady-from': 1 },
  { truth: ['server', 'wire'] },
);
const WIRE = args.truth === 'wire';
if (WIRE && !hasCommand('tcpdump'))
  throw new Error('--truth wire needs tcpdump (Debian: apt-get install -y tcpdump) and root to capture on lo');
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
  records?: Array<{ id: number; ttft?: number; gaps?: number[]; service?: number }>;
}

/** The same figures from the capture, plus how they compare with the server's clock per request. */
interface WireTruth {
  streams: number;
  ttft: number[];
  gaps: number[];
  service: number[];
  /** Plain requests: request's last byte → response's first byte (ms). */
  firstByte: number[];
  capture: CaptureStats;
  connections: number;
  broken: number;
  problems: string[];
  /** Why the wire is not compared (dropped or unreadable packets), or null. */
  refused: string | null;
  /**
   * wire − server, per request matched by id (ms): TTFT, every gap, plain service time; and TTFT
   * counted on the wire from the response's first byte instead (the server writes its first event
   * when its handler has read the request, so this leaves out the wait the server cannot see and
   * checks the capture against the server's clock alone).
   */
  vsServer: { ttft: number[]; ttftFromResponse: number[]; gaps: number[]; service: number[] };
  /** request's last byte → response's first byte on the wire: how long requests waited for the server (ms). */
  serverWait: number[];
}

/** Nearest-rank percentile (the HdrHistogram definition). */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const k = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, k) - 1];
}

async function truth(url: string): Promise<Truth> {
  const res = await fetch(`${url}/__stats?from=${FROM_S}${WIRE ? '&detail=1' : ''}`, {
    signal: AbortSignal.timeout(10_000),
  });
  return (await res.json()) as Truth;
}

/** A content token: an OpenAI chat/completions event with non-empty text (as the openai adapter counts them). */
function isToken(data: string): boolean {
  if (data === '[DONE]') return false;
  try {
    const c = (JSON.parse(data) as { choices?: Array<{ delta?: { content?: string }; text?: string }> }).choices?.[0];
    return (c?.delta?.content ?? c?.text ?? '').length > 0;
  } catch {
    return false;
  }
}

const sorted = (a: number[]) => a.sort((x, y) => x - y);

/**
 * Reads the capture: per exchange, request's last byte (client → server) → first content token /
 * each token / response's last byte (server → client). Kept, as on the server: what completed from
 * FROM_S s after the first request on.
 */
function wireTruth(capture: CaptureStats, port: number, server: Truth): WireTruth {
  const w = httpExchanges(readPcap(readFileSync(capture.file)), port);
  const measured = w.exchanges.filter(
    (e) => !e.path.startsWith('/__stats') && e.path !== '/v1/models' && e.responseLastMs !== undefined,
  );
  const first = measured.reduce((m, e) => Math.min(m, e.requestFirstMs), Infinity);
  const kept = measured.filter((e) => e.responseLastMs! >= first + FROM_S * 1000);
  const byId = new Map((server.records ?? []).map((r) => [r.id, r]));
  const out: WireTruth = {
    streams: 0,
    ttft: [],
    gaps: [],
    service: [],
    firstByte: [],
    capture,
    connections: w.connections,
    broken: w.broken,
    problems: w.problems,
    refused: null,
    vsServer: { ttft: [], ttftFromResponse: [], gaps: [], service: [] },
    serverWait: [],
  };
  for (const e of kept) {
    const s = byId.get(Number(e.headers?.['x-timed-id']));
    if (e.path === '/v1/chat/completions') {
      const tokens = e.events.filter((ev) => isToken(ev.data)).map((ev) => ev.tMs);
      if (tokens.length === 0) continue;
      out.streams++;
      const ttft = tokens[0] - e.requestLastMs;
      out.ttft.push(ttft);
      // The timed server writes its role event as soon as its handler has the request.
      out.serverWait.push(e.responseFirstMs! - e.requestLastMs);
      if (s?.ttft !== undefined) {
        out.vsServer.ttft.push(ttft - s.ttft);
        out.vsServer.ttftFromResponse.push(tokens[0] - e.responseFirstMs! - s.ttft);
      }
      for (let i = 1; i < tokens.length; i++) {
        const g = tokens[i] - tokens[i - 1];
        out.gaps.push(g);
        const sg = s?.gaps?.[i - 1];
        if (sg !== undefined) out.vsServer.gaps.push(g - sg);
      }
    } else {
      const service = e.responseLastMs! - e.requestLastMs;
      out.service.push(service);
      out.firstByte.push(e.responseFirstMs! - e.requestLastMs);
      if (s?.service !== undefined) out.vsServer.service.push(service - s.service);
    }
  }
  for (const a of [out.ttft, out.gaps, out.service, out.firstByte, out.serverWait, ...Object.values(out.vsServer)])
    sorted(a);
  out.refused = captureProblem(capture, w);
  return out;
}

/** Capture around one step (wire truth only): start before the load, stop after it settles. */
async function captured<T>(name: string, step: () => Promise<T>): Promise<[T, CaptureStats | null]> {
  if (!WIRE) return [await step(), null];
  const cap: Capture = await startCapture(port, captureDir, name);
  try {
    const r = await step();
    await sleep(200);
    return [r, await cap.stop()];
  } catch (e) {
    await cap.stop().catch(() => undefined);
    throw e;
  }
}

/** "min / median / p99 / max" of sorted wire − server differences. */
function spread(a: number[]): string {
  if (a.length === 0) return 'no matched requests';
  return `${f2(a[0])} / ${f2(percentile(a, 50))} / ${f2(percentile(a, 99))} / ${f2(a[a.length - 1])} ms (n ${fmt(a.length)})`;
}

function wireNote(what: string, w: WireTruth, server: Truth): string {
  const c = w.capture;
  const eld = server.eventLoopDelayMs;
  const lines = [
    `${what} wire: ${fmt(c.captured)} packets captured, ${fmt(c.receivedByFilter)} received by filter (each twice on lo), ${fmt(c.droppedByKernel)} dropped by kernel, ${fmt(c.notWritten)} not written; tcpdump CPU ${f2(c.cpuS)} s; ${fmt(w.connections)} connections, ${w.broken} unreadable${w.refused ? ` — NO WIRE COMPARISON: ${w.refused}` : ''}`,
  ];
  if (w.vsServer.ttft.length > 0) {
    lines.push(`  wire − server clock per stream, TTFT min/median/p99/max: ${spread(w.vsServer.ttft)}`);
    lines.push(
      `  … the same with the wire's TTFT from the response's first byte (the capture vs the server's clock alone): ${spread(w.vsServer.ttftFromResponse)}`,
    );
    lines.push(
      `  requests waiting for the server (wire: request's last byte → response's first byte): ${spread(w.serverWait)}`,
    );
  }
  if (w.vsServer.gaps.length > 0)
    lines.push(`  wire − server clock per gap, min/median/p99/max: ${spread(w.vsServer.gaps)}`);
  if (w.firstByte.length > 0)
    lines.push(
      `  wire, plain: request's last byte → response's first byte p99 ${f2(percentile(w.firstByte, 99))} ms, p99.9 ${f2(percentile(w.firstByte, 99.9))} ms; → last byte p99 ${f2(percentile(w.service, 99))} ms, p99.9 ${f2(percentile(w.service, 99.9))} ms`,
    );
  if (w.vsServer.service.length > 0)
    lines.push(`  wire − server clock per request, latency min/median/p99/max: ${spread(w.vsServer.service)}`);
  lines.push(`  server event-loop delay p99 ${f2(eld?.p99 ?? NaN)} ms, max ${f2(eld?.max ?? NaN)} ms`);
  const same = [w.vsServer.ttftFromResponse, w.vsServer.gaps];
  if (same.some((a) => a.length > 0)) {
    // Both clocks see the same events here; a single value may be displaced by a preemption on
    // the server between its write and its clock read, never by more than its loop delay.
    const bound = (eld?.max ?? 0) + 1;
    const ok = same.every(
      (a) => a.length === 0 || (Math.abs(percentile(a, 50)) <= 0.5 && Math.max(-a[0], a[a.length - 1]) <= bound),
    );
    lines.push(
      `  capture vs server's clock on the same events (TTFT from the response's first byte, gaps): ${ok ? 'agree' : 'DISAGREE'} (medians within 0.5 ms, every value within the server's event-loop delay max + 1 ms)`,
    );
  }
  return lines.join('\n');
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
const captureDir = WIRE ? mkdtempSync(path.join(os.tmpdir(), 'preflight-bench-pcap-')) : '';
const exited = new Promise<void>((r) => server.once('exit', () => r()));
const url = `http://127.0.0.1:${port}`;
const d = (measured: number, actual: number) => measured - actual;
const f2 = (x: number) => (Number.isFinite(x) ? fmt(x, 2) : '—');
try {
  await waitForPort(port);
  const busy = await warnIfBusy();
  const wireHead = WIRE ? ['TTFT p99 wire', 'diff', 'ITL max wire', 'diff'] : [];
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
      ...wireHead,
      'overloaded',
      'windows over 50 ms',
      WIRE ? 'verdict (wire)' : 'verdict',
    ],
  ];
  const notes: string[] = [];
  for (const n of [10, 100, 1000].filter((x) => x <= args['max-streams'])) {
    await truth(url); // reset
    const [r, cap] = await captured(`streams-${n}`, () =>
      runPreflight({
        url,
        executor: 'constant-concurrency',
        concurrency: n,
        durationS: args.duration,
        protocol: 'openai',
        tokens: args.tokens,
        timeoutMs: 30_000,
      }),
    );
    if (!WIRE) await sleep(200);
    const t = await truth(url);
    const ttftS = percentile(t.ttft, 99);
    const itlS = t.gaps.length ? t.gaps[t.gaps.length - 1] : NaN;
    const ttftP = r.steady?.histograms.ttft_ms?.p99 ?? NaN;
    const itlP = r.steady?.histograms.itl_ms?.max ?? NaN;
    notes.push(
      `${n} streams, whole run incl. the first second: TTFT p99 ${f2(r.histograms?.ttft_ms?.p99 ?? NaN)} ms, ITL max ${f2(r.histograms?.itl_ms?.max ?? NaN)} ms`,
    );
    let ok = Math.abs(d(ttftP, ttftS)) <= TOLERANCE_MS && Math.abs(d(itlP, itlS)) <= TOLERANCE_MS;
    const wireCols: string[] = [];
    let wire: WireTruth | null = null;
    if (cap !== null) {
      wire = wireTruth(cap, port, t);
      rmSync(cap.file, { force: true });
      const ttftW = wire.refused ? NaN : percentile(wire.ttft, 99);
      const itlW = wire.refused || wire.gaps.length === 0 ? NaN : wire.gaps[wire.gaps.length - 1];
      wireCols.push(f2(ttftW), f2(d(ttftP, ttftW)), f2(itlW), f2(d(itlP, itlW)));
      ok = Math.abs(d(ttftP, ttftW)) <= TOLERANCE_MS && Math.abs(d(itlP, itlW)) <= TOLERANCE_MS;
    }
    const w = r.generator.windows_over_limit;
    rows.push([
      String(n),
      `${fmt(r.steady?.histograms.ttft_ms?.count ?? 0)}/${fmt(t.streams)}${wire ? `/${fmt(wire.streams)}` : ''}`,
      f2(ttftS),
      f2(ttftP),
      f2(d(ttftP, ttftS)),
      f2(itlS),
      f2(itlP),
      f2(d(itlP, itlS)),
      ...wireCols,
      r.generator.overloaded ? 'yes' : 'no',
      w ? `${w.count}/${w.of}` : 'n/a',
      wire?.refused ? 'no comparison' : verdict(ok),
    ]);
    notes.push(
      `${n} streams: generator event-loop delay max ${f2(r.generator.event_loop_delay_ms.max)} ms, CPU ${fmt(r.cpuPercent)}%${r.generator.reasons.length ? `; ${r.generator.reasons.join('; ')}` : ''}; server event-loop delay p99 ${f2(t.eventLoopDelayMs?.p99 ?? NaN)} ms, max ${f2(t.eventLoopDelayMs?.max ?? NaN)} ms (a request waiting for the server's loop is in the client's TTFT, not in the server's)`,
    );
    if (wire) notes.push(wireNote(`${n} streams`, wire, t));
  }
  await truth(url);
  const [r, cap] = await captured('plain', () =>
    runPreflight({
      url,
      executor: 'constant-arrival-rate',
      rate: args.rate,
      durationS: args.duration,
      timeoutMs: 30_000,
    }),
  );
  if (!WIRE) await sleep(200);
  const t = await truth(url);
  const sP = percentile(t.service, 99.9);
  const lP = r.steady?.histograms.latency_ms?.p999 ?? NaN;
  let wire: WireTruth | null = null;
  let plainOk = Math.abs(d(lP, sP)) <= TOLERANCE_MS;
  const plainHead = ['plain requests', 'done', 'latency p99.9 server', 'Preflight', 'diff'];
  const plainRow = [
    `${args.rate}/s`,
    `${fmt(r.steady?.histograms.latency_ms?.count ?? 0)}/${fmt(t.service.length)}`,
    f2(sP),
    f2(lP),
    f2(d(lP, sP)),
  ];
  if (cap !== null) {
    wire = wireTruth(cap, port, t);
    rmSync(cap.file, { force: true });
    const wP = wire.refused ? NaN : percentile(wire.service, 99.9);
    plainHead.push('p99.9 wire', 'diff');
    plainRow.push(f2(wP), f2(d(lP, wP)));
    plainRow[1] += `/${fmt(wire.service.length)}`;
    plainOk = Math.abs(d(lP, wP)) <= TOLERANCE_MS;
  }
  plainHead.push('p99 server', 'Preflight', 'late', 'overloaded', WIRE ? 'verdict (wire)' : 'verdict');
  plainRow.push(
    f2(percentile(t.service, 99)),
    f2(r.steady?.histograms.latency_ms?.p99 ?? NaN),
    fmt(r.late),
    r.generator.overloaded ? 'yes' : 'no',
    wire?.refused ? 'no comparison' : verdict(plainOk),
  );
  heading(
    `Timing truth: SSE ${TTFT_MS} ms TTFT + ${GAP_MS} ms/token × ${args.tokens}; plain ${SERVICE_MS} ms at ${args.rate}/s — ${args.duration} s each`,
    [
      machineLine(),
      busy,
      `load average (1/5/15 min) at the end: ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' / ')}`,
      `target: bench/timed-server.js (pinned to core 0 when taskset exists); Preflight pinned to core 1; target within ${TOLERANCE_MS} ms of the ${WIRE ? 'wire' : "server's own timing"}; compared: what completed from ${FROM_S} s on ('done' = Preflight/server${WIRE ? '/wire' : ''})`,
      ...(WIRE
        ? [
            "wire: tcpdump -i lo (ns timestamps, 64 MiB buffer) per step; TTFT = request's last byte client → server to the first content event server → client; ITL = between content events; latency = request's last byte to response's last byte",
          ]
        : []),
      '',
      table(rows),
      ...notes,
      '',
      table([plainHead, plainRow]),
      `plain, whole run: latency p99.9 ${f2(r.latency_ms.p999)} ms; generator dispatch lag p99 ${f2(r.generator.dispatch_lag_ms.p99)} ms, max ${f2(r.generator.dispatch_lag_ms.max)} ms; event-loop delay max ${f2(r.generator.event_loop_delay_ms.max)} ms`,
      ...(wire ? [wireNote('plain', wire, t)] : []),
    ],
  );
} finally {
  server.kill('SIGTERM');
  await Promise.race([exited, sleep(2000)]);
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  if (captureDir) rmSync(captureDir, { recursive: true, force: true });
}
