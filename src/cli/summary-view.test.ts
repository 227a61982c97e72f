/**
 * The end-of-run terminal summary shows the generator's stalls (windows over options.maxDispatchLag)
 * only when there were any.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadResultsSync } from '../report/load.js';
import { renderSummary } from './summary-view.js';

const CANDIDATE = fileURLToPath(new URL('../../../src/report/fixtures/run-candidate/', import.meta.url));

test("the terminal summary shows the generator's stalls only when a window was over the limit", () => {
  const { summary } = loadResultsSync(CANDIDATE);
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
