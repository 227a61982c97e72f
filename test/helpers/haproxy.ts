/**
 * A real haproxy (Debian's package; scripts/test.sh installs it) in the foreground for integration
 * tests: a config in a temp dir with one backend of named servers, an admin socket, a frontend on a
 * free loopback port; commands through the admin socket over node:net (no socat needed).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findBinary, freePort, stopChild } from './child-process.js';

/** The haproxy binary, or undefined when it is not installed (/usr/sbin is often not on a user's PATH). */
export function haproxyBinary(): string | undefined {
  return findBinary('haproxy', ['/usr/sbin', '/usr/local/sbin']);
}

export interface Haproxy {
  /** The frontend, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The admin socket (`level admin`). */
  socket: string;
  backend: string;
  pid: number;
  /** Stops haproxy by its PID (SIGTERM, then SIGKILL) and removes its temp dir. */
  stop(): Promise<void>;
}

/** One command (or several separated by `;`) through the admin socket; resolves with haproxy's answer. */
export function adminCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = net.connect(socket);
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`haproxy admin socket: no answer to "${command}" in ${timeoutMs} ms`));
    }, timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // Non-interactive mode: haproxy answers the line and closes the connection.
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.end(`${command}\n`);
  });
}

/** A server's current weight (`get weight` answers "30 (initial 0)"). */
export async function getWeight(h: Haproxy, server: string): Promise<number> {
  const answer = await adminCommand(h.socket, `get weight ${h.backend}/${server}`);
  const m = /^(\d+) \(initial \d+\)/.exec(answer.trim());
  if (!m) throw new Error(`get weight ${h.backend}/${server}: ${answer.trim()}`);
  return Number(m[1]);
}

/** Requests each server of the backend has been sent (`show stat`, column `stot`). */
export async function serverTotals(h: Haproxy): Promise<Record<string, number>> {
  const lines = (await adminCommand(h.socket, 'show stat')).trim().split('\n');
  const header = lines[0].replace(/^# /, '').split(',');
  const [px, sv, stot] = ['pxname', 'svname', 'stot'].map((k) => header.indexOf(k));
  const out: Record<string, number> = {};
  for (const l of lines.slice(1)) {
    const f = l.split(',');
    if (f[px] === h.backend && f[sv] !== 'BACKEND') out[f[sv]] = Number(f[stot]);
  }
  return out;
}

/**
 * The canary action as a command (argv, no shell): node moves the weights of the backend's servers
 * `control` and `candidate` to 100 − share and share through the admin socket, in one line (so no
 * request sees both at once), and exits 1 when haproxy answers with an error (e.g. "No such server.").
 * `share` is a number or the plan's `{{share}}`; weights are whole numbers (12.5 % → 13).
 */
export function weightAction(
  socket: string,
  backend: string,
  control: string,
  candidate: string,
  share: string | number = '{{share}}',
): string[] {
  const script = [
    'const [sock, be, a, b, share] = process.argv.slice(1), w = Math.round(Number(share)), out = [];',
    "if (!(w >= 0 && w <= 100)) { console.error('share ' + share + ' is not 0-100'); process.exit(2); }",
    // String concatenation, not a template: a plan file reads `${…}` from the environment.
    "const s = require('node:net').connect(sock, () => s.end('set weight ' + be + '/' + a + ' ' + (100 - w) + ';set weight ' + be + '/' + b + ' ' + w + '\\n'));",
    "s.setTimeout(5000, () => { console.error('no answer'); process.exit(1); });",
    "s.on('data', (d) => out.push(d)).on('error', (e) => { console.error(e.message); process.exit(1); });",
    "s.on('close', () => { const t = Buffer.concat(out).toString().trim(); if (t) { console.error(t); process.exitCode = 1; } });",
  ].join(' ');
  return [process.execPath, '-e', script, socket, backend, control, candidate, String(share)];
}

/**
 * Starts haproxy in the foreground (`-db`) with a backend of `servers` (name → URL and initial
 * weight), balance roundrobin (weights can be changed at run time), and waits (bounded) until the
 * admin socket and the frontend answer.
 */
export async function startHaproxy(
  servers: Record<string, { url: string; weight: number }>,
  backend = 'model',
  /** Active health checks: `option httpchk GET <path>`, each server checked every 200 ms, down after 2 failures, up after 2 passes. */
  healthPath?: string,
  /** More lines for the backend section (e.g. `retries 3`, `retry-on all-retryable-errors`). */
  backendLines: readonly string[] = [],
): Promise<Haproxy> {
  const bin = haproxyBinary();
  if (!bin) throw new Error('haproxy is not installed (apt-get install haproxy)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-haproxy-'));
  const socket = path.join(dir, 'admin.sock');
  let lastError = '';
  // The free port is found by listening and closing: another process may take it in between, so retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(
      cfg,
      [
        'global',
        `  stats socket ${socket} level admin`,
        '  maxconn 256',
        '  nbthread 1',
        'defaults',
        '  mode http',
        '  timeout connect 2s',
        '  timeout client 30s',
        '  timeout server 30s',
        'frontend fe',
        `  bind 127.0.0.1:${port}`,
        `  default_backend ${backend}`,
        `backend ${backend}`,
        '  balance roundrobin',
        ...(healthPath ? [`  option httpchk GET ${healthPath}`] : []),
        ...backendLines.map((l) => `  ${l}`),
        ...Object.entries(servers).map(
          ([name, s]) =>
            `  server ${name} ${new URL(s.url).host} weight ${s.weight}${healthPath ? ' check inter 200ms fall 2 rise 2' : ''}`,
        ),
        '',
      ].join('\n'),
    );
    const child = spawn(bin, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (await ready(child, socket, port)) {
      return {
        url: `http://127.0.0.1:${port}`,
        socket,
        backend,
        pid: child.pid!,
        stop: async () => {
          await stopChild(child, exited);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child, exited);
    lastError = stderr.trim();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`haproxy did not start: ${lastError}`);
}

/** Up to ~5 s: the admin socket answers and the frontend accepts a connection. */
async function ready(child: ChildProcess, socket: string, port: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      await adminCommand(socket, 'show info', 1000);
      await new Promise<void>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => {
          c.destroy();
          resolve();
        });
        c.on('error', reject);
      });
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}
