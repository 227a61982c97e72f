/**
 * The end-of-run terminal summary: the generator's stalls (windows over options.maxDispatchLag) only
 * when there were any; a release comparison (title, verdict, reasons, tests, variants side by side).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Summary } from '../core/results.js';
import { loadResultsSync } from '../report/load.js';
import { CANDIDATE_DIR } from '../report/test-support.js';
import { renderSummary } from './summary-view.js';

test("the terminal summary shows the generator's stalls only when a window was over the limit", () => {
  const { summary } = loadResultsSync(CANDIDATE_DIR);
  const over = {
    ...summary,
    generator: { ...summary.generator, windows_over_limit: { count: 2, of: 30, limit_ms: 50 } },
  };
  assert.match(
    renderSummary(over, { color: false }),
    /load generator: stalled over 50\.0ms in 2 of 30 windows \(options\.maxDispatchLag\)/,
  );
  const none = {
    ...summary,
    generator: { ...summary.generator, windows_over_limit: { count: 0, of: 30, limit_ms: 50 } },
  };
  assert.doesNotMatch(renderSummary(none, { color: false }), /stalled over/);
});

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
