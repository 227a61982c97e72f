/**
 * Preflight's own live figures in Prometheus exposition format (`preflight run --metrics-port`), so a
 * team's dashboard shows the load beside the target. Fed from run()'s `onWindow` / `onProgress` hooks:
 * updated once per merged window on the main thread (never on the threads that send), served by a small
 * node:http server on loopback unless another host is asked for. See docs/monitoring.md.
 *
 * Latency is exported twice, on purpose: gauges of the last window's exact quantiles (from its HDR
 * histogram: what the progress view shows and intervals.ndjson holds), and a coarse cumulative histogram
 * for histogram_quantile() over any range. The histogram's fixed buckets lose the HDR precision (a
 * p99 from it is only as good as the bucket it falls in); the gauges cannot be aggregated over time or
 * across runs. Prometheus remote write is not implemented (scrape only).
 */
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { PreflightError } from '../core/errors.js';
import type { IntervalRecord, Summary } from '../core/results.js';
import hdr from 'hdr-histogram-js';
import type { Histogram } from '../metrics/index.js';
import type { ProgressUpdate } from './progress.js';

/** Upper bounds (seconds) of the coarse latency histogram: 1 ms … 30 s, Prometheus-client-like. */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Longest `--metrics-linger`: the exporter must not keep a finished run's process alive for long. */
export const MAX_LINGER_MS = 10 * 60_000;

export interface LiveMetricsOptions {
  /** TCP port; 0 = any free port (the URL says which). */
  port: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** The plan's name for `preflight_run_info{plan}` (its file). */
  plan: string;
}

/** Loopback addresses (the exporter's default; anything else is said on the terminal). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}

const QUANTILES: Array<[string, 'p50' | 'p90' | 'p99' | 'max']> = [
  ['0.5', 'p50'],
  ['0.9', 'p90'],
  ['0.99', 'p99'],
  ['1', 'max'],
];

/** prom-client's histogram has no bulk add; this one takes a window's bucket counts at once (from HDR). */
class BucketHistogram {
  readonly type = 'histogram';
  private readonly series = new Map<
    string,
    { labels: Record<string, string>; counts: number[]; sum: number; n: number }
  >();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: number[],
  ) {}

  /** Adds a window's histogram (µs values) to the series with these labels. */
  add(labels: Record<string, string>, h: Histogram): void {
    const key = JSON.stringify(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: new Array(this.bounds.length).fill(0), sum: 0, n: 0 }));
    const c = cumulativeCounts(h, this.bounds);
    for (let i = 0; i < c.length; i++) s.counts[i] += c[i];
    s.n += h.totalCount;
    s.sum += (h.mean * h.totalCount) / 1e6;
  }

  /** prom-client's Registry renders what get() returns (the duck-typed contract of its metric classes). */
  async get() {
    const values: Array<{ labels: Record<string, string | number>; value: number; metricName: string }> = [];
    for (const s of this.series.values()) {
      for (let i = 0; i < this.bounds.length; i++)
        values.push({
          labels: { ...s.labels, le: this.bounds[i] },
          value: s.counts[i],
          metricName: `${this.name}_bucket`,
        });
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.n, metricName: `${this.name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: s.labels, value: s.n, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  reset(): void {
    this.series.clear();
  }
}

/**
 * Per bound (seconds): how many of the histogram's values (µs) are ≤ it. A bound inside an HDR bucket
 * counts that whole bucket (HDR buckets are ≤ 0.1 % wide at 3 significant digits).
 */
export function cumulativeCounts(h: Histogram, boundsS: readonly number[]): number[] {
  // The JS (non-WebAssembly) HDR histogram's counts array, which its public type does not show.
  const js = h as unknown as { countsArrayIndex(v: number): number; getCountAtIndex(i: number): number };
  const out = new Array<number>(boundsS.length).fill(0);
  if (h.totalCount === 0) return out;
  const boundIdx = boundsS.map((b) => js.countsArrayIndex(Math.max(1, Math.round(b * 1e6))));
  const last = js.countsArrayIndex(h.maxValue);
  let b = 0;
  let cum = 0;
  for (let i = 0; i <= last && b < boundIdx.length; i++) {
    while (b < boundIdx.length && boundIdx[b] < i) out[b++] = cum;
    cum += js.getCountAtIndex(i);
  }
  while (b < boundIdx.length) out[b++] = cum;
  return out;
}

/**
 * A window's encoded HDR histogram, as encoded: metrics/decodeHistogram also re-bases it onto the run's
 * layout (7× the cost, ~0.7 ms), which counting and quantiles do not need.
 */
const decode = (encoded: string): Histogram => hdr.decodeFromCompressedBase64(encoded, 32, false);

const g = (name: string, help: string, registry: Registry) => new Gauge({ name, help, registers: [registry] });

/** The exporter: a prom-client registry, updated per merged window, and the HTTP server that serves it. */
export class LiveMetrics {
  readonly registry = new Registry();
  private server: Server | null = null;
  private address = '';
  private cpuPrev = process.cpuUsage();
  private cpuPrevT = performance.now();
  /** Scenario (and group) series of the last window, by JSON key: a series absent from a window has ended. */
  private active = new Map<string, { scenario: string; group: string }>();
  /** What updates cost (ms): count, total, max — said in the report and exported. */
  readonly cost = { updates: 0, totalMs: 0, maxMs: 0 };

  private readonly runInfo: Gauge<'plan' | 'status'>;
  private readonly progress: Gauge;
  private readonly requests: Counter<'scenario' | 'group' | 'outcome'>;
  private readonly errors: Counter<'scenario' | 'group' | 'class'>;
  private readonly late: Counter<'scenario' | 'group'>;
  private readonly unsent: Gauge<'scenario'>;
  private readonly cancelled: Gauge<'scenario'>;
  private readonly inFlight: Gauge<'scenario'>;
  private readonly targetRate: Gauge<'scenario'>;
  private readonly achieved: Gauge<'scenario' | 'group'>;
  private readonly vus: Gauge<'scenario'>;
  private readonly latency: Gauge<'scenario' | 'group' | 'quantile'>;
  private readonly duration: BucketHistogram;
  private readonly lag: Gauge<'scenario' | 'quantile'>;
  private readonly cpu: Gauge;
  private readonly windows: Counter;
  private readonly updateSeconds: Counter;
  private readonly updateMax: Gauge;

  constructor(private readonly plan: string) {
    const registers = [this.registry];
    const g = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers });
    const c = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers });
    this.runInfo = g(
      'preflight_run_info',
      'The run: its plan and status (running, completed, interrupted, aborted); always 1.',
      ['plan', 'status'],
    );
    this.progress = g(
      'preflight_run_progress_ratio',
      'Elapsed share of the planned duration (0–1; absent when count-bounded).',
    );
    const sg: Array<'scenario' | 'group'> = ['scenario', 'group'];
    this.requests = c(
      'preflight_requests_total',
      'Requests completed, by outcome (ok, error). Series with a group label break down the scenario series without one.',
      [...sg, 'outcome'],
    );
    this.errors = c('preflight_errors_total', 'Failed requests by error class (http_5xx, timeout, refused, …).', [
      ...sg,
      'class',
    ]);
    this.late = c('preflight_late_requests_total', 'Requests sent more than 10 ms after their intended start.', sg);
    this.unsent = g('preflight_unsent_requests', 'Arrivals due but never sent (set when the run ends).', ['scenario']);
    this.cancelled = g(
      'preflight_cancelled_requests',
      'Requests still in flight at the stop (set when the run ends).',
      ['scenario'],
    );
    this.inFlight = g('preflight_in_flight_requests', 'Requests in flight at the end of the last window.', [
      'scenario',
    ]);
    this.targetRate = g(
      'preflight_target_rate',
      'Scheduled arrival rate in the last window, requests/s (open workloads).',
      ['scenario'],
    );
    this.achieved = g('preflight_achieved_rate', 'Completed requests/s in the last window.', sg);
    this.vus = g('preflight_vus', 'Virtual users at the end of the last window (closed workloads).', ['scenario']);
    this.latency = g(
      'preflight_window_latency_seconds',
      'Latency (completion − intended start) of the last window: exact quantiles from its HDR histogram (1 = max); absent for a window without completions.',
      [...sg, 'quantile'],
    );
    this.duration = new BucketHistogram(
      'preflight_request_duration_seconds',
      'Latency (completion − intended start), coarse buckets from the windows’ HDR histograms; use the window gauges for exact quantiles.',
      LATENCY_BUCKETS_S,
    );
    this.registry.registerMetric(this.duration as unknown as Metric);
    this.lag = g(
      'preflight_dispatch_lag_seconds',
      'Actual send − intended start in the last window (generator health; 1 = max).',
      ['scenario', 'quantile'],
    );
    this.cpu = g(
      'preflight_generator_cpu_percent',
      'Preflight process CPU (all threads) over the last window, % of one core.',
    );
    this.windows = c('preflight_windows_total', 'Merged windows so far.');
    this.updateSeconds = c(
      'preflight_metrics_update_seconds_total',
      'Time spent updating these metrics (main thread).',
    );
    this.updateMax = g('preflight_metrics_update_max_seconds', 'Longest single update of these metrics.');
    this.runInfo.set({ plan, status: 'running' }, 1);
  }

  /** Starts the HTTP server. Throws PreflightError E_ARGS for a bad host or a port in use. */
  static async start(o: LiveMetricsOptions): Promise<LiveMetrics> {
    const host = o.host ?? '127.0.0.1';
    if (host !== 'localhost' && isIP(host) === 0)
      throw new PreflightError('E_ARGS', `--metrics-host must be an IP address or localhost, got "${host}"`);
    if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)
      throw new PreflightError('E_ARGS', `--metrics-port must be an integer 0–65535, got "${o.port}"`);
    const m = new LiveMetrics(o.plan);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: Preflight serves /metrics\n');
        return;
      }
      m.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': m.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`),
      );
    });
    server.keepAliveTimeout = 5_000;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new PreflightError(
        'E_ARGS',
        err.code === 'EADDRINUSE'
          ? `--metrics-port ${o.port} on ${host} is already in use (0 picks a free port)`
          : `cannot serve metrics on ${host}:${o.port}: ${err.message}`,
        { cause: e },
      );
    }
    // Serving alone never keeps the process alive (the run, or the linger's timer, does).
    server.unref();
    const a = server.address();
    const port = typeof a === 'object' && a ? a.port : o.port;
    m.server = server;
    m.address = `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`;
    return m;
  }

  /** The scrape URL, e.g. http://127.0.0.1:9464/metrics */
  get url(): string {
    return this.address;
  }

  /** One merged window's records (run()'s onWindow): counters grow, last-window gauges are replaced. */
  onWindow(records: readonly IntervalRecord[]): void {
    const t0 = performance.now();
    const active = new Map<string, { scenario: string; group: string }>();
    for (const r of records) {
      const l = { scenario: r.scenario, group: r.group ?? '' };
      active.set(JSON.stringify(l), l);
      this.requests.inc({ ...l, outcome: 'ok' }, r.ok);
      this.requests.inc({ ...l, outcome: 'error' }, r.requests - r.ok);
      for (const cls in r.errors) this.errors.inc({ ...l, class: cls }, r.errors[cls]);
      this.late.inc(l, r.late);
      this.achieved.set(l, r.throughput);
      for (const [q, k] of QUANTILES) {
        if (r.latency_ms) this.latency.set({ ...l, quantile: q }, r.latency_ms[k] / 1000);
        else this.latency.remove({ ...l, quantile: q }); // no completions: a gap, not a stale figure
      }
      if (r.hdr.latency && r.requests > 0) this.duration.add(l, decode(r.hdr.latency));
      if (r.group !== undefined) continue;
      const s = { scenario: r.scenario };
      this.inFlight.set(s, r.in_flight);
      if (r.target_rate !== undefined) this.targetRate.set(s, r.target_rate);
      if (r.vus !== undefined) this.vus.set(s, r.vus);
      const lag = r.hdr.dispatch_lag ? decode(r.hdr.dispatch_lag) : null;
      if (lag && lag.totalCount > 0) {
        this.lag.set({ ...s, quantile: '0.99' }, lag.getValueAtPercentile(99) / 1e6);
        this.lag.set({ ...s, quantile: '1' }, lag.maxValue / 1e6);
      }
    }
    // A scenario that has ended sends no more windows: its last-window gauges say so rather than keep the last figures.
    for (const [k, l] of this.active) {
      if (active.has(k)) continue;
      this.achieved.set(l, 0);
      for (const [q] of QUANTILES) this.latency.remove({ ...l, quantile: q });
      if (l.group !== '') continue;
      const s = { scenario: l.scenario };
      this.inFlight.set(s, 0);
      this.targetRate.remove(s);
      this.vus.remove(s);
      for (const q of ['0.99', '1']) this.lag.remove({ ...s, quantile: q });
    }
    this.active = active;
    // Whole-process CPU (worker threads included) over the time since the last window.
    const now = performance.now();
    const cpu = process.cpuUsage(this.cpuPrev);
    if (now - this.cpuPrevT > 100) {
      this.cpu.set(Math.round(((cpu.user + cpu.system) / 1000 / (now - this.cpuPrevT)) * 10000) / 100);
      this.cpuPrev = process.cpuUsage();
      this.cpuPrevT = now;
    }
    this.windows.inc();
    const ms = performance.now() - t0;
    this.cost.updates++;
    this.cost.totalMs += ms;
    this.cost.maxMs = Math.max(this.cost.maxMs, ms);
    this.updateSeconds.inc(ms / 1000);
    this.updateMax.set(this.cost.maxMs / 1000);
  }

  /** run()'s onProgress: the planned share done. */
  onProgress(p: ProgressUpdate): void {
    if (p.plannedS) this.progress.set(Math.min(1, p.elapsedS / p.plannedS));
  }

  /** The run's end: its status, exit code, and what only the summary knows (unsent, cancelled). */
  finish(summary: Summary, exitCode: number): void {
    this.runInfo.reset();
    this.runInfo.set({ plan: this.plan, status: summary.status }, 1);
    // Created only now: a label-less gauge reads 0 from its creation, and 0 would say "passed".
    const name = 'preflight_run_exit_code';
    const code =
      (this.registry.getSingleMetric(name) as Gauge | undefined) ??
      g(name, "The run's exit code (exported once the run has ended).", this.registry);
    code.set(exitCode);
    if (summary.status === 'completed') this.progress.set(1);
    for (const [name, s] of Object.entries(summary.scenarios)) {
      this.unsent.set({ scenario: name }, s.unsent);
      this.cancelled.set({ scenario: name }, s.cancelled);
    }
  }

  /** Keeps serving for `ms` (bounded) so a last scrape sees the final figures; `signal` ends it early. */
  async linger(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.min(ms, MAX_LINGER_MS));
      function done() {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Stops serving (idempotent). */
  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    await new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    });
  }
}
