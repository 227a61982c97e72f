/**
 * The results folder, written as the run goes: intervals are appended (synchronously, one write a
 * window) so a crash loses at most the current window; the summary is written atomically.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PreflightError } from '../core/errors.js';
import type { IntervalRecord, Summary } from '../core/results.js';

export class ResultsWriter {
  private fd: number | null = null;
  constructor(readonly dir: string, private readonly redact: (s: string) => string) {
    try {
      fs.mkdirSync(dir, { recursive: true });
      this.fd = fs.openSync(path.join(dir, 'intervals.ndjson'), 'w');
    } catch (e) {
      throw new PreflightError('E_RESULTS_IO', `cannot write results to ${dir}: ${(e as Error).message}`, { cause: e });
    }
  }

  writeJson(name: string, value: unknown): void {
    const file = path.join(this.dir, name);
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, this.redact(JSON.stringify(value, null, 2)) + '\n');
    fs.renameSync(tmp, file);
  }

  appendIntervals(records: IntervalRecord[]): void {
    if (this.fd === null || records.length === 0) return;
    let text = '';
    for (const r of records) text += JSON.stringify(r) + '\n';
    fs.writeSync(this.fd, this.redact(text));
  }

  writeSummary(summary: Summary): void {
    this.writeJson('summary.json', summary);
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

export function defaultOutDir(now = new Date()): string {
  const stamp = now.toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  return path.join('results', stamp);
}
