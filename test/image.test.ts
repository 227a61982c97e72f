/**
 * The container image (Dockerfile), without Docker (there is none here; docs/kubernetes.md says how
 * to build it): the final stage is what `npm pack` ships plus the production dependencies of the
 * lockfile. That layout is rebuilt here — the packed files, only the lockfile's non-dev, non-peer
 * packages — and `preflight` must run from it: a runtime import of a dev dependency (the Kubernetes
 * client is one) would break the image and fails here. Plus the Dockerfile's own rules: two
 * stages, no build tooling in the final one, a non-root user, `preflight` as the entrypoint.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { root } from './helpers/cli.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-image-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const stages = dockerfile.split(/^FROM /m).slice(1);

test('Dockerfile: a build stage and a final node:20-slim stage that only installs production dependencies and runs as node', () => {
  assert.equal(stages.length, 2);
  const final = stages[1];
  assert.match(final, /^node:20-slim\n/);
  assert.match(final, /npm ci --omit=dev --omit=peer --ignore-scripts/);
  assert.doesNotMatch(final, /\btsc\b|npm run build|npm install\b/, 'no build tooling in the final stage');
  assert.match(final, /^USER node$/m);
  assert.match(final, /^ENTRYPOINT \["preflight"\]$/m);
  assert.match(final, /ln -s \/opt\/preflight\/dist\/src\/cli\/main\.js \/usr\/local\/bin\/preflight/);
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin['preflight'], 'dist/src/cli/main.js', 'the entrypoint links the package bin');
  const ignore = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
  for (const p of ['node_modules', 'dist', 'results', '.git']) assert.ok(ignore.includes(p), `.dockerignore has ${p}`);
});

test('the final stage layout (packed files + production dependencies only) runs preflight k8s', () => {
  execFileSync('npm', ['pack', '--ignore-scripts', '--offline', '--pack-destination', tmp], {
    cwd: root,
    stdio: 'ignore',
    timeout: 120_000,
  });
  const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'))!;
  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  execFileSync('tar', ['-xzf', path.join(tmp, tgz), '-C', app, '--strip-components=1'], { timeout: 60_000 });
  // What `npm ci --omit=dev --omit=peer` installs: the lockfile's top-level packages that are neither.
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean; peer?: boolean }>;
  };
  fs.mkdirSync(path.join(app, 'node_modules', '@nats-io'), { recursive: true });
  let installed = 0;
  for (const [k, v] of Object.entries(lock.packages)) {
    const name = k.slice('node_modules/'.length);
    if (!k.startsWith('node_modules/') || name.includes('node_modules/') || v.dev || v.devOptional || v.peer) continue;
    fs.mkdirSync(path.dirname(path.join(app, 'node_modules', name)), { recursive: true });
    // A copy: Node resolves a package's own imports from its real path.
    fs.cpSync(path.join(root, 'node_modules', name), path.join(app, 'node_modules', name), { recursive: true });
    installed++;
  }
  assert.ok(installed > 5 && !fs.existsSync(path.join(app, 'node_modules', '@kubernetes')));
  const cli = path.join(app, 'dist', 'src', 'cli', 'main.js');
  const plan = path.join(app, 'examples', 'demo.yaml');
  const r = spawnSync(process.execPath, [cli, 'k8s', plan, '--workers', '2', '--run-id', 'image-1', '-o', 'yaml'], {
    cwd: app,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /kind: Job/);
});
