import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  countAbove,
  CountsPool,
  decodeHistogram,
  durationStats,
  encodeHistogram,
  fromRaw,
  HIGHEST_TRACKABLE_US,
  newHistogram,
  recordClamped,
  takeRaw,
  toRaw,
} from './histogram.js';
import { MetricSet, rawToSnapshot } from './metric-set.js';
import { Accumulator, mergeRawSnapshots, mergeSnapshots } from './merge.js';

test('encode → decode round-trips every count exactly', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 3_600_000_000 }), { maxLength: 300 }), (values) => {
      const h = newHistogram();
      for (const v of values) recordClamped(h, v);
      const back = decodeHistogram(encodeHistogram(h));
      assert.equal(back.totalCount, h.totalCount);
      for (const p of [0, 50, 90, 99, 99.9, 100]) assert.equal(back.getValueAtPercentile(p), h.getValueAtPercentile(p));
      // maxValue is exact in the recorder and bucket-resolution after decoding (3 significant digits).
      if (h.totalCount > 0) assert.ok(Math.abs(back.maxValue - h.maxValue) <= h.maxValue * 0.001 + 1);
    }),
    { numRuns: 60 },
  );
});

test('merging shards equals recording everything in one histogram', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.integer({ min: 1, max: 10_000_000 }), { maxLength: 200 }), { minLength: 1, maxLength: 5 }),
      (shards) => {
        const all = newHistogram();
        const snaps = shards.map((values, i) => {
          const m = new MetricSet();
          for (const v of values) {
            recordClamped(m.latency, v);
            recordClamped(all, v);
            m.requests++;
          }
          m.count('quality.correct', i);
          return m.snapshot('s', undefined, 0, 0, 1000, { in_flight: i });
        });
        const merged = mergeSnapshots(snaps);
        const h = decodeHistogram(merged.histograms.latency);
        assert.equal(h.totalCount, all.totalCount);
        for (const p of [50, 90, 99, 100]) assert.equal(h.getValueAtPercentile(p), all.getValueAtPercentile(p));
        assert.equal(
          merged.counters.requests,
          shards.reduce((a, s) => a + s.length, 0),
        );
        assert.equal(merged.gauges.in_flight, (shards.length * (shards.length - 1)) / 2);
        // Over time: accumulating the merged windows gives the same totals.
        const acc = new Accumulator();
        acc.add(merged);
        assert.equal(acc.histogram('latency').totalCount, all.totalCount);
      },
    ),
    { numRuns: 40 },
  );
});

test('durationStats reports ms and zeros for an empty histogram', () => {
  const h = newHistogram();
  assert.deepEqual(durationStats(h), { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 });
  for (let i = 1; i <= 1000; i++) recordClamped(h, i * 1000); // 1..1000 ms
  const s = durationStats(h);
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.p50 - 500) <= 1, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p99 - 990) <= 1, `p99 ${s.p99}`);
  assert.ok(Math.abs(s.max - 1000) <= 1);
});

test('MetricSet.snapshot resets the window', () => {
  const m = new MetricSet();
  m.requests = 3;
  m.count('x', 2);
  m.record('ttft', 1000);
  m.max('golden.max_diff', 5);
  const a = m.snapshot('s', 'g', 1, 1000, 1000, {});
  assert.equal(a.group, 'g');
  assert.equal(a.counters.x, 2);
  assert.equal(a.maxes['golden.max_diff'], 5);
  const b = m.snapshot('s', 'g', 2, 2000, 1000, {});
  assert.equal(b.counters.requests, 0);
  assert.equal(b.counters.x, undefined);
  assert.equal(decodeHistogram(b.histograms.ttft).totalCount, 0);
});

test('raw counts round-trip exactly (counts, total, exact min and max) and encode like the recorder', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: 3_600_000_000 }), { maxLength: 300 }), (values) => {
      const h = newHistogram();
      for (const v of values) recordClamped(h, v);
      const raw = toRaw(h);
      const back = fromRaw(raw);
      assert.equal(back.totalCount, h.totalCount);
      if (h.totalCount > 0) {
        assert.equal(back.maxValue, h.maxValue);
        assert.equal(back.minNonZeroValue, h.minNonZeroValue);
      }
      for (const p of [0, 50, 90, 99, 99.9, 100]) assert.equal(back.getValueAtPercentile(p), h.getValueAtPercentile(p));
      assert.equal(encodeHistogram(back), encodeHistogram(h));
      assert.ok(raw.counts.length <= 23552);
      // takeRaw (into a pooled buffer) gives the same and leaves an empty histogram that records as a new one.
      const pool = new CountsPool();
      pool.give([new ArrayBuffer(128 * 1024)]);
      const taken = takeRaw(h, pool);
      assert.equal(encodeHistogram(fromRaw(taken)), encodeHistogram(back));
      assert.equal(h.totalCount, 0);
      assert.equal(encodeHistogram(h), encodeHistogram(newHistogram()));
      const fresh = newHistogram();
      for (const v of values.slice(0, 20)) {
        recordClamped(h, v);
        recordClamped(fresh, v);
      }
      assert.equal(encodeHistogram(h), encodeHistogram(fresh));
      assert.equal(h.maxValue, fresh.maxValue);
      assert.equal(h.minNonZeroValue, fresh.minNonZeroValue);
    }),
    { numRuns: 60 },
  );
});

test('merging raw snapshots of shards equals recording everything in one histogram', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.integer({ min: 1, max: 10_000_000 }), { maxLength: 200 }), { minLength: 1, maxLength: 5 }),
      (shards) => {
        const all = newHistogram();
        const parts = shards.map((values, i) => {
          const m = new MetricSet();
          for (const v of values) {
            recordClamped(m.latency, v);
            m.record('ttft', v);
            recordClamped(all, v);
            m.requests++;
          }
          m.max('x', i);
          return m.take('s', 'g', 3, 3000, 1000, { in_flight: i });
        });
        const merged = mergeRawSnapshots(parts);
        for (const k of ['latency', 'ttft']) {
          const h = merged.histograms.get(k);
          if (h === undefined) {
            assert.equal(k === 'ttft' && all.totalCount === 0, true, 'an adapter histogram exists once recorded into');
            continue;
          }
          assert.equal(h.totalCount, all.totalCount);
          for (const p of [50, 90, 99, 100]) assert.equal(h.getValueAtPercentile(p), all.getValueAtPercentile(p));
          assert.equal(merged.snapshot.histograms[k], encodeHistogram(all), 'encoded for intervals.ndjson as before');
        }
        assert.equal(merged.snapshot.group, 'g');
        assert.equal(
          merged.snapshot.counters.requests,
          shards.reduce((a, s) => a + s.length, 0),
        );
        assert.equal(merged.snapshot.maxes.x, shards.length - 1);
        const acc = new Accumulator();
        acc.addMerged(merged);
        acc.addMerged(merged);
        assert.equal(acc.histogram('latency').totalCount, 2 * all.totalCount);
        // The one-shard path (rawToSnapshot) encodes the same.
        if (shards.length === 1) assert.deepEqual(rawToSnapshot(parts[0]).histograms, merged.snapshot.histograms);
      },
    ),
    { numRuns: 40 },
  );
});

test('take() hands over raw counts (no encoding) and resets the window', () => {
  const m = new MetricSet();
  for (let i = 1; i <= 100; i++) {
    recordClamped(m.latency, i * 1000);
    m.record('ttft', i * 500);
  }
  const a = m.take('s', undefined, 0, 0, 1000, {});
  for (const k of ['latency', 'service_time', 'ttfb', 'dispatch_lag', 'ttft'])
    assert.ok(a.histograms[k].counts instanceof Uint32Array, k);
  assert.equal(a.histograms.latency.total, 100);
  assert.equal(a.histograms.latency.max, 100_000);
  const b = m.take('s', undefined, 1, 1000, 1000, {});
  assert.equal(b.histograms.latency.total, 0);
  assert.equal(b.histograms.ttft.total, 0);
});

test('countAbove: values above a bound, to the histogram resolution', () => {
  const h = newHistogram();
  for (let i = 1; i <= 1000; i++) recordClamped(h, i * 1000); // 1 ms … 1000 ms, in µs
  assert.equal(countAbove(h, 500_000), 500); // 501 … 1000 ms
  assert.equal(countAbove(h, 990_000), 10); // 991 … 1000 ms (buckets are 512 µs wide here)
  assert.equal(countAbove(h, 1_000_000), 0);
  assert.equal(countAbove(h, 0), 1000);
  assert.equal(countAbove(h, 10 * HIGHEST_TRACKABLE_US), 0);
  // Survives an encode/decode round trip (the form intervals.ndjson keeps).
  assert.equal(countAbove(decodeHistogram(encodeHistogram(h)), 250_000), 750);
});
