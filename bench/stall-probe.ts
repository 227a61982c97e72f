/**
 * Preload for bench/plain-stall.ts (`node --import ./stall-probe.js …`): worker threads inherit
 * execArgv, so this also runs in the engine's worker, where it records what happened on the sending
 * thread — late and long timer callbacks, GC pauses (kind, duration), postMessage calls (the window
 * hand-off) and connection opens — and sends them to the main thread over a BroadcastChannel; the
 * main thread writes them to $STALL_PROBE_OUT (JSON) at exit. Times are absolute ms (timeOrigin +
 * now) so both threads share one clock. Bench-only: never imported by src/.
 */
import { BroadcastChannel, isMainThread } from 'node:worker_threads';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import diagnostics from 'node:diagnostics_channel';
import path from 'node:path';
import { openSync, readdirSync, readFileSync, readSync, realpathSync, writeFileSync } from 'node:fs';

export interface ProbeEvent {
  /** late: a timer fired `ms` after it was due; long: a timer callback ran `ms`; gc: a pause of kind `k`; post: postMessage took `ms`; connect: a socket was opened. */
  e: 'late' | 'long' | 'gc' | 'post' | 'connect';
  /** Absolute start (ms since the epoch, fractional). */
  t: number;
  ms: number;
  k?: number;
  delay?: number;
  /** late: since the previous timer callback on this thread, ms it ran on a CPU and ms it waited on a run queue (preempted), from /proc/thread-self/schedstat. */
  ran?: number;
  queued?: number;
  /** late: ms each other thread of this process ran in the same interval, by thread name (main = the main thread). */
  others?: Record<string, number>;
}

const CHANNEL = 'preflight-stall-probe';
const origin = performance.timeOrigin;
const abs = () => origin + performance.now();

if (isMainThread) {
  const got: ProbeEvent[] = [];
  const bc = new BroadcastChannel(CHANNEL);
  bc.onmessage = (m) => {
    for (const e of (m as { data: ProbeEvent[] }).data) got.push(e);
  };
  bc.unref();
  let heap: string | null = null;
  const hc = new BroadcastChannel(CHANNEL + '-heap');
  hc.onmessage = (m) => (heap = (m as { data: string }).data);
  hc.unref();
  process.on('exit', () => {
    const out = process.env['STALL_PROBE_OUT'];
    // Per-thread totals (CPU and run-queue wait, ms) for the whole process life.
    const threads: Record<string, { ran: number; queued: number }> = {};
    try {
      for (const t of readdirSync('/proc/self/task')) {
        const comm = readFileSync(`/proc/self/task/${t}/comm`, 'latin1').trim();
        const [run, wait] = readFileSync(`/proc/self/task/${t}/schedstat`, 'latin1').split(' ');
        threads[Number(t) === process.pid ? 'main' : `${comm}#${t}`] = {
          ran: Number(run) / 1e6,
          queued: Number(wait) / 1e6,
        };
      }
    } catch {
      /* not Linux */
    }
    if (out) writeFileSync(out, JSON.stringify(got));
    if (out) writeFileSync(out.replace(/\.json$/, '') + '.threads.json', JSON.stringify(threads));
    if (out && heap !== null) writeFileSync(out.replace(/\.json$/, '') + '.heapprofile', heap);
  });
} else if (process.env['STALL_PROBE_LITE'] !== '1') {
  // (STALL_PROBE_LITE=1: only the per-thread CPU totals at exit, without the per-timer reads that cost the sender CPU.)
  const bc = new BroadcastChannel(CHANNEL);
  let buf: ProbeEvent[] = [];
  const origSetTimeout = globalThis.setTimeout;
  const flush = () => {
    listThreads();
    if (buf.length === 0) return;
    const b = buf;
    buf = [];
    bc.postMessage(b);
  };
  origSetTimeout(function tick() {
    flush();
    origSetTimeout(tick, 200).unref();
  }, 200).unref();

  // Per-thread CPU and run-queue time (Linux): tells a preempted thread from one that was busy.
  let fd = -1;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    /* not Linux */
  }
  const sbuf = Buffer.alloc(128);
  const sched = (): [number, number] => {
    if (fd < 0) return [0, 0];
    const n = readSync(fd, sbuf, 0, 128, 0);
    const [run, wait] = sbuf.toString('latin1', 0, n).split(' ');
    return [Number(run) / 1e6, Number(wait) / 1e6];
  };
  let prev = sched();
  // The process's other threads (main thread, V8's GC/compiler helpers, libuv pool): who else ran.
  const selfTid = (() => {
    try {
      return Number(path.basename(realpathSync('/proc/thread-self')));
    } catch {
      return -1;
    }
  })();
  const threads = new Map<number, { fd: number; name: string; run: number }>();
  const listThreads = () => {
    if (fd < 0) return;
    for (const t of readdirSync('/proc/self/task')) {
      const tid = Number(t);
      if (tid === selfTid || threads.has(tid)) continue;
      try {
        const name =
          tid === process.pid ? 'main' : `${readFileSync(`/proc/self/task/${t}/comm`, 'latin1').trim()}#${t}`;
        threads.set(tid, { fd: openSync(`/proc/self/task/${t}/schedstat`, 'r'), name, run: 0 });
      } catch {
        /* gone */
      }
    }
  };
  listThreads();
  const othersRan = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const th of threads.values()) {
      let n = 0;
      try {
        n = readSync(th.fd, sbuf, 0, 128, 0);
      } catch {
        continue;
      }
      const run = Number(sbuf.toString('latin1', 0, n).split(' ')[0]) / 1e6;
      const d = run - th.run;
      th.run = run;
      if (d > 0.05) out[th.name] = (out[th.name] ?? 0) + d;
    }
    return out;
  };
  othersRan();
  // Timers: how late each fires (a blocked loop or a coarse timer) and how long its callback runs.
  const patched = function (this: unknown, cb: (...a: unknown[]) => void, delay?: number, ...rest: unknown[]) {
    if (typeof cb !== 'function') return origSetTimeout(cb, delay, ...rest);
    const d = Number(delay) >= 1 ? Number(delay) : 1;
    const due = performance.now() + d;
    return origSetTimeout(
      (...a: unknown[]) => {
        const s = performance.now();
        const now = sched();
        const others = othersRan();
        if (s - due >= 1)
          buf.push({
            e: 'late',
            t: origin + due,
            ms: s - due,
            delay: d,
            ran: now[0] - prev[0],
            queued: now[1] - prev[1],
            others,
          });
        prev = now;
        cb(...a);
        const took = performance.now() - s;
        if (took >= 0.5) buf.push({ e: 'long', t: origin + s, ms: took });
      },
      delay,
      ...rest,
    );
  };
  globalThis.setTimeout = patched as unknown as typeof setTimeout;

  new PerformanceObserver((list) => {
    for (const g of list.getEntries())
      buf.push({
        e: 'gc',
        t: origin + g.startTime,
        ms: g.duration,
        k: (g as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0,
      });
  }).observe({ entryTypes: ['gc'] });

  // The window hand-off: MessagePort.postMessage from the engine (parentPort).
  void import('node:worker_threads').then(({ parentPort }) => {
    if (parentPort === null) return;
    const orig = parentPort.postMessage.bind(parentPort);
    parentPort.postMessage = (v: unknown, transfer?: readonly Transferable[]) => {
      const s = performance.now();
      orig(v, transfer as never);
      buf.push({ e: 'post', t: origin + s, ms: performance.now() - s });
    };
  });

  // Allocation sampling including garbage (STALL_HEAP_PROF=<seconds>): which code allocates what the scavenger then collects.
  const heapS = Number(process.env['STALL_HEAP_PROF'] ?? 0);
  if (heapS > 0)
    void import('node:inspector').then(({ Session }) => {
      const s = new Session();
      s.connect();
      s.post('HeapProfiler.enable');
      s.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
      origSetTimeout(() => {
        s.post('HeapProfiler.stopSampling', (err, r) => {
          if (err === null) new BroadcastChannel(CHANNEL + '-heap').postMessage(JSON.stringify(r.profile));
        });
      }, heapS * 1000).unref();
    });

  diagnostics.subscribe('net.client.socket', () => buf.push({ e: 'connect', t: abs(), ms: 0 }));
}
