/**
 * A real Prometheus (Debian's package; scripts/test.sh installs it as root) for integration tests: a config
 * and a TSDB in a temp dir, loopback listen address on a free port, a short scrape interval; stopped by PID.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './haproxy.js';

export { freePort };

/** The prometheus binary, or undefined when it is not installed. */
export function prometheusBinary(): string | undefined {
  for (const d of [...(process.env['PATH'] ?? '').split(path.delimiter), '/usr/bin', '/usr/local/bin']) {
    if (!d) continue;
    const f = path.join(d, 'prometheus');
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface Prometheus {
  url: string;
  pid: number;
  /** An instant query's result vector (`time` in unix seconds; default now). */
  query(q: string, time?: number): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** A range query's matrix. */
  queryRange(
    q: string,
    start: number,
    end: number,
    stepS: number,
  ): Promise<Array<{ metric: Record<string, string>; values: Array<[number, string]> }>>;
  /** Stops Prometheus by its PID (SIGTERM, then SIGKILL) and removes its temp dir. */
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (host:port) every `scrapeS` seconds; resolves once it is ready. */
export async function startPrometheus(targets: string[], scrapeS = 1): Promise<Prometheus> {
  const bin = prometheusBinary();
  if (!bin) throw new Error('prometheus is not installed');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    config,
    [
      `global: { scrape_interval: ${scrapeS}s, evaluation_interval: ${scrapeS}s, scrape_timeout: ${scrapeS}s }`,
      'scrape_configs:',
      '  - job_name: preflight',
      `    static_configs: [ { targets: [ ${targets.map((t) => JSON.stringify(t)).join(', ')} ] } ]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // Ready: /-/ready answers 200 (bounded wait).
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited at start: ${stderr}`);
    }
    const ok = await fetch(`${url}/-/ready`).then(
      (r) => r.text().then(() => r.ok),
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const api = async (p: string, params: Record<string, string>) => {
    const res = await fetch(`${url}${p}?${new URLSearchParams(params)}`);
    const body = (await res.json()) as { status: string; data?: { result: unknown }; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${p} ${JSON.stringify(params)}: ${body.error}`);
    return body.data!.result;
  };
  return {
    url,
    pid: child.pid!,
    query: async (q, time) =>
      (await api('/api/v1/query', { query: q, ...(time !== undefined ? { time: String(time) } : {}) })) as Array<{
        metric: Record<string, string>;
        value: [number, string];
      }>,
    queryRange: async (q, start, end, stepS) =>
      (await api('/api/v1/query_range', {
        query: q,
        start: String(start),
        end: String(end),
        step: String(stepS),
      })) as Array<{ metric: Record<string, string>; values: Array<[number, string]> }>,
    stop,
  };
}
