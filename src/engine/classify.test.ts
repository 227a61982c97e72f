/**
 * Error classes and the reasons kept for them (summary error_reasons).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyError, errorReason, REQUEST_TIMEOUT_CODE } from './classify.js';

const coded = (code: string, message: string, cause?: unknown) =>
  Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });

test('the engine request timeout is class timeout; undici header overflow is invalid_response, as in the built-in client', () => {
  assert.equal(
    classifyError(
      coded(REQUEST_TIMEOUT_CODE, 'response not complete within the request timeout (1000 ms, head and body)'),
    ),
    'timeout',
  );
  assert.equal(classifyError(coded('UND_ERR_HEADERS_OVERFLOW', 'Headers Overflow Error')), 'invalid_response');
  assert.equal(
    classifyError(coded('HPE_HEADER_OVERFLOW', 'response head larger than 65536 bytes')),
    'invalid_response',
  );
});

test('errorReason: CODE: message, wrapped causes, whitespace folded, bounded', () => {
  assert.equal(
    errorReason(coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9')),
    'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9',
  );
  assert.equal(
    errorReason(new Error('fetch failed', { cause: coded('UND_ERR_SOCKET', 'other\nside closed') })),
    'fetch failed; cause UND_ERR_SOCKET: other side closed',
  );
  assert.equal(errorReason('plain string'), 'plain string');
  assert.equal(errorReason(coded('X', 'y'.repeat(5000))).length, 1000);
});
