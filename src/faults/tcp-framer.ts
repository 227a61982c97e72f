/**
 * HTTP/1.1 message boundaries in a TCP byte stream, found incrementally and without copying the
 * payload: the head is scanned for its blank line (heads that span reads are kept, heads only),
 * bodies are counted (Content-Length, chunked, or until close). The fault proxy uses it to draw a
 * fault per request on a keep-alive connection, and to count requests.
 *
 * Request n and response n (1xx interim responses included) carry the same sequence number. When a
 * stream cannot be framed (not HTTP/1.x, a tunnel after 101 or CONNECT, a head over 64 KiB), the
 * rest of it is one unframed message: sequence {@link UNFRAMED}.
 */

/** The sequence number of every byte after framing failed (the rest of the connection). */
export const UNFRAMED = -1;

/** What the two directions of one connection share: the requests' methods, in order. */
export class HttpExchange {
  /** Per request whose response has not started yet: 1 = HEAD (no body), 2 = CONNECT (a tunnel on 2xx), 0 other. */
  readonly pending: number[] = [];
  /** Set by the first framer that gives up (a connection is counted once). */
  unframed = false;
  constructor(
    /** Called once per request head framed. */
    readonly onRequest: () => void,
    /** Called once per connection, when one of its streams cannot be framed. */
    readonly onUnframed: () => void,
  ) {}
}

const MAX_HEAD = 64 * 1024;
const MAX_CHUNK_EXT = 4096;
const CR = 13;
const LF = 10;

const HEAD = 0;
const BODY = 1;
const CHUNK_SIZE = 2;
const CHUNK_EXT = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_END = 5;
const TRAILERS = 6;
const UNTIL_CLOSE = 7;
const FAILED = 8;

const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) \S+ HTTP\/1\.[01]$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;

export class HttpFramer {
  /** Sequence number of the message the next byte belongs to. */
  seq = 0;
  private state = HEAD;
  /** Head scanning: bytes in the current line so far, its last byte, lines so far, bytes so far. */
  private lineLen = 0;
  private lastByte = 0;
  private lines = 0;
  private headBytes = 0;
  /** Pieces of a head that spans reads (views, not copies, of the reads). */
  private headParts: Buffer[] = [];
  /** Body or chunk bytes still to come. */
  private remaining = 0;
  private chunkSize = 0;
  private chunkDigits = 0;
  private extBytes = 0;

  constructor(
    private readonly isRequest: boolean,
    private readonly exchange: HttpExchange,
  ) {}

  /** Whether framing gave up on this stream. */
  get failed(): boolean {
    return this.state === FAILED;
  }

  /** Advances over all of `buf` (counting messages, splitting nothing). */
  skim(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      const end = this.scan(buf, pos);
      if (end < 0) return;
      pos = end;
    }
  }

  /**
   * Advances from `pos`: returns the offset just after the end of the current message if it ends
   * inside `buf` (then `seq` has moved to the next message), or -1 if it goes on past `buf`.
   * Never returns `pos` itself (a message has at least one byte).
   */
  scan(buf: Buffer, pos: number): number {
    const len = buf.length;
    let i = pos;
    while (i < len) {
      switch (this.state) {
        case HEAD: {
          const start = i;
          let end = -1;
          // Line by line (the LF found natively); a line may span reads: lineLen and lastByte carry it.
          while (i < len) {
            if (this.lines === 0 && this.lineLen === 0) {
              const b = buf[i];
              if (b === CR || b === LF) {
                i++; // an empty line before the start line (allowed; skipped)
                continue;
              }
              // Fail fast on what cannot start an HTTP/1.x message (TLS, HTTP/2, binary protocols).
              if (!startsMessage(b, this.isRequest)) return this.fail();
            }
            const lf = buf.indexOf(LF, i);
            if (lf < 0) {
              this.lineLen += len - i;
              this.lastByte = buf[len - 1];
              i = len;
              break;
            }
            const lineBytes = this.lineLen + (lf - i);
            const before = lf > i ? buf[lf - 1] : this.lastByte;
            i = lf + 1;
            this.lineLen = 0;
            if (lineBytes === 0 || (lineBytes === 1 && before === CR)) {
              end = i;
              break;
            }
            this.lines++;
          }
          const stop = end < 0 ? len : end;
          this.headBytes += stop - start;
          if (this.headBytes > MAX_HEAD) return this.fail();
          if (end < 0) {
            this.headParts.push(buf.subarray(start, len));
            return -1;
          }
          const last = buf.subarray(start, end);
          const head = this.headParts.length === 0 ? last : Buffer.concat([...this.headParts, last]);
          this.headParts = [];
          this.lines = 0;
          this.lineLen = 0;
          this.headBytes = 0;
          const r = this.isRequest ? this.requestHead(head) : this.responseHead(head);
          if (r === FAILED) return this.fail();
          if (r === UPGRADED) return this.endMessage(i, true);
          if (r === INTERIM) continue; // the final response follows, same sequence number
          if (r === NO_BODY) return this.endMessage(i, false);
          break;
        }
        case BODY: {
          const at = this.take(len, i);
          return at < 0 ? -1 : this.endMessage(at, false);
        }
        case CHUNK_SIZE: {
          const b = buf[i++];
          const v = hexValue(b);
          if (v >= 0) {
            if (++this.chunkDigits > 13) return this.fail(); // > 2^52 bytes: not a real chunk
            this.chunkSize = this.chunkSize * 16 + v;
          } else if (b === LF) {
            if (!this.chunkSizeDone()) return this.fail();
          } else if (b === CR || b === 59 /* ; */ || b === 32 || b === 9) {
            if (this.chunkDigits === 0) return this.fail();
            this.state = CHUNK_EXT;
            this.extBytes = 0;
          } else return this.fail();
          break;
        }
        case CHUNK_EXT: {
          const b = buf[i++];
          if (b === LF) {
            if (!this.chunkSizeDone()) return this.fail();
          } else if (++this.extBytes > MAX_CHUNK_EXT) return this.fail();
          break;
        }
        case CHUNK_DATA: {
          i = this.take(len, i);
          if (i < 0) return -1;
          this.state = CHUNK_DATA_END;
          break;
        }
        case CHUNK_DATA_END: {
          const b = buf[i++];
          if (b === LF) {
            this.state = CHUNK_SIZE;
            this.chunkSize = 0;
            this.chunkDigits = 0;
          } else if (b !== CR) return this.fail();
          break;
        }
        case TRAILERS: {
          for (; i < len; i++) {
            const b = buf[i];
            if (b === LF) {
              if (this.lineLen === 0) return this.endMessage(i + 1, false);
              this.lineLen = 0;
            } else if (b !== CR) this.lineLen++;
            if (++this.headBytes > MAX_HEAD) return this.fail();
          }
          return -1;
        }
        default: // UNTIL_CLOSE, FAILED: the rest of the stream is this message
          return -1;
      }
    }
    return -1;
  }

  /** Counts body bytes from `i`: the offset just after the last one if they end before `len`, else -1. */
  private take(len: number, i: number): number {
    const avail = len - i;
    if (avail < this.remaining) {
      this.remaining -= avail;
      return -1;
    }
    const at = i + this.remaining;
    this.remaining = 0;
    return at;
  }

  private chunkSizeDone(): boolean {
    if (this.chunkDigits === 0) return false;
    if (this.chunkSize === 0) {
      this.state = TRAILERS;
      this.lineLen = 0;
      this.headBytes = 0;
    } else {
      this.remaining = this.chunkSize;
      this.state = CHUNK_DATA;
    }
    return true;
  }

  private endMessage(at: number, upgraded: boolean): number {
    this.seq++;
    if (upgraded) {
      this.giveUp();
      return at;
    }
    this.state = HEAD;
    this.lineLen = 0;
    this.lines = 0;
    this.headBytes = 0;
    return at;
  }

  private fail(): number {
    this.giveUp();
    return -1;
  }

  private giveUp(): void {
    this.state = FAILED;
    this.seq = UNFRAMED;
    this.headParts = [];
    if (!this.exchange.unframed) {
      this.exchange.unframed = true;
      this.exchange.onUnframed();
    }
  }

  private requestHead(head: Buffer): number {
    const h = parseHead(head);
    if (h === null) return FAILED;
    const m = REQUEST_LINE.exec(h.start);
    if (m === null) return FAILED;
    const method = m[1];
    // Only while the responses are framed (else nothing would take these and the list would grow).
    if (!this.exchange.unframed) this.exchange.pending.push(method === 'HEAD' ? 1 : method === 'CONNECT' ? 2 : 0);
    this.exchange.onRequest();
    if (h.te !== null) {
      if (!h.chunked) return FAILED; // a request body of unknown length cannot be framed
      return this.startChunked();
    }
    if (h.length > 0) return this.startBody(h.length);
    return NO_BODY;
  }

  private responseHead(head: Buffer): number {
    const h = parseHead(head);
    if (h === null) return FAILED;
    const m = STATUS_LINE.exec(h.start);
    if (m === null) return FAILED;
    const status = Number(m[1]);
    if (status === 101) return UPGRADED;
    if (status < 200) return INTERIM;
    const req = this.exchange.pending.shift() ?? 0;
    if (req === 2 && status < 300) return UPGRADED; // CONNECT: a tunnel follows
    if (req === 1 || status === 204 || status === 304) return NO_BODY;
    if (h.te !== null) {
      if (h.chunked) return this.startChunked();
      this.state = UNTIL_CLOSE;
      return BODY_STARTED;
    }
    if (h.length >= 0) return h.length === 0 ? NO_BODY : this.startBody(h.length);
    this.state = UNTIL_CLOSE;
    return BODY_STARTED;
  }

  private startBody(length: number): number {
    this.state = BODY;
    this.remaining = length;
    return BODY_STARTED;
  }

  private startChunked(): number {
    this.state = CHUNK_SIZE;
    this.chunkSize = 0;
    this.chunkDigits = 0;
    return BODY_STARTED;
  }
}

// Outcomes of a head (besides FAILED).
const NO_BODY = 100;
const BODY_STARTED = 101;
const INTERIM = 102;
const UPGRADED = 103;

interface Head {
  start: string;
  /** Content-Length, -1 when absent. */
  length: number;
  /** Transfer-Encoding as sent (lower case), null when absent. */
  te: string | null;
  chunked: boolean;
}

/**
 * The start line and the framing headers of a head. Only the start line and the values of
 * Content-Length and Transfer-Encoding become strings; other header lines are skipped by their
 * first bytes (this runs once per message on the proxy's thread).
 */
function parseHead(head: Buffer): Head | null {
  const n = head.length;
  let i = 0;
  while (i < n && (head[i] === CR || head[i] === LF)) i++;
  let eol = head.indexOf(LF, i);
  if (eol < 0) eol = n;
  const out: Head = { start: head.toString('latin1', i, lineEnd(head, i, eol)), length: -1, te: null, chunked: false };
  for (let p = eol + 1; p < n; p = eol + 1) {
    eol = head.indexOf(LF, p);
    if (eol < 0) eol = n;
    const end = lineEnd(head, p, eol);
    if (hasName(head, p, end, CONTENT_LENGTH)) {
      const v = head.toString('latin1', p + CONTENT_LENGTH.length + 1, end).trim();
      if (!/^\d{1,15}$/.test(v)) return null;
      const len = Number(v);
      if (out.length >= 0 && out.length !== len) return null; // conflicting lengths: not framable
      out.length = len;
    } else if (hasName(head, p, end, TRANSFER_ENCODING)) {
      const v = head
        .toString('latin1', p + TRANSFER_ENCODING.length + 1, end)
        .trim()
        .toLowerCase();
      out.te = out.te === null ? v : `${out.te}, ${v}`;
    }
  }
  if (out.te !== null) {
    const codings = out.te.split(',');
    out.chunked = codings[codings.length - 1].trim() === 'chunked';
  }
  return out;
}

const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const TRANSFER_ENCODING = Buffer.from('transfer-encoding', 'latin1');

/** The end of the line from `start` to the LF at `eol`, without its CR. */
function lineEnd(buf: Buffer, start: number, eol: number): number {
  return eol > start && buf[eol - 1] === CR ? eol - 1 : eol;
}

/** Whether the line from `p` to `end` is header `name` (lower case), i.e. starts with `name:` in any case. */
function hasName(buf: Buffer, p: number, end: number, name: Buffer): boolean {
  const k = name.length;
  if (end - p <= k || buf[p + k] !== 58 /* : */) return false;
  for (let j = 0; j < k; j++) if ((buf[p + j] | 0x20) !== name[j]) return false;
  return true;
}

/** A request starts with a method (a token: letters in practice), a response with `H`. */
function startsMessage(b: number, isRequest: boolean): boolean {
  if (!isRequest) return b === 72;
  return (b >= 65 && b <= 90) || (b >= 97 && b <= 122);
}

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}
