import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreflightError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import { parseTolerances } from './tolerances.js';

test('tolerances parse from CLI strings', () => {
  assert.deepEqual(parseTolerances('latency.p99=10%'), [{ metric: 'latency.p99', maxRegressionPct: 10 }]);
  assert.deepEqual(parseTolerances('error_rate=0.5pp'), [{ metric: 'error_rate', maxRegressionPp: 0.5 }]);
  assert.deepEqual(parseTolerances(['latency=15%', 'accuracy=2pp']), [
    { metric: 'latency.p50', maxRegressionPct: 15 },
    { metric: 'latency.p99', maxRegressionPct: 15 },
    { metric: 'accuracy', maxRegressionPp: 2 },
  ]);
  assert.deepEqual(parseTolerances('throughput=5%, service_time.p50=20%'), [
    { metric: 'throughput', maxRegressionPct: 5 },
    { metric: 'service_time.p50', maxRegressionPct: 20 },
  ]);
  for (const bad of ['error_rate=5%', 'latency.p99=3pp', 'foo=1%', 'latency.p99=abc', 'latency.p99']) {
    assert.throws(
      () => parseTolerances(bad),
      (e: unknown) => e instanceof PreflightError && e.code === 'E_ARGS' && e.exitCode === ExitCode.InvalidPlan,
      bad,
    );
  }
});
