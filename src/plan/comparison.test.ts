/**
 * `comparison:` in a plan: defaults resolved once, and every bad input a located problem with a
 * hint, all reported together by validate, before any load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan } from './resolve.js';
import { parseThresholdExpression } from './thresholds.js';

const scenario = (extra = '') => `
target: { url: http://127.0.0.1:9 }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 10/s
    duration: 5s
    protocol: kserve-v2
    model: digits
    synthetic: { distribution: uniform, low: 0, high: 16 }
${extra}`;

function problems(text: string): string[] {
  const r = validatePlan(text);
  return r.problems.map((p) => `${p.line}:${p.column} ${p.path} ${p.message}${p.hint ? ` | ${p.hint}` : ''}`);
}

test('an A/B plan resolves with its defaults: roles by position, weights 1, holm, alpha 0.05, power 0.8', () => {
  const r = validatePlan(
    scenario(`comparison:
  kind: ab
  variants:
    - { name: v1, version: v1 }
    - { name: v2, version: v2, url: http://127.0.0.1:10/ }
`),
  );
  assert.deepEqual(r.problems, []);
  const c = r.plan!.comparison!;
  assert.equal(c.scenario, 'steady', 'the only scenario');
  assert.equal(c.inconclusive, 'pass');
  assert.deepEqual(
    c.variants.map((v) => [v.name, v.role, v.weight, v.modelVersion, v.url]),
    [
      ['v1', 'control', 1, 'v1', undefined],
      ['v2', 'candidate', 1, 'v2', 'http://127.0.0.1:10'],
    ],
  );
  assert.deepEqual(c.ab, {
    correction: 'holm',
    alpha: 0.05,
    power: 0.8,
    paired: false,
    minimumEffects: { accuracy: 0.01, error_rate: 0.01 },
    sequential: false,
  });
});

test('canary and shadow defaults: Kayenta metric keys, thresholds 95/75; Diffy thresholds 20 / 0.03', () => {
  const canary = validatePlan(
    scenario(`comparison:
  kind: canary
  variants: [ { name: stable, version: v1 }, { name: canary, version: v2, weight: 0.1 } ]
  canary: { metrics: [ { metric: latency, direction: increase } ], steps: [ { share: 5%, duration: 2s }, { share: 50%, duration: 3s } ], actions: { rollback: { run: "kubectl argo rollouts abort model {{share}}" } } }
`),
  );
  assert.deepEqual(canary.problems, []);
  const cp = canary.plan!.comparison!.canary!;
  assert.equal(cp.judge, 'preflight');
  assert.deepEqual(cp.thresholds, { pass: 95, marginal: 75 });
  assert.deepEqual(
    cp.metrics.map((m) => [
      m.name,
      m.group,
      m.direction,
      m.critical,
      m.mustHaveData,
      m.effectSize.allowedIncrease,
      m.outliers.factor,
    ]),
    [['latency', 'latency', 'increase', false, false, 1, 3]],
    "Kayenta's defaults for the keys not given",
  );
  assert.equal(cp.marginalPasses, false);
  assert.equal(canary.plan!.comparison!.inconclusive, 'invalid', 'a canary without data to judge is exit 4');
  assert.deepEqual(cp.steps, [
    { share: 0.05, durationMs: 2000 },
    { share: 0.5, durationMs: 3000 },
  ]);
  assert.deepEqual(cp.actions?.rollback, {
    kind: 'command',
    argv: ['kubectl', 'argo', 'rollouts', 'abort', 'model', '${SHARE}'],
    timeoutMs: 60_000,
  });
  const bare = validatePlan(
    scenario(`comparison: { kind: canary, variants: [ { name: a }, { name: b } ], canary: { groupWeights: { errors: 60 } } }
`),
  );
  assert.deepEqual(bare.problems, []);
  assert.deepEqual(bare.plan!.comparison!.canary!.metrics, [], "none given: the judge's defaults (their groups)");
  const shadow = validatePlan(
    scenario(`comparison:
  kind: shadow
  variants: [ { name: p, version: v1 }, { name: s, version: v1 }, { name: c, version: v2 } ]
`),
  );
  assert.deepEqual(shadow.problems, []);
  const sp = shadow.plan!.comparison!.shadow!;
  assert.equal(sp.relativeThreshold, 20);
  assert.equal(sp.absoluteThreshold, 0.03);
  assert.equal(sp.allowSideEffects, false);
  assert.equal(shadow.plan!.comparison!.inconclusive, 'pass');
  assert.deepEqual(
    shadow.plan!.comparison!.variants.map((v) => v.role),
    ['primary', 'secondary', 'candidate'],
  );
});

test('every bad input is a located problem with a hint, all at once', () => {
  const ps = problems(
    scenario(`comparison:
  kind: ab
  scenario: stedy
  variants:
    - { name: v1, version: v1, weight: -1 }
    - { name: v1, version: v2 }
    - { name: v3, version: v3 }
  ab: { minimumEffects: { accurracy: 1% } }
  canary: { judge: kayenta }
`),
  );
  const text = ps.join('\n');
  assert.match(text, /comparison\.scenario unknown scenario `stedy` \| did you mean `steady`\?/);
  assert.match(text, /an A\/B test compares 2 variants \(control, candidate\), got 3/);
  assert.match(text, /weight must be at least 0/);
  assert.match(text, /variant `v1` is listed twice/);
  assert.match(text, /unknown metric `accurracy` \| did you mean `accuracy`\?/);
  assert.match(text, /`canary` options do not apply to a comparison of kind ab/);
  for (const p of ps) assert.match(p, /^\d+:\d+ /, `located: ${p}`);
});

test('shadow needs exactly primary, secondary and candidate; canary metrics and shares are checked', () => {
  const shadow = problems(
    scenario(`comparison:
  kind: shadow
  variants: [ { name: a, role: primary }, { name: b, role: primary }, { name: c, role: candidate, weight: 2 } ]
`),
  ).join('\n');
  assert.match(shadow, /a shadow needs exactly one primary variant, got 2/);
  assert.match(shadow, /a shadow needs exactly one secondary variant, got 0/);
  assert.match(shadow, /a shadow sends every request to every variant: no weights/);
  const canary = problems(
    scenario(`comparison:
  kind: canary
  variants: [ { name: a }, { name: b, weight: 0 } ]
  canary:
    metrics: [ { metric: latncy }, { metric: accuracy }, { metric: ttft } ]
    groupWeights: { latency: 80, nope: 40 }
    steps: [ { share: 0%, duration: 4s } ]
    thresholds: { pass: 70, marginal: 80 }
`),
  ).join('\n');
  assert.match(canary, /unknown metric `latncy` \| did you mean `latency`\?/);
  assert.match(canary, /`accuracy` needs `quality` \(task classification\)/);
  assert.match(canary, /`ttft` is recorded by protocol openai only/);
  assert.match(canary, /no canary metric is in group `nope`/);
  assert.match(canary, /group weights sum to 120, more than 100/);
  assert.match(canary, /a step's share is in \(0, 100%\], got 0%/);
  assert.match(canary, /the steps last 4 s in all, scenario `steady` 5 s/);
  assert.match(canary, /marginal \(80\) is above pass \(70\)/);
  assert.match(canary, /variant `b` has weight 0/);
});

test('paired needs data rows of batch 1 and equal weights; several scenarios need `scenario`; a mix cannot be compared', () => {
  const paired = problems(
    scenario(`comparison:
  kind: ab
  variants: [ { name: a }, { name: b, weight: 3 } ]
  ab: { paired: true }
`),
  ).join('\n');
  assert.match(paired, /the scenario has no `data`/);
  assert.match(paired, /the weights must be equal/);
  const two = problems(`
target: { url: http://127.0.0.1:9 }
scenarios:
  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }
  b:
    executor: constant-arrival-rate
    rate: 1/s
    duration: 1s
    protocol: kserve-v2
    mix: { models: [ { name: x, model: digits }, { name: y, model: digits } ] }
    synthetic: { distribution: uniform }
comparison: { kind: ab, variants: [ { name: p, url: http://127.0.0.1:1 }, { name: q, url: http://127.0.0.1:2 } ] }
`).join('\n');
  assert.match(two, /the plan has 2 scenarios: say which one the comparison splits/);
  const mix = problems(`
target: { url: http://127.0.0.1:9 }
scenarios:
  b:
    executor: constant-arrival-rate
    rate: 1/s
    duration: 1s
    protocol: kserve-v2
    mix: { models: [ { name: x, model: digits }, { name: y, model: digits } ] }
    synthetic: { distribution: uniform }
comparison: { kind: ab, variants: [ { name: p, version: v1 }, { name: q, version: v2 } ] }
`).join('\n');
  assert.match(mix, /has a traffic mix/);
});

test('a shadow of an unsafe http method needs allowSideEffects; GET and model protocols are mirrored', () => {
  const http = (method: string, extra = '') => `
target: { url: http://127.0.0.1:9 }
scenarios:
  s: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { method: ${method}, path: /orders } }
comparison:
  kind: shadow
  variants: [ { name: p, url: http://127.0.0.1:1 }, { name: s, url: http://127.0.0.1:2 }, { name: c, url: http://127.0.0.1:3 } ]
${extra}`;
  assert.match(problems(http('POST')).join('\n'), /POST may change state/);
  assert.deepEqual(problems(http('POST', '  shadow: { allowSideEffects: true }')), []);
  assert.deepEqual(problems(http('GET')), []);
});

test('comparison thresholds: names checked against the plan’s comparison, values in their units', () => {
  const ok = validatePlan(
    scenario(`comparison: { kind: ab, variants: [ { name: v1, version: v1 }, { name: v2, version: v2 } ] }
thresholds:
  - comparison.verdict == pass
  - ab.accuracy.diff > -0.5pp
  - ab.latency.p99.diff < 10ms
  - ab.error_rate.p < 0.05
  - steady/v2.p99 < 100ms
`),
  );
  assert.deepEqual(ok.problems, []);
  const t = ok.plan!.thresholds;
  assert.deepEqual(t[0].comparison, { section: 'comparison', field: 'verdict' });
  assert.equal(t[0].value, 3);
  assert.deepEqual(t[1].comparison, { section: 'ab', test: 'accuracy', field: 'diff' });
  assert.equal(t[1].value, -0.005);
  assert.equal(t[2].value, 10);
  assert.equal(t[4].group, 'v2', 'a variant is a group of its scenario');
  const bad = problems(
    scenario(`comparison: { kind: ab, variants: [ { name: v1, version: v1 }, { name: v2, version: v2 } ] }
thresholds:
  - canary.score >= 95
  - comparison.verdict == passed
  - ab.acuracy.diff > 0
  - ab.accuracy > 0
  - ab.latency.p99.diff < 10
  - steady/v3.p99 < 1s
`),
  ).join('\n');
  assert.match(bad, /`canary.score` is for a comparison of kind canary; this plan's is ab/);
  assert.match(bad, /one of pass, marginal, inconclusive, fail; got `passed`/);
  assert.match(bad, /unknown A\/B metric `acuracy` \| did you mean `accuracy`\?/);
  assert.match(bad, /`ab.accuracy` needs a field: diff, p, power, ci_low, ci_high/);
  assert.match(bad, /is a duration difference/);
  assert.match(bad, /scenario `steady` has no group `v3`/);
  const none = parseThresholdExpression('shadow.agreement >= 0.99', { scenarios: new Map() });
  assert.equal(none.ok, false);
  assert.match((none as { message: string }).message, /the plan has no `comparison:`/);
});

test('a comparison threshold cannot abortOnFail (judged after the run); --time-scale scales canary steps', async () => {
  const { scalePlan } = await import('./time-scale.js');
  const text = scenario(`comparison:
  kind: canary
  variants: [ { name: a }, { name: b } ]
  canary: { steps: [ { share: 10%, duration: 5s } ] }
thresholds:
  - { threshold: canary.score >= 95, abortOnFail: true }
  - { threshold: steady/b.error_rate < 5%, abortOnFail: true }
`);
  const ps = problems(text);
  assert.equal(ps.length, 1, ps.join('\n'));
  assert.match(ps[0], /a comparison is judged after the run, so it cannot abort it/);
  const plan = validatePlan(
    text.replace('abortOnFail: true }\n  - { threshold: steady', 'abortOnFail: false }\n  - { threshold: steady'),
  ).plan!;
  assert.equal(scalePlan(plan, 0.1).comparison!.canary!.steps[0].durationMs, 500);
});

test('a variant’s credentials are secrets: redacted from the resolved plan', async () => {
  const { redactPlan } = await import('./secrets.js');
  const r = validatePlan(
    scenario(`comparison:
  kind: ab
  variants:
    - { name: a, headers: { authorization: "Bearer \${TOKEN}" } }
    - { name: b, url: "http://user:\${PASS}@127.0.0.1:10" }
`),
    { env: { TOKEN: 'tok-very-secret-123', PASS: 'pw-very-secret-456' } },
  );
  assert.deepEqual(r.problems, []);
  const v = r.plan!.comparison!.variants;
  assert.equal(v[0].headers?.['authorization'], 'Bearer tok-very-secret-123');
  assert.match(v[1].headers?.['authorization'] ?? '', /^Basic /, 'URL credentials become a header');
  assert.equal(v[1].url, 'http://127.0.0.1:10');
  const out = JSON.stringify(redactPlan(r.plan!));
  assert.doesNotMatch(out, /very-secret/);
});
