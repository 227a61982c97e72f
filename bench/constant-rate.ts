/**
 * Constant rate accuracy: an open load of 5,000/s (uniform arrivals) for 20 s against a fast target
 * (nginx pinned to core 0; a node:http server when nginx is missing), the generator pinned to core 1.
 * Reports the achieved rate against the target rate (target: within 1%), the per-second rates, the
 * dispatch lag (send time − intended time) and the generator's CPU.
 *
 *   node dist/bench/constant-rate.js [--rate 5000] [--duration 20]
 */
import {
  fmt,
  heading,
  machineLine,
  numericArgs,
  pct,
  runPreflight,
  startFastTarget,
  table,
  verdict,
  warnIfBusy,
  type LoadReport,
} from './common.js';

const args = numericArgs({ rate: 5000, duration: 20 });
const RATE = args.rate;
const D = args.duration;

async function main(): Promise<void> {
  heading('Constant rate accuracy: open model', [machineLine()]);
  console.log(await warnIfBusy());
  const target = await startFastTarget(0);
  let r: LoadReport;
  try {
    console.log(`target: ${target.label} at ${target.url}`);
    console.log(
      `load: constant-arrival-rate ${fmt(RATE)}/s, uniform arrivals, ${D} s = ${fmt(RATE * D)} intended arrivals; generator pinned to core 1`,
    );
    r = await runPreflight({ url: target.url, executor: 'constant-arrival-rate', rate: RATE, durationS: D }, 1);
  } finally {
    await target.stop();
  }
  const intended = Math.round(RATE * D);
  const achieved = r.requests / D;
  const err = achieved / RATE - 1;
  // Full 1 s windows only (the last one is partial: it holds the drain).
  const full = r.windows.slice(0, Math.floor(D));
  const steady = full.slice(1); // the first second includes start-up (JIT, connections)
  const minW = Math.min(...steady);
  const maxW = Math.max(...steady);
  const meanW = steady.reduce((a, b) => a + b, 0) / Math.max(1, steady.length);
  const g = r.generator;
  const first = r.windowDetail[0];
  const later = r.windowDetail.slice(2, Math.floor(D));
  const lateAfter = later.reduce((a, w) => a + w.late, 0);
  const p99s = later.map((w) => w.p99).sort((a, b) => a - b);
  const worstP99 = p99s.length ? p99s[p99s.length - 1] : 0;
  const medianP99 = p99s.length ? p99s[p99s.length >> 1] : 0;
  console.log('');
  console.log(
    table([
      ['figure', 'measured'],
      [
        'requests completed',
        `${fmt(r.requests)} of ${fmt(intended)} intended (unsent ${r.unsent}, cancelled ${r.cancelled}, errors ${r.requests - r.ok})`,
      ],
      [
        'achieved rate',
        `${fmt(achieved, 1)}/s = completed / ${D} s (${err >= 0 ? '+' : ''}${pct(err, 2)} vs ${fmt(RATE)}/s)`,
      ],
      [
        'Preflight throughput',
        `${fmt(r.throughput, 1)}/s (completed / ${r.durationS} s of windows, incl. the final drain)`,
      ],
      ['per-second rate, s 2…' + full.length, `min ${fmt(minW)}, mean ${fmt(meanW, 1)}, max ${fmt(maxW)}`],
      ['late (> 10 ms behind schedule)', `${fmt(r.late)} (${pct(r.late / Math.max(1, r.requests), 2)})`],
      [
        'dispatch lag (send − intended)',
        `p50 ${r.dispatch_lag_ms.p50} ms, p99 ${r.dispatch_lag_ms.p99} ms, p99.9 ${r.dispatch_lag_ms.p999} ms, max ${r.dispatch_lag_ms.max} ms`,
      ],
      [
        'generator lag (timer only)',
        `p50 ${g.dispatch_lag_ms.p50} ms, p99 ${g.dispatch_lag_ms.p99} ms, max ${g.dispatch_lag_ms.max} ms`,
      ],
      ['event-loop delay', `p99 (worst window) ${g.event_loop_delay_ms.p99} ms, max ${g.event_loop_delay_ms.max} ms`],
      ['latency, whole run', `p50 ${r.latency_ms.p50} ms, p99 ${r.latency_ms.p99} ms, max ${r.latency_ms.max} ms`],
      [
        'first second (cold start)',
        first
          ? `${fmt(first.requests)} requests, ${fmt(first.late)} late, latency p50 ${first.p50} ms, p99 ${first.p99} ms`
          : '-',
      ],
      [
        'steady state, s 3…' + full.length,
        `${fmt(lateAfter)} late; latency p99 per second: worst ${worstP99} ms, median ${medianP99} ms`,
      ],
      [
        'generator CPU',
        `${r.cpuPercent.toFixed(1)}% of one core over the run (per-window mean ${g.cpu_percent.mean}%, max ${g.cpu_percent.max}%)`,
      ],
      ['generator peak RSS', `${r.maxRssMB} MB`],
      ['run verdict', g.overloaded ? `generator_overloaded: ${g.reasons.join('; ')}` : 'generator healthy'],
    ]),
  );
  console.log('');
  console.log(
    `achieved rate within ±1% of ${fmt(RATE)}/s: ${verdict(Math.abs(err) <= 0.01)}; steady per-second rates within ±1%: ${verdict(Math.abs(minW / RATE - 1) <= 0.01 && Math.abs(maxW / RATE - 1) <= 0.01)}`,
  );
}

await main();
