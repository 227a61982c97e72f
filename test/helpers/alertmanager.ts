/**
 * A real Alertmanager (Debian's `prometheus-alertmanager`; scripts/test.sh installs it) for
 * integration tests: one route to a receiver with no notifier (nothing leaves the machine), a short
 * group_wait, no cluster gossip (`--cluster.listen-address=`), storage in a temp dir, listening on a
 * free loopback port; stopped by its PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, stopChild } from './child-process.js';

/** The alertmanager binary (Debian names it prometheus-alertmanager), or undefined when not installed. */
export function alertmanagerBinary(): string | undefined {
  for (const d of [...(process.env['PATH'] ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin'])
    for (const name of ['prometheus-alertmanager', 'alertmanager']) {
      if (!d) continue;
      const f = path.join(d, name);
      try {
        fs.accessSync(f, fs.constants.X_OK);
        return f;
      } catch {
        // not here
      }
    }
  return undefined;
}

/** Why Alertmanager tests skip (undefined: they run). On CI a missing binary is a failure, not a skip. */
export function alertmanagerSkip(): string | undefined {
  return alertmanagerBinary() === undefined && !process.env['CI']
    ? 'alertmanager is not installed (Debian: apt-get install prometheus-alertmanager — scripts/test.sh does it as root; required when CI is set)'
    : undefined;
}

export interface Alertmanager {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** host:port, for Prometheus' alerting config. */
  host: string;
  pid: number;
  /** Creates a silence of `alertname` for an hour; resolves with its id. */
  silence(alertname: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startAlertmanager(o: { receiver?: string; groupWait?: string } = {}): Promise<Alertmanager> {
  const bin = alertmanagerBinary();
  if (!bin) throw new Error('alertmanager is not installed (apt-get install prometheus-alertmanager)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-alertmanager-'));
  const cfg = path.join(dir, 'alertmanager.yml');
  const receiver = o.receiver ?? 'team';
  fs.writeFileSync(
    cfg,
    [
      'route:',
      `  receiver: ${receiver}`,
      `  group_wait: ${o.groupWait ?? '1s'}`,
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      `  - name: ${receiver}`,
      '',
    ].join('\n'),
  );
  let lastError = '';
  // The free port is found by listening and closing: another process may take it in between, so retry.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(
      bin,
      [
        `--config.file=${cfg}`,
        `--storage.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    if (await ready(child, url)) {
      return {
        url,
        host: `127.0.0.1:${port}`,
        pid: child.pid!,
        silence: async (alertname) => {
          const now = Date.now();
          const res = await fetch(`${url}/api/v2/silences`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              matchers: [{ name: 'alertname', value: alertname, isRegex: false, isEqual: true }],
              startsAt: new Date(now - 1000).toISOString(),
              endsAt: new Date(now + 3_600_000).toISOString(),
              createdBy: 'preflight-test',
              comment: 'test',
            }),
            signal: AbortSignal.timeout(5000),
          });
          const body = (await res.json()) as { silenceID?: string };
          if (!res.ok || !body.silenceID) throw new Error(`silence ${alertname}: HTTP ${res.status}`);
          return body.silenceID;
        },
        stop: async () => {
          await stopChild(child, exited, 5000);
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child, exited, 5000);
    lastError = stderr.trim();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`alertmanager did not start: ${lastError}`);
}

/** Up to ~30 s (two busy cores): /-/ready answers 200. */
async function ready(child: ChildProcess, url: string): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const r = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      if (r.ok) return true;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}
