/**
 * The fault proxy in front of one target, as the run's timeline, `preflight proxy` and the
 * Toxiproxy-compatible API open it: the TCP layer (tcp-proxy.ts: Toxiproxy's toxics, toxicity per
 * connection or per request) facing the client, so a toxic acts on the connections the load opens.
 */
import type { FaultInjector } from '../core/faults.js';
import { startTcpFaultProxy } from './tcp-proxy.js';

export interface HostPort {
  host: string;
  port: number;
}

/** Starts a proxy listening on `listen` (port 0: any free port) in front of `upstream`. */
export type FaultProxyFactory = (listen: HostPort, upstream: HostPort) => Promise<FaultInjector>;

export interface FaultProxyOptions {
  upstream: HostPort;
  /** Default 127.0.0.1, any free port. */
  listen?: HostPort;
  /** Seed of the proxy's draws (toxicity, jitter). */
  seed?: number;
}

/** Opens the fault proxy in front of `upstream`. */
export function startFaultProxy(o: FaultProxyOptions): Promise<FaultInjector> {
  return startTcpFaultProxy({
    upstream: o.upstream,
    host: o.listen?.host ?? '127.0.0.1',
    port: o.listen?.port ?? 0,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  });
}

/** The factory `preflight proxy` and the API use to open proxies. */
export function faultProxyFactory(): FaultProxyFactory {
  return (listen, upstream) => startFaultProxy({ listen, upstream });
}

/** The host and port of an http:// origin (IPv6 without brackets; port 80 when none is given). */
export function originHostPort(origin: string): HostPort {
  const u = new URL(origin);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port ? Number(u.port) : 80 };
}

/** `host:port` with IPv6 hosts in brackets, as Toxiproxy shows addresses. */
export const formatHostPort = (a: HostPort): string =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
