/**
 * A small HTTP server that answers rollout controllers with the latest canary judgement:
 *
 *   GET  /verdict   Argo Rollouts' Web provider: 200 + JSON (`GateAnswer`) once judged; 503 before
 *                   (Argo counts an error and measures again at the next interval).
 *   GET|POST /gate  Flagger webhooks: status 200 pass, 409 marginal, 412 fail, 503 inconclusive or
 *                   not judged yet; the body is the same JSON. A POSTed body (Flagger's payload) is
 *                   read and ignored (at most 64 KiB).
 *   GET  /healthz   200 "ok".
 *
 * The answer is prepared when `update` is called, so a request costs a lookup and a write.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CanaryResult } from '../../core/comparison.js';
import type { Judgement } from '../types.js';
import { flaggerStatus, type GateAnswer, type GateOptions, gateAnswer } from './gate.js';

export interface GateServerOptions extends GateOptions {
  host?: string;
  /** 0 = any free port. */
  port?: number;
}

export interface GateServer {
  /** e.g. http://127.0.0.1:8080 (IPv6 hosts in brackets). */
  url: string;
  port: number;
  /** Serve this judgement from now on. */
  update(judgement: Judgement<CanaryResult>, judgedAt?: Date): void;
  /** The answer being served, if any. */
  current(): GateAnswer | undefined;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

export async function startGateServer(opts: GateServerOptions = {}): Promise<GateServer> {
  let answer: GateAnswer | undefined;
  let body = '';
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_BODY) req.destroy();
    });
    req.on('end', () => {
      const send = (status: number, text: string, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
        res.end(text);
      };
      const notYet = () => {
        res.setHeader('retry-after', '5');
        send(503, JSON.stringify({ verdict: 'pending', proceed: false, reasons: ['No canary judgement yet.'] }));
      };
      if (path === '/healthz') return send(200, 'ok\n', 'text/plain');
      if (path === '/verdict' && req.method === 'GET') return answer ? send(200, body) : notYet();
      if (path === '/gate' && (req.method === 'GET' || req.method === 'POST')) {
        return answer ? send(flaggerStatus(answer.verdict, opts), body) : notYet();
      }
      send(404, JSON.stringify({ error: `no such endpoint: ${req.method} ${path}` }));
    });
    req.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    update(judgement, judgedAt = new Date()) {
      answer = gateAnswer(judgement, judgedAt, opts);
      body = `${JSON.stringify(answer)}\n`;
    },
    current: () => answer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
