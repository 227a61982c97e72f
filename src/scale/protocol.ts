/**
 * The scale-out protocol between `preflight worker` processes and the `preflight coordinator`:
 * subjects, messages, and the compact binary form of a window batch. Transport-neutral (NATS
 * JetStream carries it; docs/scale-out.md describes it).
 *
 * A run `<run>` has one JetStream stream, `PREFLIGHT_<run>`, on subjects `preflight.<run>.>`:
 *   preflight.<run>.w.<i>.hello   worker i is up (its host, pid, threads, plan digest)
 *   preflight.<run>.w.<i>.ready   worker i's shards are prepared; its measured clock offset
 *   preflight.<run>.w.<i>.batch   one shard window (binary, below); message id `b.<shard>.<window>`
 *   preflight.<run>.w.<i>.done    one shard finished, every window published; message id `d.<shard>`
 *   preflight.<run>.w.<i>.error   worker i failed (before ready: the run cannot start; after: it is lost)
 *   preflight.<run>.ctl           the coordinator's control: start (epoch t0), stop (drain), end
 * Outside the stream (plain NATS, nothing to keep): `preflight-rpc.<run>.clock` (clock probes,
 * request/reply) and `preflight-rpc.<run>.hb.<i>` (worker heartbeats, once a second).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { PreflightError } from '../core/errors.js';
import type { ShardBatch } from '../engine/index.js';
import type { Plan } from '../plan/types.js';
import { redactPlan } from '../plan/index.js';

/** Counts are copied as whole arrays on little-endian machines (every platform Node ships for but a few). */
const LE = endianness() === 'LE';

/** Run ids become subject tokens and stream names: letters, digits, `-` and `_` only. */
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function checkRunId(id: string): string {
  if (!RUN_ID.test(id))
    throw new PreflightError('E_ARGS', `invalid run id "${id}"`, {
      problems: [{ message: 'a run id is 1–64 letters, digits, - or _', hint: 'e.g. --run-id nightly-42' }],
    });
  return id;
}

export const subjects = (run: string) => ({
  all: `preflight.${run}.>`,
  stream: `PREFLIGHT_${run}`,
  worker: (i: number, kind: WorkerKind) => `preflight.${run}.w.${i}.${kind}`,
  workers: `preflight.${run}.w.>`,
  ctl: `preflight.${run}.ctl`,
  clock: `preflight-rpc.${run}.clock`,
  heartbeat: (i: number) => `preflight-rpc.${run}.hb.${i}`,
  heartbeats: `preflight-rpc.${run}.hb.*`,
});

export type WorkerKind = 'hello' | 'ready' | 'batch' | 'done' | 'error';

export interface HelloMsg {
  index: number;
  workers: number;
  threads: number;
  host: string;
  pid: number;
  /** sha256 of the resolved (redacted) plan: every process must run the same plan. */
  plan: string;
}
export interface ReadyMsg {
  index: number;
  /** Worker clock − coordinator clock, ms; and the round trip of the probe it comes from. */
  offsetMs: number;
  rttMs: number;
}
export interface DoneMsg {
  index: number;
  shard: number;
}
export interface ErrorMsg {
  index: number;
  /** A shard that failed (absent: the whole worker). */
  shard?: number;
  code: string;
  message: string;
  /** The run had started before this worker was ready (a restarted pod): it cannot join. */
  late?: boolean;
}
export type ControlMsg =
  | { type: 'start'; t0EpochMs: number; announcedAtEpochMs: number }
  | { type: 'stop'; drainMs: number }
  /** The coordinator has written the results: a new coordinator with this run id must not resume it. */
  | { type: 'end' };

export const encodeJson = (x: unknown): Uint8Array => Buffer.from(JSON.stringify(x));
export const decodeJson = <T>(b: Uint8Array): T => JSON.parse(Buffer.from(b).toString('utf8')) as T;

/** The plan every process must agree on (secrets redacted: they may come from each pod's environment). */
export function planDigest(plan: Plan): string {
  return createHash('sha256')
    .update(JSON.stringify(redactPlan(plan)))
    .digest('hex')
    .slice(0, 16);
}

/**
 * A batch as bytes: a JSON header (the batch with each histogram's counts replaced by its place in
 * the counts blob) and the counts themselves as little-endian uint32s, deflated together. Exact: the
 * same counts, min and max, so windows merge as worker threads' do.
 */
export function encodeBatch(b: ShardBatch): Uint8Array {
  const arrays: Uint32Array[] = [];
  let at = 0;
  const ref = (h: { offset: number; counts: Uint32Array; total: number; min: number; max: number }) => {
    const r = { offset: h.offset, total: h.total, min: h.min, max: h.max, at, n: h.counts.length };
    arrays.push(h.counts);
    at += h.counts.length;
    return r;
  };
  const header = {
    ...b,
    snapshots: b.snapshots.map((s) => {
      const histograms: Record<string, ReturnType<typeof ref>> = {};
      for (const k in s.histograms) histograms[k] = ref(s.histograms[k]);
      return { ...s, histograms };
    }),
    health: { ...b.health, generatorLag: ref(b.health.generatorLag) },
  };
  const head = Buffer.from(JSON.stringify(header));
  const pad = (4 - ((4 + head.length) % 4)) % 4;
  const out = Buffer.alloc(4 + head.length + pad + at * 4);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  let o = 4 + head.length + pad;
  for (const a of arrays) {
    if (LE && (out.byteOffset + o) % 4 === 0) new Uint32Array(out.buffer, out.byteOffset + o, a.length).set(a);
    else for (let i = 0; i < a.length; i++) out.writeUInt32LE(a[i], o + i * 4);
    o += a.length * 4;
  }
  return deflateRawSync(out, { level: 1 });
}

interface CountsRef {
  offset: number;
  total: number;
  min: number;
  max: number;
  at: number;
  n: number;
}

export function decodeBatch(bytes: Uint8Array): ShardBatch {
  const buf = inflateRawSync(bytes);
  const len = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + len).toString('utf8')) as Omit<ShardBatch, 'snapshots' | 'health'> & {
    snapshots: Array<Omit<ShardBatch['snapshots'][number], 'histograms'> & { histograms: Record<string, CountsRef> }>;
    health: Omit<ShardBatch['health'], 'generatorLag'> & { generatorLag: CountsRef };
  };
  const base = 4 + len + ((4 - ((4 + len) % 4)) % 4);
  const counts = (r: CountsRef) => {
    const c = new Uint32Array(r.n);
    const from = base + r.at * 4;
    if (LE) new Uint8Array(c.buffer).set(buf.subarray(from, from + r.n * 4));
    else for (let i = 0; i < r.n; i++) c[i] = buf.readUInt32LE(from + i * 4);
    return { offset: r.offset, counts: c, total: r.total, min: r.min, max: r.max };
  };
  return {
    ...header,
    snapshots: header.snapshots.map((s) => {
      const histograms: Record<string, ReturnType<typeof counts>> = {};
      for (const k in s.histograms) histograms[k] = counts(s.histograms[k]);
      return { ...s, histograms };
    }),
    health: { ...header.health, generatorLag: counts(header.health.generatorLag) },
  };
}

/** Worker i of `workers`, with `threads` threads: its global shards i·T + t of N·T (docs/scale-out.md). */
export function segmentShards(index: number, workers: number, threads: number): { index: number; count: number }[] {
  return Array.from({ length: threads }, (_, t) => ({ index: index * threads + t, count: workers * threads }));
}
