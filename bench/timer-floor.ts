/**
 * The machine's floor for bench/plain-stall.ts: what a thread with nothing else to do gets from
 * this machine. (1) A bare setTimeout loop at --rate per second for --duration s (the open model's
 * pacing without Preflight): how late each arrival's timer fires. (2) A thread spinning for
 * --spin s: every gap of ≥ 2 ms between two clock reads is time the CPU was taken from it, with
 * the run-queue wait since the previous gap from /proc/thread-self/schedstat (Linux) — queued ≈
 * gap means another task of this guest ran. Prints one JSON line. Run pinned (plain-stall does).
 *
 *   node dist/bench/timer-floor.js [--rate 500] [--duration 10] [--spin 5]
 */
import { readFileSync } from 'node:fs';
import { numericArgs } from './common.js';

const args = numericArgs({ rate: 500, duration: 10, spin: 5 });

function schedstat(): [number, number] {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ').map(Number);
    return [run / 1e6, wait / 1e6];
  } catch {
    return [0, 0];
  }
}

const q = (s: number[], p: number) => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]);
const r2 = (x: number) => Math.round(x * 100) / 100;

const total = Math.round(args.rate * args.duration);
const periodMs = 1000 / args.rate;
const late: number[] = [];
await new Promise<void>((done) => {
  const start = performance.now();
  let n = 0;
  const loop = () => {
    const now = performance.now();
    for (let due = start + n * periodMs; due <= now && n < total; due = start + ++n * periodMs) late.push(now - due);
    if (n >= total) return done();
    setTimeout(loop, start + n * periodMs - performance.now());
  };
  loop();
});
late.sort((a, b) => a - b);

const gaps: Array<{ ms: number; queuedMs: number }> = [];
const end = performance.now() + args.spin * 1000;
let last = performance.now();
let before = schedstat();
for (;;) {
  const t = performance.now();
  if (t - last >= 2) {
    const now = schedstat();
    gaps.push({ ms: r2(t - last), queuedMs: r2(now[1] - before[1]) });
    before = schedstat();
  }
  last = performance.now();
  if (last > end) break;
}

process.stdout.write(
  JSON.stringify({
    timer: {
      n: late.length,
      p50: r2(q(late, 0.5)),
      p99: r2(q(late, 0.99)),
      p999: r2(q(late, 0.999)),
      max: r2(late.at(-1) ?? 0),
      over2ms: late.filter((x) => x >= 2).length,
    },
    spin: { seconds: args.spin, gaps },
  }) + '\n',
);
