/**
 * Dynamic batching over a pool of model instances (worker threads).
 *
 * Every inference request, whatever its protocol, becomes a Job in its model version's FIFO queue. When an
 * instance is free, the batcher takes the version whose oldest job has waited longest, provided that queue
 * holds `maxBatchSize` rows or its oldest job has waited `maxQueueDelayMs`, and sends up to `maxBatchSize`
 * rows (whole requests; a single request larger than that runs alone) to the instance. Queues are bounded in
 * rows (`maxQueue`) unless `unbounded`.
 */
import { Worker } from 'node:worker_threads';
import type { ModelInfo } from '../model/types.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.js';

export const FEATURES = 64;
export const CLASSES = 10;

export type JobResult =
  | { ok: true; output: Float32Array; queueUs: number; computeUs: number; batchRows: number }
  | { ok: false; message: string; queueUs: number };

export interface Job {
  version: string;
  /** rows × 64, row-major. */
  input: Float32Array;
  rows: number;
  /** performance.now() when queued (set by submit). */
  enqueuedAt: number;
  done(r: JobResult): void;
}

export interface BatcherOptions {
  instances: number;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxQueue: number;
  unbounded: boolean;
  versions: string[];
  modelModule: string;
  modelOptions: unknown;
  /** Called once per executed batch (after it finished). */
  onBatch?(version: string, rows: number, computeUs: number, ok: boolean): void;
  /** Called when an instance dies unexpectedly (it is restarted). */
  onInstanceError?(message: string): void;
  /** Simulated model cost: an instance is busy at least this long per batch, ms (0 = the model's own time). */
  computeTimeMs?: number;
  /** Called when an instance added by scaleTo starts serving (after its start-up delay). */
  onInstanceReady?(index: number, readyBefore: number, readyAfter: number): void;
}

class Fifo {
  private items: Job[] = [];
  private head = 0;
  rows = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  peek(): Job | undefined {
    return this.items[this.head];
  }
  push(j: Job): void {
    this.items.push(j);
    this.rows += j.rows;
  }
  shift(): Job {
    const j = this.items[this.head];
    this.items[this.head++] = undefined as unknown as Job;
    this.rows -= j.rows;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return j;
  }
  drain(): Job[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.rows = 0;
    return rest;
  }
}

interface Instance {
  index: number;
  worker: Worker;
  ready: boolean;
  /** In-flight batch id, or 0 when free. */
  batch: number;
  exited: boolean;
  /** Scaled away: takes no new batch, closes once its batch is done. */
  removed: boolean;
}

interface Running {
  version: string;
  jobs: Job[];
  rows: number;
  dispatchedAt: number;
  instance: Instance;
}

export class Batcher {
  private readonly queues = new Map<string, Fifo>();
  /** By index; a slot is empty once its instance was scaled away. */
  private readonly instances: Array<Instance | undefined> = [];
  /** Scaled-away instances still finishing a batch or closing. */
  private readonly retired = new Set<Instance>();
  private readonly running = new Map<number, Running>();
  private nextBatchId = 1;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private kickPending = false;
  private closing = false;
  private restarts = 0;
  infos: ModelInfo[] = [];

  constructor(private readonly o: BatcherOptions) {
    for (const v of o.versions) this.queues.set(v, new Fifo());
  }

  /** Spawns the instances and resolves once every one has loaded every version. */
  async start(): Promise<ModelInfo[]> {
    const started: Promise<ModelInfo[]>[] = [];
    for (let i = 0; i < this.o.instances; i++) started.push(this.spawn(i));
    try {
      const all = await Promise.all(started);
      this.infos = all[0];
      return this.infos;
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  /** Instances serving, and started but not serving yet (loading, or within their start-up delay). */
  counts(): { ready: number; starting: number } {
    let ready = 0;
    let starting = 0;
    for (const i of this.instances) {
      if (!i || i.exited) continue;
      if (i.ready) ready++;
      else starting++;
    }
    return { ready, starting };
  }

  /**
   * Adds instances (each serving only after `startDelayMs`, or its model load if longer) or removes them
   * until there are n: those still starting first, then idle ones; a busy one finishes its batch first.
   */
  scaleTo(n: number, startDelayMs: number): void {
    if (this.closing) return;
    const live = () => this.instances.filter((i): i is Instance => i !== undefined && !i.exited);
    while (live().length < n) {
      let index = this.instances.indexOf(undefined);
      if (index < 0) index = this.instances.length;
      this.spawn(index, startDelayMs).catch((e: Error) => this.o.onInstanceError?.(e.message));
    }
    while (live().length > n) {
      const all = live().sort((a, b) => b.index - a.index);
      const victim = all.find((i) => !i.ready) ?? all.find((i) => i.batch === 0) ?? all[0];
      victim.removed = true;
      victim.ready = false;
      this.instances[victim.index] = undefined;
      this.retired.add(victim);
      if (victim.batch === 0) this.closeWorker(victim);
    }
  }

  private closeWorker(inst: Instance): void {
    try {
      inst.worker.postMessage({ type: 'close' } satisfies ToWorker);
    } catch {
      /* already gone */
    }
    const t = setTimeout(() => void inst.worker.terminate(), 1000);
    t.unref();
    inst.worker.once('exit', () => {
      clearTimeout(t);
      this.retired.delete(inst);
    });
  }

  private spawn(index: number, startDelayMs = 0): Promise<ModelInfo[]> {
    const spawnedAt = performance.now();
    const data: WorkerData = {
      modelModule: this.o.modelModule,
      versions: this.o.versions,
      modelOptions: this.o.modelOptions,
      computeTimeMs: this.o.computeTimeMs ?? 0,
    };
    const worker = new Worker(new URL('./instance-worker.js', import.meta.url), {
      workerData: data,
      name: `model-instance-${index}`,
    });
    const inst: Instance = { index, worker, ready: false, batch: 0, exited: false, removed: false };
    this.instances[index] = inst;
    return new Promise<ModelInfo[]>((resolve, reject) => {
      let settled = false;
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready': {
            settled = true;
            resolve(m.infos);
            // Serving starts `startDelayMs` after the spawn (a simulated model load), or now if loading took longer.
            const serve = () => {
              if (inst.removed || inst.exited || this.closing) return;
              const before = this.counts().ready;
              inst.ready = true;
              if (startDelayMs > 0) this.o.onInstanceReady?.(index, before, before + 1);
              this.kick();
            };
            const wait = startDelayMs - (performance.now() - spawnedAt);
            if (wait > 0) setTimeout(serve, wait).unref();
            else serve();
            break;
          }
          case 'fatal':
            settled = true;
            reject(new Error(`model instance ${index} failed to load the model: ${m.message}`));
            break;
          case 'done':
            this.finish(m.id, { output: m.output, computeUs: m.computeUs });
            break;
          case 'fail':
            this.finish(m.id, { message: m.message });
            break;
        }
      });
      worker.on('error', (e) => {
        if (!settled) {
          settled = true;
          reject(e);
        } else this.o.onInstanceError?.(`model instance ${index}: ${e.message}`);
      });
      worker.on('exit', (code) => {
        inst.exited = true;
        if (inst.removed) return;
        if (this.instances[index] !== inst) return;
        inst.ready = false;
        if (inst.batch) this.finish(inst.batch, { message: `model instance ${index} exited (code ${code})` });
        if (!settled) {
          settled = true;
          reject(new Error(`model instance ${index} exited during load (code ${code})`));
          return;
        }
        if (this.closing) return;
        if (++this.restarts <= 20) {
          this.o.onInstanceError?.(`model instance ${index} exited (code ${code}); restarting`);
          this.spawn(index).catch((e: Error) => this.o.onInstanceError?.(e.message));
        }
      });
    });
  }

  /** Rows and requests waiting in a version's queue. */
  queued(version: string): { rows: number; requests: number } {
    const q = this.queues.get(version);
    return { rows: q?.rows ?? 0, requests: q?.length ?? 0 };
  }

  /** Batches executing now. */
  get executing(): number {
    return this.running.size;
  }

  /** Queues a job. Returns false (and does not call done) when the queue is full: shed it. */
  submit(job: Job): boolean {
    const q = this.queues.get(job.version);
    if (!q) throw new Error(`unknown version ${job.version}`);
    if (this.closing) return false;
    if (!this.o.unbounded && q.rows > 0 && q.rows + job.rows > this.o.maxQueue) return false;
    job.enqueuedAt = performance.now();
    q.push(job);
    this.kick();
    return true;
  }

  /** Schedules a dispatch pass after this poll phase, so requests parsed in the same tick can share a batch. */
  private kick(): void {
    if (this.kickPending) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.dispatch(false);
    });
  }

  private dispatch(fromTimer: boolean): void {
    if (this.closing) return;
    const { maxBatchSize, maxQueueDelayMs } = this.o;
    for (;;) {
      const inst = this.instances.find((i) => i && i.ready && i.batch === 0);
      if (!inst) return; // a finishing batch calls dispatch again
      const now = performance.now();
      // Timers have ~1 ms resolution: when one fired, treat deadlines within 1 ms as reached.
      const slack = fromTimer ? 1 : 0;
      let best: Fifo | undefined;
      let bestVersion = '';
      let bestAt = Infinity;
      let nextDeadline = Infinity;
      for (const [v, q] of this.queues) {
        const head = q.peek();
        if (!head) continue;
        const due = q.rows >= maxBatchSize || now - head.enqueuedAt + slack >= maxQueueDelayMs;
        if (due) {
          if (head.enqueuedAt < bestAt) {
            bestAt = head.enqueuedAt;
            best = q;
            bestVersion = v;
          }
        } else nextDeadline = Math.min(nextDeadline, head.enqueuedAt + maxQueueDelayMs);
      }
      if (!best) {
        if (nextDeadline < Infinity) this.arm(nextDeadline);
        return;
      }
      const jobs: Job[] = [best.shift()];
      let rows = jobs[0].rows;
      while (best.length > 0 && rows + best.peek()!.rows <= maxBatchSize) {
        const j = best.shift();
        jobs.push(j);
        rows += j.rows;
      }
      let input: Float32Array;
      if (
        jobs.length === 1 &&
        jobs[0].input.byteOffset === 0 &&
        jobs[0].input.buffer.byteLength === jobs[0].input.byteLength
      ) {
        input = jobs[0].input;
      } else {
        input = new Float32Array(rows * FEATURES);
        let off = 0;
        for (const j of jobs) {
          input.set(j.input, off);
          off += j.input.length;
        }
      }
      const id = this.nextBatchId++;
      inst.batch = id;
      this.running.set(id, { version: bestVersion, jobs, rows, dispatchedAt: now, instance: inst });
      const msg: ToWorker = { type: 'run', id, version: bestVersion, input, batch: rows };
      inst.worker.postMessage(msg, [input.buffer as ArrayBuffer]);
    }
  }

  private arm(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.dispatch(true);
      },
      Math.max(0, at - performance.now()),
    );
  }

  private finish(id: number, r: { output?: Float32Array; computeUs?: number; message?: string }): void {
    const run = this.running.get(id);
    if (!run) return;
    this.running.delete(id);
    if (run.instance.batch === id) run.instance.batch = 0;
    if (run.instance.removed && run.instance.batch === 0 && !run.instance.exited) this.closeWorker(run.instance);
    const ok = r.output !== undefined && r.output.length === run.rows * CLASSES;
    const computeUs = r.computeUs ?? 0;
    this.o.onBatch?.(run.version, run.rows, computeUs, ok);
    let off = 0;
    for (const j of run.jobs) {
      const queueUs = Math.max(0, Math.round((run.dispatchedAt - j.enqueuedAt) * 1000));
      if (ok) {
        j.done({
          ok: true,
          output: r.output!.subarray(off, off + j.rows * CLASSES),
          queueUs,
          computeUs,
          batchRows: run.rows,
        });
      } else {
        j.done({
          ok: false,
          message: r.message ?? `model returned ${r.output?.length} values for ${run.rows} rows`,
          queueUs,
        });
      }
      off += j.rows * CLASSES;
    }
    this.dispatch(false);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    for (const q of this.queues.values())
      for (const j of q.drain()) j.done({ ok: false, message: 'server shutting down', queueUs: 0 });
    for (const id of [...this.running.keys()]) this.finish(id, { message: 'server shutting down' });
    await Promise.all(
      [...this.instances, ...this.retired]
        .filter((i): i is Instance => i !== undefined && !i.exited)
        .map(async (inst) => {
          const exited = new Promise<void>((r) => inst.worker.once('exit', () => r()));
          try {
            inst.worker.postMessage({ type: 'close' } satisfies ToWorker);
          } catch {
            /* already gone */
          }
          const t = setTimeout(() => void inst.worker.terminate(), 1000);
          await exited;
          clearTimeout(t);
        }),
    );
  }
}
