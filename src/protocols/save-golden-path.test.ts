import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PreflightError } from '../core/errors.js';
import { createAdapter } from './index.js';
import { testPlan } from './testing/helpers.js';

test('quality.saveGolden on a path that cannot be written: a data error naming the key, before any request', {
  skip: process.platform !== 'linux',
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'preflight-golden-'));
  const csv = join(dir, 'd.csv');
  writeFileSync(csv, 'id,f1,f2,label\n1,0.5,1,1\n');
  const data = {
    file: csv,
    format: 'csv' as const,
    order: 'sequential' as const,
    inputs: [{ name: 'input', columns: ['id', 'f1', 'f2'], datatype: 'FP32' }],
    batch: { min: 1, max: 1 },
  };
  for (const saveGolden of ['/proc/preflight-x/golden.jsonl', dir]) {
    const plan = testPlan('http://127.0.0.1:9', {
      protocol: 'kserve-v2',
      model: 'digits',
      data,
      quality: { task: 'classification', saveGolden },
    } as never);
    await assert.rejects(
      async () => createAdapter(plan.scenarios[0], plan, { shard: { index: 0, count: 1 }, seed: 1 }),
      (e: unknown) =>
        e instanceof PreflightError &&
        e.exitCode === 2 &&
        /quality\.saveGolden/.test(JSON.stringify(e.problems)) &&
        /cannot write golden outputs there/.test(JSON.stringify(e.problems)),
    );
  }
});
