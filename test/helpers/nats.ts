/**
 * A real NATS server with JetStream (Debian's `nats-server`; scripts/test.sh installs it) for
 * integration tests: loopback, a free port, its store in a temp dir; stopped by its PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findBinary, freePort, stopChild } from './child-process.js';

export const natsBinary = (): string | undefined => findBinary('nats-server');

/** Why NATS tests skip (undefined: they run). On CI a missing binary is a failure, not a skip. */
export function natsSkip(): string | undefined {
  return natsBinary() === undefined && !process.env['CI']
    ? 'nats-server is not installed (Debian: apt-get install nats-server — scripts/test.sh does it as root; required when CI is set)'
    : undefined;
}

export interface NatsServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startNats(): Promise<NatsServer> {
  const bin = natsBinary();
  if (!bin) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-nats-'));
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child: ChildProcess = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (await listening(child, port)) {
      return {
        url: `nats://127.0.0.1:${port}`,
        pid: child.pid!,
        stop: async () => {
          await stopChild(child, exited, 5000);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child, exited, 5000);
    lastError = stderr.trim();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`nats-server did not start: ${lastError}`);
}

/** Up to ~15 s: the port accepts a connection (and the process is still there). */
async function listening(child: ChildProcess, port: number): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
