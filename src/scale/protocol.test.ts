import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExecutor } from '../engine/executors/index.js';
import type { ScenarioRuntime } from '../engine/scenario-runtime.js';
import { nowNs } from '../engine/clock.js';
import type { ShardBatch } from '../engine/index.js';
import { newHistogram, recordClamped, takeRaw, RawMerge, decodeHistogram } from '../metrics/index.js';
import { parsePlan } from '../plan/index.js';
import { checkRunId, decodeBatch, encodeBatch, segmentShards } from './protocol.js';

function batch(shard: number, index: number, values: number[]): ShardBatch {
  const h = newHistogram();
  for (const v of values) recordClamped(h, v);
  const lag = newHistogram();
  recordClamped(lag, 1234);
  return {
    shard,
    index,
    snapshots: [
      {
        scenario: 's',
        index,
        startMs: index * 1000,
        durationMs: 1000,
        counters: { requests: values.length, ok: values.length, 'err.timeout': 0 },
        gauges: { in_flight: 3, target_rate: 12.5 },
        maxes: { x: 7 },
        histograms: { latency: takeRaw(h), empty: takeRaw(newHistogram()) },
      },
    ],
    unsent: { s: 2 },
    cancelled: { s: 0 },
    spans: { s: { startMs: 0, endMs: null } },
    health: { generatorLag: takeRaw(lag), eventLoopDelayMs: { p50: 0.1, p99: 2, max: 3 } },
    final: false,
    errorReasons: { s: { timeout: ['took too long'] } },
  };
}

test('a batch survives the wire exactly: counts, min, max, counters and the rest', () => {
  const values = Array.from({ length: 5000 }, (_, i) => 1 + ((i * 7919) % 250_000));
  const b = batch(5, 17, values);
  const back = decodeBatch(encodeBatch(b));
  assert.deepEqual(back, b);
  // And merges to the very histogram the values make.
  const m = new RawMerge();
  m.add(back.snapshots[0]);
  const merged = decodeHistogram(m.finish().snapshot.histograms.latency);
  const direct = newHistogram();
  for (const v of values) recordClamped(direct, v);
  assert.equal(merged.totalCount, direct.totalCount);
  for (const q of [50, 90, 99, 99.9, 100]) assert.equal(merged.getValueAtPercentile(q), direct.getValueAtPercentile(q));
  assert.equal(merged.minNonZeroValue, direct.minNonZeroValue);
});

test('worker i of N with T threads runs global shards i·T + t of N·T: a partition', () => {
  const all = [0, 1, 2, 3].flatMap((i) => segmentShards(i, 4, 3));
  assert.deepEqual(
    all.map((s) => s.index),
    Array.from({ length: 12 }, (_, k) => k),
  );
  assert.ok(all.every((s) => s.count === 12));
});

test('run ids are subject tokens: bad ones are refused with a hint', () => {
  assert.equal(checkRunId('nightly-42_a'), 'nightly-42_a');
  for (const bad of ['', 'a.b', 'a b', '>', 'x'.repeat(65)]) assert.throws(() => checkRunId(bad), /invalid run id/);
});

/**
 * The open model's intended arrival times, as each shard's executor issues them: 4 worker processes
 * × 2 threads together issue exactly one process's schedule (same seed), Poisson and uniform alike.
 */
function intendedTimes(arrival: string, shard: { index: number; count: number }): number[] {
  const plan = parsePlan(
    `target: { url: http://127.0.0.1:1 }\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 5000/s\n    duration: 1s\n    arrival: ${arrival}\n    request: { method: GET, path: / }\n`,
  );
  const times: number[] = [];
  const start = nowNs() - 10e9; // every arrival already due: issued at once, in order
  const rt = {
    plan: plan.scenarios[0],
    inFlight: 0,
    send: (intendedNs: number) => times.push(intendedNs - start),
    abortAll: () => {},
  } as unknown as ScenarioRuntime;
  const ex = createExecutor(rt, shard, plan.options.seed);
  void ex.run(start);
  ex.stop(0);
  return times;
}

for (const arrival of ['poisson', 'uniform']) {
  test(`${arrival} arrivals: the union of 4 processes' segments is one process's schedule`, () => {
    const one = intendedTimes(arrival, { index: 0, count: 1 });
    assert.ok(one.length > 4000 && one.length < 6000, `${one.length} arrivals`);
    const parts = [0, 1, 2, 3].flatMap((i) => segmentShards(i, 4, 2)).map((s) => intendedTimes(arrival, s));
    // Disjoint and complete: each shard has about its share, and together they are the schedule.
    for (const p of parts) assert.ok(Math.abs(p.length - one.length / 8) <= 1, `${p.length} of ${one.length}`);
    const union = parts.flat().sort((a, b) => a - b);
    assert.deepEqual(union, one);
  });
}
