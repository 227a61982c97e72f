/**
 * The TCP fault proxy: a loopback TCP proxy in front of one target that applies Toxiproxy's toxics
 * (src/core/faults.ts `TcpFault`) in either direction, drawn per connection (as Toxiproxy) or per
 * HTTP/1.1 request on a keep-alive connection.
 *
 * Each connection has two links (client → target "upstream", target → client "downstream"); each
 * link has a chain of stages, one per fault on that direction, in the order the faults were added.
 * With no fault on a link its data is written straight through (backpressure: the source pauses
 * while the sink's buffer is full); the HTTP framer still counts messages, so a per-request fault
 * added mid-connection knows where each request starts.
 */
import net from 'node:net';
import { PreflightError } from '../core/errors.js';
import type { Fault, FaultInjector } from '../core/faults.js';
import { Rng } from '../core/random.js';
import { HttpExchange, HttpFramer } from './tcp-framer.js';
import { type ChunkSink, makeStage, type Stage, type StageFault, type StageHost } from './tcp-toxics.js';
import { assertTcpFault } from './tcp-validate.js';

export interface TcpFaultProxyOptions {
  upstream: { host: string; port: number };
  /** Listening address (default 127.0.0.1: the proxy is for loopback tests). */
  host?: string;
  /** Listening port (default 0: any free port). */
  port?: number;
  /** Seed of the one random generator every draw comes from (default 1). */
  seed?: number;
}

export interface TcpFaultProxyCounts {
  /** Connections accepted (those refused by `down` included). */
  connections: number;
  /** HTTP/1.x request heads framed. */
  requests: number;
  /** Connections whose stream could not be framed as HTTP/1.x (their per-request faults drawn per connection). */
  unframed: number;
  /** Connections open now. */
  open: number;
}

export interface TcpFaultProxy extends FaultInjector {
  readonly port: number;
  counts(): TcpFaultProxyCounts;
}

/** Bytes a link may hold in its fault chain before it stops reading its source. */
const HIGH_WATER = 256 * 1024;

interface ActiveFault extends StageFault {
  readonly spec: Fault & { layer: 'tcp' };
}

export async function startTcpFaultProxy(opts: TcpFaultProxyOptions): Promise<TcpFaultProxy> {
  const { upstream } = opts;
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 0;
  const bad: string[] = [];
  if (!upstream || typeof upstream.host !== 'string' || upstream.host === '') bad.push('upstream.host must be a host');
  if (!upstream || !Number.isInteger(upstream.port) || upstream.port < 1 || upstream.port > 65535)
    bad.push(`upstream.port must be an integer from 1 to 65535 (got ${String(upstream?.port)})`);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    bad.push(`port must be an integer from 0 to 65535 (got ${String(port)})`);
  if (bad.length > 0) throw new PreflightError('E_ARGS', `TCP fault proxy: ${bad.join('; ')}`);

  const rng = new Rng(opts.seed ?? 1);
  const faults: ActiveFault[] = [];
  const conns = new Set<Connection>();
  const totals = { connections: 0, requests: 0, unframed: 0 };
  let nextId = 0;
  let closed = false;

  const server = net.createServer({ allowHalfOpen: true, noDelay: true });
  server.on('connection', (client) => {
    totals.connections++;
    client.on('error', ignore);
    if (closed) {
      client.destroy();
      return;
    }
    // `down` drawn per connection: the connection is refused (RST) before the target is asked.
    for (const f of faults)
      if (f.fault.type === 'down' && !f.perRequest && rng.float() < f.share) {
        client.resetAndDestroy();
        return;
      }
    const conn = new Connection(client, upstream, rng, totals, () => conns.delete(conn));
    conns.add(conn);
    // A per-connection `down` was drawn above, once: it is no stage of a connection it spared.
    for (const f of faults) if (f.fault.type !== 'down' || f.perRequest) conn.addFault(f);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', ignore);
  const bound = (server.address() as net.AddressInfo).port;

  const remove = (id: string) => {
    const i = faults.findIndex((f) => f.id === id);
    if (i < 0) return; // unknown or already removed: removal is idempotent (Ctrl-C paths may repeat it)
    faults.splice(i, 1);
    for (const c of conns) c.removeFault(id);
  };

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    add(fault: Fault): string {
      assertTcpFault(fault);
      if (closed) throw new PreflightError('E_INTERNAL', 'TCP fault proxy: add() after close()');
      const f: ActiveFault = {
        id: `tcp-${++nextId}`,
        spec: fault,
        fault: fault.fault,
        share: fault.toxicity.share,
        perRequest: fault.toxicity.per === 'request',
      };
      faults.push(f);
      for (const c of [...conns]) {
        if (f.fault.type === 'down' && !f.perRequest) {
          if (rng.float() < f.share) c.terminate('close');
        } else c.addFault(f);
      }
      return f.id;
    },
    remove,
    reset() {
      // First added first: a stage's held data then flows through the later stages before they go.
      while (faults.length > 0) remove(faults[0].id);
    },
    counts: () => ({ ...totals, open: conns.size }),
    async close() {
      if (closed) return;
      closed = true;
      faults.length = 0;
      for (const c of [...conns]) c.terminate('close');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function ignore(): void {}

class Connection {
  closed = false;
  readonly up: Link;
  readonly down: Link;
  private readonly target: net.Socket;
  private openSockets = 2;

  constructor(
    private readonly client: net.Socket,
    upstream: { host: string; port: number },
    readonly rng: Rng,
    totals: { requests: number; unframed: number },
    private readonly onGone: () => void,
  ) {
    const target = net.connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true, noDelay: true });
    this.target = target;
    const exchange = new HttpExchange(
      () => totals.requests++,
      () => totals.unframed++,
    );
    this.up = new Link(this, client, target, new HttpFramer(true, exchange));
    this.down = new Link(this, target, client, new HttpFramer(false, exchange));
    for (const s of [client, target]) {
      s.on('error', (e: NodeJS.ErrnoException) => {
        // A reset on one side is passed on as a reset; any other failure closes both sides.
        this.terminate(e.code === 'ECONNRESET' || e.code === 'ECONNREFUSED' ? 'reset' : 'close');
      });
      s.on('close', () => {
        if (--this.openSockets === 0) this.gone();
      });
    }
  }

  addFault(f: ActiveFault): void {
    // `down` per request acts on requests: it sits on the client → target link whatever its direction.
    const link = f.fault.type === 'down' || f.spec.direction === 'upstream' ? this.up : this.down;
    link.addStage(makeStage(link, f));
  }

  removeFault(id: string): void {
    this.up.removeStage(id);
    this.down.removeStage(id);
  }

  terminate(kind: 'close' | 'reset'): void {
    if (this.closed) return;
    this.closed = true;
    this.up.dispose();
    this.down.dispose();
    for (const s of [this.client, this.target]) {
      if (s.destroyed) continue;
      // resetAndDestroy needs a TCP handle; a target still connecting gets a plain destroy.
      if (kind === 'reset' && !s.connecting) s.resetAndDestroy();
      else s.destroy();
    }
    this.gone();
  }

  private gone(): void {
    this.closed = true;
    this.up.dispose();
    this.down.dispose();
    this.onGone();
  }
}

/** One direction of a connection: source socket → fault stages → sink socket. */
class Link implements ChunkSink, StageHost {
  private readonly stages: Stage[] = [];
  /** Bytes taken from the source and not yet written to the sink or dropped. */
  private queued = 0;
  private sinkBlocked = false;
  private paused = false;
  private sinkEnded = false;

  constructor(
    private readonly conn: Connection,
    private readonly source: net.Socket,
    private readonly sink: net.Socket,
    private readonly framer: HttpFramer,
  ) {
    source.on('data', this.onData);
    source.on('end', this.onEnd);
    sink.on('drain', this.onDrain);
  }

  get rng(): Rng {
    return this.conn.rng;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.conn.closed || this.sinkEnded) return;
    if (this.stages.length === 0) {
      // No fault: a straight pipe (the framer only counts).
      if (!this.framer.failed) this.framer.skim(chunk);
      if (!this.sink.write(chunk)) {
        this.sinkBlocked = true;
        this.updateFlow();
      }
      return;
    }
    this.queued += chunk.length;
    const framer = this.framer;
    const first = this.stages[0];
    const len = chunk.length;
    let pos = 0;
    while (pos < len && !this.conn.closed) {
      const seq = framer.seq;
      const end = framer.scan(chunk, pos);
      const stop = end < 0 ? len : end;
      // When framing fails inside this chunk, the rest of it is already unframed.
      first.push(pos === 0 && stop === len ? chunk : chunk.subarray(pos, stop), end < 0 ? framer.seq : seq);
      pos = stop;
    }
    this.updateFlow();
  };

  private readonly onEnd = (): void => {
    if (this.conn.closed) return;
    if (this.stages.length === 0) this.end(false);
    else this.stages[0].end(false);
  };

  private readonly onDrain = (): void => {
    this.sinkBlocked = false;
    this.updateFlow();
  };

  private updateFlow(): void {
    const pause = this.sinkBlocked || this.queued > HIGH_WATER;
    if (pause === this.paused) return;
    this.paused = pause;
    if (pause) this.source.pause();
    else this.source.resume();
  }

  /** The end of the chain: write to the sink. */
  push(buf: Buffer): void {
    this.queued -= buf.length;
    if (this.conn.closed || this.sinkEnded) return;
    if (!this.sink.write(buf)) this.sinkBlocked = true;
    this.updateFlow();
  }

  end(close: boolean): void {
    if (this.conn.closed || this.sinkEnded) return;
    this.sinkEnded = true;
    if (!close) {
      this.sink.end();
      return;
    }
    // A fault closes the connection: what reached the sink is flushed, then both sides close.
    this.sink.end(() => this.conn.terminate('close'));
  }

  drop(bytes: number): void {
    this.queued -= bytes;
  }

  terminate(kind: 'close' | 'reset'): void {
    this.conn.terminate(kind);
  }

  addStage(stage: Stage): void {
    stage.out = this;
    if (this.stages.length > 0) this.stages[this.stages.length - 1].out = stage;
    this.stages.push(stage);
  }

  removeStage(id: string): void {
    const i = this.stages.findIndex((s) => s.def.id === id);
    if (i < 0) return;
    const [stage] = this.stages.splice(i, 1);
    if (i > 0) this.stages[i - 1].out = stage.out;
    stage.release();
    this.updateFlow();
  }

  dispose(): void {
    for (const s of this.stages) s.dispose();
    this.stages.length = 0;
  }
}
