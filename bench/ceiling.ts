/**
 * Ceiling: how many requests per second one generator process can drive against a fast target.
 * nginx (one worker, `return 200 "ok"`) is pinned to core 0; each generator in turn is pinned to
 * core 1 with the same connections and duration: Preflight (closed model, constant-concurrency,
 * connections = concurrency), autocannon and wrk. Prints req/s and the ratios Preflight/autocannon
 * and Preflight/wrk. Targets: Preflight ≥ autocannon in the same run; aim for 60% of wrk.
 *
 *   node dist/bench/ceiling.js [--duration 10] [--connections 64] [--rounds 1]
 *
 * With --rounds N the three tools run N times, interleaved, and the median is reported.
 */
import path from 'node:path';
import {
  CAN_PIN, REPO_ROOT, fmt, hasCommand, heading, machineLine, numericArgs, pinned, runChild, runPreflight, sleep, startNginx, table, verdict, warnIfBusy,
  type LoadReport,
} from './common.js';

const args = numericArgs({ duration: 10, connections: 64, rounds: 1 });
const D = args.duration;
const C = Math.max(1, Math.round(args.connections));
const ROUNDS = Math.max(1, Math.round(args.rounds));

interface ToolRun {
  rps: number;
  note: string;
}

async function preflight(url: string): Promise<ToolRun> {
  const r: LoadReport = await runPreflight({ url, executor: 'constant-concurrency', durationS: D, concurrency: C, connections: C }, 1);
  const errs = r.requests - r.ok;
  return {
    rps: r.requests / r.durationS,
    note: `${fmt(r.requests)} req in ${r.durationS.toFixed(2)} s, errors ${errs}, latency p50 ${r.latency_ms.p50} ms p99 ${r.latency_ms.p99} ms, CPU ${r.cpuPercent.toFixed(0)}% of a core`,
  };
}

async function autocannon(url: string): Promise<ToolRun | null> {
  const bin = path.join(REPO_ROOT, 'node_modules', '.bin', 'autocannon');
  const [cmd, a] = pinned(1, bin, ['-c', String(C), '-d', String(D), '-j', url]);
  const r = await runChild(cmd, a, (D + 60) * 1000);
  let j: { requests: { total: number; average: number }; duration: number; errors: number; non2xx: number; latency: { p50: number; p99: number } };
  try {
    j = JSON.parse(r.stdout);
  } catch {
    console.log(`autocannon failed (exit ${r.code}): ${r.stderr.slice(-500)}`);
    return null;
  }
  return {
    rps: j.requests.total / j.duration,
    note: `${fmt(j.requests.total)} req in ${j.duration.toFixed(2)} s, errors ${j.errors + j.non2xx}, latency p50 ${j.latency.p50} ms p99 ${j.latency.p99} ms (its per-second mean: ${fmt(j.requests.average)})`,
  };
}

async function wrk(url: string): Promise<ToolRun | null> {
  const [cmd, a] = pinned(1, 'wrk', ['-t1', `-c${C}`, `-d${D}s`, '--latency', url]);
  const r = await runChild(cmd, a, (D + 60) * 1000);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const total = /(\d+) requests in ([\d.]+)(\w+)/.exec(r.stdout);
  const p50 = /\s50%\s+(\S+)/.exec(r.stdout);
  const p99 = /\s99%\s+(\S+)/.exec(r.stdout);
  if (!rps) {
    console.log(`wrk failed (exit ${r.code}): ${r.stderr.slice(-500)}${r.stdout.slice(-500)}`);
    return null;
  }
  return { rps: Number(rps[1]), note: `${total ? `${fmt(Number(total[1]))} req in ${total[2]}${total[3]}` : ''}, latency p50 ${p50?.[1] ?? '?'} p99 ${p99?.[1] ?? '?'}` };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main(): Promise<void> {
  heading('Ceiling: closed model, fast target', [machineLine()]);
  if (!hasCommand('nginx')) {
    console.log('SKIPPED: nginx is not installed (Debian: apt-get install -y nginx wrk). This benchmark needs a target faster than the generator.');
    return;
  }
  const haveWrk = hasCommand('wrk');
  console.log(await warnIfBusy());
  const target = await startNginx(0);
  const results: Record<string, ToolRun[]> = { preflight: [], autocannon: [], wrk: [] };
  try {
    console.log(`target: ${target.label} at ${target.url}`);
    console.log(`load: ${C} connections, ${D} s each, generators ${CAN_PIN ? 'pinned to core 1' : 'unpinned'}, ${ROUNDS} round(s), run one after another`);
    for (let round = 0; round < ROUNDS; round++) {
      const p = await preflight(target.url);
      results.preflight.push(p);
      console.log(`  round ${round + 1} preflight:  ${fmt(p.rps)} req/s — ${p.note}`);
      await sleep(500);
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
  const pf = median(results.preflight.map((r) => r.rps));
  const rows = [['tool', ROUNDS > 1 ? 'req/s (median)' : 'req/s', 'Preflight / tool']];
  rows.push(['preflight', fmt(pf), '']);
  const lines: string[] = [];
  if (results.autocannon.length > 0) {
    const ac = median(results.autocannon.map((r) => r.rps));
    rows.push(['autocannon', fmt(ac), (pf / ac).toFixed(2)]);
    lines.push(`Preflight/autocannon = ${(pf / ac).toFixed(2)} (target ≥ 1.00): ${verdict(pf >= ac)}`);
  }
  if (results.wrk.length > 0) {
    const wk = median(results.wrk.map((r) => r.rps));
    rows.push(['wrk', fmt(wk), (pf / wk).toFixed(2)]);
    lines.push(`Preflight/wrk = ${(pf / wk).toFixed(2)} (aim ≥ 0.60): ${verdict(pf >= 0.6 * wk)}`);
  }
  console.log('');
  console.log(table(rows));
  for (const l of lines) console.log(l);
}

await main();
