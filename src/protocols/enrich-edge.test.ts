/**
 * enrichSummary on edge cases: every request failed, failures of scenarios that do not score,
 * regression tasks, and goodput when no request met its SLO.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ScenarioSummary, Summary } from '../core/results.js';
import type { ScenarioCommon } from '../plan/types.js';
import { enrichSummary } from './index.js';
import { testPlan } from './testing/helpers.js';

function scen(counters: Record<string, number>, extra: Partial<ScenarioSummary> = {}): ScenarioSummary {
  return {
    durationS: 10,
    requests: 100,
    ok: 100,
    errors: {},
    error_rate: 0,
    throughput: 10,
    histograms: {},
    counters,
    ...extra,
  } as unknown as ScenarioSummary;
}

function plan(scenarios: Array<Partial<ScenarioCommon> & { name: string }>): ReturnType<typeof testPlan> {
  const p = testPlan('http://127.0.0.1:1', { protocol: 'kserve-v2' });
  p.scenarios = scenarios.map((s) => ({ ...p.scenarios[0], ...s }));
  return p;
}

const classification = { task: 'classification' as const, prediction: { kind: 'argmax' as const } };

describe('enrichSummary edge cases', () => {
  it('rows scored again do not narrow the accuracy interval: n is capped at the distinct rows', () => {
    const p = plan([{ name: 'steady', quality: classification }]);
    // 539 distinct rows, each scored 100 times: 53,100 of 53,900 correct (98.5%).
    const repeated = scen(
      { 'quality.requests': 53_900, 'quality.rows': 53_900, 'quality.scored': 53_900, 'quality.correct': 53_100 },
      { maxes: { 'quality.dataset_rows': 539 } } as Partial<ScenarioSummary>,
    );
    const once = scen({ 'quality.requests': 539, 'quality.rows': 539, 'quality.scored': 539, 'quality.correct': 531 }, {
      maxes: { 'quality.dataset_rows': 539 },
    } as Partial<ScenarioSummary>);
    const summary = { scenarios: { repeated, once } } as unknown as Summary;
    enrichSummary(p, summary);
    const q = (s: ScenarioSummary) => s.quality as { accuracy: number; ci95: [number, number]; ci_n: number };
    assert.equal(q(repeated).ci_n, 539);
    assert.equal(q(once).ci_n, 539);
    const width = (s: ScenarioSummary) => q(s).ci95[1] - q(s).ci95[0];
    assert.ok(
      width(repeated) > 0.015,
      `interval ${q(repeated).ci95} is as wide as 539 answers give (±~1 point), not 53,900`,
    );
    assert.ok(Math.abs(width(repeated) - width(once)) < 0.002);
    // Fewer answers than rows: n is the answers.
    const few = scen({ 'quality.requests': 100, 'quality.rows': 100, 'quality.scored': 100, 'quality.correct': 98 }, {
      maxes: { 'quality.dataset_rows': 539 },
    } as Partial<ScenarioSummary>);
    enrichSummary(p, { scenarios: { steady: few } } as unknown as Summary);
    assert.equal(q(few).ci_n, 100);
  });

  it('every request failed: effective accuracy is 0, not missing', () => {
    const p = plan([{ name: 'steady', quality: classification }]);
    const s = scen({}, { requests: 50, ok: 0, errors: { timeout: 50 }, error_rate: 1 });
    const summary = { scenarios: { steady: s } } as unknown as Summary;
    enrichSummary(p, summary);
    assert.equal(s.effective_accuracy, 0);
    assert.equal((s.quality as { failed_requests: number }).failed_requests, 50);
    assert.equal(s.accuracy, undefined);
  });

  it('total effective accuracy ignores failures of scenarios that do not score', () => {
    const p = plan([
      { name: 'steady', quality: classification },
      { name: 'health', protocol: 'http' },
    ]);
    const steady = scen({ 'quality.requests': 100, 'quality.rows': 100, 'quality.scored': 100, 'quality.correct': 90 });
    const health = scen({}, { requests: 100, ok: 0, errors: { http_5xx: 100 }, error_rate: 1 });
    const total = scen(
      { 'quality.requests': 100, 'quality.rows': 100, 'quality.scored': 100, 'quality.correct': 90 },
      { requests: 200, ok: 100, errors: { http_5xx: 100 } },
    );
    const summary = { scenarios: { steady, health }, total } as unknown as Summary;
    enrichSummary(p, summary);
    assert.equal(steady.effective_accuracy, 0.9);
    assert.equal(total.effective_accuracy, 0.9);
  });

  it('a regression task gets no accuracy drop (there is no accuracy)', () => {
    const regression = { task: 'regression' as const, prediction: { kind: 'argmax' as const } };
    const p = plan([
      { name: 'light', quality: regression },
      { name: 'heavy', quality: { ...regression, reference: 'light' } },
    ]);
    const light = scen({
      'quality.requests': 100,
      'quality.rows': 100,
      'quality.scored': 100,
      'quality.abs_err_sum': 10,
      'quality.sq_err_sum': 2,
    });
    const heavy = scen({
      'quality.requests': 100,
      'quality.rows': 100,
      'quality.scored': 100,
      'quality.abs_err_sum': 90,
      'quality.sq_err_sum': 200,
    });
    const summary = { scenarios: { light, heavy } } as unknown as Summary;
    enrichSummary(p, summary);
    assert.equal(heavy.mae, 0.9);
    assert.equal(heavy.accuracy_drop, undefined);
    assert.equal((heavy.quality as { accuracy_drop?: unknown }).accuracy_drop, undefined);
  });

  it('goodput of the total is 0 (not missing) when SLOs were evaluated and none was met', () => {
    const p = plan([
      { name: 'chat', protocol: 'openai', openai: { endpoint: 'chat', stream: true, slo: { ttft: 100 } } },
    ]);
    const counters = { 'goodput.evaluated': 100, tokens_out: 1000, content_chunks: 1000 };
    const chat = scen({ ...counters });
    const total = scen({ ...counters });
    const summary = { scenarios: { chat }, total } as unknown as Summary;
    enrichSummary(p, summary);
    assert.equal(chat.goodput, 0);
    assert.equal(total.goodput, 0);
  });
});
