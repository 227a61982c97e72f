/**
 * Threshold expressions: `[scenario[/group].]metric[.stat] OP value[unit]`.
 *
 *   p99 < 250ms                     shorthand for latency.p99, all scenarios merged
 *   latency.p99.9 <= 1s             durations → ms
 *   steady.error_rate < 1%          percentages → fractions
 *   throughput >= 150/s             rates → per second
 *   steady/digits-v2.accuracy >= 0.9
 *   errors.timeout == 0             count of one error class
 *   generator_overloaded == false   run-wide boolean
 *
 * Parsing lives in src/plan (plans are validated when loaded); evaluation is src/verdict.
 */
import { ERROR_CLASSES } from '../core/types.js';
import type { Comparator, ComparisonThreshold, ThresholdPlan } from './types.js';
import { closest, didYouMean } from './suggest.js';
import { tryParseDuration, tryParsePercent, tryParseRate } from './units.js';
import { parseTargetValue, TARGET_STATS, targetMetricHint, type MonitorUnit } from './monitor.js';
import { CHECK_KIND_NAMES, checkFigures, type FigureUnit } from './check-kinds.js';
import { tryParseBandwidth, tryParseSize } from './units.js';

export type MetricKind = 'histogram' | 'fraction' | 'rate' | 'count' | 'number' | 'bool';

export interface MetricInfo {
  kind: MetricKind;
  description: string;
  /** Histograms: the ScenarioSummary field (`latency_ms`) or, when absent, `histograms['<name>_ms']`. */
  field?: string;
  /** What a scenario needs for the metric to be recorded. */
  requires?: 'openai' | 'quality' | 'classification' | 'regression' | 'golden' | 'reference';
  /** A property of the whole run, not of a scenario (no scenario prefix). */
  runWide?: boolean;
  /** `errors.<class>`: the statistic is an error class. */
  statIsErrorClass?: boolean;
}

/** Every metric a threshold can name. */
export const METRICS: Readonly<Record<string, MetricInfo>> = {
  latency: {
    kind: 'histogram',
    field: 'latency_ms',
    description: 'Completion − intended start (includes waiting: no coordinated omission).',
  },
  service_time: { kind: 'histogram', field: 'service_time_ms', description: 'Completion − actual send.' },
  ttfb: { kind: 'histogram', field: 'ttfb_ms', description: 'First response byte − actual send.' },
  dispatch_lag: { kind: 'histogram', field: 'dispatch_lag_ms', description: 'Actual send − intended start.' },
  ttft: { kind: 'histogram', requires: 'openai', description: 'Time to first token (openai, streaming).' },
  itl: { kind: 'histogram', requires: 'openai', description: 'Inter-token latency (openai, streaming).' },
  tpot: { kind: 'histogram', requires: 'openai', description: 'Time per output token (openai).' },
  e2e: { kind: 'histogram', requires: 'openai', description: 'End-to-end request time (openai).' },
  error_rate: { kind: 'fraction', description: '(Failed + cancelled at the stop) / (completed + cancelled).' },
  throughput: { kind: 'rate', description: 'Completed requests per second, failed ones included.' },
  ok_throughput: { kind: 'rate', description: 'Successful requests per second.' },
  target_rate: { kind: 'rate', description: 'Requested arrival rate (open model).' },
  goodput: { kind: 'rate', requires: 'openai', description: 'Requests per second that met every openai.slo.' },
  tokens_per_s: { kind: 'rate', requires: 'openai', description: 'Output tokens per second (openai).' },
  requests: { kind: 'count', description: 'Requests sent.' },
  ok: { kind: 'count', description: 'Successful requests.' },
  errors: {
    kind: 'count',
    statIsErrorClass: true,
    description: 'Failed requests; errors.<class> for one error class.',
  },
  late: { kind: 'count', description: 'Arrivals sent later than intended (open model).' },
  unsent: { kind: 'count', description: 'Arrivals due but never sent.' },
  cancelled: {
    kind: 'count',
    description:
      'Requests still in flight at the stop, cut off by Preflight (graceful-stop timeout, Ctrl-C); counted as failed in error_rate.',
  },
  bytes_in: { kind: 'count', description: 'Response bytes received.' },
  bytes_out: { kind: 'count', description: 'Request bytes sent.' },
  accuracy: {
    kind: 'fraction',
    requires: 'classification',
    description: 'Share of correct predictions (quality, classification).',
  },
  effective_accuracy: {
    kind: 'fraction',
    requires: 'classification',
    description: 'Correct predictions / all requests (failed requests count as wrong).',
  },
  accuracy_drop: {
    kind: 'fraction',
    requires: 'reference',
    description: 'Reference accuracy − accuracy under load (quality.reference).',
  },
  agreement: {
    kind: 'fraction',
    requires: 'golden',
    description: 'Share of responses matching the golden file (quality.golden).',
  },
  mae: { kind: 'number', requires: 'regression', description: 'Mean absolute error (quality, regression).' },
  rmse: { kind: 'number', requires: 'regression', description: 'Root mean squared error (quality, regression).' },
  generator_overloaded: {
    kind: 'bool',
    runWide: true,
    description: 'Whether the load generator itself was overloaded.',
  },
};

/** Statistics of histogram metrics, as written in expressions (`p999` is accepted for `p99.9`). */
export const HISTOGRAM_STATS = ['p50', 'p90', 'p95', 'p99', 'p99.9', 'min', 'mean', 'max'] as const;
/** Maps an expression statistic to the DurationStats field. */
export const STAT_FIELD: Readonly<Record<string, string>> = {
  p50: 'p50',
  p90: 'p90',
  p95: 'p95',
  p99: 'p99',
  'p99.9': 'p999',
  min: 'min',
  mean: 'mean',
  max: 'max',
};

export const COMPARATORS: readonly Comparator[] = ['<', '<=', '>', '>=', '==', '!='];

/** What the parser needs to know about the plan's scenarios to validate names. */
export interface ScenarioFacts {
  protocol: string;
  /** Group names (models of a mix); undefined when the scenario has no groups. */
  groups?: string[];
  quality?: { task: string; golden: boolean; reference: boolean };
}

export interface ThresholdContext {
  scenarios: ReadonlyMap<string, ScenarioFacts>;
  /** The plan's comparison (kind undefined: there is one, but it is broken); absent: the plan has none. */
  comparison?: { kind: 'ab' | 'canary' | 'shadow' | undefined };
  /** The plan's target metrics (monitor:) and their units; absent: the plan has no monitor. */
  targetMetrics?: ReadonlyMap<string, MonitorUnit>;
  /** The plan's profile type, when it has one (answer thresholds such as `resilience.recovery_s` need theirs). */
  profile?: string;
  /** The figures of the plan's checks (`checks:`), `<check id>.<figure>` → unit; absent or empty: the plan has none. */
  checkFigures?: ReadonlyMap<string, FigureUnit>;
  /** The plan has a `cost:` section (thresholds `cost.per_1k`, … need one). */
  cost?: boolean;
}

export type ParsedThreshold = Omit<ThresholdPlan, 'abortOnFail' | 'delayAbortEvalMs'>;
export type ThresholdParse = { ok: true; threshold: ParsedThreshold } | { ok: false; message: string; hint?: string };

const fail = (message: string, hint?: string): ThresholdParse => ({ ok: false, message, ...(hint ? { hint } : {}) });

function normaliseStat(s: string): string {
  return s === 'p999' ? 'p99.9' : s;
}

const isStatShorthand = (s: string): boolean => (HISTOGRAM_STATS as readonly string[]).includes(normaliseStat(s));

function metricHint(name: string): string {
  const c = closest(name, [...Object.keys(METRICS), ...HISTOGRAM_STATS]);
  return c ? `did you mean \`${c}\`?` : `metrics: ${Object.keys(METRICS).join(', ')} (and latency shorthands like p99)`;
}

type MetricParse = { ok: true; metric: string; stat?: string } | { ok: false; message: string; hint?: string };

/** `metric[.stat]` (or a latency shorthand like `p99`). */
function parseMetric(text: string): MetricParse {
  if (isStatShorthand(text)) return { ok: true, metric: 'latency', stat: normaliseStat(text) };
  const dot = text.indexOf('.');
  const name = dot < 0 ? text : text.slice(0, dot);
  const stat = dot < 0 ? undefined : text.slice(dot + 1);
  const info = METRICS[name];
  if (!info) return { ok: false, message: `unknown metric \`${name}\``, hint: metricHint(name) };
  if (info.kind === 'histogram') {
    if (stat === undefined || stat === '') {
      return {
        ok: false,
        message: `\`${name}\` needs a statistic`,
        hint: `e.g. ${name}.p99; statistics: ${HISTOGRAM_STATS.join(', ')}`,
      };
    }
    const st = normaliseStat(stat);
    if (!isStatShorthand(st)) {
      const c = closest(st, HISTOGRAM_STATS);
      return {
        ok: false,
        message: `unknown statistic \`${stat}\` of \`${name}\``,
        hint: c ? `did you mean \`${name}.${c}\`?` : `statistics: ${HISTOGRAM_STATS.join(', ')}`,
      };
    }
    return { ok: true, metric: name, stat: st };
  }
  if (info.statIsErrorClass) {
    if (stat === undefined) return { ok: true, metric: name };
    if (!(ERROR_CLASSES as readonly string[]).includes(stat)) {
      return {
        ok: false,
        message: `unknown error class \`${stat}\``,
        hint: didYouMean(stat, ERROR_CLASSES, 'error classes'),
      };
    }
    return { ok: true, metric: name, stat };
  }
  if (stat !== undefined) {
    return {
      ok: false,
      message: `\`${name}\` is a single value and has no statistic \`.${stat}\``,
      hint: `write \`${name} …\``,
    };
  }
  return { ok: true, metric: name };
}

function parseValue(
  metric: string,
  info: MetricInfo,
  op: Comparator,
  text: string,
): { ok: true; value: number } | { ok: false; message: string; hint?: string } {
  const label = metric;
  switch (info.kind) {
    case 'histogram': {
      const r = tryParseDuration(text);
      if (!r.ok) {
        const bare = /^\d+(\.\d+)?$/.test(text);
        return {
          ok: false,
          message: `\`${label}\` is a duration; ${r.message}`,
          hint: bare ? `add a unit, e.g. ${text}ms` : r.hint,
        };
      }
      return r;
    }
    case 'rate': {
      const r = tryParseRate(text);
      if (!r.ok) return { ok: false, message: `\`${label}\` is a rate; ${r.message}`, hint: r.hint };
      return r;
    }
    case 'fraction': {
      if (text.endsWith('%')) {
        const r = tryParsePercent(text);
        if (!r.ok) return r;
        if (r.value > 1) return { ok: false, message: `\`${text}\` is more than 100%` };
        return r;
      }
      if (!/^\d+(\.\d+)?$/.test(text)) {
        return {
          ok: false,
          message: `\`${label}\` is a fraction; expected a number from 0 to 1 or a percentage, got \`${text}\``,
          hint: 'e.g. 0.95 or 1%',
        };
      }
      const v = Number(text);
      if (v > 1)
        return {
          ok: false,
          message: `\`${label}\` is a fraction from 0 to 1, got ${text}`,
          hint: `write ${text}% for a percentage`,
        };
      return { ok: true, value: v };
    }
    case 'count':
    case 'number': {
      if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text)) {
        return {
          ok: false,
          message: `\`${label}\` is a plain number, got \`${text}\``,
          hint: info.kind === 'count' ? 'e.g. 1000 (no unit)' : 'e.g. 0.5 (no unit)',
        };
      }
      const v = Number(text);
      if (info.kind === 'count' && v < 0) return { ok: false, message: `\`${label}\` is a count; ${text} is negative` };
      return { ok: true, value: v };
    }
    case 'bool': {
      if (op !== '==' && op !== '!=')
        return {
          ok: false,
          message: `\`${label}\` is true or false; compare it with == or !=`,
          hint: `e.g. ${label} == false`,
        };
      if (text !== 'true' && text !== 'false')
        return { ok: false, message: `\`${label}\` is true or false, got \`${text}\``, hint: `e.g. ${label} == false` };
      return { ok: true, value: text === 'true' ? 1 : 0 };
    }
  }
}

/** Why a metric cannot be recorded for a scenario, or undefined when it can. */
function unmet(metric: string, info: MetricInfo, name: string, f: ScenarioFacts): string | undefined {
  switch (info.requires) {
    case 'openai':
      return f.protocol === 'openai'
        ? undefined
        : `\`${metric}\` is recorded by protocol openai only; scenario \`${name}\` uses ${f.protocol}`;
    case 'quality':
      return f.quality ? undefined : `\`${metric}\` needs \`quality\` in scenario \`${name}\``;
    case 'classification':
      if (!f.quality) return `\`${metric}\` needs \`quality\` in scenario \`${name}\``;
      return f.quality.task === 'classification'
        ? undefined
        : `\`${metric}\` is for classification; scenario \`${name}\` has quality.task ${f.quality.task} (use mae or rmse)`;
    case 'regression':
      if (!f.quality) return `\`${metric}\` needs \`quality\` in scenario \`${name}\``;
      return f.quality.task === 'regression'
        ? undefined
        : `\`${metric}\` is for regression; scenario \`${name}\` has quality.task ${f.quality.task} (use accuracy)`;
    case 'golden':
      return f.quality?.golden ? undefined : `\`${metric}\` needs \`quality.golden\` in scenario \`${name}\``;
    case 'reference':
      return f.quality?.reference ? undefined : `\`${metric}\` needs \`quality.reference\` in scenario \`${name}\``;
    default:
      return undefined;
  }
}

/**
 * Parses one expression. With a context, scenario and group names and metric requirements are
 * checked against the plan; without one, any unknown first segment is taken as a scenario name.
 */
export function parseThresholdExpression(expression: string, ctx?: ThresholdContext): ThresholdParse {
  const expr = expression.trim();
  if (expr === '') return fail('empty threshold', 'e.g. p99 < 250ms');
  const opAt = expr.search(/[<>=!]/);
  if (opAt < 0)
    return fail(
      `\`${expr}\` has no comparison`,
      'write metric OP value with OP one of < <= > >= == !=, e.g. p99 < 250ms',
    );
  const opMatch = /^[<>=!]+/.exec(expr.slice(opAt));
  const opText = opMatch ? opMatch[0] : '';
  const left = expr.slice(0, opAt).trim();
  const right = expr.slice(opAt + opText.length).trim();
  if (!(COMPARATORS as readonly string[]).includes(opText)) {
    const fix: Record<string, string> = { '=': '==', '=>': '>=', '=<': '<=', '===': '==', '!==': '!=', '<>': '!=' };
    return fail(
      `unknown comparison \`${opText}\``,
      fix[opText] ? `write ${fix[opText]}` : 'use one of < <= > >= == !=',
    );
  }
  const op = opText as Comparator;
  if (left === '') return fail('the threshold has no metric before the comparison', 'e.g. p99 < 250ms');
  if (right === '') return fail('the threshold has no value after the comparison', 'e.g. p99 < 250ms');
  if (/\s/.test(left))
    return fail(`\`${left}\` contains spaces`, 'write [scenario[/group].]metric[.stat], e.g. steady.latency.p99');
  if (/\s/.test(right))
    return fail(`value \`${right}\` contains spaces`, `write it without spaces: ${right.replace(/\s+/g, '')}`);

  const head = left.includes('.') ? left.slice(0, left.indexOf('.')) : '';
  if (
    (COMPARISON_SECTIONS as readonly string[]).includes(head) &&
    (ctx === undefined || ctx.comparison !== undefined || !ctx.scenarios.has(head))
  )
    return parseComparisonThreshold(expr, left, op, right, ctx);
  if (head === 'target' && (ctx === undefined || ctx.targetMetrics !== undefined || !ctx.scenarios.has(head)))
    return parseTargetThreshold(expr, left, op, right, ctx);
  if ((CHECK_KIND_NAMES as readonly string[]).includes(head) && (ctx === undefined || !ctx.scenarios.has(head)))
    return parseCheckThreshold(expr, left, op, right, head, ctx);
  if (head === 'cost' && (ctx === undefined || ctx.cost || !ctx.scenarios.has(head)))
    return parseCostThreshold(expr, left, op, right, ctx);
  if (
    (head === 'resilience' || head === 'autoscale') &&
    (ctx === undefined || ctx.profile === head || !ctx.scenarios.has(head))
  )
    return parseAnswerThreshold(expr, left, op, right, head, ctx);

  let scenario: string | undefined;
  let group: string | undefined;
  let metricText = left;
  const slash = left.indexOf('/');
  if (slash >= 0) {
    scenario = left.slice(0, slash);
    const rest = left.slice(slash + 1);
    const known = ctx?.scenarios.get(scenario)?.groups;
    const byName = known?.filter((g) => rest.startsWith(`${g}.`)).sort((a, b) => b.length - a.length)[0];
    if (byName !== undefined) {
      group = byName;
      metricText = rest.slice(byName.length + 1);
    } else {
      // First split whose remainder is a metric: group names may contain dots (llama-3.1-8b).
      let found = false;
      for (let i = rest.indexOf('.'); i > 0; i = rest.indexOf('.', i + 1)) {
        if (parseMetric(rest.slice(i + 1)).ok) {
          group = rest.slice(0, i);
          metricText = rest.slice(i + 1);
          found = true;
          break;
        }
      }
      if (!found) {
        const dot = rest.indexOf('.');
        if (dot <= 0)
          return fail(
            `\`${left}\` has no metric after the group`,
            'write scenario/group.metric, e.g. steady/digits-v2.accuracy',
          );
        group = rest.slice(0, dot);
        metricText = rest.slice(dot + 1);
      }
    }
    if (!scenario) return fail(`\`${left}\` has an empty scenario name before \`/\``);
  } else {
    const dot = left.indexOf('.');
    const first = dot < 0 ? left : left.slice(0, dot);
    const isMetric = METRICS[first] !== undefined || isStatShorthand(left) || isStatShorthand(first);
    if (dot > 0 && ctx?.scenarios.has(first) && (!isMetric || parseMetric(left.slice(dot + 1)).ok)) {
      scenario = first;
      metricText = left.slice(dot + 1);
    } else if (!isMetric) {
      if (ctx) {
        const names = [...ctx.scenarios.keys()];
        if (dot < 0) {
          return fail(`unknown metric \`${first}\``, metricHint(first));
        }
        const c = closest(first, [...names, ...Object.keys(METRICS)]);
        return fail(
          `\`${first}\` is neither a scenario of this plan nor a metric`,
          c ? `did you mean \`${c}\`?` : `scenarios: ${names.map((n) => `\`${n}\``).join(', ') || '(none)'}`,
        );
      }
      if (dot > 0) {
        scenario = first;
        metricText = left.slice(dot + 1);
      }
    }
  }

  const m = parseMetric(metricText);
  if (!m.ok) return m;
  const info = METRICS[m.metric];
  if (info.runWide && scenario !== undefined) {
    return fail(
      `\`${m.metric}\` is a property of the whole run, not of a scenario`,
      `write \`${m.metric} ${op} ${right}\``,
    );
  }

  if (ctx && scenario !== undefined) {
    const facts = ctx.scenarios.get(scenario);
    if (!facts) {
      const names = [...ctx.scenarios.keys()];
      return fail(`unknown scenario \`${scenario}\``, didYouMean(scenario, names, 'scenarios'));
    }
    if (group !== undefined) {
      if (!facts.groups)
        return fail(
          `scenario \`${scenario}\` has no groups (groups are the models of a \`mix\`)`,
          `write ${scenario}.${metricText}`,
        );
      if (!facts.groups.includes(group))
        return fail(`scenario \`${scenario}\` has no group \`${group}\``, didYouMean(group, facts.groups, 'groups'));
    }
    const why = unmet(m.metric, info, scenario, facts);
    if (why) return fail(why);
  } else if (ctx && info.requires) {
    const all = [...ctx.scenarios.entries()];
    if (all.length > 0 && all.every(([n, f]) => unmet(m.metric, info, n, f) !== undefined)) {
      const needs: Record<NonNullable<MetricInfo['requires']>, string> = {
        openai: 'a scenario with protocol openai',
        quality: 'a scenario with `quality`',
        classification: 'a scenario with `quality` (task classification)',
        regression: 'a scenario with `quality` (task: regression)',
        golden: 'a scenario with `quality.golden`',
        reference: 'a scenario with `quality.reference`',
      };
      return fail(`no scenario of this plan records \`${m.metric}\``, `\`${m.metric}\` needs ${needs[info.requires]}`);
    }
  }

  const v = parseValue(m.metric, info, op, right);
  if (!v.ok) return v;
  const threshold: ParsedThreshold = { expression: expr, metric: m.metric, op, value: v.value };
  if (scenario !== undefined) threshold.scenario = scenario;
  if (group !== undefined) threshold.group = group;
  if (m.stat !== undefined) threshold.stat = m.stat;
  return { ok: true, threshold };
}

// ---- thresholds on a profile's answer -------------------------------------------------------------

/**
 * The resilience profile's answer, as threshold metrics (worst over the fault windows): recovery_s
 * (a window that never recovered has no value, so the threshold fails), detect_s, lost.
 */
export const ANSWER_METRICS: Readonly<Record<string, { kind: 'seconds' | 'count' | 'ratio'; description: string }>> = {
  'resilience.recovery_s': {
    kind: 'seconds',
    description: 'Longest time to recover after a fault window ended (s); none when a window never recovered.',
  },
  'resilience.detect_s': {
    kind: 'seconds',
    description: 'Longest time from a fault’s start to its first bad window (s).',
  },
  'resilience.lost': {
    kind: 'count',
    description: 'Requests lost (failed or timed out) in and after the windows, until recovery.',
  },
  'resilience.amplification': {
    kind: 'ratio',
    description:
      'Retry amplification: requests the target received ÷ requests sent, worst over the fault windows (needs a monitor metric counting them).',
  },
  // The autoscale profile's answer (docs/monitoring.md#autoscaling-checks); none when it did not happen.
  'autoscale.scale_up_s': {
    kind: 'seconds',
    description: 'From the step up to the first scale-up (the desired replica count rises) (s).',
  },
  'autoscale.ready_s': {
    kind: 'seconds',
    description: 'From the step up until the new replicas serve (the ready count rises) (s).',
  },
  'autoscale.slo_violation_s': {
    kind: 'seconds',
    description: 'Seconds of windows at the high load whose latency or errors broke the SLO thresholds.',
  },
  'autoscale.overprovision_replica_seconds': {
    kind: 'count',
    description: 'Replica-seconds above the baseline count after the step down, until scaled in (or the end).',
  },
  'autoscale.scale_down_s': {
    kind: 'seconds',
    description: 'From the step down to the first scale-down (s).',
  },
  'autoscale.flaps': {
    kind: 'count',
    description: 'Direction changes of the replica count beyond the one up-then-down cycle.',
  },
};

function parseAnswerThreshold(
  expr: string,
  left: string,
  op: Comparator,
  right: string,
  profile: 'resilience' | 'autoscale',
  ctx: ThresholdContext | undefined,
): ThresholdParse {
  const info = ANSWER_METRICS[left];
  const own = Object.keys(ANSWER_METRICS).filter((k) => k.startsWith(`${profile}.`));
  if (!info) return fail(`unknown ${profile} metric \`${left}\``, didYouMean(left, own, 'metrics'));
  if (ctx && ctx.profile !== profile)
    return fail(
      `\`${left}\` is an answer of the ${profile} profile, but this plan ${ctx.profile ? `is a ${ctx.profile} profile` : 'has no profile'}`,
      profile === 'resilience'
        ? 'use profile: { type: resilience, … } with a faults: timeline'
        : 'use profile: { type: autoscale, … } with a monitor: section',
    );
  let value: number;
  if (info.kind === 'seconds' && /[a-zµ]$/i.test(right)) {
    const d = tryParseDuration(right);
    if (!d.ok) return fail(d.message, d.hint);
    value = d.value / 1000;
  } else {
    const v = parsePlain(left, right, info.kind === 'count');
    if (!v.ok) return v;
    value = v.value;
  }
  return {
    ok: true,
    threshold: {
      expression: expr,
      metric: left,
      op,
      value,
      answer: { profile, field: left.slice(left.indexOf('.') + 1) },
    },
  };
}

/** `cost.<figure> OP value`: a figure of summary.cost.headline (docs/cost.md). */
export const COST_METRICS: Readonly<Record<string, { kind: 'money' | 'count'; description: string }>> = {
  'cost.per_1k': {
    kind: 'money',
    description: 'On-demand cost per 1,000 inferences at actual use (following the daily curve when there is one).',
  },
  'cost.per_1m': { kind: 'money', description: 'The same per 1,000,000 inferences.' },
  'cost.monthly': {
    kind: 'money',
    description:
      'On-demand cost per month (following the daily curve when there is one, else the peak replicas all month).',
  },
  'cost.replicas': { kind: 'count', description: 'Replicas needed at the peak, with headroom.' },
};

function parseCostThreshold(
  expr: string,
  left: string,
  op: Comparator,
  right: string,
  ctx: ThresholdContext | undefined,
): ThresholdParse {
  const info = COST_METRICS[left];
  if (!info)
    return fail(`unknown cost figure \`${left}\``, didYouMean(left, Object.keys(COST_METRICS), 'cost figures'));
  if (ctx && !ctx.cost)
    return fail(
      `\`${left}\` reads the cost section, but this plan has no \`cost:\``,
      'add cost: { prices: prices.yaml, instance: <type>, peak: 500/s } (docs/cost.md)',
    );
  const v = parsePlain(left, right, info.kind === 'count');
  if (!v.ok)
    return info.kind === 'money' ? { ...v, hint: 'a plain amount in the price file’s currency, e.g. 0.02' } : v;
  return {
    ok: true,
    threshold: {
      expression: expr,
      metric: left,
      op,
      value: v.value,
      cost: { field: left.slice('cost.'.length) as 'per_1k' | 'per_1m' | 'monthly' | 'replicas' },
    },
  };
}

// ---- comparison thresholds ---------------------------------------------------------------------

const COMPARISON_SECTIONS = ['comparison', 'ab', 'canary', 'shadow'] as const;

/** Verdicts in order, worst first: `comparison.verdict >= marginal` passes on marginal and pass. */
export const VERDICT_RANK: Readonly<Record<string, number>> = { fail: 0, inconclusive: 1, marginal: 2, pass: 3 };

/** The A/B tests a threshold can name (the StatTest `metric`s) and their fields. */
export const AB_TESTS = [
  'latency.p50',
  'latency.p90',
  'latency.p95',
  'latency.p99',
  'latency.p99.9',
  'latency.median',
  'latency.mean',
  'error_rate',
  'accuracy',
] as const;
export const AB_FIELDS = ['diff', 'p', 'power', 'ci_low', 'ci_high'] as const;

/** Every comparison metric, for messages and docs. */
export const COMPARISON_METRICS: Readonly<
  Record<string, { kind: 'verdict' | 'score' | 'fraction' | 'count'; description: string }>
> = {
  'comparison.verdict': {
    kind: 'verdict',
    description: 'pass, marginal, inconclusive or fail (in that order, best first).',
  },
  'canary.score': { kind: 'score', description: 'Canary score, 0–100.' },
  'shadow.agreement': { kind: 'fraction', description: 'Share of compared requests with the same prediction.' },
  'shadow.compared': { kind: 'count', description: 'Requests whose three answers were compared.' },
  'shadow.differing_fields': { kind: 'count', description: 'Fields reported as really different.' },
};

function parseComparisonThreshold(
  expr: string,
  left: string,
  op: Comparator,
  right: string,
  ctx: ThresholdContext | undefined,
): ThresholdParse {
  const dot = left.indexOf('.');
  const section = left.slice(0, dot) as ComparisonThreshold['section'];
  const rest = left.slice(dot + 1);
  const kind = ctx?.comparison?.kind;
  if (ctx && ctx.comparison === undefined)
    return fail(
      `\`${left}\` is a comparison metric, but the plan has no \`comparison:\``,
      'add a comparison section (docs/release-comparisons.md)',
    );
  if (kind !== undefined && section !== 'comparison' && section !== kind)
    return fail(
      `\`${left}\` is for a comparison of kind ${section}; this plan's is ${kind}`,
      `write ${kind}.… or comparison.verdict`,
    );
  const ok = (c: ComparisonThreshold, value: number): ThresholdParse => ({
    ok: true,
    threshold: { expression: expr, metric: left, op, value, comparison: c },
  });
  if (section !== 'ab') {
    const info = COMPARISON_METRICS[left];
    if (!info) {
      const names = Object.keys(COMPARISON_METRICS).filter((n) => n.startsWith(`${section}.`));
      const c = closest(left, names);
      return fail(
        `unknown comparison metric \`${left}\``,
        c ? `did you mean \`${c}\`?` : `metrics: ${names.join(', ')}`,
      );
    }
    const c: ComparisonThreshold = { section, field: rest };
    if (info.kind === 'verdict') {
      const r = VERDICT_RANK[right];
      if (r === undefined)
        return fail(
          `\`${left}\` is one of pass, marginal, inconclusive, fail; got \`${right}\``,
          `e.g. ${left} == pass`,
        );
      return ok(c, r);
    }
    const v =
      info.kind === 'fraction'
        ? parseValue(left, METRICS['accuracy'], op, right)
        : parsePlain(left, right, info.kind === 'count');
    if (!v.ok) return v;
    if (info.kind === 'score' && v.value > 100) return fail(`\`${left}\` is 0–100, got ${right}`);
    return ok(c, v.value);
  }
  // ab.<test>.<field>: the field is the last segment (tests contain dots: latency.p99.9)
  const last = rest.lastIndexOf('.');
  const test = last < 0 ? rest : rest.slice(0, last);
  const field = last < 0 ? '' : rest.slice(last + 1);
  if (!(AB_TESTS as readonly string[]).includes(test))
    return fail(`unknown A/B metric \`${test}\``, didYouMean(test, AB_TESTS, 'A/B metrics'));
  if (!(AB_FIELDS as readonly string[]).includes(field))
    return fail(
      `\`ab.${test}\` needs a field: ${AB_FIELDS.join(', ')}`,
      field ? didYouMean(field, AB_FIELDS, 'fields') : `e.g. ab.${test}.diff`,
    );
  const c: ComparisonThreshold = { section, test, field };
  if (field === 'p' || field === 'power') {
    const v = parsePlain(left, right, false);
    if (!v.ok) return v;
    if (v.value < 0 || v.value > 1) return fail(`\`${left}\` is between 0 and 1, got ${right}`);
    return ok(c, v.value);
  }
  // diff, ci_low, ci_high: signed, in the metric's unit (durations for latency, shares for the rest)
  const neg = right.startsWith('-');
  const mag = neg || right.startsWith('+') ? right.slice(1) : right;
  let v: { ok: true; value: number } | { ok: false; message: string; hint?: string };
  if (test.startsWith('latency.')) {
    const d = tryParseDuration(mag);
    v = d.ok
      ? d
      : { ok: false, message: `\`${left}\` is a duration difference; ${d.message}`, hint: 'e.g. 10ms or -5ms' };
  } else if (/^\d+(\.\d+)?pp$/.test(mag)) v = { ok: true, value: Number(mag.slice(0, -2)) / 100 };
  else {
    v = parseValue(left, METRICS['accuracy'], op, mag);
    if (!v.ok)
      v = {
        ok: false,
        message: `\`${left}\` is a difference of shares; got \`${right}\``,
        hint: 'e.g. -0.5pp, -0.5% or -0.005',
      };
  }
  if (!v.ok) return v;
  return ok(c, neg ? -v.value : v.value);
}

function parsePlain(
  label: string,
  text: string,
  count: boolean,
): { ok: true; value: number } | { ok: false; message: string; hint?: string } {
  if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text))
    return {
      ok: false,
      message: `\`${label}\` is a plain number, got \`${text}\``,
      hint: count ? 'e.g. 1000' : 'e.g. 95',
    };
  const v = Number(text);
  if (v < 0) return { ok: false, message: `\`${label}\` cannot be negative, got ${text}` };
  return { ok: true, value: v };
}

// ---- target-metric thresholds ------------------------------------------------------------------

/** `target.<name>.<stat> OP value`: a figure of summary.target_metrics (docs/monitoring.md). */
function parseTargetThreshold(
  expr: string,
  left: string,
  op: Comparator,
  right: string,
  ctx: ThresholdContext | undefined,
): ThresholdParse {
  const parts = left.split('.');
  if (parts.length !== 3 || parts[1] === '' || parts[2] === '')
    return fail(`\`${left}\`: write target.<metric>.<statistic>`, 'e.g. target.cpu.max < 90%');
  const [, name, stat] = parts;
  if (ctx && ctx.targetMetrics === undefined)
    return fail(
      `\`${left}\` is a target metric, but the plan has no \`monitor:\``,
      'add a monitor section (docs/monitoring.md)',
    );
  const unit = ctx?.targetMetrics?.get(name);
  if (ctx && unit === undefined)
    return fail(`unknown target metric \`${name}\``, targetMetricHint(name, [...ctx.targetMetrics!.keys()]));
  if (!(TARGET_STATS as readonly string[]).includes(stat))
    return fail(`unknown statistic \`${stat}\` of \`target.${name}\``, didYouMean(stat, TARGET_STATS, 'statistics'));
  const v = parseTargetValue(unit ?? 'count', stat, right, (t) => tryParseDuration(t));
  if (!v.ok)
    return fail(`\`${left}\` (${unit ?? 'a number'}${stat === 'growth' ? ' per hour' : ''}): ${v.message}`, v.hint);
  return { ok: true, threshold: { expression: expr, metric: left, op, value: v.value, target: { name, stat } } };
}

// ---- check figures -----------------------------------------------------------------------------

/** `<check id>.<figure> OP value` (`network.connect.p99 < 5ms`): a figure of summary.checks (docs/checks.md). */
function parseCheckThreshold(
  expr: string,
  left: string,
  op: Comparator,
  right: string,
  kind: string,
  ctx: ThresholdContext | undefined,
): ThresholdParse {
  const all = checkFigures([kind]);
  const known = ctx ? (ctx.checkFigures ?? new Map<string, FigureUnit>()) : all;
  const unit = known.get(left);
  if (unit === undefined) {
    if (all.has(left))
      return fail(
        `\`${left}\` is a figure of the ${kind} check, but the plan has no \`checks.${kind}\``,
        `add checks: { ${kind}: { … } } (docs/checks.md)`,
      );
    return fail(`unknown check figure \`${left}\``, didYouMean(left, [...all.keys()], `${kind} figures`));
  }
  const last = left.lastIndexOf('.');
  const check = { id: left.slice(0, last), figure: left.slice(last + 1) };
  if (unit === 'fraction' || unit === 'number') {
    // Shares and plain numbers as any metric's (`1%` or 0.01; 0.5).
    const v = parseValue(left, { kind: unit, description: '' }, op, right);
    if (!v.ok) return fail(v.message, v.hint ?? `e.g. ${left} ${op} ${unit === 'fraction' ? '1%' : '0.5'}`);
    return { ok: true, threshold: { expression: expr, metric: left, op, value: v.value, check } };
  }
  const r =
    unit === 'ms'
      ? tryParseDuration(right)
      : unit === 'bytes'
        ? tryParseSize(right)
        : unit === 'bytes_per_s'
          ? tryParseBandwidth(right)
          : parsePlain(left, right, true);
  if (!r.ok) {
    const what = { ms: 'a duration', bytes: 'a size', bytes_per_s: 'a bandwidth', count: 'a count' }[unit];
    const eg = { ms: '5ms', bytes: '1MB', bytes_per_s: '100MB/s', count: '0' }[unit];
    return fail(`\`${left}\` is ${what}; ${r.message}`, r.hint ?? `e.g. ${left} ${op} ${eg}`);
  }
  return { ok: true, threshold: { expression: expr, metric: left, op, value: r.value, check } };
}
