/**
 * Test-only FaultInjector: a real TCP pipe (node:net) on loopback in front of the target that
 * records every add/remove/reset call and applies no fault (the real proxy is src/faults). With it
 * the run's timeline is tested end to end: the load really goes through it, and tests check the
 * calls, their times, and that it is closed (no listener left) however the run ends.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Fault, FaultInjector } from '../core/faults.js';
import type { FaultInjectorFactory } from './faults-timeline.js';

export interface RecordedCall {
  op: 'add' | 'remove' | 'reset' | 'close';
  /** performance.now() of the call. */
  at: number;
  id?: string;
  fault?: Fault;
}

export interface PipeInjector extends FaultInjector {
  readonly calls: RecordedCall[];
  readonly port: number;
  /** Faults applied now (added and not removed). */
  active(): Fault[];
  closed: boolean;
}

/** A factory whose injectors are TCP pipes to the target; `made` holds every injector it opened. */
export function pipeInjectorFactory(): FaultInjectorFactory & { made: PipeInjector[] } {
  const made: PipeInjector[] = [];
  const factory = async (target: string): Promise<FaultInjector> => {
    const t = new URL(target);
    const host = t.hostname.replace(/^\[|\]$/g, '');
    const port = Number(t.port || (t.protocol === 'https:' ? 443 : 80));
    const sockets = new Set<net.Socket>();
    const active = new Map<string, Fault>();
    let connections = 0;
    let next = 1;
    const server = net.createServer((client) => {
      connections++;
      const upstream = net.connect(port, host);
      sockets.add(client);
      sockets.add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const done = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', done);
      upstream.on('error', done);
      client.on('close', done);
      upstream.on('close', done);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const listenPort = (server.address() as AddressInfo).port;
    const calls: RecordedCall[] = [];
    const inj: PipeInjector = {
      url: `http://127.0.0.1:${listenPort}`,
      port: listenPort,
      calls,
      closed: false,
      active: () => [...active.values()],
      add(fault) {
        if (inj.closed) throw new Error('the proxy is closed');
        const id = `f${next++}`;
        active.set(id, fault);
        calls.push({ op: 'add', at: performance.now(), id, fault });
        return id;
      },
      remove(id) {
        active.delete(id);
        calls.push({ op: 'remove', at: performance.now(), id });
      },
      reset() {
        active.clear();
        calls.push({ op: 'reset', at: performance.now() });
      },
      counts: () => ({ connections, requests: 0 }),
      async close() {
        if (inj.closed) return;
        inj.closed = true;
        active.clear();
        calls.push({ op: 'close', at: performance.now() });
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
    made.push(inj);
    return inj;
  };
  return Object.assign(factory, { made });
}
