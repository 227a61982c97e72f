import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../core/exit-codes.js';
import type { DurationStats, ScenarioSummary, Summary, ThresholdResult } from '../core/results.js';
import type { ThresholdPlan } from '../plan/types.js';
import type { ScenarioFacts, ThresholdContext } from '../plan/thresholds.js';
import { decideOutcome, evaluateLive, evaluateThresholds, parseThresholdExpression } from './index.js';

const facts = (entries: Array<[string, ScenarioFacts]>): ThresholdContext => ({ scenarios: new Map(entries) });
const CTX = facts([
  [
    'steady',
    {
      protocol: 'kserve-v2',
      groups: ['digits-v1', 'digits-v2', 'llama-3.1-8b'],
      quality: { task: 'classification', golden: true, reference: true },
    },
  ],
  ['users', { protocol: 'http' }],
  ['chat', { protocol: 'openai' }],
  ['reg', { protocol: 'tfserving', quality: { task: 'regression', golden: false, reference: false } }],
]);

test('threshold parsing: valid expressions', () => {
  const table: Array<[string, Partial<ThresholdPlan>]> = [
    ['p99 < 250ms', { metric: 'latency', stat: 'p99', op: '<', value: 250 }],
    ['p99<250ms', { metric: 'latency', stat: 'p99', op: '<', value: 250 }],
    ['latency.p99.9 <= 1s', { metric: 'latency', stat: 'p99.9', op: '<=', value: 1000 }],
    ['latency.p999 <= 1s', { metric: 'latency', stat: 'p99.9', op: '<=', value: 1000 }],
    ['service_time.p50 < 40ms', { metric: 'service_time', stat: 'p50', value: 40 }],
    ['ttfb.max < 250us', { metric: 'ttfb', stat: 'max', value: 0.25 }],
    ['steady.error_rate < 1%', { scenario: 'steady', metric: 'error_rate', value: 0.01 }],
    ['error_rate <= 0.005', { metric: 'error_rate', op: '<=', value: 0.005 }],
    ['throughput >= 150/s', { metric: 'throughput', op: '>=', value: 150 }],
    ['throughput >= 12k/m', { metric: 'throughput', value: 200 }],
    ['accuracy >= 0.95', { metric: 'accuracy', value: 0.95 }],
    ['accuracy >= 95%', { metric: 'accuracy', value: 0.95 }],
    ['accuracy_drop <= 0.01', { metric: 'accuracy_drop', value: 0.01 }],
    ['agreement >= 0.99', { metric: 'agreement', value: 0.99 }],
    ['ttft.p95 < 500ms', { metric: 'ttft', stat: 'p95', value: 500 }],
    ['chat.tpot.p99 < 50ms', { scenario: 'chat', metric: 'tpot', stat: 'p99', value: 50 }],
    ['goodput >= 20/s', { metric: 'goodput', value: 20 }],
    ['steady/digits-v2.accuracy >= 0.9', { scenario: 'steady', group: 'digits-v2', metric: 'accuracy', value: 0.9 }],
    [
      'steady/llama-3.1-8b.p99 < 2s',
      { scenario: 'steady', group: 'llama-3.1-8b', metric: 'latency', stat: 'p99', value: 2000 },
    ],
    ['generator_overloaded == false', { metric: 'generator_overloaded', op: '==', value: 0 }],
    ['generator_overloaded != true', { metric: 'generator_overloaded', op: '!=', value: 1 }],
    ['requests >= 1000', { metric: 'requests', op: '>=', value: 1000 }],
    ['errors.timeout == 0', { metric: 'errors', stat: 'timeout', op: '==', value: 0 }],
    ['users.errors < 10', { scenario: 'users', metric: 'errors', value: 10 }],
    ['reg.rmse < 0.5', { scenario: 'reg', metric: 'rmse', value: 0.5 }],
    [
      '  steady.mean > 1ms  ',
      { scenario: 'steady', metric: 'latency', stat: 'mean', op: '>', value: 1, expression: 'steady.mean > 1ms' },
    ],
  ];
  for (const [expr, want] of table) {
    const r = parseThresholdExpression(expr, CTX);
    assert.ok(r.ok, `${expr}: ${r.ok ? '' : `${r.message} / ${r.hint}`}`);
    const got = r.threshold;
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof typeof got], v, `${expr} → ${k}`);
    if (!('scenario' in want)) assert.equal(got.scenario, undefined, expr);
    if (!('expression' in want)) assert.equal(got.expression, expr.trim());
  }
});

test('threshold parsing: mistakes, with hints', () => {
  const table: Array<[string, RegExp, RegExp | undefined]> = [
    ['p99 < 250', /duration `250` has no unit/, /add a unit, e\.g\. 250ms/],
    ['p99 = 250ms', /unknown comparison `=`/, /write ==/],
    ['p99 => 250ms', /unknown comparison `=>`/, /write >=/],
    ['p99 250ms', /has no comparison/, undefined],
    ['latency < 250ms', /needs a statistic/, /latency\.p99/],
    ['latency.p75 < 1s', /unknown statistic `p75`/, undefined],
    ['latncy.p99 < 1s', /neither a scenario of this plan nor a metric/, /did you mean `latency`\?/],
    ['stedy.p99 < 1s', /neither a scenario of this plan nor a metric/, /did you mean `steady`\?/],
    ['thruput >= 1/s', /unknown metric `thruput`/, undefined],
    ['troughput >= 1/s', /unknown metric `troughput`/, /did you mean `throughput`\?/],
    ['nope/g.p99 < 1s', /unknown scenario `nope`/, undefined],
    ['steady/digits-v3.accuracy >= 0.9', /no group `digits-v3`/, /did you mean `digits-v[12]`\?/],
    ['users/x.p99 < 1s', /has no groups/, undefined],
    ['throughput >= 150', /rate `150` has no unit/, /150\/s/],
    ['throughput >= 150/sec', /is a rate/, /150\/s/],
    ['error_rate < 5', /fraction from 0 to 1/, /5%/],
    ['error_rate < 1ms', /is a fraction/, undefined],
    ['p99 < 5%', /is a duration/, undefined],
    ['requests >= 1k', /plain number/, undefined],
    ['errors.timout == 0', /unknown error class `timout`/, /did you mean `timeout`\?/],
    ['throughput.p99 >= 1/s', /single value and has no statistic/, undefined],
    ['generator_overloaded < true', /compare it with == or !=/, undefined],
    ['generator_overloaded == no', /true or false/, undefined],
    ['steady.generator_overloaded == false', /whole run/, undefined],
    ['users.ttft.p95 < 1s', /protocol openai only; scenario `users` uses http/, undefined],
    ['users.accuracy >= 0.9', /needs `quality`/, undefined],
    ['reg.accuracy >= 0.9', /for classification/, undefined],
    ['chat.agreement >= 0.9', /needs `quality.golden`/, undefined],
    ['p99 < 250 ms', /contains spaces/, /250ms/],
    ['', /empty/, undefined],
  ];
  for (const [expr, message, hint] of table) {
    const r = parseThresholdExpression(expr, CTX);
    assert.equal(r.ok, false, expr);
    if (r.ok) continue;
    assert.match(r.message, message, expr);
    if (hint) assert.match(r.hint ?? '', hint, `${expr} hint: ${r.hint}`);
  }
  const none = facts([['a', { protocol: 'http' }]]);
  const r = parseThresholdExpression('ttft.p95 < 1s', none);
  assert.ok(!r.ok && /no scenario of this plan records `ttft`/.test(r.message) && /protocol openai/.test(r.hint ?? ''));
  // Without a context, any unknown first segment is a scenario name.
  const free = parseThresholdExpression('whatever.p99 < 1s');
  assert.ok(free.ok && free.threshold.scenario === 'whatever');
});

function stats(p99: number, count = 100): DurationStats {
  return {
    count,
    min: p99 / 10,
    mean: p99 / 3,
    p50: p99 / 4,
    p90: p99 / 2,
    p95: p99 * 0.8,
    p99,
    p999: p99 * 1.5,
    max: p99 * 2,
  };
}

function scenario(over: Partial<ScenarioSummary> = {}): ScenarioSummary {
  return {
    executor: 'constant-arrival-rate',
    protocol: 'kserve-v2',
    model: 'open',
    durationS: 30,
    requests: 6000,
    ok: 5990,
    errors: { timeout: 4, http_5xx: 6 },
    error_rate: 10 / 6000,
    throughput: 199.7,
    late: 0,
    unsent: 0,
    cancelled: 0,
    bytes_in: 1,
    bytes_out: 1,
    latency_ms: stats(200),
    service_time_ms: stats(30),
    ttfb_ms: stats(25),
    dispatch_lag_ms: stats(1),
    histograms: {},
    counters: { 'quality.correct': 5700 },
    ...over,
  };
}

function summary(): Summary {
  const steady = scenario({
    accuracy: 0.97,
    quality: {
      task: 'classification',
      accuracy: 0.97,
      accuracy_drop: { reference: 'light', value: 0.004, ci95: [0, 0.01] },
    },
    agreement: 0.995,
    groups: { 'digits-v2': scenario({ accuracy: 0.88, latency_ms: stats(300) }) },
  });
  const chat = scenario({
    protocol: 'openai',
    histograms: { ttft_ms: stats(400), tpot_ms: stats(60) },
    generation: { goodput: 21.5, tokens_per_s: 900 },
    goodput: 21.5,
  });
  const empty = scenario({ requests: 0, ok: 0, errors: {}, error_rate: 0, throughput: 0, latency_ms: stats(0, 0) });
  return {
    format: 'preflight-summary/1',
    tool: { name: 'preflight', version: '0', node: 'v20' },
    machine: { platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'x', memoryGiB: 4 },
    plan: 'plan.yaml',
    startedAt: '',
    endedAt: '',
    durationS: 30,
    status: 'completed',
    verdict: 'passed',
    exitCode: 0,
    thresholds: [],
    warnings: [],
    generator: {
      overloaded: false,
      workers: 1,
      http_client: 'builtin',
      dispatch_lag_ms: { p50: 0, p99: 1, max: 2 },
      event_loop_delay_ms: { p50: 0, p99: 1, max: 2 },
      cpu_percent: { mean: 10, max: 20 },
      reasons: [],
    },
    total: scenario({ latency_ms: stats(240), throughput: 350 }),
    scenarios: { steady, chat, empty },
  };
}

const free = (expr: string, extra: Partial<ThresholdPlan> = {}): ThresholdPlan => {
  const r = parseThresholdExpression(expr);
  if (!r.ok) throw new Error(`${expr}: ${r.message}`);
  return { ...r.threshold, abortOnFail: false, delayAbortEvalMs: 0, ...extra };
};

test('evaluation against a hand-made Summary', () => {
  const s = summary();
  const table: Array<[string, number | null, boolean, RegExp?]> = [
    ['p99 < 250ms', 240, true],
    ['p99 < 200ms', 240, false],
    ['latency.p99.9 <= 1s', 360, true],
    ['steady.p99 < 250ms', 200, true],
    ['steady.service_time.p50 < 40ms', 7.5, true],
    ['steady.ttfb.max < 40ms', 50, false],
    ['steady.error_rate < 1%', 10 / 6000, true],
    ['throughput >= 150/s', 350, true],
    ['steady.throughput >= 250/s', 199.7, false],
    ['steady.requests >= 1000', 6000, true],
    ['steady.errors.timeout == 0', 4, false],
    ['steady.errors.dns == 0', 0, true],
    ['steady.errors < 20', 10, true],
    ['steady.accuracy >= 0.95', 0.97, true],
    ['steady.accuracy_drop <= 0.01', 0.004, true],
    ['steady.agreement >= 0.99', 0.995, true],
    ['steady/digits-v2.accuracy >= 0.9', 0.88, false],
    ['steady/digits-v2.p99 < 250ms', 300, false],
    ['chat.ttft.p95 < 500ms', 320, true],
    ['chat.tpot.p99 < 50ms', 60, false],
    ['chat.goodput >= 20/s', 21.5, true],
    ['chat.tokens_per_s >= 1000/s', 900, false],
    ['generator_overloaded == false', 0, true],
    ['empty.p99 < 1s', null, false, /no completed requests/],
    ['empty.error_rate < 1%', null, false, /no requests/],
    ['missing.p99 < 1s', null, false, /no results for scenario missing/],
    ['steady/nope.p99 < 1s', null, false, /no results for group nope/],
    ['chat.accuracy >= 0.9', null, false, /not recorded/],
    ['steady.itl.p99 < 1s', null, false, /no itl recorded/],
  ];
  const results = evaluateThresholds(
    table.map(([e]) => free(e)),
    s,
  );
  table.forEach(([expr, value, ok, note], i) => {
    const r = results[i];
    assert.equal(r.expression, expr);
    if (value === null) assert.equal(r.value, null, expr);
    else assert.ok(r.value !== null && Math.abs(r.value - value) < 1e-9, `${expr}: ${r.value} ≠ ${value}`);
    assert.equal(r.ok, ok, expr);
    if (note) assert.match(r.note ?? '', note, expr);
  });
  assert.equal(results[3].scenario, 'steady');
  const overloaded = { ...s, generator: { ...s.generator, overloaded: true } };
  assert.equal(evaluateThresholds([free('generator_overloaded == false')], overloaded)[0].ok, false);
});

test('one outcome decider: precedence interrupted > failed (thresholds or profile answer) > invalid > passed', () => {
  const pass: ThresholdResult[] = [{ expression: 'p99 < 1s', value: 1, ok: true }];
  const fail: ThresholdResult[] = [
    { expression: 'p99 < 1s', value: 2000, ok: false },
    { expression: 'x', value: null, ok: false, note: 'no requests' },
  ];
  const base = summary();
  const of = (thresholds: ThresholdResult[], more: Partial<Summary> = {}) => ({
    ...base,
    status: 'completed' as const,
    thresholds,
    ...more,
  });
  const overloaded = { generator: { ...base.generator, overloaded: true } };
  const deadWorker = { generator: { ...base.generator, worker_failures: ['worker 2 of 2 died mid-run'] } };
  assert.deepEqual(decideOutcome(of(pass)), { verdict: 'passed', exitCode: ExitCode.Passed, reasons: [] });
  assert.deepEqual(decideOutcome(of([])), { verdict: 'passed', exitCode: ExitCode.Passed, reasons: [] });
  const f = decideOutcome(of(fail));
  assert.equal(f.verdict, 'failed');
  assert.equal(f.exitCode, ExitCode.ThresholdsFailed);
  assert.deepEqual(f.reasons, ['p99 < 1s: measured 2000', 'x: no requests']);
  assert.equal(decideOutcome(of(pass, overloaded)).exitCode, ExitCode.RunInvalid);
  assert.equal(decideOutcome(of(pass, overloaded)).verdict, 'invalid');
  assert.deepEqual(decideOutcome(of(pass, deadWorker)).reasons, ['worker 2 of 2 died mid-run']);
  assert.equal(decideOutcome(of(pass, deadWorker)).exitCode, ExitCode.RunInvalid);
  assert.equal(decideOutcome(of(fail, overloaded)).verdict, 'failed');
  assert.equal(decideOutcome(of(pass), { profileFailed: true }).exitCode, ExitCode.ThresholdsFailed);
  assert.equal(decideOutcome(of(fail, { ...overloaded, status: 'interrupted' })).verdict, 'interrupted');
  assert.equal(decideOutcome(of(pass, { status: 'interrupted' })).exitCode, ExitCode.Interrupted);
});

test('live evaluation: only failing abortOnFail thresholds past their delay, never for missing data', () => {
  const s = summary();
  const thresholds = [
    free('steady.p99 < 100ms', { abortOnFail: true, delayAbortEvalMs: 10_000 }),
    free('steady.error_rate < 0.1%', { abortOnFail: true }),
    free('throughput >= 1000/s'), // fails, but not abortOnFail
    free('empty.p99 < 1ms', { abortOnFail: true }), // no data yet
    free('steady.accuracy >= 0.9', { abortOnFail: true }), // passes
  ];
  const early = evaluateLive(thresholds, s, 5_000);
  assert.deepEqual(
    early.map((f) => f.expression),
    ['steady.error_rate < 0.1%'],
  );
  assert.equal(early[0].threshold, thresholds[1]);
  const later = evaluateLive(thresholds, s, 10_000);
  assert.deepEqual(
    later.map((f) => f.expression),
    ['steady.p99 < 100ms', 'steady.error_rate < 0.1%'],
  );
  assert.equal(later[0].value, 200);
  // Without elapsedMs the summary's durationS (30 s) is the clock.
  assert.equal(evaluateLive(thresholds, s).length, 2);
  assert.equal(evaluateLive(thresholds, { total: s.total, scenarios: s.scenarios }).length, 1);
});
