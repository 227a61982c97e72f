/**
 * Ad-hoc: how long one tick of the request-deadline check takes with N requests in flight (the scan
 * runs on the thread that sends and receives, so it must stay well under ~1 ms). A silent loopback
 * server holds every request open; nothing times out during the measurement (timeout 60 s).
 * Run: node dist/bench/deadline-scan.js [inFlight=10000]
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createPool } from '../src/engine/http-pool.js';
import { nowNs } from '../src/engine/clock.js';
import { ScenarioRuntime } from '../src/engine/scenario-runtime.js';
import type { Adapter } from '../src/core/types.js';
import type { ScenarioPlan } from '../src/plan/types.js';

const n = Number(process.argv[2] ?? 10_000);
const sockets = new Set<net.Socket>();
const server = net.createServer((s) => {
  sockets.add(s);
  s.on('error', () => {});
  s.resume();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const adapter: Adapter = {
  protocol: 'http',
  bodyMode: 'none',
  request: () => ({ method: 'GET', path: '/', headers: {} }),
};
const plan = {
  name: 'b',
  executor: 'constant-arrival-rate',
  protocol: 'http',
  startTimeMs: 0,
  gracefulStopMs: 0,
  arrival: 'uniform',
  checks: [],
  tags: {},
} as unknown as ScenarioPlan;
// 64 connections, the rest queued in the pool: only requests on a socket are checked, but every live one is visited.
const pool = createPool(url, { connections: 64, connectTimeoutMs: 5000, tls: { insecure: false } });
const rt = new ScenarioRuntime(plan, adapter, pool, 60_000);
for (let i = 0; i < n; i++) rt.send(nowNs(), i, { onRequestDone() {} });
await new Promise((r) => setTimeout(r, 500));
const check = (rt as unknown as { checkDeadlines: () => void }).checkDeadlines;
const times: number[] = [];
for (let i = 0; i < 200; i++) {
  const t0 = process.hrtime.bigint();
  check();
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
times.sort((a, b) => a - b);
console.log(
  `${n} requests in flight (${rt.inFlight} live): one deadline tick p50 ${times[100].toFixed(3)} ms, p99 ${times[197].toFixed(3)} ms, max ${times[199].toFixed(3)} ms`,
);
rt.abortAll();
await pool.destroy();
for (const s of sockets) s.destroy();
server.close();
