/**
 * Runs every benchmark in sequence, each in its own process, output passed through:
 *   npm run bench            (= node dist/bench/run-all.js)
 *   node dist/bench/run-all.js --quick     (shorter durations: ~1.5 min instead of ~4.5 min)
 *   node dist/bench/run-all.js --only ceiling,soak-memory
 * Benchmarks report, they do not gate: a figure that misses its target still exits 0. The runner
 * exits 1 only when a benchmark could not run (crashed).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_DIR, REPO_ROOT } from './common.js';

const BENCHES: Array<{ name: string; args: string[]; quick: string[]; maxS: number }> = [
  { name: 'ceiling', args: [], quick: ['--duration', '5'], maxS: 180 },
  { name: 'coordinated-omission', args: [], quick: [], maxS: 120 },
  { name: 'constant-rate', args: [], quick: ['--duration', '10'], maxS: 120 },
  { name: 'soak-memory', args: [], quick: ['--duration', '40'], maxS: 300 },
  { name: 'stream-timing', args: [], quick: ['--duration', '4'], maxS: 240 },
  { name: 'window-handoff', args: [], quick: ['--windows', '10'], maxS: 120 },
  { name: 'proxy-overhead', args: [], quick: ['--duration', '3', '--rounds', '1'], maxS: 300 },
  { name: 'http-proxy-overhead', args: [], quick: ['--duration', '3', '--rounds', '1'], maxS: 240 },
  { name: 'scale-out', args: [], quick: ['--duration', '3', '--windows', '20'], maxS: 300 },
];

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
  strict: true,
});
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : null;
if (only)
  for (const n of only)
    if (!BENCHES.some((b) => b.name === n))
      throw new Error(`unknown benchmark ${n}; known: ${BENCHES.map((b) => b.name).join(', ')}`);

function runOne(file: string, args: string[], maxS: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: 'inherit', cwd: REPO_ROOT });
    const timer = setTimeout(() => child.kill('SIGKILL'), maxS * 1000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const failed: string[] = [];
const started = Date.now();
console.log(`Preflight benchmarks — ${new Date().toISOString()}`);
for (const b of BENCHES) {
  if (only && !only.has(b.name)) continue;
  const code = await runOne(path.join(BENCH_DIR, `${b.name}.js`), values.quick ? b.quick : b.args, b.maxS);
  if (code !== 0) {
    failed.push(b.name);
    console.log(`\n!!! ${b.name} did not complete (exit ${code})`);
  }
}
console.log(
  `\nall benchmarks done in ${((Date.now() - started) / 1000).toFixed(0)} s${failed.length ? `; could not run: ${failed.join(', ')}` : ''}`,
);
process.exitCode = failed.length ? 1 : 0;
