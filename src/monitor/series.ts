/**
 * Scraped samples → figures: counters → per-second rates (resets handled as Prometheus' rate():
 * a drop means the counter restarted from zero), histograms → quantiles by bucket interpolation
 * (as Prometheus' histogram_quantile) and means from _sum/_count, several series → one value
 * (sum, avg, max, min). A window without a reading, or whose series all vanished, is a gap
 * (null), never a zero.
 */
import type { MonitorMetric, Selector } from '../plan/monitor.js';
import { matches } from '../plan/monitor.js';
import type { MetricFamily } from './exposition.js';

/** One scrape: when (ms since the epoch) and, per selector key, sample key → value. */
export interface ScrapePoint {
  t: number;
  values: Map<string, Map<string, number>>;
}

/** A selector's key in ScrapePoint.values (histograms read `_bucket`, `_sum` and `_count`). */
export function selectorKey(s: Selector, kind: 'histogram' | 'other'): string {
  return `${kind === 'histogram' ? 'h:' : ''}${s.metric}${JSON.stringify(s.matchers)}`;
}

/** Every selector a metric reads, with its key (the metric's own, `per`, `minus`, `plus`). */
export function selectorsOf(m: MonitorMetric): { key: string; selector: Selector; histogram: boolean }[] {
  const out: { key: string; selector: Selector; histogram: boolean }[] = [];
  if (m.selector) {
    const h = m.kind === 'histogram';
    out.push({ key: selectorKey(m.selector, h ? 'histogram' : 'other'), selector: m.selector, histogram: h });
  }
  for (const s of [m.per, m.minus, m.plus])
    if (s) out.push({ key: selectorKey(s, 'other'), selector: s, histogram: false });
  return out;
}

const labelKey = (labels: Record<string, string>, drop?: string) =>
  JSON.stringify(
    Object.keys(labels)
      .filter((k) => k !== drop)
      .sort()
      .map((k) => [k, labels[k]]),
  );

/** The samples of one scrape that `selector` picks, by sample key (histograms: `bucket|le|labels`, `sum|labels`, `count|labels`). */
export function pick(families: readonly MetricFamily[], selector: Selector, histogram: boolean): Map<string, number> {
  const out = new Map<string, number>();
  const m = selector.metric;
  for (const f of families) {
    if (!(f.name === m || m.startsWith(f.name) || f.name.startsWith(m))) continue;
    for (const s of f.samples) {
      if (histogram) {
        let part: string | undefined;
        if (s.name === `${m}_bucket`) part = `bucket|${s.labels['le'] ?? ''}`;
        else if (s.name === `${m}_sum`) part = 'sum|';
        else if (s.name === `${m}_count`) part = 'count|';
        if (part === undefined || !matches(selector, s.labels)) continue;
        out.set(`${part}|${labelKey(s.labels, 'le')}`, s.value);
      } else if ((s.name === m || s.name === `${m}_total`) && matches(selector, s.labels)) {
        out.set(labelKey(s.labels), s.value);
      }
    }
  }
  return out;
}

/** Combines per-series values. */
export function aggregate(values: readonly number[], how: MonitorMetric['aggregate']): number | null {
  if (values.length === 0) return null;
  switch (how) {
    case 'avg':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'max':
      return Math.max(...values);
    case 'min':
      return Math.min(...values);
    default:
      return values.reduce((a, b) => a + b, 0);
  }
}

/** Increase of a counter over consecutive readings, a drop counted as a restart from zero. */
export function increase(readings: readonly number[]): number {
  let inc = 0;
  for (let i = 1; i < readings.length; i++) {
    const d = readings[i] - readings[i - 1];
    inc += d >= 0 ? d : readings[i];
  }
  return inc;
}

/**
 * Per-series increases over `points` (a series counts from its first reading among them; one that is
 * missing from the last point has vanished and is left out). Null when no series is in the last point.
 */
function increases(points: readonly ScrapePoint[], key: string): Map<string, number> | null {
  const last = points[points.length - 1]?.values.get(key);
  if (!last || last.size === 0) return null;
  const out = new Map<string, number>();
  for (const series of last.keys()) {
    const rs: number[] = [];
    for (const p of points) {
      const v = p.values.get(key)?.get(series);
      if (v !== undefined) rs.push(v);
    }
    out.set(series, increase(rs));
  }
  return out;
}

/** Prometheus' histogram_quantile over cumulative bucket counts (`le` → count); null when empty. */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const bs = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  if (bs.length < 2 || bs[bs.length - 1][0] !== Number.POSITIVE_INFINITY) return null;
  // Counts must not fall with le (they can, by scrape races); Prometheus makes them monotonic.
  for (let i = 1; i < bs.length; i++) if (bs[i][1] < bs[i - 1][1]) bs[i][1] = bs[i - 1][1];
  const total = bs[bs.length - 1][1];
  if (total === 0 || Number.isNaN(q)) return null;
  if (q <= 0) return Number.NEGATIVE_INFINITY;
  if (q >= 1) return Number.POSITIVE_INFINITY;
  const rank = q * total;
  let b = bs.findIndex(([, c]) => c >= rank);
  if (b === bs.length - 1) return bs[bs.length - 2][0];
  if (b === 0 && bs[0][0] <= 0) return bs[0][0];
  if (b < 0) b = bs.length - 1;
  const start = b === 0 ? 0 : bs[b - 1][0];
  const end = bs[b][0];
  const before = b === 0 ? 0 : bs[b - 1][1];
  const count = bs[b][1] - before;
  return count === 0 ? end : start + (end - start) * ((rank - before) / count);
}

export interface HistogramFigures {
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/** A histogram's figures over `points` (bucket increases summed over series), scaled. */
function histogramOver(points: readonly ScrapePoint[], key: string, scale: number): HistogramFigures | null {
  const inc = increases(points, key);
  if (!inc) return null;
  const buckets = new Map<number, number>();
  let sum = 0;
  let count = 0;
  for (const [k, v] of inc) {
    const [part, le] = k.split('|');
    if (part === 'bucket') {
      const b = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      if (!Number.isNaN(b)) buckets.set(b, (buckets.get(b) ?? 0) + v);
    } else if (part === 'sum') sum += v;
    else if (part === 'count') count += v;
  }
  const q = (x: number) => {
    const v = histogramQuantile(x, buckets);
    return v === null ? null : v * scale;
  };
  return { mean: count > 0 ? (sum / count) * scale : null, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
}

/** A counter's per-second rate over `points`, per series, combined. */
function rateOver(points: readonly ScrapePoint[], key: string, how: MonitorMetric['aggregate']): number | null {
  if (points.length < 2) return null;
  const inc = increases(points, key);
  if (!inc) return null;
  const dt = (points[points.length - 1].t - points[0].t) / 1000;
  if (dt <= 0) return null;
  return aggregate(
    [...inc.values()].map((v) => v / dt),
    how,
  );
}

/** A gauge's value: the mean over `points` of the combined series (points without the series skipped). */
function gaugeOver(points: readonly ScrapePoint[], key: string, how: MonitorMetric['aggregate']): number | null {
  const vs: number[] = [];
  for (const p of points) {
    const series = p.values.get(key);
    if (!series || series.size === 0) continue;
    const v = aggregate([...series.values()], how);
    if (v !== null && Number.isFinite(v)) vs.push(v);
  }
  return vs.length === 0 ? null : vs.reduce((a, b) => a + b, 0) / vs.length;
}

/**
 * One metric's value over a span: `points` are the readings in it, `prev` the last one before it
 * (counters and histograms rate from there). Histograms give their figures, others a number.
 */
export function valueOver(
  m: MonitorMetric,
  prev: ScrapePoint | undefined,
  points: readonly ScrapePoint[],
): number | null | HistogramFigures {
  if (!m.selector) return null;
  const span = prev ? [prev, ...points] : points;
  if (m.kind === 'histogram') {
    if (points.length === 0) return null;
    return histogramOver(span, selectorKey(m.selector, 'histogram'), m.scale) ?? null;
  }
  const own = selectorKey(m.selector, 'other');
  let v: number | null;
  if (m.kind === 'counter') {
    if (points.length === 0) return null;
    v = rateOver(span, own, m.aggregate);
    // An added series not exported (yet): 0 (a server may export its failure counter only after a failure).
    if (v !== null && m.plus) v += rateOver(span, selectorKey(m.plus, 'other'), m.aggregate) ?? 0;
    if (v !== null && m.per) {
      const d = rateOver(span, selectorKey(m.per, 'other'), m.aggregate);
      // No requests in the span: a time per request is unknown (a gap), not zero.
      v = d === null || d === 0 ? null : v / d;
    }
  } else {
    v = gaugeOver(points, own, m.aggregate);
    if (v !== null && m.plus) v += gaugeOver(points, selectorKey(m.plus, 'other'), m.aggregate) ?? 0;
    if (v !== null && m.minus) {
      const d = gaugeOver(points, selectorKey(m.minus, 'other'), m.aggregate);
      v = d === null ? null : v - d;
    }
    if (v !== null && m.per) {
      const d = gaugeOver(points, selectorKey(m.per, 'other'), m.aggregate);
      v = d === null || d === 0 ? null : v / d;
    }
  }
  return v === null ? null : m.offset + m.scale * v;
}

/** The least-squares slope of `values` (at times `ts`, seconds) per hour; undefined with fewer than 3. */
export function slopePerHour(ts: readonly number[], values: readonly number[]): number | undefined {
  if (values.length < 3) return undefined;
  const n = values.length;
  const mt = ts.reduce((a, b) => a + b, 0) / n;
  const mv = values.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (ts[i] - mt) * (values[i] - mv);
    den += (ts[i] - mt) ** 2;
  }
  return den === 0 ? undefined : (num / den) * 3600;
}
