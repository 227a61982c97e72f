/**
 * The HTTP/1.1 framer finds each message's end wherever the stream is cut into reads: streams of
 * known messages (Content-Length, chunked with extensions and trailers, HEAD, 1xx, 204, 304, close-
 * delimited, 101 upgrade) are fed in every two-way split and in seeded random splits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../core/random.js';
import { HttpExchange, HttpFramer, UNFRAMED } from './tcp-framer.js';

/** Feeds `stream` cut at `cuts`; returns the absolute offsets where messages ended and each byte's sequence number. */
function frame(framer: HttpFramer, stream: Buffer, cuts: number[]): { ends: number[]; seqs: Int32Array } {
  const ends: number[] = [];
  const seqs = new Int32Array(stream.length);
  let from = 0;
  for (const to of [...cuts, stream.length]) {
    const chunk = stream.subarray(from, to);
    let pos = 0;
    while (pos < chunk.length) {
      const seq = framer.seq;
      const end = framer.scan(chunk, pos);
      const stop = end < 0 ? chunk.length : end;
      assert.ok(stop > pos, 'progress');
      seqs.fill(end < 0 ? framer.seq : seq, from + pos, from + stop);
      if (end >= 0) ends.push(from + end);
      pos = stop;
    }
    from = to;
  }
  return { ends, seqs };
}

const requests = [
  'GET /a HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world',
  'POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n',
  'HEAD /d HTTP/1.1\r\nHost: x\r\n\r\n',
  '\r\nGET /e HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n',
  'PUT /f HTTP/1.1\nHost: x\ncontent-length: 3\n\nabc',
];
const responses = [
  'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', // answer to HEAD: no body
  'HTTP/1.1 304 Not Modified\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
];

function expectedEnds(parts: string[]): number[] {
  let at = 0;
  return parts.map((p) => (at += Buffer.byteLength(p, 'latin1')));
}

/** Ways to cut a stream of `len` bytes into reads: whole, every two-way cut, 300 seeded random multi-way cuts. */
function splitsOf(len: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const splits: number[][] = [[]];
  for (let c = 1; c < len; c++) splits.push([c]);
  for (let i = 0; i < 300; i++) splits.push(cutsFor(len, rng, 1 + rng.int(40)));
  return splits;
}

function cutsFor(len: number, rng: Rng, n: number): number[] {
  const cuts = new Set<number>();
  for (let i = 0; i < n; i++) cuts.add(1 + rng.int(len - 1));
  return [...cuts].sort((a, b) => a - b);
}

test('requests: every message end found, whatever the reads', () => {
  const stream = Buffer.from(requests.join(''), 'latin1');
  const want = expectedEnds(requests);
  for (const cuts of splitsOf(stream.length, 3)) {
    let counted = 0;
    const ex = new HttpExchange(
      () => counted++,
      () => assert.fail('unframed'),
    );
    const { ends, seqs } = frame(new HttpFramer(true, ex), stream, cuts);
    assert.deepEqual(ends, want, `cuts ${cuts.join(',')}`);
    assert.equal(counted, requests.length);
    assert.deepEqual(ex.pending, [0, 0, 0, 1, 0, 0]);
    assert.equal(seqs[0], 0);
    assert.equal(seqs[stream.length - 1], requests.length - 1);
    assert.equal(seqs[want[1]], 2, 'the first byte of the third request');
  }
});

test('responses: HEAD, 1xx, 204 and 304 have no body; 1xx keeps the sequence number', () => {
  const stream = Buffer.from(responses.join(''), 'latin1');
  const want = expectedEnds(responses);
  for (const cuts of splitsOf(stream.length, 4)) {
    const ex = new HttpExchange(
      () => {},
      () => assert.fail('unframed'),
    );
    ex.pending.push(0, 0, 0, 1, 0, 0);
    const { ends, seqs } = frame(new HttpFramer(false, ex), stream, cuts);
    assert.deepEqual(ends, want, `cuts ${cuts.join(',')}`);
    // The 100 Continue and the 201 after it are one message (sequence 1).
    assert.equal(seqs[want[0]], 1);
    assert.equal(seqs[want[1] - 1], 1);
    assert.equal(ex.pending.length, 0);
  }
});

test('a close-delimited response is one message up to the end of the stream', () => {
  const ex = new HttpExchange(
    () => {},
    () => assert.fail('unframed'),
  );
  const f = new HttpFramer(false, ex);
  const head = Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n');
  assert.equal(f.scan(head, 0), -1);
  assert.equal(f.scan(Buffer.alloc(100_000), 0), -1);
  assert.equal(f.seq, 0);
  assert.equal(f.failed, false);
});

test('not HTTP/1.x, a 101 upgrade, bad chunk sizes: the rest is unframed, counted once', () => {
  const cases: Array<[boolean, string]> = [
    [true, '\x16\x03\x01\x00\x05hello'], // TLS
    [true, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'], // HTTP/2 preface
    [true, 'POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'], // request body of unknown length
    [true, 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    [false, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    [false, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello'],
    [true, `GET /${'a'.repeat(70_000)} HTTP/1.1\r\n\r\n`], // head over 64 KiB
  ];
  for (const [isRequest, text] of cases) {
    let unframed = 0;
    const f = new HttpFramer(
      isRequest,
      new HttpExchange(
        () => {},
        () => unframed++,
      ),
    );
    const buf = Buffer.from(text, 'latin1');
    let pos = 0;
    while (pos < buf.length) {
      const end = f.scan(buf, pos);
      if (end < 0) break;
      pos = end;
    }
    f.skim(Buffer.from('more'));
    assert.equal(f.failed, true, JSON.stringify(text.slice(0, 40)));
    assert.equal(f.seq, UNFRAMED);
    assert.equal(unframed, 1);
  }
});
