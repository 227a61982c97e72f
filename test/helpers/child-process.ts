/** Shared by the helpers that run real servers as child processes (haproxy, Prometheus). */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

/** A loopback port free right now (listen on 0, close): another process may take it before use, so callers retry. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Stops `child` by its PID: SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(child: ChildProcess, exited: Promise<void>, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  process.kill(child.pid!, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
  ]);
  clearTimeout(timer);
  if (!killed) {
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }
}

/** An executable `name` on PATH or in `extraDirs` (Debian puts servers in /usr/sbin), or undefined. */
export function findBinary(
  name: string,
  extraDirs: string[] = ['/usr/sbin', '/usr/bin', '/usr/local/bin'],
): string | undefined {
  for (const d of [...(process.env['PATH'] ?? '').split(path.delimiter), ...extraDirs]) {
    if (!d) continue;
    const f = path.join(d, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Up to ~30 s (two busy cores): `${url}/-/ready` answers 200 (Prometheus, Alertmanager); false when the child exits first. */
async function readyEndpoint(child: ChildProcess, url: string): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.ok) return true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * Starts `bin` with `args(port)` on a free loopback port and waits until its /-/ready answers. The
 * free port is found by listening and closing: another process may take it in between, so it retries
 * (3 times). Throws with the last stderr when it never got ready.
 */
export async function startReadyServer(
  name: string,
  bin: string,
  args: (port: number) => string[],
): Promise<{ child: ChildProcess; exited: Promise<void>; url: string; port: number }> {
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(bin, args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    if (await readyEndpoint(child, url)) return { child, exited, url, port };
    await stopChild(child, exited, 5000);
    lastError = stderr.trim();
  }
  throw new Error(`${name} did not start: ${lastError}`);
}
