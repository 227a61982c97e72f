/**
 * Each protocol's rules, in one place: which scenario keys it takes and what it needs to build its
 * requests. `resolve.ts` applies all of them to the plan text (problems located at line:column, with
 * a hint); `createAdapter` (protocols/) applies `protocolNeeds` to the resolved ScenarioPlan, so a
 * plan built in code gets the same answer before any adapter is built. They live in plan/ because
 * the import rule keeps plan/ below protocols/ and validation must locate them in the file.
 */
import type { Problem } from '../core/errors.js';
import type { ProtocolName, ScenarioCommon } from './types.js';

/** What the rules read of a scenario. Keys are below the scenario: `model`, `request.body`, … */
export interface ScenarioKeys {
  name: string;
  protocol: ProtocolName;
  /** The key is given. */
  has(key: string): boolean;
  /** The key is given, or a misspelling of it was already reported (no second "needs" problem). */
  meant(key: string): boolean;
  /** A value under the scenario (`torchserve.payload`), undefined when absent. */
  get(key: string): unknown;
  /** The request body (`request.body`, else `request.json`) as a JSON value; undefined when absent or not JSON. */
  requestJson(): unknown;
}

/** Reports a problem at a key below the scenario ('' for the scenario itself). */
export type Report = (key: string, message: string, hint?: string, prefer?: 'key') => void;

const MODEL_PROTOCOLS: readonly ProtocolName[] = ['kserve-v2', 'tfserving', 'torchserve'];

function isJsonObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Every rule of the scenario's protocol (plan text). */
export function protocolRules(s: ScenarioKeys, report: Report): void {
  const { name, protocol } = s;
  const forbid = (k: string, why: string, hint?: string): void => {
    if (s.has(k)) report(k, `\`${k}\` ${why}`, hint, 'key');
  };
  if (protocol === 'http') {
    if (!s.meant('request')) {
      report(
        '',
        `scenario \`${name}\` (protocol http) needs \`request\``,
        'e.g. request: { method: GET, path: /health }; for model servers set protocol: kserve-v2, tfserving, torchserve or openai',
        'key',
      );
    } else if (s.has('request') && !s.meant('request.path')) {
      report(
        'request.path',
        'request is missing `path`',
        'path: the path and query, starting with /, e.g. /v2/models/digits/infer',
        'key',
      );
    }
    for (const k of ['model', 'modelVersion', 'mix'])
      forbid(k, 'needs a model protocol', 'set protocol: kserve-v2, tfserving, torchserve or openai');
    forbid(
      'synthetic',
      'needs a model protocol (shapes come from model metadata)',
      'set protocol: kserve-v2 or tfserving, or use `data`',
    );
  } else {
    for (const k of ['request.method', 'request.path']) {
      if (s.has(k))
        report(
          k,
          `\`${k}\` does not apply to protocol ${protocol}: it builds the URL from \`model\``,
          'for model protocols, `request` takes only body (or json) and headers',
          'key',
        );
    }
  }
  if (protocol === 'openai')
    forbid('synthetic', 'is for tensor protocols (kserve-v2, tfserving)', 'give prompts with `data`');
  for (const k of ['openai', 'tfserving', 'torchserve'])
    if (protocol !== k) forbid(k, `is for protocol ${k}`, `set protocol: ${k}`);
  if (MODEL_PROTOCOLS.includes(protocol) && hasInputs(s) && hasBody(s)) {
    report(
      s.has('request.body') ? 'request.body' : 'request.json',
      `a fixed request body does not combine with \`${s.has('data') ? 'data' : 'synthetic'}\``,
      'remove the body to build requests from the inputs, or remove the inputs to send the fixed body',
      'key',
    );
  }
  if (protocol === 'torchserve' && s.get('torchserve.payload') !== 'raw') {
    for (const k of ['column', 'encoding', 'contentType']) {
      if (s.has(`torchserve.${k}`))
        report(`torchserve.${k}`, `\`${k}\` is for torchserve payload raw`, 'set torchserve.payload: raw', 'key');
    }
  }
  protocolNeeds(s, report);
}

function hasInputs(s: ScenarioKeys): boolean {
  return s.meant('data') || s.meant('synthetic');
}

function hasBody(s: ScenarioKeys): boolean {
  return s.has('request.body') || s.has('request.json');
}

/** What the scenario's protocol needs to build its requests: the rules an adapter cannot run without. */
export function protocolNeeds(s: ScenarioKeys, report: Report): void {
  const { name, protocol } = s;
  const noModel = !s.has('model') && !s.has('mix') && !s.meant('model');
  if (MODEL_PROTOCOLS.includes(protocol)) {
    if (noModel)
      report(
        '',
        `scenario \`${name}\` (protocol ${protocol}) needs \`model\` (or a \`mix\` of models)`,
        'model: the model name on the server, e.g. digits',
        'key',
      );
    if (!hasInputs(s) && !hasBody(s)) {
      const what =
        protocol === 'torchserve'
          ? '`data` or a fixed `request.body`'
          : '`data`, `synthetic` or a fixed `request.body`';
      report(
        '',
        `scenario \`${name}\` (protocol ${protocol}) needs ${what} to build its requests`,
        protocol === 'torchserve'
          ? 'e.g. data: { file: inputs.csv }'
          : 'e.g. synthetic: { distribution: uniform, low: 0, high: 16 }',
        'key',
      );
    }
  }
  if (protocol === 'torchserve') {
    if (s.has('synthetic'))
      report(
        'synthetic',
        '`synthetic` needs model metadata, which torchserve does not publish',
        'use `data` or `request.body`',
        'key',
      );
    if (s.get('torchserve.payload') === 'raw') {
      if (!s.has('torchserve.column'))
        report(
          'torchserve',
          'torchserve payload raw needs `column` (the data column holding the bytes, text or file path)',
          undefined,
          'key',
        );
      if (!s.has('data'))
        report(
          'torchserve',
          'torchserve payload raw reads its bytes from `data`',
          'add data: { file: … } with that column',
          'key',
        );
    }
  }
  if (protocol === 'openai') {
    const body = s.requestJson();
    if (noModel && !(isJsonObject(body) && typeof (body as Record<string, unknown>)['model'] === 'string')) {
      report(
        '',
        `scenario \`${name}\` (protocol openai) needs \`model\``,
        'the model name the server serves, e.g. model: llama-3.1-8b',
        'key',
      );
    }
    // streamed bodies are parsed as events, not kept whole
    const checks = s.get('checks');
    if (Array.isArray(checks) && checks.length > 0)
      report(
        'checks',
        'checks are not available for protocol openai (streamed bodies); use thresholds on errors, ttft, tpot, goodput',
        undefined,
        'key',
      );
    if (s.has('quality')) report('quality', 'quality scoring is not available for protocol openai', undefined, 'key');
    // a body of the wrong type is already reported (and not sent)
    if ((typeof s.get('request.body') === 'string' || s.get('request.json') !== undefined) && !isJsonObject(body)) {
      report(
        s.has('request.json') ? 'request.json' : 'request.body',
        'for protocol openai, the request body must be a JSON object (extra fields of each request)',
        'e.g. json: { temperature: 0, ignore_eos: true }',
      );
    }
  }
}

function tryJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The value at a dotted key below an object; undefined when any step is absent. */
export function dig(o: unknown, key: string): unknown {
  let v: unknown = o;
  for (const k of key.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** A resolved scenario (from a plan file or built in code) as the rules read it. */
export function scenarioKeys(sc: ScenarioCommon): ScenarioKeys {
  // `mix` with no models is no mix (createAdapter sends to `model`); `request.json` became request.body
  const has = (k: string): boolean => (k === 'mix' ? (sc.mix?.models.length ?? 0) > 0 : dig(sc, k) !== undefined);
  return {
    name: sc.name,
    protocol: sc.protocol,
    has,
    meant: has,
    get: (k) => dig(sc, k),
    requestJson: () => tryJson(sc.request?.body),
  };
}

/** The problems `protocolNeeds` finds in a resolved scenario; paths `scenarios.<name>.<key>`, no position. */
export function scenarioNeeds(sc: ScenarioCommon): Problem[] {
  const out: Problem[] = [];
  protocolNeeds(scenarioKeys(sc), (key, message, hint) => {
    out.push({
      path: key ? `scenarios.${sc.name}.${key}` : `scenarios.${sc.name}`,
      message,
      ...(hint ? { hint } : {}),
    });
  });
  return out;
}
