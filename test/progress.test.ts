/**
 * The live progress of a real run: a count-bounded scenario (`iterations`, no planned end) is shown
 * as done once it has finished, not as a running scenario with "vus=0" for the rest of the run.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, type ProgressUpdate } from '../src/run/index.js';
import { ProgressView } from '../src/cli/progress.js';
import { delayServer, type TestServer } from './helpers/servers.js';
import { plan, scenario } from './helpers/plans.js';

const servers: TestServer[] = [];
const dirs: string[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('live progress: a finished iterations scenario is done (no vus=0 line) while another still runs', async () => {
  const srv = await delayServer(5);
  servers.push(srv);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-progress-'));
  dirs.push(out);
  const updates: ProgressUpdate[] = [];
  let text = '';
  // plain (non-TTY) output, a line per running scenario at every update
  const stream = { isTTY: false, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  const view = new ProgressView(stream, 0);
  await run(
    plan(srv.url, [
      scenario('light', { executor: 'iterations', maxRequests: 10, concurrency: 2 }),
      scenario('steady', { executor: 'constant-arrival-rate', rate: 20, durationMs: 3000 }),
    ]),
    {
      outDir: out,
      onProgress: (p) => {
        updates.push(p);
        view.update(p);
      },
    },
  );
  const light = updates.map((u) => u.scenarios.find((s) => s.name === 'light')!);
  assert.ok(updates.length >= 2, `updates: ${updates.length}`);
  // 10 requests of 5 ms by 2 users end in the first second; the run goes on for 3 s
  assert.equal(light[light.length - 1].state, 'done', JSON.stringify(light[light.length - 1]));
  assert.equal(light[light.length - 1].requests, 10);
  for (const s of light) if (s.state === 'running') assert.notEqual(s.vus, 0, 'a running scenario has users');
  for (const s of light) if (s.state === 'done') assert.equal(s.vus, undefined);
  const lightLines = text.split('\n').filter((l) => / light /.test(l));
  assert.ok(lightLines.length <= 1, `light printed after it finished:\n${lightLines.join('\n')}`);
  assert.ok(!lightLines.some((l) => /vus=0/.test(l)), lightLines.join('\n'));
  assert.ok(text.split('\n').filter((l) => / steady /.test(l)).length >= 2, text);
});
