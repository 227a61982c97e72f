/**
 * A canary's step, promote and rollback actions as the run side runs them: a command (argv, no
 * shell) or an HTTP call, `${SHARE}` replaced by the candidate's share in percent, stopped after its
 * timeout. Never throws: `{ ok, detail }` (the same shape as src/comparison/canary's runAction, which
 * can replace this one), the detail without argv, headers or body, redacted.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { request } from 'undici';
import type { ActionPlan } from '../plan/comparison.js';
import { redact } from '../plan/index.js';

const fill = (s: string, share: number) => s.split('${SHARE}').join(String(Number((share * 100).toFixed(4))));

export async function runAction(
  a: ActionPlan,
  share: number,
  secrets: readonly string[],
): Promise<{ ok: boolean; detail: string }> {
  const r = await (a.kind === 'command' ? command(a, share) : http(a, share));
  return { ok: r.ok, detail: redact(r.detail, secrets) };
}

function command(a: Extract<ActionPlan, { kind: 'command' }>, share: number): Promise<{ ok: boolean; detail: string }> {
  const argv = a.argv.map((x) => fill(x, share));
  const name = basename(argv[0]);
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ok, detail });
    };
    const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(false, `${name}: stopped after ${a.timeoutMs} ms`);
    }, a.timeoutMs);
    child.on('error', (e) => finish(false, `${name}: could not start (${e.message})`));
    child.on('exit', (code, signal) =>
      finish(code === 0, `${name}: ${code !== null ? `exit ${code}` : `killed by ${signal}`}`),
    );
  });
}

async function http(a: Extract<ActionPlan, { kind: 'http' }>, share: number): Promise<{ ok: boolean; detail: string }> {
  const url = fill(a.url, share);
  const shown = `${a.method} ${new URL(url).origin}${new URL(url).pathname}`;
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
    return { ok: res.statusCode >= 200 && res.statusCode < 300, detail: `${shown}: HTTP ${res.statusCode}` };
  } catch (e) {
    return { ok: false, detail: `${shown}: failed (${(e as Error).message})` };
  }
}
