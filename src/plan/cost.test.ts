/** The `cost:` section and price files: resolved values and located problems (docs/cost.md). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parsePriceText } from './cost.js';
import { validatePlan } from './resolve.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-plan-cost-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'prices.yaml'), 'currency: USD\ninstances:\n  m: { onDemand: 1.5, spot: 0.5 }\n');

const head = `target: { url: http://127.0.0.1:8000 }
scenarios:
  s: { executor: constant-arrival-rate, rate: 10/s, duration: 2s, request: { path: /health } }
`;
const check = (text: string) => validatePlan(text, { file: path.join(dir, 'plan.yaml'), baseDir: dir });
const messages = (text: string) =>
  check(text)
    .problems.map((p) => `${path.basename(p.file ?? '')}:${p.line}: ${p.message}${p.hint ? ` | ${p.hint}` : ''}`)
    .join('\n');

describe('cost section', () => {
  it('resolves defaults; points are joined linearly around the clock; the peak defaults to the highest rate', () => {
    const r = check(`${head}cost: { prices: prices.yaml, instance: m, curve: { 22: 40/s, 2: 80/s, 12: 200/s } }\n`);
    assert.deepEqual(r.problems, []);
    const c = r.plan?.cost;
    assert.ok(c);
    assert.equal(c.headroom, 0.3);
    assert.equal(c.minReplicas, 1);
    assert.equal(c.hoursPerMonth, 730);
    assert.deepEqual(c.capacity, { fromRun: true });
    assert.equal(c.currency, 'USD');
    assert.equal(c.peakPerS, 200);
    assert.equal(c.curve?.length, 24);
    // 22 → 2 wraps midnight: 40, 50, 60, 70, 80 at hours 22, 23, 0, 1, 2
    assert.deepEqual(
      [22, 23, 0, 1, 2].map((h) => c.curve?.[h]),
      [40, 50, 60, 70, 80],
    );
    // 2 → 12: 80 + 12/h; 12 → 22: 200 − 16/h
    assert.equal(c.curve?.[7], 140);
    assert.equal(c.curve?.[17], 120);
  });

  it('takes a fixed capacity, testedReplicas and a month length', () => {
    const r = check(
      `${head}cost: { prices: prices.yaml, instance: m, peak: 100/s, capacity: 25/s, testedReplicas: 2, hoursPerMonth: 720, headroom: 10%, minReplicas: 0 }\n`,
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.plan?.cost?.capacity, { fromRun: false, perSecond: 25 });
    assert.equal(r.plan?.cost?.testedReplicas, 2);
    assert.equal(r.plan?.cost?.hoursPerMonth, 720);
    assert.equal(r.plan?.cost?.headroom, 0.1);
    assert.equal(r.plan?.cost?.minReplicas, 0);
  });

  it('locates problems: currency mismatch, a bad capacity, a curve above the peak, a single-run profile', () => {
    const m = messages(
      `${head}cost: { prices: prices.yaml, instance: m, peak: 100/s, currency: EUR, capacity: 12, curve: { 0: 50/s, 12: 150/s } }\n`,
    );
    assert.match(m, /plan\.yaml:4: the plan says currency EUR, the price file USD/);
    assert.match(m, /plan\.yaml:4: capacity: rate 12 has no unit \| add a unit, e\.g\. 12\/s/);
    assert.match(m, /plan\.yaml:4: the daily curve reaches 150\/s, above the peak 100\/s/);
    const p = messages(`target: { url: http://127.0.0.1:8000 }
profile: { type: load, rate: 10/s, steps: 1, stepDuration: 1s, hold: 1s }
scenario: { request: { path: / } }
thresholds: [ p99 < 1s ]
cost: { prices: prices.yaml, instance: m, peak: 10/s }
`);
    assert.match(p, /cost is computed from a plain run or a capacity profile; this plan is a load profile/);
  });

  it('cost thresholds need a cost section', () => {
    const m = messages(`${head}thresholds: [ cost.per_1k < 0.02 ]\n`);
    assert.match(m, /`cost\.per_1k` reads the cost section, but this plan has no `cost:`/);
  });
});

describe('price files', () => {
  it('parses instances, prices and GPUs', () => {
    const r = parsePriceText(
      'currency: EUR\ninstances:\n  a: { onDemand: 2, spot: 0.7, gpus: 4, gpu: L4 }\n',
      'p.yaml',
    );
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.prices?.instances['a'], { onDemandPerHour: 2, spotPerHour: 0.7, gpus: 4, gpu: 'L4' });
    assert.equal(r.prices?.currency, 'EUR');
  });

  it('locates problems in the price file: YAML syntax, no instances, a negative price, an unknown key', () => {
    const syntax = parsePriceText('instances:\n  a: { onDemand: 1\n', 'p.yaml');
    assert.equal(syntax.problems[0].file, 'p.yaml');
    assert.ok(syntax.problems[0].line !== undefined);
    assert.match(syntax.problems[0].message, /YAML syntax/);
    assert.match(
      parsePriceText('currency: USD\ninstances: {}\n', 'p.yaml').problems[0].message,
      /instance types|at least/,
    );
    const neg = parsePriceText('instances:\n  a: { onDemand: 1, spot: -2 }\n', 'p.yaml').problems;
    assert.equal(neg[0].line, 2);
    assert.equal(neg[0].path, 'instances.a.spot');
    const key = parsePriceText('instances:\n  a: { onDemand: 1, spott: 2 }\n', 'p.yaml').problems;
    assert.match(`${key[0].message} ${key[0].hint}`, /spot/);
  });
});
