import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreflightError } from '../core/errors.js';
import { parseDurationMs, parseServeArgs, resolveOptions } from './options.js';

test('parseServeArgs maps every flag', () => {
  const o = parseServeArgs([
    '--port',
    '0',
    '--host',
    '0.0.0.0',
    '--instances',
    '2',
    '--max-batch-size',
    '16',
    '--max-queue-delay',
    '5ms',
    '--max-queue',
    '100',
    '--unbounded-queue',
    '--shed-status',
    '429',
    '--latency',
    '50',
    '--jitter',
    '0.1s',
    '--error-rate',
    '5%',
    '--stall-every',
    '10s',
    '--stall',
    '500ms',
    '--leak-mb-per-min',
    '1.5',
    '--leak-bytes-per-request',
    '1024',
    '--version',
    'v2',
    '--llm-token-time',
    '20ms',
    '--llm-max-concurrency',
    '4',
    '--llm-prefill-base',
    '30',
    '--llm-prefill-per-token',
    '0.5',
    '--llm-max-queue',
    '9',
    '--llm-max-tokens',
    '32',
    '--llm-stop-rate',
    '0.25',
    '--seed',
    '3',
    '--no-admin',
    '--model-name',
    'mnist',
    '--model-module',
    './m.js',
  ]);
  assert.deepEqual(o, {
    port: 0,
    host: '0.0.0.0',
    instances: 2,
    maxBatchSize: 16,
    maxQueueDelayMs: 5,
    maxQueue: 100,
    unboundedQueue: true,
    shedStatus: 429,
    version: 'v2',
    modelName: 'mnist',
    modelModule: './m.js',
    admin: false,
    seed: 3,
    llmTokenTimeMs: 20,
    llmPrefillBaseMs: 30,
    llmPrefillPerTokenMs: 0.5,
    llmMaxConcurrency: 4,
    llmMaxQueue: 9,
    llmDefaultMaxTokens: 32,
    llmStopRate: 0.25,
    faults: {
      latencyMs: 50,
      jitterMs: 100,
      errorRate: 0.05,
      stallEveryMs: 10_000,
      stallMs: 500,
      leakMBPerMin: 1.5,
      leakBytesPerRequest: 1024,
    },
  });
});

test('parseServeArgs defaults the port to 8000 and nothing else', () => {
  assert.deepEqual(parseServeArgs([]), { port: 8000 });
});

test('parseServeArgs rejects unknown flags and bad values with E_ARGS', () => {
  const bad = [
    ['--nope'],
    ['--port', 'x'],
    ['--port', '70000'],
    ['--error-rate', '2'],
    ['--latency', 'soon'],
    ['--shed-status', '500'],
    ['--stall', '1s'],
    ['--stall-every', '1s', '--stall', '2s'],
    ['--version', 'v9'],
    ['--instances', '0'],
    ['positional'],
  ];
  for (const argv of bad) {
    assert.throws(
      () => parseServeArgs(argv),
      (e: unknown) => e instanceof PreflightError && e.code === 'E_ARGS' && e.problems.length > 0,
      argv.join(' '),
    );
  }
});

test('durations and defaults', () => {
  assert.equal(parseDurationMs('250'), 250);
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDurationMs('2m'), 120_000);
  assert.equal(parseDurationMs('-1'), undefined);
  const r = resolveOptions({});
  assert.equal(r.host, '127.0.0.1');
  assert.equal(r.port, 0);
  assert.equal(r.maxBatchSize, 32);
  assert.equal(r.maxQueueDelayMs, 2);
  assert.equal(r.maxQueue, 256);
  assert.equal(r.shedStatus, 503);
  assert.equal(r.version, 'v1');
  assert.equal(r.admin, false, 'admin endpoints are off unless asked for');
  assert.equal(r.llmTokenTimeMs, 10);
  assert.equal(r.llmMaxConcurrency, 8);
  assert.equal(r.llmDefaultMaxTokens, 16);
  assert.ok(r.instances >= 1 && r.instances <= 2);
});

test("duration flags use the plan's duration syntax (one parser), plain numbers being milliseconds", () => {
  assert.equal(parseDurationMs('1m30s'), 90_000);
  assert.equal(parseDurationMs('250us'), 0.25);
  assert.equal(parseDurationMs(' 40 '), 40);
  assert.equal(parseDurationMs('1.5 s'), undefined);
  assert.throws(
    () => parseServeArgs(['--latency', '5secs']),
    (e: unknown) =>
      e instanceof PreflightError && e.problems[0]?.path === '--latency' && e.problems[0]?.hint === 'write 5s',
  );
});
