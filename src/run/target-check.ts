/**
 * Before any load: can we connect to every target, and is it ready? Fails fast with a clear message.
 */
import net from 'node:net';
import tls from 'node:tls';
import { request } from 'undici';
import { PreflightError, TargetUnreachableError } from '../core/errors.js';
import { targetAgent, tlsConnectOptions, tlsFailure } from '../engine/index.js';
import type { Plan, TlsOptions } from '../plan/types.js';

/** A TCP connection, and for https:// the TLS handshake with the plan's TLS options: a bad certificate fails here, before any load. */
function connectOnce(host: string, port: number, timeoutMs: number, secure: TlsOptions | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = secure ? tls.connect({ host, port, ...tlsConnectOptions(secure, host) }) : net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once(secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      sock.end();
      resolve();
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function checkTargets(plan: Plan): Promise<void> {
  const origins = new Set<string>();
  /** origin → the variant that uses it (a compared scenario's targets), for the message. */
  const variantOf = new Map<string, string>();
  for (const s of plan.scenarios) {
    const cmp = plan.comparison?.scenario === s.name ? plan.comparison : undefined;
    const base = s.target?.url ?? plan.target.url;
    // A compared scenario sends only to its variants (each defaults to the scenario's target).
    for (const url of cmp ? cmp.variants.map((v) => v.url ?? base) : [base]) origins.add(new URL(url).origin);
    for (const v of cmp?.variants ?? []) {
      const o = new URL(v.url ?? base).origin;
      variantOf.set(o, variantOf.has(o) ? `${variantOf.get(o)}, ${v.name}` : v.name);
    }
  }
  for (const origin of origins) {
    const u = new URL(origin);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const host = u.hostname.replace(/^\[|\]$/g, '');
    try {
      await connectOnce(host, port, plan.target.connectTimeoutMs, u.protocol === 'https:' ? plan.target.tls : null);
    } catch (e) {
      const bad = tlsFailure(origin, e, plan.target.tls);
      if (bad) throw bad;
      const code = (e as { code?: string }).code ?? '';
      const why =
        code === 'ECONNREFUSED'
          ? 'connection refused (is the server running?)'
          : code === 'ENOTFOUND'
            ? 'host not found'
            : (e as Error).message;
      const variant = variantOf.get(origin);
      const who = variant === undefined ? '' : `variant${variant.includes(',') ? 's' : ''} ${variant}: `;
      throw new TargetUnreachableError(`${who}cannot reach ${origin}: ${why}. Nothing was sent.`, e);
    }
  }
  const ready = plan.target.readyPath;
  if (!ready) return;
  // The plan's target, and every variant's own server: each must be ready.
  const onlyVariants =
    plan.comparison !== undefined &&
    plan.scenarios.length === 1 &&
    plan.comparison.variants.every((v) => v.url !== undefined);
  const bases = new Map<string, string | undefined>(onlyVariants ? [] : [[plan.target.url, undefined]]);
  for (const v of plan.comparison?.variants ?? [])
    if (v.url !== undefined && !bases.has(v.url)) bases.set(v.url, v.name);
  for (const [base, variant] of bases) await waitReady(plan, ready, base, variant);
}

async function waitReady(plan: Plan, ready: string, base: string, variant: string | undefined): Promise<void> {
  {
    const url = new URL(ready, base).toString();
    const deadline = Date.now() + plan.target.readyTimeoutMs;
    let last = '';
    const dispatcher = targetAgent(plan.target.tls);
    try {
      for (;;) {
        try {
          const res = await request(url, {
            method: 'GET',
            headers: plan.target.headers,
            headersTimeout: 5000,
            bodyTimeout: 5000,
            dispatcher,
          });
          await res.body.dump();
          if (res.statusCode >= 200 && res.statusCode < 300) return;
          last = `HTTP ${res.statusCode}`;
        } catch (e) {
          // A certificate problem does not go away by waiting: say so now.
          const bad = tlsFailure(new URL(url).origin, e, plan.target.tls);
          if (bad) throw bad;
          last = (e as Error).message;
        }
        if (Date.now() >= deadline) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      await dispatcher.close().catch(() => {});
    }
    throw new PreflightError(
      'E_TARGET_NOT_READY',
      `${variant === undefined ? '' : `variant ${variant}: `}target not ready: GET ${ready} did not return 2xx within ${plan.target.readyTimeoutMs} ms (last: ${last}). Nothing was sent.`,
    );
  }
}
