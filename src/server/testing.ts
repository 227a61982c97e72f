/**
 * Helpers for tests that run the reference server (this folder's and others'): a fast deterministic
 * model module, small HTTP helpers, and a strict Prometheus text-format parser.
 */
import { request } from 'node:http';

/** Module URL of the fixed linear model (see linear-model.ts), for `modelModule`. */
export const LINEAR_MODEL_MODULE = new URL('./linear-model.js', import.meta.url).href;

/** A deterministic 64-pixel row (values 0–16). */
export function digitRow(seed = 0): number[] {
  return Array.from({ length: 64 }, (_, i) => (i * 7 + seed * 13) % 17);
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  // biome-ignore lint/suspicious/noExplicitAny: tests index into arbitrary response JSON
  json: any;
  /** ms from send to the end of the response. */
  ms: number;
}

/** One HTTP request (fresh connection, 20 s timeout). `body` objects are sent as JSON. */
export function http(
  url: string,
  method = 'GET',
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const data =
    body === undefined
      ? undefined
      : typeof body === 'string' || Buffer.isBuffer(body)
        ? Buffer.from(body)
        : Buffer.from(JSON.stringify(body));
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        timeout: 20_000,
        headers: {
          ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json, ms: performance.now() - t0 });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** Reads an SSE response: every `data:` payload with its arrival time (ms since send). */
export function sse(
  url: string,
  body: unknown,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  events: Array<{ data: string; ms: number }>;
  raw: string;
}> {
  const data = Buffer.from(JSON.stringify(body));
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        timeout: 20_000,
        headers: { 'content-type': 'application/json', 'content-length': String(data.length) },
      },
      (res) => {
        const events: Array<{ data: string; ms: number }> = [];
        let buf = '';
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          const ms = performance.now() - t0;
          raw += c;
          buf += c;
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            for (const line of ev.split('\n')) if (line.startsWith('data: ')) events.push({ data: line.slice(6), ms });
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, events, raw }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('sse timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
  /** Sum of the values of samples named `name` whose labels include `match`. */
  value(name: string, match?: Record<string, string>): number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Parses Prometheus text exposition 0.0.4 strictly: throws on any malformed line, a sample before its
 * family's TYPE, a duplicate TYPE, or a histogram whose buckets are not cumulative or disagree with _count.
 */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  for (const [n, line] of lines.entries()) {
    if (line === '') continue;
    const where = `line ${n + 1}: ${line}`;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) continue; // plain comment
      if (!NAME.test(m[2])) throw new Error(`bad metric name, ${where}`);
      if (m[1] === 'TYPE') {
        if (types.has(m[2])) throw new Error(`duplicate TYPE, ${where}`);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]))
          throw new Error(`bad type, ${where}`);
        types.set(m[2], m[3]);
      } else {
        if (help.has(m[2])) throw new Error(`duplicate HELP, ${where}`);
        help.set(m[2], m[3]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) throw new Error(`bad sample, ${where}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)/y;
      let pos = 0;
      while (pos < m[3].length) {
        re.lastIndex = pos;
        const l = re.exec(m[3]);
        if (!l) throw new Error(`bad labels, ${where}`);
        labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
        pos = re.lastIndex;
      }
    }
    const v = m[4];
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v === 'NaN' ? NaN : Number(v);
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[+-]Inf$|^NaN$/.test(v)) throw new Error(`bad value, ${where}`);
    const family = types.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, '');
    const type = types.get(family);
    if (!type) throw new Error(`sample before its TYPE, ${where}`);
    if (type === 'histogram' && family === m[1]) throw new Error(`histogram sample without suffix, ${where}`);
    if (type === 'histogram' && m[1].endsWith('_bucket') && labels.le === undefined)
      throw new Error(`bucket without le, ${where}`);
    samples.push({ name: m[1], labels, value });
  }
  // Histogram consistency.
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
    const key = (l: Record<string, string>) =>
      JSON.stringify(
        Object.entries(l)
          .filter(([k]) => k !== 'le')
          .sort(),
      );
    for (const s of samples) {
      if (!s.name.startsWith(family + '_')) continue;
      const k = key(s.labels);
      const e = series.get(k) ?? { buckets: [] };
      series.set(k, e);
      if (s.name === `${family}_bucket`)
        e.buckets.push([s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), s.value]);
      if (s.name === `${family}_count`) e.count = s.value;
    }
    for (const [k, e] of series) {
      for (let i = 1; i < e.buckets.length; i++) {
        if (e.buckets[i][0] <= e.buckets[i - 1][0] || e.buckets[i][1] < e.buckets[i - 1][1])
          throw new Error(`${family}${k}: buckets not cumulative`);
      }
      const inf = e.buckets.at(-1);
      if (!inf || inf[0] !== Infinity || inf[1] !== e.count)
        throw new Error(`${family}${k}: +Inf bucket must equal _count`);
    }
  }
  return {
    types,
    help,
    samples,
    value(name, match = {}) {
      let sum = 0;
      for (const s of samples)
        if (s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)) sum += s.value;
      return sum;
    },
  };
}

/** Runs `n` calls of `fn` with at most `concurrency` in flight; results in call order. */
export async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, concurrency) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}
