/**
 * A canary's step, promote and rollback actions: a command (argv, no shell) or an HTTP call, with
 * `{{share}}` replaced by the candidate's share in percent, stopped after its timeout. Never throws:
 * the outcome is a line for the summary (`canary.steps[].action`), without headers or body.
 */
import { spawn } from 'node:child_process';
import { request } from 'undici';
import type { ActionPlan } from '../plan/comparison.js';

const fill = (s: string, share: number) => s.replaceAll('{{share}}', String(Math.round(share * 1000) / 10));

export async function runAction(a: ActionPlan, share: number): Promise<string> {
  if (a.kind === 'command') {
    const argv = a.argv.map((x) => fill(x, share));
    const shown = argv.join(' ');
    return new Promise((resolve) => {
      let done = false;
      const finish = (s: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(s);
      };
      const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        finish(`${shown}: stopped after ${a.timeoutMs} ms`);
      }, a.timeoutMs);
      child.on('error', (e) => finish(`${shown}: could not start (${e.message})`));
      child.on('exit', (code, signal) => finish(`${shown}: ${code !== null ? `exit ${code}` : `killed by ${signal}`}`));
    });
  }
  const url = fill(a.url, share);
  const shown = `${a.method} ${url}`;
  try {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(a.headers)) headers[k] = fill(v, share);
    const res = await request(url, {
      method: a.method as 'POST',
      headers,
      ...(a.body !== undefined ? { body: fill(a.body, share) } : {}),
      headersTimeout: a.timeoutMs,
      bodyTimeout: a.timeoutMs,
    });
    await res.body.dump();
    return `${shown}: HTTP ${res.statusCode}`;
  } catch (e) {
    return `${shown}: failed (${(e as Error).message})`;
  }
}
