/**
 * A minimal Prometheus registry rendering text exposition format 0.0.4. No dependencies; label sets
 * are keyed by their rendered form so hot-path updates are a Map lookup.
 */

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function renderLabels(labels: Labels, extra?: [string, string]): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(labels)) parts.push(`${k}="${escapeLabelValue(v)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  render(out: string[]): void;
}

/** Counter or gauge with labels. */
export class Scalar implements Family {
  private readonly series = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    /** Computed at scrape time (for process metrics); overrides stored series. */
    private readonly collect?: () => Array<[Labels, number]>,
  ) {}

  private get(labels: Labels): { labels: Labels; value: number } {
    const key = renderLabels(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, value: 0 };
      this.series.set(key, s);
    }
    return s;
  }
  inc(labels: Labels = {}, n = 1): void {
    this.get(labels).value += n;
  }
  set(labels: Labels, v: number): void {
    this.get(labels).value = v;
  }
  value(labels: Labels = {}): number {
    return this.series.get(renderLabels(labels))?.value ?? 0;
  }
  /** Makes the series exist (value 0) so it is exported before the first event. */
  touch(labels: Labels): void {
    this.get(labels);
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    if (this.collect) {
      for (const [l, v] of this.collect()) out.push(`${this.name}${renderLabels(l)} ${fmt(v)}`);
      return;
    }
    for (const [key, s] of this.series) out.push(`${this.name}${key} ${fmt(s.value)}`);
  }
}

export class Histogram implements Family {
  readonly type = 'histogram' as const;
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds, ascending, without +Inf. */
    readonly buckets: readonly number[],
  ) {}
  private get(labels: Labels) {
    const key = renderLabels(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    return s;
  }
  observe(labels: Labels, v: number): void {
    const s = this.get(labels);
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]) {
        s.counts[i]++;
        break;
      }
    }
    s.sum += v;
    s.count++;
  }
  touch(labels: Labels): void {
    this.get(labels);
  }
  stats(labels: Labels): { sum: number; count: number } {
    const s = this.series.get(renderLabels(labels));
    return { sum: s?.sum ?? 0, count: s?.count ?? 0 };
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`);
    for (const s of this.series.values()) {
      let cum = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cum += s.counts[i];
        out.push(`${this.name}_bucket${renderLabels(s.labels, ['le', fmt(this.buckets[i])])} ${cum}`);
      }
      out.push(`${this.name}_bucket${renderLabels(s.labels, ['le', '+Inf'])} ${s.count}`);
      out.push(`${this.name}_sum${renderLabels(s.labels)} ${fmt(s.sum)}`);
      out.push(`${this.name}_count${renderLabels(s.labels)} ${s.count}`);
    }
  }
}

export class Registry {
  private readonly families: Family[] = [];
  counter(name: string, help: string): Scalar {
    return this.add(new Scalar(name, help, 'counter'));
  }
  gauge(name: string, help: string, collect?: () => Array<[Labels, number]>): Scalar {
    return this.add(new Scalar(name, help, 'gauge', collect));
  }
  collectedCounter(name: string, help: string, collect: () => Array<[Labels, number]>): Scalar {
    return this.add(new Scalar(name, help, 'counter', collect));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  private add<F extends Family>(f: F): F {
    if (this.families.some((x) => x.name === f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.families.push(f);
    return f;
  }
  render(): string {
    const out: string[] = [];
    for (const f of this.families) f.render(out);
    out.push('');
    return out.join('\n');
  }
}
