/**
 * The HTTP fault proxy (no fault) as a child process, for bench/http-proxy-overhead.ts:
 *
 *   node dist/bench/http-proxy-server.js --upstream-port P [--client proxy|agent|undici]
 *
 * Prints `listening on URL` and then, on SIGTERM, one JSON line with the proxy's counts and its CPU
 * time, and exits. `--client agent` and `--client undici` are bench-only prototypes (no faults): a
 * bare pass-through with a node:http keep-alive Agent, or an undici Pool, to the upstream — which
 * client the proxy should use, and what its own fault machinery costs over a bare pass-through.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startHttpFaultProxy } from '../src/faults/index.js';

const { values: v } = parseArgs({
  options: { 'upstream-port': { type: 'string' }, client: { type: 'string', default: 'proxy' } },
  strict: true,
});
const upstreamPort = Number(v['upstream-port']);
if (!Number.isInteger(upstreamPort) || upstreamPort <= 0) throw new Error('--upstream-port is required');

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

interface Bare {
  url: string;
  counts(): object;
  close(): Promise<void>;
}

/** Headers without the hop-by-hop ones. */
function endToEnd(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, val] of Object.entries(h)) if (!HOP.has(k) && val !== undefined) out[k] = val;
  return out;
}

/** A bare pass-through: `forward` sends one request upstream and answers it. */
async function bare(
  forward: (req: http.IncomingMessage, res: http.ServerResponse) => void,
  closeClient: () => Promise<void>,
): Promise<Bare> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    forward(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ requests }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await closeClient();
    },
  };
}

const fail502 = (res: http.ServerResponse) => () => {
  if (!res.headersSent) res.writeHead(502);
  res.end();
};

function agentProxy(): Promise<Bare> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' });
  return bare(
    (req, res) => {
      const headers = endToEnd(req.headers);
      const up = http.request(
        { host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers, agent },
        (r) => {
          res.writeHead(r.statusCode ?? 502, endToEnd(r.headers));
          r.pipe(res);
        },
      );
      up.on('error', fail502(res));
      req.pipe(up);
    },
    async () => agent.destroy(),
  );
}

function undiciProxy(): Promise<Bare> {
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: null });
  return bare(
    (req, res) => {
      const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
      if (!hasBody) req.resume();
      const headers = endToEnd(req.headers);
      pool
        .request({ path: req.url ?? '/', method: req.method as 'GET', headers, body: hasBody ? req : null })
        .then((r) => {
          res.writeHead(r.statusCode, endToEnd(r.headers));
          r.body.pipe(res);
        }, fail502(res));
    },
    () => pool.destroy(),
  );
}

const proxy =
  v.client === 'agent'
    ? await agentProxy()
    : v.client === 'undici'
      ? await undiciProxy()
      : await startHttpFaultProxy({ upstream: { host: '127.0.0.1', port: upstreamPort } });
console.log(`listening on ${proxy.url}`);
process.once('SIGTERM', () => {
  void proxy.close().then(() => {
    console.log(JSON.stringify({ counts: proxy.counts(), cpu: process.cpuUsage() }));
    process.exit(0);
  });
});
