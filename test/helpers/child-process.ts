/** Shared by the helpers that run real servers as child processes (haproxy, Prometheus). */
import type { ChildProcess } from 'node:child_process';
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
