import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkWritableFile, ensureDir, ensureDirAsync } from '../core/output-path.js';
import { writeGoldenShard } from './quality.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-outpath-'));

test('ensureDir makes missing parents, one level at a time, and accepts an existing folder', async () => {
  const dir = path.join(tmp(), 'a', 'b', 'c');
  assert.equal(ensureDir(dir), null);
  assert.ok(fs.statSync(dir).isDirectory());
  assert.equal(ensureDir(dir), null);
  assert.equal(await ensureDirAsync(path.join(dir, 'd')), null);
});

test('paths that cannot hold files: a problem, not a hang (the /proc recursive-mkdir spin)', {
  skip: process.platform !== 'linux',
  timeout: 20_000,
}, async () => {
  for (const p of ['/proc/x', '/proc/self/x/y', '/sys/x']) {
    const problem = ensureDir(p);
    assert.ok(problem, p);
    assert.equal(problem.argument, true);
    assert.match(problem.message, /filesystem, which cannot hold files/);
    assert.ok(await ensureDirAsync(p), p);
  }
  const file = path.join(tmp(), 'f');
  fs.writeFileSync(file, '');
  assert.match(ensureDir(file)!.message, /exists and is not a folder/);
  assert.match(ensureDir(path.join(file, 'x'))!.message, /is a file, not a folder/);
  assert.match(checkWritableFile(path.dirname(file))!.message, /is a folder, not a file/);
  assert.equal(checkWritableFile(path.join(path.dirname(file), 'new', 'g.jsonl')), null);
});

test('quality.saveGolden under /proc: writing the golden file fails at once with a reason (it used to spin forever)', {
  skip: process.platform !== 'linux',
  timeout: 20_000,
}, async () => {
  const outcome = await Promise.race([
    writeGoldenShard('/proc/preflight-x/golden.jsonl', { index: 0, count: 1 }, new Map([[0, [1, 2]]])).then(
      () => 'written',
      (e: Error) => e.message,
    ),
    new Promise<string>((resolve) => setTimeout(() => resolve('still running after 10 s'), 10_000).unref()),
  ]);
  assert.match(outcome, /cannot write golden outputs to \/proc\/preflight-x\/golden\.jsonl: .*proc filesystem/);
});
