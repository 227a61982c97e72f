import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { http, LINEAR_MODEL_MODULE } from './testing.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

for (const signal of ['SIGTERM', 'SIGHUP'] as const)
  test(`main.js: first stdout line is the URL; serves; ${signal} stops it with exit 0`, async () => {
    const child = spawn(
      process.execPath,
      [MAIN, '--port', '0', '--instances', '1', '--model-module', fileURLToPath(LINEAR_MODEL_MODULE)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      const lines = createInterface({ input: child.stdout! });
      const [first] = (await once(lines, 'line')) as [string];
      const m = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(first);
      assert.ok(m, first);
      const r = await http(`${m[1]}/v2/health/ready`);
      assert.equal(r.status, 200);
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

test('main.js: bad flags exit 2 with the problem on stderr', async () => {
  const child = spawn(process.execPath, [MAIN, '--port', 'abc'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(killer);
  assert.equal(code, 2);
  assert.match(err, /--port/);
});
