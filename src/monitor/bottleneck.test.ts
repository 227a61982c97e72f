import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bottleneck, bottleneckOfSteps, levelsOf } from './bottleneck.js';
import type { Summary, TargetWindowRecord } from '../core/results.js';

test('levels by throughput; queue-dominated from the first level where queueing takes over half the time', () => {
  const recs: TargetWindowRecord[] = [
    [10, 1, 4, 1],
    [10.5, 1.2, 4, 1],
    [50, 2, 4, 1.5],
    [100, 6, 4, 3],
    [200, 20, 4, 7.5],
  ].map(([, q, c, b], t) => ({
    t,
    start_s: t,
    duration_s: 1,
    values: { queue_time: q, compute_time: c, batch_size: b },
  }));
  const thr = new Map([10, 10.5, 50, 100, 200].map((r, t) => [t, r]));
  const b = bottleneck(recs, thr)!;
  assert.equal(b.levels.length, 4, 'the two windows at ~10/s are one level');
  assert.equal(b.queue_dominated_from, 100);
  assert.ok(Math.abs(b.levels[0].queue_share - 1.1 / 5.1) < 1e-9);
  assert.match(b.text, /^queue-dominated from 100 req\/s: queue 6\.00 ms vs compute 4\.00 ms \(60 % queueing\)/);
  assert.match(b.text, /batch size 7\.50/);
  assert.match(b.text, /add replicas or batching/);
});

test('compute-dominated at every level, and no answer without queue and compute time', () => {
  const levels = levelsOf([
    { rate: 10, queue: 0.1, compute: 5, batch: null },
    { rate: 100, queue: 1, compute: 5, batch: null },
  ]);
  const b = bottleneckOfSteps(
    levels.map((l) => ({
      rate: l.rate,
      summary: {
        target_metrics: {
          queue_time: { mean: l.queue_ms },
          compute_time: { mean: l.compute_ms },
        },
      } as unknown as Pick<Summary, 'target_metrics'>,
    })),
  )!;
  assert.equal(b.queue_dominated_from, null);
  assert.match(b.text, /^compute-dominated at every load level measured \(up to 100 req\/s\)/);
  assert.equal(bottleneck([{ t: 0, start_s: 0, duration_s: 1, values: { cpu: 5 } }], new Map([[0, 10]])), undefined);
});
