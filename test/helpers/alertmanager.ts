/**
 * A real Alertmanager (Debian's `prometheus-alertmanager`; scripts/test.sh installs it) for
 * integration tests: one route to a receiver with no notifier (nothing leaves the machine), a short
 * group_wait, no cluster gossip (`--cluster.listen-address=`), storage in a temp dir, listening on a
 * free loopback port; stopped by its PID.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBinary, startReadyServer, stopChild } from './child-process.js';

/** The alertmanager binary (Debian names it prometheus-alertmanager), or undefined when not installed. */
export function alertmanagerBinary(): string | undefined {
  return findBinary('prometheus-alertmanager') ?? findBinary('alertmanager');
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
  let started: Awaited<ReturnType<typeof startReadyServer>>;
  try {
    started = await startReadyServer('alertmanager', bin, (port) => [
      `--config.file=${cfg}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ]);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const { child, exited, url, port } = started;
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
