/**
 * The lean install: onnxruntime-node (288 MB) is an optional peer dependency, so a team that installs
 * Preflight to test its own endpoint does not download it. Here the built package is laid out as such
 * an install would be (a copy of dist/ and models/, every dependency but onnxruntime-node), and the
 * reference server must still start, say why it serves with the TypeScript runtime, and answer.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A copy of the package (code copied, not linked: Node resolves a module from its real path). */
function leanLayout(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-lean-'));
  dirs.push(dir);
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(root, 'dist', 'src'), path.join(dir, 'dist', 'src'), { recursive: true });
  fs.cpSync(path.join(root, 'models'), path.join(dir, 'models'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'node_modules'));
  for (const name of fs.readdirSync(path.join(root, 'node_modules'))) {
    if (name === 'onnxruntime-node' || name.startsWith('.')) continue;
    fs.symlinkSync(path.join(root, 'node_modules', name), path.join(dir, 'node_modules', name));
  }
  return dir;
}

test('package.json: onnxruntime-node is an optional peer dependency, not a dependency', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  assert.equal(pkg['dependencies']?.['onnxruntime-node'], undefined);
  assert.ok(pkg['peerDependencies']?.['onnxruntime-node']);
  assert.deepEqual(pkg['peerDependenciesMeta']?.['onnxruntime-node'], { optional: true });
});

test('without onnxruntime-node, `preflight serve` explains itself and serves with the TypeScript runtime', async () => {
  const dir = leanLayout();
  const child = spawn(
    process.execPath,
    [path.join(dir, 'dist', 'src', 'cli', 'main.js'), 'serve', '--port', '0', '--host', '127.0.0.1'],
    {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        const m = /listening on (http:\/\/\S+)/.exec(stdout);
        if (m) {
          clearInterval(poll);
          resolve(m[1]);
        }
      }, 50);
      child.on('exit', (code) => {
        clearInterval(poll);
        reject(new Error(`serve exited (${code}): ${stderr}`));
      });
    });
    const input = Array.from({ length: 64 }, (_, i) => (i % 16) / 16);
    const res = await fetch(`${url}/v2/models/digits/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 64], data: input }] }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { outputs: Array<{ data: number[] }> };
    assert.equal(body.outputs[0].data.length, 10);
    assert.match(stderr, /onnxruntime-node is not installed; serving digits v\d with the TypeScript runtime/);
    assert.match(stderr, /npm install onnxruntime-node/);
    const meta = (await (await fetch(`${url}/v2/models/digits`)).json()) as { platform: string };
    assert.equal(meta.platform, 'typescript');
  } finally {
    clearTimeout(killer);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
});
