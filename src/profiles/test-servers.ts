/**
 * Servers with known behaviour for the profile tests (127.0.0.1, ephemeral ports):
 *   - capacityServer: serves at most `capacity` requests per second, FIFO; beyond a bounded queue
 *     it sheds with 503 (graceful), or lets the queue grow (catastrophic: latency without bound);
 *   - driftServer: latency and /metrics memory that grow with time (or only jitter, seeded).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../core/random.js';

export interface TestServer {
  url: string;
  served: number;
  shed: number;
  close(): Promise<void>;
}

/** Temporary folders for a test file's results, removed together (call removeAll in after()). */
export function tempDirs(prefix: string): { make(): string; removeAll(): void } {
  const dirs: string[] = [];
  return {
    make() {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    removeAll() {
      for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}

async function listen(server: http.Server): Promise<string> {
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: http.Server, extra: () => void = () => {}): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      extra();
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/**
 * Serves at most `capacity` requests/s (a token bucket refilled every 5 ms, FIFO queue). With
 * `maxQueue`, requests arriving to a full queue get 503 at once; without it the queue is unbounded.
 */
export async function capacityServer(opts: {
  capacity: number;
  maxQueue?: number;
  serviceMs?: number;
}): Promise<TestServer> {
  const queue: http.ServerResponse[] = [];
  const state = { served: 0, shed: 0 };
  let tokens = 0;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    tokens = Math.min(Math.max(1, opts.capacity * 0.02), tokens + ((now - last) / 1000) * opts.capacity);
    last = now;
    while (tokens >= 1 && queue.length > 0) {
      const res = queue.shift()!;
      if (res.destroyed || res.socket === null || res.socket.destroyed) continue; // the client gave up: no work
      tokens -= 1;
      state.served++;
      const reply = (): void => {
        if (!res.destroyed) res.end('ok');
      };
      if (opts.serviceMs) setTimeout(reply, opts.serviceMs);
      else reply();
    }
  }, 5);
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (opts.maxQueue !== undefined && queue.length >= opts.maxQueue) {
        state.shed++;
        res.writeHead(503, { 'retry-after': '1' });
        res.end('queue full');
        return;
      }
      queue.push(res);
    });
  });
  const url = await listen(server);
  return {
    url,
    get served() {
      return state.served;
    },
    get shed() {
      return state.shed;
    },
    close: closer(server, () => clearInterval(tick)),
  };
}

/**
 * Latency = baseMs + growMsPerS × (seconds since start) + jitter in [0, jitterMs) (seeded), and
 * GET /metrics with process_resident_memory_bytes = baseBytes + growBytesPerS × t + noise (seeded).
 */
export async function driftServer(opts: {
  baseMs: number;
  growMsPerS: number;
  jitterMs: number;
  baseBytes: number;
  growBytesPerS: number;
  noiseBytes: number;
  seed: number;
}): Promise<TestServer> {
  const t0 = performance.now();
  const rng = new Rng(opts.seed);
  const memRng = new Rng(opts.seed + 1);
  const state = { served: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const t = (performance.now() - t0) / 1000;
      if (req.url === '/metrics') {
        const v = Math.round(opts.baseBytes + opts.growBytesPerS * t + (memRng.float() - 0.5) * 2 * opts.noiseBytes);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(
          `# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes ${v}\nprocess_resident_memory_bytes_total_bogus 1\n`,
        );
        return;
      }
      const delay = opts.baseMs + opts.growMsPerS * t + rng.float() * opts.jitterMs;
      setTimeout(() => {
        state.served++;
        res.end('ok');
      }, delay);
    });
  });
  const url = await listen(server);
  return {
    url,
    get served() {
      return state.served;
    },
    shed: 0,
    close: closer(server),
  };
}
