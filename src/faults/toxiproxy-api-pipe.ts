/**
 * The proxy factory behind `preflight proxy` and the Toxiproxy-compatible API, and the plain TCP
 * pipe it returns for now: bytes both ways, unchanged. It honours only `down` (refuses new
 * connections and closes open ones); every other fault is accepted and kept but not applied. The
 * TCP fault proxy (tcp-proxy.ts, `startTcpFaultProxy`) takes its place in `faultProxyFactory`.
 */
import net from 'node:net';
import type { Fault, FaultInjector } from '../core/faults.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Starts a proxy listening on `listen` (port 0: any free port) in front of `upstream`. */
export type FaultProxyFactory = (listen: HostPort, upstream: HostPort) => Promise<FaultInjector>;

/** The factory `preflight proxy` and the API use to open proxies. */
export function faultProxyFactory(): FaultProxyFactory {
  return startPipeProxy;
}

/** `host:port` with IPv6 hosts in brackets, as Toxiproxy shows addresses. */
export const formatHostPort = (a: HostPort): string =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;

export async function startPipeProxy(listen: HostPort, upstream: HostPort): Promise<FaultInjector> {
  const faults = new Map<string, Fault>();
  const open = new Set<net.Socket>();
  let nextId = 0;
  let connections = 0;
  const isDown = () => [...faults.values()].some((f) => f.layer === 'tcp' && f.fault.type === 'down');
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    connections++;
    if (isDown()) {
      client.destroy();
      return;
    }
    const up = net.connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true });
    open.add(client);
    open.add(up);
    const done = () => {
      client.destroy();
      up.destroy();
      open.delete(client);
      open.delete(up);
    };
    client.on('error', done).on('close', done);
    up.on('error', done).on('close', done);
    client.pipe(up);
    up.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: listen.host, port: listen.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as net.AddressInfo;
  return {
    url: `http://${formatHostPort({ host: addr.address, port: addr.port })}`,
    add(fault) {
      const id = `f${++nextId}`;
      faults.set(id, fault);
      if (fault.layer === 'tcp' && fault.fault.type === 'down') for (const s of open) s.destroy();
      return id;
    },
    remove(id) {
      faults.delete(id);
    },
    reset() {
      faults.clear();
    },
    counts: () => ({ connections, requests: 0 }), // a plain pipe frames no HTTP messages
    close() {
      faults.clear();
      for (const s of open) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
