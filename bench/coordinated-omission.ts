/**
 * Coordinated omission: a node:http target answers after 10 ms, but every 5 s it stalls all replies
 * for 1 s (replies due during a stall are released when it ends). Preflight sends an open load
 * (uniform arrivals, 200/s for 15 s); its latency percentiles are compared with the analytical
 * truth for that schedule, and with what a closed-loop, service-time-only measurement shows.
 *
 *   node dist/bench/coordinated-omission.js [--rate 200] [--duration 15]
 *
 * The stall schedule is anchored at the first request the target receives in each run (≈ the first
 * intended arrival, which is at t = 0 for uniform arrivals), so stalls cover [2 s, 3 s), [7 s, 8 s),
 * [12 s, 13 s), … of the run.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  fmt,
  heading,
  machineLine,
  numericArgs,
  pct,
  runPreflight,
  table,
  verdict,
  warnIfBusy,
  type LoadReport,
  type Stats,
} from './common.js';

const args = numericArgs({ rate: 200, duration: 15 });
const RATE = args.rate;
const DURATION_S = args.duration;

/** The target's schedule, ms. */
const SERVICE_MS = 10;
const CYCLE_MS = 5000;
const STALL_MS = 1000;
const STALL_AT_MS = 2000; // phase of the stall within each cycle

/** When a reply due at `dueMs` (since the anchor) is released: at the stall's end if it falls inside one. */
function releaseAt(dueMs: number): number {
  const phase = (((dueMs - STALL_AT_MS) % CYCLE_MS) + CYCLE_MS) % CYCLE_MS;
  return phase < STALL_MS ? dueMs - phase + STALL_MS : dueMs;
}

/** Nearest-rank percentile (the HdrHistogram definition): the ⌈p/100·n⌉-th smallest value. */
function percentile(sorted: number[], p: number): number {
  const k = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, k) - 1];
}

/** Exact latencies for the intended schedule: arrival i at i/rate; completion = releaseAt(t + 10 ms). */
function truth(rate: number, durationS: number): { n: number; stalled: number; sorted: number[] } {
  const n = Math.round(rate * durationS);
  const lat: number[] = [];
  let stalled = 0;
  for (let i = 0; i < n; i++) {
    const t = (i * 1000) / rate;
    const done = releaseAt(t + SERVICE_MS);
    if (done > t + SERVICE_MS) stalled++;
    lat.push(done - t);
  }
  lat.sort((a, b) => a - b);
  return { n, stalled, sorted: lat };
}

/**
 * The stalling target. Its schedule is anchored at the intended start of the run: with uniform
 * arrivals the k-th request received was intended at anchor + k/rate, so the anchor is estimated as
 * min over requests of (arrival − k/rate) — exact to the network delay, and immune to a late first
 * send (the first stall starts 2 s in, after ~400 requests have refined the estimate). For a closed
 * loop (`ratePerS` = 0) the anchor is simply the first request.
 */
async function stallingServer(): Promise<{
  url: string;
  reset(ratePerS: number): void;
  received(): number;
  close(): Promise<void>;
}> {
  let anchor = Infinity;
  let received = 0;
  let gapMs = 0;
  const server = http.createServer((req, res) => {
    const now = performance.now();
    const k = received++;
    anchor = gapMs > 0 ? Math.min(anchor, now - k * gapMs) : Math.min(anchor, now);
    req.resume();
    const at = releaseAt(now - anchor + SERVICE_MS);
    setTimeout(
      () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
      },
      Math.max(0, at - (now - anchor)),
    );
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    reset: (ratePerS) => {
      anchor = Infinity;
      received = 0;
      gapMs = ratePerS > 0 ? 1000 / ratePerS : 0;
    },
    received: () => received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const PCTS: Array<[string, number, keyof Stats]> = [
  ['p50', 50, 'p50'],
  ['p90', 90, 'p90'],
  ['p99', 99, 'p99'],
  ['p99.9', 99.9, 'p999'],
];

async function main(): Promise<void> {
  heading('Coordinated omission: open load against a target that stalls', [machineLine()]);
  console.log(await warnIfBusy());
  const t = truth(RATE, DURATION_S);
  console.log(
    `target: node:http, replies after ${SERVICE_MS} ms; all replies stall for ${STALL_MS / 1000} s every ${CYCLE_MS / 1000} s (stalls at ${STALL_AT_MS / 1000}–${(STALL_AT_MS + STALL_MS) / 1000} s of each cycle)`,
  );
  console.log(
    `load: open model, uniform arrivals, ${RATE}/s for ${DURATION_S} s = ${t.n} intended arrivals; ${t.stalled} (${pct(t.stalled / t.n)}) of them are due inside a stall`,
  );

  const server = await stallingServer();
  let open: LoadReport;
  let closed: LoadReport;
  const users = Math.max(1, Math.round((RATE * SERVICE_MS) / 1000));
  try {
    server.reset(RATE);
    open = await runPreflight(
      { url: server.url, executor: 'constant-arrival-rate', rate: RATE, durationS: DURATION_S },
      1,
    );
    const openReceived = server.received();
    server.reset(0);
    // Naive: a closed loop (what wrk/ab/autocannon do) at about the same rate, timed from the actual send.
    closed = await runPreflight(
      {
        url: server.url,
        executor: 'constant-concurrency',
        concurrency: users,
        connections: users,
        durationS: DURATION_S,
      },
      1,
    );
    console.log(
      `open run: ${fmt(open.requests)} completed (${fmt(openReceived)} received by the target), late ${open.late}, unsent ${open.unsent}, errors ${open.requests - open.ok}; ` +
        `send lag behind schedule p50 ${open.dispatch_lag_ms.p50} ms, p99 ${open.dispatch_lag_ms.p99} ms, max ${open.dispatch_lag_ms.max} ms`,
    );
  } finally {
    await server.close();
  }

  const rows = [
    ['', 'truth (ms)', 'Preflight open: latency', 'error', 'open: service time', `naive closed loop (${users} users)`],
  ];
  const errs: Record<string, number> = {};
  for (const [label, p, key] of PCTS) {
    const tr = percentile(t.sorted, p);
    const m = open.latency_ms[key];
    errs[label] = (m - tr) / tr;
    rows.push([
      label,
      tr.toFixed(1),
      m.toFixed(1),
      `${errs[label] >= 0 ? '+' : ''}${pct(errs[label])}`,
      open.service_time_ms[key].toFixed(1),
      closed.latency_ms[key].toFixed(1),
    ]);
  }
  rows.push([
    'max',
    Math.max(...t.sorted).toFixed(1),
    open.latency_ms.max.toFixed(1),
    '',
    open.service_time_ms.max.toFixed(1),
    closed.latency_ms.max.toFixed(1),
  ]);
  rows.push(['count', String(t.n), String(open.latency_ms.count), '', '', String(closed.latency_ms.count)]);
  console.log('');
  console.log(table(rows));
  console.log('');
  const ok90 = Math.abs(errs.p90) <= 0.1;
  const ok99 = Math.abs(errs.p99) <= 0.1;
  console.log(
    `p90 relative error ${pct(errs.p90)}, p99 relative error ${pct(errs.p99)} (target: within ±10%): ${verdict(ok90 && ok99)}`,
  );
  console.log(
    `naive closed loop: ${fmt(closed.requests)} requests at ${fmt(closed.throughput)}/s; p90 ${closed.latency_ms.p90} ms, p99 ${closed.latency_ms.p99} ms vs truth ${percentile(t.sorted, 90).toFixed(1)} / ${percentile(t.sorted, 99).toFixed(1)} ms. ` +
      `During a stall its ${users} user(s) wait instead of sending, so each stall is seen by ${users} request(s) instead of ~${Math.round((RATE * STALL_MS) / 1000)}.`,
  );
  console.log(
    "note: in the open model Preflight keeps sending on schedule during a stall (new connections), so its service time here ≈ its latency; the two differ when sends must wait (in-flight cap, connection limit), and then only latency is the user's view.",
  );
}

await main();
