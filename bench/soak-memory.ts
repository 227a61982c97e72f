/**
 * Soak memory: the generator's resident memory over a long open load (2,000/s for 2 minutes against
 * nginx pinned to core 0, the generator pinned to core 1). The generator samples its own memory
 * every 5 s; the series is printed with the growth from the 30 s mark to the end (target < 30 MB).
 *
 *   node dist/bench/soak-memory.js [--duration 120] [--rate 2000] [--sample 5] [--from 30]
 *
 * With a short --duration the growth is measured from a quarter of the run (when that is earlier
 * than --from).
 */
import {
  fmt,
  heading,
  machineLine,
  numericArgs,
  runPreflight,
  startFastTarget,
  table,
  verdict,
  warnIfBusy,
  type LoadReport,
} from './common.js';

const args = numericArgs({ duration: 120, rate: 2000, sample: 5, from: 30 });
const D = args.duration;
const RATE = args.rate;
const SAMPLE_S = Math.max(0.5, args.sample);
const FROM_S = Math.min(args.from, D / 4);
const LIMIT_MB = 30;

async function main(): Promise<void> {
  heading('Soak memory: generator RSS over a long open load', [machineLine()]);
  console.log(await warnIfBusy());
  const target = await startFastTarget(0);
  let r: LoadReport;
  try {
    console.log(`target: ${target.label} at ${target.url}`);
    console.log(
      `load: constant-arrival-rate ${fmt(RATE)}/s for ${D} s (${fmt(RATE * D)} requests); memory sampled every ${SAMPLE_S} s inside the generator`,
    );
    r = await runPreflight(
      { url: target.url, executor: 'constant-arrival-rate', rate: RATE, durationS: D, sampleMs: SAMPLE_S * 1000 },
      1,
    );
  } finally {
    await target.stop();
  }
  // Times are since the generator started its run() call (≈ 0.05 s before load starts).
  const rows = [['t (s)', 'RSS (MB)', 'heap used (MB)', 'heap total (MB)', 'external (MB)', 'array buffers (MB)']];
  for (const m of r.memory)
    rows.push([
      m.tS.toFixed(1),
      m.rssMB.toFixed(1),
      m.heapUsedMB.toFixed(1),
      m.heapTotalMB.toFixed(1),
      m.externalMB.toFixed(1),
      m.arrayBuffersMB.toFixed(1),
    ]);
  console.log('');
  console.log(table(rows));
  const from = r.memory.find((m) => m.tS >= FROM_S) ?? r.memory[0];
  const last = r.memory[r.memory.length - 1];
  const during = r.memory.filter((m) => m.tS >= from.tS);
  const peak = Math.max(...during.map((m) => m.rssMB));
  const growth = last.rssMB - from.rssMB;
  const heapGrowth = last.heapUsedMB - from.heapUsedMB;
  // Least-squares slope of RSS after the mark: a steady leak shows as a positive slope.
  const n = during.length;
  const mt = during.reduce((a, m) => a + m.tS, 0) / n;
  const mr = during.reduce((a, m) => a + m.rssMB, 0) / n;
  const slope =
    during.reduce((a, m) => a + (m.tS - mt) * (m.rssMB - mr), 0) /
    Math.max(
      1e-9,
      during.reduce((a, m) => a + (m.tS - mt) ** 2, 0),
    );
  console.log('');
  console.log(
    `requests ${fmt(r.requests)} (errors ${r.requests - r.ok}, unsent ${r.unsent}, late ${r.late}); generator CPU ${r.cpuPercent.toFixed(1)}% of a core; peak RSS ${r.maxRssMB} MB`,
  );
  console.log(
    `RSS growth from t=${from.tS.toFixed(1)} s to the end (t=${last.tS.toFixed(1)} s): ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB (peak in that span ${peak.toFixed(1)} MB; trend ${(slope * 60).toFixed(2)} MB/min; heap used ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)} MB)`,
  );
  console.log(
    `highest RSS after t=${from.tS.toFixed(1)} s minus RSS then: +${(peak - from.rssMB).toFixed(1)} MB (garbage collection makes RSS saw-tooth; a leak shows as growth in both figures and in heap used)`,
  );
  console.log(
    `growth to the end < ${LIMIT_MB} MB: ${verdict(growth < LIMIT_MB)}; peak growth < ${LIMIT_MB} MB: ${verdict(peak - from.rssMB < LIMIT_MB)}`,
  );
}

await main();
