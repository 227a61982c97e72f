/**
 * The results folder end to end, as a user meets it: output paths that cannot hold files, a full
 * disk (a real small tmpfs when mounting is permitted), SIGHUP, a reused --out, and `report` /
 * `compare` on folders that are not Preflight results.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { delayServer, type TestServer } from './helpers/servers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const servers: TestServer[] = [];
const mounts: string[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const m of mounts) execFileSync('umount', [m]);
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-io-'));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** `signal`: sent once stderr matches `signalWhen` (the run has started), so it is not sent during start-up. */
function preflight(
  args: string[],
  opts: { signal?: NodeJS.Signals; signalWhen?: RegExp; timeoutMs?: number } = {},
): Promise<Result> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    let signalled = false;
    child.stderr.on('data', (d) => {
      stderr += d;
      if (opts.signal && !signalled && opts.signalWhen?.test(stderr)) {
        signalled = true;
        child.kill(opts.signal);
      }
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

async function planFile(seconds: number): Promise<string> {
  const srv = await delayServer(1);
  servers.push(srv);
  const file = path.join(tmp(), 'plan.yaml');
  fs.writeFileSync(
    file,
    `target: { url: "${srv.url}" }\nscenarios:\n  s: { executor: constant-arrival-rate, rate: 40/s, duration: ${seconds}s, request: { path: / } }\n`,
  );
  return file;
}

const noStack = (r: Result) => assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, `a stack trace:\n${r.stderr}`);

test('--out on /proc, on a file, or under a file: a clear error at once (exit 2), no spin', async () => {
  const file = await planFile(1);
  const aFile = path.join(tmp(), 'a-file');
  fs.writeFileSync(aFile, 'x');
  const cases: Array<[string, RegExp]> = [
    [path.join(aFile), /exists and is not a folder/],
    [path.join(aFile, 'sub'), /is a file, not a folder|ENOTDIR/],
  ];
  if (process.platform === 'linux')
    cases.push(['/proc/x', /proc filesystem/], ['/proc/self/preflight/out', /proc filesystem/]);
  for (const [out, why] of cases) {
    const r = await preflight(['run', file, '--out', out, '--quiet'], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${out}: ${r.stderr}`);
    assert.match(r.stderr, /E_ARGS.*cannot write results to/);
    assert.match(r.stderr, why);
    noStack(r);
  }
});

test('SIGHUP (closed terminal, CI cancel) stops the run like Ctrl-C: partial summary kept (exit 130)', async () => {
  const file = await planFile(60);
  const out = path.join(tmp(), 'out');
  const r = await preflight(['run', file, '--out', out], { signal: 'SIGHUP', signalWhen: /\[\d+s\// });
  assert.equal(r.code, 130, r.stderr);
  const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.status, 'interrupted');
  assert.ok(summary.scenarios.s.requests > 10);
  assert.match(r.stdout, /INTERRUPTED/);
  assert.match(r.stderr, /interrupted \(SIGHUP\)/);
});

test('a reused --out starts clean: stale comparison.json (even malformed) and reports are removed, other files kept', async () => {
  const file = await planFile(1);
  const out = path.join(tmp(), 'out');
  const first = await preflight(['run', file, '--out', out, '--quiet', '--no-report']);
  assert.ok([0, 4].includes(first.code!), first.stderr); // 4: the generator was overloaded on a busy machine
  fs.mkdirSync(path.join(out, 'steps', '3'), { recursive: true });
  fs.writeFileSync(path.join(out, 'comparison.json'), '{ not json');
  fs.writeFileSync(path.join(out, 'summary.md'), 'stale');
  fs.writeFileSync(path.join(out, 'steps', '3', 'summary.json'), '{}');
  fs.writeFileSync(path.join(out, 'notes.txt'), 'mine');
  const r = await preflight(['run', file, '--out', out, '--quiet']);
  assert.ok([0, 4].includes(r.code!), r.stderr);
  assert.ok(!fs.existsSync(path.join(out, 'comparison.json')), 'stale comparison.json removed');
  assert.ok(!fs.existsSync(path.join(out, 'steps')), 'stale profile steps removed');
  assert.notEqual(fs.readFileSync(path.join(out, 'summary.md'), 'utf8'), 'stale');
  assert.equal(
    fs.readFileSync(path.join(out, 'notes.txt'), 'utf8'),
    'mine',
    'files that are not Preflight results are left alone',
  );
  assert.doesNotMatch(fs.readFileSync(path.join(out, 'summary.md'), 'utf8'), /baseline/i);
  const same = await preflight(['run', file, '--out', out, '--baseline', out, '--quiet']);
  assert.equal(same.code, 2, 'the baseline would be overwritten');
  assert.ok(fs.existsSync(path.join(out, 'summary.json')), 'and it was not');

  // A folder whose summary.json no Preflight run wrote is refused, and left as it was.
  const foreign = path.join(tmp(), 'foreign');
  fs.mkdirSync(foreign);
  fs.writeFileSync(path.join(foreign, 'summary.json'), '{"mine": true}');
  const refused = await preflight(['run', file, '--out', foreign, '--quiet']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /no Preflight run wrote/);
  assert.equal(fs.readFileSync(path.join(foreign, 'summary.json'), 'utf8'), '{"mine": true}');
});

test('report / compare on a folder that is not a Preflight result: exit 2, no stack trace; bad intervals lines are named', async () => {
  const dir = tmp();
  const other = path.join(dir, 'other');
  fs.mkdirSync(other);
  fs.writeFileSync(path.join(other, 'summary.json'), JSON.stringify({ scenarios: { a: 1 }, metrics: {} }));
  const rep = await preflight(['report', other]);
  assert.equal(rep.code, 2, rep.stderr);
  assert.match(rep.stderr, /is not a Preflight result/);
  noStack(rep);
  const cmp = await preflight(['compare', other, other]);
  assert.equal(cmp.code, 2, cmp.stdout + cmp.stderr);
  assert.match(cmp.stderr, /is not a Preflight result/);
  assert.doesNotMatch(cmp.stdout, /inconclusive/);

  const file = await planFile(2);
  const out = path.join(dir, 'out');
  assert.ok(
    [0, 4].includes((await preflight(['run', file, '--out', out, '--quiet', '--no-report'])).code!),
    'passed (or invalid on a busy machine)',
  );
  const nd = path.join(out, 'intervals.ndjson');
  const lines = fs.readFileSync(nd, 'utf8').trimEnd().split('\n');
  fs.writeFileSync(nd, [lines[0], 'garbage', ...lines.slice(1), '{"no":"scenario"}', ''].join('\n'));
  const warned = await preflight(['report', out]);
  assert.equal(warned.code, 0, warned.stderr); // report renders; the run's own verdict is not its exit code
  assert.match(warned.stderr, /warning: .*intervals\.ndjson: 2 line\(s\) .* skipped: line 2, \d+/);
  fs.writeFileSync(nd, [...lines, '{"scenario":"s","t":9,"cut'].join('\n'));
  const cut = await preflight(['report', out]);
  assert.match(cut.stderr, /the last line \(line \d+\) is cut off/);
});

/** A real full disk: a tmpfs of `sizeK` KiB with `leaveBytes` free. Null (skip) when mounting is not permitted. */
function smallDisk(sizeK: number, leaveBytes?: number): string | null {
  const dir = tmp();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeK}k`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  mounts.push(dir);
  if (leaveBytes !== undefined) {
    const st = fs.statfsSync(dir);
    const free = st.bavail * st.bsize;
    fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(Math.max(0, free - leaveBytes)));
  }
  return dir;
}

test('a full disk: reported once, clearly (exit 7); what was written stays intact', async (t) => {
  const disk = smallDisk(64);
  if (!disk) return t.skip('cannot mount a tmpfs here (not root?): full-disk behaviour untested');
  // Room for the results but not for report.html (≈ 80 KB): the verdict stands, the reports fail.
  const file = await planFile(1);
  const out = path.join(disk, 'out');
  const r = await preflight(['run', file, '--out', out]);
  assert.equal(r.code, 7, r.stdout + r.stderr);
  assert.match(r.stdout, /verdict: (PASSED|INVALID)/);
  assert.equal(r.stderr.match(/error \[E_RESULTS_IO\]/g)?.length, 1, r.stderr);
  assert.match(r.stderr, /cannot write the reports .*no space left on the device \(ENOSPC\)/);
  noStack(r);
  assert.match(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')).verdict, /passed|invalid/);
  assert.ok(!fs.readdirSync(out).some((f) => f.endsWith('.tmp')), 'no temporary file left behind');

  // Nearly full: intervals.ndjson fills up mid-run. The run still ends and prints its summary.
  const tight = smallDisk(64, 8192);
  assert.ok(tight);
  const out2 = path.join(tight, 'out');
  const r2 = await preflight(['run', await planFile(6), '--out', out2]);
  assert.equal(r2.code, 7, r2.stdout + r2.stderr);
  assert.match(r2.stdout, /verdict: (PASSED|INVALID)/);
  assert.match(r2.stdout, /intervals\.ndjson is incomplete: it stops after \d+ window/);
  assert.equal(r2.stderr.match(/error \[E_RESULTS_IO\]/g)?.length, 1, r2.stderr);
  assert.match(r2.stderr, /ENOSPC/);
  assert.match(r2.stderr, /kept intact: plan\.resolved\.json/);
  noStack(r2);
  const text = fs.readFileSync(path.join(out2, 'intervals.ndjson'), 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'no cut line');
  for (const line of text.split('\n').filter(Boolean)) JSON.parse(line);
});
