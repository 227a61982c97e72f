import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmtMetricValue } from './format.js';

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
