/**
 * Target memory, sampled every interval while a profile runs: the resident set (VmRSS) of a local
 * process from /proc/<pid>/status, or a gauge from a Prometheus text exposition endpoint (e.g.
 * process_resident_memory_bytes). A failed sample is skipped (and counted), never an error.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { targetAgent } from '../engine/index.js';
import type { MemorySource, TlsOptions } from '../plan/types.js';

/** VmRSS of /proc/<pid>/status text, in bytes (undefined when absent). */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s+(\d+)\s*kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/**
 * The value of `metric` in Prometheus text exposition format: the sum of its samples (one per
 * label set; a single unlabelled gauge is just its value). Undefined when there is no sample.
 */
export function parsePrometheusMetric(text: string, metric: string): number | undefined {
  let sum = 0;
  let seen = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || !line.startsWith(metric)) continue;
    const rest = line.slice(metric.length);
    if (rest[0] !== ' ' && rest[0] !== '{' && rest[0] !== '\t') continue; // another metric with this prefix
    const afterLabels = rest[0] === '{' ? rest.slice(closingBrace(rest) + 1) : rest;
    const v = Number(afterLabels.trim().split(/\s+/)[0]);
    if (Number.isFinite(v)) {
      sum += v;
      seen = true;
    }
  }
  return seen ? sum : undefined;
}

function closingBrace(s: string): number {
  let inStr = false;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (inStr) {
      if (c === '\\') i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if (c === '}') return i;
  }
  return s.length - 1;
}

export interface MemoryStats {
  source: string;
  samples: number;
  failed: number;
  first_bytes: number;
  last_bytes: number;
  min_bytes: number;
  max_bytes: number;
}

export class MemorySampler {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private last: number | undefined;
  private first: number | undefined;
  private min = Infinity;
  private max = -Infinity;
  private n = 0;
  private failed = 0;
  private pid: number | undefined;
  readonly source: string;

  constructor(
    private readonly src: MemorySource,
    private readonly tls?: TlsOptions,
  ) {
    this.pid = src.pid;
    this.source = src.url
      ? `${src.url} ${src.metric}`
      : src.pidFile
        ? `pid from ${src.pidFile} (VmRSS)`
        : `pid ${src.pid} (VmRSS)`;
  }

  /** Starts sampling now and then every `intervalMs`. */
  start(intervalMs: number): void {
    if (this.src.pidFile && this.pid === undefined) {
      try {
        const n = Number(readFileSync(this.src.pidFile, 'utf8').trim());
        if (Number.isInteger(n) && n > 0) this.pid = n;
      } catch {
        /* counted as failed samples below */
      }
    }
    void this.sample(intervalMs);
    this.timer = setInterval(() => void this.sample(intervalMs), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The latest sample (bytes). */
  latest(): number | undefined {
    return this.last;
  }

  stats(): MemoryStats | undefined {
    if (this.first === undefined || this.last === undefined) return undefined;
    return {
      source: this.source,
      samples: this.n,
      failed: this.failed,
      first_bytes: this.first,
      last_bytes: this.last,
      min_bytes: this.min,
      max_bytes: this.max,
    };
  }

  get failures(): number {
    return this.failed;
  }

  private async sample(intervalMs: number): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const v = await this.read(Math.max(200, intervalMs));
      if (v === undefined) this.failed++;
      else {
        this.n++;
        this.last = v;
        if (this.first === undefined) this.first = v;
        this.min = Math.min(this.min, v);
        this.max = Math.max(this.max, v);
      }
    } catch {
      this.failed++;
    } finally {
      this.busy = false;
    }
  }

  private async read(timeoutMs: number): Promise<number | undefined> {
    if (this.src.url) {
      // The plan's TLS options apply to an https:// metrics endpoint too.
      const dispatcher = this.tls && this.src.url.startsWith('https:') ? targetAgent(this.tls) : undefined;
      try {
        const res = await request(this.src.url, {
          method: 'GET',
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          ...(dispatcher ? { dispatcher } : {}),
        });
        const text = await res.body.text();
        if (res.statusCode < 200 || res.statusCode >= 300) return undefined;
        return parsePrometheusMetric(text, this.src.metric);
      } finally {
        dispatcher?.close().catch(() => {});
      }
    }
    if (this.pid === undefined) return undefined;
    return parseVmRss(await readFile(`/proc/${this.pid}/status`, 'utf8'));
  }
}
