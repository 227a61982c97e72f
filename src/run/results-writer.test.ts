/**
 * The results writer keeps a failed side file's error for the end: the run's summary is still
 * written (and the error reported once), never lost for want of target-metrics.ndjson.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsWriteError, ResultsWriter } from './results-writer.js';
import type { Summary } from '../core/results.js';

test('a target-metrics.ndjson that cannot be written: summary.json is still written, with a warning; reported at the end', () => {
  // Regression: writeNdjson threw at once — summary.json was never written and the run was lost.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-writer-'));
  try {
    const w = new ResultsWriter(dir, (s) => s);
    // A folder (not empty) where the file should go: the atomic rename onto it fails.
    fs.mkdirSync(path.join(dir, 'target-metrics.ndjson', 'x'), { recursive: true });
    assert.doesNotThrow(() => w.writeNdjson('target-metrics.ndjson', [{ t: 0 }]));
    w.close();
    const summary = { warnings: [] as string[] } as unknown as Summary;
    let err: unknown;
    try {
      w.finish(summary);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ResultsWriteError, String(err));
    assert.equal(err.summary, summary);
    assert.match(summary.warnings.join('\n'), /^target-metrics\.ndjson is incomplete or missing: writing it failed/);
    const written = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')) as Summary;
    assert.deepEqual(written.warnings, summary.warnings);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
