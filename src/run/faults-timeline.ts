/**
 * The plan's fault timeline during a run (plan `faults:`, docs/faults.md). On the main thread, with
 * timers — never on the threads that send: at run start a fault injector (the fault proxy) opens in
 * front of the target through a factory, the load is aimed at it (Host header unchanged), and each
 * entry happens at its time: a fault is added at `at` and removed at `at + for`; an action (command,
 * HTTP call, signal) runs at `at` (its `undo` at `at + for`), bounded by its timeout, and its outcome
 * is recorded. Every event goes to faults.ndjson as it happens and into summary.faults. Whatever ends
 * the run (its end, an early stop, Ctrl-C, a crashed worker), `stop` removes every fault and `close`
 * closes the proxy.
 */
import { readFile } from 'node:fs/promises';
import type { FaultInjector } from '../core/faults.js';
import type { FaultsSummary, FaultWindow, TimelineEvent } from '../core/results.js';
import type { Plan, TimelineAction, TimelineEntry } from '../plan/index.js';
import { redact } from '../plan/index.js';
import { runAction } from '../comparison/index.js';
import { originHostPort, startFaultProxy } from '../faults/index.js';

/** Opens the fault proxy in front of `target` (an origin, e.g. http://127.0.0.1:8000); `http`: with HTTP faults; `seed`: the plan's. */
export type FaultInjectorFactory = (target: string, o: { http: boolean; seed: number }) => Promise<FaultInjector>;

/** The fault proxy of src/faults in front of the target. */
const defaultFactory: FaultInjectorFactory = (target, o) =>
  startFaultProxy({ upstream: originHostPort(target), http: o.http, seed: o.seed });

/** How long the end of a run waits for actions still running after an interruption (they are bounded anyway). */
const INTERRUPTED_ACTION_WAIT_MS = 2000;

interface ActionOutcome {
  ok: boolean;
  detail: string;
  durationMs: number;
  exitCode?: number | null;
  status?: number;
}

/** A signal to a local process (pid, or a pid file read now). Never throws. */
async function sendSignal(a: Extract<TimelineAction, { kind: 'signal' }>): Promise<ActionOutcome> {
  const started = performance.now();
  const took = () => Math.round(performance.now() - started);
  let pid = a.pid;
  if (pid === undefined) {
    try {
      const text = (await readFile(a.pidFile!, 'utf8')).trim();
      pid = /^\d+$/.test(text) ? Number(text) : undefined;
      if (pid === undefined || pid < 2)
        return {
          ok: false,
          detail: `The pid file holds no process id (${JSON.stringify(text.slice(0, 40))}).`,
          durationMs: took(),
        };
    } catch (e) {
      return {
        ok: false,
        detail: `The pid file could not be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}.`,
        durationMs: took(),
      };
    }
  }
  try {
    process.kill(pid, a.signal as NodeJS.Signals);
    return { ok: true, detail: `${a.signal} sent to process ${pid}.`, durationMs: took() };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      ok: false,
      detail: `${a.signal} to process ${pid} failed: ${code === 'ESRCH' ? 'no such process' : code === 'EPERM' ? 'not permitted' : (code ?? String(e))}.`,
      durationMs: took(),
    };
  }
}

function runTimelineAction(a: TimelineAction, secrets: readonly string[]): Promise<ActionOutcome> {
  return a.kind === 'signal' ? sendSignal(a) : runAction(a, 0, secrets);
}

function typeOf(e: TimelineEntry, undo = false): string {
  if (e.kind === 'fault') {
    return e.fault.fault.type;
  }
  return (undo ? e.undo!.kind : e.action.kind) as string;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * A plan whose requests to `target` go to `proxyUrl` instead, with the target's Host header: the
 * plan's target and every scenario that overrides its URL with the same origin.
 */
export function aimAtProxy(plan: Plan, target: string, proxyUrl: string): Plan {
  const swap = (u: string): string | undefined => {
    try {
      const x = new URL(u);
      if (x.origin !== target) return undefined;
      return proxyUrl.replace(/\/+$/, '') + (x.pathname === '/' ? '' : x.pathname.replace(/\/+$/, ''));
    } catch {
      return undefined;
    }
  };
  const host = new URL(target).host;
  // A Host the plan sets (a virtual host behind an ingress) stays; plans built in code may spell it `Host`.
  const hasHost = (h: Record<string, string> | undefined) =>
    h !== undefined && Object.keys(h).some((k) => k.toLowerCase() === 'host');
  const withHost = (h: Record<string, string> | undefined) => (hasHost(h) ? { ...h } : { ...(h ?? {}), host });
  const out: Plan = { ...plan };
  const t = swap(plan.target.url);
  if (t) out.target = { ...plan.target, url: t, headers: withHost(plan.target.headers) };
  out.scenarios = plan.scenarios.map((s) => {
    const u = s.target?.url ? swap(s.target.url) : undefined;
    if (u) return { ...s, target: { ...s.target, url: u, headers: withHost(s.target?.headers) } };
    // A scenario on another target merges the plan's headers: not the proxied target's Host.
    if (s.target?.url && t && !hasHost(s.target.headers) && !hasHost(plan.target.headers))
      return {
        ...s,
        target: { ...s.target, headers: { ...(s.target.headers ?? {}), host: new URL(s.target.url).host } },
      };
    return s;
  });
  return out;
}

/** No proxy (a timeline of actions only): nothing to add, nothing to close. */
function noProxy(url: string): FaultInjector & { none: true } {
  return {
    none: true,
    url,
    add: () => {
      throw new Error('no fault proxy in this run');
    },
    remove: () => undefined,
    reset: () => undefined,
    counts: () => ({ connections: 0, requests: 0 }),
    close: () => Promise.resolve(),
  };
}

/** The timeline of one run. */
export class FaultTimeline {
  readonly events: TimelineEvent[] = [];
  private readonly windows: FaultWindow[];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Entry index → the injector's id of its active fault. */
  private readonly active = new Map<number, string>();
  private readonly running = new Set<Promise<void>>();
  private t0 = NaN;
  private stopped = false;
  private closed = false;
  private sink: ((e: TimelineEvent) => void) | null = null;
  private log: ((line: string) => void) | undefined;

  private constructor(
    readonly plan: Plan,
    readonly proxied: Plan,
    private readonly injector: FaultInjector,
  ) {
    this.windows = plan
      .faults!.timeline.filter((e) => e.kind === 'fault' || e.forMs !== undefined)
      .map((e) => ({
        name: e.name,
        kind: e.kind,
        type: typeOf(e),
        at_s: e.atMs / 1000,
        end_s: (e.atMs + (e.forMs ?? 0)) / 1000,
        started_s: null,
        ended_s: null,
      }));
  }

  /**
   * Opens the injector (the plan has `faults:`) and the plan aimed at it; null without `faults:`.
   * A timeline of actions only needs no proxy: the load goes straight to the target.
   */
  static async open(plan: Plan, factory?: FaultInjectorFactory): Promise<FaultTimeline | null> {
    if (!plan.faults) return null;
    if (!plan.faults.timeline.some((e) => e.kind === 'fault'))
      return new FaultTimeline(plan, plan, noProxy(plan.faults.target));
    const http = plan.faults.timeline.some((e) => e.kind === 'fault' && e.fault.layer === 'http');
    const injector = await (factory ?? defaultFactory)(plan.faults.target, { http, seed: plan.options.seed });
    return new FaultTimeline(plan, aimAtProxy(plan, plan.faults.target, injector.url), injector);
  }

  /** Where events go as they happen (faults.ndjson), and an optional log line per event. */
  attach(sink: (e: TimelineEvent) => void, log?: (line: string) => void): void {
    this.sink = sink;
    this.log = log;
  }

  private now(): number {
    return r3((performance.now() - this.t0) / 1000);
  }

  private emit(e: TimelineEvent): void {
    const redacted = { ...e, ...(e.detail !== undefined ? { detail: redact(e.detail, this.plan.secrets) } : {}) };
    this.events.push(redacted);
    this.sink?.(redacted);
    if (this.log) {
      const e2 = redacted;
      const what =
        e2.event === 'fault_on'
          ? e2.ok === false
            ? `fault NOT applied: ${e2.name} (${e2.type}) — ${e2.detail ?? ''}`
            : `fault on: ${e2.name} (${e2.type})`
          : e2.event === 'fault_off'
            ? `fault off: ${e2.name}${e2.reason ? ` (${e2.reason})` : ''}`
            : e2.event === 'action_start'
              ? `${e2.undo ? 'undo' : 'action'} started: ${e2.name} (${e2.type})`
              : `${e2.undo ? 'undo' : 'action'} ${e2.ok ? 'done' : 'FAILED'}: ${e2.name} — ${e2.detail ?? ''}`;
      this.log(`timeline ${e2.t_s} s: ${what}`);
    }
  }

  private window(name: string): FaultWindow | undefined {
    return this.windows.find((w) => w.name === name);
  }

  /** Load started at performance.now() = t0PerfMs: schedules every entry. */
  start(t0PerfMs: number): void {
    if (this.stopped) return;
    this.t0 = t0PerfMs;
    const at = (ms: number, f: () => void) => {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          if (!this.stopped) f();
        },
        Math.max(0, t0PerfMs + ms - performance.now()),
      );
      this.timers.add(timer);
    };
    this.plan.faults!.timeline.forEach((e, i) => {
      if (e.kind === 'fault') {
        at(e.atMs, () => this.faultOn(i, e));
        at(e.atMs + e.forMs, () => this.faultOff(i, e));
      } else {
        at(e.atMs, () => this.act(e, e.action, false));
        if (e.forMs !== undefined) at(e.atMs + e.forMs, () => this.windowEnd(e));
        if (e.undo && e.forMs !== undefined) {
          const undo = e.undo;
          at(e.atMs + e.forMs, () => this.act(e, undo, true));
        }
      }
    });
  }

  private faultOn(i: number, e: Extract<TimelineEntry, { kind: 'fault' }>): void {
    try {
      this.active.set(i, this.injector.add(e.fault));
      const w = this.window(e.name);
      if (w) w.started_s = this.now();
      this.emit({ t_s: this.now(), event: 'fault_on', name: e.name, type: typeOf(e) });
    } catch (err) {
      this.emit({
        t_s: this.now(),
        event: 'fault_on',
        name: e.name,
        type: typeOf(e),
        ok: false,
        detail: `the proxy refused the fault: ${(err as Error).message}`,
      });
    }
  }

  private faultOff(i: number, e: Extract<TimelineEntry, { kind: 'fault' }>, reason?: string): void {
    const id = this.active.get(i);
    if (id === undefined) return;
    this.active.delete(i);
    try {
      this.injector.remove(id);
    } catch {
      // already gone (the proxy closed): nothing is applied any more
    }
    const w = this.window(e.name);
    if (w) w.ended_s = this.now();
    this.emit({ t_s: this.now(), event: 'fault_off', name: e.name, type: typeOf(e), ...(reason ? { reason } : {}) });
  }

  private windowEnd(e: TimelineEntry): void {
    const w = this.window(e.name);
    if (w && w.started_s !== null) w.ended_s = this.now();
  }

  private act(e: Extract<TimelineEntry, { kind: 'action' }>, a: TimelineAction, undo: boolean): void {
    const type = a.kind;
    this.emit({ t_s: this.now(), event: 'action_start', name: e.name, type, ...(undo ? { undo } : {}) });
    const w = !undo ? this.window(e.name) : undefined;
    if (w) w.started_s = this.now();
    const p = runTimelineAction(a, this.plan.secrets).then((r) => {
      this.emit({
        t_s: this.now(),
        event: 'action_end',
        name: e.name,
        type,
        ...(undo ? { undo } : {}),
        ok: r.ok,
        detail: r.detail,
        duration_ms: r.durationMs,
        ...(r.exitCode !== undefined ? { exit_code: r.exitCode } : {}),
        ...(r.status !== undefined ? { status: r.status } : {}),
      });
    });
    const tracked = p.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /**
   * The load ended (or was stopped): nothing more starts, every active fault is removed at once,
   * and actions still running are waited for — bounded by their timeouts, or briefly when the run
   * was interrupted (they go on being bounded by their own timeouts).
   */
  async stop(interrupted: boolean): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      const reason = interrupted ? 'the run was interrupted' : 'the run ended';
      this.plan.faults!.timeline.forEach((e, i) => {
        if (e.kind === 'fault') this.faultOff(i, e, reason);
      });
      try {
        this.injector.reset();
      } catch {
        // closed already
      }
    }
    if (this.running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const all: Promise<unknown>[] = [Promise.all([...this.running])];
      if (interrupted)
        all.push(
          new Promise<void>((res) => {
            timer = setTimeout(res, INTERRUPTED_ACTION_WAIT_MS);
          }),
        );
      await Promise.race(all);
      if (timer) clearTimeout(timer);
    }
  }

  /** Removes every fault and closes the proxy (idempotent; never throws). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    try {
      await this.injector.close();
    } catch {
      // a proxy that fails to close has nothing more to undo here
    }
  }

  /** What summary.json holds: windows as they happened, every event, the proxy's counts. */
  /**
   * The summary is being written: later events (an action that outlives an interrupted run's wait)
   * stay out of faults.ndjson too, so the file and summary.faults agree. They are still logged.
   */
  seal(): void {
    this.sink = null;
  }

  summary(): FaultsSummary {
    let proxy: FaultsSummary['proxy'];
    try {
      proxy = 'none' in this.injector ? undefined : this.injector.counts();
    } catch {
      proxy = undefined;
    }
    return {
      target: this.plan.faults!.target,
      windows: this.windows.map((w) => ({ ...w })),
      events: [...this.events],
      ...(proxy ? { proxy } : {}),
    };
  }

  /** Warnings for the summary: failed actions, faults the proxy refused. */
  warnings(): string[] {
    return this.events
      .filter((e) => e.ok === false)
      .map((e) =>
        e.event === 'action_end'
          ? `timeline: the ${e.undo ? 'undo ' : ''}action of \`${e.name}\` failed at ${e.t_s}s: ${e.detail ?? ''}`
          : `timeline: fault \`${e.name}\` was not applied: ${e.detail ?? ''}`,
      );
  }
}
