import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Autoscaler, parseAutoscale, recommend, resolveAutoscale, type AutoscaleOptions } from './autoscaler.js';
import { parseDurationMs, parseServeArgs, resolveOptions } from './options.js';

const O: AutoscaleOptions = {
  min: 1,
  max: 3,
  targetQueue: 4,
  upAfterMs: 1000,
  startDelayMs: 500,
  cooldownMs: 2000,
  tickMs: 250,
};

/** An autoscaler on a fake clock and pool: `queue(t)` gives the depth at each tick; returns the decisions. */
function simulate(queue: (t: number) => number, untilMs: number, start = 1, o = O) {
  let t = 0;
  let n = start;
  const scaled: Array<{ t: number; to: number }> = [];
  const a = new Autoscaler(
    o,
    {
      queueDepth: () => queue(t),
      ready: () => n,
      starting: () => 0,
      scaleTo: (k) => {
        n = k;
        scaled.push({ t, to: k });
      },
    },
    0,
    () => t,
  );
  for (t = 0; t <= untilMs; t += o.tickMs) a.tick();
  return { scaled, a };
}

test('recommend: HPA formula, 10 % tolerance, clamped to min–max', () => {
  assert.equal(recommend(O, 1, 20), 3); // ceil(20 / 4) = 5 → max 3
  assert.equal(recommend(O, 1, 4.3), 1); // ratio 1.075: within tolerance
  assert.equal(recommend(O, 1, 5), 2);
  assert.equal(recommend(O, 2, 0), 1);
  assert.equal(recommend(O, 3, 9), 3); // ratio 0.75 → ceil(2.25) = 3
});

test('scale-up only after the queue stayed above the target for up-after, to the window’s lowest recommendation', () => {
  // Queue 6 (→ 2) from t = 0, then 20 (→ 3) from t = 500: the window's lowest is 2.
  const { scaled, a } = simulate((t) => (t < 500 ? 6 : 20), 1000);
  assert.deepEqual(scaled, [{ t: 1000, to: 2 }]);
  assert.equal(a.desired, 2);
  assert.equal(a.log[0].kind, 'scale-up');
  assert.match(a.log[0].reason, /queue 20 vs target 4 × 1 instance: above for 1\.00 s/);
  // The window restarts after a decision: the next step needs another up-after.
  const more = simulate((t) => (t < 500 ? 6 : 20), 2500);
  assert.deepEqual(more.scaled, [
    { t: 1000, to: 2 },
    { t: 2250, to: 3 },
  ]);
});

test('a queue that dips below the target restarts the up-after window (no flapping up)', () => {
  const { scaled } = simulate((t) => (t % 1000 < 750 ? 20 : 0), 5000);
  assert.deepEqual(scaled, []);
});

test('scale-down only after cooldown below, to the highest recommendation in the window', () => {
  // Three instances; the queue empties at t = 1000 (→ 1) but reads 5 (→ 2) once at t = 1500.
  const { scaled, a } = simulate((t) => (t < 1000 ? 12 : t === 1500 ? 5 : 0), 6000, 3);
  // Below from 1000; at 1500 the recommendation 2 is still below 3: the window runs on to 3000, highest 2.
  assert.deepEqual(scaled[0], { t: 3000, to: 2 });
  // Then 2 → 1 after a further cooldown.
  assert.deepEqual(scaled[1], { t: 5250, to: 1 });
  assert.equal(a.downDecisions, 2);
});

test('up-after 0 scales at the first tick above the target', () => {
  const { scaled } = simulate(() => 9, 0, 1, { ...O, upAfterMs: 0 });
  assert.deepEqual(scaled, [{ t: 0, to: 3 }]);
});

test('--autoscale parses, applies defaults and rejects bad values with every problem at once', () => {
  const p = parseAutoscale('min=1,max=4,target-queue=8,up-after=3s,start-delay=2s,cooldown=10s,tick=500ms', (s) =>
    parseDurationMs(s),
  );
  assert.deepEqual(p.problems, []);
  assert.deepEqual(resolveAutoscale(p.value!).value, {
    min: 1,
    max: 4,
    targetQueue: 8,
    upAfterMs: 3000,
    startDelayMs: 2000,
    cooldownMs: 10_000,
    tickMs: 500,
  });
  assert.deepEqual(resolveAutoscale({}).value, {
    min: 1,
    max: 4,
    targetQueue: 8,
    upAfterMs: 3000,
    startDelayMs: 2000,
    cooldownMs: 10_000,
    tickMs: 1000,
  });
  assert.throws(
    () => parseServeArgs(['--autoscale', 'min=3,max=2,speed=9,cooldown=soon']),
    (e: Error & { problems: Array<{ message: string }> }) => {
      const all = e.problems.map((x) => x.message).join('\n');
      assert.match(all, /unknown key "speed"/);
      assert.match(all, /cooldown must be a duration/);
      return true;
    },
  );
  assert.throws(() => parseServeArgs(['--autoscale', 'min=3,max=2']), /max must be an integer from min to 64/);
  assert.throws(() => parseServeArgs(['--autoscale', 'tick=1ms']), /tickMs must be 50ms–1m/);
  assert.throws(() => resolveOptions({ autoscale: { min: 1, max: 2 }, instances: 4 }), /within autoscale min–max/);
  assert.equal(resolveOptions({ autoscale: { min: 2, max: 3 } }).instances, 2);
  assert.equal(parseServeArgs(['--compute-time', '20ms']).computeTimeMs, 20);
});
