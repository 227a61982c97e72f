import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReportData } from './chart-spec.js';
import { renderHtmlReport, writeHtmlReport } from './html.js';
import { renderMarkdown } from './markdown.js';
import { loadResultsSync } from './load.js';
import type { LoadedResults } from './load.js';
import { fixtureSpecs, writeSynthRun } from './synth-run.js';
import { CANDIDATE_DIR, BASELINE_DIR, copyFixture, tempDir } from './test-support.js';

function embedded(html: string): ReportData {
  const m = /<script type="application\/json" id="preflight-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'data block present');
  return JSON.parse(m[1]) as ReportData;
}

test('report.html is self-contained: no external resources, CSP forbids network', async () => {
  const dir = await copyFixture(CANDIDATE_DIR);
  const p = await writeHtmlReport(dir);
  assert.equal(p, join(dir, 'report.html'));
  const html = await readFile(p, 'utf8');
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.doesNotMatch(html, /<script[^>]+src=/i);
  assert.doesNotMatch(html, /<link[^>]+href=/i);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);
  assert.doesNotMatch(html, /@import|url\(\s*['"]?https?:/i);
  // uPlot inlined.
  assert.match(html, /uPlot/);
});

test('verdict first, then thresholds, warnings, comparison, scenarios, profiles, plan, machine', () => {
  const r = loadResultsSync(CANDIDATE_DIR);
  const html = renderHtmlReport(r);
  const order = [
    'id="verdict"',
    'id="thresholds"',
    'id="warnings"',
    'id="comparison"',
    'id="scenario-classify"',
    'id="scenario-chat"',
    'id="profiles"',
    'id="plan"',
    'id="machine"',
  ];
  let last = -1;
  for (const id of order) {
    const i = html.indexOf(id);
    assert.ok(i > last, `${id} after the previous section`);
    last = i;
  }
  assert.match(html, /class="verdict fail"/);
  assert.match(html, /1 of 5 thresholds failed/);
  assert.match(html, /latency.p99 &lt; 120ms/);
  assert.match(html, /from the intended start/);
  assert.match(html, /from the actual send/);
  assert.match(html, /p99 latency recovered/); // profile answer
});

test('every chart container has a spec and the specs are drawable', () => {
  const r = loadResultsSync(CANDIDATE_DIR);
  const html = renderHtmlReport(r);
  const data = embedded(html);
  const ids = [...html.matchAll(/<div class="chart" id="(chart-\d+)"/g)].map((m) => m[1]);
  assert.deepEqual([...ids].sort(), data.charts.map((c) => c.id).sort());
  assert.equal(new Set(ids).size, ids.length);
  const titles = data.charts.map((c) => c.title);
  for (const want of [
    'Latency percentiles over time',
    'Throughput: achieved vs target',
    'Errors by class (per window)',
    'Requests in flight',
    'Accuracy per window (quality.correct / quality.scored)',
    'TTFT (time to first token) percentiles over time',
    'ITL (inter-token latency) percentiles over time',
    'Latency distribution (percentile spectrum, whole run)',
    'classify: latency p50 / p99, baseline vs candidate',
    'classify: latency distribution, baseline vs candidate',
    'p99 latency vs offered load (step test)',
  ]) {
    assert.ok(titles.includes(want), `chart "${want}"`);
  }
  for (const c of data.charts) {
    for (const s of c.series) assert.equal(s.values.length, c.xs.length, `${c.title} / ${s.label}`);
    for (let i = 1; i < c.xs.length; i++) assert.ok(c.xs[i] > c.xs[i - 1], `${c.title}: x ascending`);
  }
  const spectrum = data.charts.find((c) => c.x.kind === 'percentile');
  assert.ok(spectrum && spectrum.xs[0] === 1);
  // Profile marks reach the time charts.
  assert.ok(data.charts.some((c) => c.marks?.some((m) => m.label === 'slow patch')));
});

test('hostile strings are escaped (no script injection through plan or summary)', () => {
  const r = loadResultsSync(BASELINE_DIR);
  const evil = '</script><script>alert(1)</script><!--';
  const hostile: LoadedResults = {
    ...r,
    summary: { ...r.summary, plan: evil, warnings: [evil], thresholds: [{ expression: evil, value: 1, ok: false }] },
    plan: { name: evil },
  };
  const html = renderHtmlReport(hostile);
  assert.equal(html.split('<script>alert(1)').length, 1, 'no raw injected script');
  assert.equal((html.match(/<\/script>/g) ?? []).length, 3, 'only our three script blocks close');
  embedded(html);
});

test('old or partial results render: no intervals, no generator, no plan, interrupted', () => {
  const r = loadResultsSync(BASELINE_DIR);
  const s = structuredClone(r.summary) as unknown as Record<string, unknown>;
  delete s.generator;
  delete s.profiles;
  s.status = 'interrupted';
  s.verdict = 'interrupted';
  const html = renderHtmlReport({
    dir: 'x',
    summary: s as unknown as LoadedResults['summary'],
    intervals: [],
    skippedIntervalLines: 2,
  });
  assert.match(html, /Interrupted/);
  assert.match(html, /No per-window records/);
  assert.match(html, /2 line\(s\) of intervals.ndjson could not be read/);
  assert.equal(embedded(html).charts.length, 0);
});

test('a 60 s run makes a report well under 400 KB', async () => {
  const dir = await tempDir();
  const { candidate } = fixtureSpecs(60);
  await writeSynthRun(dir, candidate);
  const p = await writeHtmlReport(dir);
  const size = (await stat(p)).size;
  assert.ok(size < 400 * 1024, `report.html is ${size} bytes`);
  const ndjson = (await stat(join(dir, 'intervals.ndjson'))).size;
  // Histograms are summarised, not embedded.
  assert.ok(size < ndjson, `report ${size} B should be smaller than intervals.ndjson ${ndjson} B`);
  await writeFile(join(dir, 'size.txt'), String(size));
});

test("the generator's stalls (windows over options.maxDispatchLag) are shown in report.html and summary.md only when there were any", () => {
  const r = loadResultsSync(CANDIDATE_DIR);
  const withStalls: LoadedResults = {
    ...r,
    summary: {
      ...r.summary,
      generator: { ...r.summary.generator, windows_over_limit: { count: 3, of: 40, limit_ms: 50 } },
    },
  };
  const text = 'stalled over 50 ms in 3 of 40 windows';
  assert.ok(renderHtmlReport(withStalls).includes(`Generator stalls</th><td>${text}`));
  assert.ok(renderMarkdown(withStalls.summary).includes(`, ${text}`));
  const none: LoadedResults = {
    ...r,
    summary: {
      ...r.summary,
      generator: { ...r.summary.generator, windows_over_limit: { count: 0, of: 40, limit_ms: 50 } },
    },
  };
  assert.ok(!renderHtmlReport(none).includes('Generator stalls'));
  assert.ok(!renderMarkdown(none.summary).includes('stalled over'));
});
