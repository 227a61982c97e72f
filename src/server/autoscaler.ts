/**
 * The reference server's scaling mode (`serve --autoscale …`): model instances added and removed the way a
 * Kubernetes HPA scales replicas on a queue-depth metric, so autoscaling checks have a target whose
 * behaviour is known. Every `tick` the autoscaler reads the queue depth (requests waiting, all versions)
 * and computes the HPA recommendation desired = ceil(current × (queue / current) / target) (no change
 * within the 10 % tolerance), clamped to [min, max]. Like HPA's stabilisation windows:
 *   - scale up only when every recommendation for `up-after` was above the current count (then to the
 *     lowest of them) — behavior.scaleUp.stabilizationWindowSeconds;
 *   - scale down only when every recommendation for `cooldown` was below it (then to the highest of them)
 *     — behavior.scaleDown.stabilizationWindowSeconds.
 * A new instance serves only after `start-delay` (model load: pod start-up until ready). Unlike an HPA,
 * the window restarts after each decision (one step is judged at a time, which keeps the truth simple).
 * See docs/reference-server.md.
 */
import type { Problem } from '../core/errors.js';

export interface AutoscaleOptions {
  /** Fewest and most instances. */
  min: number;
  max: number;
  /** Target queue depth per instance (requests waiting), like an HPA's averageValue target. */
  targetQueue: number;
  /** How long the recommendation must stay above the current count before scaling up, ms. */
  upAfterMs: number;
  /** Time from adding an instance until it serves (model load), ms. */
  startDelayMs: number;
  /** How long the recommendation must stay below the current count before scaling down, ms. */
  cooldownMs: number;
  /** Evaluation period, ms (HPA's sync period, 15 s by default there). */
  tickMs: number;
}

/** HPA's default tolerance: no change while |metric / target − 1| ≤ 0.1. */
export const TOLERANCE = 0.1;
/** Decisions and readiness events kept for /admin/scaling. */
export const MAX_LOG = 500;

export interface ScalingEvent {
  /** Wall-clock time (ISO 8601, ms). */
  at: string;
  /** Seconds since the server started. */
  t_s: number;
  kind: 'scale-up' | 'scale-down' | 'ready';
  /** Instances (ready + starting) before and after; for `ready`, the ready count before and after. */
  from: number;
  to: number;
  /** Why, in words and numbers. */
  reason: string;
}

/** What the autoscaler drives: the batcher's instance pool. */
export interface InstancePool {
  /** Requests waiting in the batcher's queues (all versions). */
  queueDepth(): number;
  ready(): number;
  starting(): number;
  /** Adds or removes instances until there are n (ready + starting). */
  scaleTo(n: number): void;
}

/** Parses `min=1,max=4,target-queue=8,up-after=3s,start-delay=2s,cooldown=10s[,tick=1s]`. */
export function parseAutoscale(
  raw: string,
  parseDurationMs: (s: string) => number | undefined,
): { value?: Partial<AutoscaleOptions>; problems: Problem[] } {
  const problems: Problem[] = [];
  const out: Partial<AutoscaleOptions> = {};
  const ints: Record<string, 'min' | 'max' | 'targetQueue'> = { min: 'min', max: 'max', 'target-queue': 'targetQueue' };
  const durs: Record<string, 'upAfterMs' | 'startDelayMs' | 'cooldownMs' | 'tickMs'> = {
    'up-after': 'upAfterMs',
    'start-delay': 'startDelayMs',
    cooldown: 'cooldownMs',
    tick: 'tickMs',
  };
  const known = [...Object.keys(ints), ...Object.keys(durs)].join(', ');
  for (const part of raw.split(',')) {
    const m = /^\s*([a-z-]+)\s*=\s*(\S+)\s*$/.exec(part);
    const where = { file: '<args>', path: '--autoscale' };
    if (!m) {
      problems.push({ ...where, message: `--autoscale: "${part}" is not key=value`, hint: `keys: ${known}` });
      continue;
    }
    const [, k, v] = m;
    if (k in ints) {
      const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
      if (Number.isNaN(n)) problems.push({ ...where, message: `--autoscale ${k} must be a whole number (got "${v}")` });
      else out[ints[k]] = n;
    } else if (k in durs) {
      const n = parseDurationMs(v);
      if (n === undefined)
        problems.push({ ...where, message: `--autoscale ${k} must be a duration, e.g. 3s (got "${v}")` });
      else out[durs[k]] = n;
    } else problems.push({ ...where, message: `--autoscale: unknown key "${k}"`, hint: `keys: ${known}` });
  }
  return { value: out, problems };
}

/** Defaults and bounds; problems for anything out of range. */
export function resolveAutoscale(a: Partial<AutoscaleOptions>): { value: AutoscaleOptions; problems: Problem[] } {
  const problems: Problem[] = [];
  const v: AutoscaleOptions = {
    min: a.min ?? 1,
    max: a.max ?? 4,
    targetQueue: a.targetQueue ?? 8,
    upAfterMs: a.upAfterMs ?? 3000,
    startDelayMs: a.startDelayMs ?? 2000,
    cooldownMs: a.cooldownMs ?? 10_000,
    tickMs: a.tickMs ?? 1000,
  };
  const check = (key: keyof AutoscaleOptions, ok: boolean, rule: string) => {
    if (!ok) problems.push({ path: `autoscale.${key}`, message: `autoscale ${key} ${rule} (got ${v[key]})` });
  };
  const int = (x: number) => Number.isInteger(x);
  check('min', int(v.min) && v.min >= 1 && v.min <= 64, 'must be an integer 1–64');
  check('max', int(v.max) && v.max >= v.min && v.max <= 64, 'must be an integer from min to 64');
  check('targetQueue', int(v.targetQueue) && v.targetQueue >= 1 && v.targetQueue <= 100_000, 'must be an integer ≥ 1');
  const hour = 3_600_000;
  check('upAfterMs', v.upAfterMs >= 0 && v.upAfterMs <= hour, 'must be 0–1h');
  check('startDelayMs', v.startDelayMs >= 0 && v.startDelayMs <= hour, 'must be 0–1h');
  check('cooldownMs', v.cooldownMs >= 0 && v.cooldownMs <= hour, 'must be 0–1h');
  check('tickMs', v.tickMs >= 50 && v.tickMs <= 60_000, 'must be 50ms–1m');
  return { value: v, problems };
}

/** The HPA recommendation for a queue depth: ceil(current × ratio) outside the tolerance, clamped. */
export function recommend(o: AutoscaleOptions, current: number, queue: number): number {
  const ratio = queue / Math.max(1, current) / o.targetQueue;
  const raw = Math.abs(ratio - 1) <= TOLERANCE ? current : Math.ceil(current * ratio);
  return Math.min(o.max, Math.max(o.min, raw));
}

/** GET /admin/scaling and ServerHandle.scaling(): the configuration, the counts now, and the log. */
export interface ScalingState {
  enabled: boolean;
  options: AutoscaleOptions | null;
  ready: number;
  starting: number;
  desired: number;
  events: ScalingEvent[];
}

export class Autoscaler {
  private timer: NodeJS.Timeout | undefined;
  private readonly history: Array<{ t: number; rec: number }> = [];
  private upSince: number | null = null;
  private downSince: number | null = null;
  /** Instances (ready + starting) the autoscaler last asked for. */
  private current: number;
  readonly log: ScalingEvent[] = [];
  upDecisions = 0;
  downDecisions = 0;

  constructor(
    readonly o: AutoscaleOptions,
    private readonly pool: InstancePool,
    private readonly startedAt = performance.now(),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.current = pool.ready() + pool.starting();
  }

  /** The count the autoscaler wants (ready + starting once it has acted). */
  get desired(): number {
    return this.current;
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.o.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Records a readiness change (called by the pool when a started instance begins to serve). */
  instanceReady(readyBefore: number, readyAfter: number, instance: number): void {
    this.record('ready', readyBefore, readyAfter, `instance ${instance} serves after its start-up delay`);
  }

  /** One evaluation: recommendation, stabilisation windows, maybe a decision. */
  tick(): void {
    const t = this.now();
    const q = this.pool.queueDepth();
    const cur = this.current;
    const rec = recommend(this.o, cur, q);
    this.history.push({ t, rec });
    const keep = Math.max(this.o.upAfterMs, this.o.cooldownMs) + 2 * this.o.tickMs;
    while (this.history.length > 0 && this.history[0].t < t - keep) this.history.shift();
    const window = (ms: number) => this.history.filter((h) => h.t >= t - ms).map((h) => h.rec);
    const why = `queue ${q} vs target ${this.o.targetQueue} × ${cur} instance${cur === 1 ? '' : 's'}`;
    if (rec > cur) {
      this.downSince = null;
      this.upSince ??= t;
      if (t - this.upSince >= this.o.upAfterMs) {
        const to = Math.min(...window(this.o.upAfterMs));
        this.decide('scale-up', cur, to, `${why}: above for ${((t - this.upSince) / 1000).toFixed(2)} s`);
      }
    } else if (rec < cur) {
      this.upSince = null;
      this.downSince ??= t;
      if (t - this.downSince >= this.o.cooldownMs) {
        const to = Math.max(...window(this.o.cooldownMs));
        this.decide('scale-down', cur, to, `${why}: below for ${((t - this.downSince) / 1000).toFixed(2)} s`);
      }
    } else {
      this.upSince = null;
      this.downSince = null;
    }
  }

  private decide(kind: 'scale-up' | 'scale-down', from: number, to: number, reason: string): void {
    // The window's extreme can equal the current count (a recommendation from before the last decision).
    if (to === from) return;
    this.current = to;
    this.upSince = null;
    this.downSince = null;
    this.history.length = 0;
    if (kind === 'scale-up') this.upDecisions++;
    else this.downDecisions++;
    this.record(kind, from, to, reason);
    this.pool.scaleTo(to);
  }

  private record(kind: ScalingEvent['kind'], from: number, to: number, reason: string): void {
    const t = this.now();
    this.log.push({
      at: new Date(Date.now() - (performance.now() - t)).toISOString(),
      t_s: Math.round(t - this.startedAt) / 1000,
      kind,
      from,
      to,
      reason,
    });
    if (this.log.length > MAX_LOG) this.log.shift();
  }
}
