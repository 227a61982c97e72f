/**
 * `preflight run --gate-port <port> [--gate-host H] [--gate-linger D]`: a canary plan's verdict served
 * over HTTP while it runs (src/comparison/canary/gate-server.ts) — `/verdict` for Argo Rollouts' Web
 * metric provider, `/gate` for Flagger's webhooks — updated on every step judgement and the final
 * one, and kept up for `--gate-linger` after the run so a controller polling on its own schedule
 * can still read the final answer. docs/release-comparisons.md "Argo Rollouts and Flagger".
 */
import { isIP } from 'node:net';
import { type GateServer, type Judgement, startGateServer } from '../comparison/index.js';
import type { CanaryResult } from '../core/comparison.js';
import { PreflightError } from '../core/errors.js';
import type { Summary } from '../core/results.js';
import { formatDuration, parseDuration } from '../plan/index.js';
import type { Plan } from '../plan/types.js';

/** Longest linger: a controller polls every few seconds or minutes; an hour-long wait is a mistake. */
export const MAX_GATE_LINGER_MS = 3_600_000;

export interface GateArgs {
  port: number;
  host: string;
  /** The host was given (`--gate-host`): a non-loopback address is then allowed, with a warning. */
  hostGiven: boolean;
  lingerMs: number;
}

/** The gate flags checked before anything runs (exit 2 with a hint); undefined without `--gate-port`. */
export function gateArgs(
  plan: Plan,
  values: { 'gate-port'?: string; 'gate-host'?: string; 'gate-linger'?: string },
): GateArgs | undefined {
  const p = values['gate-port'];
  if (p === undefined) {
    for (const k of ['gate-host', 'gate-linger'] as const)
      if (values[k] !== undefined)
        throw new PreflightError('E_ARGS', `--${k} needs --gate-port`, {
          problems: [
            { message: `--${k} given without --gate-port`, hint: 'add --gate-port <port> (0: any free port)' },
          ],
        });
    return undefined;
  }
  if (plan.comparison?.kind !== 'canary' || plan.profile)
    throw new PreflightError('E_ARGS', '--gate-port serves a canary verdict: the plan has no canary comparison', {
      problems: [
        {
          message: `the plan's comparison is ${plan.comparison ? `kind ${plan.comparison.kind}` : 'absent'}`,
          hint: 'use a plan with `comparison: { kind: canary, … }` (e.g. examples/canary-digits.yaml), or drop --gate-port',
        },
      ],
    });
  const port = Number(p);
  if (!/^\d+$/.test(p) || !(port >= 0 && port <= 65535))
    throw new PreflightError('E_ARGS', `--gate-port must be a port number 0–65535 (0: any free port), got "${p}"`, {
      problems: p.includes(':')
        ? [{ message: 'a host in --gate-port', hint: 'give the address with --gate-host, e.g. --gate-host 0.0.0.0' }]
        : [],
    });
  const host = values['gate-host'] ?? '127.0.0.1';
  if (values['gate-host'] !== undefined && isIP(host) === 0 && host !== 'localhost')
    throw new PreflightError('E_ARGS', `--gate-host must be an IP address (or localhost), got "${host}"`, {
      problems: [
        { message: 'not an IP address', hint: 'e.g. --gate-host 127.0.0.1, ::1 or 0.0.0.0 (every interface)' },
      ],
    });
  let lingerMs = 0;
  const l = values['gate-linger'];
  if (l !== undefined) {
    lingerMs = l === '0' ? 0 : parseDuration(l);
    if (!(lingerMs >= 0 && lingerMs <= MAX_GATE_LINGER_MS))
      throw new PreflightError('E_ARGS', `--gate-linger must be 0 to 1h, got "${l}"`, {
        problems: [{ message: `${l} is out of range`, hint: 'e.g. --gate-linger 5m (a controller polls within it)' }],
      });
  }
  return { port, host, hostGiven: values['gate-host'] !== undefined, lingerMs };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || /^::ffff:127\./.test(host);
}

/** Starts the gate before the load; a port in use (or an address not on this machine) is exit 2. */
export async function openGate(plan: Plan, g: GateArgs, log: (line: string) => void): Promise<GateServer> {
  if (!isLoopback(g.host) && !g.hostGiven)
    throw new PreflightError('E_ARGS', `refusing to serve the gate on ${g.host} without --gate-host`);
  let gate: GateServer;
  try {
    gate = await startGateServer({
      host: g.host,
      port: g.port,
      marginalPasses: plan.comparison?.canary?.marginalPasses ?? false,
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new PreflightError('E_ARGS', `cannot serve the gate on ${g.host}:${g.port}: ${err.code ?? err.message}`, {
      cause: e,
      problems: [
        {
          message: err.message,
          hint: err.code === 'EADDRINUSE' ? 'pick another --gate-port (0: any free port)' : 'check --gate-host',
        },
      ],
    });
  }
  if (!isLoopback(g.host))
    log(
      `warning: the gate listens on ${g.host} (not loopback, as --gate-host asked): anyone who can reach ${gate.url} reads the canary verdict`,
    );
  log(
    `gate: ${gate.url}/verdict (Argo Rollouts Web provider) · ${gate.url}/gate (Flagger webhooks) — 503 until the first judgement`,
  );
  return gate;
}

/** The run's final canary judgement, as the gate serves it (summary.comparison). */
export function finalJudgement(summary: Summary): Judgement<CanaryResult> | undefined {
  const c = summary.comparison;
  return c?.canary ? { verdict: c.verdict, reasons: c.reasons, result: c.canary } : undefined;
}

/**
 * After the run: serve the final answer for `lingerMs` (a signal — Ctrl-C, SIGTERM — ends the wait
 * early), then close. Without a linger the gate closes at once.
 */
export async function lingerAndClose(gate: GateServer, lingerMs: number, log: (line: string) => void): Promise<void> {
  if (lingerMs > 0) {
    log(
      `gate: the run is over; serving its final verdict at ${gate.url} for ${formatDuration(lingerMs)} (Ctrl-C ends it sooner)`,
    );
    await new Promise<void>((resolve) => {
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      const done = () => {
        clearTimeout(timer);
        for (const s of signals) process.off(s, done);
        resolve();
      };
      const timer = setTimeout(done, lingerMs);
      for (const s of signals) process.on(s, done);
    });
  }
  await gate.close();
}
