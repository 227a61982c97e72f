/**
 * What the HTTP fault proxy costs with no fault: throughput and latency of Preflight against the
 * fast target directly and through the proxy, in one run, as ratios.
 *
 *   node dist/bench/http-proxy-overhead.js [--duration 5] [--rounds 2] [--concurrency 32] [--rate 500] [--bare 1]
 *
 * Target (nginx, else node:http) and the proxy (a child process, bench/http-proxy-server.ts) share
 * core 0; Preflight (the generator, bench/preflight-load.ts) has core 1. Per round and path: a closed
 * run (`--concurrency` users on as many connections: the throughput ceiling) and an open run at
 * `--rate` requests/s (latency at a load both paths carry). The paths alternate within each round;
 * the table shows medians over rounds. `--bare 1` also measures two bench-only prototypes, a bare
 * pass-through (no fault machinery) with a node:http keep-alive Agent or an undici Pool upstream:
 * which client the proxy should use, and what its own fault machinery costs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import {
  BENCH_DIR,
  CAN_PIN,
  fmt,
  heading,
  machineLine,
  numericArgs,
  pinned,
  runPreflight,
  sleep,
  startFastTarget,
  table,
  warnIfBusy,
  type LoadReport,
} from './common.js';

const a = numericArgs({ duration: 5, rounds: 2, concurrency: 32, rate: 500, bare: 1 });

interface ProxyChild {
  url: string;
  child: ChildProcess;
  /** Stops it; resolves with its CPU time (ms) and requests. */
  stop(): Promise<{ cpuMs: number; requests: number }>;
}

async function startProxy(upstreamPort: number, client: 'proxy' | 'agent' | 'undici'): Promise<ProxyChild> {
  const [cmd, args] = pinned(0, process.execPath, [
    path.join(BENCH_DIR, 'http-proxy-server.js'),
    '--upstream-port',
    String(upstreamPort),
    '--client',
    client,
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (\S+)\n/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`proxy exited: ${out}`)));
  });
  clearTimeout(killer);
  return {
    url,
    child,
    async stop() {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      const line = out.trim().split('\n').at(-1) ?? '{}';
      try {
        const j = JSON.parse(line) as { counts: { requests: number }; cpu: { user: number; system: number } };
        return { cpuMs: (j.cpu.user + j.cpu.system) / 1000, requests: j.counts.requests };
      } catch {
        return { cpuMs: Number.NaN, requests: 0 };
      }
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

heading('HTTP fault proxy overhead: direct vs through the proxy, no fault', [machineLine()]);
console.log(await warnIfBusy());
const target = await startFastTarget(0);
const port = Number(new URL(target.url).port);
const proxies: { name: string; p: ProxyChild }[] = [
  { name: 'fault proxy (undici Pool)', p: await startProxy(port, 'proxy') },
];
if (a.bare) {
  proxies.push({ name: 'bare pass-through, node:http Agent', p: await startProxy(port, 'agent') });
  proxies.push({ name: 'bare pass-through, undici Pool', p: await startProxy(port, 'undici') });
}
console.log(`target: ${target.label}; proxy: node ${process.version}${CAN_PIN ? ', pinned to core 0' : ''}`);
console.log(
  `closed: ${a.concurrency} users × ${a.duration} s; open: ${a.rate}/s × ${a.duration} s; ${a.rounds} round(s), medians`,
);

const paths = [{ name: 'direct', url: target.url }, ...proxies.map((x) => ({ name: x.name, url: x.p.url }))];
const results = new Map<string, { closed: LoadReport[]; open: LoadReport[] }>(
  paths.map((p) => [p.name, { closed: [], open: [] }]),
);
try {
  for (let r = 0; r < a.rounds; r++) {
    for (const p of paths) {
      const res = results.get(p.name)!;
      res.closed.push(
        await runPreflight({
          url: p.url,
          executor: 'constant-concurrency',
          concurrency: a.concurrency,
          connections: a.concurrency,
          durationS: a.duration,
        }),
      );
      res.open.push(
        await runPreflight({ url: p.url, executor: 'constant-arrival-rate', rate: a.rate, durationS: a.duration }),
      );
    }
  }
} finally {
  const cpu = new Map<string, { cpuMs: number; requests: number }>();
  for (const x of proxies) cpu.set(x.name, await x.p.stop());
  await target.stop();
  const direct = results.get('direct')!;
  const base = {
    rps: median(direct.closed.map((x) => x.throughput)),
    openP50: median(direct.open.map((x) => x.latency_ms.p50)),
    openP99: median(direct.open.map((x) => x.latency_ms.p99)),
  };
  const rows = [
    [
      'path',
      'closed req/s',
      'ratio',
      'closed p50 / p99 ms',
      `open ${a.rate}/s p50 / p99 ms`,
      'added p50 / p99 ms',
      'errors',
      'proxy CPU µs/req',
    ],
  ];
  for (const p of paths) {
    const res = results.get(p.name)!;
    if (res.closed.length === 0) continue;
    const rps = median(res.closed.map((x) => x.throughput));
    const cp50 = median(res.closed.map((x) => x.latency_ms.p50));
    const cp99 = median(res.closed.map((x) => x.latency_ms.p99));
    const op50 = median(res.open.map((x) => x.latency_ms.p50));
    const op99 = median(res.open.map((x) => x.latency_ms.p99));
    const byClass = new Map<string, number>();
    for (const x of [...res.closed, ...res.open])
      for (const [k, n] of Object.entries(x.errors)) byClass.set(k, (byClass.get(k) ?? 0) + n);
    const errors = byClass.size === 0 ? '0' : [...byClass].map(([k, n]) => `${n} ${k}`).join(', ');
    const c = cpu.get(p.name);
    rows.push([
      p.name,
      fmt(rps),
      p.name === 'direct' ? '1' : (rps / base.rps).toFixed(2),
      `${op(cp50)} / ${op(cp99)}`,
      `${op(op50)} / ${op(op99)}`,
      p.name === 'direct' ? '—' : `${op(op50 - base.openP50)} / ${op(op99 - base.openP99)}`,
      errors,
      c && c.requests > 0 ? fmt((c.cpuMs * 1000) / c.requests) : '—',
    ]);
  }
  console.log(table(rows));
  console.log(
    'ratio = closed-model throughput through the path / direct (1 = no cost); added = open-model latency minus direct.',
  );
}

function op(x: number): string {
  return x.toFixed(2);
}
