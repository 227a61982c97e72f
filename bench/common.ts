/**
 * Shared plumbing for the benchmarks: argument parsing, CPU pinning, an nginx target pinned to one
 * core, child processes that print JSON, and number formatting. Benchmarks only send traffic to
 * 127.0.0.1, and every wait here is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DurationStats } from '../src/core/results.js';

/** dist/bench (where the compiled benchmarks live) and the repository root. */
export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(BENCH_DIR, '..', '..');

/**
 * Numeric `--name value` options with defaults; unknown options are an error. `choices` adds
 * options that take one of a few words (the first is the default).
 */
export function numericArgs<
  T extends Record<string, number>,
  C extends Record<string, readonly [string, ...string[]]> = Record<never, never>,
>(defaults: T, choices?: C): T & { [K in keyof C]: C[K][number] } {
  const options: Record<string, { type: 'string' }> = {};
  for (const k of Object.keys(defaults)) options[k] = { type: 'string' };
  for (const k of Object.keys(choices ?? {})) options[k] = { type: 'string' };
  const { values } = parseArgs({ options, allowPositionals: false, strict: true });
  const out: Record<string, number | string> = { ...defaults };
  for (const [k, c] of Object.entries(choices ?? {})) out[k] = c[0];
  for (const [k, v] of Object.entries(values)) {
    const c = choices?.[k];
    if (c !== undefined) {
      if (!c.includes(String(v))) throw new Error(`--${k} must be one of ${c.join(', ')} (got ${String(v)})`);
      out[k] = String(v);
      continue;
    }
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${k} must be a non-negative number (got ${String(v)})`);
    out[k] = n;
  }
  return out as T & { [K in keyof C]: C[K][number] };
}

/** Whether `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Pinning is used when `taskset` exists and the machine has at least two cores. */
export const CAN_PIN = os.cpus().length >= 2 && hasCommand('taskset');

/** `cmd args` pinned to `core` (unpinned when pinning is unavailable). */
export function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return CAN_PIN ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

/** A free TCP port on 127.0.0.1 (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:port, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.once('connect', () => (sock.destroy(), resolve(true)));
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() >= deadline) break;
    await sleep(50);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Target {
  url: string;
  /** What the target is, for the report. */
  label: string;
  stop(): Promise<void>;
}

/**
 * nginx, one worker process, `return 200 "ok"` on 127.0.0.1:<free port>, config and logs in a temp
 * dir, pinned to `core`, run in the foreground as our child and killed by stop().
 */
export async function startNginx(core = 0): Promise<Target> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'preflight-bench-nginx-'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { default_type text/plain; return 200 "ok"; }
  }
}
`,
  );
  const [cmd, args] = pinned(core, 'nginx', ['-e', path.join(dir, 'error.log'), '-c', conf, '-p', dir]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await Promise.race([
      waitForPort(port),
      exited.then(() => Promise.reject(new Error(`nginx exited: ${stderr.trim()}`))),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    label: `nginx ${nginxVersion()} (1 worker process${CAN_PIN ? `, pinned to core ${core}` : ''})`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM'); // the master terminates its worker fast on TERM
        await Promise.race([exited, sleep(3000)]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await Promise.race([exited, sleep(1000)]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function nginxVersion(): string {
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  const m = /nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`);
  return m ? m[1] : '?';
}

/**
 * A node:http server in a child process (pinned to `core`) answering 200 "ok": the fallback when
 * nginx is not installed.
 */
export async function startNodeTarget(core = 0): Promise<Target> {
  const port = await freePort();
  const src = `const http=require('node:http');const s=http.createServer((q,r)=>{q.resume();r.writeHead(200,{'content-type':'text/plain'});r.end('ok')});s.keepAliveTimeout=120000;s.listen(${port},'127.0.0.1');`;
  const [cmd, args] = pinned(core, process.execPath, ['-e', src]);
  const child = spawn(cmd, args, { stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitForPort(port);
  return {
    url: `http://127.0.0.1:${port}`,
    label: `node:http ${process.version} (1 process${CAN_PIN ? `, pinned to core ${core}` : ''}) — nginx not installed`,
    async stop() {
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(2000)]);
    },
  };
}

/** nginx when installed, else the node:http fallback. */
export async function startFastTarget(core = 0): Promise<Target> {
  if (hasCommand('nginx')) return startNginx(core);
  return startNodeTarget(core);
}

export interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/**
 * Runs a command to completion (killed after `timeoutMs`). `onSpawn` sees the child (e.g. to sample
 * its memory from /proc).
 */
export function runChild(
  cmd: string,
  args: string[],
  timeoutMs: number,
  onSpawn?: (c: ChildProcess) => void,
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, pid: child.pid ?? -1 });
    });
    onSpawn?.(child);
  });
}

/**
 * Runs `cmd args` (already pinned) through `sh -c '…; times'` so the CPU time (user + system) the
 * command used is known, whatever the tool: the shell's `times` reports its children's totals.
 * The command's own stdout is returned without the `times` lines.
 */
export async function runTimed(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<ChildResult & { cpuS: number | null }> {
  const marker = '__PREFLIGHT_BENCH_TIMES__';
  const r = await runChild('sh', ['-c', `"$@"; rc=$?; echo ${marker}; times; exit $rc`, 'sh', cmd, ...args], timeoutMs);
  const i = r.stdout.lastIndexOf(marker);
  if (i < 0) return { ...r, cpuS: null };
  const tail = r.stdout
    .slice(i + marker.length)
    .trim()
    .split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(tail[1] ?? '');
  const cpuS = m ? Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]) : null;
  return { ...r, stdout: r.stdout.slice(0, i), cpuS };
}

/** The last line of stdout that parses as a JSON object. */
export function lastJson<T>(r: ChildResult, what: string): T {
  const lines = r.stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as T;
    } catch {
      // not JSON; keep looking
    }
  }
  throw new Error(
    `${what} printed no JSON (exit ${r.code}).\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`,
  );
}

/** Options of bench/preflight-load.ts (the generator in a child process). */
export interface LoadArgs {
  url: string;
  executor: 'constant-concurrency' | 'constant-arrival-rate';
  durationS: number;
  rate?: number;
  concurrency?: number;
  connections?: number;
  arrival?: 'uniform' | 'poisson';
  /** Sample the child's own memory every this many ms (0 = off). */
  sampleMs?: number;
  timeoutMs?: number;
  protocol?: 'http' | 'openai';
  tokens?: number;
}

export function loadArgs(a: LoadArgs): string[] {
  const out = ['--url', a.url, '--executor', a.executor, '--duration', String(a.durationS)];
  if (a.rate !== undefined) out.push('--rate', String(a.rate));
  if (a.concurrency !== undefined) out.push('--concurrency', String(a.concurrency));
  if (a.connections !== undefined) out.push('--connections', String(a.connections));
  if (a.arrival !== undefined) out.push('--arrival', a.arrival);
  if (a.sampleMs !== undefined) out.push('--sample-ms', String(a.sampleMs));
  if (a.timeoutMs !== undefined) out.push('--timeout-ms', String(a.timeoutMs));
  if (a.protocol !== undefined) out.push('--protocol', a.protocol);
  if (a.tokens !== undefined) out.push('--tokens', String(a.tokens));
  return out;
}

/** What bench/preflight-load.ts prints (one JSON line). */
export interface LoadReport {
  requests: number;
  ok: number;
  errors: Record<string, number>;
  throughput: number;
  durationS: number;
  late: number;
  unsent: number;
  cancelled: number;
  latency_ms: Stats;
  service_time_ms: Stats;
  dispatch_lag_ms: Stats;
  generator: {
    overloaded: boolean;
    dispatch_lag_ms: { p50: number; p99: number; max: number };
    event_loop_delay_ms: { p99: number; max: number };
    cpu_percent: { mean: number; max: number };
    reasons: string[];
    windows_over_limit?: { count: number; of: number; limit_ms: number };
  };
  /** The adapter's histograms (openai: ttft_ms, itl_ms, tpot_ms, e2e_ms, …). */
  histograms?: Record<string, Stats>;
  /** The same, over the windows from `fromS` on (completions after the first requests' set-up and warm-up). */
  steady?: { fromS: number; histograms: Record<string, Stats> };
  /** Per metrics window (1 s): completed per second. */
  windows: number[];
  /** Per metrics window: requests, late, latency p50/p99 (ms). */
  windowDetail: Array<{ t: number; requests: number; late: number; p50: number; p99: number }>;
  /** process.cpuUsage over run(): % of one core. */
  cpuPercent: number;
  runWallS: number;
  memory: Array<{
    tS: number;
    rssMB: number;
    heapUsedMB: number;
    heapTotalMB: number;
    externalMB: number;
    arrayBuffersMB: number;
  }>;
  maxRssMB: number;
}

/** A summary's latency-like statistics (ms), as src/core/results.ts defines them. */
export type Stats = DurationStats;

/** Runs Preflight in a child process (pinned to `core`) and returns its report. */
export async function runPreflight(a: LoadArgs, core = 1): Promise<LoadReport> {
  const [cmd, args] = pinned(core, process.execPath, [path.join(BENCH_DIR, 'preflight-load.js'), ...loadArgs(a)]);
  const r = await runChild(cmd, args, (a.durationS + 60) * 1000);
  return lastJson<LoadReport>(r, 'preflight-load');
}

export const fmt = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;

/** A left-aligned text table. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

export function heading(title: string, lines: string[]): void {
  console.log(`\n=== ${title} ===`);
  for (const l of lines) console.log(l);
}

/** One line describing the machine, for the report. */
export function machineLine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, node ${process.version}${CAN_PIN ? '' : ' (no CPU pinning: taskset missing or < 2 cores)'}`;
}

/** Marks a figure against its target. */
export const verdict = (ok: boolean) => (ok ? 'meets target' : 'MISSES target');

/** Busy fraction of all CPUs over `ms` (from /proc/stat; null off Linux): other load on the machine. */
export async function machineBusy(ms = 1000): Promise<number | null> {
  const read = () => {
    if (!existsSync('/proc/stat')) return null;
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await sleep(ms);
  const b = read();
  if (a === null || b === null || b.total === a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/** Prints a warning when the machine is already busy before a benchmark starts. */
export async function warnIfBusy(): Promise<string> {
  const busy = await machineBusy(1000);
  if (busy === null) return 'background CPU: unknown';
  const line = `background CPU before start: ${pct(busy)} of all cores`;
  return busy > 0.1 ? `${line} — WARNING: other processes are running; figures will be noisy` : line;
}
