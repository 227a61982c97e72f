/**
 * Ceiling: how many requests per second one generator process can drive against a fast target.
 * nginx (one worker, `return 200 "ok"`) is pinned to core 0; each generator in turn is pinned to
 * core 1 with the same connections and duration: Preflight (closed model, constant-concurrency,
 * connections = concurrency), autocannon and wrk. Prints req/s and the ratios Preflight/autocannon
 * and Preflight/wrk. Targets: Preflight ≥ autocannon in the same run; aim for 60% of wrk.
 *
 *   node dist/bench/ceiling.js [--duration 10] [--connections 64] [--rounds 1] [--undici 1]
 *
 * `--undici 1` adds Preflight sending with undici (`target.client: undici`) as a fourth
 * generator, to show what the built-in HTTP/1.1 client gains.
 *
 * The three tools run --rounds times, interleaved (this machine is shared and noisy), and the
 * medians are reported. Besides req/s, each tool's CPU time per request (user + system, whole
 * process, from the shell's `times`) is shown: it is less sensitive to other load than req/s.
 */
import path from 'node:path';
import {
  BENCH_DIR,
  CAN_PIN,
  REPO_ROOT,
  fmt,
  hasCommand,
  heading,
  lastJson,
  loadArgs,
  machineLine,
  numericArgs,
  pinned,
  runTimed,
  sleep,
  startNginx,
  table,
  verdict,
  warnIfBusy,
  type LoadReport,
} from './common.js';

const args = numericArgs({ duration: 10, connections: 64, rounds: 3, undici: 0 });
const WITH_UNDICI = args.undici > 0;
const D = args.duration;
const C = Math.max(1, Math.round(args.connections));
const ROUNDS = Math.max(1, Math.round(args.rounds));

interface ToolRun {
  rps: number;
  /** CPU µs (user + system) per request, whole process; null when unknown. */
  cpuUsPerReq: number | null;
  note: string;
}

const perReq = (cpuS: number | null, requests: number) =>
  cpuS === null || requests <= 0 ? null : (cpuS * 1e6) / requests;
const usText = (x: number | null) => (x === null ? '?' : `${x.toFixed(1)} µs`);

async function preflight(url: string, client: 'builtin' | 'undici' = 'builtin'): Promise<ToolRun> {
  const load = [
    path.join(BENCH_DIR, 'preflight-load.js'),
    ...loadArgs({ url, executor: 'constant-concurrency', durationS: D, concurrency: C, connections: C }),
  ];
  const [cmd, a] =
    client === 'undici'
      ? pinned(1, 'env', ['PREFLIGHT_BENCH_CLIENT=undici', process.execPath, ...load])
      : pinned(1, process.execPath, load);
  const t = await runTimed(cmd, a, (D + 60) * 1000);
  const r = lastJson<LoadReport>(t, 'preflight-load');
  const errs = r.requests - r.ok;
  const cpu = perReq(t.cpuS, r.requests);
  return {
    rps: r.requests / r.durationS,
    cpuUsPerReq: cpu,
    note: `${fmt(r.requests)} req in ${r.durationS.toFixed(2)} s, errors ${errs}, latency p50 ${r.latency_ms.p50} ms p99 ${r.latency_ms.p99} ms, CPU ${usText(cpu)}/req`,
  };
}

async function autocannon(url: string): Promise<ToolRun | null> {
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'autocannon');
  const [cmd, a] = pinned(1, bin, ['-c', String(C), '-d', String(D), '-j', url]);
  const r = await runTimed(cmd, a, (D + 60) * 1000);
  let j: {
    requests: { total: number; average: number };
    duration: number;
    errors: number;
    non2xx: number;
    latency: { p50: number; p99: number };
  };
  try {
    j = JSON.parse(r.stdout);
  } catch {
    console.log(`autocannon failed (exit ${r.code}): ${r.stderr.slice(-500)}`);
    return null;
  }
  const cpu = perReq(r.cpuS, j.requests.total);
  return {
    rps: j.requests.total / j.duration,
    cpuUsPerReq: cpu,
    note: `${fmt(j.requests.total)} req in ${j.duration.toFixed(2)} s, errors ${j.errors + j.non2xx}, latency p50 ${j.latency.p50} ms p99 ${j.latency.p99} ms, CPU ${usText(cpu)}/req`,
  };
}

async function wrk(url: string): Promise<ToolRun | null> {
  const [cmd, a] = pinned(1, 'wrk', ['-t1', `-c${C}`, `-d${D}s`, '--latency', url]);
  const r = await runTimed(cmd, a, (D + 60) * 1000);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const total = /(\d+) requests in ([\d.]+)(\w+)/.exec(r.stdout);
  const p50 = /\s50%\s+(\S+)/.exec(r.stdout);
  const p99 = /\s99%\s+(\S+)/.exec(r.stdout);
  if (!rps) {
    console.log(`wrk failed (exit ${r.code}): ${r.stderr.slice(-500)}${r.stdout.slice(-500)}`);
    return null;
  }
  const cpu = total ? perReq(r.cpuS, Number(total[1])) : null;
  return {
    rps: Number(rps[1]),
    cpuUsPerReq: cpu,
    note: `${total ? `${fmt(Number(total[1]))} req in ${total[2]}${total[3]}` : ''}, latency p50 ${p50?.[1] ?? '?'} p99 ${p99?.[1] ?? '?'}, CPU ${usText(cpu)}/req`,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main(): Promise<void> {
  heading('Ceiling: closed model, fast target', [machineLine()]);
  if (!hasCommand('nginx')) {
    console.log(
      'SKIPPED: nginx is not installed (Debian: apt-get install -y nginx wrk). This benchmark needs a target faster than the generator.',
    );
    return;
  }
  const haveWrk = hasCommand('wrk');
  console.log(await warnIfBusy());
  const target = await startNginx(0);
  const results: Record<string, ToolRun[]> = { preflight: [], 'preflight-undici': [], autocannon: [], wrk: [] };
  try {
    console.log(`target: ${target.label} at ${target.url}`);
    console.log(
      `load: ${C} connections, ${D} s each, generators ${CAN_PIN ? 'pinned to core 1' : 'unpinned'}, ${ROUNDS} round(s), run one after another`,
    );
    for (let round = 0; round < ROUNDS; round++) {
      const p = await preflight(target.url);
      results.preflight.push(p);
      console.log(`  round ${round + 1} preflight:  ${fmt(p.rps)} req/s — ${p.note}`);
      await sleep(500);
      if (WITH_UNDICI) {
        const u = await preflight(target.url, 'undici');
        results['preflight-undici'].push(u);
        console.log(`  round ${round + 1} preflight (undici): ${fmt(u.rps)} req/s — ${u.note}`);
        await sleep(500);
      }
      const a = await autocannon(target.url);
      if (a) {
        results.autocannon.push(a);
        console.log(`  round ${round + 1} autocannon: ${fmt(a.rps)} req/s — ${a.note}`);
      }
      await sleep(500);
      if (haveWrk) {
        const w = await wrk(target.url);
        if (w) {
          results.wrk.push(w);
          console.log(`  round ${round + 1} wrk:        ${fmt(w.rps)} req/s — ${w.note}`);
        }
        await sleep(500);
      } else if (round === 0) console.log('  wrk: SKIPPED (not installed)');
    }
  } finally {
    await target.stop();
  }
  const med = (rs: ToolRun[]) => ({
    rps: median(rs.map((r) => r.rps)),
    cpu: rs.some((r) => r.cpuUsPerReq === null) ? null : median(rs.map((r) => r.cpuUsPerReq!)),
  });
  const pf = med(results.preflight);
  const rows = [
    ['tool', `req/s (median of ${ROUNDS})`, 'Preflight/tool (req/s)', 'CPU per request (median)', 'req per CPU-second'],
  ];
  const eff = (cpu: number | null) => (cpu === null ? '?' : fmt(1e6 / cpu));
  rows.push(['preflight', fmt(pf.rps), '', usText(pf.cpu), eff(pf.cpu)]);
  if (WITH_UNDICI && results['preflight-undici'].length > 0) {
    const u = med(results['preflight-undici']);
    rows.push(['preflight (undici)', fmt(u.rps), (pf.rps / u.rps).toFixed(2), usText(u.cpu), eff(u.cpu)]);
  }
  const lines: string[] = [];
  for (const [name, rs, aim, what] of [
    ['autocannon', results.autocannon, 1, 'target ≥ 1.00'],
    ['wrk', results.wrk, 0.6, 'aim ≥ 0.60'],
  ] as const) {
    if (rs.length === 0) continue;
    const m = med(rs);
    rows.push([name, fmt(m.rps), (pf.rps / m.rps).toFixed(2), usText(m.cpu), eff(m.cpu)]);
    const effRatio = pf.cpu !== null && m.cpu !== null ? ` (by CPU per request: ${(m.cpu / pf.cpu).toFixed(2)})` : '';
    lines.push(
      `Preflight/${name} = ${(pf.rps / m.rps).toFixed(2)} (${what})${effRatio}: ${verdict(pf.rps >= aim * m.rps)}`,
    );
  }
  console.log('');
  console.log(table(rows));
  for (const l of lines) console.log(l);
}

await main();
