/**
 * A real failover: Debian's haproxy balancing two reference-server replicas (`preflight serve`, each
 * its own process) with active health checks (GET /v2/health/ready every 200 ms, down after 2
 * failures, up after 2 passes). A resilience profile's timeline SIGKILLs replica 2 (a signal action,
 * its PID from a pid file) and restarts it later (the entry's `undo`, a command). The answer counts
 * and classifies the errors of the failover, measures the time to fail over and to recover, and
 * names both.
 *
 * haproxy comes from Debian (scripts/test.sh installs it as root). Without it the test skips and
 * says so — except on CI (`CI` set), where a missing haproxy is a failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePlan } from '../src/plan/index.js';
import { runProfile } from '../src/profiles/index.js';
import { pipeInjectorFactory } from '../src/run/test-fault-injector.js';
import { root } from './helpers/cli.js';
import { haproxyBinary, startHaproxy, type Haproxy } from './helpers/haproxy.js';
import { closedPort } from './helpers/servers.js';

const missing = haproxyBinary() === undefined;
const skip =
  missing && !process.env['CI']
    ? 'haproxy is not installed (Debian: apt-get install haproxy — scripts/test.sh does it as root; required when CI is set)'
    : false;

const main = path.join(root, 'dist', 'src', 'cli', 'main.js');
let dir: string;
let lb: Haproxy;
const ports: number[] = [];
const pidFiles: string[] = [];

/**
 * A node script (argv, no shell) that starts `preflight serve --port <port>` detached, writes its
 * PID to `pidFile`, and exits 0 once it answers ready (1 after 15 s): a replica that outlives it.
 */
function startReplicaArgv(port: number, pidFile: string): string[] {
  const script = [
    "const { spawn } = require('node:child_process'), fs = require('node:fs'), http = require('node:http');",
    'const [main, port, pidFile] = process.argv.slice(1);',
    "const c = spawn(process.execPath, [main, 'serve', '--port', port, '--instances', '1'], { detached: true, stdio: 'ignore' });",
    'fs.writeFileSync(pidFile, String(c.pid)); c.unref();',
    'const t0 = Date.now();',
    "const poll = () => http.get('http://127.0.0.1:' + port + '/v2/health/ready', (r) => { r.resume(); if (r.statusCode === 200) process.exit(0); else retry(); }).on('error', retry);",
    "const retry = () => Date.now() - t0 > 15000 ? (console.error('replica not ready'), process.exit(1)) : setTimeout(poll, 100);",
    'poll();',
  ].join(' ');
  return [process.execPath, '-e', script, main, String(port), pidFile];
}

function stopReplica(pidFile: string): void {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    if (pid > 1) process.kill(pid, 'SIGKILL');
  } catch {
    // not running (killed by the test) or never started
  }
}

before(async () => {
  if (skip) return;
  assert.ok(!missing, 'haproxy is required in CI (apt-get install -y haproxy; scripts/test.sh does it as root)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-failover-'));
  for (const i of [1, 2]) {
    const port = await closedPort();
    const pidFile = path.join(dir, `replica-${i}.pid`);
    ports.push(port);
    pidFiles.push(pidFile);
    const [cmd, ...args] = startReplicaArgv(port, pidFile);
    const r = spawnSync(cmd, args, { timeout: 20_000, encoding: 'utf8' });
    assert.equal(r.status, 0, `replica ${i} did not start: ${r.stderr}`);
  }
  lb = await startHaproxy(
    {
      r1: { url: `http://127.0.0.1:${ports[0]}`, weight: 100 },
      r2: { url: `http://127.0.0.1:${ports[1]}`, weight: 100 },
    },
    'model',
    '/v2/health/ready',
  );
});
after(async () => {
  await lb?.stop();
  for (const f of pidFiles) stopReplica(f);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('SIGKILL replica 2 under load and restart it: failover errors counted and classified, recovery measured', {
  skip,
}, async () => {
  const out = path.join(dir, 'results');
  const restart = startReplicaArgv(ports[1], pidFiles[1]);
  const plan = parsePlan(
    `
target: { url: ${lb.url}, timeout: 5s }
profile: { type: resilience, rate: 50/s, duration: 12s, recovery: { windows: 2, errors: 1% } }
scenario:
  protocol: kserve-v2
  model: digits
  synthetic: { distribution: uniform, low: 0, high: 16 }
options: { interval: 500ms }
faults:
  timeline:
    - at: 3s
      for: 4s
      name: replica-2 down
      action: { signal: { pidFile: ${JSON.stringify(pidFiles[1])}, signal: SIGKILL } }
      undo: { command: ${JSON.stringify(restart)}, timeout: 20s }
thresholds: [ "error_rate < 1%" ]
`,
    { baseDir: dir },
  );
  const r = await runProfile(plan, { outDir: out, skipTargetCheck: true, faultInjector: pipeInjectorFactory() });
  const a = r.answer as unknown as {
    windows: Array<{
      name: string;
      errors: Record<string, number>;
      lost: number;
      detect_s: number | null;
      failover_s: number | null;
      recovered: boolean;
      recovery_s: number | null;
      sentence: string;
    }>;
  };
  const ends = r.summary.faults!.events.filter((e) => e.event === 'action_end');
  assert.deepEqual(
    ends.map((e) => [e.name, Boolean(e.undo), e.ok]),
    [
      ['replica-2 down', false, true],
      ['replica-2 down', true, true],
    ],
    JSON.stringify(ends),
  );
  assert.equal(a.windows.length, 1, r.answer.answer);
  const w = a.windows[0];
  const failed = Object.values(w.errors).reduce((x, y) => x + y, 0);
  assert.ok(failed > 0, `the kill caused errors: ${r.answer.answer}`);
  assert.ok(failed < 0.5 * 50 * 4, `haproxy's health checks took replica 2 out: only ${failed} of ~200 failed`);
  assert.ok(w.lost >= failed);
  // Users see the failover's errors when those requests end: haproxy may hold a request to the dead
  // replica for its connect retries (seconds), so detection is within the window, not within one interval.
  assert.ok(w.detect_s !== null && w.detect_s < 4.5, `detected after ${w.detect_s}`);
  if (w.failover_s !== null) assert.ok(w.failover_s < 4, `failover after ${w.failover_s}`);
  assert.ok(w.recovered && w.recovery_s !== null, r.answer.answer);
  // The answer names both: the errors (by class) and the time to recover.
  const cls = Object.keys(w.errors).filter((k) => w.errors[k] > 0);
  assert.ok(cls.length > 0);
  for (const c of cls) assert.match(w.sentence, new RegExp(`${c} \\d+`));
  assert.match(w.sentence, /recovered .* after it ended; \d+ requests lost/);
});
