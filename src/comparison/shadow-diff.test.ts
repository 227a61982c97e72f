import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARRAY_INDEX_LIMIT, compilePathPattern, type DiffKind, FieldDiffer, keySegment } from './shadow-diff.js';

type Hit = [string, DiffKind, unknown, unknown];

function diff(a: unknown, b: unknown, ignore: string[] = [], tolerance = { absolute: 0, relative: 0 }): Hit[] {
  const out: Hit[] = [];
  new FieldDiffer(ignore, tolerance).diff(a, b, (p, k, x, y) => out.push([p, k, x, y]));
  return out;
}

test('paths: nested keys, indices and odd keys; equal values report nothing', () => {
  const a = { a: { b: [1, 2, { c: 'x' }] }, 'odd key': 1, "it's": true, n: null };
  assert.deepEqual(diff(a, structuredClone(a)), []);
  const b = { a: { b: [1, 3, { c: 'y' }] }, 'odd key': 2, "it's": false, n: null };
  assert.deepEqual(diff(a, b), [
    ['$.a.b[1]', 'value', 2, 3],
    ['$.a.b[2].c', 'value', 'x', 'y'],
    ["$['odd key']", 'value', 1, 2],
    ["$['it\\'s']", 'value', true, false],
  ]);
  assert.equal(keySegment('__proto__'), '.__proto__');
});

test('missing on one side, added on the other, type changes', () => {
  assert.deepEqual(diff({ a: 1, b: 2 }, { a: 1, c: 3 }), [
    ['$.b', 'missing', 2, undefined],
    ['$.c', 'added', undefined, 3],
  ]);
  assert.deepEqual(diff({ a: 1 }, { a: '1' }), [['$.a', 'type', 1, '1']]);
  assert.deepEqual(diff({ a: null }, { a: {} }), [['$.a', 'type', null, {}]]);
  assert.deepEqual(diff({ a: [] }, { a: {} }), [['$.a', 'type', [], {}]]);
  assert.deepEqual(diff([1, 2, 3], [1]), [
    ['$[1]', 'missing', 2, undefined],
    ['$[2]', 'missing', 3, undefined],
  ]);
  assert.deepEqual(diff([1], [1, 5]), [['$[1]', 'added', undefined, 5]]);
  // A key named like an Object.prototype member is still just a key.
  assert.deepEqual(diff({ constructor: 1 }, {}), [['$.constructor', 'missing', 1, undefined]]);
  assert.deepEqual(diff({}, { toString: 1 }), [['$.toString', 'added', undefined, 1]]);
});

test('non-JSON bodies are one path `$` compared as text', () => {
  assert.deepEqual(diff('hello', 'hello'), []);
  assert.deepEqual(diff('hello', 'world'), [['$', 'value', 'hello', 'world']]);
  assert.deepEqual(diff('hello', { a: 1 }), [['$', 'type', 'hello', { a: 1 }]]);
});

test('numeric tolerance: absolute OR relative', () => {
  assert.deepEqual(diff({ x: 1.0 }, { x: 1.0005 }, [], { absolute: 0.001, relative: 0 }), []);
  assert.equal(diff({ x: 1.0 }, { x: 1.002 }, [], { absolute: 0.001, relative: 0 }).length, 1);
  // relative to the larger magnitude: |1000 − 1001| = 1 ≤ 0.001 × 1001
  assert.deepEqual(diff({ x: 1000 }, { x: 1001 }, [], { absolute: 0, relative: 0.001 }), []);
  assert.equal(diff({ x: 1000 }, { x: 1002 }, [], { absolute: 0, relative: 0.001 }).length, 1);
  // either rule suffices: small numbers by the absolute one, large by the relative one
  const both = { absolute: 0.01, relative: 0.001 };
  assert.deepEqual(diff([0.001, 5000], [0.009, 5004], [], both), []);
  assert.equal(diff([0.001, 5000], [0.02, 5006], [], both).length, 2);
  // no tolerance: exact
  assert.equal(diff({ x: 0.1 + 0.2 }, { x: 0.3 }).length, 1);
});

test('ignore list: exact paths, subtrees, `*` keys and `[*]` indices', () => {
  const a = {
    id: 'a1',
    created: 1,
    meta: { ts: 1, host: 'x' },
    outputs: [
      { name: 'p', id: 1 },
      { name: 'q', id: 2 },
    ],
  };
  const b = {
    id: 'b2',
    created: 2,
    meta: { ts: 2, host: 'y' },
    outputs: [
      { name: 'p', id: 7 },
      { name: 'r', id: 8 },
    ],
  };
  assert.equal(diff(a, b).length, 7);
  assert.deepEqual(
    diff(a, b, ['$.id', '$.created', '$.meta', '$.outputs[*].id']).map((h) => h[0]),
    ['$.outputs[1].name'],
  );
  assert.deepEqual(
    diff(a, b, ['$.*', '$.outputs[*].name']).map((h) => h[0]),
    [],
    '`$.*` matches every top-level key and everything below',
  );
  assert.deepEqual(
    diff(a, b, ['$.meta.*', '$.outputs[1]']).map((h) => h[0]),
    ['$.id', '$.created', '$.outputs[0].id'],
  );
  // A pattern matches whole segments only: `$.id` does not ignore `$.idx`.
  assert.deepEqual(
    diff({ idx: 1, 'a b': 1 }, { idx: 2, 'a b': 2 }, ['$.id', "$['a b']"]).map((h) => h[0]),
    ['$.idx'],
  );
  assert.deepEqual(diff({ 'a b': { c: 1 } }, { 'a b': { c: 2 } }, ['$["a b"].c']), []);
  assert.deepEqual(diff({ 'a b': 1 }, { 'a b': 2 }, ['$.*']), [], '`*` matches bracketed keys too');
  // keys in any script are written with a dot, and matched so
  assert.deepEqual(diff({ prédiction: 1, 标签: 1 }, { prédiction: 2, 标签: 2 }), [
    ['$.prédiction', 'value', 1, 2],
    ['$.标签', 'value', 1, 2],
  ]);
  assert.deepEqual(diff({ prédiction: 1, 标签: 1 }, { prédiction: 2, 标签: 2 }, ['$.prédiction', "$['标签']"]), []);
});

test('malformed ignore patterns are located errors', () => {
  assert.throws(() => compilePathPattern('id'), /must start with "\$"/);
  assert.throws(() => compilePathPattern('$.a..b'), /cannot read "\.\.b" at character 4/);
  assert.throws(() => compilePathPattern('$.a[x]'), /cannot read "\[x\]"/);
  assert.throws(() => new FieldDiffer(['$.ok', '$[-1]'], { absolute: 0, relative: 0 }), /\$\[-1\]/);
});

test('long arrays collapse to one `[*]` field, reported once per diff', () => {
  const n = ARRAY_INDEX_LIMIT + 1;
  const a = { data: Array.from({ length: n }, (_, i) => i) };
  const b = { data: a.data.map((v) => v + 1) };
  assert.deepEqual(diff(a, b), [['$.data[*]', 'value', 0, 1]]);
  const c = { rows: Array.from({ length: 100 }, (_, i) => ({ id: i, v: 0 })) };
  const d = { rows: c.rows.map((r) => ({ id: r.id + 1, v: 0 })) };
  assert.deepEqual(
    diff(c, d).map((h) => h[0]),
    ['$.rows[*].id'],
  );
  assert.deepEqual(
    diff(c, { rows: c.rows.slice(0, 50) }).map((h) => h[0]),
    ['$.rows[*]'],
  );
  assert.deepEqual(diff(c, structuredClone(c)), []);
  // At the limit the indices are kept.
  const e = Array.from({ length: ARRAY_INDEX_LIMIT }, () => 0);
  const f = [...e];
  f[ARRAY_INDEX_LIMIT - 1] = 1;
  assert.deepEqual(
    diff(e, f).map((h) => h[0]),
    [`$[${ARRAY_INDEX_LIMIT - 1}]`],
  );
  // Ignore patterns with [*] match collapsed paths.
  assert.deepEqual(diff(c, d, ['$.rows[*].id']), []);
});

test('very deep values are compared without unbounded recursion', () => {
  let a: unknown = 1;
  let b: unknown = 2;
  for (let i = 0; i < 5000; i++) {
    a = { x: a };
    b = { x: b };
  }
  let hits: Hit[] = [];
  assert.doesNotThrow(() => {
    hits = diff(a, b);
  });
  assert.equal(hits.length, 1);
  assert.ok(hits[0][0].startsWith('$.x.x.x'));
  let c: unknown = 1;
  for (let i = 0; i < 5000; i++) c = { x: c };
  assert.deepEqual(diff(a, c), [], 'deep equal subtrees are equal');
});
