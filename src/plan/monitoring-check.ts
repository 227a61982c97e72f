/**
 * `checks.monitoring` (docs/checks.md#monitoring): the metrics endpoints answer and expose the series
 * the plan expects — named, or every series a preset reads. Run by src/checks/monitoring.ts.
 */
import type { CheckBuildContext, CheckKindSyntax } from './check-kinds.js';
import { join } from './spec.js';
import type { ObjectSpec, Raw, Walker } from './spec.js';
import { didYouMean } from './suggest.js';
import { MONITOR_PRESETS, PRESET_NAMES, parseSelector } from './monitor.js';
import type { MonitorSource, Selector } from './monitor.js';

export interface ExpectedSeries {
  /** As written or as the preset reads it (`nv_inference_count`, `up{job="model"}`). */
  text: string;
  selector: Selector;
  /** Where the expectation came from: `expect`, `preset <name>`, or `monitor metric <name>`. */
  from: string;
}

export interface MonitoringCheckPlan {
  sources: MonitorSource[];
  expect: ExpectedSeries[];
  /** Deadline of each scrape. */
  timeoutMs: number;
}

const URL_RE = /^https?:\/\/[^\s/?#]+(\/[^\s#]*)?$/;

const listOf = (what: string, description: string, pattern?: RegExp) => ({
  t: 'union' as const,
  expected: `${what} or a list of them`,
  description,
  string: { t: 'string' as const, nonEmpty: true, ...(pattern ? { pattern } : {}) },
  seq: {
    t: 'array' as const,
    minItems: 1,
    items: { t: 'string' as const, nonEmpty: true, ...(pattern ? { pattern } : {}) },
  },
});

const spec: ObjectSpec = {
  t: 'object',
  what: 'monitoring check',
  description: 'The metrics endpoints answer and expose the expected series (default: what `monitor:` reads).',
  fields: {
    scrape: listOf(
      'an http:// URL',
      'Exposition endpoints (default: monitor.scrape), e.g. http://127.0.0.1:8000/metrics.',
      URL_RE,
    ),
    preset: listOf(
      'a preset name',
      `Look for every series these presets read (missing ones warn: a preset lists what a server may export): ${PRESET_NAMES.join(', ')}.`,
    ),
    expect: {
      t: 'array',
      minItems: 1,
      keepHoles: true,
      description: 'Series that must be present: a metric name, optionally with labels, e.g. up{job="model"}.',
      items: { t: 'string', nonEmpty: true, coerce: false },
    },
    headers: {
      t: 'map',
      what: 'headers',
      lowerCaseKeys: true,
      values: { t: 'string', headerValue: true },
      description: 'Request headers of each scrape (e.g. authorization: "Bearer ${TOKEN}").',
    },
    timeout: { t: 'duration', positive: true, default: '5s', description: 'Deadline of each scrape.' },
  },
};

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [String(v)]);

function selectorOf(text: string): Selector | undefined {
  const r = parseSelector(text);
  return r.ok ? r.selector : undefined;
}

function build(w: Walker, raw: Raw, path: string, ctx: CheckBuildContext): MonitoringCheckPlan | undefined {
  const headers = { ...((raw['headers'] ?? {}) as Record<string, string>) };
  ctx.sensitiveHeaders(join(path, 'headers'), headers);
  let sources: MonitorSource[] = asList(raw['scrape']).map((url) => ({ url, headers }));
  if (sources.length === 0 && !w.has(join(path, 'scrape'))) {
    sources = (ctx.monitor?.scrape ?? []).map((s) => ({ url: s.url, headers: { ...s.headers, ...headers } }));
    if (sources.length === 0)
      w.problemAt(
        path,
        'the monitoring check needs endpoints to scrape: `scrape:` (or a `monitor:` section with `scrape:`)',
        'e.g. monitoring: { scrape: http://127.0.0.1:8000/metrics, preset: triton }',
        'key',
      );
  }
  const expect: ExpectedSeries[] = [];
  const seen = new Set<string>();
  const add = (text: string, from: string) => {
    const selector = selectorOf(text);
    if (selector && !seen.has(text)) {
      seen.add(text);
      expect.push({ text, selector, from });
    }
  };
  ((raw['expect'] ?? []) as unknown[]).forEach((e, i) => {
    if (typeof e !== 'string') return;
    const r = parseSelector(e);
    if (!r.ok) w.problemAt(join(join(path, 'expect'), i), r.message, 'e.g. nv_inference_count or up{job="model"}');
    else add(e.trim(), 'expect');
  });
  const presets = asList(raw['preset']);
  presets.forEach((p, i) => {
    const def = MONITOR_PRESETS[p];
    if (!def) {
      const pp = typeof raw['preset'] === 'string' ? join(path, 'preset') : join(join(path, 'preset'), i);
      w.problemAt(pp, `unknown preset \`${p}\``, didYouMean(p, PRESET_NAMES, 'presets'));
      return;
    }
    for (const m of Object.values(def.metrics))
      for (const s of [m.selector, m.per, m.minus]) if (s !== undefined) add(s, `preset ${p}`);
  });
  // Neither named: what the plan's monitor reads by name (preset metrics are optional there).
  if (!w.has(join(path, 'expect')) && !w.has(join(path, 'preset')))
    for (const m of ctx.monitor?.metrics ?? [])
      if (m.selector && m.preset === undefined) add(m.selector.metric, `monitor metric ${m.name}`);
  if (expect.length === 0 && !w.has(join(path, 'expect')) && !w.has(join(path, 'preset')))
    w.problemAt(
      path,
      'the monitoring check expects no series: add `expect:` (series names) or `preset:`',
      'e.g. monitoring: { scrape: http://127.0.0.1:8000/metrics, expect: [nv_inference_count] }',
      'key',
    );
  return { sources, expect, timeoutMs: raw['timeout'] ?? 5000 };
}

export const monitoringCheckSyntax: CheckKindSyntax<MonitoringCheckPlan> = {
  spec,
  figures: {
    'monitoring.scrape': { time: 'ms', failed: 'count' },
    'monitoring.series': { missing: 'count', missing_preset: 'count', present: 'count' },
  },
  build,
};
