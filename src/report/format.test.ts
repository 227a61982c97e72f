import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmtDuration, fmtMetricValue, fmtMs, fmtPct, terminal } from './format.js';

test('threshold values are shown in their metric unit', () => {
  const cases: Array<[string, number, string]> = [
    ['p99 < 250ms', 4.57, '4.57 ms'],
    ['latency.p99 < 2s', 1234, '1.23 s'],
    ['error_rate < 1%', 0.00253, '0.253%'],
    ['steady.throughput >= 280/s', 302.2, '302/s'],
    ['steady.accuracy >= 0.95', 0.985, '98.5%'],
    // A difference of two accuracies is in percentage points, not percent of anything.
    ['steady.accuracy_drop <= 0.02', -0.005, '−0.5 pp'],
    ['steady.accuracy_drop <= 0.02', 0.0123, '+1.23 pp'],
  ];
  for (const [expr, value, shown] of cases) assert.equal(fmtMetricValue(expr, value), shown, expr);
});

test('one formatter, two styles: reports trim zeros and space the unit, the terminal keeps fixed decimals', () => {
  assert.deepEqual([fmtMs(12.34), fmtMs(12), fmtMs(1234), fmtMs(null)], ['12.3 ms', '12 ms', '1.23 s', '–']);
  assert.deepEqual(
    [terminal.ms(12.34), terminal.ms(12), terminal.ms(1234), terminal.ms(12_345), terminal.ms(0.5), terminal.ms(null)],
    ['12.3ms', '12.0ms', '1.23s', '12.3s', '0.50ms', '—'],
  );
  assert.deepEqual(
    [terminal.num(42), terminal.num(2.25), terminal.num(12_345), terminal.num(2_500_000)],
    ['42', '2.3', '12.3k', '2.50M'],
  );
  assert.deepEqual(
    [fmtPct(0.0123), terminal.pct(0.0123), terminal.pct(0.0005), terminal.pct(0)],
    ['1.23%', '1.23%', '0.050%', '0.00%'],
  );
  assert.deepEqual([fmtDuration(45), terminal.duration(45), terminal.duration(65)], ['45 s', '45s', '1m05s']);
});
