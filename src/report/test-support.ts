/**
 * Helpers shared by the report tests (not part of the public API).
 */
import { rmSync } from 'node:fs';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DurationStats, IntervalRecord, ScenarioSummary, Summary } from '../core/results.js';
import { scaleEncoded } from './hdr.js';

/** src/report/fixtures (tests run from dist/src/report). */
export const FIXTURES = fileURLToPath(new URL('../../../src/report/fixtures/', import.meta.url));
export const BASELINE_DIR = join(FIXTURES, 'run-baseline');
export const CANDIDATE_DIR = join(FIXTURES, 'run-candidate');
export const GOLDEN_DIR = join(FIXTURES, 'golden');
/** Repository root (for .preflight-tmp artifacts). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const created: string[] = [];
process.on('exit', () => {
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

/** A temporary folder, removed when the test process exits. */
export async function tempDir(prefix = 'preflight-report-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  created.push(d);
  return d;
}

/** Copy a fixture folder to a temp dir (so writers do not touch the fixtures). */
export async function copyFixture(src: string): Promise<string> {
  const dir = await tempDir();
  await cp(src, dir, { recursive: true });
  return dir;
}

function scaleStats(d: DurationStats, f: number): DurationStats {
  return {
    ...d,
    min: d.min * f,
    mean: d.mean * f,
    p50: d.p50 * f,
    p90: d.p90 * f,
    p95: d.p95 * f,
    p99: d.p99 * f,
    p999: d.p999 * f,
    max: d.max * f,
  };
}

function scaleShort(s: IntervalRecord['latency_ms'], f: number): IntervalRecord['latency_ms'] {
  return s ? { p50: s.p50 * f, p90: s.p90 * f, p99: s.p99 * f, max: s.max * f } : s;
}

/** A copy of a run with every latency and service time multiplied by `factor` (summary, windows, HDR). */
export function slowDown(
  summary: Summary,
  intervals: IntervalRecord[],
  factor: number,
): { summary: Summary; intervals: IntervalRecord[] } {
  const s = structuredClone(summary);
  const scaleScenario = (sc: ScenarioSummary): void => {
    sc.latency_ms = scaleStats(sc.latency_ms, factor);
    sc.service_time_ms = scaleStats(sc.service_time_ms, factor);
    if (sc.groups) for (const g of Object.values(sc.groups)) scaleScenario(g);
  };
  for (const sc of Object.values(s.scenarios)) scaleScenario(sc);
  scaleScenario(s.total);
  const iv = intervals.map((r) => {
    const c = structuredClone(r);
    c.latency_ms = scaleShort(c.latency_ms, factor);
    c.service_time_ms = scaleShort(c.service_time_ms, factor);
    for (const k of ['latency', 'service_time']) if (c.hdr[k]) c.hdr[k] = scaleEncoded(c.hdr[k], factor);
    return c;
  });
  return { summary: s, intervals: iv };
}

export async function writeRun(dir: string, summary: Summary, intervals: IntervalRecord[]): Promise<void> {
  await writeFile(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  await writeFile(join(dir, 'intervals.ndjson'), intervals.map((r) => JSON.stringify(r)).join('\n') + '\n');
}
