/** The terminal summary shows a release comparison: title, verdict, reasons, tests, variants side by side. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Summary } from '../core/results.js';
import { loadResultsSync } from '../report/load.js';
import { CANDIDATE_DIR } from '../report/test-support.js';
import { renderSummary } from './summary-view.js';

test('a comparison in the terminal summary', () => {
  const s = structuredClone(loadResultsSync(CANDIDATE_DIR).summary) as Summary;
  const name = Object.keys(s.scenarios)[0];
  s.scenarios[name] = { ...s.scenarios[name], groups: { primary: s.scenarios[name], candidate: s.scenarios[name] } };
  s.comparison = {
    kind: 'shadow',
    scenario: name,
    control: 'primary',
    candidate: 'candidate',
    verdict: 'fail',
    reasons: ['1 field differs beyond the primary’s own noise: $.outputs[*].data'],
    shadow: {
      compared: 500,
      agreement: 0.93,
      fields: [{ path: '$.outputs[*].data', rawRate: 0.4, noiseRate: 0, relative: 100, absolute: 40, reported: true }],
    },
  };
  const out = renderSummary(s, { color: false });
  assert.match(out, /Shadow comparison of candidate \(candidate\) against primary \(primary\), scenario \S+: FAIL/);
  assert.match(out, /500 requests compared; prediction agreement 93%/);
  assert.match(out, /\$\.outputs\[\*\]\.data\s+40%\s+0%/);
  assert.match(out, /primary\s+primary/);
});
