/**
 * What a window boundary costs the thread that sends and receives (issue 10). An LLM scenario
 * with `groups` groups (a model mix) holds 1 + groups MetricSets of 9 histograms each (latency,
 * service_time, ttfb, dispatch_lag, ttft, itl, tpot, e2e, tokens_out). Each window records
 * `requests` requests with realistic spreads, then closes the window two ways, timed over `windows` windows:
 *
 * - before: `snapshot()` — encode every histogram (deflate + base64) on the sending thread, then
 *   the coordinator's work (decode, merge, encode again, stats), which ran on the same thread with
 *   `workers: 1`;
 * - now: `take()` into pooled buffers — what the sending thread does; merging and encoding happen
 *   on the main thread.
 *
 *   node dist/bench/window-handoff.js [--groups 8] [--requests 1000] [--windows 20]
 */
import {
  MetricSet,
  CountsPool,
  mergeRawSnapshots,
  mergeSnapshots,
  decodeHistogram,
  shortStats,
  recordClamped,
  type RawSnapshot,
} from '../src/metrics/index.js';
import { fmt, heading, machineLine, numericArgs, table, warnIfBusy } from './common.js';

const args = numericArgs({ groups: 8, requests: 1000, windows: 20 });

function fill(sets: MetricSet[], n: number, seed: number): void {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < n; i++) {
    const m = sets[i % sets.length];
    const ttft = 80_000 + rnd() * 200_000;
    const e2e = ttft + 15_000 * (10 + rnd() * 200);
    for (const s of [sets[0], m]) {
      recordClamped(s.latency, e2e);
      recordClamped(s.serviceTime, e2e - 200);
      recordClamped(s.ttfb, ttft);
      recordClamped(s.dispatchLag, 50 + rnd() * 2000);
      s.record('ttft', ttft);
      for (let k = 0; k < 20; k++) s.record('itl', 10_000 + rnd() * 20_000);
      s.record('tpot', 14_000 + rnd() * 4000);
      s.record('e2e', e2e);
      s.record('tokens_out', 10 + rnd() * 200);
      s.requests++;
    }
  }
}

const pct = (a: number[], p: number) =>
  [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor((p / 100) * a.length))];
const sets = Array.from({ length: 1 + args.groups }, () => new MetricSet());
const before: number[] = [];
const beforeCoord: number[] = [];
const now: number[] = [];
const pool = new CountsPool();
const busy = await warnIfBusy();
for (let w = 0; w < args.windows; w++) {
  fill(sets, args.requests, w + 1);
  let t = performance.now();
  const snaps = sets.map((m, i) => m.snapshot('s', i === 0 ? undefined : `g${i}`, w, w * 1000, 1000, {}));
  before.push(performance.now() - t);
  t = performance.now();
  for (const s of snaps) {
    const merged = mergeSnapshots([s]);
    for (const k in merged.histograms) shortStats(decodeHistogram(merged.histograms[k]));
  }
  beforeCoord.push(performance.now() - t);
  fill(sets, args.requests, w + 1);
  t = performance.now();
  const raws: RawSnapshot[] = sets.map((m, i) =>
    m.take('s', i === 0 ? undefined : `g${i}`, w, w * 1000, 1000, {}, pool),
  );
  now.push(performance.now() - t);
  // The main thread's side, then the buffers go back (as the worker's pool gets them).
  for (const r of raws) mergeRawSnapshots([r]);
  const bufs: ArrayBuffer[] = [];
  for (const r of raws)
    for (const k in r.histograms)
      if (r.histograms[k].counts.byteLength > 0) bufs.push(r.histograms[k].counts.buffer as ArrayBuffer);
  pool.give(bufs);
}
const hist = sets.length * 9;
const row = (name: string, a: number[]) => [name, fmt(pct(a, 50), 3), fmt(pct(a, 90), 3), fmt(Math.max(...a), 3)];
heading(
  `Window hand-off on the sending thread: ${sets.length} metric sets × 9 = ${hist} histograms, ${fmt(args.requests)} requests per window, ${args.windows} windows`,
  [
    machineLine(),
    busy,
    '',
    table([
      ['per window, ms', 'median', 'p90', 'max'],
      row('before: snapshot() (encode)', before),
      row(
        'before: + coordinator on the same thread',
        before.map((b, i) => b + beforeCoord[i]),
      ),
      row('now: take() into pooled buffers', now),
    ]),
    `(the first windows include JIT warm-up and, for take(), the pool's first allocations)`,
  ],
);
