/**
 * Toxiproxy's toxics ↔ Preflight's `Fault` (pure). A toxic as Toxiproxy's API shows it —
 * `{name, type, stream, toxicity, attributes}` — checked with every problem reported at once (each
 * with its field path and a hint), Toxiproxy's defaults applied to what is missing, and mapped one
 * to one onto a TCP `Fault`; and back, so the API can show what a proxy applies.
 *
 * Preflight extension: `toxicity_per: "request"` draws the toxicity per HTTP/1.1 request instead
 * of per connection (with a keep-alive pool a per-connection draw hits all requests or none).
 */
import type { Problem } from '../core/errors.js';
import type { Fault, FaultDirection, TcpFault } from '../core/faults.js';
import { didYouMean } from '../core/suggest.js';

export const TOXIC_TYPES = [
  'latency',
  'bandwidth',
  'slow_close',
  'timeout',
  'reset_peer',
  'slicer',
  'limit_data',
] as const;
export type ToxicType = (typeof TOXIC_TYPES)[number];

/** A toxic as Toxiproxy's API shows it (with Preflight's `toxicity_per` when it is `request`). */
export interface ToxicJson {
  name: string;
  type: ToxicType;
  stream: FaultDirection;
  toxicity: number;
  attributes: Record<string, number>;
  toxicity_per?: 'request';
}

export type ToxicResult = { ok: true; toxic: ToxicJson } | { ok: false; problems: Problem[] };

interface AttributeSpec {
  /** Toxiproxy's default when the attribute is missing (Go's zero value). */
  def: number;
  min: number;
  max: number;
  unit: string;
}

const HOUR_MS = 3_600_000;
const ms = (what: string): AttributeSpec => ({ def: 0, min: 0, max: HOUR_MS, unit: `ms (${what})` });

/**
 * Each type's attributes, in Toxiproxy's units. All are integers there (Go ints); the upper bounds
 * are Preflight's: beyond them a value is a typo (an hour of latency, 10 GB/s), not a test.
 */
export const TOXIC_ATTRIBUTES: Readonly<Record<ToxicType, Readonly<Record<string, AttributeSpec>>>> = {
  latency: { latency: ms('added to each chunk'), jitter: ms('± uniform') },
  bandwidth: { rate: { def: 0, min: 0, max: 10_000_000, unit: 'KB/s (0: no limit)' } },
  slow_close: { delay: ms('before the close is passed on') },
  timeout: { timeout: ms('then closed; 0: held until the toxic is removed') },
  reset_peer: { timeout: ms('then reset; 0: at once') },
  slicer: {
    average_size: { def: 0, min: 1, max: 1_048_576, unit: 'bytes' },
    size_variation: { def: 0, min: 0, max: 1_048_575, unit: 'bytes (less than average_size)' },
    delay: { def: 0, min: 0, max: 60_000_000, unit: 'µs between slices' },
  },
  limit_data: { bytes: { def: 0, min: 0, max: 1e12, unit: 'bytes' } },
};

const TOP_KEYS = ['name', 'type', 'stream', 'toxicity', 'attributes', 'toxicity_per'];
const STREAMS: readonly FaultDirection[] = ['downstream', 'upstream'];

const at = (prefix: string, key: string): string => (prefix ? `${prefix}.${key}` : key);
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const show = (x: unknown): string => (typeof x === 'string' ? `"${x}"` : (JSON.stringify(x) ?? String(x)));

/** Not toxics, or not Toxiproxy's: what to do instead. */
const NOT_A_TOXIC: Record<string, string> = {
  down: 'the upstream down is not a toxic: update the proxy with {"enabled": false} (POST /proxies/{name})',
  noop: 'a noop toxic does nothing: leave it out',
};

/** A new toxic from its JSON (POST /proxies/{name}/toxics): defaults as Toxiproxy's, every problem at once. */
export function parseToxic(input: unknown, path = ''): ToxicResult {
  const problems: Problem[] = [];
  if (!isObject(input))
    return {
      ok: false,
      problems: [
        {
          path: path || undefined,
          message: `a toxic must be a JSON object, got ${show(input)}`,
          hint: 'e.g. {"type": "latency", "attributes": {"latency": 200}}',
        },
      ],
    };
  unknownKeys(input, TOP_KEYS, path, 'toxic field', problems);
  const type = toxicType(input.type, at(path, 'type'), problems);
  const stream = streamOf(input.stream ?? 'downstream', at(path, 'stream'), problems);
  const toxicity = toxicityOf(input.toxicity ?? 1, at(path, 'toxicity'), problems);
  const per = perOf(input.toxicity_per, at(path, 'toxicity_per'), problems);
  let name = `${type ?? String(input.type)}_${stream ?? 'downstream'}`; // Toxiproxy's default name
  if (input.name !== undefined) name = nameOf(input.name, at(path, 'name'), problems) ?? name;
  const attributes = type ? attributesOf(type, input.attributes ?? {}, {}, at(path, 'attributes'), problems) : {};
  if (problems.length > 0 || !type || !stream || toxicity === undefined) return { ok: false, problems };
  const toxic: ToxicJson = { name, type, stream, toxicity, attributes };
  if (per === 'request') toxic.toxicity_per = 'request';
  return { ok: true, toxic };
}

/**
 * An update (POST/PATCH /proxies/{name}/toxics/{toxic}): attributes, toxicity and `toxicity_per`
 * merge onto the existing toxic, as Toxiproxy's. Name, type and stream may be repeated (clients send
 * the whole toxic) but not changed: Toxiproxy ignores a change silently; Preflight says so.
 */
export function updateToxic(existing: ToxicJson, input: unknown, path = ''): ToxicResult {
  const problems: Problem[] = [];
  if (!isObject(input))
    return { ok: false, problems: [{ path: path || undefined, message: `an update must be a JSON object` }] };
  unknownKeys(input, TOP_KEYS, path, 'toxic field', problems);
  for (const key of ['name', 'type', 'stream'] as const)
    if (input[key] !== undefined && input[key] !== existing[key])
      problems.push({
        path: at(path, key),
        message: `a toxic's ${key} cannot change (${show(existing[key])} → ${show(input[key])})`,
        hint: 'delete the toxic and add a new one',
      });
  const toxicity =
    input.toxicity === undefined ? existing.toxicity : toxicityOf(input.toxicity, at(path, 'toxicity'), problems);
  const per =
    input.toxicity_per === undefined
      ? (existing.toxicity_per ?? 'connection')
      : perOf(input.toxicity_per, at(path, 'toxicity_per'), problems);
  const attributes = attributesOf(
    existing.type,
    input.attributes ?? {},
    existing.attributes,
    at(path, 'attributes'),
    problems,
  );
  if (problems.length > 0 || toxicity === undefined) return { ok: false, problems };
  const toxic: ToxicJson = { ...existing, toxicity, attributes };
  delete toxic.toxicity_per;
  if (per === 'request') toxic.toxicity_per = 'request';
  return { ok: true, toxic };
}

/**
 * The `Fault` a toxic applies; null when it has no effect (a bandwidth `rate` of 0 is no limit in
 * Toxiproxy, so nothing is given to the proxy).
 */
export function faultOfToxic(t: ToxicJson): Fault | null {
  const a = t.attributes;
  let fault: TcpFault;
  switch (t.type) {
    case 'latency':
      fault = { type: 'latency', latencyMs: a.latency, jitterMs: a.jitter };
      break;
    case 'bandwidth':
      if (a.rate === 0) return null;
      fault = { type: 'bandwidth', bytesPerSecond: a.rate * 1000 };
      break;
    case 'slow_close':
      fault = { type: 'slow_close', delayMs: a.delay };
      break;
    case 'timeout':
      fault = { type: 'timeout', timeoutMs: a.timeout };
      break;
    case 'reset_peer':
      fault = { type: 'reset_peer', timeoutMs: a.timeout };
      break;
    case 'slicer':
      fault = { type: 'slicer', averageSize: a.average_size, sizeVariation: a.size_variation, delayMs: a.delay / 1000 };
      break;
    case 'limit_data':
      fault = { type: 'limit_data', bytes: a.bytes };
      break;
  }
  return {
    layer: 'tcp',
    name: t.name,
    direction: t.stream,
    toxicity: { share: t.toxicity, per: t.toxicity_per ?? 'connection' },
    fault,
  };
}

/** A TCP fault as a Toxiproxy toxic (null for `down`, which is a proxy's `enabled: false`, and HTTP faults). */
export function toxicOfFault(f: Fault): ToxicJson | null {
  if (f.layer !== 'tcp') return null;
  const x = f.fault;
  let type: ToxicType;
  let attributes: Record<string, number>;
  switch (x.type) {
    case 'down':
      return null;
    case 'latency':
      [type, attributes] = ['latency', { latency: x.latencyMs, jitter: x.jitterMs }];
      break;
    case 'bandwidth':
      [type, attributes] = ['bandwidth', { rate: x.bytesPerSecond / 1000 }];
      break;
    case 'slow_close':
      [type, attributes] = ['slow_close', { delay: x.delayMs }];
      break;
    case 'timeout':
      [type, attributes] = ['timeout', { timeout: x.timeoutMs }];
      break;
    case 'reset_peer':
      [type, attributes] = ['reset_peer', { timeout: x.timeoutMs }];
      break;
    case 'slicer':
      [type, attributes] = [
        'slicer',
        { average_size: x.averageSize, size_variation: x.sizeVariation, delay: Math.round(x.delayMs * 1000) },
      ];
      break;
    case 'limit_data':
      [type, attributes] = ['limit_data', { bytes: x.bytes }];
      break;
  }
  const toxic: ToxicJson = { name: f.name, type, stream: f.direction, toxicity: f.toxicity.share, attributes };
  if (f.toxicity.per === 'request') toxic.toxicity_per = 'request';
  return toxic;
}

/**
 * `preflight proxy --toxic 'latency:latency=200,jitter=50,stream=downstream,toxicity=0.5'` → the
 * toxic's JSON, then checked as the API checks it. `name`, `stream`, `toxicity` and `toxicity_per`
 * are the toxic's own fields; every other key is an attribute.
 */
export function parseToxicFlag(text: string, path: string): ToxicResult {
  const colon = text.indexOf(':');
  const type = (colon < 0 ? text : text.slice(0, colon)).trim();
  const rest = colon < 0 ? '' : text.slice(colon + 1);
  const json: Record<string, unknown> = { type };
  const attributes: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const part of rest.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) {
      problems.push({
        path,
        message: `\`${part.trim()}\` is not key=value`,
        hint: "e.g. --toxic 'latency:latency=200,jitter=50,toxicity=0.5'",
      });
      continue;
    }
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    const num = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    if (key === 'name' || key === 'stream' || key === 'toxicity_per') json[key] = raw;
    else if (key === 'toxicity') json.toxicity = num;
    else attributes[key] = num;
  }
  json.attributes = attributes;
  const r = parseToxic(json, path);
  return r.ok ? (problems.length ? { ok: false, problems } : r) : { ok: false, problems: [...problems, ...r.problems] };
}

function unknownKeys(
  input: Record<string, unknown>,
  known: readonly string[],
  path: string,
  noun: string,
  problems: Problem[],
): void {
  for (const k of Object.keys(input))
    if (!known.includes(k))
      problems.push({ path: at(path, k), message: `unknown ${noun} \`${k}\``, hint: didYouMean(k, known) });
}

function toxicType(x: unknown, path: string, problems: Problem[]): ToxicType | undefined {
  if (typeof x !== 'string' || x === '') {
    problems.push({
      path,
      message: x === undefined ? 'missing toxic type' : `toxic type must be a string, got ${show(x)}`,
      hint: `types: ${TOXIC_TYPES.join(', ')}`,
    });
    return undefined;
  }
  if ((TOXIC_TYPES as readonly string[]).includes(x)) return x as ToxicType;
  problems.push({
    path,
    message: `unknown toxic type \`${x}\``,
    hint: NOT_A_TOXIC[x] ?? didYouMean(x, TOXIC_TYPES, 'types'),
  });
  return undefined;
}

function streamOf(x: unknown, path: string, problems: Problem[]): FaultDirection | undefined {
  // Toxiproxy reads the stream case-insensitively.
  const s = typeof x === 'string' ? x.toLowerCase() : undefined;
  if (s === 'upstream' || s === 'downstream') return s;
  problems.push({
    path,
    message: `stream was invalid, can be either upstream or downstream (got ${show(x)})`,
    hint: `${typeof x === 'string' ? `${didYouMean(x, STREAMS)} ` : ''}downstream = target → client (responses), upstream = client → target (requests)`,
  });
  return undefined;
}

function toxicityOf(x: unknown, path: string, problems: Problem[]): number | undefined {
  if (typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1) return x;
  problems.push({
    path,
    message: `toxicity must be a number from 0 to 1, got ${show(x)}`,
    hint: 'the share of connections (or requests, with toxicity_per: "request") affected: 0.5 = half',
  });
  return undefined;
}

function perOf(x: unknown, path: string, problems: Problem[]): 'connection' | 'request' | undefined {
  if (x === undefined || x === 'connection' || x === 'request') return x ?? 'connection';
  problems.push({
    path,
    message: `toxicity_per must be "connection" or "request", got ${show(x)}`,
    hint: '"request" (a Preflight extension) draws the toxicity per HTTP/1.1 request; "connection" as Toxiproxy',
  });
  return undefined;
}

function nameOf(x: unknown, path: string, problems: Problem[]): string | undefined {
  if (typeof x === 'string' && x.length > 0 && x.length <= 200 && !/[/?#\p{Cc}]/u.test(x)) return x;
  problems.push({
    path,
    message: `toxic name must be a non-empty string of at most 200 characters without / ? # or control characters, got ${show(x)}`,
    hint: 'leave it out for Toxiproxy\'s default "<type>_<stream>"',
  });
  return undefined;
}

function attributesOf(
  type: ToxicType,
  x: unknown,
  base: Record<string, number>,
  path: string,
  problems: Problem[],
): Record<string, number> {
  const spec = TOXIC_ATTRIBUTES[type];
  const out: Record<string, number> = {};
  for (const [k, s] of Object.entries(spec)) out[k] = base[k] ?? s.def;
  if (!isObject(x)) {
    problems.push({ path, message: `attributes must be a JSON object, got ${show(x)}`, hint: attributeHint(type) });
    return out;
  }
  unknownKeys(x, Object.keys(spec), path, `${type} attribute`, problems);
  const bad = new Set<string>();
  for (const [k, s] of Object.entries(spec)) {
    if (x[k] === undefined) continue;
    const v = x[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      bad.add(k);
      problems.push({
        path: at(path, k),
        message: `${k} must be a number in ${s.unit}, got ${show(v)}`,
        hint: typeof v === 'string' ? `write the number alone, e.g. ${parseFloat(v) || 100}` : undefined,
      });
      continue;
    }
    out[k] = v;
  }
  for (const [k, s] of Object.entries(spec)) {
    const v = out[k];
    if (bad.has(k)) continue;
    if (!Number.isInteger(v))
      problems.push({ path: at(path, k), message: `${k} must be a whole number (${s.unit}), got ${v}` });
    else if (v < s.min || v > s.max)
      problems.push({
        path: at(path, k),
        message: `${k} ${v} is out of range: ${s.min} to ${s.max.toLocaleString('en-US')} ${s.unit}${x[k] === undefined ? ` (${s.def} is Toxiproxy's default when it is missing)` : ''}`,
        hint: v < 0 ? `${k} cannot be negative` : attributeHint(type),
      });
  }
  if (type === 'slicer' && bad.size === 0 && out.size_variation >= out.average_size && out.average_size >= 1)
    problems.push({
      path: at(path, 'size_variation'),
      message: `size_variation ${out.size_variation} must be less than average_size ${out.average_size}`,
      hint: `e.g. average_size ${out.average_size}, size_variation ${Math.floor(out.average_size / 2)}`,
    });
  return out;
}

function attributeHint(type: ToxicType): string {
  const spec = TOXIC_ATTRIBUTES[type];
  return `${type} attributes: ${Object.entries(spec)
    .map(([k, s]) => `${k} (${s.unit})`)
    .join(', ')}`;
}
