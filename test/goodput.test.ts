/**
 * Goodput's time base, end to end against a fake OpenAI-compatible server on loopback: requests
 * that all meet their SLOs at 10/s offered give goodput 10/s — the drain after the scenario's
 * planned end (the last requests still in flight) is not part of the time goodput is measured over.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { run } from '../src/run/index.js';
import { ExitCode } from '../src/core/exit-codes.js';
import { fakeOpenai } from '../src/protocols/testing/fake-servers.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-goodput-'));
const prompts = path.join(dir, 'prompts.jsonl');
fs.writeFileSync(prompts, `${Array.from({ length: 4 }, (_, i) => JSON.stringify({ prompt: `p${i}` })).join('\n')}\n`);
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('goodput: every request meets its SLOs at 10/s offered → goodput 10/s, although responses take 400 ms', async () => {
  // each response streams for ≈ 400 ms, so the last requests complete ≈ 0.4 s after the planned end
  const srv = await fakeOpenai({ firstMs: 300, gapMs: 30, chunks: 4, usageTokens: 4 });
  closers.push(() => srv.close());
  const plan = parsePlan(
    `
target: { url: "${srv.url}", ready: false }
options: { maxDispatchLag: 1s }      # a short run on shared cores: not a test of the generator
scenarios:
  chat:
    executor: constant-arrival-rate
    protocol: openai
    model: tiny
    rate: 10/s
    duration: 2s
    openai: { endpoint: completions, stream: true, slo: { e2e: 5s } }
    data: { file: ${JSON.stringify(prompts)} }
thresholds:
  - chat.goodput >= 10/s
  - goodput >= 10/s
`,
    { baseDir: dir },
  );
  const { summary, exitCode } = await run(plan, { outDir: path.join(dir, 'out') });
  const chat = summary.scenarios.chat;
  assert.equal(chat.requests, 20);
  assert.equal(chat.ok, 20);
  const gen = chat.generation as { goodput: number; good: number };
  assert.equal(gen.good, 20);
  assert.ok(chat.durationS > 2, `active time ${chat.durationS} s includes the drain`);
  assert.equal(chat.goodput, 10, 'good requests ÷ the 2 s planned duration');
  assert.equal(summary.total.goodput, 10);
  assert.deepEqual(
    summary.thresholds.map((t) => t.ok),
    [true, true],
  );
  assert.equal(exitCode, ExitCode.Passed);
});
