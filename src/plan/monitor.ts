/**
 * The plan's `monitor:` section (docs/monitoring.md): where target metrics come from (exposition
 * endpoints scraped directly, a Prometheus server queried), which metrics (presets for well-known
 * servers and exporters, and the plan's own), and how they are read (counters → rates, histograms →
 * quantiles). Presets are data here so that validation knows every metric name a threshold
 * (`target.cpu.max < 90%`) may use; src/monitor does the reading.
 */
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import { delimiter, join as joinPath } from 'node:path';
import { isScalar } from 'yaml';
import { join, show } from './spec.js';
import type { ObjectSpec, Raw, Walker } from './spec.js';
import { closest, didYouMean } from './suggest.js';
import { isRedactable, splitUserinfo } from './secrets.js';
import { splitCommand } from './command-line.js';
import type { TlsOptions } from './types.js';

export type MonitorKind = 'gauge' | 'counter' | 'histogram';
/** Units of target metrics: what threshold values are parsed as, and how figures are shown. */
export const MONITOR_UNITS = ['percent', 'bytes', 'ms', 'per_s', 'bytes_per_s', 'count', 'ratio'] as const;
export type MonitorUnit = (typeof MONITOR_UNITS)[number];
export const MONITOR_AGGREGATES = ['sum', 'avg', 'max', 'min'] as const;

/** One label matcher of a selector, as PromQL writes it. */
export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}
export interface Selector {
  metric: string;
  matchers: LabelMatcher[];
}

/** One named target metric. Value = offset + scale × (the reading, combined with `plus` / `minus` / `per`). */
export interface MonitorMetric {
  name: string;
  /** Free PromQL (a Prometheus source only), read as a gauge. */
  promql?: string;
  /** A series selector, `name{label="v",…}` (histograms: the base name, without `_bucket`). */
  selector?: Selector;
  kind: MonitorKind;
  unit: MonitorUnit;
  /** How several matching series are combined (default sum). */
  aggregate: (typeof MONITOR_AGGREGATES)[number];
  /** Divided by this series' reading (counters: rate by rate, e.g. Triton's cumulative µs per request). */
  per?: Selector;
  /** Minus this series' reading (gauges: total − available). */
  minus?: Selector;
  /** Plus this series' reading (counters: successful + failed requests); absent series count as 0. */
  plus?: Selector;
  scale: number;
  offset: number;
  /** Read from `monitor.replicas`' command (its first or second number), not from a source. */
  command?: 'ready' | 'desired';
  /** The preset it came from; a preset metric no source exports is left out (not a gap). */
  preset?: string;
  description?: string;
}

export interface MonitorSource {
  url: string;
  /** Request headers, `authorization` from `auth` (secrets registered and redacted). */
  headers: Record<string, string>;
}

export interface MonitorPlan {
  /** Exposition endpoints scraped every `intervalMs` (full URLs, e.g. http://host:8002/metrics). */
  scrape: MonitorSource[];
  /** A Prometheus server (base URL) queried with query_range after the run. */
  prometheus?: MonitorSource & { rateWindowMs: number };
  presets: string[];
  metrics: MonitorMetric[];
  /** Scrape interval; default the plan's window interval (queries always step by the window interval). */
  intervalMs: number;
  /** Prometheus: the query range reaches this far before the load starts and after it ends. */
  marginMs: number;
  /** Each request's deadline. */
  timeoutMs: number;
  /** An unreachable source is a warning, not an error (the run goes on without its figures). */
  optional: boolean;
  tls: TlsOptions;
  /** Alert expectations checked against Prometheus' ALERTS series after the load (docs/monitoring.md#alert-checks). */
  alerts: AlertExpectation[];
  /** An Alertmanager (base URL) whose v2 API is polled during the run for the expected alerts. */
  alertmanager?: MonitorSource;
  /** Replica counts from a command (metrics `replicas` and `replicas_desired`). */
  replicas?: ReplicaCommand;
}

/** `monitor.replicas`: a command printing the ready (and optionally desired) replica count, run every `everyMs`. */
export interface ReplicaCommand {
  argv: string[];
  everyMs: number;
  timeoutMs: number;
}

/** What a plan expects of one Prometheus alert. Times are not scaled by --time-scale (a rule's `for:` is not). */
export interface AlertExpectation {
  /** The rule's `alertname`. */
  name: string;
  /** Must fire (reach `firing`) within `withinMs` of the cause's start; the cause: a fault window's name or `load`. */
  fires?: { withinMs: number; of: string };
  /** Must stop being active within `withinMs` of the cause's end (needs `fires`). */
  resolves?: { withinMs: number };
  /** Must not fire at all during the run (a firing is a false alarm). */
  never: boolean;
}

/** The longest wait for alerts to resolve after the load. */
export const MAX_ALERT_RESOLVE_MS = 600_000;

// ---- selectors ----------------------------------------------------------------------------------

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** `name{a="x",b!~"re"}` → a Selector; a message when it is not one. */
export function parseSelector(text: string): { ok: true; selector: Selector } | { ok: false; message: string } {
  const s = text.trim();
  const brace = s.indexOf('{');
  const metric = brace < 0 ? s : s.slice(0, brace).trim();
  if (!METRIC_NAME.test(metric))
    return { ok: false, message: `\`${metric}\` is not a metric name (letters, digits, _ and :)` };
  if (brace < 0) return { ok: true, selector: { metric, matchers: [] } };
  if (!s.endsWith('}')) return { ok: false, message: 'the label matchers need a closing `}`' };
  const body = s.slice(brace + 1, -1);
  const matchers: LabelMatcher[] = [];
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  let i = 0;
  while (i < body.length) {
    re.lastIndex = i;
    const m = re.exec(body);
    if (!m) return { ok: false, message: `bad label matcher at \`${body.slice(i, i + 20)}\`` };
    const value = m[3].replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
    if (m[2] === '=~' || m[2] === '!~') {
      try {
        new RegExp(`^(?:${value})$`);
      } catch {
        return { ok: false, message: `label \`${m[1]}\`: \`${value}\` is not a regular expression` };
      }
    }
    matchers.push({ name: m[1], op: m[2] as LabelMatcher['op'], value });
    i = re.lastIndex;
    if (m[4] === '' && i < body.length) return { ok: false, message: 'expected `,` between label matchers' };
  }
  return { ok: true, selector: { metric, matchers } };
}

/** A selector as PromQL. */
export function selectorText(s: Selector, suffix = ''): string {
  const m = s.matchers.map((x) => `${x.name}${x.op}"${x.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  return `${s.metric}${suffix}${m.length > 0 ? `{${m.join(',')}}` : ''}`;
}

/** Whether `labels` satisfy every matcher (PromQL semantics: a missing label is ""; regexes anchored). */
export function matches(s: Selector, labels: Record<string, string>): boolean {
  for (const m of s.matchers) {
    const v = labels[m.name] ?? '';
    const ok =
      m.op === '='
        ? v === m.value
        : m.op === '!='
          ? v !== m.value
          : new RegExp(`^(?:${m.value})$`).test(v) === (m.op === '=~');
    if (!ok) return false;
  }
  return true;
}

// ---- presets ------------------------------------------------------------------------------------

type PresetMetric = Omit<
  MonitorMetric,
  'name' | 'selector' | 'per' | 'minus' | 'plus' | 'aggregate' | 'scale' | 'offset'
> & {
  selector: string;
  per?: string;
  minus?: string;
  plus?: string;
  aggregate?: MonitorMetric['aggregate'];
  scale?: number;
  offset?: number;
};

/**
 * Well-known servers' and exporters' metrics under Preflight's names. Per-request times from
 * cumulative counters (Triton, TorchServe) are rate(duration) / rate(requests).
 */
export const MONITOR_PRESETS: Readonly<Record<string, { description: string; metrics: Record<string, PresetMetric> }>> =
  {
    triton: {
      description: 'NVIDIA Triton Inference Server (port 8002 /metrics), and the reference server',
      metrics: {
        queue_time: {
          selector: 'nv_inference_queue_duration_us',
          per: 'nv_inference_request_success',
          kind: 'counter',
          unit: 'ms',
          scale: 0.001,
          description: 'Mean time a request waited in the queue',
        },
        compute_time: {
          selector: 'nv_inference_compute_infer_duration_us',
          per: 'nv_inference_request_success',
          kind: 'counter',
          unit: 'ms',
          scale: 0.001,
          description: 'Mean compute (inference) time per request',
        },
        request_time: {
          selector: 'nv_inference_request_duration_us',
          per: 'nv_inference_request_success',
          kind: 'counter',
          unit: 'ms',
          scale: 0.001,
          description: 'Mean time from receipt to reply inside the server',
        },
        inference_rate: {
          selector: 'nv_inference_request_success',
          kind: 'counter',
          unit: 'per_s',
          description: 'Successful inference requests per second',
        },
        failure_rate: {
          selector: 'nv_inference_request_failure',
          kind: 'counter',
          unit: 'per_s',
          description: 'Failed inference requests per second',
        },
        requests: {
          selector: 'nv_inference_request_success',
          plus: 'nv_inference_request_failure',
          kind: 'counter',
          unit: 'per_s',
          description: 'Inference requests received per second, successful and failed (retry amplification)',
        },
        batch_size: {
          selector: 'nv_inference_count',
          per: 'nv_inference_exec_count',
          kind: 'counter',
          unit: 'count',
          description: 'Mean batch size executed (inferences / executions)',
        },
        requests_waiting: {
          selector: 'nv_inference_pending_request_count',
          kind: 'gauge',
          unit: 'count',
          description: 'Requests waiting for execution',
        },
        gpu: {
          selector: 'nv_gpu_utilization',
          kind: 'gauge',
          unit: 'percent',
          aggregate: 'avg',
          scale: 100,
          description: 'GPU utilisation, mean over GPUs',
        },
        gpu_memory: {
          selector: 'nv_gpu_memory_used_bytes',
          kind: 'gauge',
          unit: 'bytes',
          description: 'GPU memory used, all GPUs',
        },
        cpu: {
          selector: 'nv_cpu_utilization',
          kind: 'gauge',
          unit: 'percent',
          scale: 100,
          description: 'CPU utilisation of the host',
        },
        memory: { selector: 'nv_cpu_memory_used_bytes', kind: 'gauge', unit: 'bytes', description: 'Host memory used' },
      },
    },
    torchserve: {
      description: 'TorchServe metrics API (port 8082 /metrics, metrics_mode prometheus)',
      metrics: {
        queue_time: {
          selector: 'ts_queue_latency_microseconds',
          per: 'ts_inference_requests_total',
          kind: 'counter',
          unit: 'ms',
          scale: 0.001,
          description: 'Mean time a request waited in the queue',
        },
        request_time: {
          selector: 'ts_inference_latency_microseconds',
          per: 'ts_inference_requests_total',
          kind: 'counter',
          unit: 'ms',
          scale: 0.001,
          description: 'Mean inference latency per request',
        },
        inference_rate: {
          selector: 'ts_inference_requests_total',
          kind: 'counter',
          unit: 'per_s',
          description: 'Inference requests per second',
        },
        requests: {
          selector: 'ts_inference_requests_total',
          kind: 'counter',
          unit: 'per_s',
          description: 'Inference requests received per second (retry amplification)',
        },
        cpu: { selector: 'CPUUtilization', kind: 'gauge', unit: 'percent', aggregate: 'avg', description: 'CPU use' },
        memory: {
          selector: 'MemoryUsed',
          kind: 'gauge',
          unit: 'bytes',
          scale: 1e6,
          description: 'Memory used (MemoryUsed is in MB)',
        },
        gpu: {
          selector: 'GPUUtilization',
          kind: 'gauge',
          unit: 'percent',
          aggregate: 'avg',
          description: 'GPU utilisation',
        },
        gpu_memory: {
          selector: 'GPUMemoryUsed',
          kind: 'gauge',
          unit: 'bytes',
          scale: 1e6,
          description: 'GPU memory used (GPUMemoryUsed is in MB)',
        },
      },
    },
    kserve: {
      description: 'KServe model server and Knative queue-proxy',
      metrics: {
        compute_time: {
          selector: 'request_predict_seconds',
          kind: 'histogram',
          unit: 'ms',
          scale: 1000,
          description: 'Predict time (KServe model server histogram)',
        },
        request_time: {
          selector: 'revision_app_request_latencies',
          kind: 'histogram',
          unit: 'ms',
          description: 'Request latency at the queue-proxy (Knative, ms)',
        },
        inference_rate: {
          selector: 'revision_app_request_count',
          kind: 'counter',
          unit: 'per_s',
          description: 'Requests per second at the queue-proxy',
        },
        requests: {
          selector: 'revision_app_request_count',
          kind: 'counter',
          unit: 'per_s',
          description: 'Requests received per second at the queue-proxy (retry amplification)',
        },
        requests_waiting: {
          selector: 'queue_depth',
          kind: 'gauge',
          unit: 'count',
          description: 'Requests queued in the queue-proxy',
        },
      },
    },
    vllm: {
      description: 'vLLM OpenAI server /metrics',
      metrics: {
        requests_waiting: {
          selector: 'vllm:num_requests_waiting',
          kind: 'gauge',
          unit: 'count',
          description: 'Requests waiting to be scheduled',
        },
        requests_running: {
          selector: 'vllm:num_requests_running',
          kind: 'gauge',
          unit: 'count',
          description: 'Requests running on the GPU',
        },
        ttft: {
          selector: 'vllm:time_to_first_token_seconds',
          kind: 'histogram',
          unit: 'ms',
          scale: 1000,
          description: 'Time to first token inside the server',
        },
        tpot: {
          selector: 'vllm:time_per_output_token_seconds',
          kind: 'histogram',
          unit: 'ms',
          scale: 1000,
          description: 'Time per output token inside the server',
        },
        queue_time: {
          selector: 'vllm:request_queue_time_seconds',
          kind: 'histogram',
          unit: 'ms',
          scale: 1000,
          description: 'Time requests spent waiting',
        },
        compute_time: {
          selector: 'vllm:request_inference_time_seconds',
          kind: 'histogram',
          unit: 'ms',
          scale: 1000,
          description: 'Time requests spent running',
        },
        gpu_cache: {
          selector: 'vllm:gpu_cache_usage_perc',
          kind: 'gauge',
          unit: 'percent',
          aggregate: 'max',
          scale: 100,
          description: 'KV cache in use',
        },
        tokens_rate: {
          selector: 'vllm:generation_tokens_total',
          kind: 'counter',
          unit: 'per_s',
          description: 'Generated tokens per second',
        },
      },
    },
    node: {
      description: 'Prometheus node_exporter (the host)',
      metrics: {
        cpu: {
          selector: 'node_cpu_seconds_total{mode="idle"}',
          kind: 'counter',
          unit: 'percent',
          aggregate: 'avg',
          scale: -100,
          offset: 100,
          description: 'CPU busy, % of all cores (100 − idle)',
        },
        memory: {
          selector: 'node_memory_MemTotal_bytes',
          minus: 'node_memory_MemAvailable_bytes',
          kind: 'gauge',
          unit: 'bytes',
          description: 'Memory used (total − available)',
        },
        network_in: {
          selector: 'node_network_receive_bytes_total{device!="lo"}',
          kind: 'counter',
          unit: 'bytes_per_s',
          description: 'Bytes received per second',
        },
        network_out: {
          selector: 'node_network_transmit_bytes_total{device!="lo"}',
          kind: 'counter',
          unit: 'bytes_per_s',
          description: 'Bytes sent per second',
        },
      },
    },
    cadvisor: {
      description:
        'cAdvisor / kubelet container metrics (all containers it reports: to pick pods, define cpu/memory in metrics: with a pod matcher)',
      metrics: {
        cpu: {
          selector: 'container_cpu_usage_seconds_total{container!="",container!="POD"}',
          kind: 'counter',
          unit: 'percent',
          scale: 100,
          description: 'CPU used by the containers, % of one core',
        },
        memory: {
          selector: 'container_memory_working_set_bytes{container!="",container!="POD"}',
          kind: 'gauge',
          unit: 'bytes',
          description: 'Working set of the containers',
        },
      },
    },
    process: {
      description: 'Standard process_* metrics of one process (Prometheus client libraries; the reference server)',
      metrics: {
        cpu: {
          selector: 'process_cpu_seconds_total',
          kind: 'counter',
          unit: 'percent',
          scale: 100,
          description: 'CPU used by the process, % of one core',
        },
        memory: {
          selector: 'process_resident_memory_bytes',
          kind: 'gauge',
          unit: 'bytes',
          description: 'Resident memory of the process',
        },
      },
    },
    dcgm: {
      description: 'NVIDIA DCGM exporter (GPUs)',
      metrics: {
        gpu: {
          selector: 'DCGM_FI_DEV_GPU_UTIL',
          kind: 'gauge',
          unit: 'percent',
          aggregate: 'avg',
          description: 'GPU utilisation, mean over GPUs',
        },
        gpu_memory: {
          selector: 'DCGM_FI_DEV_FB_USED',
          kind: 'gauge',
          unit: 'bytes',
          scale: 1048576,
          description: 'GPU framebuffer memory used (DCGM reports MiB)',
        },
      },
    },
    preflight: {
      description: 'The reference server (`preflight serve`): its model-instance counts (scaling mode, --autoscale)',
      metrics: {
        replicas: {
          selector: 'preflight_server_instances{state="ready"}',
          kind: 'gauge',
          unit: 'count',
          description: 'Model instances serving',
        },
        replicas_desired: {
          selector: 'preflight_server_instances_desired',
          kind: 'gauge',
          unit: 'count',
          description: 'Model instances the autoscaler wants',
        },
      },
    },
    'kube-state-metrics': {
      description:
        'kube-state-metrics Deployment replicas (every Deployment it reports: to pick one, define replicas in metrics: with a deployment matcher)',
      metrics: {
        replicas: {
          selector: 'kube_deployment_status_replicas_available',
          kind: 'gauge',
          unit: 'count',
          description: 'Available (ready) replicas',
        },
        replicas_desired: {
          selector: 'kube_deployment_spec_replicas',
          kind: 'gauge',
          unit: 'count',
          description: 'Replicas the Deployment asks for (set by the HPA)',
        },
      },
    },
  };

export const PRESET_NAMES = Object.keys(MONITOR_PRESETS);

/**
 * The autoscale profile's replica metrics: with the default names and none defined, the reference
 * server's (preset `preflight`) are added. Returns the names still missing.
 */
export function addReplicaMetrics(
  monitor: MonitorPlan,
  names: { replicas: string; desired: string },
): { replicas: boolean; desired: boolean } {
  const has = (n: string) => monitor.metrics.some((m) => m.name === n);
  if (names.replicas === 'replicas' && !has('replicas'))
    for (const [name, m] of Object.entries(MONITOR_PRESETS['preflight']!.metrics))
      if (!has(name)) monitor.metrics.push(presetMetric(name, 'preflight', m));
  return { replicas: !has(names.replicas), desired: !has(names.desired) };
}

// ---- syntax -------------------------------------------------------------------------------------

const sourceFields = {
  headers: {
    t: 'map',
    what: 'headers',
    lowerCaseKeys: true,
    values: { t: 'string', headerValue: true },
    description: 'HTTP headers sent with each request (${VAR} interpolated and redacted).',
  },
  auth: {
    t: 'object',
    what: 'auth',
    description: 'Credentials: `bearer`, or `username` and `password` (basic); take them from ${VAR}.',
    fields: {
      bearer: { t: 'string', nonEmpty: true, description: 'Bearer token, e.g. "${PROM_TOKEN}".' },
      username: { t: 'string', nonEmpty: true, description: 'Basic auth user.' },
      password: { t: 'string', description: 'Basic auth password, e.g. "${PROM_PASSWORD}".' },
    },
  },
} as const;

const httpUrl = {
  t: 'string',
  nonEmpty: true,
  pattern: /^https?:\/\/[^\s/?#]+(\/[^\s#]*)?$/,
  patternMessage: 'expected an http:// or https:// URL',
} as const;

export const monitorSpec: ObjectSpec = {
  t: 'object',
  what: 'monitor',
  description: 'Target metrics read beside the load (docs/monitoring.md).',
  fields: {
    scrape: {
      t: 'array',
      description: 'Exposition endpoints (Prometheus text or OpenMetrics) scraped every interval.',
      items: {
        t: 'union',
        expected: 'a URL or `{ url, headers, auth }`',
        string: { ...httpUrl, description: 'e.g. http://127.0.0.1:8002/metrics' },
        map: {
          t: 'object',
          what: 'scrape source',
          fields: {
            url: { ...httpUrl, required: true, description: 'Full URL of the /metrics endpoint.' },
            ...sourceFields,
          },
        },
      },
    },
    prometheus: {
      t: 'union',
      expected: 'a URL or `{ url, headers, auth, rateWindow }`',
      string: { ...httpUrl, description: 'Base URL of a Prometheus server, e.g. http://prometheus:9090' },
      map: {
        t: 'object',
        what: 'prometheus',
        fields: {
          url: { ...httpUrl, required: true, description: 'Base URL of the Prometheus server.' },
          rateWindow: {
            t: 'duration',
            positive: true,
            default: '1m',
            description: 'Range of rate() over counters and histograms (at least 2 scrape intervals).',
          },
          ...sourceFields,
        },
      },
    },
    preset: {
      t: 'union',
      expected: 'a preset name or a list of them',
      string: { t: 'string', nonEmpty: true },
      seq: { t: 'array', items: { t: 'string', nonEmpty: true } },
      description: `Well-known metrics: ${PRESET_NAMES.join(', ')}.`,
    },
    metrics: {
      t: 'map',
      what: 'metrics',
      keyPattern: /^[a-z][a-z0-9_]*$/,
      keyMessage: 'metric names are lower-case letters, digits and _ (thresholds name them: target.<name>.max)',
      values: {
        t: 'union',
        expected: 'a selector string or `{ promql | metric, labels, kind, unit, … }`',
        string: { t: 'string', nonEmpty: true, description: 'A series selector, read as a gauge.' },
        map: {
          t: 'object',
          what: 'metric',
          fields: {
            promql: { t: 'string', nonEmpty: true, description: 'PromQL (needs monitor.prometheus), read as a gauge.' },
            metric: {
              t: 'string',
              nonEmpty: true,
              description: 'Series selector, e.g. nv_gpu_utilization{gpu_uuid="…"}.',
            },
            labels: { t: 'map', what: 'labels', values: { t: 'string' }, description: 'Exact label matchers.' },
            kind: {
              t: 'string',
              enum: ['gauge', 'counter', 'histogram'],
              default: 'gauge',
              description: 'counter → per-second rate; histogram → quantiles and mean.',
            },
            unit: { t: 'string', enum: MONITOR_UNITS, description: 'Unit of the value after scale.' },
            aggregate: { t: 'string', enum: MONITOR_AGGREGATES, default: 'sum', description: 'Across series.' },
            per: { t: 'string', nonEmpty: true, description: 'Divide by this selector’s reading (rate by rate).' },
            plus: {
              t: 'string',
              nonEmpty: true,
              description: 'Add this selector’s reading (e.g. successful + failed requests); absent: 0.',
            },
            scale: { t: 'number', default: 1, description: 'Multiply the value (unit conversion).' },
          },
        },
      },
      description: 'Preflight name → metric; overrides a preset’s metric of the same name.',
    },
    interval: {
      t: 'duration',
      positive: true,
      description: 'Scrape interval; default options.interval (Prometheus is queried with step = options.interval).',
    },
    margin: {
      t: 'duration',
      default: '30s',
      description: 'Prometheus: read this long before the load starts and after it ends.',
    },
    timeout: { t: 'duration', positive: true, default: '5s', description: 'Deadline of each scrape or query.' },
    optional: {
      t: 'bool',
      default: false,
      description: 'An unreachable source is a warning and the run goes on without its figures.',
    },
    replicas: {
      t: 'object',
      what: 'replicas',
      description:
        'Replica counts from a command printing the ready count and optionally the desired one (e.g. kubectl … -o jsonpath=…): metrics `replicas` and `replicas_desired`.',
      fields: {
        command: {
          t: 'union',
          required: true,
          expected: 'a command line or a list of arguments',
          description: 'Run without a shell; prints `<ready> [<desired>]`.',
          string: { t: 'string', nonEmpty: true, coerce: false },
          seq: { t: 'array', minItems: 1, items: { t: 'string', nonEmpty: true } },
        },
        every: { t: 'duration', positive: true, description: 'How often it runs; default monitor.interval.' },
        timeout: {
          t: 'duration',
          positive: true,
          default: '5s',
          description: 'A run that takes longer is killed (a gap and a warning).',
        },
      },
    },
    alertmanager: {
      t: 'union',
      expected: 'a URL or `{ url, headers, auth }`',
      string: {
        ...httpUrl,
        description: 'Base URL of an Alertmanager, e.g. http://alertmanager:9093 (read for monitor.alerts).',
      },
      map: {
        t: 'object',
        what: 'alertmanager',
        fields: {
          url: { ...httpUrl, required: true, description: 'Base URL of the Alertmanager.' },
          ...sourceFields,
        },
      },
    },
    alerts: {
      t: 'array',
      description:
        'Prometheus alerts expected to fire (and resolve) or never to fire, read from the ALERTS series (needs monitor.prometheus).',
      items: {
        t: 'object',
        what: 'alert',
        fields: {
          name: {
            t: 'string',
            required: true,
            pattern: /^[a-zA-Z_][a-zA-Z0-9_]*$/,
            patternMessage: 'expected an alert rule name (letters, digits and _)',
            description: 'The alert rule’s name (ALERTS{alertname=…}).',
          },
          fires: {
            t: 'object',
            what: 'fires',
            description: 'Must reach `firing` within this long of the cause’s start.',
            fields: {
              within: { t: 'duration', positive: true, required: true, description: 'e.g. 2m' },
              of: {
                t: 'string',
                nonEmpty: true,
                description:
                  'The cause: a faults.timeline entry’s name, or `load` (the whole load); default the only fault window, else load.',
              },
            },
          },
          resolves: {
            t: 'object',
            what: 'resolves',
            description: 'Must stop being active within this long of the cause’s end (the run waits for it, ≤ 10m).',
            fields: { within: { t: 'duration', positive: true, required: true, description: 'e.g. 5m' } },
          },
          never: { t: 'bool', default: false, description: 'Must not fire during the run: a firing is a false alarm.' },
        },
      },
    },
    tls: {
      t: 'object',
      what: 'tls',
      description: 'TLS for https:// sources (as target.tls).',
      fields: {
        insecure: { t: 'bool', default: false, description: 'Skip certificate verification (warned about).' },
        caFile: { t: 'string', nonEmpty: true, description: 'PEM file of an extra CA, relative to the plan file.' },
      },
    },
  },
};

// ---- resolving ----------------------------------------------------------------------------------

export interface MonitorBuildHelpers {
  resolveFile(p: string): string;
  secrets: Set<string>;
  /** The value at `path` was written with ${…} (not literally). */
  interpolated(path: string): boolean;
  /** The autoscale profile adds its replica metrics (addReplicaMetrics): no metrics named is fine. */
  replicaDefaults?: boolean;
}

function presetMetric(name: string, preset: string, p: PresetMetric): MonitorMetric {
  const sel = (s: string) => {
    const r = parseSelector(s);
    if (!r.ok) throw new Error(`preset ${preset}.${name}: ${r.message}`); // a bug in the table above
    return r.selector;
  };
  return {
    name,
    selector: sel(p.selector),
    kind: p.kind,
    unit: p.unit,
    aggregate: p.aggregate ?? 'sum',
    ...(p.per ? { per: sel(p.per) } : {}),
    ...(p.minus ? { minus: sel(p.minus) } : {}),
    ...(p.plus ? { plus: sel(p.plus) } : {}),
    scale: p.scale ?? 1,
    offset: p.offset ?? 0,
    preset,
    ...(p.description ? { description: p.description } : {}),
  };
}

function buildSource(w: Walker, path: string, raw: unknown, h: MonitorBuildHelpers): MonitorSource | undefined {
  if (raw === undefined) return undefined;
  const r: Raw = typeof raw === 'string' ? { url: raw } : (raw as Raw);
  if (typeof r['url'] !== 'string') return undefined;
  const headers: Record<string, string> = { ...((r['headers'] ?? {}) as Record<string, string>) };
  const auth = r['auth'] as Raw | undefined;
  const literal = (p: string) => {
    if (!h.interpolated(p))
      w.warnAt(p, 'a literal credential in the plan file', 'take it from the environment, e.g. "${PROM_TOKEN}"');
  };
  if (auth) {
    const ap = join(path, 'auth');
    if (auth['bearer'] !== undefined && (auth['username'] !== undefined || auth['password'] !== undefined))
      w.problemAt(ap, 'give `bearer` or `username`/`password`, not both', 'bearer: "${TOKEN}"');
    else if (typeof auth['bearer'] === 'string') {
      headers['authorization'] = `Bearer ${auth['bearer']}`;
      h.secrets.add(auth['bearer']);
      literal(join(ap, 'bearer'));
    } else if (typeof auth['username'] === 'string') {
      const pw = typeof auth['password'] === 'string' ? auth['password'] : '';
      const token = Buffer.from(`${auth['username']}:${pw}`, 'utf8').toString('base64');
      headers['authorization'] = `Basic ${token}`;
      h.secrets.add(token);
      if (pw !== '') {
        if (isRedactable(pw)) h.secrets.add(pw);
        literal(join(ap, 'password'));
      }
    } else if (auth['password'] !== undefined) w.problemAt(ap, '`password` needs `username`', 'username: reader');
    if (headers['authorization'] !== undefined && r['headers']?.['authorization'] !== undefined)
      w.problemAt(ap, 'give `auth` or an `authorization` header, not both');
  }
  // user:password@ in the URL: sent as Basic auth (the URL itself carries no credentials onwards).
  let url = r['url'];
  const cred = splitUserinfo(url);
  if (cred) {
    url = cred.url;
    if (headers['authorization'] !== undefined)
      w.problemAt(
        typeof raw === 'string' ? path : join(path, 'url'),
        'the URL has credentials and the source an `auth`: give one of them',
      );
    else {
      const token = Buffer.from(`${cred.username}:${cred.password}`, 'utf8').toString('base64');
      headers['authorization'] = `Basic ${token}`;
      h.secrets.add(token);
      for (const v of [cred.username, cred.password]) if (isRedactable(v)) h.secrets.add(v);
    }
  }
  const ah = (r['headers'] as Record<string, string> | undefined)?.['authorization'];
  if (ah !== undefined) {
    const m = /^(Bearer|Basic|Token|ApiKey)\s+(.+)$/i.exec(ah);
    h.secrets.add(m ? m[2] : ah);
  }
  return { url: url.replace(/\/+$/, ''), headers };
}

/** The resolved `monitor:` section; problems go to `w`. */
export function buildMonitor(w: Walker, raw: Raw, planIntervalMs: number, h: MonitorBuildHelpers): MonitorPlan {
  const scrape: MonitorSource[] = [];
  ((raw['scrape'] ?? []) as unknown[]).forEach((s, i) => {
    const src = buildSource(w, join('monitor.scrape', i), s, h);
    if (src) scrape.push(src);
  });
  let prometheus: MonitorPlan['prometheus'];
  const pr = raw['prometheus'];
  const psrc = buildSource(w, 'monitor.prometheus', pr, h);
  if (psrc) {
    prometheus = {
      ...psrc,
      rateWindowMs:
        (typeof pr === 'object' && pr ? ((pr as Raw)['rateWindow'] as number | undefined) : undefined) ?? 60_000,
    };
    if (/\/api\/v1\/?/.test(psrc.url))
      w.problemAt(
        typeof pr === 'string' ? 'monitor.prometheus' : 'monitor.prometheus.url',
        'monitor.prometheus.url is the server’s base URL, without /api/v1',
        `e.g. ${psrc.url.replace(/\/api\/v1.*$/, '')}`,
      );
  }
  const replicas = buildReplicaCommand(w, raw['replicas'] as Raw | undefined, planIntervalMs, raw, h);
  if (
    scrape.length === 0 &&
    !prometheus &&
    !w.has('monitor.scrape') &&
    !w.has('monitor.prometheus') &&
    !w.has('monitor.replicas')
  )
    w.problemAt(
      'monitor',
      'monitor needs a source: `scrape:` (exposition URLs), `prometheus:` (a server) or `replicas:` (a command)',
      'e.g. monitor: { scrape: [http://127.0.0.1:8002/metrics], preset: triton }',
      'key',
    );

  // Several presets may name one metric (cpu from triton and process): all are kept, in preset
  // order, and the first that has data in the run gives it. A metric of the plan replaces them.
  const metrics: MonitorMetric[] = [];
  const pre = raw['preset'];
  const presets =
    typeof pre === 'string' ? [pre] : Array.isArray(pre) ? (pre as unknown[]).filter((x) => typeof x === 'string') : [];
  presets.forEach((p, i) => {
    const path = typeof pre === 'string' ? 'monitor.preset' : join('monitor.preset', i);
    const def = MONITOR_PRESETS[p];
    if (!def) {
      w.problemAt(path, `unknown preset \`${p}\``, didYouMean(p, PRESET_NAMES, 'presets'));
      return;
    }
    for (const [name, m] of Object.entries(def.metrics)) metrics.push(presetMetric(name, p, m));
  });

  const own = (raw['metrics'] ?? {}) as Record<string, unknown>;
  for (const [name, v] of Object.entries(own)) {
    const path = join('monitor.metrics', name);
    if (v === undefined) continue;
    const m: Raw = typeof v === 'string' ? { metric: v } : (v as Raw);
    const base = metrics.find((x) => x.name === name);
    const kind = (m['kind'] as MonitorKind | undefined) ?? (typeof v === 'string' ? 'gauge' : 'gauge');
    const sel = (p: string, text: unknown): Selector | undefined => {
      if (typeof text !== 'string') return undefined;
      const r = parseSelector(text);
      if (!r.ok) {
        w.problemAt(p, `bad selector ${show(text)}: ${r.message}`, 'e.g. nv_gpu_utilization{gpu_uuid="GPU-1"}');
        return undefined;
      }
      return r.selector;
    };
    const selector = sel(typeof v === 'string' ? path : join(path, 'metric'), m['metric']);
    if (selector && m['labels'])
      for (const [k, lv] of Object.entries(m['labels'] as Record<string, string>))
        selector.matchers.push({ name: k, op: '=', value: String(lv) });
    const promql = m['promql'] as string | undefined;
    if (promql !== undefined && m['metric'] !== undefined)
      w.problemAt(path, 'give `promql` or `metric`, not both', undefined, 'key');
    else if (promql === undefined && m['metric'] === undefined)
      w.problemAt(path, `metric \`${name}\` needs \`promql\` or \`metric\``, 'e.g. metric: nv_gpu_utilization', 'key');
    if (promql !== undefined && !prometheus && !w.has('monitor.prometheus'))
      w.problemAt(
        join(path, 'promql'),
        '`promql` needs a Prometheus server (monitor.prometheus)',
        'or read the series from a scrape: metric: <name>{labels}',
      );
    if (promql !== undefined && kind !== 'gauge')
      w.problemAt(
        join(path, 'kind'),
        'a `promql` metric is read as it is (a gauge)',
        'write rate(…) or histogram_quantile(…) in the query',
      );
    const unit =
      (m['unit'] as MonitorUnit | undefined) ??
      base?.unit ??
      (kind === 'counter' ? 'per_s' : kind === 'histogram' ? 'ms' : 'count');
    const per = sel(join(path, 'per'), m['per']);
    const plus = sel(join(path, 'plus'), m['plus']);
    if (plus && promql !== undefined)
      w.problemAt(
        join(path, 'plus'),
        '`plus` adds a series to `metric`, not to `promql`',
        'write `a + b` in the query',
      );
    const metric: MonitorMetric = {
      name,
      ...(promql !== undefined ? { promql } : selector ? { selector } : {}),
      kind,
      unit,
      aggregate: (m['aggregate'] as MonitorMetric['aggregate'] | undefined) ?? 'sum',
      ...(per ? { per } : {}),
      ...(plus ? { plus } : {}),
      scale: (m['scale'] as number | undefined) ?? 1,
      offset: 0,
    };
    for (let i = metrics.length - 1; i >= 0; i--) if (metrics[i].name === name) metrics.splice(i, 1);
    metrics.push(metric);
  }
  if (replicas)
    for (const [name, part] of [
      ['replicas', 'ready'],
      ['replicas_desired', 'desired'],
    ] as const) {
      if (w.has(join('monitor.metrics', name)))
        w.problemAt(
          join('monitor.metrics', name),
          `\`${name}\` comes from monitor.replicas' command: define it once`,
          'remove it from metrics:, or monitor.replicas',
          'key',
        );
      for (let i = metrics.length - 1; i >= 0; i--) if (metrics[i].name === name) metrics.splice(i, 1);
      metrics.push({
        name,
        command: part,
        kind: 'gauge',
        unit: 'count',
        aggregate: 'sum',
        scale: 1,
        offset: 0,
        description: part === 'ready' ? 'Ready replicas (monitor.replicas)' : 'Desired replicas (monitor.replicas)',
      });
    }
  if (
    metrics.length === 0 &&
    !h.replicaDefaults &&
    w.has('monitor') &&
    !w.has('monitor.preset') &&
    !w.has('monitor.metrics') &&
    !w.has('monitor.alerts')
  )
    w.problemAt(
      'monitor',
      'monitor names no metrics: add `preset:` and/or `metrics:` (or `alerts:`)',
      `presets: ${PRESET_NAMES.join(', ')}`,
      'key',
    );

  const am = raw['alertmanager'];
  const alertmanager = buildSource(w, 'monitor.alertmanager', am, h);
  if (alertmanager && /\/api\/v[12]\/?/.test(alertmanager.url))
    w.problemAt(
      typeof am === 'string' ? 'monitor.alertmanager' : 'monitor.alertmanager.url',
      'monitor.alertmanager is the Alertmanager’s base URL, without /api/v2',
      `e.g. ${alertmanager.url.replace(/\/api\/v[12].*$/, '')}`,
    );
  if (am !== undefined && !w.has('monitor.alerts'))
    w.problemAt(
      'monitor.alertmanager',
      'Alertmanager is read for the alert checks, but the monitor has no `alerts:`',
      'add monitor.alerts: [ { name: HighErrorRate, fires: { within: 2m } } ]',
      'key',
    );
  const tlsRaw = (raw['tls'] ?? {}) as Raw;
  const tls: TlsOptions = { insecure: tlsRaw['insecure'] === true };
  if (tls.insecure)
    w.warnAt('monitor.tls.insecure', 'TLS certificate verification is off for the monitor sources', 'use tls.caFile');
  if (typeof tlsRaw['caFile'] === 'string') {
    const written = w.index.get('monitor.tls.caFile')?.value;
    const shown = show(isScalar(written) ? String(written.value) : tlsRaw['caFile']);
    try {
      const pem = readFileSync(h.resolveFile(tlsRaw['caFile']), 'utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----'))
        w.problemAt(
          'monitor.tls.caFile',
          `CA file ${shown} is not a PEM certificate`,
          'expected -----BEGIN CERTIFICATE-----',
        );
      else tls.ca = pem;
    } catch (err) {
      w.problemAt(
        'monitor.tls.caFile',
        `cannot read CA file ${shown} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        "paths are relative to the plan file's folder",
      );
    }
  }
  return {
    scrape,
    ...(prometheus ? { prometheus } : {}),
    presets,
    metrics,
    intervalMs: (raw['interval'] as number | undefined) ?? planIntervalMs,
    marginMs: (raw['margin'] as number | undefined) ?? 30_000,
    timeoutMs: (raw['timeout'] as number | undefined) ?? 5000,
    optional: raw['optional'] === true,
    tls,
    alerts: [],
    ...(alertmanager ? { alertmanager } : {}),
    ...(replicas ? { replicas } : {}),
  };
}

/** Whether `program` can be run: a path to an executable file, or a name found on PATH. */
function findProgram(program: string, resolveFile: (p: string) => string): boolean {
  const ok = (f: string) => {
    try {
      accessSync(f, fsConstants.X_OK);
      return statSync(f).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/')) return ok(resolveFile(program));
  return (process.env['PATH'] ?? '').split(delimiter).some((d) => d !== '' && ok(joinPath(d, program)));
}

function buildReplicaCommand(
  w: Walker,
  r: Raw | undefined,
  planIntervalMs: number,
  monitor: Raw,
  h: MonitorBuildHelpers,
): ReplicaCommand | undefined {
  if (!r || r['command'] === undefined) return undefined;
  const path = 'monitor.replicas.command';
  const c = r['command'];
  let argv: string[];
  if (Array.isArray(c)) argv = c.map(String);
  else {
    const split = splitCommand(String(c));
    if (!split.ok) {
      w.problemAt(path, split.message, 'quote arguments with spaces, or give a list');
      return undefined;
    }
    argv = split.argv;
  }
  if (argv.length === 0) return undefined;
  // A program that is not there would fail every window: say so before the load, located.
  if (!findProgram(argv[0], h.resolveFile))
    w.problemAt(
      Array.isArray(c) ? join(path, 0) : path,
      `\`${argv[0]}\` is not ${argv[0].includes('/') ? 'an executable file' : 'a program on PATH'}`,
      argv[0].includes('/') ? "paths are relative to the plan file's folder" : 'install it, or give its full path',
    );
  // A relative path runs from the plan's folder, as other files of a plan.
  if (argv[0].includes('/')) argv = [h.resolveFile(argv[0]), ...argv.slice(1)];
  return {
    argv,
    everyMs: (r['every'] as number | undefined) ?? (monitor['interval'] as number | undefined) ?? planIntervalMs,
    timeoutMs: (r['timeout'] as number | undefined) ?? 5000,
  };
}

/**
 * `monitor.alerts`, once the fault timeline is known (`of` names one of its windows). `faultNames`
 * undefined: the plan's faults did not build (their problems are reported), so names are not checked.
 */
export function buildAlerts(
  w: Walker,
  raw: Raw,
  monitor: MonitorPlan,
  faultNames: readonly string[] | undefined,
): AlertExpectation[] {
  const out: AlertExpectation[] = [];
  const items = Array.isArray(raw['alerts']) ? (raw['alerts'] as unknown[]) : [];
  if (items.length > 0 && !monitor.prometheus && !w.has('monitor.prometheus'))
    w.problemAt(
      'monitor.alerts',
      'alert checks read Prometheus’ ALERTS series: they need `monitor.prometheus`',
      'e.g. monitor: { prometheus: http://127.0.0.1:9090 }',
      'key',
    );
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const path = join('monitor.alerts', i);
    if (!item || typeof item !== 'object') return;
    const a = item as Raw;
    if (typeof a['name'] !== 'string') return;
    const name = a['name'];
    if (seen.has(name))
      w.problemAt(join(path, 'name'), `alert \`${name}\` is checked twice`, 'one entry per alert name');
    seen.add(name);
    const never = a['never'] === true;
    const fr = a['fires'] as Raw | undefined;
    const rs = a['resolves'] as Raw | undefined;
    if (never && (fr || rs)) {
      w.problemAt(path, '`never: true` cannot be combined with `fires` or `resolves`', undefined, 'key');
      return;
    }
    if (!never && !fr) {
      w.problemAt(
        path,
        `alert \`${name}\` needs an expectation: \`fires: { within, of }\` or \`never: true\``,
        'e.g. fires: { within: 2m, of: outage }, resolves: { within: 5m }',
        'key',
      );
      return;
    }
    if (never) {
      out.push({ name, never });
      return;
    }
    if (typeof fr?.['within'] !== 'number') return;
    let of = fr['of'] as string | undefined;
    const names = faultNames ?? [];
    if (of === undefined) of = names.length === 1 ? names[0] : 'load';
    if (names.length > 1 && fr['of'] === undefined)
      w.problemAt(
        join(path, 'fires'),
        'the plan has several fault windows: say which one causes this alert',
        `of: ${names.join(' | ')} | load`,
        'key',
      );
    else if (of !== 'load' && faultNames !== undefined && !names.includes(of))
      w.problemAt(
        join(join(path, 'fires'), 'of'),
        `\`${of}\` is not a fault window of this plan`,
        names.length > 0
          ? didYouMean(of, [...names, 'load'], 'causes')
          : 'the plan has no faults.timeline: use `of: load`',
      );
    const e: AlertExpectation = { name, never, fires: { withinMs: fr['within'], of } };
    if (typeof rs?.['within'] === 'number') {
      if (rs['within'] > MAX_ALERT_RESOLVE_MS)
        w.problemAt(
          join(join(path, 'resolves'), 'within'),
          'the run waits at most 10m after the load for alerts to resolve',
          'resolves: { within: 10m } or less',
        );
      e.resolves = { withinMs: rs['within'] };
    }
    out.push(e);
  });
  return out;
}

// ---- threshold values ---------------------------------------------------------------------------

/** Statistics a `target.<name>.<stat>` threshold may name. */
export const TARGET_STATS = ['min', 'mean', 'max', 'last', 'growth', 'p50', 'p90', 'p99'] as const;

const SIZE: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
  TIB: 1024 ** 4,
};

/** A size (`70GB`, `512MiB`, `1e9`) in bytes. */
/**
 * `--time-scale`: the target is read every window of the scaled run — its scrape interval scales as
 * the metrics interval does (at least 100 ms), or most scaled windows would have no reading.
 */
export function scaleMonitor(monitor: MonitorPlan, factor: number): MonitorPlan {
  return { ...monitor, intervalMs: Math.max(100, Math.round(monitor.intervalMs * factor)) };
}

export function tryParseSize(
  text: string,
): { ok: true; value: number } | { ok: false; message: string; hint?: string } {
  const m = /^(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*([KMGT]?i?B)?$/i.exec(text);
  const unit = m?.[2]?.toUpperCase();
  if (!m || (unit !== undefined && SIZE[unit] === undefined))
    return { ok: false, message: `expected a size, got \`${text}\``, hint: 'e.g. 70GB, 512MiB or 1e9 (bytes)' };
  return { ok: true, value: Number(m[1]) * (unit ? SIZE[unit] : 1) };
}

/**
 * A threshold value for a target metric of `unit` (`growth`: that unit per hour, `50MB/h`), in the
 * unit target_metrics are stored in: percent as 0–100, bytes, ms, per second.
 */
export function parseTargetValue(
  unit: MonitorUnit,
  stat: string,
  text: string,
  parseDuration: (s: string) => { ok: true; value: number } | { ok: false; message: string; hint?: string },
): { ok: true; value: number } | { ok: false; message: string; hint?: string } {
  let t = text;
  if (stat === 'growth') {
    const per = /\/h$/.exec(t);
    if (!per) return { ok: false, message: `a growth is per hour, got \`${text}\``, hint: 'e.g. 50MB/h' };
    t = t.slice(0, -2);
    if (t.startsWith('-')) {
      const r = parseTargetValue(unit, 'value', t.slice(1), parseDuration);
      return r.ok ? { ok: true, value: -r.value } : r;
    }
  }
  const plain = () => {
    if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(t))
      return { ok: false as const, message: `expected a number, got \`${t}\`` };
    return { ok: true as const, value: Number(t) };
  };
  switch (unit) {
    case 'percent':
      if (!/^-?\d+(\.\d+)?%$/.test(t)) return { ok: false, message: `a percentage, got \`${t}\``, hint: 'e.g. 90%' };
      return { ok: true, value: Number(t.slice(0, -1)) };
    case 'bytes':
      return tryParseSize(t);
    case 'bytes_per_s': {
      const r = tryParseSize(t.replace(/\/s$/, ''));
      return r.ok && t.endsWith('/s') ? r : { ok: false, message: `a byte rate, got \`${t}\``, hint: 'e.g. 100MB/s' };
    }
    case 'ms': {
      const r = parseDuration(t);
      return r.ok ? r : { ok: false, message: `a duration, got \`${t}\``, hint: 'e.g. 20ms' };
    }
    case 'per_s': {
      const r = /^(\d+(?:\.\d+)?)\/s$/.exec(t);
      return r ? { ok: true, value: Number(r[1]) } : { ok: false, message: `a rate, got \`${t}\``, hint: 'e.g. 100/s' };
    }
    default:
      return plain();
  }
}

/** For messages: the metric names a plan's monitor defines. */
export function targetMetricHint(name: string, names: readonly string[]): string {
  const c = closest(name, names);
  return c ? `did you mean \`target.${c}\`?` : `target metrics of this plan: ${names.join(', ') || '(none)'}`;
}
