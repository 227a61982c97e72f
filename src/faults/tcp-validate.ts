/**
 * Checks a TCP fault before the proxy applies it: every problem at once, each naming its field
 * (`fault.latencyMs`, `toxicity.share`, …), with the allowed range as a hint.
 */
import { PlanError, type Problem } from '../core/errors.js';
import type { Fault, TcpFault } from '../core/faults.js';

/** The longest time a TCP fault may take (latency, delays, timeouts): one hour. */
export const MAX_FAULT_MS = 3_600_000;
const MAX_BYTES = 2 ** 40;

/** The TCP fault types and their attributes (ms, bytes, bytes per second). */
export const TCP_FAULT_ATTRIBUTES: Readonly<Record<TcpFault['type'], readonly string[]>> = {
  latency: ['latencyMs', 'jitterMs'],
  bandwidth: ['bytesPerSecond'],
  slow_close: ['delayMs'],
  timeout: ['timeoutMs'],
  reset_peer: ['timeoutMs'],
  slicer: ['averageSize', 'sizeVariation', 'delayMs'],
  limit_data: ['bytes'],
  down: [],
};

/** Problems with `fault` as a TCP fault (empty when it is valid). */
export function tcpFaultProblems(fault: unknown): Problem[] {
  const problems: Problem[] = [];
  const f = fault as Partial<Fault> | null;
  if (f === null || typeof f !== 'object') return [{ message: 'a fault must be an object', path: 'fault' }];
  const label = typeof f.name === 'string' && f.name !== '' ? `fault '${f.name}': ` : 'fault: ';
  const add = (path: string, message: string, hint?: string) =>
    problems.push({ path, message: `${label}${message}`, ...(hint ? { hint } : {}) });

  if (f.layer !== 'tcp') {
    add(
      'layer',
      `the TCP fault proxy applies only layer 'tcp' faults (got ${JSON.stringify(f.layer)})`,
      "HTTP faults (abort, delay, SSE) are applied by the HTTP fault proxy; give this one layer 'http' there",
    );
    return problems;
  }
  if (typeof f.name !== 'string' || f.name === '') add('name', 'name must be a non-empty string');
  if (f.direction !== 'downstream' && f.direction !== 'upstream')
    add(
      'direction',
      `unknown direction ${JSON.stringify(f.direction)}`,
      "'downstream' (target → client, responses) or 'upstream' (client → target, requests)",
    );
  const t = f.toxicity as Partial<Fault['toxicity']> | undefined;
  if (t === null || typeof t !== 'object') add('toxicity', 'toxicity must be { share, per }');
  else {
    if (typeof t.share !== 'number' || !Number.isFinite(t.share) || t.share < 0 || t.share > 1)
      add('toxicity.share', `share must be a number from 0 to 1 (got ${show(t.share)})`, 'e.g. 0.5 = half');
    if (t.per !== 'connection' && t.per !== 'request')
      add('toxicity.per', `per must be 'connection' or 'request' (got ${JSON.stringify(t.per)})`);
  }
  const tf = f.fault as Record<string, unknown> | undefined;
  if (tf === null || typeof tf !== 'object') {
    add('fault', 'fault must be an object with a type');
    return problems;
  }
  const type = tf['type'] as TcpFault['type'];
  const attrs = TCP_FAULT_ATTRIBUTES[type];
  if (typeof type !== 'string' || attrs === undefined || !Object.hasOwn(TCP_FAULT_ATTRIBUTES, type)) {
    add(
      'fault.type',
      `unknown TCP fault type ${JSON.stringify(type)}`,
      `one of ${Object.keys(TCP_FAULT_ATTRIBUTES).join(', ')}`,
    );
    return problems;
  }
  for (const k of Object.keys(tf))
    if (k !== 'type' && !attrs.includes(k))
      add(
        `fault.${k}`,
        `unknown attribute '${k}' for ${type}`,
        attrs.length ? `${type} takes ${attrs.join(', ')}` : `${type} takes no attributes`,
      );
  const ms = (k: string, min = 0) => range(k, min, MAX_FAULT_MS, 'ms', false);
  const range = (k: string, min: number, max: number, unit: string, integer: boolean) => {
    const v = tf[k];
    if (typeof v !== 'number' || !Number.isFinite(v))
      add(`fault.${k}`, `${k} must be a number (got ${show(v)})`, `${min} to ${max} ${unit}`);
    else if (v < min || v > max || (integer && !Number.isInteger(v)))
      add(
        `fault.${k}`,
        `${k} must be ${integer ? 'an integer ' : ''}from ${min} to ${max} ${unit} (got ${v})`,
        min === 0 ? undefined : `at least ${min}`,
      );
  };
  switch (type) {
    case 'latency':
      ms('latencyMs');
      ms('jitterMs');
      break;
    case 'bandwidth':
      // 0 = no limit, as Toxiproxy's rate 0.
      range('bytesPerSecond', 0, 1e12, 'bytes/s', false);
      break;
    case 'slow_close':
      ms('delayMs');
      break;
    case 'timeout':
    case 'reset_peer':
      ms('timeoutMs');
      break;
    case 'slicer': {
      range('averageSize', 1, 16 * 2 ** 20, 'bytes', true);
      range('sizeVariation', 0, 16 * 2 ** 20, 'bytes', true);
      ms('delayMs');
      const avg = tf['averageSize'];
      const vary = tf['sizeVariation'];
      if (typeof avg === 'number' && typeof vary === 'number' && vary >= avg && avg >= 1)
        add('fault.sizeVariation', `sizeVariation (${vary}) must be less than averageSize (${avg})`);
      break;
    }
    case 'limit_data':
      range('bytes', 0, MAX_BYTES, 'bytes', true);
      break;
    case 'down':
      break;
  }
  return problems;
}

/** Throws a PlanError (E_PLAN_INVALID) listing every problem with `fault` as a TCP fault. */
export function assertTcpFault(fault: unknown): asserts fault is Fault & { layer: 'tcp' } {
  const problems = tcpFaultProblems(fault);
  if (problems.length > 0)
    throw new PlanError(
      problems,
      `invalid TCP fault: ${problems.map((p) => `${p.message}${p.path ? ` (${p.path})` : ''}`).join('; ')}`,
    );
}

function show(v: unknown): string {
  if (typeof v === 'number') return String(v);
  return v === undefined ? 'nothing' : JSON.stringify(v);
}
