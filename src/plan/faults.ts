/**
 * `faults:` → FaultsPlan: a fault proxy in front of one target and a timeline of faults (the shared
 * `Fault` of src/core/faults.ts) and actions (a command, an HTTP call, a signal to a PID). Per-key
 * syntax is in syntax.ts (faultsSpec); here the rules across keys, all problems at once, located:
 * exactly one fault type, attributes that fit it, absurd values, windows beyond the load, windows of
 * the same fault type and direction that overlap (they would fight over one toxic; different types
 * compose), an action with no way to run. Docs: docs/faults.md, docs/plan.md.
 */
import type { Fault, HttpFault, HttpMatch, TcpFault } from '../core/faults.js';
import type { ActionPlan } from './comparison.js';
import { splitCommand } from './profile.js';
import { join } from './spec.js';
import type { Raw, Walker } from './spec.js';
import { HTTP_FAULT_KEYS, TCP_FAULT_KEYS } from './syntax.js';

/** A timeline action: a canary-style action (command, HTTP; run by src/comparison's runAction) or a signal. */
export type TimelineAction =
  | ActionPlan
  | { kind: 'signal'; signal: string; pid?: number; pidFile?: string; timeoutMs: number };

/** One timeline entry; times from the start of the load (t = 0 of the windows). */
export type TimelineEntry =
  | { kind: 'fault'; name: string; atMs: number; forMs: number; fault: Fault }
  | { kind: 'action'; name: string; atMs: number; forMs?: number; action: TimelineAction; undo?: TimelineAction };

export interface FaultsPlan {
  /** The target's origin the proxy fronts (requests to it go through the proxy; Host unchanged). */
  target: string;
  timeline: TimelineEntry[];
}

/** Bounds of a sane fault or action (beyond them a value is a typo: 200s meant as 200ms). */
export const FAULT_BOUNDS = {
  /** Added latency, delays, stalls, slow close, toxic timeouts. */
  maxDelayMs: 600_000,
  /** An action's timeout. */
  maxActionTimeoutMs: 600_000,
  /** limit_data, slicer sizes. */
  maxBytes: 1e9,
  /** Bandwidth at least 1 byte/s (0 would be a black hole: use `timeout`). */
  minBandwidth: 1,
} as const;

const FAULT_KEYS: readonly string[] = [...TCP_FAULT_KEYS, ...HTTP_FAULT_KEYS];
/** Attributes that belong to one fault type only. */
const ATTRIBUTE_OF: Record<string, string> = { jitter: 'latency' };

/** Where the timeline fits: the load's length, when known (an `iterations` scenario has none). */
export interface FaultsContext {
  /** URLs of the plan's target and of every scenario's target override. */
  targetUrls: string[];
  loadDurationMs: number | undefined;
  resolveFile(p: string): string;
}

const P = 'faults';
const ep = (i: number, k?: string): string =>
  k === undefined ? join(join(P, 'timeline'), i) : join(join(join(P, 'timeline'), i), k);

function origin(u: string): string {
  try {
    return new URL(u).origin;
  } catch {
    return u;
  }
}

export function buildFaults(w: Walker, r: Raw, ctx: FaultsContext): FaultsPlan | undefined {
  let ok = true;
  const bad = (path: string, message: string, hint?: string, prefer: 'key' | 'value' = 'value') => {
    w.problemAt(path, message, hint, prefer);
    ok = false;
  };
  // The target
  const origins = [...new Set(ctx.targetUrls.map(origin))];
  let target: string | undefined;
  if (typeof r['target'] === 'string') {
    target = origin(r['target']);
    if (!origins.includes(target))
      bad(
        join(P, 'target'),
        `\`${r['target']}\` is not a target of this plan`,
        `the plan sends to ${origins.join(', ')}: name one of them`,
      );
  } else if (origins.length === 1) target = origins[0];
  else if (origins.length > 1)
    bad(
      P,
      `the plan sends to ${origins.length} targets: say which one the fault proxy fronts`,
      `e.g. target: ${origins[0]}`,
      'key',
    );

  const entries = ((r['timeline'] ?? []) as Array<Raw | undefined>).map((e, i): TimelineEntry | undefined => {
    if (!e) return undefined;
    const atMs = e['at'] as number | undefined;
    const forMs = e['for'] as number | undefined;
    if (atMs === undefined) return undefined; // reported by the walker
    if (w.has(ep(i, 'for')) && forMs === 0)
      bad(ep(i, 'for'), 'a window of 0s does nothing', 'give it a length, e.g. for: 10s');
    const end = atMs + (forMs ?? 0);
    if (ctx.loadDurationMs !== undefined && (atMs >= ctx.loadDurationMs || end > ctx.loadDurationMs))
      bad(
        ep(i, forMs !== undefined && atMs < ctx.loadDurationMs ? 'for' : 'at'),
        `this entry ends at ${fmt(end)}, after the load (${fmt(ctx.loadDurationMs)})`,
        'the timeline runs while the load does: start it earlier or make it shorter',
      );
    const hasFault = e['fault'] !== undefined;
    const hasAction = e['action'] !== undefined;
    if (hasFault === hasAction) {
      bad(
        ep(i),
        hasFault ? 'an entry is a fault or an action, not both' : 'an entry needs a `fault` or an `action`',
        'split it into two entries at the same time',
        'key',
      );
      return undefined;
    }
    if (hasFault) {
      if (e['undo'] !== undefined)
        bad(ep(i, 'undo'), '`undo` goes with an action: a fault ends by itself at `at + for`', undefined, 'key');
      if (forMs === undefined) {
        bad(
          ep(i),
          'a fault needs `for`: how long it lasts',
          'e.g. { at: 30s, for: 20s, fault: { latency: 200ms } }',
          'key',
        );
        return undefined;
      }
      const fault = buildFault(w, e['fault'] as Raw, ep(i, 'fault'), e['name'] as string | undefined, atMs, bad);
      return fault ? { kind: 'fault', name: fault.name, atMs, forMs, fault } : undefined;
    }
    const action = buildTimelineAction(w, e['action'] as Raw, ep(i, 'action'), ctx, bad);
    let undo: TimelineAction | undefined;
    if (e['undo'] !== undefined) {
      if (forMs === undefined) bad(ep(i, 'undo'), '`undo` runs at `at + for`: give `for`', 'e.g. for: 10s', 'key');
      undo = buildTimelineAction(w, e['undo'] as Raw, ep(i, 'undo'), ctx, bad);
    }
    if (!action) return undefined;
    const name = (e['name'] as string | undefined) ?? `${action.kind} at ${fmt(atMs)}`;
    return { kind: 'action', name, atMs, ...(forMs !== undefined ? { forMs } : {}), action, ...(undo ? { undo } : {}) };
  });

  // Names are unique (reports and thresholds name windows), and the same fault type on the same
  // direction must not overlap: one would silently replace the other in the proxy.
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    if (!e) return;
    const j = seen.get(e.name);
    if (j !== undefined)
      bad(
        ep(i, 'name'),
        `name \`${e.name}\` is also entry ${j + 1}'s`,
        'give each entry a distinct name',
        w.has(ep(i, 'name')) ? 'value' : 'key',
      );
    else seen.set(e.name, i);
  });
  for (let i = 0; i < entries.length; i++) {
    const a = entries[i];
    if (a?.kind !== 'fault') continue;
    for (let j = 0; j < i; j++) {
      const b = entries[j];
      if (b?.kind !== 'fault' || conflictKey(a.fault) !== conflictKey(b.fault)) continue;
      if (a.atMs < b.atMs + b.forMs && b.atMs < a.atMs + a.forMs)
        bad(
          ep(i, 'at'),
          `overlaps entry ${j + 1} (\`${b.name}\`, ${fmt(b.atMs)}–${fmt(b.atMs + b.forMs)}): the same fault (${a.fault.fault.type}${a.fault.layer === 'tcp' ? `, ${a.fault.direction}` : ''}) twice at once`,
          'faults of different types may overlap (they compose); the same type once at a time: move or merge the windows',
        );
    }
  }
  // The proxy frames HTTP/1.1 to apply per-request faults: it fronts plain http:// (TLS would pass
  // through it unread, and the client would verify the proxy's address against the certificate).
  if (target?.startsWith('https:') && entries.some((e) => e?.kind === 'fault'))
    bad(
      w.has(join(P, 'target')) ? join(P, 'target') : P,
      'the fault proxy fronts http:// targets; this one is https://',
      'point the plan at the target’s plain-HTTP port (e.g. inside the cluster), or use actions only',
      w.has(join(P, 'target')) ? 'value' : 'key',
    );
  if (!ok || target === undefined) return undefined;
  const timeline = entries.filter((e): e is TimelineEntry => e !== undefined).sort((a, b) => a.atMs - b.atMs);
  return { target, timeline };
}

function conflictKey(f: Fault): string {
  return f.layer === 'tcp' ? `tcp:${f.fault.type}:${f.direction}` : `http:${f.fault.type}`;
}

function fmt(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

type Bad = (path: string, message: string, hint?: string, prefer?: 'key' | 'value') => void;

function buildFault(
  w: Walker,
  f: Raw,
  path: string,
  givenName: string | undefined,
  atMs: number,
  bad: Bad,
): Fault | undefined {
  const types = FAULT_KEYS.filter((k) => w.has(join(path, k)));
  if (types.length !== 1) {
    if (types.length === 0 && [...w.suggested].some((s) => s.startsWith(`${path}.`))) return undefined; // a typo, already reported with "did you mean"
    bad(
      path,
      types.length === 0
        ? 'a fault needs its type: one of ' + FAULT_KEYS.map((k) => `\`${k}\``).join(', ')
        : `one fault per entry, got ${types.map((k) => `\`${k}\``).join(' and ')}`,
      types.length === 0
        ? 'e.g. fault: { latency: 200ms, jitter: 50ms }'
        : 'give each its own entry (overlapping windows of different types compose)',
      'key',
    );
    return undefined;
  }
  const key = types[0];
  const v = f[key];
  if (v === undefined) return undefined; // invalid value, reported by the walker
  for (const [attr, owner] of Object.entries(ATTRIBUTE_OF))
    if (w.has(join(path, attr)) && owner !== key)
      bad(join(path, attr), `\`${attr}\` goes with \`${owner}\`, not \`${key}\``, undefined, 'key');
  const tooLong = (k: string, ms: number | undefined): void => {
    if (ms !== undefined && ms > FAULT_BOUNDS.maxDelayMs)
      bad(join(path, k), `${fmt(ms)} is beyond any sane fault (at most 10m)`, 'did you mean milliseconds? e.g. 200ms');
  };
  const bytes = (k: string, n: number | undefined): void => {
    if (n !== undefined && n > FAULT_BOUNDS.maxBytes)
      bad(join(path, k), `${n} bytes is beyond any sane fault (at most 1GB)`);
  };
  const share = (f['toxicity'] as number | undefined) ?? 1;
  if (w.has(join(path, 'toxicity')) && share === 0)
    bad(join(path, 'toxicity'), 'a toxicity of 0 affects nothing', 'e.g. toxicity: 50%');
  const toxicity = { share, per: (f['per'] as 'request' | 'connection' | undefined) ?? 'request' };
  const name = givenName ?? `${key} at ${fmt(atMs)}`;
  if ((TCP_FAULT_KEYS as readonly string[]).includes(key)) {
    if (w.has(join(path, 'match')))
      bad(
        join(path, 'match'),
        '`match` picks HTTP requests: it applies to HTTP faults, not to TCP toxics',
        'use an HTTP fault (abort, delay, …) or remove `match`',
        'key',
      );
    let fault: TcpFault;
    switch (key) {
      case 'latency':
        tooLong('latency', v as number);
        tooLong('jitter', f['jitter'] as number | undefined);
        fault = { type: 'latency', latencyMs: v as number, jitterMs: (f['jitter'] as number | undefined) ?? 0 };
        break;
      case 'bandwidth':
        if ((v as number) < FAULT_BOUNDS.minBandwidth)
          bad(
            join(path, key),
            'a bandwidth of 0 is no fault (to Toxiproxy, rate 0 means no limit)',
            'to stop all data use `timeout: 0s`; else e.g. bandwidth: 10KB/s',
          );
        fault = { type: 'bandwidth', bytesPerSecond: v as number };
        break;
      case 'slowClose':
        tooLong(key, v as number);
        fault = { type: 'slow_close', delayMs: v as number };
        break;
      case 'timeout':
        tooLong(key, v as number);
        fault = { type: 'timeout', timeoutMs: v as number };
        break;
      case 'resetPeer':
        tooLong(key, v as number);
        fault = { type: 'reset_peer', timeoutMs: v as number };
        break;
      case 'slicer': {
        const s = v as Raw;
        if (s['averageSize'] === undefined) return undefined;
        if (s['averageSize'] === 0)
          bad(join(join(path, key), 'averageSize'), 'pieces of 0 bytes never end', 'e.g. averageSize: 64B');
        bytes('slicer.averageSize', s['averageSize'] as number);
        const variation = (s['sizeVariation'] as number | undefined) ?? 0;
        if (variation >= (s['averageSize'] as number) && variation > 0)
          bad(join(join(path, key), 'sizeVariation'), 'sizeVariation must be smaller than averageSize', undefined);
        tooLong('slicer.delay', s['delay'] as number | undefined);
        fault = {
          type: 'slicer',
          averageSize: s['averageSize'] as number,
          sizeVariation: variation,
          delayMs: (s['delay'] as number | undefined) ?? 0,
        };
        break;
      }
      case 'limitData':
        bytes(key, v as number);
        fault = { type: 'limit_data', bytes: v as number };
        break;
      default:
        fault = { type: 'down' };
    }
    return {
      layer: 'tcp',
      name,
      direction: (f['direction'] as 'downstream' | 'upstream' | undefined) ?? 'downstream',
      toxicity,
      fault,
    };
  }
  if (w.has(join(path, 'direction')))
    bad(
      join(path, 'direction'),
      '`direction` is for TCP toxics: an HTTP fault acts on the request and its response',
      'remove `direction`',
      'key',
    );
  let fault: HttpFault | undefined;
  switch (key) {
    case 'abort': {
      if (typeof v === 'number') fault = { type: 'abort', status: v };
      else {
        const a = v as Raw;
        if (a['status'] === undefined) return undefined;
        const ra = a['retryAfter'] as number | undefined;
        tooLong('abort.retryAfter', ra);
        fault = {
          type: 'abort',
          status: a['status'] as number,
          ...(ra !== undefined ? { retryAfterS: Math.round(ra / 1000) } : {}),
        };
      }
      break;
    }
    case 'delay':
      fault = buildDelay(v, join(path, key), bad, tooLong);
      break;
    case 'sseStall': {
      const s = v as Raw;
      if (s['after'] === undefined || s['for'] === undefined) return undefined;
      tooLong('sseStall.for', s['for'] as number);
      fault = { type: 'sse_stall', afterEvents: s['after'] as number, stallMs: s['for'] as number };
      break;
    }
    case 'sseTruncate':
      fault = { type: 'sse_truncate', afterEvents: v as number };
      break;
    case 'sseSlow':
      tooLong(key, v as number);
      fault = { type: 'sse_slow', extraMs: v as number };
      break;
    default:
      fault = { type: 'sse_malformed', afterEvents: v as number };
  }
  if (!fault) return undefined;
  const m = f['match'] as Raw | undefined;
  let match: HttpMatch | undefined;
  if (m) {
    match = {};
    if (m['path'] !== undefined) match.pathPrefix = String(m['path']);
    if (m['method'] !== undefined) match.method = String(m['method']).toUpperCase();
    if (m['headers'] !== undefined) match.headers = { ...(m['headers'] as Record<string, string>) };
  }
  return { layer: 'http', name, toxicity, ...(match ? { match } : {}), fault };
}

function buildDelay(
  v: unknown,
  path: string,
  bad: Bad,
  tooLong: (k: string, ms: number | undefined) => void,
): HttpFault | undefined {
  if (typeof v === 'number') {
    tooLong('delay', v);
    return { type: 'delay', delay: { kind: 'fixed', ms: v } };
  }
  const d = v as Raw;
  const need = (keys: string[]): boolean => {
    const missing = keys.filter((k) => d[k] === undefined);
    if (missing.length > 0)
      bad(
        path,
        `a ${String(d['distribution'])} delay needs ${missing.map((k) => `\`${k}\``).join(' and ')}`,
        undefined,
        'key',
      );
    for (const k of keys)
      if (typeof d[k] === 'number' && ['ms', 'min', 'max', 'median', 'scale'].includes(k))
        tooLong(`delay.${k}`, d[k] as number);
    return missing.length === 0;
  };
  switch (d['distribution']) {
    case 'fixed':
      return need(['ms']) ? { type: 'delay', delay: { kind: 'fixed', ms: d['ms'] as number } } : undefined;
    case 'uniform':
      if (!need(['min', 'max'])) return undefined;
      if ((d['min'] as number) > (d['max'] as number)) {
        bad(join(path, 'max'), 'max is below min', 'a uniform delay is drawn between min and max');
        return undefined;
      }
      return { type: 'delay', delay: { kind: 'uniform', minMs: d['min'] as number, maxMs: d['max'] as number } };
    case 'lognormal':
      return need(['median', 'sigma'])
        ? { type: 'delay', delay: { kind: 'lognormal', medianMs: d['median'] as number, sigma: d['sigma'] as number } }
        : undefined;
    case 'pareto':
      return need(['scale', 'shape'])
        ? { type: 'delay', delay: { kind: 'pareto', scaleMs: d['scale'] as number, shape: d['shape'] as number } }
        : undefined;
    default:
      return undefined; // reported by the walker
  }
}

function buildTimelineAction(
  w: Walker,
  a: Raw,
  path: string,
  ctx: FaultsContext,
  bad: Bad,
): TimelineAction | undefined {
  const timeoutMs = (a['timeout'] as number | undefined) ?? 30_000;
  if (timeoutMs > FAULT_BOUNDS.maxActionTimeoutMs || timeoutMs === 0)
    bad(
      join(path, 'timeout'),
      timeoutMs === 0 ? 'a timeout of 0 stops the action at once' : 'an action timeout is at most 10m',
      'e.g. timeout: 30s',
    );
  const kinds = ['command', 'http', 'signal'].filter((k) => w.has(join(path, k)));
  if (kinds.length !== 1) {
    bad(
      path,
      kinds.length === 0
        ? 'an action needs a way to run: `command`, `http` or `signal`'
        : `an action is one of command, http or signal; got ${kinds.join(' and ')}`,
      'e.g. action: { signal: { pidFile: replica-2.pid, signal: SIGKILL } } or action: { command: [systemctl, start, model@2] }',
      'key',
    );
    return undefined;
  }
  if (a['command'] !== undefined) {
    const c = a['command'];
    if (Array.isArray(c)) return { kind: 'command', argv: c.map(String), timeoutMs };
    const split = splitCommand(String(c));
    if (!split.ok) {
      bad(join(path, 'command'), split.message, 'quote arguments with spaces, or give a list');
      return undefined;
    }
    return { kind: 'command', argv: split.argv, timeoutMs };
  }
  if (a['http'] !== undefined) {
    const hx = a['http'] as Raw;
    if (hx['url'] === undefined) return undefined;
    if (hx['body'] !== undefined && hx['json'] !== undefined)
      bad(join(path, 'http.json'), 'give `body` or `json`, not both', undefined, 'key');
    const headers = { ...((hx['headers'] ?? {}) as Record<string, string>) };
    let body = hx['body'] !== undefined ? String(hx['body']) : undefined;
    if (hx['json'] !== undefined) {
      body = JSON.stringify(hx['json']);
      if (!Object.keys(headers).includes('content-type')) headers['content-type'] = 'application/json';
    }
    return {
      kind: 'http',
      method: String(hx['method'] ?? 'POST').toUpperCase(),
      url: String(hx['url']),
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs,
    };
  }
  const s = a['signal'] as Raw | undefined;
  if (!s) return undefined;
  if ((s['pid'] === undefined) === (s['pidFile'] === undefined)) {
    bad(
      join(path, 'signal'),
      'a signal needs its process: `pid` or `pidFile` (one of them)',
      'e.g. signal: { pidFile: replica-2.pid, signal: SIGKILL }',
      'key',
    );
    return undefined;
  }
  return {
    kind: 'signal',
    signal: String(s['signal'] ?? 'SIGTERM'),
    ...(s['pid'] !== undefined ? { pid: s['pid'] as number } : { pidFile: ctx.resolveFile(String(s['pidFile'])) }),
    timeoutMs,
  };
}

/**
 * `--time-scale F`: the timeline's times (at, for) are the run's schedule and scale with it; a
 * fault's own attributes (latency, a stall) and an action's timeout are the fault and the target's
 * limits, so they stay — a scaled plan is the same test, shorter.
 */
export function scaleFaults(faults: FaultsPlan, factor: number): FaultsPlan {
  const f = (x: number): number => (x === 0 ? 0 : Math.max(1, Math.round(x * factor)));
  return {
    ...faults,
    timeline: faults.timeline.map((e) =>
      e.kind === 'fault'
        ? { ...e, atMs: f(e.atMs), forMs: f(e.forMs) }
        : { ...e, atMs: f(e.atMs), ...(e.forMs !== undefined ? { forMs: f(e.forMs) } : {}) },
    ),
  };
}
