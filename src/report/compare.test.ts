import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode } from '../core/exit-codes.js';
import { PreflightError } from '../core/errors.js';
import { compareResults, compareRuns, formatComparisonText, writeComparison } from './compare.js';
import type { Comparison } from './compare.js';
import { resolveTolerances, DEFAULT_TOLERANCES } from './compare-core.js';
import type { MetricComparison, Tolerance } from './compare-core.js';
import { loadResultsSync } from './load.js';
import { BASELINE_DIR, CANDIDATE_DIR, slowDown, tempDir, writeRun } from './test-support.js';

const LATENCY = ['latency.p50', 'latency.p99', 'service_time.p50', 'service_time.p99'];

function metric(c: Comparison, scenario: string, m: string): MetricComparison {
  const s = c.scenarios.find((x) => x.scenario === scenario);
  assert.ok(s, `scenario ${scenario}`);
  const r = s.metrics.find((x) => x.metric === m);
  assert.ok(r, `metric ${m}`);
  return r;
}

test('a run compared with itself: no regression, everything unchanged', () => {
  const c = compareRuns(BASELINE_DIR, BASELINE_DIR);
  assert.equal(c.verdict, 'unchanged');
  assert.equal(c.exitCode, ExitCode.Passed);
  assert.deepEqual(c.scenarios.map((s) => s.scenario).sort(), ['chat', 'classify']);
  for (const s of c.scenarios) {
    for (const m of s.metrics) {
      assert.equal(m.verdict, 'unchanged', `${s.scenario} ${m.metric}: ${m.reason}`);
      assert.equal(m.significant, false);
      assert.equal(m.diff, 0);
      if (m.ci) assert.ok(m.ci.low <= 0 && m.ci.high >= 0, `${m.metric} CI [${m.ci.low}, ${m.ci.high}]`);
    }
  }
  // Accuracy is compared when both runs score responses.
  assert.equal(metric(c, 'classify', 'accuracy').verdict, 'unchanged');
  assert.equal(
    c.scenarios.find((s) => s.scenario === 'chat')?.metrics.some((m) => m.metric === 'accuracy'),
    false,
  );
});

test('+30% latency in every window is a significant regression (exit code 6)', async () => {
  const base = loadResultsSync(BASELINE_DIR);
  const slow = slowDown(base.summary, base.intervals, 1.3);
  const dir = await tempDir();
  await writeRun(dir, slow.summary, slow.intervals);
  const c = compareRuns(BASELINE_DIR, dir);
  assert.equal(c.verdict, 'regression');
  assert.equal(c.exitCode, ExitCode.Regression);
  for (const scenario of ['classify', 'chat']) {
    for (const m of LATENCY) {
      const r = metric(c, scenario, m);
      assert.equal(r.verdict, 'regression', `${scenario} ${m}: ${r.reason}`);
      assert.ok(r.significant);
      assert.ok(r.pValue !== null && r.pValue < 0.001, `${scenario} ${m} p=${r.pValue}`);
      assert.ok(r.changePct !== null && Math.abs(r.changePct - 30) < 1, `${scenario} ${m} change ${r.changePct}`);
      assert.ok(r.ci && r.ci.method === 'block-bootstrap-merged-hdr');
      // The interval of the difference excludes 0 and contains the injected difference.
      const injected = (r.baseline as number) * 0.3;
      assert.ok(r.ci.low > 0, `${scenario} ${m} CI low ${r.ci.low}`);
      assert.ok(
        r.ci.low <= injected * 1.02 && r.ci.high >= injected * 0.98,
        `${scenario} ${m} CI [${r.ci.low}, ${r.ci.high}] vs ${injected}`,
      );
    }
    assert.equal(metric(c, scenario, 'throughput').verdict, 'unchanged');
    assert.equal(metric(c, scenario, 'error_rate').verdict, 'unchanged');
  }
});

test('a significant change within tolerance is unchanged; a looser tolerance absorbs +30%', () => {
  const base = loadResultsSync(BASELINE_DIR);
  const slow = slowDown(base.summary, base.intervals, 1.3);
  const cand = { ...base, summary: slow.summary, intervals: slow.intervals };
  const loose: Tolerance[] = ['latency.p50', 'latency.p99', 'service_time.p50', 'service_time.p99'].map(
    (metric) => ({ metric, maxRegressionPct: 50 }) as Tolerance,
  );
  const c = compareResults(base, cand, loose, { resamples: 300 });
  assert.equal(c.verdict, 'unchanged');
  const r = metric(c, 'classify', 'latency.p50');
  assert.equal(r.significant, true);
  assert.match(r.reason, /within the 50% tolerance/);
  const small = slowDown(base.summary, base.intervals, 1.05);
  const c2 = compareResults(base, { ...base, summary: small.summary, intervals: small.intervals }, [], {
    resamples: 300,
  });
  assert.notEqual(c2.verdict, 'regression');
});

test('faster candidate → improved; more errors → error-rate regression', () => {
  const base = loadResultsSync(BASELINE_DIR);
  const fast = slowDown(base.summary, base.intervals, 0.7);
  const c = compareResults(base, { ...base, summary: fast.summary, intervals: fast.intervals }, [], { resamples: 300 });
  assert.equal(c.verdict, 'improved');
  assert.equal(c.exitCode, 0);
  assert.equal(metric(c, 'classify', 'latency.p99').verdict, 'improved');

  const errs = structuredClone(base.summary);
  const sc = errs.scenarios.classify;
  sc.errors = { ...sc.errors, timeout: 60 }; // ≈ +5 pp of ~1,190 requests
  const c2 = compareResults(base, { ...base, summary: errs }, [], { resamples: 200 });
  const er = metric(c2, 'classify', 'error_rate');
  assert.equal(er.verdict, 'regression', er.reason);
  assert.equal(er.test?.name, 'two-proportion-z');
  assert.ok(er.ci && er.ci.low > 0);
  assert.equal(c2.exitCode, ExitCode.Regression);
});

test('the fixture candidate (slower classify, unchanged chat) is a regression only in classify', () => {
  const c = compareRuns(BASELINE_DIR, CANDIDATE_DIR, [], { resamples: 500 });
  assert.equal(c.verdict, 'regression');
  assert.equal(c.scenarios.find((s) => s.scenario === 'classify')?.verdict, 'regression');
  assert.notEqual(c.scenarios.find((s) => s.scenario === 'chat')?.verdict, 'regression');
});

test('the comparison is deterministic for a seed', () => {
  const a = compareRuns(BASELINE_DIR, CANDIDATE_DIR, [], { resamples: 300, seed: 5 });
  const b = compareRuns(BASELINE_DIR, CANDIDATE_DIR, [], { resamples: 300, seed: 5 });
  assert.deepEqual(a, b);
});

test('defaults: latency/service time/throughput 10%, error rate and accuracy 1 pp; overrides replace', () => {
  const d = resolveTolerances();
  assert.deepEqual(d, DEFAULT_TOLERANCES);
  assert.equal(d.find((t) => t.metric === 'latency.p99')?.maxRegressionPct, 10);
  assert.equal(d.find((t) => t.metric === 'throughput')?.maxRegressionPct, 10);
  assert.equal(d.find((t) => t.metric === 'error_rate')?.maxRegressionPp, 1);
  assert.equal(d.find((t) => t.metric === 'accuracy')?.maxRegressionPp, 1);
  const o = resolveTolerances([
    { metric: 'latency.p99', maxRegressionPct: 25 },
    { metric: 'error_rate', maxRegressionPp: 0.2 },
  ]);
  assert.equal(o.find((t) => t.metric === 'latency.p99')?.maxRegressionPct, 25);
  assert.equal(o.find((t) => t.metric === 'latency.p50')?.maxRegressionPct, 10);
  assert.equal(o.find((t) => t.metric === 'error_rate')?.maxRegressionPp, 0.2);
});

test('terminal table: aligned, ▲/▼ marks, colour only when asked', () => {
  const c = compareRuns(BASELINE_DIR, CANDIDATE_DIR, [], { resamples: 200 });
  const plain = formatComparisonText(c, { color: false });
  assert.ok(!plain.includes('\x1b['), 'no ANSI codes');
  assert.match(plain, /REGRESSION/);
  assert.match(plain, /▲ \+\d/);
  assert.match(plain, /▼ −\d/);
  const lines = plain.split('\n');
  const header = lines[1];
  const col = header.indexOf('verdict');
  const rows = lines.filter((l) => /(regression|unchanged|improved|inconclusive)$/.test(l));
  assert.ok(rows.length >= 13);
  for (const r of rows) assert.equal([...r].length >= col, true);
  for (const r of rows) assert.match([...r].slice(col).join(''), /^[✗✓=?] /, r);
  const coloured = formatComparisonText(c, { color: true });
  assert.match(coloured, /\x1b\[31;1m/);
});

test('writeComparison writes comparison.json that round-trips', async () => {
  const dir = await tempDir();
  const c = compareRuns(BASELINE_DIR, BASELINE_DIR, [], { resamples: 100 });
  const p = await writeComparison(dir, c);
  assert.equal(p, join(dir, 'comparison.json'));
  assert.deepEqual(JSON.parse(await readFile(p, 'utf8')), JSON.parse(JSON.stringify(c)));
});

test('missing results folder is an argument error', () => {
  assert.throws(
    () => compareRuns('/nonexistent/preflight-run', BASELINE_DIR),
    (e: unknown) => e instanceof PreflightError && e.code === 'E_ARGS',
  );
});
