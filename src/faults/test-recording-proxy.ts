/**
 * Test support: a proxy factory whose proxies are the real TCP fault proxy, recording the faults
 * they are given, so tests drive the Toxiproxy API with a real client over real sockets and
 * check what the proxy was asked to apply; a TCP echo server and a bounded round trip through it.
 */
import net from 'node:net';
import type { Fault, FaultInjector } from '../core/faults.js';
import type { FaultProxyFactory } from './fault-proxy.js';
import { startTcpFaultProxy } from './tcp-proxy.js';

export interface RecordingInjector extends FaultInjector {
  /** The faults applied now, in the order they were added. */
  active(): Fault[];
  /** Every call, in order: `add <name>`, `remove <name>`, `reset`, `close`. */
  readonly calls: string[];
}

export function recordingFactory(): { factory: FaultProxyFactory; proxies: RecordingInjector[] } {
  const proxies: RecordingInjector[] = [];
  const factory: FaultProxyFactory = async (listen, upstream) => {
    const inner = await startTcpFaultProxy({ upstream, host: listen.host, port: listen.port });
    const faults = new Map<string, Fault>();
    const calls: string[] = [];
    const rec: RecordingInjector = {
      url: inner.url,
      add(f) {
        const id = inner.add(f);
        faults.set(id, f);
        calls.push(`add ${f.name}`);
        return id;
      },
      remove(id) {
        calls.push(`remove ${faults.get(id)?.name ?? id}`);
        faults.delete(id);
        inner.remove(id);
      },
      reset() {
        calls.push('reset');
        faults.clear();
        inner.reset();
      },
      counts: () => inner.counts(),
      close() {
        calls.push('close');
        faults.clear();
        return inner.close();
      },
      active: () => [...faults.values()],
      calls,
    };
    proxies.push(rec);
    return rec;
  };
  return { factory, proxies };
}

export interface EchoServer {
  /** 127.0.0.1:port */
  address: string;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that sends back what it receives. */
export async function echoServer(): Promise<EchoServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s)).on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Sends `text` to host:port and returns what came back, or how it failed (`error ECONNREFUSED`, `closed after ""`), within 5 s. */
export function roundTrip(address: string, text: string): Promise<string> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const s = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    let got = '';
    const done = (why: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`timeout after "${got}"`), 5000);
    s.on('connect', () => s.write(text));
    s.on('data', (d) => {
      got += d;
      if (got.length >= text.length) done(got);
    });
    s.on('error', (e: NodeJS.ErrnoException) => done(`error ${e.code}`));
    s.on('close', () => done(`closed after "${got}"`));
  });
}
