/**
 * The plan file's syntax (camelCase keys, unit strings). Drives validation and the JSON Schema;
 * docs/plan.md documents the same keys. Rules that span several keys (per-executor and per-protocol
 * requirements, cross references) are in resolve.ts.
 */
import { isScalar } from 'yaml';
import { headers, show, unitSpec } from './spec.js';
import type { FieldSpec, ObjectSpec, Spec, StringSpec, Walker } from './spec.js';
export { headers } from './spec.js';
import {
  BANDWIDTH_PATTERN,
  PERCENT_PATTERN,
  RATE_PATTERN,
  SIZE_PATTERN,
  tryParseBandwidth,
  tryParsePercent,
  tryParseRate,
  tryParseSize,
} from './units.js';
import { LIMIT_HINTS, LIMITS } from './limits.js';
import { monitorSpec } from './monitor.js';
import { checksSpec } from './check-kinds.js';
import { costSpecWith } from './cost.js';

export const EXECUTORS = [
  'constant-arrival-rate',
  'ramping-arrival-rate',
  'constant-concurrency',
  'ramping-concurrency',
  'iterations',
  'replay',
] as const;
/** Test profiles (`profile.type`), see docs/profiles.md. */
export const PROFILE_TYPES = [
  'load',
  'stress',
  'soak',
  'spike',
  'burst',
  'sweep',
  'capacity',
  'rollout',
  'replay',
  'resilience',
  'autoscale',
] as const;
export const PROTOCOLS = ['http', 'kserve-v2', 'tfserving', 'torchserve', 'openai'] as const;
/** KServe v2 tensor datatypes. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
/** Per-request SLO keys of `openai.slo` (histograms the openai protocol records). */
export const SLO_KEYS = ['ttft', 'tpot', 'itl', 'e2e'] as const;

/** Scenario names appear in thresholds (`steady.p99`, `steady/group.accuracy`): no dots or slashes. */
export const SCENARIO_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

const dur = (description: string, def?: string): FieldSpec => ({
  t: 'duration',
  description,
  ...(def !== undefined ? { default: def } : {}),
});
const posInt = (description: string, def?: number): FieldSpec => ({
  t: 'int',
  min: 1,
  description,
  ...(def !== undefined ? { default: def } : {}),
});
/** A positive integer with an upper bound (src/plan/limits.ts). */
const bounded = (description: string, max: number, maxHint: string, def?: number): FieldSpec => ({
  t: 'int',
  min: 1,
  max,
  maxHint,
  description,
  ...(def !== undefined ? { default: def } : {}),
});
const str = (description: string, extra: Partial<Omit<StringSpec, 't'>> & { required?: boolean } = {}): FieldSpec => ({
  t: 'string',
  description,
  ...extra,
});

const url: FieldSpec = {
  t: 'string',
  description: 'Base URL: scheme, host, port and an optional base path, e.g. http://127.0.0.1:8080.',
  pattern: /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/,
  patternMessage: 'expected an http:// or https:// URL without query or fragment',
  patternHint: 'e.g. http://127.0.0.1:8080 or https://models.example.com/base',
};

export const targetSpec: ObjectSpec = {
  t: 'object',
  what: 'target',
  description: 'The server under test.',
  fields: {
    url: { ...url, required: true },
    headers,
    connections: bounded(
      'Keep-alive connections per scenario, in total across worker threads; default: opened on demand.',
      LIMITS.connections,
      LIMIT_HINTS.connections,
    ),
    timeout: dur('Deadline for each whole request: from the send to the last response byte.', '30s'),
    connectTimeout: dur('TCP/TLS connect timeout.', '10s'),
    client: str(
      'HTTP client: `auto` is the built-in HTTP/1.1 client (fastest) for http:// and https://; `undici` sends with undici instead.',
      { enum: ['auto', 'undici'], default: 'auto' },
    ),
    tls: {
      t: 'object',
      what: 'tls',
      description: 'TLS options for https:// targets.',
      fields: {
        insecure: { t: 'bool', default: false, description: 'Skip certificate verification (warned about).' },
        caFile: str('PEM file of an extra CA, relative to the plan file.', { nonEmpty: true }),
      },
    },
    ready: {
      t: 'union',
      expected: 'a path starting with `/`, or `false`',
      description:
        'Health-check path polled until it answers 2xx before load starts, or false to skip. Default: /v2/health/ready when every scenario is kserve-v2, /ping when every scenario is torchserve, otherwise no check.',
      string: {
        t: 'string',
        pattern: /^\//,
        patternMessage: 'expected a path starting with `/`',
        patternHint: 'e.g. /health, or false to skip the check',
      },
      bool: { t: 'bool', const: false },
    },
    readyTimeout: dur('How long to wait for the ready path.', '30s'),
  },
};

const scenarioTarget: FieldSpec = {
  t: 'object',
  what: 'scenario target',
  description: 'Override of target for this scenario; headers are merged over target.headers.',
  fields: {
    url,
    headers,
    connections: bounded(
      'Keep-alive connections for this scenario, in total across worker threads.',
      LIMITS.connections,
      LIMIT_HINTS.connections,
    ),
    timeout: dur('Deadline for each whole request: from the send to the last response byte.'),
  },
};

const request: FieldSpec = {
  t: 'object',
  what: 'request',
  description:
    'HTTP request template (protocol http; required there). `{{column}}` in path and body is filled from a data row. Model protocols use only body/json (a fixed request, or extra fields for openai) and headers.',
  fields: {
    method: str('HTTP method (protocol http).', {
      default: 'GET',
      pattern: /^[A-Za-z]+$/,
      patternMessage: 'expected an HTTP method such as GET or POST',
    }),
    path: str('Path and query, starting with / (protocol http: required).', {
      pattern: /^\//,
      patternMessage: 'expected a path starting with `/`',
      patternHint: 'e.g. /v2/models/digits/infer',
    }),
    headers,
    body: { t: 'string', coerce: false, description: 'Literal request body.' },
    json: {
      t: 'any',
      description: 'Request body as a JSON value, serialised once (sets content-type: application/json unless given).',
    },
  },
};

const stageTarget: Spec = {
  t: 'custom',
  schema: {
    description: 'A rate like 100/s (arrival-rate executors) or an integer concurrency (concurrency executors).',
    anyOf: [
      { type: 'string', pattern: RATE_PATTERN },
      { type: 'integer', minimum: 0 },
    ],
  },
  parse: (w: Walker, node: unknown, path: string): unknown => {
    if (!isScalar(node) || node.value === null || node.value === undefined) {
      w.problem(node, path, `expected a rate like \`100/s\` or an integer, got ${w.describe(node)}`);
      return undefined;
    }
    const s = w.scalar(node, path);
    if (!s || s.value === undefined) return undefined;
    if (typeof s.value !== 'string' && typeof s.value !== 'number') {
      w.problem(node, path, `expected a rate like \`100/s\` or an integer, got ${w.describe(node)}`);
      return undefined;
    }
    return { stageTarget: s.value, raw: s.raw, interpolated: s.interpolated };
  },
};

/** A fraction written as a percentage (`10%`) or a number in [0, 1] (`0.1`). */
export const percentSpec = (description: string, def?: string): Spec => ({
  t: 'custom',
  ...(def !== undefined ? { default: def, resolvedDefault: Number(def.replace('%', '')) / 100 } : {}),
  schema: {
    description: `${description} A percentage like 10%, or a fraction like 0.1.`,
    anyOf: [
      { type: 'string', pattern: PERCENT_PATTERN },
      { type: 'number', minimum: 0, maximum: 1 },
    ],
  },
  parse: (w: Walker, node: unknown, path: string): unknown => {
    const s = isScalar(node) ? w.scalar(node, path) : undefined;
    if (
      !s ||
      s.value === undefined ||
      s.value === null ||
      (typeof s.value !== 'string' && typeof s.value !== 'number')
    ) {
      if (!s || s.value !== undefined)
        w.problem(node, path, `expected a percentage like \`10%\` or a fraction like \`0.1\`, got ${w.describe(node)}`);
      return undefined;
    }
    if (typeof s.value === 'number' || /^\s*\d+(\.\d+)?\s*$/.test(String(s.value))) {
      const v = Number(s.value);
      if (!(v >= 0 && v <= 1)) {
        w.problem(
          node,
          path,
          `a fraction is between 0 and 1, got ${s.interpolated ? 'the interpolated value' : s.raw}`,
          `write a percentage, e.g. ${v}%`,
        );
        return undefined;
      }
      return v;
    }
    const r = tryParsePercent(String(s.value));
    if (!r.ok) {
      w.problem(
        node,
        path,
        s.interpolated ? `${show(s.raw)} is not a percentage after interpolation` : r.message,
        r.hint,
      );
      return undefined;
    }
    return r.value;
  },
});

/** capacity precision: relative (`5%`) or absolute (`5/s`). */
const precisionSpec: Spec = {
  t: 'custom',
  default: '5%',
  resolvedDefault: { relative: 0.05 },
  schema: {
    description: 'Search precision: relative like 5% (of the rate found) or absolute like 5/s.',
    anyOf: [
      { type: 'string', pattern: PERCENT_PATTERN },
      { type: 'string', pattern: RATE_PATTERN },
    ],
  },
  parse: (w: Walker, node: unknown, path: string): unknown => {
    const s = isScalar(node) ? w.scalar(node, path) : undefined;
    if (!s || typeof s.value !== 'string') {
      if (!s || s.value !== undefined)
        w.problem(node, path, `expected a percentage like \`5%\` or a rate like \`5/s\`, got ${w.describe(node)}`);
      return undefined;
    }
    if (s.value.trim().endsWith('%')) {
      const r = tryParsePercent(s.value);
      if (r.ok && r.value > 0) return { relative: r.value };
      w.problem(node, path, r.ok ? 'precision must be more than 0%' : r.message, r.ok ? undefined : r.hint);
      return undefined;
    }
    const r = tryParseRate(s.value);
    if (r.ok && r.value > 0) return { absolute: r.value };
    w.problem(node, path, r.ok ? 'precision must be more than 0/s' : r.message, 'e.g. 5% or 5/s');
    return undefined;
  },
};

const sloSpec: Spec = {
  t: 'object',
  what: 'openai.slo',
  description: 'Per-request SLOs; a request meeting all of them counts towards goodput.',
  fields: Object.fromEntries(
    SLO_KEYS.map((k) => [
      k,
      dur(
        {
          ttft: 'Time to first token.',
          tpot: 'Time per output token.',
          itl: 'Inter-token latency.',
          e2e: 'End-to-end request time.',
        }[k],
      ),
    ]),
  ),
};

const dataSpec: FieldSpec = {
  t: 'object',
  what: 'data',
  description: 'Rows to send, from a file.',
  fields: {
    file: str('CSV, JSON Lines (.jsonl/.ndjson) or JSON array (.json) file, relative to the plan file.', {
      required: true,
      nonEmpty: true,
    }),
    format: str('File format; inferred from the extension when absent.', { enum: ['csv', 'jsonl', 'json'] }),
    order: str('Row order: sequential, shuffle (seeded) or sample (with replacement).', {
      enum: ['sequential', 'shuffle', 'sample'],
      default: 'sequential',
    }),
    inputs: {
      t: 'array',
      minItems: 1,
      description: 'Columns → model input tensors.',
      items: {
        t: 'object',
        what: 'input',
        fields: {
          name: str('Input tensor name.', { required: true, nonEmpty: true }),
          columns: {
            t: 'union',
            required: true,
            expected: 'a list of column names or a range like `p0..p63`',
            description: 'Columns flattened row-major into the tensor: a list, or a range string like p0..p63.',
            string: {
              t: 'string',
              pattern: /^[A-Za-z_][A-Za-z0-9_]*?\d+\.\.([A-Za-z_][A-Za-z0-9_]*?)?\d+$/,
              patternMessage: 'expected a column range like `p0..p63`',
            },
            seq: { t: 'array', minItems: 1, items: { t: 'string', nonEmpty: true } },
          },
          datatype: str('KServe v2 datatype.', { enum: DATATYPES, default: 'FP32' }),
          shape: {
            t: 'array',
            minItems: 1,
            items: { t: 'int', min: -1 },
            description: 'Tensor shape per row batch, -1 for a variable dimension.',
          },
        },
      },
    },
    label: str('Column holding the true label (classification) or value (regression).', { nonEmpty: true }),
    batch: {
      t: 'union',
      expected: 'a positive integer or `{ min, max }`',
      description: 'Rows per request: a fixed number, or drawn uniformly from {min, max}.',
      default: 1,
      number: { t: 'int', min: 1 },
      map: {
        t: 'object',
        what: 'batch',
        fields: { min: { t: 'int', min: 1, required: true }, max: { t: 'int', min: 1, required: true } },
      },
    },
  },
};

const syntheticSpec: FieldSpec = {
  t: 'object',
  what: 'synthetic',
  description: 'Generated inputs (seeded); shape and datatype come from the model metadata.',
  fields: {
    distribution: str('Value distribution.', { enum: ['uniform', 'normal'], default: 'uniform' }),
    low: { t: 'number', description: 'Uniform: lower bound.' },
    high: { t: 'number', description: 'Uniform: upper bound.' },
    mean: { t: 'number', description: 'Normal: mean.' },
    std: { t: 'number', exclusiveMin: 0, description: 'Normal: standard deviation.' },
    batch: posInt('Rows per request.', 1),
  },
};

const qualitySpec: FieldSpec = {
  t: 'object',
  what: 'quality',
  description: 'Score responses: accuracy against labels, or agreement with a golden run.',
  fields: {
    task: str('What the model does.', { enum: ['classification', 'regression'], default: 'classification' }),
    prediction: {
      t: 'union',
      expected: '`argmax`, `{ output: <tensor> }` or `{ path: <json path> }`',
      description:
        'How to read the prediction: argmax of the (first or named) output tensor, or a JSON path into the response.',
      default: 'argmax',
      string: { t: 'string', enum: ['argmax'] },
      map: {
        t: 'object',
        what: 'prediction',
        fields: {
          output: str('Output tensor whose argmax is the prediction.', { nonEmpty: true }),
          path: str('JSON path of the prediction in the response, e.g. $.outputs[0].data[0].', { nonEmpty: true }),
        },
      },
    },
    saveGolden: str('Save responses to this file (a golden run), relative to the plan file.', { nonEmpty: true }),
    golden: {
      t: 'object',
      what: 'golden',
      description: 'Compare responses with a saved golden file.',
      fields: {
        file: str('Golden file, relative to the plan file.', { required: true, nonEmpty: true }),
        tolerance: { t: 'number', min: 0, default: 0, description: 'Absolute tolerance for numeric outputs.' },
      },
    },
    reference: str('Scenario whose accuracy is the light-load reference for accuracy_drop.', { nonEmpty: true }),
  },
};

const traceSpec: FieldSpec = {
  t: 'object',
  what: 'trace',
  description: 'replay: a file of request times (CSV or JSON Lines) replayed as an open workload.',
  fields: {
    file: str('CSV or JSON Lines file of request times, relative to the plan file.', {
      required: true,
      nonEmpty: true,
    }),
    format: str('File format; inferred from the extension when absent.', { enum: ['csv', 'jsonl'] }),
    time: str('Column (or JSON field) holding each request time.', { default: 'timestamp', nonEmpty: true }),
    unit: str('Unit of numeric times (non-numeric values are parsed as ISO 8601 dates).', {
      enum: ['s', 'ms', 'us', 'ns'],
      default: 's',
    }),
    row: str('Column holding the data row each request carries (needs data with order sequential and batch 1).', {
      nonEmpty: true,
    }),
  },
};

const EXECUTOR_RULES: Record<string, { required: string[][] }> = {
  'constant-arrival-rate': { required: [['rate'], ['duration']] },
  'ramping-arrival-rate': { required: [['stages']] },
  'constant-concurrency': { required: [['concurrency', 'vus'], ['duration']] },
  'ramping-concurrency': { required: [['stages']] },
  iterations: {
    required: [
      ['maxRequests', 'iterations'],
      ['concurrency', 'vus'],
    ],
  },
  replay: { required: [['trace']] },
};

export const scenarioSpec: ObjectSpec = {
  t: 'object',
  what: 'scenario',
  description: 'One load pattern against the target.',
  foreignKeys: {
    preAllocatedVUs: 'Preflight sizes its own connections; cap requests in flight with `maxInFlight`',
    maxVUs: 'Preflight sizes its own connections; cap requests in flight with `maxInFlight`',
    timeUnit: 'write the unit in the rate itself, e.g. `rate: 200/s` or `12k/m`',
    exec: 'describe what to send with `request` (protocol http) or `model` and `data`',
    env: 'use ${VAR} in any string value instead',
  },
  fields: {
    executor: {
      t: 'string',
      required: true,
      enum: EXECUTORS,
      description: 'How load is generated.',
      enumHints: {
        'constant-vus': 'Preflight calls it `constant-concurrency`',
        'ramping-vus': 'Preflight calls it `ramping-concurrency`',
        'per-vu-iterations': 'use `iterations` (maxRequests shared by `concurrency` workers)',
        'shared-iterations': 'use `iterations` (maxRequests shared by `concurrency` workers)',
        'externally-controlled': 'not supported; use ramping-concurrency or ramping-arrival-rate',
      },
    },
    protocol: str('Wire protocol.', { enum: PROTOCOLS, default: 'http' }),
    startTime: dur('Offset from the start of the run (with `after`: from the end of that scenario).', '0s'),
    after: str(
      'Start when this scenario ends (plus startTime). A scenario with a planned duration ends then; a count-bounded one (iterations, maxRequests) when its last request has completed.',
      { nonEmpty: true },
    ),
    duration: dur('How long the scenario runs (not for ramping executors: they last the sum of their stages).'),
    maxRequests: posInt('Stop after this many requests (required for the iterations executor).'),
    iterations: { ...posInt('Stop after this many requests.'), aliasOf: 'maxRequests' },
    gracefulStop: dur('After the end, how long requests in flight may finish before they are cancelled.', '10s'),
    rate: {
      t: 'rate',
      positive: true,
      description: 'constant-arrival-rate: requests started per unit of time, e.g. 200/s.',
    },
    startRate: { t: 'rate', description: 'ramping-arrival-rate: rate before the first stage (default 0/s).' },
    arrival: str(
      'Arrival process of arrival-rate executors: evenly spaced, Poisson, or gamma (bursty, see burstiness).',
      { enum: ['uniform', 'poisson', 'gamma'], default: 'uniform' },
    ),
    burstiness: {
      t: 'number',
      exclusiveMin: 0,
      description:
        'arrival gamma: coefficient of variation of the gaps between arrivals (1 = Poisson, 3 = bursty). Default 1.',
    },
    maxInFlight: bounded(
      'Arrival-rate executors: cap on requests in flight; arrivals beyond it wait and count as late.',
      LIMITS.inFlight,
      LIMIT_HINTS.inFlight,
    ),
    concurrency: bounded(
      'Concurrency executors and iterations: requests kept in flight.',
      LIMITS.inFlight,
      LIMIT_HINTS.inFlight,
    ),
    vus: { ...bounded('Requests kept in flight.', LIMITS.inFlight, LIMIT_HINTS.inFlight), aliasOf: 'concurrency' },
    startConcurrency: {
      t: 'int',
      min: 0,
      max: LIMITS.inFlight,
      maxHint: LIMIT_HINTS.inFlight,
      description: 'ramping-concurrency: concurrency before the first stage (default 0).',
    },
    thinkTime: dur('Concurrency executors: pause between a response and the next request.'),
    stages: {
      t: 'array',
      minItems: 1,
      description: 'Ramping executors: linear ramps to each target over each duration.',
      items: {
        t: 'object',
        what: 'stage',
        fields: {
          duration: { t: 'duration', required: true, description: 'Length of the ramp.' },
          target: { ...stageTarget, required: true },
        },
      },
    },
    trace: traceSpec,
    speed: { t: 'number', exclusiveMin: 0, description: 'replay: speed factor (2 = twice as fast). Default 1.' },
    target: scenarioTarget,
    request,
    model: str('Model name (kserve-v2, tfserving, torchserve, openai).', { nonEmpty: true }),
    modelVersion: str('Model version.', { nonEmpty: true }),
    openai: {
      t: 'object',
      what: 'openai',
      description: 'OpenAI-compatible API options (protocol openai).',
      fields: {
        endpoint: str('API endpoint.', { enum: ['chat', 'completions'], default: 'chat' }),
        stream: { t: 'bool', default: true, description: 'Stream responses (needed for ttft, itl and tpot).' },
        maxTokens: posInt('max_tokens of each request.'),
        slo: sloSpec,
      },
    },
    tfserving: {
      t: 'object',
      what: 'tfserving',
      description: 'Protocol tfserving options.',
      fields: {
        format: str('Request form: row ({"instances": [...]}) or columnar ({"inputs": ...}).', {
          enum: ['row', 'columnar'],
          default: 'row',
        }),
        signatureName: str('Signature to call (default serving_default).', { nonEmpty: true }),
        checkStatus: {
          t: 'bool',
          default: true,
          description:
            'Before load, GET /v1/models/{model} must list an AVAILABLE version; false skips this check (a server that only serves :predict).',
        },
      },
    },
    torchserve: {
      t: 'object',
      what: 'torchserve',
      description: 'Protocol torchserve options.',
      fields: {
        payload: str("Request body: json (the row's input values as JSON) or raw (bytes from a data column).", {
          enum: ['json', 'raw'],
          default: 'json',
        }),
        column: str('payload raw: the data column holding the bytes (text, base64, or a file path).', {
          nonEmpty: true,
        }),
        encoding: str('payload raw: how the column holds the bytes.', { enum: ['utf8', 'base64', 'file'] }),
        contentType: str('payload raw: content-type of the request (default application/octet-stream).', {
          nonEmpty: true,
        }),
      },
    },
    mix: {
      t: 'object',
      what: 'mix',
      description: 'Traffic mix of several models; requests are grouped per model in the results.',
      fields: {
        models: {
          t: 'array',
          required: true,
          minItems: 1,
          items: {
            t: 'object',
            what: 'mix model',
            fields: {
              name: str('Results group of this entry (and the model name on the server unless `model` is set).', {
                required: true,
                nonEmpty: true,
              }),
              model: str(
                'Model name on the server, when it differs from `name` (e.g. two versions of one model: name digits-v1, model digits, version v1).',
                { nonEmpty: true },
              ),
              weight: {
                t: 'number',
                exclusiveMin: 0,
                description: 'Relative share of requests (default 1; not with zipf).',
              },
              version: str('Model version.', { nonEmpty: true }),
            },
          },
        },
        zipf: {
          t: 'number',
          exclusiveMin: 0,
          description: 'Zipf exponent: weights follow 1/rank^zipf in list order (instead of weight).',
        },
      },
    },
    data: dataSpec,
    synthetic: syntheticSpec,
    quality: qualitySpec,
    checks: {
      t: 'array',
      items: { t: 'string', nonEmpty: true, coerce: false },
      description:
        'Response checks, e.g. "status == 200", "$.outputs[0].data exists"; a failed check is error class check_failed.',
    },
    tags: { t: 'map', what: 'tags', values: { t: 'string' }, description: 'Free-form labels copied to results.' },
  },
  schemaExtra: {
    allOf: Object.entries(EXECUTOR_RULES).map(([executor, rule]) => ({
      if: { properties: { executor: { const: executor } }, required: ['executor'] },
      then: {
        allOf: rule.required.map((alts) =>
          alts.length === 1 ? { required: alts } : { anyOf: alts.map((a) => ({ required: [a] })) },
        ),
      },
    })),
  },
};

const thresholdObject: Spec = {
  t: 'object',
  what: 'threshold',
  fields: {
    threshold: str('Threshold expression, e.g. "p99 < 250ms".', { required: true, nonEmpty: true, coerce: false }),
    abortOnFail: { t: 'bool', default: false, description: 'Stop the run as soon as this threshold fails.' },
    delayAbortEval: dur('With abortOnFail: do not evaluate before this much time has passed (warm-up).', '0s'),
  },
};

/** Scenario keys that set the load: a profile sets them, so a `scenario:` template does not take them. */
export const LOAD_KEYS = [
  'executor',
  'startTime',
  'after',
  'duration',
  'maxRequests',
  'iterations',
  'rate',
  'startRate',
  'arrival',
  'burstiness',
  'concurrency',
  'vus',
  'startConcurrency',
  'stages',
  'trace',
  'speed',
] as const;

/** The `scenario:` template of a profile plan: what to send, without the load keys. */
export const templateSpec: ObjectSpec = {
  t: 'object',
  what: 'scenario template',
  description:
    'What a profile sends: protocol, request or model and data, checks, quality. The profile sets the load (executor, rates, durations).',
  foreignKeys: Object.fromEntries(
    LOAD_KEYS.map((k) => [
      k,
      k === 'trace' || k === 'speed'
        ? `\`${k}\` goes in \`profile\` (profile type replay)`
        : `the profile sets the load: \`${k}\` does not belong in the scenario template (see docs/profiles.md)`,
    ]),
  ),
  fields: Object.fromEntries(
    Object.entries(scenarioSpec.fields).filter(([k]) => !(LOAD_KEYS as readonly string[]).includes(k)),
  ),
};

const stageLike = (description: string): FieldSpec => ({ ...stageTarget, description }) as FieldSpec;

const recoverySpec: FieldSpec = {
  t: 'object',
  what: 'recovery',
  description: 'When per-window latency and errors count as back to normal (spike, rollout, resilience).',
  fields: {
    latency: percentSpec("A window's p99 may exceed the baseline reference p99 by this much…", '20%'),
    margin: dur('…or by this much, whichever is larger.', '5ms'),
    errors: percentSpec(
      "A window's error rate may exceed the baseline error rate by this much (percentage points).",
      '1%',
    ),
    windows: posInt('Consecutive windows that must meet both.', 3),
  },
};

const steadySpec: FieldSpec = {
  t: 'object',
  what: 'steady',
  description:
    'Steady state of a step (sweep, capacity): the last `windows` measurement windows agree within `tolerance` on throughput and p99.',
  fields: {
    window: { t: 'duration', positive: true, default: '5s', description: 'Measurement window.' },
    tolerance: percentSpec('Largest max/min − 1 of throughput and of p99 over the last windows.', '10%'),
    windows: { t: 'int', min: 2, default: 3, description: 'Windows that must agree.' },
    maxStepDuration: {
      t: 'duration',
      positive: true,
      default: '60s',
      description: 'Most time per step; a step that never stabilises is reported as such.',
    },
  },
};

const memorySpec: FieldSpec = {
  t: 'object',
  what: 'memory',
  description:
    'Target memory, sampled every interval: a local process (pid or pidFile: VmRSS from /proc) or a Prometheus endpoint (url, metric).',
  fields: {
    pid: { t: 'int', min: 1, description: 'Process id of a local target (Linux /proc/<pid>/status VmRSS).' },
    pidFile: str('File holding the pid of a local target, relative to the plan file (read when the run starts).', {
      nonEmpty: true,
    }),
    url: {
      ...url,
      description: 'Prometheus text exposition URL, e.g. http://127.0.0.1:8000/metrics.',
      patternMessage: 'expected an http:// or https:// URL',
    },
    metric: str('Metric read from url (its first sample, or the sum of its samples).', {
      default: 'process_resident_memory_bytes',
      pattern: /^[a-zA-Z_:][a-zA-Z0-9_:]*$/,
      patternMessage: 'expected a Prometheus metric name',
    }),
  },
};

const levelsSpec: FieldSpec = {
  t: 'union',
  expected: 'a list of rates or concurrencies, or `{ from, to, factor | steps }`',
  description:
    'sweep: the levels — rates like 50/s (open model) or integer concurrencies (closed model), as a list or a geometric range.',
  seq: { t: 'array', minItems: 1, items: stageLike('A rate like 50/s or an integer concurrency.') },
  map: {
    t: 'object',
    what: 'levels range',
    fields: {
      from: { ...stageLike('First level: a rate like 10/s or an integer concurrency.'), required: true },
      to: { ...stageLike('Last level (same kind as from).'), required: true },
      factor: { t: 'number', exclusiveMin: 1, description: 'Each level is the previous × factor (default 2).' },
      steps: {
        t: 'int',
        min: 2,
        description: 'Number of levels, geometrically spaced from `from` to `to` (instead of factor).',
      },
    },
  },
};

/** Keys of `profile:`; which types take which is in PROFILE_FIELDS. */
export const profileSpec: ObjectSpec = {
  t: 'object',
  what: 'profile',
  description: 'A test profile: the question this plan asks (see docs/profiles.md). Goes with a `scenario:` template.',
  fields: {
    type: {
      t: 'string',
      required: true,
      enum: PROFILE_TYPES,
      description:
        'The question: load, stress, soak, spike, burst, sweep, capacity, rollout, replay, resilience or autoscale.',
    },
    rate: {
      t: 'rate',
      positive: true,
      description:
        'Arrival rate: load (the expected peak), soak, spike and autoscale (baseline), burst (mean), rollout, resilience.',
    },
    concurrency: bounded(
      'Closed-model alternative to rate (soak, rollout, resilience).',
      LIMITS.inFlight,
      LIMIT_HINTS.inFlight,
    ),
    steps: { t: 'int', min: 1, default: 4, description: 'load: steps up to the rate (the last one is the hold).' },
    stepDuration: { t: 'duration', positive: true, default: '30s', description: 'load, stress: length of each step.' },
    hold: {
      t: 'duration',
      positive: true,
      default: '60s',
      description: 'load: length of the last step, at the rate; autoscale: length of the step up, at peakRate.',
    },
    startRate: {
      t: 'rate',
      positive: true,
      description: 'stress: first rate (default rateStep, or maxRate/10); capacity: first rate probed (default 10/s).',
    },
    rateStep: { t: 'rate', positive: true, description: 'stress: rate added each step (default maxRate/10).' },
    factor: {
      t: 'number',
      exclusiveMin: 1,
      description:
        'stress: multiply the rate by this each step (instead of rateStep); spike: spike rate = factor × rate (default 10); autoscale: peakRate = factor × rate.',
    },
    maxRate: { t: 'rate', positive: true, description: 'stress, capacity: the highest rate tried.' },
    maxDuration: { t: 'duration', positive: true, description: 'stress: bound on the whole run.' },
    stopAfter: posInt('stress: stop after this many consecutive failing steps.', 2),
    errorLimit: percentSpec('stress: a step whose error rate exceeds this fails, thresholds or not.', '5%'),
    duration: {
      t: 'duration',
      positive: true,
      description: 'soak, rollout, resilience: length of the run; burst: length of each phase (default 60s).',
    },
    warmup: dur('soak: left out of the drift analysis (default 10% of the duration, at most 5m).'),
    bucket: dur('soak: windows merged per point of the drift regression (default: about 60 points).'),
    alpha: {
      t: 'number',
      exclusiveMin: 0,
      max: 0.5,
      default: 0.05,
      description: 'soak: significance level of the drift test.',
    },
    minChange: percentSpec(
      'soak: smallest change of latency or memory over the run, relative to its mean, worth calling drift.',
      '10%',
    ),
    minErrorChange: percentSpec(
      'soak: smallest change of the error rate over the run (percentage points) worth calling drift.',
      '1%',
    ),
    memory: memorySpec,
    spikeRate: { t: 'rate', positive: true, description: 'spike: rate during the spike (default factor × rate).' },
    before: {
      t: 'duration',
      positive: true,
      default: '30s',
      description: 'spike: baseline before the spike; autoscale: baseline before the step up.',
    },
    spike: { t: 'duration', positive: true, default: '10s', description: 'spike: length of the spike.' },
    after: {
      t: 'duration',
      positive: true,
      default: '60s',
      description:
        'spike: baseline after the spike (the time allowed to recover); autoscale: baseline after the step down (the time allowed to scale in).',
    },
    recovery: recoverySpec,
    peakRate: { t: 'rate', positive: true, description: 'autoscale: rate of the step up (or factor × rate).' },
    replicas: str('autoscale: the monitor metric with the ready (serving) replica count.', {
      default: 'replicas',
      nonEmpty: true,
    }),
    desired: str(
      'autoscale: the monitor metric with the desired replica count (the scaler’s decision); absent: the ready count.',
      { default: 'replicas_desired', nonEmpty: true },
    ),
    targetRequests: str(
      'resilience: the monitor metric counting the requests the target received (a counter), for retry amplification; default `requests` (presets triton, torchserve, kserve) when the monitor has it.',
      { nonEmpty: true },
    ),
    burstiness: {
      t: 'number',
      exclusiveMin: 0,
      default: 4,
      description: 'burst: coefficient of variation of the gaps between arrivals (1 = Poisson).',
    },
    smooth: str('burst: arrivals of the smooth phase.', { enum: ['uniform', 'poisson'], default: 'uniform' }),
    levels: levelsSpec,
    steady: steadySpec,
    cooldown: dur(
      'sweep, capacity: pause between steps, so the target can drain what the previous step left queued.',
      '5s',
    ),
    precision: precisionSpec,
    minThroughput: percentSpec(
      'capacity: a rate is sustained only when the throughput reaches this fraction of it.',
      '95%',
    ),
    maxSteps: { t: 'int', min: 2, default: 20, description: 'capacity: most probes.' },
    atLeast: { t: 'rate', description: 'capacity: the verdict fails when the capacity found is below this.' },
    at: dur('rollout: when the action starts, from the start of the load (default a third of the duration).'),
    run: {
      t: 'union',
      expected: 'a command line or a list of arguments',
      description:
        'rollout: command to run (no shell unless shell: true), e.g. "kubectl rollout restart deployment/model".',
      string: { t: 'string', nonEmpty: true, coerce: false },
      seq: { t: 'array', minItems: 1, items: { t: 'string', nonEmpty: true } },
    },
    shell: { t: 'bool', default: false, description: 'rollout: run the command with /bin/sh -c.' },
    http: {
      t: 'object',
      what: 'http action',
      description: 'rollout: an HTTP call to the target host instead of a command.',
      fields: {
        method: str('HTTP method.', {
          default: 'POST',
          pattern: /^[A-Za-z]+$/,
          patternMessage: 'expected an HTTP method such as POST',
        }),
        url: str("A path on the target (e.g. /admin/version) or a URL on the target's host.", {
          required: true,
          nonEmpty: true,
        }),
        headers,
        body: { t: 'string', coerce: false, description: 'Literal request body.' },
        json: { t: 'any', description: 'Request body as JSON (sets content-type: application/json).' },
      },
    },
    timeout: dur('rollout: the action is stopped after this long (default: until the end of the run).'),
    trace: traceSpec,
    speed: { t: 'number', exclusiveMin: 0, default: 1, description: 'replay: speed factor (2 = twice as fast).' },
  },
  schemaExtra: {
    allOf: [
      { if: { properties: { type: { const: 'load' } }, required: ['type'] }, then: { required: ['rate'] } },
      { if: { properties: { type: { const: 'stress' } }, required: ['type'] }, then: { required: ['maxRate'] } },
      { if: { properties: { type: { const: 'soak' } }, required: ['type'] }, then: { required: ['duration'] } },
      { if: { properties: { type: { const: 'spike' } }, required: ['type'] }, then: { required: ['rate'] } },
      { if: { properties: { type: { const: 'burst' } }, required: ['type'] }, then: { required: ['rate'] } },
      { if: { properties: { type: { const: 'sweep' } }, required: ['type'] }, then: { required: ['levels'] } },
      { if: { properties: { type: { const: 'capacity' } }, required: ['type'] }, then: { required: ['maxRate'] } },
      { if: { properties: { type: { const: 'rollout' } }, required: ['type'] }, then: { required: ['duration'] } },
      { if: { properties: { type: { const: 'replay' } }, required: ['type'] }, then: { required: ['trace'] } },
      { if: { properties: { type: { const: 'resilience' } }, required: ['type'] }, then: { required: ['duration'] } },
      { if: { properties: { type: { const: 'autoscale' } }, required: ['type'] }, then: { required: ['rate'] } },
    ],
  },
};

/**
 * Which profile types take which keys (every type takes `type`). Keys given to another type are
 * problems with a hint; `required` lists alternatives (one of them is needed).
 */
export const PROFILE_FIELDS: Record<string, { keys: string[]; required: string[][] }> = {
  load: { keys: ['rate', 'steps', 'stepDuration', 'hold', 'memory'], required: [['rate']] },
  stress: {
    keys: [
      'startRate',
      'rateStep',
      'factor',
      'maxRate',
      'stepDuration',
      'maxDuration',
      'stopAfter',
      'errorLimit',
      'memory',
    ],
    required: [['maxRate']],
  },
  soak: {
    keys: ['rate', 'concurrency', 'duration', 'warmup', 'bucket', 'alpha', 'minChange', 'minErrorChange', 'memory'],
    required: [['rate', 'concurrency'], ['duration']],
  },
  spike: {
    keys: ['rate', 'spikeRate', 'factor', 'before', 'spike', 'after', 'recovery', 'memory'],
    required: [['rate']],
  },
  burst: { keys: ['rate', 'burstiness', 'duration', 'smooth', 'memory'], required: [['rate']] },
  sweep: { keys: ['levels', 'steady', 'cooldown'], required: [['levels']] },
  capacity: {
    keys: ['startRate', 'maxRate', 'precision', 'steady', 'cooldown', 'minThroughput', 'maxSteps', 'atLeast'],
    required: [['maxRate']],
  },
  rollout: {
    keys: ['rate', 'concurrency', 'duration', 'at', 'run', 'shell', 'http', 'timeout', 'recovery', 'memory'],
    required: [['rate', 'concurrency'], ['duration'], ['run', 'http']],
  },
  replay: { keys: ['trace', 'speed', 'memory'], required: [['trace']] },
  resilience: {
    keys: ['rate', 'concurrency', 'duration', 'recovery', 'targetRequests', 'memory'],
    required: [['rate', 'concurrency'], ['duration']],
  },
  autoscale: {
    keys: ['rate', 'peakRate', 'factor', 'before', 'hold', 'after', 'replicas', 'desired', 'memory'],
    required: [['rate'], ['peakRate', 'factor']],
  },
};

/** Per-request metrics a canary can judge (Kayenta's `metric`), and what an A/B test's `minimumEffects` may name. */
export const CANARY_METRICS = ['latency', 'service_time', 'ttfb', 'ttft', 'itl', 'error_rate', 'accuracy'] as const;
/** `minimumEffects` keys of an A/B test: latency statistics (durations), error_rate and accuracy (fractions). */
export const AB_EFFECT_KEYS = [
  'latency.p50',
  'latency.p90',
  'latency.p95',
  'latency.p99',
  'latency.median',
  'latency.mean',
  'error_rate',
  'accuracy',
] as const;
export const VARIANT_ROLES = ['control', 'candidate', 'primary', 'secondary'] as const;

/** An action's command: a command line (split like a shell would, run without one) or a list of arguments. */
const commandLine = (description: string): FieldSpec => ({
  t: 'union',
  expected: 'a command line or a list of arguments',
  description,
  string: { t: 'string', nonEmpty: true, coerce: false },
  seq: { t: 'array', minItems: 1, items: { t: 'string', nonEmpty: true } },
});

/** An action's HTTP call (canary actions, timeline actions). */
const httpCallFields: Record<string, FieldSpec> = {
  method: str('HTTP method.', {
    default: 'POST',
    pattern: /^[A-Za-z]+$/,
    patternMessage: 'expected an HTTP method such as POST',
  }),
  url: { ...url, required: true, description: 'Full URL of the call.' },
  headers,
  body: { t: 'string', coerce: false, description: 'Literal request body.' },
};

const actionSpec = (description: string): FieldSpec => ({
  t: 'object',
  what: 'action',
  description: `${description} A command (\`run\`, no shell) or an HTTP call (\`http\`); {{share}} (or $\${SHARE}) in it is replaced by the candidate's share in percent.`,
  fields: {
    run: commandLine('Command to run (no shell), e.g. "kubectl argo rollouts promote model".'),
    http: {
      t: 'object',
      what: 'http action',
      description: 'An HTTP call instead of a command.',
      fields: httpCallFields,
    },
    timeout: dur('The action is stopped (and counts as failed) after this long.', '60s'),
  },
});

/** `comparison:` — A/B, canary or shadow of one scenario's variants (docs/release-comparisons.md). */
export const comparisonSpec: ObjectSpec = {
  t: 'object',
  what: 'comparison',
  description:
    'A release comparison: one scenario sent to two or three variants (versions of the model), judged (docs/release-comparisons.md).',
  fields: {
    kind: str(
      'ab (is B better or worse?), canary (is it safe to go on?) or shadow (does it answer like the old one?).',
      {
        required: true,
        enum: ['ab', 'canary', 'shadow'],
      },
    ),
    scenario: str(
      'The scenario whose traffic is split (ab, canary) or mirrored (shadow); default: the only scenario.',
      {
        nonEmpty: true,
        pattern: SCENARIO_NAME,
        patternMessage: 'scenario names are letters, digits, `_` and `-`',
      },
    ),
    inconclusive: str(
      'What an inconclusive comparison (too little data to decide) does: `pass` (a warning, exit 0; default for ab and shadow), `fail` (exit 3) or `invalid` (exit 4; default for canary).',
      { enum: ['pass', 'fail', 'invalid'] },
    ),
    variants: {
      t: 'array',
      required: true,
      minItems: 2,
      description:
        'The versions compared. ab and canary: two (control first, then candidate); shadow: three (primary, secondary, candidate).',
      items: {
        t: 'object',
        what: 'variant',
        fields: {
          name: str('Results group of this variant (`steady/<name>.p99` in thresholds).', {
            required: true,
            pattern: SCENARIO_NAME,
            patternMessage: 'variant names are letters, digits, `_` and `-` (no dots or slashes: thresholds use them)',
          }),
          role: str(
            'control or candidate (ab, canary); primary, secondary or candidate (shadow). Default: by position.',
            { enum: VARIANT_ROLES },
          ),
          url: { ...url, description: "This variant's base URL (default: the scenario's target)." },
          headers,
          model: str("Model name on this variant's server (default: the scenario's model).", { nonEmpty: true }),
          version: str("Model version (e.g. v2; default: the scenario's modelVersion).", { nonEmpty: true }),
          weight: {
            t: 'number',
            min: 0,
            description: 'ab, canary: relative share of the arrivals (default 1 each: an even split). Not for shadow.',
          },
        },
      },
    },
    ab: {
      t: 'object',
      what: 'ab',
      description: 'A/B options (kind ab).',
      fields: {
        correction: str('Multiple-metric correction: holm (family-wise), bh (false discovery rate) or none.', {
          enum: ['holm', 'bh', 'none'],
          default: 'holm',
        }),
        alpha: { t: 'number', exclusiveMin: 0, max: 0.5, default: 0.05, description: 'Significance level.' },
        power: {
          t: 'number',
          exclusiveMin: 0,
          max: 0.999,
          default: 0.8,
          description: 'Minimum power to call "no difference"; below it a metric is inconclusive.',
        },
        paired: {
          t: 'bool',
          default: false,
          description:
            'Send the same data row to both arms in the same time slot (McNemar for accuracy). Needs data, batch 1 and equal weights.',
        },
        minimumEffects: {
          t: 'map',
          what: 'minimumEffects',
          values: { t: 'any' },
          description:
            'Smallest effects worth detecting, by metric: latency.p99: 10ms, error_rate: 1%, accuracy: 1% (durations or percentages).',
        },
        sequential: {
          t: 'bool',
          default: false,
          description:
            'Look after every window (mSPRT, always-valid) and stop the load early on harm or a settled answer; the verdict is then the always-valid one.',
        },
      },
    },
    canary: {
      t: 'object',
      what: 'canary',
      description: 'Canary options (kind canary), with Kayenta’s keys and defaults.',
      fields: {
        judge: str('preflight (default: tails, spread, sparse errors) or kayenta (NetflixACAJudge, exactly).', {
          enum: ['preflight', 'kayenta'],
          default: 'preflight',
        }),
        metrics: {
          t: 'array',
          minItems: 1,
          description:
            'The judged metrics (default: latency; error_rate, critical; and accuracy, critical, when the data has labels).',
          items: {
            t: 'object',
            what: 'canary metric',
            fields: {
              name: str('Display name (default: the metric).', { nonEmpty: true }),
              metric: str(`What is measured per request: ${CANARY_METRICS.join(', ')}.`, {
                required: true,
                nonEmpty: true,
              }),
              group: str('Score group (default: the metric).', { nonEmpty: true }),
              direction: str('Which change is harmful: increase, decrease or either.', {
                enum: ['increase', 'decrease', 'either'],
                default: 'either',
              }),
              critical: { t: 'bool', default: false, description: 'Not Pass → score 0.' },
              mustHaveData: { t: 'bool', default: false, description: 'No data → a failing metric.' },
              nanStrategy: str('remove or replace (NaN → 0).', { enum: ['remove', 'replace'], default: 'remove' }),
              outliers: {
                t: 'object',
                what: 'outliers',
                fields: {
                  strategy: str('keep or remove.', { enum: ['keep', 'remove'], default: 'keep' }),
                  factor: { t: 'number', exclusiveMin: 0, default: 3, description: 'IQR fence factor.' },
                },
              },
              effectSize: {
                t: 'object',
                what: 'effectSize',
                fields: {
                  measure: str('meanRatio or cles.', { enum: ['meanRatio', 'cles'], default: 'meanRatio' }),
                  allowedIncrease: { t: 'number', min: 0, description: 'Default 1.0 (meanRatio) or 0.5 (cles).' },
                  allowedDecrease: { t: 'number', min: 0, description: 'Default 1.0 (meanRatio) or 0.5 (cles).' },
                  criticalIncrease: { t: 'number', min: 0 },
                  criticalDecrease: { t: 'number', min: 0 },
                },
              },
            },
          },
        },
        groupWeights: {
          t: 'map',
          what: 'groupWeights',
          values: { t: 'number', min: 0, max: 100 },
          description: 'Group weights (percent); groups without one share the rest of 100 equally.',
        },
        marginalPasses: {
          t: 'bool',
          default: false,
          description: 'Let a marginal verdict through (exit 0) instead of stopping (exit 3).',
        },
        onInterrupt: str(
          'Interrupted mid-rollout (Ctrl-C, SIGTERM): rollback (run the rollback action, as Argo Rollouts’ abort) or hold (leave the router where it is).',
          { enum: ['rollback', 'hold'], default: 'rollback' },
        ),
        thresholds: {
          t: 'object',
          what: 'canary thresholds',
          fields: {
            pass: { t: 'number', min: 0, max: 100, default: 95, description: 'Score ≥ pass → pass.' },
            marginal: { t: 'number', min: 0, max: 100, default: 75, description: 'Score ≥ marginal → marginal.' },
          },
        },
        steps: {
          t: 'array',
          minItems: 1,
          description:
            'Progressive rollout: candidate traffic shares, each judged (e.g. [{share: 5%, duration: 30s}, …]). Default: one judgement at the variants’ weights.',
          items: {
            t: 'object',
            what: 'canary step',
            fields: {
              share: { ...percentSpec("The candidate's share of the traffic, in (0, 100%]."), required: true },
              duration: { ...dur('How long this step runs.'), required: true },
            },
          },
        },
        actions: {
          t: 'object',
          what: 'canary actions',
          fields: {
            step: actionSpec('Run before each step (moves a real router to the step’s share).'),
            promote: actionSpec('Run when the last step passed.'),
            rollback: actionSpec('Run at the first failed step.'),
          },
        },
      },
    },
    shadow: {
      t: 'object',
      what: 'shadow',
      description: 'Shadow options (kind shadow), Diffy’s defaults.',
      fields: {
        ignore: {
          t: 'array',
          items: {
            t: 'string',
            nonEmpty: true,
            pattern: /^\$/,
            patternMessage: 'expected a JSON path starting with $',
          },
          description: 'JSON paths not compared, e.g. [$.id, $.model_version].',
        },
        tolerance: {
          t: 'object',
          what: 'tolerance',
          description: 'Numbers within these tolerances are equal.',
          fields: {
            absolute: { t: 'number', min: 0, default: 0 },
            relative: { t: 'number', min: 0, default: 0 },
          },
        },
        relativeThreshold: {
          t: 'number',
          min: 0,
          default: 20,
          description: 'Diffy: a field differs when |raw − noise| / (raw + noise) × 100 exceeds this …',
        },
        absoluteThreshold: {
          t: 'number',
          min: 0,
          default: 0.03,
          description: '… and |raw − noise| / compared × 100 exceeds this.',
        },
        topK: { t: 'int', min: 1, default: 5, description: 'k of the top-k overlap of class scores.' },
        maxExamples: { t: 'int', min: 0, default: 3, description: 'Differing examples kept per field.' },
        allowSideEffects: {
          t: 'bool',
          default: false,
          description:
            'Mirror requests that may change state (protocol http with a method other than GET, HEAD, OPTIONS). Inference calls of the model protocols are always mirrored.',
        },
      },
    },
  },
};

/** Signals a timeline action may send (to a replica's PID). */
export const FAULT_SIGNALS = [
  'SIGKILL',
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGSTOP',
  'SIGCONT',
  'SIGUSR1',
  'SIGUSR2',
] as const;

/** The fault types of a timeline `fault:` (one per fault), by plan key: TCP toxics, then HTTP faults. */
export const TCP_FAULT_KEYS = [
  'latency',
  'bandwidth',
  'slowClose',
  'timeout',
  'resetPeer',
  'slicer',
  'limitData',
  'down',
] as const;
export const HTTP_FAULT_KEYS = ['abort', 'delay', 'sseStall', 'sseTruncate', 'sseSlow', 'sseMalformed'] as const;

const faultSpec: ObjectSpec = {
  t: 'object',
  what: 'fault',
  description:
    'One fault (exactly one type key): TCP toxics as Toxiproxy (latency, bandwidth, slowClose, timeout, resetPeer, slicer, limitData, down) or HTTP faults per request (abort, delay, sseStall, sseTruncate, sseSlow, sseMalformed). See docs/faults.md.',
  foreignKeys: {
    slow_close: 'Preflight writes Toxiproxy’s slow_close as `slowClose`',
    reset_peer: 'Preflight writes Toxiproxy’s reset_peer as `resetPeer`',
    limit_data: 'Preflight writes Toxiproxy’s limit_data as `limitData`',
    stream: 'Toxiproxy’s `stream` is `direction` here (downstream or upstream)',
    type: 'the fault type is its key, e.g. fault: { latency: 200ms, jitter: 50ms }',
  },
  fields: {
    latency: dur('TCP: each chunk is delayed this much (Toxiproxy latency).'),
    jitter: dur('TCP latency: ± up to this much, uniform.', '0ms'),
    bandwidth: unitSpec('a bandwidth like `100KB/s`', BANDWIDTH_PATTERN, tryParseBandwidth),
    slowClose: dur('TCP: the close is passed on this late.'),
    timeout: dur('TCP: no data passes; the connection is closed after this (0s: held until the fault ends).'),
    resetPeer: dur('TCP: the connection is reset (RST) after this (0s: at once).'),
    slicer: {
      t: 'object',
      what: 'slicer',
      description: 'TCP: data cut into small pieces, `delay` apart.',
      fields: {
        averageSize: {
          ...unitSpec('a size like `64B`', SIZE_PATTERN, tryParseSize, true),
          required: true,
        },
        sizeVariation: unitSpec('a size like `16B` (default 0)', SIZE_PATTERN, tryParseSize, true),
        delay: dur('Between pieces.', '0ms'),
      },
    },
    limitData: unitSpec(
      'a size like `10KB`: the connection is closed after this many bytes',
      SIZE_PATTERN,
      tryParseSize,
      true,
    ),
    down: {
      t: 'bool',
      const: true,
      description: 'TCP: the upstream is down (new connections refused, open ones closed).',
    },
    abort: {
      t: 'union',
      expected: 'an HTTP status like 503, or `{ status, retryAfter }`',
      description: 'HTTP: answer this status without asking the target (Envoy abort).',
      number: { t: 'int', min: 400, max: 599, description: 'The status (400–599).' },
      map: {
        t: 'object',
        what: 'abort',
        fields: {
          status: { t: 'int', min: 400, max: 599, required: true, description: 'The status (400–599).' },
          retryAfter: dur('Retry-After header (whole seconds), e.g. with 429 or 503.'),
        },
      },
    },
    delay: {
      t: 'union',
      expected: 'a duration like 200ms, or `{ distribution, … }`',
      description: 'HTTP: hold each request this long before it is forwarded (Envoy delay).',
      string: dur('A fixed delay.'),
      map: {
        t: 'object',
        what: 'delay',
        fields: {
          distribution: str('fixed, uniform (min..max), lognormal (median, sigma) or pareto (scale, shape).', {
            required: true,
            enum: ['fixed', 'uniform', 'lognormal', 'pareto'],
          }),
          ms: dur('fixed: the delay.'),
          min: dur('uniform: the shortest delay.'),
          max: dur('uniform: the longest delay.'),
          median: dur('lognormal: the median delay.'),
          sigma: { t: 'number', exclusiveMin: 0, max: 5, description: 'lognormal: log-space standard deviation.' },
          scale: dur('pareto: the shortest delay.'),
          shape: { t: 'number', exclusiveMin: 1, max: 100, description: 'pareto: tail index (> 1).' },
        },
      },
    },
    sseStall: {
      t: 'object',
      what: 'sseStall',
      description: 'HTTP streaming (SSE): after `after` events, nothing for `for`, then the stream goes on.',
      fields: {
        after: { t: 'int', min: 0, required: true, description: 'Events passed first.' },
        for: { ...dur('How long the stream stalls.'), required: true },
      },
    },
    sseTruncate: {
      t: 'int',
      min: 0,
      description: 'HTTP streaming (SSE): the response is closed after this many events.',
    },
    sseSlow: dur('HTTP streaming (SSE): each event held this much more (a slower token rate).'),
    sseMalformed: {
      t: 'int',
      min: 0,
      description: 'HTTP streaming (SSE): after this many events, one event that is not valid SSE/JSON.',
    },
    toxicity: percentSpec('Share of the traffic affected.', '100%'),
    per: str(
      'What the toxicity draws: each request (default: with keep-alive pools a per-connection draw hits all of a connection or none) or each connection (Toxiproxy).',
      { enum: ['request', 'connection'], default: 'request' },
    ),
    direction: str('TCP faults: downstream (target → client, responses; default) or upstream (requests).', {
      enum: ['downstream', 'upstream'],
      default: 'downstream',
    }),
    match: {
      t: 'object',
      what: 'match',
      description: 'HTTP faults: only requests that match every condition given.',
      fields: {
        path: str('Path prefix, e.g. /v2/models/digits/infer.', {
          pattern: /^\//,
          patternMessage: 'expected a path starting with `/`',
        }),
        method: str('HTTP method.', { pattern: /^[A-Za-z]+$/, patternMessage: 'expected an HTTP method such as POST' }),
        headers: { ...headers, description: 'Header name → exact value.' },
      },
    },
  },
};

const timelineActionSpec = (description: string): FieldSpec => ({
  t: 'object',
  what: 'action',
  description: `${description} Exactly one of command (no shell), http or signal; bounded by timeout.`,
  fields: {
    command: commandLine('Command to run (no shell), e.g. [systemctl, restart, model@2].'),
    http: {
      t: 'object',
      what: 'http action',
      description: 'An HTTP call.',
      fields: {
        ...httpCallFields,
        json: { t: 'any', description: 'Request body as JSON (sets content-type: application/json).' },
      },
    },
    signal: {
      t: 'object',
      what: 'signal action',
      description:
        'A signal to a local process (a replica): its pid, or a file holding it (read when the action runs).',
      fields: {
        pid: { t: 'int', min: 2, description: 'Process id.' },
        pidFile: str('File holding the pid, relative to the plan file.', { nonEmpty: true }),
        signal: str('The signal.', { enum: FAULT_SIGNALS, default: 'SIGTERM' }),
      },
    },
    timeout: dur('The action is stopped (and counts as failed) after this long (at most 10m).', '30s'),
  },
});

/** `faults:` — a fault proxy in front of the target and a timeline of faults and actions (docs/faults.md). */
export const faultsSpec: ObjectSpec = {
  t: 'object',
  what: 'faults',
  description:
    'Faults on a timeline: a proxy in front of the target (the load goes through it) and faults and actions at times (docs/faults.md).',
  fields: {
    target: {
      ...url,
      description: 'The target the proxy fronts (default: the plan’s target.url; needed when scenarios use several).',
    },
    timeline: {
      t: 'array',
      required: true,
      minItems: 1,
      description:
        'Entries `{ at, for, name?, fault }` or `{ at, for?, name?, action, undo? }`, times from the start of the load.',
      items: {
        t: 'object',
        what: 'timeline entry',
        fields: {
          at: { ...dur('When it starts, from the start of the load.'), required: true },
          for: dur(
            'How long the fault lasts (required for a fault); with an action, the window its effect is judged in.',
          ),
          name: str('Name in reports (default: the fault type or action kind and its time).', {
            nonEmpty: true,
            pattern: /^[A-Za-z0-9][A-Za-z0-9 _.:-]*$/,
            patternMessage: 'names are letters, digits, spaces and _ . : -',
          }),
          fault: faultSpec,
          action: timelineActionSpec('Run at `at`.'),
          undo: timelineActionSpec('Run at `at + for` (e.g. restart the replica the action stopped).'),
        },
      },
    },
  },
};

export const planSpec: ObjectSpec = {
  t: 'object',
  what: 'plan',
  extensionKeys: /^x-/,
  fields: {
    $schema: str('JSON Schema of this file (for editors); ignored by Preflight.'),
    target: { ...targetSpec, required: true },
    scenarios: {
      t: 'map',
      what: 'scenarios',
      minEntries: 1,
      emptyHint:
        'e.g. scenarios: { smoke: { executor: constant-arrival-rate, rate: 10/s, duration: 30s, request: { path: /health } } }',
      keyPattern: SCENARIO_NAME,
      keyMessage: 'scenario names are letters, digits, `_` and `-` (no dots or slashes: thresholds use them)',
      values: scenarioSpec,
      description:
        'Scenario name → scenario. Scenarios run concurrently, each from its startTime (or after another: after). Required unless the plan has a profile.',
    },
    profile: profileSpec,
    scenario: templateSpec,
    comparison: comparisonSpec,
    cost: costSpecWith(percentSpec),
    monitor: monitorSpec,
    faults: faultsSpec,
    checks: checksSpec,
    thresholds: {
      t: 'array',
      keepHoles: true,
      description:
        'Pass/fail criteria: "[scenario[/group].]metric[.stat] OP value[unit]", or a check figure "<check id>.<figure> OP value".',
      items: {
        t: 'union',
        expected: 'a threshold expression (string) or `{ threshold, abortOnFail, delayAbortEval }`',
        string: {
          t: 'string',
          nonEmpty: true,
          coerce: false,
          description: 'Threshold expression, e.g. "p99 < 250ms".',
        },
        map: thresholdObject,
      },
    },
    options: {
      t: 'object',
      what: 'options',
      description: 'Run options.',
      fields: {
        workers: bounded(
          'Worker threads generating load (also 1 is a worker thread; the main thread merges, writes and judges).',
          LIMITS.workers,
          LIMIT_HINTS.workers,
          1,
        ),
        seed: { t: 'int', min: 0, default: 1, description: 'Seed for arrival jitter, data order and synthetic data.' },
        interval: {
          t: 'duration',
          positive: true,
          min: LIMITS.intervalMinMs,
          minHint: LIMIT_HINTS.interval,
          default: '1s',
          description: 'Metrics window length (at least 100ms).',
        },
        maxDispatchLag: {
          t: 'duration',
          positive: true,
          default: '50ms',
          description:
            'Mark the run generator_overloaded when dispatch lag p99 exceeds this, or a window’s worst lag does in ≥ 3 windows and more than a tenth of them.',
        },
        scaleOut: {
          t: 'object',
          what: 'options.scaleOut',
          description: 'Scale-out runs (`preflight coordinator` and `preflight worker`, docs/scale-out.md).',
          fields: {
            tolerateLoss: percentSpec(
              'Largest share of the planned load that lost workers may take with them while the run stays valid (0: any lost worker makes the run invalid, exit 4).',
              '0',
            ),
            maxClockSkew: {
              t: 'duration',
              positive: true,
              default: '50ms',
              description:
                'Warn when a worker’s clock is off the coordinator’s by more than this, or its offset could only be measured to within more than this (half its round trip).',
            },
          },
        },
      },
    },
  },
  schemaExtra: {
    anyOf: [{ required: ['scenarios'] }, { required: ['profile', 'scenario'] }, { required: ['checks'] }],
  },
};

/** Executors by family. */
export const ARRIVAL_EXECUTORS: readonly string[] = ['constant-arrival-rate', 'ramping-arrival-rate'];
export const CONCURRENCY_EXECUTORS: readonly string[] = ['constant-concurrency', 'ramping-concurrency', 'iterations'];
export { EXECUTOR_RULES };
