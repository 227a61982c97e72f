/**
 * Golden tests of the Markdown and JUnit outputs on the committed fixtures.
 * After an intended change: UPDATE_GOLDEN=1 node --test dist/src/report/golden.test.js, then review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderJUnit } from './junit.js';
import { loadResultsSync } from './load.js';
import { renderMarkdown } from './markdown.js';
import { BASELINE_DIR, CANDIDATE_DIR, GOLDEN_DIR } from './test-support.js';

async function golden(name: string, actual: string): Promise<void> {
  const p = join(GOLDEN_DIR, name);
  if (process.env.UPDATE_GOLDEN) {
    await mkdir(GOLDEN_DIR, { recursive: true });
    await writeFile(p, actual);
    return;
  }
  const expected = await readFile(p, 'utf8');
  assert.equal(actual, expected, `${name} differs from its golden file (UPDATE_GOLDEN=1 to accept)`);
}

const baseline = loadResultsSync(BASELINE_DIR);
const candidate = loadResultsSync(CANDIDATE_DIR);

test('Markdown of a passing run', async () => {
  const md = renderMarkdown(baseline.summary);
  assert.match(md, /^## ✅ PASSED/);
  await golden('baseline.md', md);
});

test('Markdown of a failing run with a comparison', async () => {
  assert.ok(candidate.comparison, 'fixture has comparison.json');
  const md = renderMarkdown(candidate.summary, candidate.comparison);
  assert.match(md, /^## ❌ FAILED/);
  assert.match(md, /### Compared with baseline: ❌ regression/);
  await golden('candidate.md', md);
});

test('JUnit of a passing run', async () => {
  const xml = renderJUnit(baseline.summary);
  assert.match(xml, /tests="6" failures="0"/);
  await golden('baseline.junit.xml', xml);
});

test('JUnit of a failing run with a comparison', async () => {
  const xml = renderJUnit(candidate.summary, candidate.comparison);
  await golden('candidate.junit.xml', xml);
  // One testcase per threshold (+ run validity), one per compared metric; counts add up.
  const cases = xml.match(/<testcase /g)?.length ?? 0;
  const failures = xml.match(/<failure /g)?.length ?? 0;
  const total = Number(/<testsuites [^>]*tests="(\d+)"/.exec(xml)?.[1]);
  const totalFailures = Number(/<testsuites [^>]*failures="(\d+)"/.exec(xml)?.[1]);
  assert.equal(cases, total);
  assert.equal(failures, totalFailures);
  assert.match(xml, /<failure type="ThresholdFailed" message="latency.p99 &lt; 120ms: measured [\d.]+ ms">/);
  assert.match(xml, /<failure type="Regression"/);
});

test('JUnit escapes XML and marks invalid / interrupted runs', () => {
  const s = structuredClone(baseline.summary);
  s.thresholds = [
    { expression: 'latency.p99 < 5ms & "fast"', value: null, ok: false, note: 'no <requests> completed' },
  ];
  s.verdict = 'invalid';
  s.generator.overloaded = true;
  s.generator.reasons = ['event-loop delay > 20 ms'];
  const xml = renderJUnit(s);
  assert.match(xml, /name="latency.p99 &lt; 5ms &amp; &quot;fast&quot;"/);
  assert.match(xml, /measured no &lt;requests&gt; completed/);
  assert.match(xml, /type="RunInvalid"/);
  s.verdict = 'interrupted';
  s.generator.overloaded = false;
  s.status = 'interrupted';
  assert.match(renderJUnit(s), /type="RunInterrupted"/);
});
