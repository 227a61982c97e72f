/**
 * The fault proxy in front of one target, as the run's timeline, `preflight proxy` and the
 * Toxiproxy-compatible API open it: the TCP layer (tcp-proxy.ts: Toxiproxy's toxics, toxicity per
 * connection or per request) faces the client, so a toxic acts on the connections the load opens;
 * when HTTP faults are wanted, the HTTP layer (http-proxy.ts: aborts, delays, SSE faults) sits
 * between it and the target. One `FaultInjector` routes each fault to its layer.
 */
import type { Fault, FaultInjector } from '../core/faults.js';
import { startHttpFaultProxy } from './http-proxy.js';
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
  /** Seed of the proxy's draws (toxicity, jitter, delays). */
  seed?: number;
  /** Also the HTTP layer (a plan with HTTP faults). */
  http?: boolean;
}

/**
 * Opens the fault proxy in front of `upstream`: the TCP layer alone, or with `http` the TCP layer in
 * front of the HTTP layer (one more loopback hop, only when a plan has HTTP faults).
 */
export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultInjector> {
  const seed = o.seed !== undefined ? { seed: o.seed } : {};
  const listen = { host: o.listen?.host ?? '127.0.0.1', port: o.listen?.port ?? 0 };
  if (!o.http) return startTcpFaultProxy({ upstream: o.upstream, ...listen, ...seed });
  const http = await startHttpFaultProxy({ upstream: o.upstream, host: '127.0.0.1', port: 0, ...seed });
  let tcp: FaultInjector;
  try {
    tcp = await startTcpFaultProxy({ upstream: originHostPort(http.url), ...listen, ...seed });
  } catch (e) {
    await http.close();
    throw e;
  }
  return layered(tcp, http);
}

/** One injector over both layers: ids say which layer holds a fault; counts are the client's side (TCP). */
function layered(tcp: FaultInjector, http: FaultInjector): FaultInjector {
  const layerOf = (id: string) => (id.startsWith('http:') ? http : tcp);
  return {
    url: tcp.url,
    add: (f: Fault) => (f.layer === 'http' ? `http:${http.add(f)}` : `tcp:${tcp.add(f)}`),
    remove: (id) => layerOf(id).remove(id.slice(id.indexOf(':') + 1)),
    reset() {
      tcp.reset();
      http.reset();
    },
    counts: () => tcp.counts(),
    async close() {
      await Promise.allSettled([tcp.close(), http.close()]);
    },
  };
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
