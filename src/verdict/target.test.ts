import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan } from '../plan/index.js';
import { evaluateThresholds } from './index.js';
import type { Summary } from '../core/results.js';

const base = (monitor: string, thresholds = '') => `
target: { url: http://127.0.0.1:9 }
scenarios:
  s: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }
monitor:
${monitor}
${thresholds}
`;

test('target.* thresholds are judged from summary.target_metrics; no data is a failure with a note', () => {
  const r = validatePlan(
    base(
      '  scrape: [ http://e:1/metrics ]\n  preset: process',
      'thresholds: [ target.cpu.max < 90%, target.memory.growth < 50MB/h ]',
    ),
    { env: {} },
  );
  const summary = {
    total: {},
    scenarios: {},
    target_metrics: {
      cpu: {
        unit: 'percent',
        kind: 'counter',
        source: 'scrape',
        windows: 3,
        of: 3,
        min: 10,
        mean: 50,
        max: 95,
        last: 20,
      },
    },
  } as unknown as Summary;
  const [cpu, mem] = evaluateThresholds(r.plan!.thresholds, summary);
  assert.deepEqual([cpu.value, cpu.ok], [95, false]);
  assert.equal(mem.value, null);
  assert.equal(mem.ok, false);
  assert.match(mem.note!, /memory was not read/);
});
