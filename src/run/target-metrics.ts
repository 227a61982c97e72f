/**
 * The run's hooks into src/monitor (plan `monitor:`): check the sources before the load, read while
 * it runs, and after it write target-metrics.ndjson and the summary's target_metrics and bottleneck.
 */
import type { FaultWindow, IntervalRecord, Summary } from '../core/results.js';
import { targetAgent } from '../engine/index.js';
import { type AlertCause, bottleneck, Monitor } from '../monitor/index.js';
import type { Plan } from '../plan/types.js';
import type { ResultsWriter } from './results-writer.js';

export class TargetMetrics {
  /** Total completed requests per second, per window (all scenarios; groups are inside them). */
  private readonly throughput = new Map<number, number>();
  private loadStartMs: number | undefined;

  private constructor(
    private readonly monitor: Monitor,
    private readonly close: () => Promise<void>,
  ) {}

  /** undefined when the plan has no monitor; throws (exit 5 / exit 2) as Monitor.start does. */
  static async start(plan: Plan): Promise<TargetMetrics | undefined> {
    if (!plan.monitor) return undefined;
    const tls = plan.monitor.tls;
    const m = plan.monitor;
    const https = [
      ...m.scrape,
      ...(m.prometheus ? [m.prometheus] : []),
      ...(m.alertmanager ? [m.alertmanager] : []),
    ].some((s) => s.url.startsWith('https:'));
    const agent = https ? targetAgent(tls) : undefined;
    try {
      const monitor = await Monitor.start(plan.monitor, {
        windowMs: plan.options.intervalMs,
        ...(agent ? { dispatcher: agent } : {}),
      });
      return new TargetMetrics(monitor, async () => {
        await agent?.close();
      });
    } catch (e) {
      await agent?.close();
      throw e;
    }
  }

  loadStarted(epochMs: number): void {
    this.loadStartMs = epochMs;
    this.monitor.loadStarted(epochMs);
  }

  window(records: readonly IntervalRecord[]): void {
    for (const r of records)
      if (r.group === undefined) this.throughput.set(r.t, (this.throughput.get(r.t) ?? 0) + r.throughput);
  }

  /** Reads what is left, writes target-metrics.ndjson, fills the summary; returns warnings. */
  async finish(
    endEpochMs: number,
    writer: ResultsWriter,
    summary: Summary,
    alerts: { faultWindows?: readonly FaultWindow[]; signal?: AbortSignal; log?: (line: string) => void } = {},
  ): Promise<string[]> {
    try {
      const r = await this.monitor.finish(endEpochMs);
      writer.writeNdjson('target-metrics.ndjson', r.records);
      summary.target_metrics = r.target_metrics;
      const b = bottleneck(r.records, this.throughput);
      if (b) summary.bottleneck = b;
      // Alert checks last: they wait (≤ 10 min) for alerts to resolve, and the scraping has stopped.
      if (this.monitor.plan.alerts.length > 0 && this.loadStartMs !== undefined) {
        const loadStartMs = this.loadStartMs;
        const causes = new Map<string, AlertCause>([
          ['load', { start_s: 0, end_s: Math.round(endEpochMs - loadStartMs) / 1000 }],
        ]);
        for (const w of alerts.faultWindows ?? []) causes.set(w.name, { start_s: w.started_s, end_s: w.ended_s });
        const checks = await this.monitor.alerts({
          loadStartMs,
          loadEndMs: endEpochMs,
          marginMs: this.monitor.plan.marginMs,
          causes,
          ...(alerts.signal ? { signal: alerts.signal } : {}),
          ...(alerts.log ? { log: alerts.log } : {}),
        });
        if (checks === undefined) r.warnings.push('monitor: alert checks skipped, Prometheus was unreachable');
        else if (checks.length > 0) summary.alerts = checks;
      }
      return r.warnings;
    } finally {
      this.monitor.close(); // stops the Alertmanager polls, if the alert checks did not
      await this.close();
    }
  }

  async abandon(): Promise<void> {
    this.monitor.close();
    await this.close();
  }
}
