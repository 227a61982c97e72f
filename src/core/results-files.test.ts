import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readIntervalsSync, writeFileAtomic, writeFileAtomicSync } from './results-files.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-results-files-'));
}

test('an atomic write that fails reports its own error and leaves the previous file whole', async () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'comparison.json');
    writeFileAtomicSync(file, '{"v":1}\n');
    assert.equal(fs.readFileSync(file, 'utf8'), '{"v":1}\n');
    assert.equal(fs.existsSync(`${file}.tmp`), false);
    // A folder where the tmp file goes makes the write fail (EISDIR) without any mock.
    fs.mkdirSync(`${file}.tmp`);
    assert.throws(
      () => writeFileAtomicSync(file, '{"v":2}\n'),
      (e: NodeJS.ErrnoException) => e.code === 'EISDIR',
    );
    await assert.rejects(writeFileAtomic(file, '{"v":3}\n'), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
    assert.equal(fs.readFileSync(file, 'utf8'), '{"v":1}\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('readIntervalsSync skips a cut last line and reads a missing file as no records', () => {
  const dir = tempDir();
  try {
    assert.deepEqual(readIntervalsSync(dir).intervals, []);
    const rec = { scenario: 's', t: 1, start_s: 0, requests: 1 };
    fs.writeFileSync(path.join(dir, 'intervals.ndjson'), `${JSON.stringify(rec)}\n{"scenario":"s","t":2,"sta`);
    const p = readIntervalsSync(dir);
    assert.deepEqual(p.intervals, [rec]);
    assert.equal(p.skipped, 1);
    assert.equal(p.cutLast, true);
    assert.deepEqual(p.skippedLines, [2]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
