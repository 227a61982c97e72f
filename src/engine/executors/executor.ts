/**
 * One interface for every executor (k6 style: one file each). An executor decides *when* requests
 * are sent; the ScenarioRuntime sends them and records what happened.
 */
import type { ScenarioRuntime, RequestOwner } from '../scenario-runtime.js';

export interface Shard {
  index: number;
  count: number;
}

export interface Executor {
  /** Starts issuing at `startNs` (this thread's clock). Resolves when it has stopped issuing and nothing is in flight. */
  run(startNs: number): Promise<void>;
  /** Stops issuing now; requests in flight get `drainMs` to finish, then are cancelled. */
  stop(drainMs: number): void;
  /** Current gauges of this shard: target_rate (per s) or vus. */
  gauges(): Record<string, number>;
  /** Arrivals that were due but never sent (open model). */
  readonly unsent: number;
}

/** Shared end-of-run handling: stop issuing → drain (bounded) → cancel the rest → resolve. */
export abstract class ExecutorBase implements Executor, RequestOwner {
  unsent = 0;
  protected stopped = false;
  private draining = false;
  private drainTimer: NodeJS.Timeout | null = null;
  private resolveDone: (() => void) | null = null;
  private readonly donePromise: Promise<void>;

  constructor(protected readonly rt: ScenarioRuntime) {
    this.donePromise = new Promise((resolve) => (this.resolveDone = resolve));
  }

  abstract run(startNs: number): Promise<void>;
  abstract gauges(): Record<string, number>;
  /** Release timers that issue requests. */
  protected abstract halt(): void;

  protected get done(): Promise<void> {
    return this.donePromise;
  }

  stop(drainMs: number): void {
    if (!this.stopped) {
      this.stopped = true;
      this.halt();
    }
    this.beginDrain(drainMs);
  }

  /** Called by subclasses when they will send nothing more. */
  protected finishIssuing(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.halt();
    this.beginDrain(this.rt.plan.gracefulStopMs);
  }

  private beginDrain(drainMs: number): void {
    if (this.resolveDone === null) return;
    if (this.rt.inFlight === 0) return this.resolve();
    if (this.draining && this.drainTimer !== null && drainMs > 0) return;
    this.draining = true;
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    if (drainMs <= 0) return this.cancelRest();
    this.drainTimer = setTimeout(() => {
      this.drainTimer = null;
      this.cancelRest();
    }, drainMs);
  }

  private cancelRest(): void {
    this.rt.abortAll();
    // Aborted requests usually complete at once (then resolve() already ran from onRequestDone);
    // otherwise wait for them, at most a second.
    if (this.resolveDone === null) return;
    if (this.rt.inFlight === 0) return this.resolve();
    this.drainTimer = setTimeout(() => this.resolve(), 1000);
  }

  onRequestDone(): void {
    if (this.draining && this.rt.inFlight === 0) this.resolve();
    else this.afterRequest();
  }

  /** Hook for executors that react to a free slot. */
  protected afterRequest(): void {}

  private resolve(): void {
    if (this.drainTimer !== null) clearTimeout(this.drainTimer);
    this.drainTimer = null;
    const r = this.resolveDone;
    this.resolveDone = null;
    r?.();
  }
}
