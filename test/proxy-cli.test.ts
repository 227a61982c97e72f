/**
 * `preflight proxy` as a user runs it: a child process in front of a real echo server, driven
 * through its Toxiproxy-compatible API by the real npm client, stopped by a signal or its
 * duration; every port it opened is closed afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { Toxiproxy } from 'toxiproxy-node-client';
import { cli, preflight, root } from './helpers/cli.js';
import { type EchoServer, echoServer, roundTrip } from '../src/faults/test-recording-proxy.js';

let echo: EchoServer;
let upstream: string;
const children = new Set<ChildProcess>();

before(async () => {
  echo = await echoServer();
  upstream = echo.address;
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await echo.close();
});

interface Running {
  child: ChildProcess;
  proxy: string;
  api?: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Starts `preflight proxy …` and waits (at most 20 s) for the addresses it prints. */
function startProxy(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [cli, 'proxy', ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no addresses within 20 s: ${stdout} ${stderr}`)), 20_000);
    child.stdout!.on('data', (d) => {
      stdout += d;
      const proxy = /listening on (\S+) →/.exec(stdout)?.[1];
      const api = /toxiproxy api on (\S+)/.exec(stdout)?.[1];
      if (proxy && (api || !args.includes('--api'))) {
        clearTimeout(timer);
        resolve({ child, proxy, api, stderr: () => stderr, exit });
      }
    });
    void exit.then((code) => reject(new Error(`exited ${code} before it listened: ${stderr}`)));
  });
}

const bounded = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);

test('preflight proxy: driven by the npm Toxiproxy client, Ctrl-C removes every fault and closes its ports (exit 130)', async () => {
  const run = await startProxy([
    '--upstream',
    upstream,
    '--api',
    '127.0.0.1:0',
    '--toxic',
    'latency:latency=20,jitter=5,toxicity=0.5',
    '--duration',
    '2m',
  ]);
  const toxiproxy = new Toxiproxy(run.api!);
  const all = await toxiproxy.getAll();
  assert.deepEqual(Object.keys(all), ['preflight']);
  assert.equal(all.preflight.listen, run.proxy);
  const proxy = await toxiproxy.get('preflight');
  assert.deepEqual((await proxy.getToxic('latency_downstream')).toJson(), {
    name: 'latency_downstream',
    type: 'latency',
    stream: 'downstream',
    toxicity: 0.5,
    attributes: { latency: 20, jitter: 5 },
  });
  await proxy.addToxic({
    name: 'cut',
    type: 'limit_data',
    stream: 'upstream',
    toxicity: 1,
    attributes: { bytes: 1000 },
  });
  assert.equal(await roundTrip(run.proxy, 'through the proxy'), 'through the proxy');
  const down = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
  assert.equal(down.enabled, false);
  assert.match(await roundTrip(run.proxy, 'x'), /closed|ECONNRESET/);

  run.child.kill('SIGINT');
  assert.equal(await bounded(run.exit, 15_000, 'exit after SIGINT'), 130);
  assert.match(run.stderr(), /interrupted \(SIGINT\): stopping the proxy, removing every fault/);
  assert.match(run.stderr(), /removed 2 toxics, closed 1 proxy/);
  assert.match(await roundTrip(run.proxy, 'x'), /ECONNREFUSED/, 'the proxy port is closed');
  const apiAddress = new URL(run.api!).host;
  assert.match(await roundTrip(apiAddress, 'x'), /ECONNREFUSED/, 'the API port is closed');
});

test('preflight proxy: SIGTERM stops it too; --duration ends it by itself (exit 0)', async () => {
  const term = await startProxy(['--upstream', upstream, '--duration', '2m']);
  term.child.kill('SIGTERM');
  assert.equal(await bounded(term.exit, 15_000, 'exit after SIGTERM'), 130);
  assert.match(await roundTrip(term.proxy, 'x'), /ECONNREFUSED/);

  const timed = await startProxy(['--upstream', upstream, '--duration', '1s', '--toxic', 'slow_close:delay=10']);
  assert.equal(await bounded(timed.exit, 15_000, 'exit after its duration'), 0);
  assert.match(timed.stderr(), /removed 1 toxic, closed 1 proxy/);
  assert.match(await roundTrip(timed.proxy, 'x'), /ECONNREFUSED/);
});

test('preflight proxy: bad arguments are every problem at once, located, exit 2, nothing left listening', async () => {
  const r = await preflight(
    [
      'proxy',
      '--upstream',
      'nohost',
      '--toxic',
      'latancy:latency=1',
      '--toxic',
      'timeout:timeout=-5',
      '--duration',
      '30d',
    ],
    { timeoutMs: 20_000 },
  );
  assert.equal(r.code, 2);
  assert.match(r.stderr, /4 problems/);
  assert.match(r.stderr, /\(--upstream\)/);
  assert.match(r.stderr, /\(--toxic\[1\]\.type\)\n\s+hint: did you mean `latency`\?/);
  assert.match(r.stderr, /\(--toxic\[2\]\.attributes\.timeout\)/);
  assert.match(r.stderr, /\(--duration\)/);
  const twice = await preflight(
    ['proxy', '--upstream', upstream, '--toxic', 'latency:latency=1', '--toxic', 'latency:latency=2'],
    { timeoutMs: 20_000 },
  );
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /two toxics named latency_downstream \(--toxic\[2\]\.name\)\n\s+hint: .*name=latency_2/);
  const open = await preflight(['proxy', '--upstream', upstream, '--listen', '0.0.0.0:0'], { timeoutMs: 20_000 });
  assert.equal(open.code, 2);
  assert.match(open.stderr, /not a loopback address \(--listen\)/);
  const api = await preflight(['proxy', '--upstream', upstream, '--api', '0.0.0.0:8474'], { timeoutMs: 20_000 });
  assert.equal(api.code, 2);
  assert.match(api.stderr, /loopback/);
});
