/**
 * Fault injection state: extra latency and jitter, injected errors, periodic stalls, memory leaks.
 * Shared by every protocol handler; changed at run time through setFaults / POST /admin/faults.
 */
import { PreflightError } from '../core/errors.js';
import { checkFaults, NO_FAULTS } from './options.js';
import type { FaultOptions } from './options.js';

const LEAK_TICK_MS = 250;

export class FaultState {
  private f: FaultOptions;
  /** performance.now() the stall schedule counts from (reset when the stall knobs change). */
  private stallAnchor = performance.now();
  private readonly leaked: Buffer[] = [];
  private leakedBytesTotal = 0;
  private leakTimer: NodeJS.Timeout | undefined;
  private fill = 1;

  constructor(
    initial: FaultOptions,
    private readonly random: () => number,
  ) {
    this.f = { ...NO_FAULTS };
    this.set(initial);
  }

  get(): FaultOptions {
    return { ...this.f };
  }

  get leakedBytes(): number {
    return this.leakedBytesTotal;
  }

  /**
   * Merges the given knobs into the current ones (keys absent are unchanged; 0 turns a knob off).
   * Throws PreflightError('E_ARGS') when a value is invalid; nothing changes then.
   */
  set(partial: Partial<FaultOptions>): FaultOptions {
    const problems = checkFaults(partial as Record<string, unknown>);
    const next: FaultOptions = { ...this.f, ...partial };
    if (next.stallEveryMs > 0 && next.stallMs >= next.stallEveryMs) {
      problems.push({
        path: 'faults.stallMs',
        message: `stallMs (${next.stallMs}) must be shorter than stallEveryMs (${next.stallEveryMs})`,
      });
    }
    if (problems.length) throw new PreflightError('E_ARGS', problems.map((p) => p.message).join('; '), { problems });
    if (next.stallEveryMs !== this.f.stallEveryMs || next.stallMs !== this.f.stallMs)
      this.stallAnchor = performance.now();
    this.f = next;
    if (this.f.leakMBPerMin > 0 && !this.leakTimer) {
      this.leakTimer = setInterval(
        () => this.retain((this.f.leakMBPerMin * 1024 * 1024 * LEAK_TICK_MS) / 60_000),
        LEAK_TICK_MS,
      );
      this.leakTimer.unref();
    } else if (this.f.leakMBPerMin === 0 && this.leakTimer) {
      clearInterval(this.leakTimer);
      this.leakTimer = undefined;
    }
    return this.get();
  }

  reset(): FaultOptions {
    return this.set({ ...NO_FAULTS });
  }

  /** Extra latency for one response, ms: latencyMs + uniform [0, jitterMs). */
  extraLatencyMs(): number {
    const { latencyMs, jitterMs } = this.f;
    return latencyMs + (jitterMs > 0 ? this.random() * jitterMs : 0);
  }

  /** Draws whether this request gets an injected error. */
  injectError(): boolean {
    return this.f.errorRate > 0 && this.random() < this.f.errorRate;
  }

  /**
   * Ms left in the current stall, 0 when not stalled. Stalls start every `stallEveryMs` after the knobs were
   * set (first at anchor + stallEveryMs) and last `stallMs`.
   */
  stallRemainingMs(now = performance.now()): number {
    const { stallEveryMs, stallMs } = this.f;
    if (stallEveryMs <= 0 || stallMs <= 0) return 0;
    const since = now - this.stallAnchor;
    if (since < stallEveryMs) return 0;
    const phase = since % stallEveryMs;
    return phase < stallMs ? stallMs - phase : 0;
  }

  /** Called once per inference / generation request. */
  onRequest(): void {
    if (this.f.leakBytesPerRequest > 0) this.retain(this.f.leakBytesPerRequest);
  }

  private retain(bytes: number): void {
    const n = Math.max(1, Math.round(bytes));
    // Unpooled and filled with non-zero bytes so the pages are really committed (RSS grows, not just VSZ).
    let b: Buffer;
    try {
      b = Buffer.allocUnsafeSlow(n).fill(this.fill);
    } catch {
      return; // out of memory: the leak has made its point; a crash here would take the request with it
    }
    this.fill = (this.fill % 255) + 1;
    this.leaked.push(b);
    this.leakedBytesTotal += n;
  }

  /** Releases everything leaked so far (POST /admin/faults {"freeLeaked": true}). */
  freeLeaked(): void {
    this.leaked.length = 0;
    this.leakedBytesTotal = 0;
  }

  close(): void {
    if (this.leakTimer) clearInterval(this.leakTimer);
    this.leakTimer = undefined;
    this.freeLeaked();
  }
}

/**
 * Runs `send` after `delayMs`, and then only outside a stall (held until the stall ends).
 */
export function deliver(faults: FaultState, delayMs: number, send: () => void): void {
  const go = (): void => {
    const s = faults.stallRemainingMs();
    if (s > 0) setTimeout(go, Math.max(1, Math.ceil(s)));
    else send();
  };
  if (delayMs > 0) setTimeout(go, delayMs);
  else go();
}
