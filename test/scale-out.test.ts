/**
 * Scale-out with real processes on loopback, as a Kubernetes Indexed Job would run them: a
 * `nats-server -js` started here, the reference model server, `preflight coordinator` and N
 * `preflight worker` processes given JOB_COMPLETION_INDEX. Stopped by PID in after().
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IntervalRecord, Summary } from '../src/core/results.js';
import { startServer } from '../src/server/index.js';
import { cli, preflight, root } from './helpers/cli.js';
import { natsSkip, startNats, type NatsServer } from './helpers/nats.js';

const skip = natsSkip();
let nats: NatsServer | undefined;
let server: { url: string; close(): Promise<void> } | undefined;
const children: ChildProcess[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-scale-'));

before(async () => {
  if (skip) return;
  nats = await startNats();
  server = await startServer({ port: 0 });
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await server?.close();
  await nats?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A plan file: an open workload of `rate` uniform arrivals for `duration` against the reference server.
 * maxDispatchLag 2s: six processes on two shared cores stall now and then; these tests are about
 * what reaches the coordinator, not the generator's timing.
 */
function planFile(name: string, rate: number, duration: string, extra = ''): string {
  const f = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(
    f,
    `target: { url: ${server!.url}, ready: /v2/health/ready }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: ${rate}/s
    duration: ${duration}
    request: { method: GET, path: /v2/health/ready }
    checks: [ status == 200 ]
thresholds: [ p99 < 2s ]
options: { interval: 500ms, maxDispatchLag: 2s${extra} }
`,
  );
  return f;
}

interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves when stderr has shown `text` (false after `ms`). */
  saw(text: string, ms: number): Promise<boolean>;
}

function spawnCli(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (err += d));
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      clearTimeout(kill);
      r(code);
    }),
  );
  return {
    child,
    stderr: () => err,
    exited,
    saw: async (text, ms) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (err.includes(text)) return true;
        if (child.exitCode !== null) return err.includes(text);
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    },
  };
}

function workers(plan: string, n: number, runId: string): Proc[] {
  return Array.from({ length: n }, (_, i) =>
    spawnCli(['worker', plan, '--workers', String(n), '--nats', nats!.url, '--run-id', runId], {
      JOB_COMPLETION_INDEX: String(i),
    }),
  );
}

function coordinator(plan: string, n: number, runId: string, out: string, extra: string[] = []): Proc {
  return spawnCli([
    'coordinator',
    plan,
    '--workers',
    String(n),
    '--nats',
    nats!.url,
    '--run-id',
    runId,
    '--out',
    out,
    '--no-report',
    '--start-lead',
    '1s',
    ...extra,
  ]);
}

const summaryOf = (out: string) => JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as Summary;
const windowsOf = (out: string) =>
  fs
    .readFileSync(path.join(out, 'intervals.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as IntervalRecord);

test("4 worker processes at 4× a worker's rate add up exactly to one process at the same total; latency matches", {
  skip,
  timeout: 60_000,
}, async () => {
  const plan = planFile('sum', 200, '3s');
  const out = path.join(dir, 'sum');
  const ws = workers(plan, 4, 'sum');
  const co = coordinator(plan, 4, 'sum', out);
  const code = await co.exited;
  for (const w of ws) assert.equal(await w.exited, 0, `worker: ${w.stderr()}\ncoordinator: ${co.stderr()}`);
  const s = summaryOf(out);
  assert.equal(code, 0, `${co.stderr()}\n${s.warnings.join('\n')}`);
  const so = s.scale_out!;
  assert.equal(so.workers, 4);
  assert.equal(so.shards, 4);
  // Uniform arrivals: exactly rate × duration, split evenly, and the workers' requests sum to the total.
  assert.equal(s.total.requests, 600);
  assert.deepEqual(
    so.per_worker.map((w) => w.requests),
    [150, 150, 150, 150],
  );
  assert.equal(
    so.per_worker.reduce((a, w) => a + w.requests, 0),
    s.total.requests,
  );
  assert.equal(so.lost_share, 0);
  assert.ok(so.per_worker.every((w) => w.status === 'ok' && Math.abs(w.clock_offset_ms) < 50));
  // Every window of the run once, merged: the windows' requests sum to the total too.
  const recs = windowsOf(out).filter((r) => r.group === undefined);
  assert.equal(
    recs.reduce((a, r) => a + r.requests, 0),
    600,
  );
  assert.equal(new Set(recs.map((r) => r.t)).size, recs.length);

  // One process, same plan, same total.
  const single = path.join(dir, 'single');
  const r = await preflight(['run', plan, '--out', single, '--quiet', '--no-report']);
  assert.equal(r.code, 0, r.stderr);
  const one = summaryOf(single);
  assert.equal(one.total.requests, s.total.requests);
  // Loopback, a light load: both medians are small and of one size (generous: two noisy cores).
  const a = s.total.latency_ms.p50;
  const b = one.total.latency_ms.p50;
  assert.ok(a < 50 && b < 50, `p50 ${a} ms vs ${b} ms`);
  assert.ok(Math.abs(a - b) < 10, `p50 ${a} ms vs ${b} ms`);
});

test('a worker that dies mid-run is named; the run is invalid (exit 4) unless the plan tolerates the loss', {
  skip,
  timeout: 90_000,
}, async () => {
  for (const tolerate of [false, true]) {
    const id = `kill-${tolerate ? 'tolerated' : 'strict'}`;
    const plan = planFile(id, 100, '5s', tolerate ? ', scaleOut: { tolerateLoss: 60% }' : '');
    const out = path.join(dir, id);
    const ws = workers(plan, 2, id);
    const co = coordinator(plan, 2, id, out, ['--heartbeat-timeout', '1500ms']);
    assert.ok(await ws[1].saw('started:', 30_000), ws[1].stderr());
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(ws[1].child.pid!, 'SIGKILL');
    const code = await co.exited;
    assert.equal(await ws[0].exited, 0, ws[0].stderr());
    const s = summaryOf(out);
    const lost = s.scale_out!.per_worker[1];
    assert.equal(lost.status, 'lost', JSON.stringify(s.scale_out));
    assert.match(lost.reason!, /no heartbeat/);
    assert.equal(s.scale_out!.per_worker[0].status, 'ok');
    // Worker 1 had half the load and sent it for a part of the run: lost between a tenth and a half.
    assert.ok(s.scale_out!.lost_share > 0.1 && s.scale_out!.lost_share <= 0.5, String(s.scale_out!.lost_share));
    assert.equal(s.scale_out!.per_worker[0].requests, 250);
    if (tolerate) {
      assert.equal(code, 0, co.stderr());
      assert.ok(
        s.warnings.some((w) => /worker 1 of 2 .* was lost mid-run.*tolerated/.test(w)),
        s.warnings.join('\n'),
      );
    } else {
      assert.equal(code, 4, co.stderr());
      assert.equal(s.verdict, 'invalid');
      assert.ok((s.generator.worker_failures ?? []).some((w) => /worker 1 of 2/.test(w)));
    }
  }
});

test('a coordinator killed mid-run and started again loses no window that reached JetStream', {
  skip,
  timeout: 60_000,
}, async () => {
  const plan = planFile('restart', 100, '4s');
  const out = path.join(dir, 'restart');
  const ws = workers(plan, 2, 'restart');
  const first = coordinator(plan, 2, 'restart', out);
  assert.ok(await ws[0].saw('started:', 30_000), ws[0].stderr());
  await new Promise((r) => setTimeout(r, 1500));
  process.kill(first.child.pid!, 'SIGKILL');
  await first.exited;
  // The workers go on alone; the new coordinator (same run id) replays the stream from the start.
  const second = coordinator(plan, 2, 'restart', out);
  assert.equal(await second.exited, 0, second.stderr());
  for (const w of ws) assert.equal(await w.exited, 0, w.stderr());
  const s = summaryOf(out);
  assert.equal(s.scale_out!.resumed, true);
  assert.equal(s.total.requests, 400);
  const recs = windowsOf(out).filter((r) => r.group === undefined);
  // Every window of every worker: 4 s of 500 ms windows (plus a short last one, when there is one).
  const idx = recs.map((r) => r.t).sort((x, y) => x - y);
  assert.deepEqual(
    idx,
    Array.from({ length: idx.length }, (_, i) => i),
  );
  assert.ok(idx.length >= 8, `${idx.length} windows`);
  assert.equal(
    recs.reduce((a, r) => a + r.requests, 0),
    400,
  );
  // Every window each worker stored in JetStream reached the new coordinator: its published messages
  // are hello, ready, its windows and one done (one thread).
  s.scale_out!.per_worker.forEach((w, i) => {
    const published = Number(/done: (\d+) messages/.exec(ws[i].stderr())?.[1]);
    assert.equal(w.windows, published - 3, ws[i].stderr());
    assert.ok(w.windows >= idx.length - 1, `${w.windows} of ${idx.length}`);
  });
  // A finished run id is not run again.
  const again = coordinator(plan, 2, 'restart', path.join(dir, 'again'));
  assert.equal(await again.exited, 4);
  assert.match(again.stderr(), /already finished/);
});

test('a worker that never shows up: a clear error after --ready-timeout (exit 4)', {
  skip,
  timeout: 30_000,
}, async () => {
  const plan = planFile('absent', 10, '1s');
  // Worker 0 of 2 only.
  const ws = [
    spawnCli(['worker', plan, '--workers', '2', '--nats', nats!.url, '--run-id', 'absent'], {
      JOB_COMPLETION_INDEX: '0',
    }),
  ];
  const co = coordinator(plan, 2, 'absent', path.join(dir, 'absent'), ['--ready-timeout', '3s']);
  assert.equal(await co.exited, 4, co.stderr());
  assert.match(co.stderr(), /1 of 2 worker\(s\) not ready within 3 s: 1 \(never seen\)/);
  // The worker waiting for a start is told the run ended, and exits (non-zero: it ran nothing).
  assert.equal(await ws[0].exited, 4, ws[0].stderr());
});

test('abortOnFail judged once on the merged windows stops every worker', { skip, timeout: 60_000 }, async () => {
  const f = path.join(dir, 'abort.yaml');
  // Every request fails (404): the merged error rate breaks the threshold in the first windows.
  fs.writeFileSync(
    f,
    `target: { url: ${server!.url}, ready: /v2/health/ready }
scenarios:
  steady:
    executor: constant-arrival-rate
    rate: 50/s
    duration: 30s
    request: { method: GET, path: /no-such-path }
thresholds:
  - threshold: steady.error_rate < 1%
    abortOnFail: true
options: { interval: 500ms, maxDispatchLag: 2s }
`,
  );
  const out = path.join(dir, 'abort');
  const ws = workers(f, 2, 'abort');
  const co = coordinator(f, 2, 'abort', out);
  assert.equal(await co.exited, 3, co.stderr());
  for (const w of ws) assert.equal(await w.exited, 0, w.stderr());
  const s = summaryOf(out);
  assert.equal(s.status, 'aborted');
  // Both workers stopped long before the planned 30 s (1500 requests): each sent only a few windows' worth.
  assert.ok(s.total.requests < 750, `${s.total.requests} requests`);
  for (const w of s.scale_out!.per_worker) assert.ok(w.requests > 0 && w.requests < 375, `${w.requests}`);
});
