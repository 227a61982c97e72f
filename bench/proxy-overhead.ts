/**
 * Proxy overhead: is the TCP fault proxy (src/faults/tcp-proxy.ts) the bottleneck? Preflight's own
 * engine (bench/preflight-load.ts in a child pinned to core 1) drives a fast target (nginx pinned to
 * core 0; a node:http server when nginx is missing) directly and through the proxy, alternating in
 * the same run:
 *   - direct              the target's URL
 *   - proxy               the proxy with no fault (a straight pipe; the HTTP framer only counts)
 *   - proxy + idle fault  the proxy with a 0 ms latency fault on both directions (every chunk goes
 *                         through the fault chain and the framer splits it at message boundaries)
 * Two loads: closed (constant-concurrency: the most requests per second) and open (a fixed rate:
 * the latency the proxy adds). The proxy runs in this process, unpinned (as `preflight run` would
 * run it beside its load workers); its CPU time per request is reported.
 *
 *   node dist/bench/proxy-overhead.js [--duration 6] [--rounds 2] [--concurrency 16] [--rate 2000]
 */
import { startTcpFaultProxy, type TcpFaultProxy } from '../src/faults/index.js';
import {
  fmt,
  heading,
  type LoadReport,
  machineLine,
  numericArgs,
  runPreflight,
  startFastTarget,
  table,
  warnIfBusy,
} from './common.js';

const args = numericArgs({ duration: 6, rounds: 2, concurrency: 16, rate: 2000 });

type Variant = 'direct' | 'proxy' | 'proxy + idle fault';
const VARIANTS: Variant[] = ['direct', 'proxy', 'proxy + idle fault'];

interface Sample {
  variant: Variant;
  load: 'closed' | 'open';
  r: LoadReport;
  /** This process's CPU (the proxy) per completed request, µs; null for direct. */
  proxyCpuUsPerReq: number | null;
}

async function main(): Promise<void> {
  heading('Proxy overhead: the TCP fault proxy against the direct path', [machineLine()]);
  console.log(await warnIfBusy());
  const target = await startFastTarget(0);
  const u = new URL(target.url);
  const proxy = await startTcpFaultProxy({ upstream: { host: u.hostname, port: Number(u.port) } });
  const faulted = await startTcpFaultProxy({ upstream: { host: u.hostname, port: Number(u.port) } });
  for (const direction of ['upstream', 'downstream'] as const)
    faulted.add({
      layer: 'tcp',
      name: `idle-${direction}`,
      direction,
      toxicity: { share: 1, per: 'request' },
      fault: { type: 'latency', latencyMs: 0, jitterMs: 0 },
    });
  const urls: Record<Variant, string> = { direct: target.url, proxy: proxy.url, 'proxy + idle fault': faulted.url };
  const samples: Sample[] = [];
  try {
    console.log(`target: ${target.label} at ${target.url}; generator pinned to core 1; proxy in this process`);
    console.log(
      `loads: closed = constant-concurrency ${args.concurrency} (${args.concurrency} connections); open = constant-arrival-rate ${fmt(args.rate)}/s; ${args.duration} s each, ${args.rounds} rounds, variants alternating`,
    );
    for (let round = 0; round < args.rounds; round++)
      for (const load of ['closed', 'open'] as const)
        for (const variant of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
          const cpu0 = process.cpuUsage();
          const r = await runPreflight(
            load === 'closed'
              ? {
                  url: urls[variant],
                  executor: 'constant-concurrency',
                  concurrency: args.concurrency,
                  connections: args.concurrency,
                  durationS: args.duration,
                }
              : { url: urls[variant], executor: 'constant-arrival-rate', rate: args.rate, durationS: args.duration },
            1,
          );
          const cpu = process.cpuUsage(cpu0);
          samples.push({
            variant,
            load,
            r,
            proxyCpuUsPerReq: variant === 'direct' ? null : (cpu.user + cpu.system) / Math.max(1, r.requests),
          });
          console.log(
            `  round ${round + 1} ${load.padEnd(6)} ${variant.padEnd(18)} ${fmt(r.throughput, 0)}/s, p50 ${r.latency_ms.p50} ms, p99 ${r.latency_ms.p99} ms, errors ${r.requests - r.ok}`,
          );
        }
  } finally {
    await proxy.close();
    await faulted.close();
    await target.stop();
  }
  report(samples, proxy, faulted);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function report(samples: Sample[], proxy: TcpFaultProxy, faulted: TcpFaultProxy): void {
  const rows: string[][] = [
    ['load', 'path', 'throughput /s', 'p50 ms', 'p99 ms', 'vs direct: throughput', 'p50', 'p99', 'proxy CPU µs/req'],
  ];
  for (const load of ['closed', 'open'] as const) {
    const med = (v: Variant, f: (s: Sample) => number) =>
      median(samples.filter((s) => s.load === load && s.variant === v).map(f));
    const base = {
      thr: med('direct', (s) => s.r.throughput),
      p50: med('direct', (s) => s.r.latency_ms.p50),
      p99: med('direct', (s) => s.r.latency_ms.p99),
    };
    for (const v of VARIANTS) {
      const thr = med(v, (s) => s.r.throughput);
      const p50 = med(v, (s) => s.r.latency_ms.p50);
      const p99 = med(v, (s) => s.r.latency_ms.p99);
      const cpu = v === 'direct' ? null : med(v, (s) => s.proxyCpuUsPerReq ?? 0);
      rows.push([
        load,
        v,
        fmt(thr, 0),
        p50.toFixed(3),
        p99.toFixed(3),
        v === 'direct' ? '' : `×${(thr / base.thr).toFixed(2)}`,
        v === 'direct' ? '' : `×${(p50 / base.p50).toFixed(2)} (+${(p50 - base.p50).toFixed(3)} ms)`,
        v === 'direct' ? '' : `×${(p99 / base.p99).toFixed(2)} (+${(p99 - base.p99).toFixed(3)} ms)`,
        cpu === null ? '' : cpu.toFixed(1),
      ]);
    }
  }
  console.log('\nmedians over the rounds:');
  console.log(table(rows));
  const c = proxy.counts();
  const f = faulted.counts();
  console.log(
    `\nproxy framed ${fmt(c.requests)} requests on ${fmt(c.connections)} connections (unframed ${c.unframed}); with the idle fault ${fmt(f.requests)} on ${fmt(f.connections)} (unframed ${f.unframed})`,
  );
}

await main();
