/**
 * npm in this repository: onnxruntime-node's install script (which would download CUDA binaries
 * from NuGet; the CPU binaries ship in the package) is denied by package.json's `allowScripts`, and
 * no `.npmrc` key npm does not know makes every `npm`/`npx` print "Unknown project config".
 * Asks the npm on PATH, as a contributor's `npm ci` would; skipped when that npm has no allowScripts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('package.json denies onnxruntime-node its install script; npm warns about no unknown config', (t) => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.allowScripts?.['onnxruntime-node'], false);
  const r = spawnSync('npm', ['approve-scripts', '--allow-scripts-pending'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  if (r.error || (r.status !== 0 && /unknown command/i.test(r.stderr))) {
    t.skip(`this npm has no approve-scripts (allowScripts): ${(r.error?.message ?? r.stderr).split('\n')[0]}`);
    return;
  }
  assert.doesNotMatch(r.stderr, /Unknown (project|user|builtin) config/, r.stderr);
  assert.match(r.stdout + r.stderr, /No packages with unreviewed install scripts/, r.stdout + r.stderr);
});
