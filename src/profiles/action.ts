/**
 * The rollout profile's action: a command (spawned without a shell unless the plan says
 * `shell: true`) or an HTTP call to the target's host, bounded by a timeout. Its outcome is data
 * for the answer, never an exception.
 */
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { targetAgent } from '../engine/index.js';
import type { RolloutAction, TlsOptions } from '../plan/types.js';

export interface ActionResult {
  ok: boolean;
  kind: 'run' | 'http';
  /** What ran, as the plan wrote it (no secrets: the summary is redacted anyway). */
  display: string;
  /** Seconds it took. */
  duration_s: number;
  exit_code?: number | null;
  signal?: string | null;
  status?: number;
  timed_out: boolean;
  /** Last bytes of the output (stdout and stderr) or of the response body. */
  output_tail: string;
  error?: string;
}

const TAIL = 2000;

function tail(s: string): string {
  return s.length > TAIL ? `…${s.slice(-TAIL)}` : s;
}

export async function runAction(
  action: RolloutAction,
  opts: { timeoutMs: number; signal?: AbortSignal; tls?: TlsOptions },
): Promise<ActionResult> {
  const t0 = performance.now();
  const dur = (): number => Math.round(performance.now() - t0) / 1000;
  if (action.kind === 'http') {
    // The target's host: the plan's TLS options (tls.caFile, tls.insecure) apply.
    const dispatcher = opts.tls && action.url.startsWith('https:') ? targetAgent(opts.tls) : undefined;
    try {
      const res = await request(action.url, {
        method: action.method as 'POST',
        headers: action.headers,
        body: action.body,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
        signal: opts.signal,
        ...(dispatcher ? { dispatcher } : {}),
      });
      const text = await res.body.text();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      return {
        ok,
        kind: 'http',
        display: action.display,
        duration_s: dur(),
        status: res.statusCode,
        timed_out: false,
        output_tail: tail(text),
      };
    } catch (e) {
      const err = e as Error & { code?: string };
      const timedOut = /Timeout/i.test(err.code ?? '') || /timeout/i.test(err.message);
      return {
        ok: false,
        kind: 'http',
        display: action.display,
        duration_s: dur(),
        timed_out: timedOut,
        output_tail: '',
        error: err.message,
      };
    } finally {
      dispatcher?.close().catch(() => {});
    }
  }
  return new Promise<ActionResult>((resolve) => {
    let out = '';
    let timedOut = false;
    let settled = false;
    const finish = (r: Omit<ActionResult, 'kind' | 'display' | 'duration_s' | 'timed_out' | 'output_tail'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({
        kind: 'run',
        display: action.display,
        duration_s: dur(),
        timed_out: timedOut,
        output_tail: tail(out),
        ...r,
      });
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(action.argv[0], action.argv.slice(1), { shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({
        ok: false,
        kind: 'run',
        display: action.display,
        duration_s: dur(),
        timed_out: false,
        output_tail: '',
        error: (e as Error).message,
      });
      return;
    }
    const collect = (c: Buffer): void => {
      out += c.toString('utf8');
      if (out.length > 4 * TAIL) out = out.slice(-2 * TAIL);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    const onAbort = (): void => kill();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => finish({ ok: false, error: e.message }));
    child.on('close', (code, sig) => finish({ ok: code === 0 && !timedOut, exit_code: code, signal: sig }));
  });
}
