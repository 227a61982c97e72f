import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PlanError, PreflightError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
import { checkPlanFile, loadPlan, parsePlan, validatePlan, validatePlanFile } from './index.js';
import type { Plan } from './index.js';

const EXAMPLE = `target:
  url: http://127.0.0.1:8080
  headers: { authorization: "Bearer \${MODEL_TOKEN}" }   # env interpolation; value never echoed
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 200/s
    duration: 30s
    request: { method: POST, path: /v2/models/digits/infer, body: '{"inputs":[]}' }
  users:
    executor: ramping-concurrency
    stages: [ { duration: 10s, target: 16 }, { duration: 20s, target: 16 } ]
    startTime: 30s
    request: { method: GET, path: /health }
thresholds:
  - p99 < 250ms
  - steady.error_rate < 1%
  - throughput >= 150/s
`;

const TOKEN = 'tok-Zq81-secret';
const env = { MODEL_TOKEN: TOKEN };

const EXPECTED: Plan = {
  source: 'plan.yaml',
  target: {
    url: 'http://127.0.0.1:8080',
    headers: { authorization: `Bearer ${TOKEN}` },
    timeoutMs: 30_000,
    connectTimeoutMs: 10_000,
    client: 'auto',
    tls: { insecure: false },
    readyPath: null,
    readyTimeoutMs: 30_000,
  },
  scenarios: [
    {
      name: 'steady',
      executor: 'constant-arrival-rate',
      protocol: 'http',
      startTimeMs: 0,
      durationMs: 30_000,
      gracefulStopMs: 10_000,
      rate: 200,
      arrival: 'uniform',
      request: { method: 'POST', path: '/v2/models/digits/infer', headers: {}, body: '{"inputs":[]}' },
      checks: [],
      tags: {},
    },
    {
      name: 'users',
      executor: 'ramping-concurrency',
      protocol: 'http',
      startTimeMs: 30_000,
      durationMs: 30_000,
      gracefulStopMs: 10_000,
      arrival: 'uniform',
      startConcurrency: 0,
      stages: [
        { durationMs: 10_000, target: 16 },
        { durationMs: 20_000, target: 16 },
      ],
      request: { method: 'GET', path: '/health', headers: {} },
      checks: [],
      tags: {},
    },
  ],
  thresholds: [
    {
      expression: 'p99 < 250ms',
      metric: 'latency',
      stat: 'p99',
      op: '<',
      value: 250,
      abortOnFail: false,
      delayAbortEvalMs: 0,
    },
    {
      expression: 'steady.error_rate < 1%',
      scenario: 'steady',
      metric: 'error_rate',
      op: '<',
      value: 0.01,
      abortOnFail: false,
      delayAbortEvalMs: 0,
    },
    {
      expression: 'throughput >= 150/s',
      metric: 'throughput',
      op: '>=',
      value: 150,
      abortOnFail: false,
      delayAbortEvalMs: 0,
    },
  ],
  options: { workers: 1, seed: 1, intervalMs: 1000, maxDispatchLagMs: 50 },
  secrets: [TOKEN],
};

function problemsOf(text: string, opts: Parameters<typeof validatePlan>[1] = {}): Problem[] {
  return validatePlan(text, { file: 'plan.yaml', env: {}, ...opts }).problems;
}

/** A minimal valid scenario body, to test one rule at a time. */
const HEAD = 'target: { url: "http://127.0.0.1:8080" }\nscenarios:\n';

test('the example plan parses to the expected Plan', () => {
  const plan = parsePlan(EXAMPLE, { file: 'plan.yaml', env });
  assert.deepEqual(plan, EXPECTED);
});

test('the same plan written as JSON parses to the same Plan', () => {
  const json = JSON.stringify(parseYaml(EXAMPLE), null, '\t');
  const plan = parsePlan(json, { file: 'plan.yaml', env });
  assert.deepEqual(plan, EXPECTED);
});

const BROKEN = `target:
  url: http://127.0.0.1:8080
  headers: { authorization: "Bearer \${MISSING_TOKEN}" }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 200/sec
    durtion: 30s
    request: { method: POST, path: /infer }
  users:
    executor: constant-vus
    vus: 10
    duration: 30
    request: { method: GET }
thresholds:
  - p99 < 250ms
`;

test('a broken plan reports every mistake at once, each at its line:column', () => {
  let err: unknown;
  try {
    parsePlan(BROKEN, { file: 'broken.yaml', env: {} });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof PlanError);
  assert.equal(err.code, 'E_PLAN_INVALID');
  const ps = err.problems;
  const expected: Array<{ line: number; column: number; path: string; message: RegExp; hint?: RegExp }> = [
    {
      line: 3,
      column: 29,
      path: 'target.headers.authorization',
      message: /environment variable `MISSING_TOKEN` is not set/,
      hint: /MISSING_TOKEN/,
    },
    {
      line: 7,
      column: 11,
      path: 'scenarios.steady.rate',
      message: /`200\/sec` is not a valid rate/,
      hint: /write 200\/s/,
    },
    {
      line: 8,
      column: 5,
      path: 'scenarios.steady.durtion',
      message: /unknown key `durtion`/,
      hint: /did you mean `duration`\?/,
    },
    {
      line: 11,
      column: 15,
      path: 'scenarios.users.executor',
      message: /unknown value `constant-vus`/,
      hint: /constant-concurrency/,
    },
    { line: 13, column: 15, path: 'scenarios.users.duration', message: /has no unit/, hint: /add a unit, e\.g\. 30s/ },
    { line: 14, column: 5, path: 'scenarios.users.request.path', message: /request is missing `path`/ },
  ];
  assert.equal(ps.length, expected.length, ps.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n'));
  expected.forEach((e, i) => {
    const p = ps[i];
    assert.equal(p.file, 'broken.yaml');
    assert.equal(p.line, e.line, `${e.path} line`);
    assert.equal(p.column, e.column, `${e.path} column`);
    assert.equal(p.path, e.path);
    assert.match(p.message, e.message);
    if (e.hint) assert.match(p.hint ?? '', e.hint);
  });
});

test('YAML syntax errors have a line and column', () => {
  const ps = problemsOf('target:\n  url: http://x:1\n scenarios:\n  a: 1\n');
  assert.equal(ps.length, 1);
  assert.match(ps[0].message, /^YAML syntax:/);
  assert.equal(ps[0].line, 3);
  assert.ok(ps[0].column);
  const tabs = problemsOf('target:\n\turl: x\n');
  assert.match(tabs[0].hint ?? '', /spaces/);
  const dup = problemsOf('target: {url: "http://x:1"}\ntarget: {url: "http://x:2"}\n');
  assert.match(dup[0].message, /unique/);
  assert.equal(dup[0].line, 2);
});

test('empty and non-mapping plans', () => {
  assert.match(problemsOf('')[0].message, /empty/);
  assert.match(problemsOf('# only a comment\n')[0].message, /empty/);
  assert.match(problemsOf('- a\n- b\n')[0].message, /expected a mapping \(plan\), got a list/);
  const ps = problemsOf('target: { url: "http://x:1" }\nscenarios: {}\n');
  assert.match(ps[0].message, /needs at least 1 entry/);
});

test('unknown top-level keys get a suggestion and no cascade', () => {
  const ps = problemsOf(
    'target: { url: "http://x:1" }\nscenarioes:\n  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }\n',
  );
  assert.equal(ps.length, 1, JSON.stringify(ps));
  assert.match(ps[0].hint ?? '', /did you mean `scenarios`\?/);
  const snake = problemsOf(
    `${HEAD}  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, start_time: 1s, request: { path: / } }\n`,
  );
  assert.match(snake[0].hint ?? '', /`startTime`/);
  const k6 = problemsOf(
    `${HEAD}  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, preAllocatedVUs: 5, request: { path: / } }\n`,
  );
  assert.match(k6[0].hint ?? '', /maxInFlight/);
});

test('per-executor rules', () => {
  const cases: Array<{ scenario: string; message: RegExp; hint?: RegExp; path?: string }> = [
    {
      scenario: '{ executor: constant-concurrency, concurrency: 4, rate: 10/s, duration: 1m, request: { path: / } }',
      message: /`rate` does not apply to executor constant-concurrency/,
      hint: /constant-arrival-rate/,
      path: 'scenarios.a.rate',
    },
    { scenario: '{ executor: constant-arrival-rate, duration: 1m, request: { path: / } }', message: /needs `rate`/ },
    { scenario: '{ executor: constant-arrival-rate, rate: 1/s, request: { path: / } }', message: /needs `duration`/ },
    {
      scenario:
        '{ executor: ramping-arrival-rate, duration: 1m, stages: [{ duration: 1s, target: 5/s }], request: { path: / } }',
      message: /`duration` does not apply/,
      hint: /sum of its stages/,
    },
    {
      scenario: '{ executor: ramping-arrival-rate, stages: [{ duration: 1s, target: 5 }], request: { path: / } }',
      message: /stage target: rate 5 has no unit/,
      hint: /5\/s/,
      path: 'scenarios.a.stages[0].target',
    },
    {
      scenario: '{ executor: ramping-concurrency, stages: [{ duration: 1s, target: 5/s }], request: { path: / } }',
      message: /must be a concurrency/,
      hint: /ramping-arrival-rate/,
    },
    { scenario: '{ executor: ramping-concurrency, request: { path: / } }', message: /needs `stages`/ },
    {
      scenario:
        '{ executor: ramping-concurrency, concurrency: 3, stages: [{ duration: 1s, target: 5 }], request: { path: / } }',
      message: /`concurrency` does not apply/,
      hint: /startConcurrency/,
    },
    {
      scenario: '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, thinkTime: 1s, request: { path: / } }',
      message: /`thinkTime` does not apply/,
    },
    {
      scenario: '{ executor: constant-concurrency, vus: 2, concurrency: 2, duration: 1s, request: { path: / } }',
      message: /same setting/,
    },
    {
      scenario: '{ executor: constant-arrival-rate, rate: 0/s, duration: 1s, request: { path: / } }',
      message: /more than 0\/s/,
    },
    {
      scenario: '{ executor: ramping-arrival-rate, stages: [{ duration: 0s, target: 5/s }], request: { path: / } }',
      message: /0s in total/,
    },
    {
      scenario: '{ executor: constant-arival-rate, rate: 1/s, duration: 1s, request: { path: / } }',
      message: /unknown value `constant-arival-rate`/,
      hint: /did you mean `constant-arrival-rate`\?/,
    },
  ];
  for (const c of cases) {
    const ps = problemsOf(`${HEAD}  a: ${c.scenario}\n`);
    const hit = ps.find((p) => c.message.test(p.message));
    assert.ok(hit, `${c.scenario}\n → ${JSON.stringify(ps, null, 1)}`);
    if (c.hint) assert.match(hit.hint ?? '', c.hint, c.scenario);
    if (c.path) assert.equal(hit.path, c.path);
    assert.equal(hit.line, 3, c.scenario);
  }
  const it = problemsOf(`${HEAD}  a: { executor: iterations, request: { path: / } }\n`);
  assert.deepEqual(it.map((p) => p.message).sort(), [
    'scenario `a` (iterations) needs `concurrency`',
    'scenario `a` (iterations) needs `maxRequests`',
  ]);
});

test('per-protocol rules', () => {
  const cases: Array<[string, RegExp]> = [
    ['{ executor: constant-arrival-rate, rate: 1/s, duration: 1s }', /\(protocol http\) needs `request`/],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, synthetic: {} }',
      /needs `model`/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m }',
      /needs `data`, `synthetic` or a fixed `request.body`/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: torchserve, model: m }',
      /needs `data` or a fixed `request.body`/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, request: { path: /, body: "{}" } }',
      /`request.path` does not apply to protocol kserve-v2/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, synthetic: {}, request: { body: "{}" } }',
      /fixed request body does not combine with `synthetic`/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: torchserve, model: m, synthetic: {} }',
      /`synthetic` needs model metadata/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: torchserve, model: m, request: { body: x }, torchserve: { payload: raw } }',
      /payload raw needs `column`/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: torchserve, model: m, request: { body: x }, torchserve: { contentType: text/plain } }',
      /`contentType` is for torchserve payload raw/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, synthetic: {}, tfserving: { format: row } }',
      /`tfserving` is for protocol tfserving/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: openai, model: m, request: { json: [1] } }',
      /must be a JSON object/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: openai }',
      /\(protocol openai\) needs `model`/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, model: m, request: { path: / } }',
      /`model` needs a model protocol/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / }, openai: { stream: true } }',
      /`openai` is for protocol openai/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: tfserving, model: m, mix: { models: [{ name: x }] }, synthetic: {} }',
      /`model` and `mix` are exclusive/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: grpc, request: { path: / } }',
      /unknown value `grpc`/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: /, body: x, json: {} } }',
      /`body` and `json` are exclusive/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: health } }',
      /expected a path starting with `\/`/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: /, headers: { X-A: 1, x-a: 2 } } }',
      /case-insensitive/,
    ],
    [
      '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { method: POST } }',
      /request is missing `path`/,
    ],
  ];
  for (const [scenario, message] of cases) {
    const ps = problemsOf(`${HEAD}  a: ${scenario}\n`);
    assert.ok(
      ps.some((p) => message.test(p.message)),
      `${scenario}\n → ${JSON.stringify(ps, null, 1)}`,
    );
  }
});

test('wrong types say what was expected', () => {
  const ps = problemsOf(
    `${HEAD}  a: { executor: constant-concurrency, concurrency: four, duration: [1s], gracefulStop: true, request: { path: / }, tags: [a] }\n`,
  );
  const by = (path: string) => ps.find((p) => p.path === path)?.message ?? '';
  assert.match(by('scenarios.a.concurrency'), /expected a positive integer, got the string `four`/);
  assert.match(by('scenarios.a.duration'), /expected a duration like `30s`, got a list/);
  assert.match(by('scenarios.a.gracefulStop'), /expected a duration like `30s`, got `true`/);
  assert.match(by('scenarios.a.tags'), /expected a mapping \(tags\), got a list/);
  const empty = problemsOf(
    `${HEAD}  a:\n    executor: constant-arrival-rate\n    rate:\n    duration: 1s\n    request: { path: / }\n`,
  );
  assert.match(empty[0].message, /got nothing/);
  assert.equal(empty[0].line, 5);
});

test('a full plan: data, quality, mix, openai, target overrides, anchors and aliases', () => {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-plan-'));
  try {
    writeFileSync(join(dir, 'digits.csv'), 'p0,p1,label\n1,2,3\n');
    writeFileSync(join(dir, 'golden.jsonl'), '{}\n');
    writeFileSync(join(dir, 'prompts.jsonl'), '{"prompt":"hi"}\n');
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const text = `# yaml-language-server: $schema=./preflight.schema.json
target:
  url: https://models.example.com/base/
  headers: { X-Team: ml, Authorization: "Bearer \${TOKEN}" }
  connections: 8
  timeout: 5s
  connectTimeout: 2s
  client: undici
  tls: { caFile: ca.pem }
  ready: /v2/health/ready
  readyTimeout: 1m
x-defaults: &kserve
  protocol: kserve-v2
  model: digits
scenarios:
  light:
    <<: *kserve
    executor: constant-arrival-rate
    rate: 12k/m
    duration: 1m30s
    arrival: poisson
    maxInFlight: 64
    data:
      file: digits.csv
      order: shuffle
      inputs: [{ name: input, columns: p0..p1, shape: [-1, 2] }]
      label: label
      batch: { min: 1, max: 4 }
    quality: { task: classification }
    checks: ['status == 200']
    tags: { build: 123 }
  loaded:
    <<: *kserve
    model: digits-v2
    modelVersion: 2
    executor: iterations
    iterations: 500
    vus: 8
    thinkTime: 10ms
    target: { headers: { x-scenario: loaded }, timeout: 1s }
    data: { file: digits.csv, label: label }
    quality: { reference: light, prediction: { output: probs } }
  golden:
    executor: constant-concurrency
    protocol: tfserving
    tfserving: { format: columnar, signatureName: predict, checkStatus: false }
    concurrency: 2
    duration: 10s
    mix: { models: [{ name: a, version: "1" }, { name: b }], zipf: 1.1 }
    synthetic: { distribution: uniform, low: 0, high: 16, batch: 2 }
    quality: { golden: { file: golden.jsonl, tolerance: 0.001 } }
  chat:
    executor: ramping-arrival-rate
    protocol: openai
    model: llama-3.1-8b
    startRate: 1/s
    stages: [{ duration: 30s, target: 10/s }, { duration: 1m, target: 10/s }]
    openai: { maxTokens: 128, slo: { ttft: 500ms, tpot: 50ms } }
    data: { file: prompts.jsonl }
  raw:
    executor: constant-arrival-rate
    rate: 1/s
    duration: 1s
    request: { method: post, path: /echo, json: { inputs: [1, 2], token: "\${TOKEN}" } }
thresholds:
  - p99.9 < 1s
  - light.accuracy >= 0.95
  - loaded.accuracy_drop <= 0.01
  - golden.agreement >= 0.99
  - golden/a.p99 < 40ms
  - chat.ttft.p95 < 500ms
  - chat.goodput >= 5/s
  - errors.timeout == 0
  - generator_overloaded == false
  - threshold: loaded.error_rate < 5%
    abortOnFail: true
    delayAbortEval: 10s
options: { workers: 2, seed: 7, interval: 500ms, maxDispatchLag: 20ms }
`;
    const r = validatePlan(text, { file: join(dir, 'plan.yaml'), env: { TOKEN: 'tok-abcdef' } });
    assert.deepEqual(r.problems, []);
    const plan = r.plan!;
    assert.equal(plan.target.url, 'https://models.example.com/base');
    assert.deepEqual(plan.target.headers, { 'x-team': 'ml', authorization: 'Bearer tok-abcdef' });
    assert.equal(plan.target.connections, 8);
    assert.equal(plan.target.timeoutMs, 5000);
    assert.equal(plan.target.connectTimeoutMs, 2000);
    assert.equal(plan.target.client, 'undici');
    assert.match(plan.target.tls.ca ?? '', /BEGIN CERTIFICATE/);
    assert.equal(plan.target.readyPath, '/v2/health/ready');
    assert.equal(plan.target.readyTimeoutMs, 60_000);
    assert.deepEqual(plan.options, { workers: 2, seed: 7, intervalMs: 500, maxDispatchLagMs: 20 });

    const [light, loaded, golden, chat, raw] = plan.scenarios;
    assert.ok(light.executor === 'constant-arrival-rate');
    assert.ok(loaded.executor === 'iterations');
    assert.ok(chat.executor === 'ramping-arrival-rate');
    assert.equal(light.protocol, 'kserve-v2');
    assert.equal(light.model, 'digits');
    assert.equal(light.rate, 200);
    assert.equal(light.durationMs, 90_000);
    assert.equal(light.arrival, 'poisson');
    assert.equal(light.maxInFlight, 64);
    assert.deepEqual(light.data, {
      file: join(dir, 'digits.csv'),
      format: 'csv',
      order: 'shuffle',
      inputs: [{ name: 'input', columns: ['p0', 'p1'], datatype: 'FP32', shape: [-1, 2] }],
      label: 'label',
      batch: { min: 1, max: 4 },
    });
    assert.deepEqual(light.quality, { task: 'classification', prediction: { kind: 'argmax' } });
    assert.deepEqual(light.checks, [{ expression: 'status == 200' }]);
    assert.deepEqual(light.tags, { build: '123' });

    assert.equal(loaded.model, 'digits-v2');
    assert.equal(loaded.modelVersion, '2');
    assert.equal(loaded.maxRequests, 500);
    assert.equal(loaded.concurrency, 8);
    assert.equal(loaded.thinkTimeMs, 10);
    assert.deepEqual(loaded.target, {
      headers: { 'x-team': 'ml', authorization: 'Bearer tok-abcdef', 'x-scenario': 'loaded' },
      timeoutMs: 1000,
    });
    assert.deepEqual(loaded.quality, {
      task: 'classification',
      prediction: { kind: 'argmax', output: 'probs' },
      reference: 'light',
    });
    assert.deepEqual(loaded.data?.batch, { min: 1, max: 1 });

    assert.deepEqual(golden.tfserving, { format: 'columnar', signatureName: 'predict', checkStatus: false });
    assert.deepEqual(golden.mix, {
      models: [
        { name: 'a', weight: 1, version: '1' },
        { name: 'b', weight: 1 },
      ],
      zipf: 1.1,
    });
    assert.deepEqual(golden.synthetic, { distribution: 'uniform', low: 0, high: 16, batch: 2 });
    assert.deepEqual(golden.quality?.golden, { file: join(dir, 'golden.jsonl'), tolerance: 0.001 });

    assert.equal(chat.startRate, 1);
    assert.deepEqual(chat.stages, [
      { durationMs: 30_000, target: 10 },
      { durationMs: 60_000, target: 10 },
    ]);
    assert.equal(chat.durationMs, 90_000);
    assert.deepEqual(chat.openai, { endpoint: 'chat', stream: true, maxTokens: 128, slo: { ttft: 500, tpot: 50 } });
    assert.equal(chat.data?.format, 'jsonl');

    assert.deepEqual(raw.request, {
      method: 'POST',
      path: '/echo',
      headers: { 'content-type': 'application/json' },
      body: '{"inputs":[1,2],"token":"tok-abcdef"}',
    });

    const t = plan.thresholds;
    assert.equal(t.length, 10);
    assert.deepEqual(t[0], {
      expression: 'p99.9 < 1s',
      metric: 'latency',
      stat: 'p99.9',
      op: '<',
      value: 1000,
      abortOnFail: false,
      delayAbortEvalMs: 0,
    });
    assert.deepEqual(t[4], {
      expression: 'golden/a.p99 < 40ms',
      scenario: 'golden',
      group: 'a',
      metric: 'latency',
      stat: 'p99',
      op: '<',
      value: 40,
      abortOnFail: false,
      delayAbortEvalMs: 0,
    });
    assert.deepEqual(t[9], {
      expression: 'loaded.error_rate < 5%',
      scenario: 'loaded',
      metric: 'error_rate',
      op: '<',
      value: 0.05,
      abortOnFail: true,
      delayAbortEvalMs: 10_000,
    });
    assert.deepEqual(plan.secrets, ['tok-abcdef']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('anchors and aliases are followed; x- keys hold anchors', () => {
  const text = `${HEAD}  a: &base { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }\n  b: *base\n`;
  const plan = parsePlan(text, { env: {} });
  assert.deepEqual(
    plan.scenarios.map((s) => s.name),
    ['a', 'b'],
  );
  const merged = parsePlan(
    `x-common: &c { executor: constant-arrival-rate, rate: 1/s, duration: 1s }\n${HEAD}  a:\n    <<: *c\n    rate: 5/s\n    request: { path: / }\n`,
    { env: {} },
  );
  assert.ok(merged.scenarios[0].executor === 'constant-arrival-rate');
  assert.equal(merged.scenarios[0].rate, 5);
  assert.equal(merged.scenarios[0].durationMs, 1000);
  const ps = problemsOf(
    `x-common: &c { executor: constant-arrival-rate, rate: 1/x, duration: 1s }\n${HEAD}  a:\n    <<: *c\n    request: { path: / }\n`,
  );
  assert.equal(ps.length, 1);
  assert.equal(ps[0].line, 1, 'a problem in merged text points at the anchor');
  assert.equal(ps[0].path, 'scenarios.a.rate');
});

test('cross references and data problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-plan-'));
  try {
    writeFileSync(join(dir, 'rows.txt'), 'x\n');
    const base = `target: { url: "http://127.0.0.1:8080" }\nscenarios:\n`;
    const cases: Array<[string, RegExp, string?]> = [
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, data: { file: missing.csv } }',
        /data file `missing\.csv` not found/,
        'scenarios.a.data.file',
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, data: { file: rows.txt } }',
        /cannot tell the format/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, data: { file: rows.txt, format: csv, inputs: [{ name: x, columns: p9..p0 }] } }',
        /runs backwards/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, data: { file: rows.txt, format: csv, inputs: [{ name: x, columns: [a, b, c], shape: [2] }] } }',
        /holds 2 values but 3 columns/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, data: { file: rows.txt, format: csv, batch: { min: 4, max: 2 } } }',
        /min 4 is more than max 2/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, data: { file: rows.txt, format: csv }, quality: {} }',
        /set `data.label`/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, synthetic: {}, quality: {} }',
        /labelled `data`/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, synthetic: { mean: 1 } }',
        /`mean` is for distribution: normal/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, synthetic: {}, quality: { saveGolden: g.jsonl, reference: ligth } }',
        /unknown reference scenario `ligth`/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, synthetic: {}, quality: { saveGolden: g.jsonl, golden: { file: g.jsonl } } }',
        /exclusive/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, synthetic: {}, quality: { task: regression, saveGolden: g.jsonl } }',
        /regression prediction/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, mix: { models: [{ name: x, weight: 2 }], zipf: 1 }, synthetic: {} }',
        /`weight` does not combine with `zipf`/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, mix: { models: [{ name: x }, { name: x }] }, synthetic: {} }',
        /listed twice/,
      ],
      [
        '{ executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }\n  "bad.name": { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }',
        /not a valid name/,
      ],
    ];
    for (const [scenario, message, path] of cases) {
      const ps = validatePlan(`${base}  a: ${scenario}\n`, { file: join(dir, 'plan.yaml'), env: {} }).problems;
      const hit = ps.find((p) => message.test(p.message));
      assert.ok(hit, `${scenario}\n → ${JSON.stringify(ps, null, 1)}`);
      if (path) assert.equal(hit.path, path);
      assert.ok(hit.line && hit.line >= 3, scenario);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('threshold problems point at the expression', () => {
  const text = `${HEAD}  steady: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }
thresholds:
  - stedy.p99 < 1s
  - p99 < 250
  - threshold: accuracy >= 0.9
    abortOnFail: true
`;
  const ps = problemsOf(text);
  assert.deepEqual(
    ps.map((p) => [p.line, p.column, p.path]),
    [
      [5, 5, 'thresholds[0]'],
      [6, 5, 'thresholds[1]'],
      [7, 16, 'thresholds[2].threshold'],
    ],
  );
  assert.match(ps[0].hint ?? '', /did you mean `steady`\?/);
  assert.match(ps[1].hint ?? '', /add a unit, e\.g\. 250ms/);
  assert.match(ps[2].message, /no scenario of this plan records `accuracy`/);
});

test('warnings: insecure TLS and literal credentials', () => {
  const r = validatePlan(
    `target: { url: "https://x:1", tls: { insecure: true }, headers: { authorization: "Bearer literal-secret" } }\nscenarios:\n  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }\n`,
    { env: {} },
  );
  assert.equal(r.ok, true);
  assert.ok(r.warnings.some((w) => /verification is off/.test(w.message)));
  assert.ok(r.warnings.some((w) => /literal credential/.test(w.message)));
  assert.ok(r.plan!.secrets.includes('literal-secret'));
  assert.equal(r.plan!.target.tls.insecure, true);
});

test('ready defaults by protocol', () => {
  const mk = (protocol: string, extra = '') =>
    parsePlan(
      `target: { url: "http://x:1"${extra} }\nscenarios:\n  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: ${protocol}, model: m, request: { body: "[1]" } }\n`,
      { env: {} },
    ).target.readyPath;
  assert.equal(mk('kserve-v2'), '/v2/health/ready');
  assert.equal(mk('torchserve'), '/ping');
  assert.equal(mk('tfserving'), null);
  assert.equal(mk('kserve-v2', ', ready: false'), null);
  assert.equal(mk('kserve-v2', ', ready: /healthz'), '/healthz');
});

test('loadPlan: missing file, relative paths, validatePlanFile', async () => {
  await assert.rejects(
    loadPlan('/nonexistent/dir/plan.yaml'),
    (e: unknown) => e instanceof PreflightError && e.code === 'E_PLAN_NOT_FOUND' && e.exitCode === 2,
  );
  const dir = mkdtempSync(join(tmpdir(), 'preflight-plan-'));
  try {
    writeFileSync(join(dir, 'rows.csv'), 'a\n1\n');
    const file = join(dir, 'plan.yaml');
    writeFileSync(
      file,
      `target: { url: "http://x:1" }\nscenarios:\n  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: kserve-v2, model: m, data: { file: rows.csv } }\n`,
    );
    const plan = await loadPlan(file, { env: {} });
    assert.equal(plan.source, file);
    assert.equal(plan.scenarios[0].data?.file, join(dir, 'rows.csv'));
    assert.deepEqual(await validatePlanFile(file, { env: {} }), []);
    writeFileSync(
      file,
      `target: { url: "http://x:1" }\nscenarios:\n  a: { executor: constant-arrival-rate, rate: 1, duration: 1s, request: { path: / } }\n`,
    );
    const ps = await validatePlanFile(file, { env: {} });
    assert.equal(ps.length, 1);
    assert.equal(ps[0].file, file);
    assert.equal(ps[0].line, 3);
    const checked = await checkPlanFile(file, { env: {} });
    assert.equal(checked.ok, false);
    await assert.rejects(loadPlan(file, { env: {} }), PlanError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an interpolated `false` fills a key that takes a path or false (target.ready)', () => {
  const text =
    'target: { url: "http://127.0.0.1:1", ready: "${READY:-false}" }\nscenarios:\n  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }\n';
  const off = validatePlan(text, { env: {} });
  assert.deepEqual(off.problems, []);
  assert.equal(off.plan!.target.readyPath, null);
  const on = validatePlan(text, { env: { READY: '/health' } });
  assert.equal(on.plan!.target.readyPath, '/health');
});

test('target.client: auto by default; anything but auto or undici is an error that lists both', () => {
  const base = (extra: string) =>
    `target: { url: "http://127.0.0.1:1"${extra} }\nscenarios:\n  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }\n`;
  assert.equal(validatePlan(base(''), { env: {} }).plan!.target.client, 'auto');
  const r = validatePlan(base(', client: raw'), { env: {} });
  assert.equal(r.plan, undefined);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0].path ?? '', /target\.client/);
  assert.match(`${r.problems[0].message} ${r.problems[0].hint ?? ''}`, /auto.*undici/);
});
