import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_FORBIDDEN_HEADERS } from '../plan/security-check.js';
import { findLeaks, missingHeaders } from './security-leaks.js';

const rules = { forbidHeaders: DEFAULT_FORBIDDEN_HEADERS, serverVersion: true, requireHeaders: {} };
const kinds = (headers: Record<string, string>, body: string) => findLeaks(headers, body, rules).map((l) => l.kind);

test('stack traces of Python, Node.js, Java, Go and .NET are leaks', () => {
  assert.deepEqual(kinds({}, 'Traceback (most recent call last):\n  File "app.py", line 3, in <module>'), [
    'stack trace (Python)',
  ]);
  assert.deepEqual(kinds({}, 'TypeError: x is undefined\n    at handler (/srv/app/server.js:12:7)'), [
    'stack trace (Node.js)',
  ]);
  assert.deepEqual(kinds({}, '{"stack":"Error: bad\\n    at Object.<anonymous> (file:///app/index.mjs:1:2)"}'), [
    'stack trace (Node.js)',
  ]);
  assert.ok(
    kinds(
      {},
      'Exception in thread "main" java.lang.NullPointerException\n\tat com.acme.Model.run(Model.java:42)',
    ).includes('stack trace (Java)'),
  );
  assert.deepEqual(kinds({}, 'panic: boom\n\ngoroutine 1 [running]:\nmain.main()'), ['stack trace (Go)']);
  assert.deepEqual(kinds({}, '   at Acme.Api.Predict(Input x) in C:\\src\\Api.cs:line 17'), ['stack trace (.NET)']);
});

test('server file paths are leaks; API paths and ordinary messages are not', () => {
  assert.deepEqual(kinds({}, 'cannot open /home/deploy/models/m.onnx'), ['file path']);
  assert.deepEqual(kinds({}, 'error in /usr/lib/python3.11/json/decoder.py'), ['file path']);
  assert.deepEqual(kinds({}, 'error in /opt/venv/lib/python3.9/site-packages/torch/nn.py'), ['file path']);
  assert.deepEqual(kinds({}, 'failed: C:\\Users\\svc\\model.pt'), ['file path']);
  for (const ok of [
    '{"error":"invalid JSON: Unexpected end of JSON input"}',
    '{"error":"not found: GET /v2/models/x/infer"}',
    'input must have at least 1 row at position 3',
    '{"error":"input \'input\' data has 32 values but shape [1,64] needs 64"}',
  ])
    assert.deepEqual(kinds({}, ok), [], ok);
});

test('versions in Server, forbidden headers; required headers', () => {
  assert.deepEqual(kinds({ server: 'gunicorn/19.9.0' }, ''), ['version in header server']);
  assert.deepEqual(kinds({ server: 'nginx' }, ''), [], 'a name without a version is fine');
  assert.deepEqual(kinds({ 'x-powered-by': 'Express' }, ''), ['header x-powered-by']);
  assert.deepEqual(
    findLeaks({ server: 'uvicorn/0.1' }, '', { ...rules, serverVersion: false }).map((l) => l.kind),
    [],
  );
  assert.deepEqual(
    missingHeaders({ 'x-content-type-options': 'nosniff' }, { 'x-content-type-options': 'nosniff' }),
    [],
  );
  assert.deepEqual(missingHeaders({}, { 'x-content-type-options': 'nosniff' }), [
    { name: 'x-content-type-options', expected: 'nosniff' },
  ]);
  assert.deepEqual(
    missingHeaders({ 'strict-transport-security': 'max-age=1' }, { 'strict-transport-security': '' }),
    [],
  );
});
