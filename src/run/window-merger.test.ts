import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricSet } from '../metrics/index.js';
import type { ShardBatch } from '../engine/index.js';
import { WindowMerger } from './window-merger.js';

function batch(shard: number, index: number, requests: number, final = false): ShardBatch {
  const m = new MetricSet();
  m.requests = requests;
  m.ok = requests;
  return {
    shard,
    index,
    snapshots: [m.take('s', undefined, index, index * 1000, 1000, { in_flight: 0 })],
    unsent: {},
    cancelled: {},
    spans: { s: { startMs: 0, endMs: null } },
    health: {
      generatorLag: new MetricSet().take('x', undefined, 0, 0, 1, {}).histograms.latency,
      eventLoopDelayMs: { p50: 0, p99: 1, max: 1 },
    },
    final,
  };
}

test('a window is merged once every shard delivered it, summing exactly', () => {
  const m = new WindowMerger(2);
  assert.equal(m.add(batch(0, 0, 5)).length, 0, 'waits for shard 1');
  const done = m.add(batch(1, 0, 7));
  assert.equal(done.length, 1);
  assert.equal(done[0].records[0].requests, 12);
});

test('a shard that dies mid-run is not waited for: later windows are merged from the others', () => {
  const m = new WindowMerger(2);
  m.add(batch(0, 0, 5));
  m.add(batch(1, 0, 5));
  assert.equal(m.add(batch(0, 1, 4)).length, 0);
  assert.equal(m.add(batch(0, 2, 3)).length, 0, 'still waiting for shard 1');
  const released = m.shardFailed(1);
  assert.deepEqual(
    released.map((w) => w.records[0].requests),
    [4, 3],
  );
  assert.equal(m.add(batch(0, 3, 2, true)).length, 1, 'later windows flow live again');
});
