/**
 * Alertmanager beside the alert checks (plan `monitor.alertmanager`, docs/monitoring.md#alertmanager):
 * Prometheus' ALERTS series says when a rule fired; Alertmanager says whether the alert reached it,
 * in which state (active, or suppressed by a silence or an inhibition) and for which receivers — that
 * is, whether anyone would be notified. Its v2 API lists only the alerts active now (a resolved alert
 * drops out), so it is polled during the load and the wait after it: one request at a time, each
 * with the monitor's deadline, asynchronous on the main thread (never the sending threads).
 */
import type { AlertmanagerView } from '../core/results.js';
import type { MonitorSource } from '../plan/monitor.js';
import { type HttpContext, SourceError, getJson } from './sources.js';

/** One alert of GET /api/v2/alerts (the fields read). */
interface AmAlert {
  labels?: Record<string, string>;
  startsAt?: string;
  fingerprint?: string;
  receivers?: Array<{ name?: string }>;
  status?: { state?: string; silencedBy?: string[]; inhibitedBy?: string[] };
}

interface Seen {
  seenMs: number;
  startsAtMs: number | null;
  state: AlertmanagerView['state'];
  states: string[];
  silencedBy: Set<string>;
  inhibitedBy: Set<string>;
  receivers: Set<string>;
  wouldNotify: boolean;
}

const STATES = new Set(['active', 'suppressed', 'unprocessed']);

export class AlertmanagerWatch {
  private readonly seen = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  private lastFailure = '';

  constructor(
    readonly src: MonitorSource,
    private readonly ctx: HttpContext,
    private readonly names: ReadonlySet<string>,
    readonly pollMs = 1000,
  ) {}

  /** Is it there? GET /api/v2/status; a SourceError when not. */
  async check(): Promise<void> {
    await getJson(`${this.src.url}/api/v2/status`, this.src, this.ctx);
  }

  /** Reads the expected alerts now (failures counted, never thrown). */
  async poll(): Promise<void> {
    const sent = Date.now();
    let alerts: AmAlert[];
    try {
      const body = await getJson(
        `${this.src.url}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`,
        this.src,
        this.ctx,
      );
      if (!Array.isArray(body)) throw new SourceError(`${this.src.url}/api/v2/alerts: not a list of alerts`);
      alerts = body as AmAlert[];
    } catch (e) {
      this.failures++;
      this.lastFailure = e instanceof Error ? e.message : String(e);
      return;
    }
    const at = (sent + Date.now()) / 2;
    for (const a of alerts) {
      const name = a.labels?.['alertname'];
      if (name === undefined || !this.names.has(name)) continue;
      const state = STATES.has(a.status?.state ?? '') ? (a.status!.state as AlertmanagerView['state']) : null;
      let s = this.seen.get(name);
      if (!s) {
        const starts = a.startsAt ? Date.parse(a.startsAt) : Number.NaN;
        s = {
          seenMs: at,
          startsAtMs: Number.isFinite(starts) ? starts : null,
          state,
          states: [],
          silencedBy: new Set(),
          inhibitedBy: new Set(),
          receivers: new Set(),
          wouldNotify: false,
        };
        this.seen.set(name, s);
      }
      s.state = state;
      if (state && !s.states.includes(state)) s.states.push(state);
      for (const x of a.status?.silencedBy ?? []) s.silencedBy.add(x);
      for (const x of a.status?.inhibitedBy ?? []) s.inhibitedBy.add(x);
      const receivers = (a.receivers ?? []).map((r) => r.name).filter((r): r is string => !!r);
      for (const r of receivers) s.receivers.add(r);
      if (state === 'active' && receivers.length > 0) s.wouldNotify = true;
    }
  }

  /** Polls every pollMs from now until stop(); a poll still running when the next is due skips that one. */
  start(): void {
    const tick = () => {
      if (this.stopped) return;
      if (!this.inFlight)
        this.inFlight = this.poll().finally(() => {
          this.inFlight = undefined;
        });
      this.timer = setTimeout(tick, this.pollMs);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  has(name: string): boolean {
    return this.seen.has(name);
  }

  /** What was seen of `name`; times from `loadStartMs`, `seen_after_s` from the cause's start (s). */
  view(name: string, loadStartMs: number, causeStartS: number | null): AlertmanagerView {
    const s = this.seen.get(name);
    const rel = (ms: number) => Math.round(ms - loadStartMs) / 1000;
    const seen = s ? rel(s.seenMs) : null;
    return {
      reached: s !== undefined,
      seen_s: seen,
      seen_after_s: seen !== null && causeStartS !== null ? Math.round((seen - causeStartS) * 1000) / 1000 : null,
      starts_at_s: s?.startsAtMs != null ? rel(s.startsAtMs) : null,
      state: s?.state ?? null,
      states: s?.states ?? [],
      silenced_by: [...(s?.silencedBy ?? [])],
      inhibited_by: [...(s?.inhibitedBy ?? [])],
      receivers: [...(s?.receivers ?? [])],
      would_notify: s?.wouldNotify ?? false,
      poll_s: this.pollMs / 1000,
      failed_polls: this.failures,
    };
  }

  /** A warning when polls failed. */
  warning(): string | undefined {
    return this.failures > 0
      ? `monitor: ${this.failures} Alertmanager poll(s) failed (alerts in those moments unseen): ${this.lastFailure}`
      : undefined;
  }
}
