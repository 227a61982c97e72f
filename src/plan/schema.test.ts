import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { EXECUTORS, PROTOCOLS, planJsonSchema } from './index.js';

type Schema = Record<string, unknown>;

/** Enough of JSON Schema draft-07 to check plans against the generated schema (no network, no deps). */
function validate(schema: Schema, v: unknown, path = '$'): string[] {
  const errs: string[] = [];
  const type = schema['type'];
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    const actual = Array.isArray(v) ? 'array' : v === null ? 'null' : Number.isInteger(v) ? 'integer' : typeof v;
    const ok = types.some((t) => t === actual || (t === 'number' && actual === 'integer'));
    if (!ok) return [`${path}: expected ${types.join('|')}, got ${actual}`];
  }
  if (schema['const'] !== undefined && v !== schema['const'])
    errs.push(`${path}: expected const ${String(schema['const'])}`);
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(v)) errs.push(`${path}: not in enum`);
  if (typeof v === 'string' && typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(v))
    errs.push(`${path}: ${v} does not match ${schema['pattern']}`);
  if (typeof v === 'string' && typeof schema['minLength'] === 'number' && v.length < schema['minLength'])
    errs.push(`${path}: too short`);
  if (typeof v === 'number') {
    if (typeof schema['minimum'] === 'number' && v < schema['minimum']) errs.push(`${path}: below minimum`);
    if (typeof schema['maximum'] === 'number' && v > schema['maximum']) errs.push(`${path}: above maximum`);
    if (typeof schema['exclusiveMinimum'] === 'number' && v <= schema['exclusiveMinimum'])
      errs.push(`${path}: not above exclusiveMinimum`);
  }
  if (Array.isArray(v)) {
    if (typeof schema['minItems'] === 'number' && v.length < schema['minItems']) errs.push(`${path}: too few items`);
    if (schema['items']) v.forEach((x, i) => errs.push(...validate(schema['items'] as Schema, x, `${path}[${i}]`)));
  } else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const props = (schema['properties'] ?? {}) as Record<string, Schema>;
    const patterns = (schema['patternProperties'] ?? {}) as Record<string, Schema>;
    for (const r of (schema['required'] ?? []) as string[]) if (!(r in o)) errs.push(`${path}: missing ${r}`);
    if (typeof schema['minProperties'] === 'number' && Object.keys(o).length < schema['minProperties'])
      errs.push(`${path}: too few properties`);
    for (const [k, x] of Object.entries(o)) {
      const names = schema['propertyNames'] as Schema | undefined;
      if (names) errs.push(...validate({ type: 'string', ...names }, k, `${path}.${k}(name)`));
      if (props[k]) errs.push(...validate(props[k], x, `${path}.${k}`));
      else {
        const pat = Object.keys(patterns).find((p) => new RegExp(p).test(k));
        if (pat) errs.push(...validate(patterns[pat], x, `${path}.${k}`));
        else if (schema['additionalProperties'] === false) errs.push(`${path}: unknown key ${k}`);
        else if (schema['additionalProperties'] && typeof schema['additionalProperties'] === 'object')
          errs.push(...validate(schema['additionalProperties'] as Schema, x, `${path}.${k}`));
      }
    }
  }
  if (Array.isArray(schema['anyOf']) && !schema['anyOf'].some((s) => validate(s as Schema, v, path).length === 0))
    errs.push(`${path}: matches no anyOf branch`);
  if (Array.isArray(schema['allOf'])) for (const s of schema['allOf']) errs.push(...validate(s as Schema, v, path));
  if (schema['if'] && validate(schema['if'] as Schema, v, path).length === 0 && schema['then'])
    errs.push(...validate(schema['then'] as Schema, v, path));
  return errs;
}

const EXAMPLE = `target:
  url: http://127.0.0.1:8080
  headers: { authorization: "Bearer \${MODEL_TOKEN}" }
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
  kserve:
    executor: iterations
    iterations: 100
    vus: 4
    protocol: kserve-v2
    model: digits
    data: { file: digits.csv, inputs: [{ name: input, columns: p0..p63 }], label: label, batch: { min: 1, max: 8 } }
    quality: { prediction: argmax, reference: steady }
thresholds:
  - p99 < 250ms
  - { threshold: steady.error_rate < 1%, abortOnFail: true, delayAbortEval: 10s }
options: { workers: 2, interval: "\${INTERVAL:-1s}" }
`;

test('the JSON Schema is valid JSON and mentions every executor and protocol', () => {
  const text = JSON.stringify(planJsonSchema());
  const schema = JSON.parse(text) as Schema;
  assert.equal(schema['$schema'], 'http://json-schema.org/draft-07/schema#');
  for (const e of EXECUTORS) assert.ok(text.includes(`"${e}"`), e);
  for (const p of PROTOCOLS) assert.ok(text.includes(`"${p}"`), p);
  // Every pattern is a valid regular expression.
  const patterns = [...text.matchAll(/"pattern":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  assert.ok(patterns.length > 5);
  for (const p of patterns) assert.doesNotThrow(() => new RegExp(p), p);
});

test('durations and rates are described with patterns and descriptions', () => {
  const schema = planJsonSchema() as Schema;
  const scenario = (schema['properties'] as Record<string, Schema>)['scenarios']['additionalProperties'] as Schema;
  const props = scenario['properties'] as Record<string, Schema>;
  for (const [key, good, bad] of [
    ['duration', '1m30s', '30'],
    ['rate', '12k/m', '200/sec'],
  ] as const) {
    const s = props[key];
    assert.match(String(s['description']), key === 'duration' ? /Duration:/ : /Rate:/);
    const re = new RegExp(String(s['pattern']));
    assert.ok(re.test(good), good);
    assert.ok(!re.test(bad), bad);
    assert.ok(re.test('${VAR}'), 'interpolation is allowed');
  }
});

test('the example plans validate against the schema; mistakes do not', () => {
  const schema = planJsonSchema() as Schema;
  assert.deepEqual(validate(schema, parseYaml(EXAMPLE)), []);
  const broken = parseYaml(EXAMPLE) as { scenarios: Record<string, Record<string, unknown>> };
  broken.scenarios['steady']['durtion'] = '30s';
  delete broken.scenarios['steady']['duration'];
  broken.scenarios['users']['startTime'] = 30;
  broken.scenarios['kserve']['executor'] = 'constant-vus';
  const errs = validate(schema, broken).join('\n');
  assert.match(errs, /unknown key durtion/);
  assert.match(errs, /missing duration/, 'per-executor required keys are if/then rules');
  assert.match(errs, /startTime/);
  assert.match(errs, /executor: not in enum/);
});

test('docs/plan.md documents every key of the schema', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const doc = readFileSync(join(here, '..', '..', '..', 'docs', 'plan.md'), 'utf8');
  const keys = new Set<string>();
  const collect = (s: unknown): void => {
    if (Array.isArray(s)) return s.forEach(collect);
    if (!s || typeof s !== 'object') return;
    const o = s as Schema;
    if (o['properties']) for (const k of Object.keys(o['properties'] as Schema)) keys.add(k);
    for (const v of Object.values(o)) collect(v);
  };
  collect(planJsonSchema());
  const missing = [...keys].filter((k) => !doc.includes(`\`${k}\``));
  assert.deepEqual(missing, []);
});
