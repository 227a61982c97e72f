/**
 * The release comparison in every report: terminal-style view, summary.md, report.html and
 * junit.xml show the verdict, each test's estimate, CI, p, adjusted p, power and outcome, and the
 * variants side by side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComparisonSummary } from '../core/comparison.js';
import { abComparison } from '../core/test-comparison.js';
import type { Summary } from '../core/results.js';
import { renderHtmlReport } from './html.js';
import { renderJUnit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { releaseView } from './release-view.js';
import { loadResultsSync } from './load.js';
import { CANDIDATE_DIR } from './test-support.js';

const comparison: ComparisonSummary = {
  ...abComparison({
    candidate: 21,
    estimate: 1,
    ci: [-2, 4],
    pValue: 0.41,
    adjustedPValue: 0.41,
    power: 0.5,
    outcome: 'inconclusive',
  }),
  variants: [
    { name: 'v1', role: 'control' },
    { name: 'v2', role: 'candidate' },
  ],
  paired: { bothCorrect: 450, controlOnly: 35, candidateOnly: 3, neither: 5, unpaired: 2 },
};

function summaryWith(): Summary {
  const s = structuredClone(loadResultsSync(CANDIDATE_DIR).summary) as Summary;
  const name = Object.keys(s.scenarios)[0];
  const sc = s.scenarios[name];
  s.scenarios[name] = { ...sc, groups: { v1: sc, v2: sc } };
  s.comparison = { ...comparison, scenario: name };
  return s;
}

test('the view: title, verdict, reasons, a row per test with its statistics, paired counts, variants side by side', () => {
  const v = releaseView(summaryWith())!;
  assert.match(v.title, /^A\/B test of v2 \(candidate\) against v1 \(control\)/);
  assert.equal(v.verdict, 'fail');
  const tests = v.tables.find((t) => t.title === 'Tests')!;
  assert.deepEqual(tests.head, [
    'metric',
    'method',
    'control',
    'candidate',
    'effect',
    'CI',
    'p',
    'adj. p',
    'power',
    'outcome',
  ]);
  assert.deepEqual(tests.rows[0].slice(0, 5), ['accuracy', 'mcnemar-exact', '98.5%', '92%', '−6.5 pp']);
  assert.equal(tests.rows[0][6], '<0.001');
  assert.equal(tests.rows[1][4], '+1 ms');
  assert.match(v.facts.join('\n'), /only v1 right 35, only v2 right 3/);
  const variants = v.tables.find((t) => t.title.startsWith('Variants'))!;
  assert.deepEqual(
    variants.rows.map((r) => r.slice(0, 2)),
    [
      ['v1', 'control'],
      ['v2', 'candidate'],
    ],
  );
  assert.equal(releaseView({ scenarios: {} }), null, 'no comparison, no section');
});

test('summary.md, report.html and junit.xml show the comparison', () => {
  const s = summaryWith();
  const md = renderMarkdown(s);
  assert.match(md, /### A\/B test of v2 \(candidate\) against v1 \(control\).*❌ fail/);
  assert.match(md, /\| accuracy \| mcnemar-exact \| 98\.5% \| 92% \| −6\.5 pp \|/);
  const html = renderHtmlReport({ ...loadResultsSync(CANDIDATE_DIR), summary: s });
  assert.match(html, /<section id="release"/);
  assert.match(html, /mcnemar-exact/);
  assert.match(html, /accuracy is worse/);
  const xml = renderJUnit(s);
  assert.match(xml, /<testsuite name="[^"]*\.release" tests="3" failures="2"/);
  assert.match(xml, /ComparisonFailed/);
  assert.match(xml, /CandidateWorse/);
});

test('canary: the metrics table leaves the numbers to the tests table (a note only without a test); shadow ml figures in words', () => {
  const s = summaryWith();
  const accuracy = comparison.ab!.tests.find((t) => t.metric === 'accuracy') ?? comparison.ab!.tests[0];
  s.comparison = {
    ...s.comparison!,
    kind: 'canary',
    ab: undefined,
    canary: {
      judge: 'preflight',
      score: 0,
      thresholds: { pass: 95, marginal: 75 },
      classification: 'fail',
      groups: { quality: { score: 0, weight: 100 } },
      metrics: [
        {
          name: 'accuracy',
          group: 'quality',
          direction: 'decrease',
          critical: true,
          classification: 'Low',
          failed: false,
          reason: 'critical: accuracy lower: 98.5% → 92% (−6.5 pp, 98% CI −8.3 pp to −4.9 pp), p < 0.001.',
          controlCount: 1000,
          experimentCount: 1000,
          tests: [accuracy],
        },
        {
          name: 'error_rate',
          group: 'errors',
          direction: 'increase',
          critical: false,
          classification: 'NoData',
          failed: true,
          reason: 'error_rate: no requests in experiment',
          controlCount: 1000,
          experimentCount: 0,
          tests: [],
        },
      ],
    },
  };
  const v = releaseView(s)!;
  const m = v.tables.find((t) => t.title === 'Canary metrics')!;
  assert.equal(m.head.at(-1), 'note');
  assert.deepEqual(
    m.rows.map((r) => r.at(-1)),
    ['', 'error_rate: no requests in experiment'],
  );
  assert.ok(
    v.tables.find((t) => t.title === 'Canary tests'),
    'the numbers',
  );

  s.comparison = {
    ...s.comparison,
    kind: 'shadow',
    canary: undefined,
    shadow: {
      compared: 1000,
      agreement: 0.924,
      fields: [],
      ml: {
        identicalResponses: 0,
        labelAgreement: 0.924,
        jsDivergence: 0.0123,
        scoreLengthMismatches: 2,
        somethingNew: 1.5,
      },
    },
  };
  const facts = releaseView(s)!.facts.join('\n');
  assert.match(
    facts,
    /identical responses 0%, label agreement 92\.4%, Jensen–Shannon divergence 0\.0123, score lists of different length 2, somethingNew 1\.5/,
  );
  assert.doesNotMatch(facts, /identicalResponses|labelAgreement/);
});
