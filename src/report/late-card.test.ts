/**
 * The "Late / unsent" card of the HTML report is coloured by significance: one late send among
 * thousands is normal (warm-up, GC) and not red; unsent arrivals, or late sends above 1%, are.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderHtmlReport } from './html.js';
import { loadResultsSync } from './load.js';
import { CANDIDATE_DIR } from './test-support.js';

function lateCard(late: number, unsent: number, cancelled = 0): string {
  const r = loadResultsSync(CANDIDATE_DIR);
  const [name] = Object.keys(r.summary.scenarios);
  const sc = r.summary.scenarios[name];
  Object.assign(sc, { requests: 2000, late, unsent, cancelled });
  const html = renderHtmlReport(r);
  const section = html.slice(html.indexOf(`id="scenario-${name}"`));
  const m =
    /<div class="card ([^"]*)"><div class="card-label">Late \/ unsent<\/div><div class="card-value">([^<]*)<\/div>(?:<div class="card-sub">([^<]*)<\/div>)?/.exec(
      section,
    );
  assert.ok(m, 'late card present');
  return `${m[1].trim()}|${m[2]}|${m[3] ?? ''}`;
}

test('late / unsent card: one late send in 2000 is not red; >1% late or any unsent is', () => {
  assert.equal(lateCard(1, 0), '|1 / 0|0.05% late: within 1%');
  assert.equal(lateCard(20, 0), '|20 / 0|1% late: within 1%');
  assert.match(lateCard(21, 0), /^bad-soft\|21 \/ 0\|/);
  assert.match(lateCard(0, 1), /^bad-soft\|0 \/ 1\|arrivals never sent/);
  assert.match(lateCard(0, 0, 3), /^\|0 \/ 0\|arrivals · 3 cancelled$/);
});
