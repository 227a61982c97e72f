/**
 * Small real HTTP servers on 127.0.0.1 ephemeral ports, with known behaviour, for engine tests.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  url: string;
  port: number;
  hits: number;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** An HTTP server whose handler decides per request. */
export async function httpServer(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void,
): Promise<TestServer> {
  const state = { hits: 0 };
  const server = http.createServer((req, res) => {
    const n = state.hits++;
    req.resume();
    req.on('end', () => handler(req, res, n));
  });
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get hits() {
      return state.hits;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers 200 "ok" after `delayMs`. */
export function delayServer(delayMs: number, status = 200): Promise<TestServer> {
  return httpServer((_req, res) => {
    const reply = () => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end('ok');
    };
    if (delayMs > 0) setTimeout(reply, delayMs);
    else reply();
  });
}

/** A raw TCP server: `onConnection` does whatever (reset, hang, garbage). */
export async function tcpServer(onConnection: (sock: net.Socket) => void): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const state = { hits: 0 };
  const server = net.createServer((sock) => {
    state.hits++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    onConnection(sock);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get hits() {
      return state.hits;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port with nothing listening (bound then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
