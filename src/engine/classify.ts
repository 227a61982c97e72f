/**
 * Maps transport errors to an ErrorClass. Looks through `cause` chains, since undici wraps socket
 * errors.
 */
import type { ErrorClass } from '../core/types.js';

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/** Code of the engine's whole-request timeout (see ScenarioRuntime): class `timeout`. */
export const REQUEST_TIMEOUT_CODE = 'PREFLIGHT_REQUEST_TIMEOUT';

/** null means the request was cancelled by us (graceful-stop timeout, Ctrl-C): not a target error. */
export function classifyError(err: unknown): ErrorClass | null {
  // biome-ignore lint/suspicious/noExplicitAny: walks untyped error objects and their cause chains
  let e: any = err;
  for (let depth = 0; e && depth < 4; depth++, e = e.cause) {
    if (e.name === 'HTTPParserError') return 'invalid_response';
    const code: string | undefined = e.code;
    if (!code) continue;
    if (code === 'UND_ERR_ABORTED' || code === 'UND_ERR_DESTROYED') return null;
    if (code === 'ECONNREFUSED') return 'connection_refused';
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED')
      return 'connection_reset';
    if (
      code === REQUEST_TIMEOUT_CODE ||
      code === 'UND_ERR_CONNECT_TIMEOUT' ||
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'ETIMEDOUT'
    )
      return 'timeout';
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns';
    if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('CERT_'))
      return 'tls';
    // undici's HEADERS_OVERFLOW is the built-in client's HPE_HEADER_OVERFLOW (a response head too large).
    if (
      code.startsWith('HPE_') ||
      code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' ||
      code === 'UND_ERR_INFO' ||
      code === 'UND_ERR_HEADERS_OVERFLOW'
    )
      return 'invalid_response';
  }
  return 'other';
}

/**
 * Longest message kept as an error reason here; the summary shows the first 200 characters after
 * redacting secrets (a cut before redaction could leave part of a secret behind).
 */
const MAX_REASON_CHARS = 1000;

/**
 * A short, stable description of a failure for `error_reasons`: `CODE: message`, with the causes
 * undici wraps (`; cause CODE: message`). Not redacted here: the run redacts secrets when it builds
 * the summary (summary.ts combineReasons).
 */
export function errorReason(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e != null && depth < 3; depth++) {
    if (typeof e !== 'object') {
      parts.push(String(e));
      break;
    }
    const { code, message: msg, name } = readError(e as Record<string, unknown>);
    parts.push(code && msg ? `${code}: ${msg}` : code || msg || name);
    e = (e as { cause?: unknown }).cause;
  }
  const s = parts.join('; cause ').replace(/\s+/g, ' ').trim();
  return s.length > MAX_REASON_CHARS ? `${s.slice(0, MAX_REASON_CHARS - 1)}…` : s;
}

function readError(e: Record<string, unknown>): { code: string; message: string; name: string } {
  return {
    code: typeof e['code'] === 'string' ? e['code'] : '',
    message: typeof e['message'] === 'string' ? e['message'] : '',
    name: typeof e['name'] === 'string' ? e['name'] : 'error',
  };
}
