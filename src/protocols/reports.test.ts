/**
 * End-of-run adapter reports: the quality hook's worst golden rows (distinct rows, largest first)
 * and mergeAdapterReports (shards, traffic-mix groups, errors, other keys), and how enrichSummary
 * puts the merged worst rows into the golden section.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScenarioSummary, Summary } from '../core/results.js';
import { createQuality } from './quality-hook.js';
import { enrichSummary, mergeAdapterReports } from './index.js';
import type { AdapterOptions } from './common.js';
import { MemoryRecorder, testPlan } from './testing/helpers.js';

describe('worst golden rows (quality hook)', () => {
  it('keeps distinct rows when the data cycles and a row differs by a little more the second time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'preflight-reports-'));
    const gfile = join(dir, 'golden.jsonl');
    writeFileSync(gfile, Array.from({ length: 10 }, (_, row) => JSON.stringify({ row, output: [0, 1] })).join('\n'));
    const plan = testPlan('http://127.0.0.1:9', {
      protocol: 'kserve-v2',
      model: 'm',
      quality: { task: 'classification', prediction: { kind: 'argmax' }, golden: { file: gfile, tolerance: 0 } },
    });
    const o: AdapterOptions = {
      scenario: plan.scenarios[0],
      plan,
      shard: { index: 0, count: 1 },
      seed: 1,
      basePath: '',
      headers: {},
    };
    const q = createQuality(o, undefined, undefined, (json) => ({ kind: 'rows', rows: json as number[][] }));
    const rec = new MemoryRecorder();
    // row r differs by (r + 1) / 100; a second pass over the rows adds a tiny jitter (as batching does)
    for (const jitter of [0, 1e-9]) {
      for (let row = 0; row < 10; row++)
        q.score({ method: 'POST', path: '/', headers: {}, row, rows: 1 }, [[(row + 1) / 100 + jitter, 1]], rec);
    }
    const worst = q.report().golden_worst;
    assert.deepEqual(
      worst.map((w) => w.row),
      [9, 8, 7, 6, 5],
    );
    assert.ok(Math.abs(worst[0].max_diff - (0.1 + 1e-9)) < 1e-12, 'the larger difference of a row is kept');
    assert.equal(rec.counters['golden.compared'], 20);
    assert.equal(rec.maxes['golden.max_diff_e6'], 100000);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('mergeAdapterReports', () => {
  it('merges shards: worst rows over all shards (a row once, its largest difference), sums, errors', () => {
    const m = mergeAdapterReports({}, [
      {
        golden_worst: [
          { row: 1, max_diff: 0.5 },
          { row: 2, max_diff: 0.2 },
        ],
        golden_saved: '/g.jsonl',
        pre_encoded_bytes: 100,
        finish_error: 'disk full',
      },
      {
        golden_worst: [
          { row: 3, max_diff: 0.7 },
          { row: 1, max_diff: 0.6 },
          { row: 4, max_diff: 0.1 },
          { row: 5, max_diff: 0.05 },
          { row: 6, max_diff: 0.01 },
        ],
        golden_saved: '/g.jsonl',
        pre_encoded_bytes: 50,
        custom: 'x',
      },
    ])!;
    assert.equal(m.shards, 2);
    assert.deepEqual(m.golden_worst, [
      { row: 3, max_diff: 0.7 },
      { row: 1, max_diff: 0.6 },
      { row: 2, max_diff: 0.2 },
      { row: 4, max_diff: 0.1 },
      { row: 5, max_diff: 0.05 },
    ]);
    assert.deepEqual(m.golden_saved, ['/g.jsonl']);
    assert.equal(m.pre_encoded_bytes, 150);
    assert.deepEqual(m.finish_errors, ['disk full']);
    assert.deepEqual(m.custom, ['x']);
    assert.equal(mergeAdapterReports({}, []), undefined);
    assert.equal(mergeAdapterReports({}, [undefined, 3]), undefined);
    assert.equal(
      mergeAdapterReports({}, [{ golden_worst: [] }])!.golden_worst,
      undefined,
      'no worst rows: nothing to show',
    );
  });

  it('traffic mix: per-model groups, and the scenario-wide worst rows tagged with their model', () => {
    const mix = {
      models: [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 1 },
      ],
    };
    const m = mergeAdapterReports({ mix }, [
      {
        a: { golden_worst: [{ row: 1, max_diff: 0.1 }], pre_encoded_bytes: 10 },
        b: { golden_worst: [{ row: 1, max_diff: 0.9 }], pre_encoded_bytes: 20 },
      },
      {
        a: { golden_worst: [{ row: 2, max_diff: 0.3 }], pre_encoded_bytes: 10 },
        b: { golden_worst: [], pre_encoded_bytes: 20 },
        finish_error: 'x',
      },
    ])!;
    assert.deepEqual(m.groups!.a.golden_worst, [
      { row: 2, max_diff: 0.3 },
      { row: 1, max_diff: 0.1 },
    ]);
    assert.deepEqual(m.groups!.b.golden_worst, [{ row: 1, max_diff: 0.9 }]);
    assert.deepEqual(m.golden_worst, [
      { row: 1, max_diff: 0.9, group: 'b' },
      { row: 2, max_diff: 0.3, group: 'a' },
      { row: 1, max_diff: 0.1, group: 'a' },
    ]);
    assert.equal(m.pre_encoded_bytes, 60);
    assert.deepEqual(m.finish_errors, ['x']);
    assert.equal(m.a, undefined, 'model sub-reports only under groups');
  });

  it('enrichSummary puts the worst rows into the golden section (empty when every row agreed)', () => {
    const base = (extra: Partial<ScenarioSummary>): ScenarioSummary =>
      ({
        requests: 10,
        ok: 10,
        errors: {},
        durationS: 1,
        counters: { 'golden.compared': 10, 'golden.agree': 8 },
        maxes: { 'golden.max_diff_e6': 700000 },
        histograms: {},
        ...extra,
      }) as unknown as ScenarioSummary;
    const s = base({ adapter: { shards: 1, golden_worst: [{ row: 3, max_diff: 0.7 }] } });
    const agreed = base({ adapter: { shards: 1 } });
    const plan = testPlan('http://127.0.0.1:9', { protocol: 'kserve-v2', model: 'm' });
    const summary = { scenarios: { test: s, other: agreed } } as unknown as Summary;
    enrichSummary(plan, summary);
    assert.deepEqual((s.golden as { worst: unknown }).worst, [{ row: 3, max_diff: 0.7 }]);
    assert.equal((s.golden as { max_diff: number }).max_diff, 0.7);
    assert.deepEqual((agreed.golden as { worst: unknown }).worst, []);
  });
});
