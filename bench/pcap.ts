/**
 * A timing truth from the wire (issue 10): capture a loopback port's traffic with tcpdump and read
 * back, per HTTP/1.1 exchange, when the kernel saw each byte — independent of both the generator's
 * clock and the target's (a request waiting in the target's socket buffer or event loop is on the
 * wire already, so it counts as the target's time, not the generator's).
 *
 * - startCapture(port, dir): tcpdump -i lo on `tcp port N`, pcap with nanosecond timestamps, big
 *   kernel buffer; stop() ends it by its PID (SIGINT) and returns tcpdump's own packet counts
 *   (captured / received by filter / dropped by kernel) and whether every packet reached the file.
 * - readPcap(buf): the pcap records (classic pcap, either byte order, µs or ns timestamps).
 * - decodeTcp(linkType, frame): Ethernet (Linux loopback is DLT_EN10MB) or raw IP → IPv4/IPv6 → TCP.
 * - httpExchanges(pcap, serverPort): per TCP connection, the byte streams reassembled by sequence
 *   number and parsed as HTTP/1.1 messages (Content-Length, chunked, or close-delimited bodies);
 *   for each request/response pair the times of the request's first and last byte (client →
 *   server) and the response's first and last byte, and for `text/event-stream` bodies each SSE
 *   event with the time of the packet that carried its last byte (when a client can parse it).
 *
 * Times are ms since the first packet of the capture (double; ns resolution with ns captures).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface PcapRecord {
  /** ms since the first record. */
  tMs: number;
  data: Buffer;
  /** The frame's length on the wire (data may be shorter when the snap length cut it). */
  origLen: number;
}

export interface Pcap {
  linkType: number;
  nanos: boolean;
  records: PcapRecord[];
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;

export function readPcap(buf: Buffer): Pcap {
  if (buf.length < 24) throw new Error(`pcap: ${buf.length} bytes, shorter than the 24-byte global header`);
  const magicLE = buf.readUInt32LE(0);
  let le: boolean;
  let nanos: boolean;
  if (magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d) {
    le = true;
    nanos = magicLE === 0xa1b23c4d;
  } else {
    const magicBE = buf.readUInt32BE(0);
    if (magicBE !== 0xa1b2c3d4 && magicBE !== 0xa1b23c4d)
      throw new Error(
        `pcap: unknown magic 0x${magicLE.toString(16)} (pcapng is not supported; tcpdump -w writes pcap)`,
      );
    le = false;
    nanos = magicBE === 0xa1b23c4d;
  }
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  let sec0 = -1;
  let frac0 = 0;
  const fracPerMs = nanos ? 1e6 : 1e3;
  // A record cut short at the end of the file (capture killed mid-write) is ignored.
  while (off + 16 <= buf.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const incl = u32(off + 8);
    const orig = u32(off + 12);
    if (off + 16 + incl > buf.length) break;
    if (sec0 < 0) {
      sec0 = sec;
      frac0 = frac;
    }
    // Relative to the first record, so the double keeps ns resolution.
    const tMs = (sec - sec0) * 1000 + (frac - frac0) / fracPerMs;
    records.push({ tMs, data: buf.subarray(off + 16, off + 16 + incl), origLen: orig });
    off += 16 + incl;
  }
  return { linkType, nanos, records };
}

export interface TcpSegment {
  tMs: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  syn: boolean;
  fin: boolean;
  rst: boolean;
  payload: Buffer;
  /** The capture holds less payload than the packet carried (snap length too small). */
  truncated: boolean;
}

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;

/** The TCP segment in one captured frame, or null when it is not TCP over IPv4/IPv6. */
export function decodeTcp(linkType: number, rec: PcapRecord): TcpSegment | null {
  const f = rec.data;
  let off = 0;
  if (linkType === LINKTYPE_ETHERNET) {
    if (f.length < 14) return null;
    let etherType = f.readUInt16BE(12);
    off = 14;
    if (etherType === 0x8100 && f.length >= 18) {
      etherType = f.readUInt16BE(16);
      off = 18;
    }
    if (etherType !== 0x0800 && etherType !== 0x86dd) return null;
  } else if (linkType !== LINKTYPE_RAW) {
    throw new Error(`pcap: link type ${linkType} is not supported (Ethernet or raw IP)`);
  }
  if (f.length < off + 1) return null;
  const version = f[off] >> 4;
  let src: string;
  let dst: string;
  let l4: number;
  let l4Len: number;
  if (version === 4) {
    if (f.length < off + 20) return null;
    const ihl = (f[off] & 0x0f) * 4;
    // 0 in a BIG TCP packet over 64 KiB: the frame's length says it.
    const total = f.readUInt16BE(off + 2) || rec.origLen - off;
    if (f[off + 9] !== 6) return null;
    // A fragment would need reassembly; TCP on loopback is never fragmented.
    if ((f.readUInt16BE(off + 6) & 0x3fff) !== 0) return null;
    src = `${f[off + 12]}.${f[off + 13]}.${f[off + 14]}.${f[off + 15]}`;
    dst = `${f[off + 16]}.${f[off + 17]}.${f[off + 18]}.${f[off + 19]}`;
    l4 = off + ihl;
    l4Len = total - ihl;
  } else if (version === 6) {
    if (f.length < off + 40) return null;
    let next = f[off + 6];
    l4Len = f.readUInt16BE(off + 4) || rec.origLen - off - 40; // 0: a jumbogram (BIG TCP)
    src = ipv6(f, off + 8);
    dst = ipv6(f, off + 24);
    l4 = off + 40;
    // Skip extension headers (hop-by-hop, routing, destination options); a fragment is not read.
    for (let i = 0; i < 8 && (next === 0 || next === 43 || next === 60); i++) {
      if (f.length < l4 + 2) return null;
      const len = (f[l4 + 1] + 1) * 8;
      next = f[l4];
      l4 += len;
      l4Len -= len;
    }
    if (next !== 6) return null;
  } else return null;
  if (f.length < l4 + 20) return null;
  const dataOff = (f[l4 + 12] >> 4) * 4;
  const flags = f[l4 + 13];
  const payloadLen = Math.max(0, l4Len - dataOff);
  const start = l4 + dataOff;
  const have = Math.max(0, Math.min(payloadLen, f.length - start));
  return {
    tMs: rec.tMs,
    src,
    dst,
    srcPort: f.readUInt16BE(l4),
    dstPort: f.readUInt16BE(l4 + 2),
    seq: f.readUInt32BE(l4 + 4),
    syn: (flags & SYN) !== 0,
    fin: (flags & FIN) !== 0,
    rst: (flags & RST) !== 0,
    payload: f.subarray(start, start + have),
    truncated: have < payloadLen,
  };
}

function ipv6(f: Buffer, off: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(f.readUInt16BE(off + i).toString(16));
  return parts.join(':');
}

export interface SseEvent {
  /** When the packet carrying the event's last byte (its blank line) was captured. */
  tMs: number;
  /** The `data:` lines, joined with "\n". */
  data: string;
}

export interface HttpExchange {
  /** client address:port → server port, for the report. */
  conn: string;
  method: string;
  path: string;
  requestFirstMs: number;
  requestLastMs: number;
  status?: number;
  /** Response header names lower-cased. */
  headers?: Record<string, string>;
  responseFirstMs?: number;
  responseLastMs?: number;
  /** SSE events of a `text/event-stream` response, in order. */
  events: SseEvent[];
}

export interface WireResult {
  exchanges: HttpExchange[];
  connections: number;
  /** Connections whose bytes could not all be read: a sequence gap, a truncated packet, or bytes that are not HTTP/1.1. */
  broken: number;
  /** Why, for the first few broken connections. */
  problems: string[];
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

type Feed = (bytes: Buffer, tMs: number) => void;

/**
 * An incremental HTTP/1.1 message parser for one direction of a connection. `onHead` sees each
 * message's start line and headers with the time of its first byte; `onBody` sees decoded body
 * bytes; `onEnd` the time of its last byte.
 */
class MessageStream {
  private buf: Buffer = Buffer.alloc(0);
  private state: 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailer' | 'close' = 'head';
  private remaining = 0;
  private startMs: number | undefined;
  error: string | null = null;

  constructor(
    private readonly isResponse: boolean,
    private readonly hooks: {
      onHead(startLine: string, headers: Record<string, string>, firstMs: number): { noBody?: boolean };
      onBody(bytes: Buffer, tMs: number): void;
      onEnd(lastMs: number): void;
    },
  ) {}

  feed: Feed = (bytes, tMs) => {
    if (this.error !== null) return;
    this.buf = this.buf.length === 0 ? bytes : Buffer.concat([this.buf, bytes]);
    // Bounded: every pass consumes bytes or returns.
    for (let guard = 0; guard < 1_000_000 && this.buf.length > 0 && this.error === null; guard++) {
      if (this.startMs === undefined) this.startMs = tMs;
      if (!this.step(tMs)) return;
    }
  };

  /** End of the direction (FIN): a close-delimited body ends here. */
  close(tMs: number): void {
    if (this.error === null && this.state === 'close') this.finish(tMs);
  }

  private finish(tMs: number): void {
    this.hooks.onEnd(tMs);
    this.state = 'head';
    this.startMs = undefined;
  }

  /** Passes up to `remaining` body bytes on; true when that many have been seen. */
  private takeBody(tMs: number): boolean {
    const n = Math.min(this.remaining, this.buf.length);
    this.hooks.onBody(this.buf.subarray(0, n), tMs);
    this.buf = this.buf.subarray(n);
    this.remaining -= n;
    return this.remaining === 0;
  }

  /** One parsing step; false when more bytes are needed. */
  private step(tMs: number): boolean {
    switch (this.state) {
      case 'head': {
        const end = this.buf.indexOf(CRLFCRLF);
        if (end < 0) {
          if (this.buf.length > 64 * 1024) this.error = 'no end of headers within 64 KiB';
          return false;
        }
        const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
        this.buf = this.buf.subarray(end + 4);
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const ok = this.isResponse
          ? /^HTTP\/1\.[01] \d{3}/.test(lines[0])
          : /^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(lines[0]);
        if (!ok) {
          this.error = `not an HTTP/1.1 ${this.isResponse ? 'status' : 'request'} line: ${JSON.stringify(lines[0].slice(0, 60))}`;
          return false;
        }
        const { noBody } = this.hooks.onHead(lines[0], headers, this.startMs ?? tMs);
        const te = (headers['transfer-encoding'] ?? '').toLowerCase();
        const cl = headers['content-length'];
        if (noBody) this.finish(tMs);
        else if (te.includes('chunked')) this.state = 'chunk-size';
        else if (cl !== undefined) {
          this.remaining = Number(cl);
          if (!Number.isInteger(this.remaining) || this.remaining < 0) {
            this.error = `bad content-length ${cl}`;
            return false;
          }
          if (this.remaining === 0) this.finish(tMs);
          else this.state = 'length';
        } else if (this.isResponse) this.state = 'close';
        else this.finish(tMs); // a request without a length has no body
        return true;
      }
      case 'length': {
        if (this.takeBody(tMs)) this.finish(tMs);
        return true;
      }
      case 'chunk-size': {
        const end = this.buf.indexOf('\r\n');
        if (end < 0) return false;
        const size = Number.parseInt(this.buf.subarray(0, end).toString('latin1').split(';')[0].trim(), 16);
        this.buf = this.buf.subarray(end + 2);
        if (!Number.isFinite(size) || size < 0) {
          this.error = 'bad chunk size';
          return false;
        }
        this.remaining = size;
        this.state = size === 0 ? 'trailer' : 'chunk-data';
        return true;
      }
      case 'chunk-data': {
        if (this.takeBody(tMs)) this.state = 'chunk-crlf';
        return true;
      }
      case 'chunk-crlf': {
        if (this.buf.length < 2) return false;
        this.buf = this.buf.subarray(2);
        this.state = 'chunk-size';
        return true;
      }
      case 'trailer': {
        // Trailer lines, then an empty line.
        const end = this.buf.indexOf('\r\n');
        if (end < 0) return false;
        this.buf = this.buf.subarray(end + 2);
        if (end === 0) this.finish(tMs);
        return true;
      }
      case 'close': {
        this.hooks.onBody(this.buf, tMs);
        this.buf = Buffer.alloc(0);
        return true;
      }
    }
  }
}

/** Splits an SSE body into events; each event is timed by the bytes that completed it. */
class SseSplitter {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly out: SseEvent[]) {}

  push(bytes: Buffer, tMs: number): void {
    this.buf = this.buf.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.buf, bytes]);
    for (let guard = 0; guard < 100_000; guard++) {
      const a = this.buf.indexOf('\n\n');
      const b = this.buf.indexOf('\r\n\r\n');
      if (a < 0 && b < 0) return;
      const [end, sep] = b >= 0 && (a < 0 || b < a) ? [b, 4] : [a, 2];
      const text = this.buf.subarray(0, end).toString('utf8');
      this.buf = this.buf.subarray(end + sep);
      const data = text
        .split(/\r?\n/)
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(l.startsWith('data: ') ? 6 : 5));
      if (data.length > 0) this.out.push({ tMs, data: data.join('\n') });
    }
  }
}

interface Direction {
  next: number | undefined;
  stream: MessageStream;
}

interface Connection {
  name: string;
  c2s: Direction;
  s2c: Direction;
  broken: string | null;
}

/**
 * Every HTTP/1.1 exchange on `serverPort` in the capture, in the order their requests started.
 * Segments are put in order by sequence number per direction; a retransmitted byte is read once;
 * a connection with a gap (a packet the capture lacks) or a truncated packet is counted as broken
 * and read no further.
 */
export function httpExchanges(pcap: Pcap, serverPort: number): WireResult {
  const conns = new Map<string, Connection>();
  const exchanges: HttpExchange[] = [];
  const problems: string[] = [];
  let broken = 0;
  let connections = 0;
  const breakConn = (c: Connection, why: string) => {
    if (c.broken !== null) return;
    c.broken = why;
    broken++;
    if (problems.length < 5) problems.push(`${c.name}: ${why}`);
  };

  const open = (name: string): Connection => {
    connections++;
    /** Requests sent and not yet answered, in order (HTTP/1.1 answers in order). */
    const pending: HttpExchange[] = [];
    let reqEx: HttpExchange | undefined;
    const c2s = new MessageStream(false, {
      onHead(line, _h, firstMs) {
        const [method, target] = line.split(' ');
        reqEx = { conn: name, method, path: target, requestFirstMs: firstMs, requestLastMs: firstMs, events: [] };
        return {};
      },
      onBody() {},
      onEnd(lastMs) {
        if (reqEx === undefined) return;
        reqEx.requestLastMs = lastMs;
        pending.push(reqEx);
        exchanges.push(reqEx);
        reqEx = undefined;
      },
    });
    let resEx: HttpExchange | undefined;
    let sse: SseSplitter | undefined;
    const s2c = new MessageStream(true, {
      onHead(line, headers, firstMs) {
        const status = Number(line.split(' ')[1]);
        // Interim responses (100 Continue) precede the real one.
        if (status >= 100 && status < 200) return { noBody: true };
        resEx = pending.shift();
        if (resEx === undefined) {
          breakConn(c, 'a response without a request');
          return { noBody: true };
        }
        resEx.status = status;
        resEx.headers = headers;
        resEx.responseFirstMs = firstMs;
        sse = (headers['content-type'] ?? '').startsWith('text/event-stream')
          ? new SseSplitter(resEx.events)
          : undefined;
        const noBody = status === 204 || status === 304 || resEx.method === 'HEAD';
        return { noBody };
      },
      onBody(bytes, tMs) {
        sse?.push(bytes, tMs);
      },
      onEnd(lastMs) {
        if (resEx !== undefined) resEx.responseLastMs = lastMs;
        resEx = undefined;
        sse = undefined;
      },
    });
    const c: Connection = {
      name,
      broken: null,
      c2s: { next: undefined, stream: c2s },
      s2c: { next: undefined, stream: s2c },
    };
    conns.set(name, c);
    return c;
  };

  for (const rec of pcap.records) {
    const s = decodeTcp(pcap.linkType, rec);
    if (s === null) continue;
    let toServer: boolean;
    if (s.dstPort === serverPort) toServer = true;
    else if (s.srcPort === serverPort) toServer = false;
    else continue;
    const client = toServer ? `${s.src}:${s.srcPort}` : `${s.dst}:${s.dstPort}`;
    const name = `${client}→${serverPort}`;
    let c = conns.get(name);
    // A SYN from the client starts a new connection, even on a 4-tuple seen before.
    if (c === undefined || (s.syn && toServer && c.c2s.next !== undefined && (s.seq + 1) >>> 0 !== c.c2s.next))
      c = open(name);
    if (c.broken !== null || s.rst) continue;
    const dir = toServer ? c.c2s : c.s2c;
    if (s.syn) {
      dir.next = (s.seq + 1) >>> 0;
      continue;
    }
    if (s.truncated) {
      breakConn(c, 'a packet cut by the snap length');
      continue;
    }
    let payload = s.payload;
    if (dir.next === undefined) dir.next = s.seq; // capture began mid-connection
    if (payload.length > 0) {
      const ahead = (s.seq - dir.next) | 0; // signed: sequence numbers wrap at 2^32
      if (ahead > 0) {
        breakConn(c, `${ahead} bytes missing from the capture (${toServer ? 'client → server' : 'server → client'})`);
        continue;
      }
      if (-ahead >= payload.length)
        payload = Buffer.alloc(0); // a retransmission of bytes already read
      else {
        payload = payload.subarray(-ahead);
        dir.next = (dir.next + payload.length) >>> 0;
        dir.stream.feed(payload, s.tMs);
        if (dir.stream.error !== null) breakConn(c, dir.stream.error);
      }
    }
    if (s.fin) dir.stream.close(s.tMs);
  }
  exchanges.sort((a, b) => a.requestFirstMs - b.requestFirstMs);
  return { exchanges, connections, broken, problems };
}

export interface CaptureStats {
  file: string;
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
  /** Packets the kernel passed to the capture that are not in the file (see stop()); 0 when complete. */
  notWritten: number;
  /** CPU time tcpdump used (user + system, s): the capture's own cost on the machine under test. */
  cpuS: number;
  /** tcpdump's stderr, for a report when the counts are missing. */
  log: string;
}

/**
 * Why a capture cannot serve as the truth, or null when it can: any packet dropped by the kernel,
 * any packet the kernel passed on that is not in the file, any connection not read through.
 */
export function captureProblem(stats: CaptureStats, wire: WireResult): string | null {
  if (!(stats.droppedByKernel === 0)) return `${stats.droppedByKernel} packets dropped by kernel`;
  if (stats.notWritten !== 0) return `${stats.notWritten} packets seen by the kernel but not in the file`;
  if (wire.broken > 0) return `${wire.broken} connections unreadable (${wire.problems.join('; ')})`;
  return null;
}

export interface Capture {
  stop(): Promise<CaptureStats>;
}

/**
 * Starts `tcpdump -i lo` on `tcp port <port>` writing `<dir>/<name>.pcap` (ns timestamps, full
 * packets, a 64 MiB kernel buffer so a busy machine does not drop); resolves once tcpdump says it
 * is listening. Needs root (or CAP_NET_RAW) and tcpdump on PATH.
 */
export async function startCapture(
  port: number,
  dir: string,
  name: string,
  opts: { timeoutMs?: number; settleMs?: number; bufferKiB?: number } = {},
): Promise<Capture> {
  const { timeoutMs = 5000, settleMs = 1500, bufferKiB = 65536 } = opts;
  const file = path.join(dir, `${name}.pcap`);
  const child = spawn(
    'tcpdump',
    // -Z root: Debian's tcpdump otherwise switches to user tcpdump and cannot write into a 0700 temp dir.
    [
      '-i',
      'lo',
      '-n',
      '-B',
      String(bufferKiB),
      '-s',
      '0',
      '--time-stamp-precision=nano',
      '-Z',
      'root',
      '-w',
      file,
      `tcp port ${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.once('error', (e) => (log += `\n${e.message}`));
  const deadline = Date.now() + timeoutMs;
  let listening = false;
  for (let i = 0; i < 500 && Date.now() < deadline; i++) {
    if (log.includes('listening on')) {
      listening = true;
      break;
    }
    if (child.exitCode !== null || /error|ENOENT/i.test(log)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  if (!listening) {
    child.kill('SIGKILL');
    throw new Error(`tcpdump did not start (needs root and tcpdump on PATH): ${log.trim() || 'no output'}`);
  }
  return {
    async stop() {
      // libpcap's TPACKET_V3 ring hands packets to tcpdump a block at a time, a block at the latest
      // after tcpdump's 1 s timeout; packets still in an unfinished block when tcpdump ends are
      // neither written nor counted as dropped. So let the last block go out before stopping.
      await new Promise((r) => setTimeout(r, settleMs));
      // And, on a busy machine, let tcpdump catch up with the blocks already handed over (SIGINT
      // ends it without reading them): until its file stops growing for 3 polls (at most 10 s).
      let size = -1;
      for (let still = 0, i = 0; still < 3 && i < 40; i++) {
        await new Promise((r) => setTimeout(r, 250));
        const now = existsSync(file) ? statSync(file).size : 0;
        still = now === size ? still + 1 : 0;
        size = now;
      }
      const cpuS = child.pid === undefined ? NaN : processCpuS(child.pid);
      // SIGINT: tcpdump flushes the file and prints its counts.
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGINT');
      const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000))]);
      if (code === 'timeout') {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        throw new Error('tcpdump did not stop within 5 s of SIGINT');
      }
      const count = (what: string) => {
        const m = new RegExp(`(\\d+) packets? ${what}`).exec(log);
        return m ? Number(m[1]) : NaN;
      };
      const captured = count('captured');
      const receivedByFilter = count('received by filter');
      return {
        file,
        captured,
        receivedByFilter,
        droppedByKernel: count('dropped by kernel'),
        // On lo the kernel hands every packet to the capture twice (leaving and arriving) and
        // libpcap keeps one: half of "received by filter" should have been written.
        notWritten: receivedByFilter / 2 - captured,
        cpuS,
        log: log.trim(),
      };
    },
  };
}

/** User + system CPU seconds of a running process (Linux /proc; NaN elsewhere). */
function processCpuS(pid: number): number {
  try {
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}
