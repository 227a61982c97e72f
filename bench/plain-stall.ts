/**
 * Plain 500/s stall (issue 10): what blocks the sending thread for several ms at only 500 requests/s?
 * Runs stream-timing's plain step — open model, uniform arrivals, one worker thread, against the
 * timed server's 10 ms `GET /` (pinned to core 0; Preflight pinned to core 1) — with
 * bench/stall-probe.js preloaded, which records on the sending thread every timer that fired ≥ 1 ms
 * late, with the thread's own CPU and run-queue time over that gap (/proc/thread-self/schedstat),
 * the CPU time every other thread of the process used in it, and GC pauses, window hand-offs and
 * connection opens. Each gap of ≥ 2 ms after the first second is then put down to one cause:
 *
 * - own work: the sending thread itself ran for at least half of it (JS, GC);
 * - Preflight's main thread / V8 & libuv helper threads: the sender waited on the run queue while
 *   that thread (sharing the pinned core) ran ≥ 1 ms;
 * - other processes: it waited on the run queue and none of this process's threads ran ≥ 1 ms;
 * - timer: neither ran nor queued (a timer armed late or coarse).
 *
 * First the floor (bench/timer-floor.ts, same core): a bare setTimeout loop at the same rate and a
 * spinning thread — what any thread gets from this machine, without Preflight.
 *
 * Runs come in pairs: as is, then with every thread but the sender at nice N (`--renice`, default
 * 10; preflight-load's `--renice-others`) — the experiment that tells whether the process's own
 * other threads are what delays the sender. Linux only (schedstat, per-thread nice).
 *
 * `--mode core`: instead, those threads are moved to core 0 (the server's). `--lite 1`: the probe only
 * reads the per-thread CPU totals at exit (its per-timer reads cost the sender CPU), so no causes.
 *
 *   node dist/bench/plain-stall.js [--duration 10] [--rate 500] [--pairs 2] [--renice 10] [--mode renice|core] [--lite 0|1]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BENCH_DIR,
  fmt,
  freePort,
  heading,
  lastJson,
  machineLine,
  numericArgs,
  pinned,
  runChild,
  table,
  waitForPort,
  type LoadReport,
} from './common.js';
import type { ProbeEvent } from './stall-probe.js';

const args = numericArgs({ duration: 10, rate: 500, pairs: 2, renice: 10, lite: 0 }, { mode: ['renice', 'core'] });
const SERVICE_MS = 10;
const FROM_S = 1;
const STALL_MS = 2;

interface Stalls {
  n: number;
  over4: number;
  worst: number;
  causes: Record<string, number>;
  gcAfter1s: { n: number; maxMs: number };
  handoffMaxMs: number;
  threadsCpuMs: { main: number; helpers: number; sender: number; senderQueued: number };
}

function analyse(events: ProbeEvent[], threads: Record<string, { ran: number; queued: number }>): Stalls {
  const t0 = events.reduce((m, e) => Math.min(m, e.t), Infinity);
  const after = events.filter((e) => e.t - t0 >= FROM_S * 1000);
  const late = after.filter((e) => e.e === 'late' && e.ms >= STALL_MS);
  const causes: Record<string, number> = {};
  for (const l of late) {
    const others = Object.entries(l.others ?? {});
    const main = others.filter(([k]) => k === 'main').reduce((s, [, v]) => s + v, 0);
    const helpers = others.filter(([k]) => k !== 'main').reduce((s, [, v]) => s + v, 0);
    let cause: string;
    if ((l.ran ?? 0) >= l.ms / 2) cause = 'own work';
    else if ((l.queued ?? 0) >= l.ms / 2)
      cause =
        main >= 1 && main >= helpers ? 'main thread' : helpers >= 1 ? 'V8/libuv helper threads' : 'other processes';
    else cause = 'timer';
    causes[cause] = (causes[cause] ?? 0) + 1;
  }
  const gc = after.filter((e) => e.e === 'gc');
  const posts = after.filter((e) => e.e === 'post');
  // The sender is the busiest thread that is not main.
  const named = Object.entries(threads);
  const sender = named.filter(([k]) => k !== 'main').sort((a, b) => b[1].ran - a[1].ran)[0];
  return {
    n: late.length,
    over4: late.filter((l) => l.ms >= 4).length,
    worst: late.reduce((m, l) => Math.max(m, l.ms), 0),
    causes,
    gcAfter1s: { n: gc.length, maxMs: gc.reduce((m, g) => Math.max(m, g.ms), 0) },
    handoffMaxMs: posts.reduce((m, p) => Math.max(m, p.ms), 0),
    threadsCpuMs: {
      main: threads['main']?.ran ?? 0,
      helpers: named.filter(([k]) => k !== 'main' && k !== sender?.[0]).reduce((s, [, v]) => s + v.ran, 0),
      sender: sender?.[1].ran ?? 0,
      senderQueued: sender?.[1].queued ?? 0,
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

const port = await freePort();
const [cmd, cargs] = pinned(0, process.execPath, [
  path.join(BENCH_DIR, 'timed-server.js'),
  '--port',
  String(port),
  '--service',
  String(SERVICE_MS),
]);
const server = spawn(cmd, cargs, { stdio: 'ignore' });
const exited = new Promise<void>((r) => server.once('exit', () => r()));
const url = `http://127.0.0.1:${port}`;
const dir = mkdtempSync(path.join(os.tmpdir(), 'preflight-bench-stall-'));
const f2 = (x: number) => (Number.isFinite(x) ? fmt(x, 2) : '—');
try {
  await waitForPort(port);
  // The floor: what a bare timer loop and a spinning thread get from this core, without Preflight.
  const [fc, fa] = pinned(1, process.execPath, [
    path.join(BENCH_DIR, 'timer-floor.js'),
    '--rate',
    String(args.rate),
    '--duration',
    String(args.duration),
  ]);
  const la = os.loadavg()[0];
  const floor = lastJson<{
    timer: { n: number; p50: number; p99: number; p999: number; max: number; over2ms: number };
    spin: { seconds: number; gaps: Array<{ ms: number; queuedMs: number }> };
  }>(await runChild(fc, fa, (args.duration + 60) * 1000), 'timer-floor');
  const floorLine = `floor on core 1 (load avg ${f2(la)}): bare setTimeout loop at ${args.rate}/s — late p50 ${f2(floor.timer.p50)}, p99 ${f2(floor.timer.p99)}, p99.9 ${f2(floor.timer.p999)}, max ${f2(floor.timer.max)} ms, ${floor.timer.over2ms} of ${fmt(floor.timer.n)} ≥ 2 ms; spinning ${floor.spin.seconds} s — CPU taken ≥ 2 ms ${floor.spin.gaps.length}× (${floor.spin.gaps.map((g) => `${f2(g.ms)} ms, queued ${f2(g.queuedMs)}`).join('; ') || 'never'})`;
  console.error(floorLine);
  const rows: string[][] = [
    [
      'run',
      'load avg',
      'stalls ≥2 ms (≥4)',
      'worst',
      'causes',
      'GC ≥1 s (max ms)',
      'hand-off max',
      'CPU ms main/helpers/sender (sender queued)',
      'lag p99/max',
      'p99.9 server/Preflight/diff',
    ],
  ];
  for (let i = 0; i < args.pairs * 2; i++) {
    const renice = i % 2 === 1;
    const out = path.join(dir, `probe-${i}.json`);
    const la0 = os.loadavg()[0];
    await fetch(`${url}/__stats`, { signal: AbortSignal.timeout(10_000) }); // resets the server's truth
    const [c, a] = pinned(1, process.execPath, [
      '--import',
      path.join(BENCH_DIR, 'stall-probe.js'),
      path.join(BENCH_DIR, 'preflight-load.js'),
      '--url',
      url,
      '--executor',
      'constant-arrival-rate',
      '--rate',
      String(args.rate),
      '--duration',
      String(args.duration),
      ...(!renice ? [] : args.mode === 'core' ? ['--others-core', '0'] : ['--renice-others', String(args.renice)]),
    ]);
    process.env['STALL_PROBE_OUT'] = out;
    if (args.lite === 1) process.env['STALL_PROBE_LITE'] = '1';
    const r = lastJson<LoadReport>(await runChild(c, a, (args.duration + 60) * 1000), 'preflight-load');
    const truth = (await (
      await fetch(`${url}/__stats?from=${FROM_S}`, { signal: AbortSignal.timeout(10_000) })
    ).json()) as { service: number[] };
    const la1 = os.loadavg()[0];
    const s = analyse(
      args.lite === 1 ? [] : (JSON.parse(readFileSync(out, 'utf8')) as ProbeEvent[]),
      JSON.parse(readFileSync(out.replace(/\.json$/, '.threads.json'), 'utf8')) as Record<
        string,
        { ran: number; queued: number }
      >,
    );
    const sP = percentile(truth.service, 99.9);
    const lP = r.steady?.histograms['latency_ms']?.p999 ?? NaN;
    const t = s.threadsCpuMs;
    rows.push([
      !renice ? 'as is' : args.mode === 'core' ? 'others on core 0' : `others at nice ${args.renice}`,
      `${f2(la0)} → ${f2(la1)}`,
      `${s.n} (${s.over4})`,
      f2(s.worst),
      Object.entries(s.causes)
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
      `${s.gcAfter1s.n} (${f2(s.gcAfter1s.maxMs)})`,
      f2(s.handoffMaxMs),
      `${fmt(t.main)}/${fmt(t.helpers)}/${fmt(t.sender)} (${fmt(t.senderQueued)})`,
      `${f2(r.generator.dispatch_lag_ms.p99)}/${f2(r.generator.dispatch_lag_ms.max)}`,
      `${f2(sP)}/${f2(lP)}/${f2(lP - sP)}`,
    ]);
    console.error(rows.at(-1)!.join('  '));
  }
  heading(`Plain ${args.rate}/s stall: ${args.duration} s per run, ${args.pairs} pairs`, [
    machineLine(),
    floorLine,
    table(rows),
    `stall: a timer on the sending thread that fired ≥ ${STALL_MS} ms late, from ${FROM_S} s on; CPU ms per thread from /proc/<tid>/schedstat over the whole process`,
  ]);
} finally {
  delete process.env['STALL_PROBE_OUT'];
  delete process.env['STALL_PROBE_LITE'];
  rmSync(dir, { recursive: true, force: true });
  server.kill();
  await exited;
}
