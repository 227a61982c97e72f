/**
 * Options of the reference model server, their defaults, validation, and the mapping from
 * `preflight serve` command-line flags (parseServeArgs).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isBareNumber, tryParseDuration } from '../core/duration.js';
import { PreflightError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
import { parseAutoscale, resolveAutoscale, type AutoscaleOptions } from './autoscaler.js';

/** Fault knobs. All off (0) by default. Settable at start, with `setFaults`, or `POST /admin/faults`. */
export interface FaultOptions {
  /** Extra latency added to every inference / generation response, ms. */
  latencyMs: number;
  /** Extra uniform random latency in [0, jitterMs) on top of `latencyMs`, ms. */
  jitterMs: number;
  /** Fraction (0–1) of inference / generation requests answered `500 {"error":"injected fault"}`. */
  errorRate: number;
  /** Period of the periodic stall, ms (0 = no stalls). */
  stallEveryMs: number;
  /** Length of each stall, ms: every `stallEveryMs` all replies (except /admin) are held this long. */
  stallMs: number;
  /** Bytes retained (never freed) per inference / generation request. */
  leakBytesPerRequest: number;
  /** Memory retained (never freed) over time, MiB per minute, allocated every 250 ms. */
  leakMBPerMin: number;
}

export const NO_FAULTS: Readonly<FaultOptions> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  errorRate: 0,
  stallEveryMs: 0,
  stallMs: 0,
  leakBytesPerRequest: 0,
  leakMBPerMin: 0,
});

export const FAULT_KEYS = Object.keys(NO_FAULTS) as (keyof FaultOptions)[];

/**
 * Upper bound of every fault knob. Beyond these a knob stops being a fault and breaks the server
 * (a 1e15-byte leak per request is an allocation that throws; a timer past 2^31 ms fires at once).
 */
export const FAULT_LIMITS: Readonly<FaultOptions> = Object.freeze({
  latencyMs: 600_000,
  jitterMs: 600_000,
  errorRate: 1,
  stallEveryMs: 86_400_000,
  stallMs: 600_000,
  leakBytesPerRequest: 64 * 1024 * 1024,
  leakMBPerMin: 4096,
});

/** Loopback addresses: admin endpoints need no token there. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || /^::ffff:127\./i.test(host);
}

export interface ServerOptions {
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 (the default for `startServer`) picks an ephemeral port. `preflight serve` defaults to 8000. */
  port?: number;
  /** Model instances (worker threads, each owning every model version). Default min(2, max(1, cores − 1)). */
  instances?: number;
  /** Largest batch the dynamic batcher forms, rows. Default 32. */
  maxBatchSize?: number;
  /** How long the oldest queued request may wait for a batch to fill, ms. Default 2. */
  maxQueueDelayMs?: number;
  /** Most rows waiting in a version's queue; beyond that requests are shed. Default 256. */
  maxQueue?: number;
  /** Never shed: let the queue grow without bound (to demonstrate catastrophic overload). */
  unboundedQueue?: boolean;
  /** Status of shed requests: 503 (default) or 429. Always with `Retry-After: 1`. */
  shedStatus?: 503 | 429;
  /** Version served by unversioned requests at start. Default 'v1'. Switch with `setVersion` / `POST /admin/version`. */
  version?: string;
  /** Name of the model on every protocol. Default 'digits'. */
  modelName?: string;
  /** Versions loaded. Default ['v1', 'v2']. */
  versions?: string[];
  /**
   * Module (path or file: URL) exporting `loadModel(version, opts) => Promise<LoadedModel>`, imported by
   * every instance worker. Default: src/model (dist/src/model/index.js), or the built-in fallback
   * linear model (./linear-model.js) when src/model is not built.
   */
  modelModule?: string | URL;
  /** Passed as the second argument of `loadModel` (must be structured-cloneable). */
  modelOptions?: unknown;
  /** Initial fault knobs (all off by default). */
  faults?: Partial<FaultOptions>;
  /**
   * Serve /admin/* (fault knobs, version switch). Default false: anyone who can reach them can slow,
   * break or exhaust the server. On an address other than loopback they also need `adminToken`.
   */
  admin?: boolean;
  /** Bearer token /admin/* requests must carry (`Authorization: Bearer <token>`); at least 16 characters. Implies `admin`. */
  adminToken?: string;
  /** Largest accepted request body, bytes. Default 16 MiB (413 beyond). */
  maxBodyBytes?: number;
  /** OpenAI simulator: model ids served by /v1/completions and /v1/chat/completions. Default ['preflight-sim']. */
  llmModels?: string[];
  /** Simulator: time per generated token after the first, ms. Default 10. */
  llmTokenTimeMs?: number;
  /** Simulator: fixed part of the prefill (time to first token), ms. Default 20. */
  llmPrefillBaseMs?: number;
  /** Simulator: prefill time per prompt token, ms. Default 0.1. */
  llmPrefillPerTokenMs?: number;
  /** Simulator: most sequences generating at once; the rest wait FIFO. Default 8. */
  llmMaxConcurrency?: number;
  /** Simulator: most sequences waiting; beyond that requests are shed like inference. Default 256. */
  llmMaxQueue?: number;
  /** Simulator: output length when the request sets no max_tokens. Default 16. */
  llmDefaultMaxTokens?: number;
  /** Simulator: fraction of requests that stop early (finish_reason 'stop') at a drawn shorter length. Default 0. */
  llmStopRate?: number;
  /** Seed of the server's random draws (jitter, injected errors, early stops). Default: random. */
  seed?: number;
  /**
   * Simulated model cost: each batch keeps its instance busy at least this long, ms (default 0: the model's
   * own time). With maxBatchSize it fixes an instance's capacity (e.g. 20 ms, batch 1 → 50 requests/s).
   */
  computeTimeMs?: number;
  /** Scaling mode: instances added and removed on queue depth like an HPA (see autoscaler.ts). Starts with `min`. */
  autoscale?: Partial<AutoscaleOptions>;
}

/** ServerOptions with every default applied. */
export interface ResolvedServerOptions {
  host: string;
  port: number;
  instances: number;
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxQueue: number;
  unboundedQueue: boolean;
  shedStatus: 503 | 429;
  version: string;
  modelName: string;
  versions: string[];
  modelModule: string | URL | undefined;
  modelOptions: unknown;
  faults: FaultOptions;
  admin: boolean;
  adminToken: string | undefined;
  maxBodyBytes: number;
  llmModels: string[];
  llmTokenTimeMs: number;
  llmPrefillBaseMs: number;
  llmPrefillPerTokenMs: number;
  llmMaxConcurrency: number;
  llmMaxQueue: number;
  llmDefaultMaxTokens: number;
  llmStopRate: number;
  seed: number;
  computeTimeMs: number;
  autoscale: AutoscaleOptions | undefined;
}

export const DEFAULT_SERVE_PORT = 8000;

export function defaultInstances(): number {
  return Math.min(2, Math.max(1, availableParallelism() - 1));
}

function argsError(problems: Problem[]): PreflightError {
  return new PreflightError(
    'E_ARGS',
    problems.length === 1 ? problems[0].message : `${problems.length} invalid server options`,
    { problems },
  );
}

/** Checks fault knobs; returns problems (empty when valid). `prefix` names the field path. */
export function checkFaults(f: Partial<Record<string, unknown>>, prefix = 'faults'): Problem[] {
  const problems: Problem[] = [];
  for (const [k, v] of Object.entries(f)) {
    if (!(FAULT_KEYS as string[]).includes(k)) {
      problems.push({
        path: `${prefix}.${k}`,
        message: `unknown fault knob "${k}"`,
        hint: `known: ${FAULT_KEYS.join(', ')}`,
      });
      continue;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      problems.push({ path: `${prefix}.${k}`, message: `${k} must be a finite number ≥ 0 (got ${JSON.stringify(v)})` });
      continue;
    }
    if (k === 'errorRate' && v > 1)
      problems.push({ path: `${prefix}.${k}`, message: `errorRate is a fraction between 0 and 1 (got ${v})` });
    else if (v > FAULT_LIMITS[k as keyof FaultOptions])
      problems.push({
        path: `${prefix}.${k}`,
        message: `${k} must be at most ${FAULT_LIMITS[k as keyof FaultOptions]} (got ${v})`,
      });
  }
  return problems;
}

/** Applies defaults and validates. Throws PreflightError('E_ARGS') listing every problem. */
export function resolveOptions(o: ServerOptions = {}): ResolvedServerOptions {
  const problems: Problem[] = [];
  const int = (
    name: string,
    v: number | undefined,
    def: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number => {
    if (v === undefined) return def;
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push({ path: name, message: `${name} must be an integer in [${min}, ${max}] (got ${v})` });
    return v;
  };
  const num = (
    name: string,
    v: number | undefined,
    def: number,
    min: number,
    max = Number.POSITIVE_INFINITY,
  ): number => {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      problems.push({ path: name, message: `${name} must be a number in [${min}, ${max}] (got ${v})` });
    return v;
  };
  const versions = o.versions ?? ['v1', 'v2'];
  if (
    !Array.isArray(versions) ||
    versions.length === 0 ||
    versions.some((v) => typeof v !== 'string' || !/^[A-Za-z0-9._-]+$/.test(v))
  ) {
    problems.push({ path: 'versions', message: 'versions must be a non-empty list of names ([A-Za-z0-9._-])' });
  }
  const version = o.version ?? versions[0];
  if (!versions.includes(version))
    problems.push({ path: 'version', message: `unknown version "${version}"`, hint: `one of ${versions.join(', ')}` });
  const modelName = o.modelName ?? 'digits';
  if (!/^[A-Za-z0-9._-]+$/.test(modelName))
    problems.push({ path: 'modelName', message: `invalid model name "${modelName}"` });
  const shedStatus = o.shedStatus ?? 503;
  if (shedStatus !== 503 && shedStatus !== 429)
    problems.push({ path: 'shedStatus', message: `shedStatus must be 503 or 429 (got ${shedStatus})` });
  const faults: FaultOptions = { ...NO_FAULTS, ...(o.faults ?? {}) };
  problems.push(...checkFaults(o.faults ?? {}));
  if (faults.stallEveryMs > 0 && faults.stallMs >= faults.stallEveryMs) {
    problems.push({
      path: 'faults.stallMs',
      message: `stallMs (${faults.stallMs}) must be shorter than stallEveryMs (${faults.stallEveryMs})`,
    });
  }
  const host = o.host ?? '127.0.0.1';
  const adminToken = o.adminToken;
  const admin = o.admin ?? adminToken !== undefined;
  if (adminToken !== undefined && (typeof adminToken !== 'string' || adminToken.length < 16 || /\s/.test(adminToken))) {
    problems.push({
      path: 'adminToken',
      message: 'the admin token must be at least 16 characters without spaces',
      hint: 'e.g. PREFLIGHT_ADMIN_TOKEN=$(openssl rand -hex 16)',
    });
  }
  if (admin && adminToken === undefined && !isLoopbackHost(host)) {
    problems.push({
      path: 'admin',
      message: `admin endpoints on ${host} (not loopback) need a token: anyone who reaches them can stall, break or exhaust the server`,
      hint: 'set PREFLIGHT_ADMIN_TOKEN (or --admin-token), or listen on 127.0.0.1',
    });
  }
  const llmModels = o.llmModels ?? ['preflight-sim'];
  if (!Array.isArray(llmModels) || llmModels.length === 0)
    problems.push({ path: 'llmModels', message: 'llmModels must be a non-empty list' });
  if (llmModels.includes(modelName))
    problems.push({ path: 'llmModels', message: `an LLM model id cannot equal the model name "${modelName}"` });
  const scaling = o.autoscale !== undefined ? resolveAutoscale(o.autoscale) : undefined;
  problems.push(...(scaling?.problems ?? []));
  const auto = scaling?.value;
  if (auto && o.instances !== undefined && (o.instances < auto.min || o.instances > auto.max))
    problems.push({
      path: 'instances',
      message: `instances (${o.instances}) must be within autoscale min–max (${auto.min}–${auto.max})`,
      hint: 'leave instances out: scaling mode starts with min',
    });
  const r: ResolvedServerOptions = {
    host,
    port: int('port', o.port, 0, 0, 65535),
    instances: int('instances', o.instances, auto ? auto.min : defaultInstances(), 1, 64),
    maxBatchSize: int('maxBatchSize', o.maxBatchSize, 32, 1, 65536),
    maxQueueDelayMs: num('maxQueueDelayMs', o.maxQueueDelayMs, 2, 0, 60_000),
    maxQueue: int('maxQueue', o.maxQueue, 256, 1),
    unboundedQueue: o.unboundedQueue ?? false,
    shedStatus,
    version,
    modelName,
    versions,
    modelModule: o.modelModule,
    modelOptions: o.modelOptions,
    faults,
    admin,
    adminToken,
    maxBodyBytes: int('maxBodyBytes', o.maxBodyBytes, 16 * 1024 * 1024, 1024),
    llmModels,
    llmTokenTimeMs: num('llmTokenTimeMs', o.llmTokenTimeMs, 10, 0, 60_000),
    llmPrefillBaseMs: num('llmPrefillBaseMs', o.llmPrefillBaseMs, 20, 0, 600_000),
    llmPrefillPerTokenMs: num('llmPrefillPerTokenMs', o.llmPrefillPerTokenMs, 0.1, 0, 60_000),
    llmMaxConcurrency: int('llmMaxConcurrency', o.llmMaxConcurrency, 8, 1, 100_000),
    llmMaxQueue: int('llmMaxQueue', o.llmMaxQueue, 256, 0),
    llmDefaultMaxTokens: int('llmDefaultMaxTokens', o.llmDefaultMaxTokens, 16, 1, 1_000_000),
    llmStopRate: num('llmStopRate', o.llmStopRate, 0, 0, 1),
    seed: int('seed', o.seed, Math.floor(Math.random() * 2 ** 31), 0),
    computeTimeMs: num('computeTimeMs', o.computeTimeMs, 0, 0, 60_000),
    autoscale: auto,
  };
  if (problems.length) throw argsError(problems);
  return r;
}

/** Help text for `preflight serve` (the CLI prints it for --help). */
export const SERVE_USAGE = `Usage: preflight serve [options]

Starts the reference model server (KServe v2, TF Serving, TorchServe, OpenAI simulator, /metrics).

Options:
  --host <addr>               interface to listen on (default 127.0.0.1)
  --port <n>                  TCP port, 0 = ephemeral (default ${DEFAULT_SERVE_PORT})
  --instances <n>             model instances, each a worker thread (default 1–2 by cores)
  --max-batch-size <rows>     dynamic batching: largest batch (default 32)
  --max-queue-delay <dur>     dynamic batching: longest wait for a batch to fill (default 2ms)
  --max-queue <rows>          queued rows per version before shedding (default 256)
  --unbounded-queue           never shed; the queue grows without bound
  --shed-status <503|429>     status of shed requests (default 503), with Retry-After: 1
  --version <v1|v2>           version served by unversioned requests (default v1)
  --model-name <name>         model name (default digits)
  --model-module <path>       module exporting loadModel(version) (default: the bundled digits MLP)
  --admin                     serve /admin/* (fault knobs, version switch); off by default
  --admin-token <token>       require "Authorization: Bearer <token>" on /admin/* (implies --admin;
                              needed off loopback). Better: the PREFLIGHT_ADMIN_TOKEN variable
  --seed <n>                  seed of random draws (jitter, injected errors, early stops)
  --compute-time <dur>        simulated model cost: each batch holds its instance this long (default 0)
Scaling mode (instances added/removed on queue depth, like an HPA; GET /admin/scaling logs decisions):
  --autoscale <k=v,...>       min=1,max=4,target-queue=8,up-after=3s,start-delay=2s,cooldown=10s,tick=1s
                              (the defaults; target-queue = requests waiting per instance)
Faults (off by default; also POST /admin/faults with --admin):
  --latency <dur>             extra latency per inference/generation response
  --jitter <dur>              extra uniform random latency in [0, jitter)
  --error-rate <frac|pct>     fraction of requests answered 500, e.g. 0.05 or 5%
  --stall-every <dur>         periodic stall period
  --stall <dur>               stall length (all replies held)
  --leak-mb-per-min <n>       retain this much memory per minute
  --leak-bytes-per-request <n> retain this many bytes per request
OpenAI simulator:
  --llm-token-time <dur>      time per output token (default 10ms)
  --llm-prefill-base <dur>    fixed prefill time (default 20ms)
  --llm-prefill-per-token <dur> prefill time per prompt token (default 0.1ms)
  --llm-max-concurrency <n>   sequences generating at once; the rest queue (default 8)
  --llm-max-queue <n>         waiting sequences before shedding (default 256)
  --llm-max-tokens <n>        output length when max_tokens is absent (default 16)
  --llm-stop-rate <frac|pct>  fraction of requests stopping early (default 0)
Durations: plain numbers are milliseconds; otherwise as in plans (e.g. 250ms, 1.5s, 1m30s).
`;

/**
 * Parses a duration flag: a plain number is milliseconds (`250`), anything else the plan's duration
 * syntax (`250ms`, `1.5s`, `2m`, `1m30s`) → milliseconds; undefined when it is neither.
 */
export function parseDurationMs(s: string): number | undefined {
  return durationFlag(s).value;
}

/** A duration flag's value, or why it is not one (the plan parser's message and hint). */
function durationFlag(raw: string): { value?: number; hint?: string } {
  const s = raw.trim();
  if (/^(\d+(?:\.\d+)?|\.\d+)$/.test(s)) return { value: Number(s) };
  if (isBareNumber(s)) return {}; // negative: the plan parser's "add a unit" hint would mislead here
  const r = tryParseDuration(s);
  return r.ok ? { value: r.value } : { hint: r.hint };
}

function parseFraction(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%)?\s*$/.exec(s);
  if (!m) return undefined;
  return m[2] ? Number(m[1]) / 100 : Number(m[1]);
}

/**
 * Maps `preflight serve` flags to ServerOptions (only the flags given; defaults are applied by
 * startServer, except `port`, which defaults to 8000 here). Throws PreflightError('E_ARGS') on unknown
 * flags or bad values, with every problem listed.
 */
export function parseServeArgs(argv: string[]): ServerOptions {
  const str = { type: 'string' } as const;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: str,
        port: str,
        instances: str,
        'max-batch-size': str,
        'max-queue-delay': str,
        'max-queue': str,
        'unbounded-queue': { type: 'boolean' },
        'shed-status': str,
        version: str,
        'model-name': str,
        'model-module': str,
        admin: { type: 'boolean' },
        'admin-token': str,
        'no-admin': { type: 'boolean' },
        seed: str,
        latency: str,
        jitter: str,
        'error-rate': str,
        'stall-every': str,
        stall: str,
        'leak-mb-per-min': str,
        'leak-bytes-per-request': str,
        'llm-token-time': str,
        'llm-prefill-base': str,
        'llm-prefill-per-token': str,
        'llm-max-concurrency': str,
        'llm-max-queue': str,
        'llm-max-tokens': str,
        'llm-stop-rate': str,
        'compute-time': str,
        autoscale: str,
      },
    });
  } catch (e) {
    throw argsError([{ file: '<args>', message: (e as Error).message, hint: 'see preflight serve --help' }]);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const problems: Problem[] = [];
  const o: ServerOptions = {};
  const faults: Partial<FaultOptions> = {};
  const conv = (flag: string, kind: 'int' | 'num' | 'dur' | 'frac', set: (n: number) => void): void => {
    const raw = v[flag];
    if (typeof raw !== 'string') return;
    let n: number | undefined;
    let hint: string | undefined;
    if (kind === 'dur') ({ value: n, hint } = durationFlag(raw));
    else if (kind === 'frac') n = parseFraction(raw);
    else {
      n = /^\s*-?(\d+(\.\d+)?|\.\d+)\s*$/.test(raw) ? Number(raw) : undefined;
      if (kind === 'int' && n !== undefined && !Number.isInteger(n)) n = undefined;
    }
    if (n === undefined || !Number.isFinite(n) || n < 0) {
      const what =
        kind === 'dur'
          ? 'a duration (e.g. 250, 250ms, 1.5s)'
          : kind === 'frac'
            ? 'a fraction (0.05) or percentage (5%)'
            : kind === 'int'
              ? 'a whole number ≥ 0'
              : 'a number ≥ 0';
      problems.push({
        file: '<args>',
        path: `--${flag}`,
        message: `--${flag} must be ${what} (got "${raw}")`,
        ...(hint ? { hint } : {}),
      });
      return;
    }
    set(n);
  };
  if (typeof v.host === 'string') o.host = v.host;
  o.port = DEFAULT_SERVE_PORT;
  conv('port', 'int', (n) => (o.port = n));
  conv('instances', 'int', (n) => (o.instances = n));
  conv('max-batch-size', 'int', (n) => (o.maxBatchSize = n));
  conv('max-queue-delay', 'dur', (n) => (o.maxQueueDelayMs = n));
  conv('max-queue', 'int', (n) => (o.maxQueue = n));
  if (v['unbounded-queue']) o.unboundedQueue = true;
  conv('shed-status', 'int', (n) => (o.shedStatus = n as 503 | 429));
  if (typeof v.version === 'string') o.version = v.version;
  if (typeof v['model-name'] === 'string') o.modelName = v['model-name'];
  if (typeof v['model-module'] === 'string') o.modelModule = v['model-module'];
  // The token from the environment keeps it out of `ps` and shell history.
  const token =
    typeof v['admin-token'] === 'string' ? v['admin-token'] : process.env.PREFLIGHT_ADMIN_TOKEN || undefined;
  if (v.admin || token !== undefined) o.admin = true;
  if (token !== undefined) o.adminToken = token;
  if (v['no-admin']) {
    if (v.admin)
      problems.push({ file: '<args>', path: '--no-admin', message: '--admin and --no-admin contradict each other' });
    o.admin = false; // the default now; kept so existing scripts still start
    delete o.adminToken;
  }
  conv('seed', 'int', (n) => (o.seed = n));
  conv('latency', 'dur', (n) => (faults.latencyMs = n));
  conv('jitter', 'dur', (n) => (faults.jitterMs = n));
  conv('error-rate', 'frac', (n) => (faults.errorRate = n));
  conv('stall-every', 'dur', (n) => (faults.stallEveryMs = n));
  conv('stall', 'dur', (n) => (faults.stallMs = n));
  conv('leak-mb-per-min', 'num', (n) => (faults.leakMBPerMin = n));
  conv('leak-bytes-per-request', 'int', (n) => (faults.leakBytesPerRequest = n));
  conv('llm-token-time', 'dur', (n) => (o.llmTokenTimeMs = n));
  conv('llm-prefill-base', 'dur', (n) => (o.llmPrefillBaseMs = n));
  conv('llm-prefill-per-token', 'dur', (n) => (o.llmPrefillPerTokenMs = n));
  conv('llm-max-concurrency', 'int', (n) => (o.llmMaxConcurrency = n));
  conv('llm-max-queue', 'int', (n) => (o.llmMaxQueue = n));
  conv('llm-max-tokens', 'int', (n) => (o.llmDefaultMaxTokens = n));
  conv('llm-stop-rate', 'frac', (n) => (o.llmStopRate = n));
  conv('compute-time', 'dur', (n) => (o.computeTimeMs = n));
  if (typeof v.autoscale === 'string') {
    const a = parseAutoscale(v.autoscale, (x) => durationFlag(x).value);
    problems.push(...a.problems);
    o.autoscale = a.value;
  }
  if (Object.keys(faults).length) o.faults = faults;
  if ((faults.stallEveryMs ?? 0) > 0 !== (faults.stallMs ?? 0) > 0) {
    problems.push({
      file: '<args>',
      path: '--stall',
      message: '--stall-every and --stall go together',
      hint: 'e.g. --stall-every 10s --stall 500ms',
    });
  }
  if (problems.length) throw argsError(problems);
  // Validate the combination now so `preflight serve` fails before starting anything.
  try {
    resolveOptions(o);
  } catch (e) {
    if (e instanceof PreflightError) {
      throw argsError(e.problems.map((p) => ({ ...p, file: '<args>' })));
    }
    throw e;
  }
  return o;
}
