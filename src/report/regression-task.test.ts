/** A regression-task scenario (MAE/RMSE) has no accuracy: the reports must not show "accuracy 0%". */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Summary } from '../core/results.js';
import { renderHtmlReport } from './html.js';
import { loadResultsSync } from './load.js';
import { renderMarkdown } from './markdown.js';
import { CANDIDATE_DIR } from './test-support.js';

function asRegression(summary: Summary): string {
  const name = Object.keys(summary.scenarios)[0];
  const sc = summary.scenarios[name];
  sc.counters = {
    ...sc.counters,
    'quality.requests': 100,
    'quality.rows': 100,
    'quality.scored': 100,
    'quality.abs_err_sum': 12,
    'quality.sq_err_sum': 3,
  };
  delete sc.counters['quality.correct'];
  sc.quality = { task: 'regression', accuracy: null, mae: 0.12 };
  return name;
}

test('markdown and HTML show no accuracy for a regression task', () => {
  const r = loadResultsSync(CANDIDATE_DIR);
  asRegression(r.summary);
  for (const rec of r.intervals) {
    if (rec.counters?.['quality.scored'] !== undefined) {
      rec.counters = { ...rec.counters };
      delete rec.counters['quality.correct'];
    }
  }
  const md = renderMarkdown(r.summary);
  assert.doesNotMatch(md, /accuracy 0(\.0+)?%/);
  const html = renderHtmlReport(r);
  assert.doesNotMatch(html, /Accuracy<\/div>\s*<div[^>]*>0(\.0+)?%/);
  assert.doesNotMatch(html, /Accuracy per window/);
});
