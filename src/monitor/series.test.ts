import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MonitorMetric } from '../plan/monitor.js';
import { parseExposition } from './exposition.js';
import { histogramQuantile, increase, pick, selectorsOf, slopePerHour, valueOver, type ScrapePoint } from './series.js';

test('counter increase: a drop is a restart from zero (as Prometheus rate())', () => {
  assert.equal(increase([10, 20, 35]), 25);
  assert.equal(increase([100, 120, 5, 15]), 20 + 5 + 10);
  assert.equal(increase([7]), 0);
});

test('histogram_quantile: bucket interpolation as Prometheus does it', () => {
  const b = new Map([
    [0.1, 10],
    [0.5, 30],
    [1, 40],
    [Number.POSITIVE_INFINITY, 40],
  ]);
  assert.ok(Math.abs(histogramQuantile(0.5, b)! - 0.3) < 1e-12);
  assert.ok(Math.abs(histogramQuantile(0.99, b)! - 0.98) < 1e-12);
  assert.ok(Math.abs(histogramQuantile(0.05, b)! - 0.02) < 1e-12, 'the first bucket starts at 0');
  // The rank falls in the +Inf bucket: the highest finite bound.
  const tail = new Map([
    [1, 5],
    [Number.POSITIVE_INFINITY, 10],
  ]);
  assert.equal(histogramQuantile(0.9, tail), 1);
  assert.equal(histogramQuantile(0.5, new Map([[Number.POSITIVE_INFINITY, 0]])), null, 'no observations: no value');
  assert.equal(histogramQuantile(0.5, new Map([[1, 3]])), null, 'no +Inf bucket: no value');
});

const m = (over: Partial<MonitorMetric>): MonitorMetric => ({
  name: 'x',
  kind: 'gauge',
  unit: 'count',
  aggregate: 'sum',
  scale: 1,
  offset: 0,
  ...over,
});

function points(metric: MonitorMetric, texts: [number, string][]): ScrapePoint[] {
  return texts.map(([t, text]) => {
    const fams = parseExposition(text).families;
    const values = new Map<string, Map<string, number>>();
    for (const s of selectorsOf(metric)) values.set(s.key, pick(fams, s.selector, s.histogram));
    return { t, values };
  });
}

test('valueOver: rates per second, per-request times from two counters, gauges combined, gaps', () => {
  const q = m({
    kind: 'counter',
    unit: 'ms',
    selector: { metric: 'q_us', matchers: [] },
    per: { metric: 'ok', matchers: [] },
    scale: 0.001,
  });
  const ps = points(q, [
    [0, 'q_us{m="a"} 0\nq_us{m="b"} 0\nok{m="a"} 0\nok{m="b"} 0\n'],
    [1000, 'q_us{m="a"} 5000\nq_us{m="b"} 15000\nok{m="a"} 5\nok{m="b"} 5\n'],
    [2000, 'q_us{m="a"} 5000\nq_us{m="b"} 15000\nok{m="a"} 5\nok{m="b"} 5\n'],
  ]);
  assert.equal(valueOver(q, ps[0], [ps[1]]), 2, '20 ms of queue over 10 requests: 2 ms each');
  assert.equal(valueOver(q, ps[1], [ps[2]]), null, 'no requests: the time per request is a gap, not 0');
  const rate = m({ kind: 'counter', unit: 'per_s', selector: { metric: 'ok', matchers: [] } });
  assert.equal(valueOver(rate, ps[0], [ps[1]]), 10);
  assert.equal(valueOver(rate, ps[1], []), null, 'no reading in the window: a gap');
  const g = m({ selector: { metric: 'temp', matchers: [] }, aggregate: 'max' });
  const gs = points(g, [
    [0, 'temp{gpu="0"} 50\ntemp{gpu="1"} 70\n'],
    [1000, 'other 1\n'],
  ]);
  assert.equal(valueOver(g, undefined, [gs[0]]), 70);
  assert.equal(valueOver(g, gs[0], [gs[1]]), null, 'vanished: a gap, never a zero');
  const h = m({ kind: 'histogram', unit: 'ms', selector: { metric: 'lat_seconds', matchers: [] }, scale: 1000 });
  const hs = points(h, [
    [0, 'lat_seconds_bucket{le="0.1"} 0\nlat_seconds_bucket{le="+Inf"} 0\nlat_seconds_sum 0\nlat_seconds_count 0\n'],
    [
      1000,
      'lat_seconds_bucket{le="0.1"} 10\nlat_seconds_bucket{le="+Inf"} 10\nlat_seconds_sum 0.5\nlat_seconds_count 10\n',
    ],
  ]);
  const v = valueOver(h, hs[0], [hs[1]]) as { mean: number; p50: number };
  assert.ok(Math.abs(v.mean - 50) < 1e-9);
  assert.ok(Math.abs(v.p50 - 50) < 1e-9);
});

test('growth per hour: the least-squares slope, equal to SciPy linregress (fixtures/growth.py, run once)', () => {
  assert.equal(slopePerHour([0, 1, 2], [0, 1, 2]), 3600);
  assert.equal(slopePerHour([0, 1], [0, 1]), undefined);
  const ref = JSON.parse(
    readFileSync(fileURLToPath(new URL('../../../src/monitor/fixtures/growth.json', import.meta.url)), 'utf8'),
  ) as { cases: { ts: number[]; values: number[]; slope_per_hour: number }[] };
  assert.equal(ref.cases.length, 5);
  for (const c of ref.cases) {
    const ours = slopePerHour(c.ts, c.values)!;
    assert.ok(
      Math.abs(ours - c.slope_per_hour) <= 1e-6 * Math.max(1, Math.abs(c.slope_per_hour)),
      `n=${c.ts.length}: ours ${ours}, SciPy ${c.slope_per_hour}`,
    );
  }
});
