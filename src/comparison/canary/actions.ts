/**
 * A progressive rollout's actions (step / promote / rollback): a command (argv, no shell) or an
 * HTTP call, with `${SHARE}` replaced by the candidate's traffic share in percent. An action never
 * throws: a failure to start, a non-zero exit, a non-2xx answer or a timeout is `{ ok: false }` with
 * a detail sentence. Details are redacted with the plan's secrets and never contain the argv or
 * the headers (they may carry credentials): the command's name, exit code and the tail of stderr;
 * the method, the URL (credentials removed), status and the start of the answer.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import type { ActionPlan } from '../../plan/comparison.js';
import { redact } from '../../plan/secrets.js';

export interface ActionResult {
  ok: boolean;
  /** One sentence: what ran, how it ended, in how long. */
  detail: string;
  durationMs: number;
  /** Command: its exit code (null when killed or not started). */
  exitCode?: number | null;
  /** HTTP: the answer's status. */
  status?: number;
}

/** Kept of a command's stderr (the end) and of an HTTP answer (the start), in characters. */
export const ACTION_OUTPUT_LIMIT = 2000;
/** After a timeout's SIGTERM, SIGKILL follows this much later. */
const KILL_GRACE_MS = 2000;

/** The share as the percentage `${SHARE}` stands for: 0.05 → "5", 0.125 → "12.5". */
export function sharePercent(share: number): string {
  return String(Number((share * 100).toFixed(4)));
}

export function substituteShare(text: string, share: number): string {
  return text.split('${SHARE}').join(sharePercent(share));
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Run one action for the given candidate share (0–1). Resolves, never rejects. */
export async function runAction(
  action: ActionPlan,
  share: number,
  secrets: readonly string[] = [],
): Promise<ActionResult> {
  try {
    return action.kind === 'command'
      ? await runCommand(action.argv, action.timeoutMs, share, secrets)
      : await runHttp(action, share, secrets);
  } catch (err) {
    return { ok: false, detail: redact(`Action failed: ${(err as Error).message}.`, secrets), durationMs: 0 };
  }
}

function runCommand(
  argv: string[],
  timeoutMs: number,
  share: number,
  secrets: readonly string[],
): Promise<ActionResult> {
  const args = argv.map((a) => substituteShare(a, share));
  const name = basename(args[0] ?? '');
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    if (args.length === 0 || args[0] === '') {
      resolve({ ok: false, detail: 'Command action has an empty argv.', durationMs: 0, exitCode: null });
      return;
    }
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const child = spawn(args[0], args.slice(1), { shell: false, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-ACTION_OUTPUT_LIMIT);
    });
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    }, timeoutMs);
    const finish = (r: ActionResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve({ ...r, detail: redact(r.detail, secrets) });
    };
    child.on('error', (err) => {
      finish({
        ok: false,
        detail: `Command ${name} could not start: ${(err as NodeJS.ErrnoException).code ?? err.message}.`,
        durationMs: elapsed(),
        exitCode: null,
      });
    });
    child.on('close', (code, signal) => {
      const tail = oneLine(stderr);
      const ms = elapsed();
      if (timedOut) {
        finish({
          ok: false,
          detail: `Command ${name} timed out after ${timeoutMs} ms and was killed${tail ? `; stderr: ${tail}` : ''}.`,
          durationMs: ms,
          exitCode: null,
        });
      } else if (code === 0) {
        finish({ ok: true, detail: `Command ${name} exited 0 in ${ms} ms.`, durationMs: ms, exitCode: 0 });
      } else {
        const how = code === null ? `was killed by ${signal}` : `exited ${code}`;
        finish({
          ok: false,
          detail: `Command ${name} ${how} in ${ms} ms${tail ? `; stderr: ${tail}` : ''}.`,
          durationMs: ms,
          exitCode: code,
        });
      }
    });
  });
}

async function readStart(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    while (text.length < ACTION_OUTPUT_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return text.slice(0, ACTION_OUTPUT_LIMIT);
}

async function runHttp(
  action: Extract<ActionPlan, { kind: 'http' }>,
  share: number,
  secrets: readonly string[],
): Promise<ActionResult> {
  const url = substituteShare(action.url, share);
  const shown = `${action.method.toUpperCase()} ${url}`;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(action.headers)) headers[k] = substituteShare(v, share);
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const signal = AbortSignal.timeout(action.timeoutMs);
  let result: ActionResult;
  try {
    const res = await fetch(url, {
      method: action.method.toUpperCase(),
      headers,
      ...(action.body !== undefined ? { body: substituteShare(action.body, share) } : {}),
      signal,
      redirect: 'manual',
    });
    const text = oneLine(await readStart(res.body));
    const ms = elapsed();
    const ok = res.status >= 200 && res.status < 300;
    result = {
      ok,
      detail: `${shown} answered ${res.status} in ${ms} ms${!ok && text ? `: ${text}` : ''}.`,
      durationMs: ms,
      status: res.status,
    };
  } catch (err) {
    const ms = elapsed();
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = signal.aborted
      ? `timed out after ${action.timeoutMs} ms`
      : `failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
    result = { ok: false, detail: `${shown} ${why}.`, durationMs: ms };
  }
  return { ...result, detail: redact(result.detail, secrets) };
}
