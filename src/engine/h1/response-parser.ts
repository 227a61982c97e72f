/**
 * Incremental HTTP/1.1 response parser for the built-in client: one response at a time (no
 * pipelining), fed straight from the socket's read buffer. It finds the status, the framing
 * (Content-Length, chunked, or read-until-close) and `Connection: close`; every other header is
 * skipped without building a string. Body bytes are handed to the sink as (buffer, start, end)
 * ranges of the caller's buffer, valid only during the call.
 *
 * Strict where a load tester must be (status line, framing headers, chunk sizes, header size);
 * a violation throws ResponseParseError with an `HPE_*` code, classified as `invalid_response`.
 */

export interface ResponseSink {
  /** A final (non-1xx) response head. */
  onHead(status: number): void;
  onBody(buf: Buffer, start: number, end: number): void;
}

export class ResponseParseError extends Error {
  override readonly name = 'HTTPParserError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Upper bound of a response head (status line + headers), as in Node's and undici's defaults. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Chunk-size lines longer than this are garbage (a 64-bit size in hex is 16 digits). */
const MAX_CHUNK_LINE = 1024;

const enum State {
  Head,
  BodyLength,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  BodyUntilClose,
  Done,
}

const CR = 13;
const LF = 10;

export class ResponseParser {
  private state = State.Done;
  /** Part of a response head (or trailer line) carried over from the previous read. */
  private pending: Buffer | null = null;
  private remaining = 0;
  private noBody = false;
  /** Chunk-size line: digits seen, whether past the size (in an extension), whether CR was seen. */
  private chunkDigits = 0;
  private chunkInExt = false;
  private chunkLineLen = 0;
  private trailerLineLen = 0;
  status = 0;
  /** The connection can carry another request after this response. */
  keepAlive = true;
  /** `Keep-Alive: timeout=N` of the last response, ms (how long the server keeps an idle connection); -1 = not said. */
  keepAliveTimeoutMs = -1;

  constructor(private readonly sink: ResponseSink) {}

  /** Arms the parser for the response to one request (`HEAD` responses have no body). */
  reset(isHead: boolean): void {
    this.state = State.Head;
    this.pending = null;
    this.noBody = isHead;
    this.status = 0;
    this.keepAlive = true;
    this.keepAliveTimeoutMs = -1;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Nothing of the current response has arrived yet. */
  get idle(): boolean {
    return this.state === State.Head && this.pending === null;
  }

  /**
   * Consumes buf[start, end). Returns where it stopped: `end`, or the byte after the response when
   * it completed (`done`) — anything after that is not part of this response.
   */
  execute(buf: Buffer, start: number, end: number): number {
    let pos = start;
    while (pos < end) {
      switch (this.state) {
        case State.Head:
          pos = this.head(buf, pos, end);
          break;
        case State.BodyLength: {
          const n = Math.min(this.remaining, end - pos);
          this.sink.onBody(buf, pos, pos + n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.Done;
          break;
        }
        case State.ChunkSize:
          pos = this.chunkSize(buf, pos, end);
          break;
        case State.ChunkData: {
          const n = Math.min(this.remaining, end - pos);
          this.sink.onBody(buf, pos, pos + n);
          pos += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd: {
          // The CRLF after chunk data: `remaining` counts the bytes of it still expected.
          const expected = this.remaining === 2 ? CR : LF;
          if (buf[pos] !== expected) throw new ResponseParseError('HPE_STRICT', 'chunk data is not followed by CRLF');
          pos++;
          if (--this.remaining === 0) this.beginChunkSize();
          break;
        }
        case State.Trailers:
          pos = this.trailers(buf, pos, end);
          break;
        case State.BodyUntilClose:
          this.sink.onBody(buf, pos, end);
          pos = end;
          break;
        case State.Done:
          return pos;
      }
    }
    return pos;
  }

  /** The connection closed. Completes a read-until-close body; otherwise the response was cut short. */
  finishAtClose(): boolean {
    if (this.state === State.BodyUntilClose) {
      this.state = State.Done;
      return true;
    }
    return this.state === State.Done;
  }

  private head(buf: Buffer, pos: number, end: number): number {
    let data = buf;
    let base = pos;
    let stop = end;
    if (this.pending !== null) {
      // Rare: the head was split across reads. Join and parse it from the start.
      data = Buffer.concat([this.pending, buf.subarray(pos, end)]);
      base = 0;
      stop = data.length;
    }
    const headEnd = findHeadEnd(data, base, stop);
    if (headEnd < 0) {
      if (stop - base > MAX_HEAD_BYTES)
        throw new ResponseParseError('HPE_HEADER_OVERFLOW', `response head larger than ${MAX_HEAD_BYTES} bytes`);
      this.pending = this.pending !== null ? data : Buffer.from(buf.subarray(pos, end));
      return end;
    }
    if (headEnd - base > MAX_HEAD_BYTES)
      throw new ResponseParseError('HPE_HEADER_OVERFLOW', `response head larger than ${MAX_HEAD_BYTES} bytes`);
    const consumedFromBuf = this.pending !== null ? headEnd - this.pending.length : headEnd - pos;
    this.pending = null;
    this.parseHead(data, base, headEnd);
    return pos + consumedFromBuf;
  }

  /** Parses a complete head data[start, end) (ending with CRLFCRLF) and sets up the body state. */
  private parseHead(data: Buffer, start: number, end: number): void {
    // Status line: HTTP/1.x SP 3DIGIT [SP reason] CRLF
    if (
      end - start < 14 ||
      data[start] !== 0x48 ||
      data[start + 1] !== 0x54 ||
      data[start + 2] !== 0x54 ||
      data[start + 3] !== 0x50 ||
      data[start + 4] !== 0x2f ||
      data[start + 5] !== 0x31 ||
      data[start + 6] !== 0x2e
    ) {
      throw new ResponseParseError('HPE_INVALID_CONSTANT', 'response does not start with HTTP/1.x');
    }
    const minor = data[start + 7] - 0x30;
    const d0 = data[start + 9] - 0x30;
    const d1 = data[start + 10] - 0x30;
    const d2 = data[start + 11] - 0x30;
    if (
      (minor !== 0 && minor !== 1) ||
      data[start + 8] !== 0x20 ||
      d0 < 1 ||
      d0 > 5 ||
      d1 < 0 ||
      d1 > 9 ||
      d2 < 0 ||
      d2 > 9 ||
      (data[start + 12] !== 0x20 && data[start + 12] !== CR && data[start + 12] !== LF)
    ) {
      throw new ResponseParseError('HPE_INVALID_STATUS', 'malformed status line');
    }
    const status = d0 * 100 + d1 * 10 + d2;
    let lineStart = indexOfLf(data, start + 12, end) + 1;
    let contentLength = -1;
    let transferEncoding = false;
    let chunked = false;
    let close = minor === 0;
    while (lineStart < end) {
      const lf = indexOfLf(data, lineStart, end);
      const lineEnd = data[lf - 1] === CR ? lf - 1 : lf;
      if (lineEnd === lineStart) break; // the empty line
      const colon = indexOfByte(data, 0x3a, lineStart, lineEnd);
      if (colon <= lineStart) throw new ResponseParseError('HPE_INVALID_HEADER_TOKEN', 'header line without a name');
      const nameLen = colon - lineStart;
      if (nameLen === 14 && matchLower(data, lineStart, 'content-length')) {
        const v = parseDecimal(data, colon + 1, lineEnd);
        if (contentLength >= 0 && v !== contentLength)
          throw new ResponseParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'conflicting Content-Length headers');
        contentLength = v;
      } else if (nameLen === 17 && matchLower(data, lineStart, 'transfer-encoding')) {
        // Chunked must be the final coding (of the last such header); anything else ends at close.
        transferEncoding = true;
        chunked = endsWithTokenLower(data, colon + 1, lineEnd, 'chunked');
      } else if (nameLen === 10 && matchLower(data, lineStart, 'connection')) {
        if (containsTokenLower(data, colon + 1, lineEnd, 'close')) close = true;
        else if (minor === 0 && containsTokenLower(data, colon + 1, lineEnd, 'keep-alive')) close = false;
      } else if (nameLen === 10 && matchLower(data, lineStart, 'keep-alive')) {
        this.keepAliveTimeoutMs = keepAliveTimeout(data, colon + 1, lineEnd);
      }
      lineStart = lf + 1;
    }
    if (status < 200) {
      if (status === 101)
        throw new ResponseParseError(
          'HPE_UNEXPECTED_UPGRADE',
          'the server switched protocols (101), which a load request never asks for',
        );
      // 1xx informational (100 Continue, 103 Early Hints): no body; the real response follows.
      this.state = State.Head;
      return;
    }
    this.status = status;
    this.keepAlive = !close;
    this.sink.onHead(status);
    if (this.noBody || status === 204 || status === 304) {
      this.state = State.Done;
    } else if (transferEncoding) {
      // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length; with both, do not reuse the connection.
      if (contentLength >= 0) this.keepAlive = false;
      if (chunked) this.beginChunkSize();
      else {
        this.keepAlive = false;
        this.state = State.BodyUntilClose;
      }
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? State.Done : State.BodyLength;
    } else {
      this.keepAlive = false;
      this.state = State.BodyUntilClose;
    }
  }

  private beginChunkSize(): void {
    this.state = State.ChunkSize;
    this.remaining = 0;
    this.chunkDigits = 0;
    this.chunkInExt = false;
    this.chunkLineLen = 0;
  }

  /** chunk-size [; ext] CRLF, possibly split across reads. */
  private chunkSize(buf: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const c = buf[pos++];
      if (++this.chunkLineLen > MAX_CHUNK_LINE)
        throw new ResponseParseError('HPE_INVALID_CHUNK_SIZE', 'chunk-size line too long');
      if (c === LF) {
        if (this.chunkDigits === 0) throw new ResponseParseError('HPE_INVALID_CHUNK_SIZE', 'empty chunk size');
        if (this.remaining === 0) {
          this.state = State.Trailers;
          this.trailerLineLen = 0;
        } else {
          this.state = State.ChunkData;
        }
        return pos;
      }
      if (this.chunkInExt || c === CR) continue;
      if (c === 0x3b || c === 0x20 || c === 0x09) {
        this.chunkInExt = true;
        continue;
      }
      const h = hexValue(c);
      if (h < 0) throw new ResponseParseError('HPE_INVALID_CHUNK_SIZE', 'invalid character in chunk size');
      if (++this.chunkDigits > 13) throw new ResponseParseError('HPE_INVALID_CHUNK_SIZE', 'chunk size too large');
      this.remaining = this.remaining * 16 + h;
    }
    return pos;
  }

  /** Trailer fields after the last chunk, ignored; the response ends at the empty line. */
  private trailers(buf: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const c = buf[pos++];
      if (c === LF) {
        if (this.trailerLineLen === 0) {
          this.state = State.Done;
          return pos;
        }
        this.trailerLineLen = 0;
      } else if (c !== CR || this.trailerLineLen > 0) {
        if (++this.trailerLineLen > MAX_HEAD_BYTES)
          throw new ResponseParseError('HPE_HEADER_OVERFLOW', 'trailer line too long');
      }
    }
    return pos;
  }
}

/** Index just past the CRLFCRLF (or LFLF) that ends a head, or -1. */
function findHeadEnd(data: Buffer, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    if (data[i] !== LF) continue;
    // A line ends at i; the head ends if the next line is empty.
    if (i + 1 < end && data[i + 1] === LF) return i + 2;
    if (i + 2 < end && data[i + 1] === CR && data[i + 2] === LF) return i + 3;
  }
  return -1;
}

function indexOfLf(data: Buffer, start: number, end: number): number {
  for (let i = start; i < end; i++) if (data[i] === LF) return i;
  return end;
}

function indexOfByte(data: Buffer, b: number, start: number, end: number): number {
  for (let i = start; i < end; i++) if (data[i] === b) return i;
  return -1;
}

/** data[at, at+word.length) equals `word` (lower-case ASCII), ignoring case. */
function matchLower(data: Buffer, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if ((data[at + i] | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

function parseDecimal(data: Buffer, start: number, end: number): number {
  while (start < end && (data[start] === 0x20 || data[start] === 0x09)) start++;
  while (end > start && (data[end - 1] === 0x20 || data[end - 1] === 0x09)) end--;
  if (start === end || end - start > 15)
    throw new ResponseParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = data[i] - 0x30;
    if (d < 0 || d > 9) throw new ResponseParseError('HPE_INVALID_CONTENT_LENGTH', 'invalid Content-Length');
    v = v * 10 + d;
  }
  return v;
}

/** Comma-separated header value contains `token` (case-insensitive). */
function containsTokenLower(data: Buffer, start: number, end: number, token: string): boolean {
  let i = start;
  while (i < end) {
    while (i < end && (data[i] === 0x20 || data[i] === 0x09 || data[i] === 0x2c)) i++;
    let j = i;
    while (j < end && data[j] !== 0x2c) j++;
    let k = j;
    while (k > i && (data[k - 1] === 0x20 || data[k - 1] === 0x09)) k--;
    if (k - i === token.length && matchLower(data, i, token)) return true;
    i = j + 1;
  }
  return false;
}

/** The last comma-separated token of a header value is `token` (case-insensitive). */
function endsWithTokenLower(data: Buffer, start: number, end: number, token: string): boolean {
  while (end > start && (data[end - 1] === 0x20 || data[end - 1] === 0x09)) end--;
  const at = end - token.length;
  if (at < start || !matchLower(data, at, token)) return false;
  for (let i = at - 1; i >= start; i--) {
    const c = data[i];
    if (c === 0x2c) return true;
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}

/** `timeout=N` (seconds) in a Keep-Alive header value, in ms; -1 if absent or malformed. */
function keepAliveTimeout(data: Buffer, start: number, end: number): number {
  const v = data.toString('latin1', start, end);
  const m = /(?:^|[\s,;])timeout\s*=\s*(\d{1,9})\b/i.exec(v);
  return m ? Number(m[1]) * 1000 : -1;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
