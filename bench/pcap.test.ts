/**
 * bench/pcap.ts: the pcap reader and HTTP/SSE reassembly on hand-built captures (every branch the
 * loopback bench can meet: split segments, retransmissions, sequence wrap, IPv6, µs and ns files of
 * either byte order, a missing or cut packet), and, when tcpdump and root are there, on a real
 * capture of a loopback SSE server.
 *
 *   node --test dist/bench/pcap.test.js
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { captureProblem, decodeTcp, httpExchanges, readPcap, startCapture } from './pcap.js';

const SERVER = 8080;
const CLIENT = 40000;
const SYN = 0x02;
const ACK = 0x10;
const PSH = 0x08;
const FIN = 0x01;

function tcp(sport: number, dport: number, seq: number, flags: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h[12] = 5 << 4;
  h[13] = flags;
  return Buffer.concat([h, payload]);
}

function ipv4(seg: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + seg.length, 2);
  h[8] = 64;
  h[9] = 6;
  Buffer.from([127, 0, 0, 1]).copy(h, 12);
  Buffer.from([127, 0, 0, 1]).copy(h, 16);
  return Buffer.concat([h, seg]);
}

function ipv6(seg: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(seg.length, 4);
  h[6] = 6;
  h[7] = 64;
  h[23] = 1; // ::1
  h[39] = 1;
  return Buffer.concat([h, seg]);
}

function ether(ip: Buffer, v6: boolean): Buffer {
  const h = Buffer.alloc(14);
  h.writeUInt16BE(v6 ? 0x86dd : 0x0800, 12);
  return Buffer.concat([h, ip]);
}

interface Rec {
  /** µs since the start of the capture (absolute base added below). */
  tUs: number;
  frame: Buffer;
  /** Captured bytes (default: all). */
  cut?: number;
}

function pcapFile(recs: Rec[], opts: { nanos: boolean; bigEndian?: boolean }): Buffer {
  const be = opts.bigEndian === true;
  const w32 = (b: Buffer, v: number, o: number) => (be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o));
  const g = Buffer.alloc(24);
  w32(g, opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  (be ? g.writeUInt16BE.bind(g) : g.writeUInt16LE.bind(g))(2, 4);
  (be ? g.writeUInt16BE.bind(g) : g.writeUInt16LE.bind(g))(4, 6);
  w32(g, 262144, 16);
  w32(g, 1, 20); // DLT_EN10MB
  const parts: Buffer[] = [g];
  const baseS = 1_800_000_000;
  const baseUs = 999_000; // so that records cross a second boundary
  for (const r of recs) {
    const us = baseUs + r.tUs;
    const h = Buffer.alloc(16);
    const data = r.cut === undefined ? r.frame : r.frame.subarray(0, r.cut);
    w32(h, baseS + Math.floor(us / 1e6), 0);
    w32(h, opts.nanos ? (us % 1e6) * 1000 : us % 1e6, 4);
    w32(h, data.length, 8);
    w32(h, r.frame.length, 12);
    parts.push(h, data);
  }
  return Buffer.concat(parts);
}

/** Frames of one connection: c(…) client → server, s(…) server → client, with running sequence numbers. */
function conversation(v6: boolean, isnC = 1000, isnS = 5000) {
  let seqC = isnC;
  let seqS = isnS;
  const recs: Rec[] = [];
  const frame = (seg: Buffer) => ether(v6 ? ipv6(seg) : ipv4(seg), v6);
  return {
    recs,
    open(tUs: number) {
      recs.push({ tUs, frame: frame(tcp(CLIENT, SERVER, seqC, SYN, Buffer.alloc(0))) });
      recs.push({ tUs, frame: frame(tcp(SERVER, CLIENT, seqS, SYN | ACK, Buffer.alloc(0))) });
      seqC = (seqC + 1) >>> 0;
      seqS = (seqS + 1) >>> 0;
    },
    c(tUs: number, text: string, opts: { resend?: boolean; skip?: boolean; cut?: number } = {}) {
      const p = Buffer.from(text);
      const seq = opts.resend ? (seqC - p.length) >>> 0 : seqC;
      if (!opts.skip) recs.push({ tUs, frame: frame(tcp(CLIENT, SERVER, seq, PSH | ACK, p)), cut: opts.cut });
      if (!opts.resend) seqC = (seqC + p.length) >>> 0;
    },
    s(tUs: number, text: string, opts: { resend?: boolean; skip?: boolean; fin?: boolean } = {}) {
      const p = Buffer.from(text);
      const seq = opts.resend ? (seqS - p.length) >>> 0 : seqS;
      const flags = PSH | ACK | (opts.fin ? FIN : 0);
      if (!opts.skip) recs.push({ tUs, frame: frame(tcp(SERVER, CLIENT, seq, flags, p)) });
      if (!opts.resend) seqS = (seqS + p.length + (opts.fin ? 1 : 0)) >>> 0;
    },
    /** A pure ACK (no payload) from the client. */
    ack(tUs: number) {
      recs.push({ tUs, frame: frame(tcp(CLIENT, SERVER, seqC, ACK, Buffer.alloc(0))) });
    },
  };
}

const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
const ev = (data: string) => `data: ${data}\n\n`;
const BODY = '{"model":"tiny","stream":true}';
const REQ_HEAD = `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${BODY.length}\r\n\r\n`;
const RES_HEAD =
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nx-timed-id: 7\r\ntransfer-encoding: chunked\r\n\r\n';

/** ms with µs-level rounding: the files hold µs or ns, the reader returns doubles. */
const near = (a: number | undefined, b: number) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-6, `${a} ≠ ${b}`);

describe('pcap: HTTP/1.1 + SSE from hand-built captures', () => {
  for (const [nanos, bigEndian] of [
    [true, false],
    [false, true],
  ] as const)
    it(`IPv4, ${nanos ? 'ns' : 'µs'} timestamps, ${bigEndian ? 'big' : 'little'}-endian: split segments, a retransmission, keep-alive`, () => {
      const k = conversation(false);
      k.open(0);
      k.c(1000, REQ_HEAD); // headers at 1 ms
      k.c(2000, BODY); // body at 2 ms: the request's last byte
      k.ack(2500);
      const role = chunk(ev('{"choices":[{"delta":{"role":"assistant"}}]}'));
      k.s(10_000, RES_HEAD + role);
      const tok0 = chunk(ev('{"choices":[{"delta":{"content":"w0 "}}]}'));
      k.s(100_000, tok0.slice(0, 20)); // an event split across two segments …
      k.s(101_250, tok0.slice(20)); // … complete at 101.25 ms
      k.s(101_500, tok0.slice(20), { resend: true }); // retransmitted: read once
      k.s(116_000, chunk(ev('{"choices":[{"delta":{"content":"w1 "}}]}')));
      k.s(117_000, chunk(ev('[DONE]')) + '0\r\n\r\n');
      // Second request on the same connection: plain, Content-Length.
      k.c(200_000, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      k.s(210_000, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n');
      k.s(211_500, 'ok');
      const w = httpExchanges(readPcap(pcapFile(k.recs, { nanos, bigEndian })), SERVER);
      assert.equal(w.broken, 0, w.problems.join('; '));
      assert.equal(w.connections, 1);
      assert.equal(w.exchanges.length, 2);
      const [a, b] = w.exchanges;
      assert.equal(a.method, 'POST');
      assert.equal(a.path, '/v1/chat/completions');
      assert.equal(a.status, 200);
      assert.equal(a.headers?.['x-timed-id'], '7');
      near(a.requestFirstMs, 1);
      near(a.requestLastMs, 2);
      near(a.responseFirstMs, 10);
      assert.deepEqual(
        a.events.map((e) => e.data),
        [
          '{"choices":[{"delta":{"role":"assistant"}}]}',
          '{"choices":[{"delta":{"content":"w0 "}}]}',
          '{"choices":[{"delta":{"content":"w1 "}}]}',
          '[DONE]',
        ],
      );
      [10, 101.25, 116, 117].forEach((t, i) => near(a.events[i].tMs, t));
      near(a.responseLastMs, 117);
      assert.equal(b.path, '/');
      near(b.requestLastMs, 200);
      near(b.responseFirstMs, 210);
      near(b.responseLastMs, 211.5);
      assert.deepEqual(b.events, []);
    });

  it('IPv6, sequence numbers wrapping at 2^32, a close-delimited body', () => {
    const k = conversation(true, 0xfffffff0, 0xfffffffa);
    k.open(0);
    k.c(500, 'GET /x HTTP/1.1\r\nhost: y\r\n\r\n');
    k.s(3000, 'HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nab');
    k.s(4000, 'cd', { fin: true });
    const w = httpExchanges(readPcap(pcapFile(k.recs, { nanos: true })), SERVER);
    assert.equal(w.broken, 0, w.problems.join('; '));
    assert.equal(w.exchanges.length, 1);
    near(w.exchanges[0].requestLastMs, 0.5);
    near(w.exchanges[0].responseFirstMs, 3);
    near(w.exchanges[0].responseLastMs, 4);
  });

  it('an IP length field of 0 (BIG TCP, over 64 KiB) is read from the frame length', () => {
    const k = conversation(false);
    k.open(0);
    k.c(1000, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    k.s(2000, 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    k.recs[k.recs.length - 1].frame.writeUInt16BE(0, 14 + 2);
    const w = httpExchanges(readPcap(pcapFile(k.recs, { nanos: true })), SERVER);
    assert.equal(w.broken, 0, w.problems.join('; '));
    near(w.exchanges[0].responseLastMs, 2);
  });

  it('a packet missing from the capture or cut by the snap length makes the connection unreadable', () => {
    const gap = conversation(false);
    gap.open(0);
    gap.c(1000, REQ_HEAD + BODY);
    gap.s(2000, RES_HEAD);
    gap.s(3000, chunk(ev('{"choices":[{"delta":{"content":"a"}}]}')), { skip: true });
    gap.s(4000, chunk(ev('{"choices":[{"delta":{"content":"b"}}]}')));
    const w = httpExchanges(readPcap(pcapFile(gap.recs, { nanos: true })), SERVER);
    assert.equal(w.broken, 1);
    assert.match(w.problems[0], /bytes missing from the capture \(server → client\)/);
    assert.deepEqual(w.exchanges[0].events, [], 'nothing read past the gap');

    const cut = conversation(false);
    cut.open(0);
    cut.c(1000, REQ_HEAD + BODY, { cut: 60 });
    const c = httpExchanges(readPcap(pcapFile(cut.recs, { nanos: true })), SERVER);
    assert.equal(c.broken, 1);
    assert.match(c.problems[0], /snap length/);
  });

  it('bytes that are not HTTP/1.1 are reported, not guessed at', () => {
    const k = conversation(false);
    k.open(0);
    k.c(1000, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const w = httpExchanges(readPcap(pcapFile(k.recs, { nanos: true })), SERVER);
    assert.equal(w.broken, 1);
    assert.match(w.problems[0], /not an HTTP\/1\.1 request line/);
  });

  it('a pcapng file or a short file is refused with a clear error', () => {
    assert.throws(() => readPcap(Buffer.from([0x0a, 0x0d, 0x0d, 0x0a, ...new Array(28).fill(0)])), /pcapng/);
    assert.throws(() => readPcap(Buffer.alloc(10)), /shorter than the 24-byte global header/);
  });
});

const canCapture =
  os.platform() === 'linux' &&
  process.getuid?.() === 0 &&
  spawnSync('sh', ['-c', 'command -v tcpdump'], { stdio: 'ignore' }).status === 0;

describe('pcap: a real tcpdump capture of a loopback SSE server', {
  skip: canCapture ? false : 'needs root and tcpdump',
}, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'preflight-pcap-test-'));
  const writes: number[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const next = () => {
      res.write(ev(`{"choices":[{"delta":{"content":"t${i}"}}]}`));
      writes.push(performance.now());
      if (++i < 4) setTimeout(next, 40);
      else res.end(ev('[DONE]'));
    };
    setTimeout(next, 30);
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the request and each event, spaced as the server wrote them', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const cap = await startCapture(port, dir, 'sse');
    let stats: Awaited<ReturnType<typeof cap.stop>>;
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
        method: 'POST',
        body: BODY,
        signal: AbortSignal.timeout(10_000),
      });
      await res.text();
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      stats = await cap.stop();
    }
    assert.equal(stats.droppedByKernel, 0, stats.log);
    assert.ok(stats.captured > 0, stats.log);
    assert.equal(stats.notWritten, 0, `every packet the kernel saw is in the file: ${stats.log}`);
    const w = httpExchanges(readPcap(readFileSync(stats.file)), port);
    assert.equal(w.broken, 0, w.problems.join('; '));
    assert.equal(w.exchanges.length, 1);
    const e = w.exchanges[0];
    assert.equal(e.method, 'POST');
    assert.deepEqual(
      e.events.map((x) => x.data),
      ['t0', 't1', 't2', 't3'].map((t) => `{"choices":[{"delta":{"content":"${t}"}}]}`).concat('[DONE]'),
    );
    assert.ok(e.requestLastMs < e.events[0].tMs);
    assert.equal(captureProblem(stats, w), null);
    // The gaps between token packets are the server's gaps between writes (generous: a loaded machine).
    for (let i = 1; i < 4; i++) {
      const wire = e.events[i].tMs - e.events[i - 1].tMs;
      const srv = writes[i] - writes[i - 1];
      assert.ok(Math.abs(wire - srv) < 25, `gap ${i}: wire ${wire} ms, server ${srv} ms`);
    }
    // An independent reader of the same file: tcpdump's own decoding (time and TCP payload length
    // of every packet) matches decodeTcp's, packet for packet, to the nanosecond.
    const dump = spawnSync('tcpdump', ['-r', stats.file, '-nn', '-tt', '--time-stamp-precision=nano'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const theirs = dump.stdout
      .trim()
      .split('\n')
      .map((l) => {
        const m = /^(\d+)\.(\d{9}) .* length (\d+)/.exec(l);
        assert.ok(m, `unexpected tcpdump line: ${l}`);
        return { s: Number(m[1]), ns: Number(m[2]), len: Number(m[3]) };
      });
    const pcap = readPcap(readFileSync(stats.file));
    const ours = pcap.records.map((r) => decodeTcp(pcap.linkType, r));
    assert.equal(ours.length, theirs.length);
    const t0 = theirs[0];
    theirs.forEach((t, i) => {
      const ms = (t.s - t0.s) * 1000 + (t.ns - t0.ns) / 1e6;
      assert.ok(Math.abs(ours[i]!.tMs - ms) < 1e-6, `packet ${i}: ${ours[i]!.tMs} ms vs tcpdump ${ms} ms`);
      assert.equal(ours[i]!.payload.length, t.len, `packet ${i} payload length`);
    });
  });
});

describe('pcap: a capture that drops packets is refused', {
  skip: canCapture ? false : 'needs root and tcpdump',
}, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'preflight-pcap-drop-'));
  const big = 'x'.repeat(60_000);
  const server = http.createServer((req, res) => {
    req.resume();
    res.end(big);
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  after(() => {
    agent.destroy();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("tcpdump's 'dropped by kernel' is read, and the capture is not used", async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    // A 1 KiB buffer: the kernel keeps one block, far less than a burst of 60 KB responses.
    const cap = await startCapture(port, dir, 'drop', { bufferKiB: 1 });
    let stats: Awaited<ReturnType<typeof cap.stop>>;
    try {
      const one = () =>
        new Promise<void>((resolve) =>
          http
            .get({ host: '127.0.0.1', port, agent }, (r) => {
              r.resume();
              r.on('end', resolve);
            })
            .on('error', () => resolve()),
        );
      const t0 = Date.now();
      for (let round = 0; round < 200 && Date.now() - t0 < 1500; round++)
        await Promise.all(Array.from({ length: 50 }, one));
    } finally {
      stats = await cap.stop();
    }
    assert.ok(stats.droppedByKernel > 0, `expected drops with a 1 KiB buffer: ${stats.log}`);
    const w = httpExchanges(readPcap(readFileSync(stats.file)), port);
    assert.match(captureProblem(stats, w) ?? '', /packets dropped by kernel/);
  });
});
