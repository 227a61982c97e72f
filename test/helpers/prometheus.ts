/**
 * A real Prometheus server (Debian's package; scripts/test.sh installs it) for integration tests: a
 * config in a temp dir scraping the given targets every `scrapeInterval`, TSDB in the same temp dir,
 * listening on a free loopback port; stopped by its PID.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBinary, startReadyServer, stopChild } from './child-process.js';

/** The prometheus binary, or undefined when it is not installed. */
export function prometheusBinary(): string | undefined {
  return findBinary('prometheus');
}

/** Why Prometheus tests skip (undefined: they run). On CI a missing binary is a failure, not a skip. */
export function prometheusSkip(): string | undefined {
  return prometheusBinary() === undefined && !process.env['CI']
    ? 'prometheus is not installed (Debian: apt-get install prometheus — scripts/test.sh does it as root; required when CI is set)'
    : undefined;
}

export interface Prometheus {
  /** e.g. http://127.0.0.1:40123 */
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

export interface PrometheusOptions {
  /** host:port targets of one job `target` (metrics path /metrics). */
  targets?: string[];
  /** e.g. '1s'. */
  scrapeInterval?: string;
  /** The scrape job's name (its `job` label); default `target`. */
  job?: string;
  /** A rule file's YAML (`groups: …`), written beside the config and named in `rule_files`. */
  rules?: string;
  /** Rule evaluation interval; default the scrape interval. */
  evaluationInterval?: string;
  /** Alertmanagers (host:port) it sends its alerts to (`alerting: alertmanagers:`). */
  alertmanagers?: string[];
  /** Alert names it does not send to the Alertmanagers (`alert_relabel_configs`, action drop). */
  dropAlerts?: string[];
}

export async function startPrometheus(o: PrometheusOptions = {}): Promise<Prometheus> {
  const bin = prometheusBinary();
  if (!bin) throw new Error('prometheus is not installed (apt-get install prometheus)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-prometheus-'));
  const cfg = path.join(dir, 'prometheus.yml');
  const interval = o.scrapeInterval ?? '1s';
  if (o.rules !== undefined) fs.writeFileSync(path.join(dir, 'rules.yml'), o.rules);
  fs.writeFileSync(
    cfg,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${o.evaluationInterval ?? interval}`,
      ...(o.rules !== undefined ? ['rule_files:', `  - ${JSON.stringify(path.join(dir, 'rules.yml'))}`] : []),
      ...(o.alertmanagers?.length
        ? [
            'alerting:',
            ...(o.dropAlerts?.length
              ? [
                  '  alert_relabel_configs:',
                  '    - source_labels: [alertname]',
                  `      regex: '${o.dropAlerts.join('|')}'`,
                  '      action: drop',
                ]
              : []),
            '  alertmanagers:',
            '    - static_configs:',
            `        - targets: [${o.alertmanagers.map((t) => `'${t}'`).join(', ')}]`,
          ]
        : []),
      'scrape_configs:',
      `  - job_name: ${o.job ?? 'target'}`,
      `    scrape_interval: ${interval}`,
      '    static_configs:',
      `      - targets: [${(o.targets ?? []).map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  let started: Awaited<ReturnType<typeof startReadyServer>>;
  try {
    started = await startReadyServer('prometheus', bin, (port) => [
      `--config.file=${cfg}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ]);
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const { child, exited, url } = started;
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
    stop: async () => {
      await stopChild(child, exited, 5000);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
