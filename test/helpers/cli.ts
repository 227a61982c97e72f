/**
 * The built `preflight` command as a user runs it: a child process with colour off, its exit code
 * and output collected, killed if it outlives its time limit (every test run stops by itself).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/). */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Send this signal after `signalAfterMs` (Ctrl-C, a closed terminal). */
  signal?: NodeJS.Signals;
  signalAfterMs?: number;
  timeoutMs?: number;
}

export function preflight(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: opts.cwd ?? root,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    const signal =
      opts.signalAfterMs === undefined
        ? null
        : setTimeout(() => child.kill(opts.signal ?? 'SIGINT'), opts.signalAfterMs);
    child.on('close', (code) => {
      clearTimeout(kill);
      if (signal) clearTimeout(signal);
      resolve({ code, stdout, stderr });
    });
  });
}
