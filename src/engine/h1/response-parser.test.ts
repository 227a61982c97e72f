import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_HEAD_BYTES, ResponseParseError, ResponseParser } from './response-parser.js';

interface Parsed {
  status: number;
  heads: number;
  body: string;
  done: boolean;
  keepAlive: boolean;
  /** Bytes after the response (not consumed). */
  rest: string;
}

/** Feeds `wire` in the given pieces (split points), copying each piece into a reused buffer as a socket read would. */
function parse(wire: string, splits: number[] = [], isHead = false, closeAtEnd = false): Parsed {
  const out = { status: 0, heads: 0, body: [] as Buffer[] };
  const p = new ResponseParser({
    onHead(status) {
      out.status = status;
      out.heads++;
    },
    onBody(buf, start, end) {
      out.body.push(Buffer.from(buf.subarray(start, end)));
    },
  });
  p.reset(isHead);
  const bytes = Buffer.from(wire, 'latin1');
  const reused = Buffer.alloc(bytes.length + 16, 0x58); // stale bytes beyond each read must not matter
  const points = [0, ...splits, bytes.length];
  let rest = '';
  for (let i = 0; i + 1 < points.length; i++) {
    const piece = bytes.subarray(points[i], points[i + 1]);
    piece.copy(reused, 0);
    const stop = p.execute(reused, 0, piece.length);
    if (p.done) {
      rest = Buffer.concat([reused.subarray(stop, piece.length), bytes.subarray(points[i + 1])]).toString('latin1');
      break;
    }
  }
  if (closeAtEnd && !p.done) p.finishAtClose();
  return {
    status: out.status,
    heads: out.heads,
    body: Buffer.concat(out.body).toString('latin1'),
    done: p.done,
    keepAlive: p.keepAlive,
    rest,
  };
}

function parseError(wire: string, isHead = false): ResponseParseError {
  try {
    parse(wire, [], isHead);
  } catch (err) {
    assert.ok(err instanceof ResponseParseError, `expected ResponseParseError, got ${err}`);
    return err;
  }
  assert.fail(`no error for ${JSON.stringify(wire)}`);
}

const CASES: {
  name: string;
  wire: string;
  status: number;
  body: string;
  keepAlive: boolean;
  isHead?: boolean;
  closeAtEnd?: boolean;
}[] = [
  {
    name: 'content-length',
    wire: 'HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello',
    status: 200,
    body: 'hello',
    keepAlive: true,
  },
  {
    name: 'content-length 0',
    wire: 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
    status: 200,
    body: '',
    keepAlive: true,
  },
  {
    name: 'no reason phrase',
    wire: 'HTTP/1.1 503\r\nContent-Length: 2\r\n\r\nno',
    status: 503,
    body: 'no',
    keepAlive: true,
  },
  {
    name: 'chunked with extension and trailers',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: yes\r\n\r\n',
    status: 200,
    body: 'hello, world!!!',
    keepAlive: true,
  },
  {
    name: 'chunked, upper-case hex, no trailers',
    wire: 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\n1F\r\n' + 'a'.repeat(31) + '\r\n0\r\n\r\n',
    status: 200,
    body: 'a'.repeat(31),
    keepAlive: true,
  },
  {
    name: '100 Continue then 200',
    wire: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    keepAlive: true,
  },
  {
    name: '103 Early Hints with headers then 404',
    wire: 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx',
    status: 404,
    body: 'x',
    keepAlive: true,
  },
  {
    name: 'Connection: close',
    wire: 'HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    keepAlive: false,
  },
  {
    name: 'Connection: keep-alive, Upgrade (not close)',
    wire: 'HTTP/1.1 200 OK\r\nConnection: keep-alive, upgrade\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    keepAlive: true,
  },
  {
    name: 'HTTP/1.0 closes by default',
    wire: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    keepAlive: false,
  },
  {
    name: 'HTTP/1.0 with keep-alive',
    wire: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    keepAlive: true,
  },
  {
    name: '204 has no body',
    wire: 'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n',
    status: 204,
    body: '',
    keepAlive: true,
  },
  { name: '304 has no body', wire: 'HTTP/1.1 304 Not Modified\r\n\r\n', status: 304, body: '', keepAlive: true },
  {
    name: 'HEAD has no body',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n',
    status: 200,
    body: '',
    keepAlive: true,
    isHead: true,
  },
  {
    name: 'bare LF line ends',
    wire: 'HTTP/1.1 200 OK\nContent-Length: 3\n\nabc',
    status: 200,
    body: 'abc',
    keepAlive: true,
  },
  {
    name: 'body until close',
    wire: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end',
    status: 200,
    body: 'until the end',
    keepAlive: false,
    closeAtEnd: true,
  },
  {
    name: 'Transfer-Encoding without chunked: read until close, Content-Length ignored',
    wire: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabcdef',
    status: 200,
    body: 'abcdef',
    keepAlive: false,
    closeAtEnd: true,
  },
  {
    name: 'chunked and Content-Length: chunked frames it, the connection is not reused',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    status: 200,
    body: 'abc',
    keepAlive: false,
  },
  {
    name: 'repeated equal content-length',
    wire: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length:  2 \r\n\r\nok',
    status: 200,
    body: 'ok',
    keepAlive: true,
  },
];

describe('ResponseParser', () => {
  for (const c of CASES) {
    it(`${c.name}: whole, split at every byte, and one byte at a time`, () => {
      const whole = parse(c.wire, [], c.isHead, c.closeAtEnd);
      const expected = { status: c.status, heads: 1, body: c.body, done: true, keepAlive: c.keepAlive, rest: '' };
      assert.deepEqual(whole, expected);
      for (let at = 1; at < c.wire.length; at++)
        assert.deepEqual(parse(c.wire, [at], c.isHead, c.closeAtEnd), expected, `split at ${at}`);
      const ones = Array.from({ length: c.wire.length - 1 }, (_, i) => i + 1);
      assert.deepEqual(parse(c.wire, ones, c.isHead, c.closeAtEnd), expected, 'one byte per read');
    });
  }

  it('stops at the end of the response: bytes after it are not consumed', () => {
    const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK');
    assert.equal(r.body, 'ok');
    assert.equal(r.rest, 'HTTP/1.1 200 OK');
  });

  it('a response cut short is not done at close; a read-until-close body is', () => {
    const p = new ResponseParser({ onHead() {}, onBody() {} });
    p.reset(false);
    const b = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
    p.execute(b, 0, b.length);
    assert.equal(p.finishAtClose(), false);
    assert.equal(p.done, false);
  });

  it("reads the server's idle limit from Keep-Alive: timeout=N", () => {
    const p = new ResponseParser({ onHead() {}, onBody() {} });
    for (const [header, ms] of [
      ['Keep-Alive: timeout=5', 5000],
      ['keep-alive: max=100, timeout=75', 75000],
      ['Keep-Alive: max=3', -1],
      ['X-Other: timeout=5', -1],
    ] as const) {
      p.reset(false);
      const b = Buffer.from(`HTTP/1.1 200 OK\r\n${header}\r\nContent-Length: 0\r\n\r\n`);
      p.execute(b, 0, b.length);
      assert.equal(p.keepAliveTimeoutMs, ms, header);
    }
  });

  it('can be reused for the next response after reset', () => {
    const seen: number[] = [];
    const p = new ResponseParser({ onHead: (s) => seen.push(s), onBody() {} });
    for (const s of [200, 404, 500]) {
      p.reset(false);
      const b = Buffer.from(`HTTP/1.1 ${s} X\r\nContent-Length: 1\r\n\r\n.`);
      assert.equal(p.execute(b, 0, b.length), b.length);
      assert.ok(p.done);
    }
    assert.deepEqual(seen, [200, 404, 500]);
  });

  const BAD: [string, string, string][] = [
    ['not HTTP', 'hello world, this is not http\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['HTTP/2 status line', 'HTTP/2 200 OK\r\n\r\n', 'HPE_INVALID_CONSTANT'],
    ['non-digit status', 'HTTP/1.1 2x0 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['status 600', 'HTTP/1.1 600 Odd\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['missing space', 'HTTP/1.1200 OK\r\n\r\n', 'HPE_INVALID_STATUS'],
    ['bad content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    ['negative content-length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'HPE_INVALID_CONTENT_LENGTH'],
    [
      'conflicting content-length',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    ],
    ['header without a name', 'HTTP/1.1 200 OK\r\n: v\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['header without a colon', 'HTTP/1.1 200 OK\r\nnocolon\r\n\r\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    ['empty chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n', 'HPE_INVALID_CHUNK_SIZE'],
    [
      'huge chunk size',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n',
      'HPE_INVALID_CHUNK_SIZE',
    ],
    ['chunk data without CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd', 'HPE_STRICT'],
    ['101 upgrade', 'HTTP/1.1 101 Switching Protocols\r\n\r\n', 'HPE_UNEXPECTED_UPGRADE'],
  ];
  for (const [name, wire, code] of BAD) {
    it(`rejects ${name} with ${code}`, () => {
      const err = parseError(wire);
      assert.equal(err.code, code);
      assert.equal(err.name, 'HTTPParserError');
    });
  }

  it('rejects a head larger than the limit, whether it arrives at once or in pieces', () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`;
    assert.equal(parseError(big).code, 'HPE_HEADER_OVERFLOW');
    const noEnd = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES + 10)}`;
    const splits = Array.from({ length: 20 }, (_, i) => (i + 1) * 1000);
    assert.throws(
      () => parse(noEnd, splits),
      (e: ResponseParseError) => e.code === 'HPE_HEADER_OVERFLOW',
    );
  });
});

describe('ResponseParser property: any well-formed response, cut anywhere', () => {
  /** A response built from parts, with the truth it must parse to. */
  const header = fc.tuple(
    fc.constantFrom(
      'X-Request-Id',
      'content-type',
      'X-Content-Length',
      'Content-Lengthy',
      'Server',
      'transfer-encodings',
      'connections',
      'Keep-Alive',
    ),
    fc.stringMatching(/^[\x21-\x7e]{0,12}$/),
  );
  const response = fc.record({
    minor: fc.constantFrom(0, 1),
    status: fc.oneof(fc.integer({ min: 200, max: 599 }), fc.constantFrom(204, 304)),
    informational: fc.array(fc.constantFrom(100, 102, 103), { maxLength: 2 }),
    headers: fc.array(header, { maxLength: 5 }),
    framing: fc.constantFrom('length', 'chunked', 'close'),
    close: fc.boolean(),
    keepAliveHeader: fc.boolean(),
    chunks: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 5 }),
    isHead: fc.boolean(),
    eol: fc.constantFrom('\r\n', '\n'),
  });
  const cuts = fc.array(fc.integer({ min: 1, max: 2000 }), { maxLength: 6 });

  it('parses to the status, body and keep-alive it was built with', () => {
    fc.assert(
      fc.property(response, cuts, (r, rawCuts) => {
        const E = r.eol;
        const body = Buffer.concat(r.chunks.map((c) => Buffer.from(c)));
        let wire = '';
        for (const s of r.informational) wire += `HTTP/1.1 ${s} Info${E}X-Hint: a${E}${E}`;
        wire += `HTTP/1.${r.minor} ${r.status} Reason Phrase${E}`;
        for (const [k, v] of r.headers) if (k !== 'Keep-Alive') wire += `${k}: ${v}${E}`;
        if (r.close) wire += `Connection: close${E}`;
        else if (r.minor === 0 && r.keepAliveHeader) wire += `Connection: keep-alive${E}`;
        const noBody = r.isHead || r.status === 204 || r.status === 304;
        let bodyWire = Buffer.alloc(0);
        if (r.framing === 'length') {
          wire += `Content-Length: ${body.length}${E}`;
          if (!noBody) bodyWire = body;
        } else if (r.framing === 'chunked') {
          wire += `Transfer-Encoding: chunked${E}`;
          if (!noBody) {
            const parts: Buffer[] = [];
            for (const c of r.chunks)
              if (c.length > 0)
                parts.push(Buffer.from(`${c.length.toString(16)};x=1\r\n`), Buffer.from(c), Buffer.from('\r\n'));
            parts.push(Buffer.from('0\r\nTrailer-Field: 1\r\n\r\n'));
            bodyWire = Buffer.concat(parts);
          }
        } else if (!noBody) {
          bodyWire = body;
        }
        wire += E;
        const bytes = Buffer.concat([Buffer.from(wire, 'latin1'), bodyWire]);
        const untilClose = r.framing === 'close' && !noBody;
        const expectedKeepAlive = !r.close && !untilClose && (r.minor === 1 || r.keepAliveHeader);
        const points = [...new Set(rawCuts.map((c) => c % bytes.length).filter((c) => c > 0))].sort((a, b) => a - b);
        const got = parse(bytes.toString('latin1'), points, r.isHead, untilClose);
        assert.equal(got.status, r.status);
        assert.equal(got.heads, 1, 'informational responses are skipped');
        assert.equal(got.done, true);
        assert.equal(got.rest, '');
        assert.equal(Buffer.from(got.body, 'latin1').equals(noBody ? Buffer.alloc(0) : body), true, 'body bytes');
        assert.equal(got.keepAlive, expectedKeepAlive);
      }),
      { numRuns: 2000, seed: 20261123 },
    );
  });
});
