import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IntervalRecord, TargetWindowRecord } from '../core/results.js';
import { amplificationOver } from './kinds/resilience.js';

/** 1 s windows 0…9: Preflight completes 10 a window; the target receives 40/s from 3 s to 6 s (×4), else 10/s. */
function fixture(shifted: boolean) {
  const records = Array.from({ length: 10 }, (_, k) => ({ start_s: k, duration_s: 1, requests: 10 }) as IntervalRecord);
  // A scraped figure of window k is the rate between mid k−1 and mid k: a change at 3 s shows half in window 3.
  const rate = (t: number) => (t >= 3 && t < 6 ? 40 : 10);
  const target = Array.from(
    { length: 10 },
    (_, k) =>
      ({
        t: k,
        start_s: k,
        duration_s: 1,
        values: { requests: shifted ? (rate(k - 0.5 + 0.25) + rate(k - 0.25)) / 2 : rate(k) },
      }) as unknown as TargetWindowRecord,
  );
  return { records, target };
}

test('amplification: whole windows inside the span, the half-window shift of scraped figures, gaps left out', () => {
  const a = fixture(false);
  assert.deepEqual(amplificationOver(a.target, 'requests', a.records, 3, 6, false), {
    ratio: 4,
    target_requests: 120,
    sent: 30,
    from_s: 3,
    to_s: 6,
  });
  assert.equal(amplificationOver(a.target, 'requests', a.records, 0, 3, false).ratio, 1);
  // Scraped: the figure of window 3 spans 2.5–3.5 s, across the fault's start, so it is left out;
  // windows 4 and 5 (3.5–5.5 s) are used, with Preflight's counts shifted the same half window.
  const b = fixture(true);
  const amp = amplificationOver(b.target, 'requests', b.records, 3, 6, true);
  assert.deepEqual([amp.ratio, amp.from_s, amp.to_s], [4, 4, 6]);
  // A gap: the window without a reading is left out of both sums.
  const gap = fixture(false);
  (gap.target[4].values as Record<string, unknown>)['requests'] = null;
  assert.deepEqual(
    [amplificationOver(gap.target, 'requests', gap.records, 3, 6, false)].map((x) => [x.ratio, x.sent]),
    [[4, 20]],
  );
  // Nothing read: no ratio.
  assert.equal(amplificationOver([], 'requests', a.records, 3, 6, false).ratio, null);
});
