/**
 * `checks.network`: TCP connect and TLS handshake percentiles to the target, and a payload-size sweep
 * (latency per request size, effective bandwidth, the knee). See docs/checks.md#network.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { CheckFinding, CheckResult } from '../core/checks.js';
import type { NetworkCheckPlan } from '../plan/network-check.js';
import type { TlsOptions } from '../plan/types.js';
import { call, checkAgent, hostPort, tlsOptionsFor } from './http.js';
import { checkResult, type CheckContext, type CheckKind, ms, pause, percentile } from './kind.js';

/** One connection: TCP connect time and, on TLS, the handshake after it (ms); or why it failed. */
interface Sample {
  connectMs?: number;
  tlsMs?: number;
  error?: string;
}

function connectOnce(
  target: { host: string; port: number; https: boolean },
  tlsOpts: TlsOptions,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Sample> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let connectMs: number | undefined;
    let done = false;
    const sock = net.connect({ host: target.host, port: target.port });
    const finish = (s: Sample) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(s);
    };
    const onAbort = () => finish({ error: 'stopped' });
    const timer = setTimeout(
      () =>
        finish({ error: `${connectMs === undefined ? 'connect' : 'TLS handshake'}: no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (e: NodeJS.ErrnoException) => finish({ error: `connect: ${e.code ?? e.message}` }));
    sock.on('connect', () => {
      connectMs = performance.now() - t0;
      if (!target.https) return finish({ connectMs });
      const t1 = performance.now();
      const ts = tls.connect({ socket: sock, host: target.host, ...tlsOptionsFor(tlsOpts, target.host) });
      ts.on('error', (e: NodeJS.ErrnoException) =>
        finish({ connectMs, error: `TLS handshake: ${e.code ?? e.message}` }),
      );
      ts.on('secureConnect', () => {
        const tlsMs = performance.now() - t1;
        ts.destroy();
        finish({ connectMs, tlsMs });
      });
    });
  });
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

function stats(values: number[]): Record<string, number | null> {
  const s = [...values].sort((a, b) => a - b);
  return { p50: round(percentile(s, 0.5)), p99: round(percentile(s, 0.99)), max: round(s.at(-1) ?? null) };
}

/** A size for people: 1 KB, 8 MB (binary multiples, as the sweep doubles from 1 KB). */
export function fmtBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round((n / 1024) * 10) / 10} KB`;
  return `${n} B`;
}

/** The sizes of a sweep: from, doubling, and `to` last. */
export function sweepSizes(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s < to && out.length < 40; s *= 2) out.push(s);
  out.push(to);
  return out;
}

/**
 * The knee: the first size from which every larger size's median latency is more than twice the
 * baseline (the best median of the three smallest sizes) and at least 1 ms more (loopback jitter is a
 * fraction of that). "Every larger size" keeps one slow small size on a busy machine from being taken
 * for it. Null when the latency stays flat.
 */
export function kneeOf(points: ReadonlyArray<{ bytes: number; medianMs: number }>): number | null {
  if (points.length < 2) return null;
  const base = Math.min(...points.slice(0, 3).map((p) => p.medianMs));
  const above = (p: { medianMs: number }) => p.medianMs > 2 * base && p.medianMs - base >= 1;
  let knee: number | null = null;
  for (let i = points.length - 1; i > 0 && above(points[i]); i--) knee = points[i].bytes;
  return knee;
}

async function sweep(
  p: NonNullable<NetworkCheckPlan['payload']>,
  tlsOpts: TlsOptions,
  ctx: CheckContext,
): Promise<CheckResult> {
  const t0 = performance.now();
  const findings: CheckFinding[] = [];
  const points: Array<{ bytes: number; medianMs: number }> = [];
  const agent = checkAgent(tlsOpts);
  const path = new URL(p.url).pathname;
  try {
    // One small request first: the connection (and TLS) is set up before anything is timed.
    const warm = await call(agent, {
      method: p.method,
      url: p.url,
      headers: p.headers,
      body: 'x',
      timeoutMs: p.timeoutMs,
      signal: ctx.signal,
    });
    if (warm.status === 0 || warm.status >= 300) {
      findings.push({
        status: 'error',
        what: `${p.method} ${path} with a 1-byte body → ${warm.status === 0 ? warm.error : `HTTP ${warm.status}`}`,
        evidence: ctx.redact(warm.body.slice(0, 200)),
      });
    } else {
      for (const bytes of sweepSizes(p.fromBytes, p.toBytes)) {
        if (ctx.signal.aborted) break;
        const body = Buffer.alloc(bytes, 0x61);
        const times: number[] = [];
        let bad: string | undefined;
        for (let i = 0; i < p.repeats && !ctx.signal.aborted; i++) {
          const r = await call(agent, {
            method: p.method,
            url: p.url,
            headers: { 'content-type': 'application/octet-stream', ...p.headers },
            body,
            timeoutMs: p.timeoutMs,
            signal: ctx.signal,
          });
          if (r.status === 0 || r.status >= 300) {
            bad = r.status === 0 ? (r.error ?? 'no answer') : `HTTP ${r.status} ${ctx.redact(r.body.slice(0, 120))}`;
            break;
          }
          times.push(r.ms);
        }
        if (bad !== undefined) {
          findings.push({ status: 'fail', what: `${p.method} ${path} with ${fmtBytes(bytes)} → ${bad}` });
          break;
        }
        if (times.length === 0) break;
        const medianMs = percentile(
          [...times].sort((a, b) => a - b),
          0.5,
        )!;
        points.push({ bytes, medianMs });
        findings.push({
          status: 'pass',
          what: `${p.method} ${path} with ${fmtBytes(bytes)} ×${times.length} → median ${ms(medianMs)} (${fmtBytes(Math.round(bytes / (medianMs / 1000)))}/s)`,
        });
      }
    }
  } finally {
    await agent.close();
  }
  const last = points.at(-1);
  const knee = kneeOf(points);
  if (points.length > 0)
    findings.push({
      status: 'pass',
      what:
        knee === null
          ? 'latency stayed flat over the sweep (no knee)'
          : `knee at ${fmtBytes(knee)}: latency more than doubles from there`,
    });
  return checkResult(
    'network.payload',
    `request-size sweep ${fmtBytes(p.fromBytes)} → ${fmtBytes(p.toBytes)} to ${path}`,
    findings,
    {
      bandwidth: last ? Math.round(last.bytes / (last.medianMs / 1000)) : null,
      knee,
      largest_ok: last?.bytes ?? null,
    },
    t0,
  );
}

export const networkKind: CheckKind<'network'> = {
  kind: 'network',
  describe: (p) =>
    `${p.samples} connections to ${new URL(p.url).host}${p.payload ? `, a request-size sweep to ${new URL(p.payload.url).pathname}` : ''}`,
  async run(p, ctx) {
    const target = hostPort(p.url);
    const tlsOpts = ctx.plan.target.tls;
    const t0 = performance.now();
    const samples: Sample[] = [];
    for (let i = 0; i < p.samples && !ctx.signal.aborted; i++) {
      if (i > 0) await pause(p.intervalMs, ctx.signal);
      if (ctx.signal.aborted) break;
      samples.push(await connectOnce(target, tlsOpts, p.timeoutMs, ctx.signal));
    }
    const where = `${target.host}:${target.port}`;
    const connects = samples.flatMap((s) => (s.connectMs !== undefined ? [s.connectMs] : []));
    const failed = samples.filter((s) => s.error !== undefined && s.connectMs === undefined);
    const cs = stats(connects);
    const connectFindings: CheckFinding[] = [];
    if (connects.length > 0)
      connectFindings.push({
        status: 'pass',
        what: `${connects.length} TCP connects to ${where}: p50 ${ms(cs.p50)}, p99 ${ms(cs.p99)}, max ${ms(cs.max)}`,
      });
    if (failed.length > 0)
      connectFindings.push({
        status: 'error',
        what: `${failed.length} of ${samples.length} connects to ${where} failed`,
        evidence: [...new Set(failed.map((s) => s.error))].join('; '),
      });
    const out: CheckResult[] = [
      checkResult('network.connect', `TCP connect time to ${where}`, connectFindings, cs, t0),
    ];
    const t1 = performance.now();
    if (target.https) {
      const hs = samples.flatMap((s) => (s.tlsMs !== undefined ? [s.tlsMs] : []));
      const bad = samples.filter((s) => s.connectMs !== undefined && s.tlsMs === undefined);
      const ts = stats(hs);
      const f: CheckFinding[] = [];
      if (hs.length > 0)
        f.push({
          status: 'pass',
          what: `${hs.length} TLS handshakes: p50 ${ms(ts.p50)}, p99 ${ms(ts.p99)}, max ${ms(ts.max)}`,
        });
      if (bad.length > 0)
        f.push({
          status: 'error',
          what: `${bad.length} of ${samples.length} TLS handshakes failed`,
          evidence: [...new Set(bad.map((s) => s.error))].join('; '),
        });
      out.push(checkResult('network.tls', `TLS handshake time with ${where}`, f, ts, t0));
    } else {
      out.push(
        checkResult(
          'network.tls',
          `TLS handshake time with ${where}`,
          [{ status: 'skipped', what: `the target is http://, no TLS` }],
          { p50: null, p99: null, max: null },
          t1,
        ),
      );
    }
    if (p.payload && !ctx.signal.aborted) out.push(await sweep(p.payload, tlsOpts, ctx));
    return out;
  },
};
