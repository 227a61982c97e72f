/**
 * `checks.network` (docs/checks.md#network): TCP connect and TLS handshake times to the target, and a
 * payload-size sweep against a path the plan names (an echo or sink endpoint, or the model endpoint if
 * it accepts padded bodies). Run by src/checks/network.ts.
 */
import type { CheckBuildContext, CheckKindSyntax } from './check-kinds.js';
import { join, unitSpec } from './spec.js';
import type { FieldSpec, ObjectSpec, Raw, Walker } from './spec.js';
import { SIZE_PATTERN, tryParseSize } from './units.js';

export interface NetworkCheckPlan {
  /** The target's base URL (its host and port are what is measured). */
  url: string;
  /** Connections opened (and TLS handshakes, on https) for the percentiles. */
  samples: number;
  /** Pause between samples, so they do not measure a burst. */
  intervalMs: number;
  /** Deadline of each connect or handshake. */
  timeoutMs: number;
  payload?: {
    /** Full URL the bodies are sent to. */
    url: string;
    method: string;
    headers: Record<string, string>;
    fromBytes: number;
    toBytes: number;
    /** Requests per size (the median is used). */
    repeats: number;
    /** Deadline of each request. */
    timeoutMs: number;
  };
}

/** Largest body the sweep sends: bigger sweeps are a load test, not a check. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

/** A size key with its default (the unit spec every size key of a plan uses; its own words in the schema). */
const size = (description: string, def: string): FieldSpec => {
  const u = unitSpec('a size like `1KiB`', SIZE_PATTERN, tryParseSize, true) as FieldSpec & { schema: object };
  return { ...u, default: def, schema: { ...u.schema, description } } as FieldSpec;
};

const spec: ObjectSpec = {
  t: 'object',
  what: 'network check',
  description: 'TCP connect and TLS handshake times to the target; with `payload`, a request-size sweep.',
  fields: {
    samples: { t: 'int', min: 1, max: 1000, default: 20, description: 'Connections opened for the percentiles.' },
    interval: { t: 'duration', default: '50ms', description: 'Pause between samples.' },
    timeout: { t: 'duration', positive: true, default: '5s', description: 'Deadline of each connect or handshake.' },
    payload: {
      t: 'object',
      what: 'payload sweep',
      description:
        'Request bodies from `from` to `to`, doubling, sent to `path`: latency per size, effective bandwidth and the knee.',
      fields: {
        path: {
          t: 'string',
          required: true,
          pattern: /^\//,
          patternMessage: 'expected a path starting with `/`',
          patternHint: 'e.g. /echo (the reference server) or your model endpoint',
          description: 'Path on the target that takes a body of any size (the reference server: /echo).',
        },
        method: {
          t: 'string',
          default: 'POST',
          pattern: /^[A-Za-z]+$/,
          patternMessage: 'expected an HTTP method such as POST',
          description: 'HTTP method.',
        },
        headers: {
          t: 'map',
          what: 'headers',
          lowerCaseKeys: true,
          values: { t: 'string', headerValue: true },
          description: 'Extra request headers (the target’s headers are sent too).',
        },
        from: size('Smallest body.', '1KiB'),
        to: size('Largest body (at most 256MiB).', '8MiB'),
        repeats: { t: 'int', min: 1, max: 50, default: 3, description: 'Requests per size (the median counts).' },
        timeout: { t: 'duration', positive: true, default: '30s', description: 'Deadline of each request.' },
      },
    },
  },
};

function build(w: Walker, raw: Raw, path: string, ctx: CheckBuildContext): NetworkCheckPlan {
  const out: NetworkCheckPlan = {
    url: ctx.target.url,
    samples: raw['samples'] ?? 20,
    intervalMs: raw['interval'] ?? 50,
    timeoutMs: raw['timeout'] ?? 5000,
  };
  const p = raw['payload'] as Raw | undefined;
  if (p && typeof p['path'] === 'string') {
    const from = (p['from'] as number | undefined) ?? 1024;
    const to = (p['to'] as number | undefined) ?? 8 * 1024 * 1024; // 8MiB
    if (from < 1) w.problemAt(join(path, 'payload.from'), 'the smallest body must be at least 1B');
    if (to < from)
      w.problemAt(join(path, 'payload.to'), `\`to\` (${to} bytes) is smaller than \`from\` (${from} bytes)`);
    if (to > MAX_PAYLOAD_BYTES)
      w.problemAt(join(path, 'payload.to'), `\`to\` is larger than 256MiB`, 'a sweep this large is a load test');
    const headers = { ...((p['headers'] ?? {}) as Record<string, string>) };
    ctx.sensitiveHeaders(join(path, 'payload.headers'), headers);
    out.payload = {
      url: ctx.target.url.replace(/\/+$/, '') + p['path'],
      method: String(p['method'] ?? 'POST').toUpperCase(),
      headers: { ...ctx.target.headers, ...headers },
      fromBytes: Math.max(1, from),
      toBytes: Math.max(from, to),
      repeats: p['repeats'] ?? 3,
      timeoutMs: p['timeout'] ?? 30_000,
    };
  }
  return out;
}

export const networkCheckSyntax: CheckKindSyntax<NetworkCheckPlan> = {
  spec,
  figures: {
    'network.connect': { p50: 'ms', p99: 'ms', max: 'ms' },
    'network.tls': { p50: 'ms', p99: 'ms', max: 'ms' },
    'network.payload': { bandwidth: 'bytes_per_s', knee: 'bytes', largest_ok: 'bytes' },
  },
  build,
};
