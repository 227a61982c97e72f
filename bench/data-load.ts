/**
 * Data loading: time and peak resident memory to load a large CSV dataset and build its tensor, as
 * a run does before load starts. Generates a digits-like CSV (64 integer pixel columns 0–16 and a
 * label; or --floats 1 for 5-decimal floats) of --mb megabytes in the temp dir, loads it in a fresh
 * child process (so the figure is the loader's alone) and deletes it.
 *
 *   node dist/bench/data-load.js [--mb 87] [--floats 0]
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heading, machineLine, numericArgs, table } from './common.js';

async function child(file: string): Promise<void> {
  const { loadDataset } = await import('../src/data/dataset.js');
  const { buildTensorInputs } = await import('../src/data/tensors.js');
  const t0 = performance.now();
  const ds = await loadDataset(file);
  const [t] = buildTensorInputs(ds, { label: 'label' }, ds.problems);
  const ms = performance.now() - t0;
  const mu = process.memoryUsage();
  console.log(
    JSON.stringify({
      rows: ds.rowCount,
      width: t.width,
      tensor: t.data.constructor.name,
      ms,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      arrayBuffersMB: mu.arrayBuffers / 1048576,
    }),
  );
}

function generate(file: string, mb: number, floats: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = createWriteStream(file);
    w.on('error', reject);
    w.on('finish', resolve);
    const cols = 64;
    w.write(Array.from({ length: cols }, (_, k) => `p${k}`).join(',') + ',label\n');
    let bytes = 0;
    let r = 0;
    const target = mb * 1e6;
    const more = (): void => {
      let ok = true;
      while (bytes < target && ok) {
        const cells: string[] = [];
        for (let k = 0; k < cols; k++) {
          const x = (r * 7919 + k * 104729) % 100_000;
          cells.push(floats ? (x / 100_000).toFixed(5) : String(x % 17));
        }
        const line = `${cells.join(',')},${r % 10}\n`;
        bytes += line.length;
        r++;
        ok = w.write(line);
      }
      if (bytes < target) w.once('drain', more);
      else w.end();
    };
    more();
  });
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--child');
  if (i >= 0) return child(process.argv[i + 1]);
  const args = numericArgs({ mb: 87, floats: 0 });
  heading('Data loading: a large CSV dataset → columns and tensor', [machineLine()]);
  const dir = mkdtempSync(join(tmpdir(), 'preflight-bench-data-'));
  try {
    const file = join(dir, 'data.csv');
    await generate(file, args.mb, args.floats === 1);
    const size = statSync(file).size;
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file], {
      encoding: 'utf8',
      timeout: 600_000,
    });
    if (r.status !== 0) throw new Error(`the loading child failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      rows: number;
      width: number;
      tensor: string;
      ms: number;
      maxRssMB: number;
      arrayBuffersMB: number;
    };
    console.log(
      table([
        ['file', 'rows × columns', 'load + tensor', 'peak RSS', 'typed arrays', 'tensor'],
        [
          `${(size / 1e6).toFixed(1)} MB (${args.floats === 1 ? 'floats' : 'integers'})`,
          `${m.rows} × ${m.width + 1}`,
          `${(m.ms / 1000).toFixed(1)} s`,
          `${m.maxRssMB.toFixed(0)} MB (${(m.maxRssMB / (size / 1048576)).toFixed(1)}× the file)`,
          `${m.arrayBuffersMB.toFixed(0)} MB`,
          m.tensor,
        ],
      ]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
