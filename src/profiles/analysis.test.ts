/**
 * The profile analysis as pure functions on synthetic window series: breaking point, failure mode,
 * recovery time, knee, steady state, the capacity search and drift.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/random.js';
import type { ScenarioSummary } from '../core/results.js';
import type { ThresholdPlan } from '../plan/types.js';
import {
  breakingPoint,
  capacitySearch,
  checkStep,
  driftOf,
  failureMode,
  kneedle,
  recoveryTime,
  steadyState,
  type Probe,
} from './analysis.js';
import type { WindowPoint } from './windows.js';

/** A synthetic window: 1 s long starting at `t`. */
function w(t: number, o: Partial<WindowPoint> = {}): WindowPoint {
  const requests = o.requests ?? 100;
  const ok = o.ok ?? requests;
  return {
    t,
    start_s: t,
    duration_s: 1,
    requests,
    ok,
    errors: o.errors ?? {},
    error_rate: requests ? (requests - ok) / requests : 0,
    throughput: o.throughput ?? requests,
    p50: o.p50 ?? 5,
    p90: o.p90 ?? 8,
    p99: o.p99 === undefined ? 10 : o.p99,
    max: o.max ?? 20,
    in_flight: o.in_flight ?? 1,
    late: o.late ?? 0,
    counters: o.counters ?? {},
  };
}

test('breaking point: last rate that held, first of the failing steps that end the test', () => {
  const s = (rates: number[], ok: boolean[]) => rates.map((rate, i) => ({ rate, ok: ok[i] }));
  assert.deepEqual(breakingPoint(s([100, 200, 300, 400], [true, true, false, false])), {
    lastGood: 200,
    firstBad: 300,
    index: 2,
    transient: [],
  });
  assert.deepEqual(breakingPoint(s([100, 200], [true, true])), {
    lastGood: 200,
    firstBad: null,
    index: -1,
    transient: [],
  });
  assert.deepEqual(breakingPoint(s([100, 200], [false, false])), {
    lastGood: null,
    firstBad: 100,
    index: 0,
    transient: [],
  });
  // A blip that a higher rate survives is transient, not the break.
  const bp = breakingPoint(s([100, 200, 300, 400, 500], [true, false, true, false, false]));
  assert.equal(bp.lastGood, 300);
  assert.equal(bp.firstBad, 400);
  assert.deepEqual(bp.transient, [1]);
});

test('failure mode: shedding with 503 and flat latency is graceful', () => {
  const pts = Array.from({ length: 20 }, (_, i) =>
    w(i, {
      requests: 300,
      ok: 200,
      errors: { http_5xx: 100 },
      counters: { 'status.503': 100 },
      p50: 40 + (i % 3),
      p99: 90 + (i % 4),
    }),
  );
  const ev = failureMode(pts);
  assert.equal(ev.mode, 'graceful');
  assert.ok(Math.abs(ev.shed_fraction - 1 / 3) < 1e-3, String(ev.shed_fraction));
  assert.equal(ev.latency_growing, false);
  assert.match(ev.reasons[0], /shed with 429\/503/);
});

test('failure mode: latency growing without bound is catastrophic, even with no errors', () => {
  const pts = Array.from({ length: 20 }, (_, i) => w(i, { p50: 20 + 50 * i, p99: 40 + 60 * i }));
  const ev = failureMode(pts);
  assert.equal(ev.mode, 'catastrophic');
  assert.equal(ev.latency_growing, true);
  assert.ok(ev.latency_growth! > 5);
  assert.match(ev.reasons.join(' '), /without bound/);
});

test('failure mode: timeouts and connection errors are catastrophic; other errors with bounded latency are degraded', () => {
  const timeouts = Array.from({ length: 10 }, (_, i) =>
    w(i, { requests: 100, ok: 95, errors: { timeout: 3, connection_reset: 2 } }),
  );
  assert.equal(failureMode(timeouts).mode, 'catastrophic');
  const fiveHundreds = Array.from({ length: 10 }, (_, i) =>
    w(i, { requests: 100, ok: 80, errors: { http_5xx: 20 }, counters: { 'status.500': 20 } }),
  );
  const ev = failureMode(fiveHundreds);
  assert.equal(ev.mode, 'degraded');
  assert.ok(Math.abs(ev.other_error_fraction - 0.2) < 1e-9);
  const slowButBounded = Array.from({ length: 10 }, (_, i) => w(i, { p50: 300 + (i % 2) * 10, p99: 600 }));
  assert.equal(failureMode(slowButBounded).mode, 'degraded');
});

test('recovery time on a deterministic series: known to the window', () => {
  // Baseline 0–10 s (p99 10–12 ms), spike 10–15 s (p99 800 ms, 5% errors), slow drain until 19 s, then baseline.
  const pts: WindowPoint[] = [];
  for (let t = 0; t < 10; t++) pts.push(w(t, { p99: 10 + (t % 3) }));
  for (let t = 10; t < 15; t++) pts.push(w(t, { p99: 800, ok: 95 }));
  for (let t = 15; t < 19; t++) pts.push(w(t, { p99: 400 - 80 * (t - 15) }));
  for (let t = 19; t < 40; t++) pts.push(w(t, { p99: 11 }));
  const r = recoveryTime(pts, { fromS: 2, toS: 10 }, 15, {
    latencyTolerance: 0.2,
    marginMs: 5,
    errorTolerance: 0.01,
    windows: 3,
  });
  assert.equal(r.recovered, true);
  assert.equal(r.recovery_s, 4);
  assert.equal(r.recovered_at_s, 19);
  assert.equal(r.baseline_p99_ms, 12);
  assert.equal(r.limit_p99_ms, 17); // max(12 × 1.2, 12 + 5)
  assert.equal(r.baseline_windows, 8);
});

test('recovery needs N consecutive good windows; empty windows and errors are not good', () => {
  const pts: WindowPoint[] = [];
  for (let t = 0; t < 10; t++) pts.push(w(t));
  pts.push(w(10, { p99: 500 }));
  pts.push(w(11), w(12, { requests: 0, ok: 0, p99: null }), w(13), w(14, { ok: 90 }), w(15), w(16), w(17));
  const r = recoveryTime(pts, { fromS: 0, toS: 10 }, 10, {
    latencyTolerance: 0.2,
    marginMs: 5,
    errorTolerance: 0.01,
    windows: 3,
  });
  assert.equal(r.recovery_s, 5);
  const never = recoveryTime(pts.slice(0, 14), { fromS: 0, toS: 10 }, 10, {
    latencyTolerance: 0.2,
    marginMs: 5,
    errorTolerance: 0.01,
    windows: 3,
  });
  assert.equal(never.recovered, false);
  assert.equal(never.recovery_s, null);
});

test('steady state: the last windows agree within the tolerance on throughput and p99', () => {
  const rule = { tolerance: 0.1, windows: 3 };
  assert.equal(
    steadyState([w(0, { p99: 50 }), w(1, { p99: 10 }), w(2, { p99: 10.5 }), w(3, { p99: 10.9 })], rule).steady,
    true,
  );
  const noisy = steadyState([w(0), w(1, { p99: 10 }), w(2, { p99: 12 })], rule);
  assert.equal(noisy.steady, false);
  assert.ok(Math.abs(noisy.p99_spread - 0.2) < 1e-9);
  assert.equal(steadyState([w(0), w(1, { throughput: 80 }), w(2)], rule).steady, false);
  assert.equal(steadyState([w(0), w(1)], rule).steady, false, 'too few windows');
  assert.equal(steadyState([w(0), w(1, { p99: null }), w(2)], rule).steady, false, 'a window with no latency');
});

test('knee (Kneedle) of an M/M/1-like throughput–latency curve is just before saturation', () => {
  const mu = 100;
  const offered = [20, 40, 60, 80, 90, 95, 100, 110, 120];
  const pts = offered.map((l) => {
    const x = Math.min(l, mu * 0.99);
    return { x, y: l < mu ? 1000 / (mu - l) : 1000 + 300 * (l - mu + 1) };
  });
  const k = kneedle(pts);
  assert.ok(k.index >= 3 && k.index <= 5, `knee at offered ${offered[k.index]}`);
  assert.ok(k.score > 0.5);
  // A straight line has no knee; neither do fewer than 3 points.
  assert.equal(kneedle([1, 2, 3, 4, 5].map((x) => ({ x, y: 2 * x }))).index, -1);
  assert.equal(
    kneedle([
      { x: 1, y: 1 },
      { x: 2, y: 5 },
    ]).index,
    -1,
  );
});

test('knee of a saturating fixed-capacity server sits at the capacity', () => {
  // Offered 50…300/s against a 200/s server: throughput caps at 200, latency explodes past it.
  const rows = [
    { x: 50, y: 7 },
    { x: 100, y: 8 },
    { x: 150, y: 8 },
    { x: 199.7, y: 12 },
    { x: 200, y: 790 },
    { x: 200, y: 1330 },
  ];
  assert.equal(kneedle(rows).index, 3);
});

test('capacity search: doubling then bisection finds a capacity within the precision', () => {
  for (const capacity of [37, 180, 200, 1234, 5000]) {
    for (const precision of [{ relative: 0.05 }, { absolute: 5 }]) {
      const probes: Probe[] = [];
      let s = capacitySearch(probes, { start: 10, maxRate: 10_000, precision });
      let guard = 0;
      while (!s.done && guard++ < 50) {
        probes.push({ rate: s.next!, ok: s.next! <= capacity });
        s = capacitySearch(probes, { start: 10, maxRate: 10_000, precision });
      }
      assert.ok(guard < 50, 'the search ends');
      assert.ok(s.lo <= capacity && s.hi! > capacity, `capacity ${capacity}: [${s.lo}, ${s.hi}]`);
      const width = s.hi! - s.lo;
      if (precision.relative) assert.ok(width <= 0.05 * s.lo + 0.5, `width ${width} for ${capacity}`);
      else assert.ok(width <= 5.5, `width ${width} for ${capacity}`);
    }
  }
});

test('capacity search: when the start fails it halves; when the maximum holds it stops there', () => {
  const probes: Probe[] = [];
  let s = capacitySearch(probes, { start: 100, maxRate: 1000, precision: { relative: 0.1 } });
  while (!s.done) {
    probes.push({ rate: s.next!, ok: s.next! <= 30 });
    s = capacitySearch(probes, { start: 100, maxRate: 1000, precision: { relative: 0.1 } });
  }
  assert.equal(probes[1].rate, 50);
  assert.ok(s.lo <= 30 && s.hi! > 30);
  const all: Probe[] = [];
  let m = capacitySearch(all, { start: 100, maxRate: 700, precision: { relative: 0.1 } });
  while (!m.done) {
    all.push({ rate: m.next!, ok: true });
    m = capacitySearch(all, { start: 100, maxRate: 700, precision: { relative: 0.1 } });
  }
  assert.deepEqual(
    all.map((p) => p.rate),
    [100, 200, 400, 700],
  );
  assert.equal(m.hi, null);
  assert.match(m.reason!, /maximum rate/);
  // Nothing holds down to the minimum: done with lo = 0.
  const none: Probe[] = [];
  let n = capacitySearch(none, { start: 64, maxRate: 700, precision: { relative: 0.1 }, minRate: 4 });
  while (!n.done) {
    none.push({ rate: n.next!, ok: false });
    n = capacitySearch(none, { start: 64, maxRate: 700, precision: { relative: 0.1 }, minRate: 4 });
  }
  assert.equal(n.lo, 0);
  assert.deepEqual(
    none.map((p) => p.rate),
    [64, 32, 16, 8, 4],
  );
});

function ar1(n: number, phi: number, sd: number, seed: number): number[] {
  const r = new Rng(seed);
  let e = 0;
  return Array.from({ length: n }, () => (e = phi * e + r.normal(0, sd)));
}

test('drift: a steady leak is detected with its rate per hour; AR(1) noise is not (many seeds)', () => {
  const opts = { alpha: 0.05, minChange: 0.1, minErrorChange: 0.01 };
  // 60 one-minute buckets: memory 500 MiB growing 60 MiB/h, AR(1) noise of 5 MiB.
  const xs = Array.from({ length: 60 }, (_, i) => i * 60 + 30);
  const leak = driftOf(
    'memory',
    'MiB',
    xs,
    ar1(60, 0.6, 5, 1).map((e, i) => 500 + i + e),
    opts,
  );
  assert.equal(leak.drifting, true);
  assert.ok(leak.ci_per_hour[0] < 60 && leak.ci_per_hour[1] > 60, `CI ${leak.ci_per_hour}`);
  assert.ok(Math.abs(leak.per_hour - 60) < 15, String(leak.per_hour));
  // Significant but tiny (0.5% over the run): not called drift.
  const tiny = driftOf(
    'memory',
    'MiB',
    xs,
    xs.map((_, i) => 500 + i * 0.04 + 0.001 * (i % 2)),
    opts,
  );
  assert.equal(tiny.significant, true);
  assert.equal(tiny.drifting, false);
  // Latency going down is not drift either.
  assert.equal(
    driftOf(
      'p99',
      'ms',
      xs,
      xs.map((_, i) => 100 - i),
      opts,
    ).drifting,
    false,
  );
  let significant = 0;
  let drifting = 0;
  for (let s = 0; s < 300; s++) {
    const d = driftOf(
      'p99',
      'ms',
      xs,
      ar1(60, 0.7, 2, 1000 + s).map((e) => 50 + e),
      opts,
    );
    if (d.significant) significant++;
    if (d.drifting) drifting++;
  }
  assert.ok(significant <= 27, `${significant}/300 significant (α = 5%: ≈ 15 expected)`);
  assert.ok(drifting <= significant && drifting <= 12, `${drifting}/300 called drift (${significant} significant)`);
});

test('drift of the error rate needs an absolute change of at least minErrorChange', () => {
  const xs = Array.from({ length: 30 }, (_, i) => i * 10);
  const opts = { alpha: 0.05, minChange: 0.1, minErrorChange: 0.01 };
  assert.equal(
    driftOf(
      'error_rate',
      'fraction',
      xs,
      xs.map((_, i) => 0.001 * i),
      opts,
    ).drifting,
    true,
  );
  assert.equal(
    driftOf(
      'error_rate',
      'fraction',
      xs,
      xs.map((_, i) => 0.0001 * i),
      opts,
    ).drifting,
    false,
  );
});

test('checkStep: thresholds, error limit and minimum throughput on one step', () => {
  const subject = {
    requests: 1000,
    ok: 970,
    error_rate: 0.03,
    throughput: 90,
    errors: { http_5xx: 30 },
    counters: {},
    histograms: {},
    latency_ms: { count: 1000, min: 1, mean: 20, p50: 10, p90: 40, p95: 60, p99: 120, p999: 200, max: 300 },
  } as unknown as ScenarioSummary;
  const th: ThresholdPlan[] = [
    {
      expression: 'p99 < 100ms',
      metric: 'latency',
      stat: 'p99',
      op: '<',
      value: 100,
      abortOnFail: false,
      delayAbortEvalMs: 0,
    },
    {
      expression: 'p50 < 50ms',
      metric: 'latency',
      stat: 'p50',
      op: '<',
      value: 50,
      abortOnFail: false,
      delayAbortEvalMs: 0,
    },
  ];
  const c = checkStep(th, subject, { errorLimit: 0.05, minThroughput: 0.95, offered: 100 });
  assert.equal(c.ok, false);
  assert.equal(c.reasons.length, 2);
  assert.match(c.reasons[0], /p99 < 100ms \(was 120\)/);
  assert.match(c.reasons[1], /throughput 90\/s < 95% of the offered 100\/s/);
  assert.equal(checkStep(th.slice(1), subject, { errorLimit: 0.01 }).reasons[0], 'error rate 3% > limit 1%');
});
