import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IntervalRecord } from '../core/results.js';
import { CSV_FIXED_COLUMNS, renderCsv } from './csv.js';
import { loadResultsSync } from './load.js';
import { writeAllReports } from './all.js';
import { BASELINE_DIR, copyFixture } from './test-support.js';

test('intervals.csv: stable columns, one row per scenario/group per window', () => {
  const r = loadResultsSync(BASELINE_DIR);
  const csv = renderCsv(r.intervals);
  const lines = csv.trimEnd().split('\n');
  const header = lines[0].split(',');
  assert.deepEqual(header.slice(0, CSV_FIXED_COLUMNS.length), [...CSV_FIXED_COLUMNS]);
  assert.deepEqual(header.slice(CSV_FIXED_COLUMNS.length), [
    'err_http_5xx',
    'err_invalid_response',
    'counter.quality.correct',
    'counter.quality.scored',
    'counter.tokens_out',
    'itl_p50_ms',
    'itl_p90_ms',
    'itl_p99_ms',
    'itl_max_ms',
    'ttft_p50_ms',
    'ttft_p90_ms',
    'ttft_p99_ms',
    'ttft_max_ms',
  ]);
  assert.equal(lines.length - 1, r.intervals.length);
  for (const l of lines) assert.equal(l.split(',').length, header.length);
  // Window 0: chat, classify, classify/digits-v1, classify/digits-v2.
  assert.deepEqual(
    lines.slice(1, 5).map((l) => l.split(',').slice(0, 3).join(',')),
    ['chat,,0', 'classify,,0', 'classify,digits-v1,0', 'classify,digits-v2,0'],
  );
  // Same output for shuffled input.
  const shuffled = [...r.intervals].reverse();
  assert.equal(renderCsv(shuffled), csv);
});

test('CSV quoting and unknown error classes', () => {
  const rec: IntervalRecord = {
    scenario: 'a,"b"',
    t: 0,
    start_s: 0,
    duration_s: 1,
    requests: 2,
    ok: 1,
    errors: { weird_class: 1 },
    throughput: 2,
    in_flight: 1,
    late: 0,
    latency_ms: null,
    service_time_ms: null,
    counters: {},
    histograms_ms: {},
    hdr: {},
  };
  const csv = renderCsv([rec]);
  assert.match(csv, /err_weird_class/);
  assert.match(csv.split('\n')[1], /^"a,""b""",,0,0,1,2,1,1,0.5,2,,1,,0,,,,,,,,,1$/);
});

test('writeAllReports writes html, md, junit and csv', async () => {
  const dir = await copyFixture(BASELINE_DIR);
  const out = await writeAllReports(dir, { githubStepSummary: false });
  assert.deepEqual(Object.keys(out).sort(), ['csv', 'html', 'junit', 'markdown']);
  assert.equal(out.csv, join(dir, 'intervals.csv'));
  assert.match(await readFile(join(dir, 'summary.md'), 'utf8'), /PASSED/);
  assert.match(await readFile(join(dir, 'junit.xml'), 'utf8'), /^<\?xml/);
});

test('writeMarkdown appends to $GITHUB_STEP_SUMMARY', async () => {
  const { writeMarkdown } = await import('./markdown.js');
  const dir = await copyFixture(BASELINE_DIR);
  const summaryFile = join(dir, 'step-summary.md');
  const old = process.env.GITHUB_STEP_SUMMARY;
  process.env.GITHUB_STEP_SUMMARY = summaryFile;
  try {
    await writeMarkdown(dir);
    await writeMarkdown(dir);
  } finally {
    if (old === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = old;
  }
  const text = await readFile(summaryFile, 'utf8');
  assert.equal(text.match(/## ✅ PASSED/g)?.length, 2);
});
