/**
 * A request's bytes on the wire, built once: request line, headers and body in one buffer, so
 * sending it is a single socket write with no string encoding (the engine caches the result per
 * request template). Header names and values are checked here, since they go out verbatim.
 */

export class InvalidRequestError extends Error {
  readonly code = 'ERR_INVALID_REQUEST';
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII and obs-text; no spaces, no controls (a space or CR/LF would change the request). */
const PATH = /^[\x21-\x7e\x80-\xff]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Framing is ours: the body length is known, so these are set (or left out) by the client. */
const FRAMING = new Set(['content-length', 'transfer-encoding']);
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * `headers` is a flat [name, value, name, value, …] list. A `host` header is added unless given.
 * Content-Length is always the body's length (and 0 for POST/PUT/PATCH without one).
 */
export function buildRequestBytes(
  method: string,
  path: string,
  host: string,
  headers: readonly string[],
  body: Buffer | string | null | undefined,
): Buffer {
  if (!TOKEN.test(method)) throw new InvalidRequestError(`invalid HTTP method ${JSON.stringify(method)}`);
  if (!PATH.test(path))
    throw new InvalidRequestError(
      `invalid request path ${JSON.stringify(path)} (spaces and control characters must be percent-encoded)`,
    );
  const bodyBuf = body === null || body === undefined ? null : typeof body === 'string' ? Buffer.from(body) : body;
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let hasHost = false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i];
    const value = headers[i + 1];
    if (!TOKEN.test(name)) throw new InvalidRequestError(`invalid header name ${JSON.stringify(name)}`);
    if (!HEADER_VALUE.test(value))
      throw new InvalidRequestError(
        `invalid value for header ${name} (control characters such as CR/LF are not allowed)`,
      );
    const lower = name.toLowerCase();
    if (FRAMING.has(lower)) continue;
    if (lower === 'host') hasHost = true;
    head += `${name}: ${value}\r\n`;
  }
  if (!hasHost) head += `host: ${host}\r\n`;
  if (bodyBuf !== null) head += `content-length: ${bodyBuf.length}\r\n`;
  else if (BODY_METHODS.has(method)) head += 'content-length: 0\r\n';
  head += '\r\n';
  const headBuf = Buffer.from(head, 'latin1');
  return bodyBuf === null || bodyBuf.length === 0 ? headBuf : Buffer.concat([headBuf, bodyBuf]);
}
