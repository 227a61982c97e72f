/**
 * A run's target metrics: checked before the load (an unreachable source is exit 5 unless
 * `monitor.optional`; bad PromQL is the server's error, exit 2), scraped on the window grid while
 * the load runs (in the middle of each window, so each window has its reading), and read from
 * Prometheus with query_range after the load (step = the window interval, the margin before and a
 * short settle after). The result: one figure per metric per window (target-metrics.ndjson) and
 * the summary's target_metrics.
 */
import type { Dispatcher } from 'undici';
import { ReplicaSampler } from './replica-command.js';
import { PreflightError, type Problem } from '../core/errors.js';
import type { AlertCheck, TargetMetricSummary, TargetWindowRecord } from '../core/results.js';
import { didYouMean } from '../core/suggest.js';
import type { MonitorMetric, MonitorPlan } from '../plan/monitor.js';
import { selectorText } from '../plan/monitor.js';
import {
  pick,
  selectorsOf,
  slopePerHour,
  valueOver,
  aggregate as combine,
  type HistogramFigures,
  type ScrapePoint,
} from './series.js';
import { promNumber, promQuery, scrape, type HttpContext, type SourceError } from './sources.js';
import { alertRuleNames, readAlerts, type ReadAlertsOptions } from './alerts.js';
import { AlertmanagerWatch } from './alertmanager.js';

type WindowValue = number | null | HistogramFigures;

export interface MonitorResult {
  /** One record per window (margins included, t < 0 before the load). */
  records: TargetWindowRecord[];
  target_metrics: Record<string, TargetMetricSummary>;
  warnings: string[];
}

/** Upper bound of readings kept (a day of 1 s windows is 86,400). */
const MAX_POINTS = 500_000;

const H_QUANTILES = [
  ['p50', 0.5],
  ['p90', 0.9],
  ['p99', 0.99],
] as const;

function isHistogramValue(v: WindowValue): v is HistogramFigures {
  return v !== null && typeof v === 'object';
}

/** The PromQL a metric is read with (histograms: one query per figure). */
export function promqlOf(m: MonitorMetric, rateWindowMs: number): Record<string, string> {
  if (m.promql !== undefined) return { value: m.promql };
  if (!m.selector) return {};
  const rw = `${Math.max(1, Math.round(rateWindowMs / 1000))}s`;
  const agg = m.aggregate;
  if (m.kind === 'histogram') {
    const out: Record<string, string> = {};
    for (const [k, q] of H_QUANTILES)
      out[k] = `histogram_quantile(${q}, sum by (le) (rate(${selectorText(m.selector, '_bucket')}[${rw}])))`;
    out['mean'] =
      `sum(rate(${selectorText(m.selector, '_sum')}[${rw}])) / sum(rate(${selectorText(m.selector, '_count')}[${rw}]))`;
    return out;
  }
  const read = (s: NonNullable<MonitorMetric['selector']>) =>
    m.kind === 'counter' ? `${agg}(rate(${selectorText(s)}[${rw}]))` : `${agg}(${selectorText(s)})`;
  let q = read(m.selector);
  if (m.plus) q = `(${q}) + (${read(m.plus)} or vector(0))`;
  if (m.minus) q = `(${q}) - (${read(m.minus)})`;
  if (m.per) q = `(${q}) / (${read(m.per)})`;
  return { value: q };
}

export interface MonitorOptions {
  /** TLS for https:// sources (built by the caller with the one TLS builder). */
  dispatcher?: Dispatcher;
  /** The run's window interval. */
  windowMs: number;
}

export class Monitor {
  private readonly points: ScrapePoint[] = [];
  private readonly scraped: MonitorMetric[];
  private readonly queried: MonitorMetric[];
  private readonly ctx: HttpContext;
  private readonly warnings: string[] = [];
  private sources: MonitorPlan['scrape'];
  private prometheusOk: boolean;
  private t0: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private failures = 0;
  private lastFailure = '';
  private stopped = false;
  /** Keys of the selectors counters and histograms read (rated from increases). */
  private readonly counterKeys = new Set<string>();
  /** Runs monitor.replicas' command (replica counts) every `every` from the load's start. */
  private readonly replicas: ReplicaSampler | undefined;
  /** Polls Alertmanager for the expected alerts (plan monitor.alertmanager) from the load's start. */
  private am: AlertmanagerWatch | undefined;
  /** Per counter key, the series seen so far. */
  private readonly seen = new Map<string, Set<string>>();

  private constructor(
    readonly plan: MonitorPlan,
    private readonly opts: MonitorOptions,
  ) {
    this.ctx = { timeoutMs: plan.timeoutMs, ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}) };
    // Selector metrics are scraped when there is a scrape source; PromQL (and the rest) is queried.
    this.scraped = plan.scrape.length > 0 ? plan.metrics.filter((m) => m.promql === undefined && !m.command) : [];
    this.queried = plan.metrics.filter((m) => !this.scraped.includes(m) && !m.command);
    if (plan.replicas) this.replicas = new ReplicaSampler(plan.replicas);
    this.sources = plan.scrape;
    this.prometheusOk = plan.prometheus !== undefined;
    if (plan.alertmanager && plan.alerts.length > 0)
      this.am = new AlertmanagerWatch(plan.alertmanager, this.ctx, new Set(plan.alerts.map((a) => a.name)));
    for (const m of this.scraped)
      if (m.kind !== 'gauge')
        for (const x of selectorsOf(m)) if (m.kind === 'histogram' || !x.histogram) this.counterKeys.add(x.key);
  }

  /**
   * Checks every source (all problems at once), takes the first reading, and returns the monitor.
   * Throws E_TARGET_UNREACHABLE (exit 5) for an unreachable source unless the plan says optional,
   * and E_PLAN_INVALID (exit 2) for PromQL the server rejects.
   */
  static async start(plan: MonitorPlan, opts: MonitorOptions): Promise<Monitor> {
    const m = new Monitor(plan, opts);
    await m.check();
    return m;
  }

  private async check(): Promise<void> {
    const unreachable: Problem[] = [];
    const bad: Problem[] = [];
    const first = await Promise.all(
      this.sources.map((s, i) =>
        scrape(s, this.ctx).then(
          (e) => ({ ok: true as const, e }),
          (err: unknown) => {
            unreachable.push({
              path: `monitor.scrape[${i}]`,
              message: err instanceof Error ? err.message : String(err),
              hint: 'is the exporter running and is the URL its metrics path? (monitor.optional: true runs without it)',
            });
            return { ok: false as const };
          },
        ),
      ),
    );
    this.sources = this.sources.filter((_, i) => first[i].ok);
    const fams = first.flatMap((r) => (r.ok ? r.e.families : []));
    if (this.sources.length > 0) this.record(Date.now(), fams);
    for (const r of first)
      if (r.ok && r.e.problems.length > 0)
        this.warnings.push(
          `monitor: ${r.e.problems.length} malformed line(s) in a scrape (skipped), e.g. line ${r.e.problems[0].line}: ${r.e.problems[0].message}`,
        );
    const p = this.plan.prometheus;
    if (p) {
      const now = String(Date.now() / 1000);
      const checks = this.queried.flatMap((m) => Object.values(promqlOf(m, p.rateWindowMs)).map((q) => ({ m, q })));
      // One query even with no metric: is the server there?
      if (checks.length === 0) checks.push({ m: undefined as unknown as MonitorMetric, q: 'vector(1)' });
      let down: string | undefined;
      for (const { m, q } of checks) {
        if (down) break;
        try {
          await promQuery(p, this.ctx, 'query', { query: q, time: now });
        } catch (err) {
          const e = err as SourceError;
          if (e.serverError !== undefined && e.status !== undefined && e.status >= 400 && e.status < 500)
            bad.push({
              path: m ? `monitor.metrics.${m.name}${m.promql !== undefined ? '.promql' : ''}` : 'monitor.prometheus',
              message: `Prometheus rejected \`${q}\`: ${e.serverError}`,
              hint: 'check the PromQL in Prometheus’ expression browser',
            });
          else down = e.message;
        }
      }
      // An alert name Prometheus has no rule for would never fire: a `never` check would pass on a typo.
      if (!down && this.plan.alerts.length > 0) {
        try {
          const rules = await alertRuleNames(p, this.ctx);
          this.plan.alerts.forEach((a, i) => {
            if (!rules.has(a.name))
              bad.push({
                path: `monitor.alerts[${i}].name`,
                message: `Prometheus at ${p.url} has no alerting rule \`${a.name}\``,
                hint:
                  rules.size > 0
                    ? didYouMean(a.name, [...rules].sort(), 'its alerting rules')
                    : 'it has no alerting rules loaded (rule_files in prometheus.yml)',
              });
          });
        } catch (err) {
          down = (err as Error).message;
        }
      }
      if (down) {
        this.prometheusOk = false;
        unreachable.push({
          path: 'monitor.prometheus',
          message: down,
          hint: 'is Prometheus running at this base URL? (monitor.optional: true runs without it)',
        });
      }
    }
    if (this.replicas) {
      const why = await this.replicas.sample();
      if (why !== undefined)
        unreachable.push({
          path: 'monitor.replicas.command',
          message: `the replica count command failed: ${why}`,
          hint: 'run it by hand: it must print `<ready> [<desired>]` (monitor.optional: true runs without it)',
        });
    }
    if (this.am) {
      try {
        await this.am.check();
      } catch (err) {
        this.am = undefined;
        unreachable.push({
          path: 'monitor.alertmanager',
          message: err instanceof Error ? err.message : String(err),
          hint: 'is Alertmanager running at this base URL? (monitor.optional: true runs without it)',
        });
      }
    }
    if (bad.length > 0)
      throw new PreflightError(
        'E_PLAN_INVALID',
        bad.every((b) => b.path?.startsWith('monitor.alerts'))
          ? `monitor: ${bad.length} alert${bad.length === 1 ? '' : 's'} unknown to Prometheus`
          : `monitor: ${bad.length} quer${bad.length === 1 ? 'y' : 'ies'} rejected by Prometheus`,
        {
          problems: bad,
        },
      );
    if (unreachable.length > 0) {
      if (!this.plan.optional)
        throw new PreflightError(
          'E_TARGET_UNREACHABLE',
          `monitor: cannot read target metrics from ${unreachable.length} source(s); nothing was sent`,
          { problems: unreachable },
        );
      for (const u of unreachable)
        this.warnings.push(`monitor (optional): ${u.message} — the run goes on without its metrics`);
    }
  }

  private record(t: number, families: Parameters<typeof pick>[0]): void {
    if (this.points.length >= MAX_POINTS) return;
    const values = new Map<string, Map<string, number>>();
    for (const m of this.scraped)
      for (const s of selectorsOf(m))
        if (!values.has(s.key)) values.set(s.key, pick(families, s.selector, s.histogram));
    // A counter series that first appears after the first reading was created in between (client
    // libraries create a labelled counter at its first increment: a failure counter at the first
    // failure): it counted from 0, so the previous reading gets a 0 for it — else those first counts
    // are lost to rate(). Only series never seen before: one back after a failed scrape is not new.
    const prev = this.points.at(-1);
    for (const key of this.counterKeys) {
      const now = values.get(key);
      if (!now) continue;
      let seen = this.seen.get(key);
      if (!seen) this.seen.set(key, (seen = new Set()));
      for (const series of now.keys()) {
        if (seen.has(series)) continue;
        seen.add(series);
        const before = prev?.values.get(key);
        if (before && !before.has(series)) before.set(series, 0);
      }
    }
    this.points.push({ t, values });
  }

  private async scrapeAll(): Promise<void> {
    const sent = Date.now();
    const rs = await Promise.all(
      this.sources.map((s) =>
        scrape(s, this.ctx).catch((err: unknown) => {
          this.failures++;
          this.lastFailure = err instanceof Error ? err.message : String(err);
          return undefined;
        }),
      ),
    );
    // The target answered somewhere between the send and the last byte: take the middle.
    const t = (sent + Date.now()) / 2;
    const fams = rs.flatMap((e) => e?.families ?? []);
    if (rs.some((e) => e !== undefined)) this.record(t, fams);
  }

  /** The load started at `epochMs` (t = 0 of the windows): scrape in the middle of each window from now on. */
  loadStarted(epochMs: number): void {
    this.t0 = epochMs;
    this.am?.start();
    this.replicas?.start();
    if (this.sources.length === 0 || this.scraped.length === 0) return;
    // The counters' baseline: read now, just before the load starts (the caller is ~20 ms early),
    // so the first window's rates do not span the idle time since the check.
    this.inFlight = this.scrapeAll().finally(() => {
      this.inFlight = undefined;
    });
    const I = this.plan.intervalMs;
    const next = () => {
      if (this.stopped) return;
      const now = Date.now();
      const k = Math.max(0, Math.floor((now - epochMs - I / 2) / I) + 1);
      const at = epochMs + k * I + I / 2;
      this.timer = setTimeout(
        () => {
          // A scrape still running when the next is due: skip this one (never two at once).
          if (!this.inFlight)
            this.inFlight = this.scrapeAll().finally(() => {
              this.inFlight = undefined;
            });
          next();
        },
        Math.max(0, at - now),
      );
    };
    next();
  }

  /** Stops reading; the load ended at `endEpochMs`. Resolves with every window's figures and the summary. */
  async finish(endEpochMs: number): Promise<MonitorResult> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    const t0 = this.t0 ?? endEpochMs;
    const I = this.opts.windowMs;
    const n = Math.max(0, Math.ceil((endEpochMs - t0) / I - 1e-9));
    const perMetric = new Map<MonitorMetric, Map<number, WindowValue>>();
    const put = (k: number, m: MonitorMetric, v: WindowValue) => {
      let r = perMetric.get(m);
      if (!r) perMetric.set(m, (r = new Map()));
      r.set(k, v);
    };
    const whole = new Map<MonitorMetric, HistogramFigures | null>();
    const source = new Map<MonitorMetric, 'scrape' | 'prometheus' | 'command'>();

    if (this.replicas) {
      // Each window: the mean of the counts read in it (a window without a reading is a gap).
      await this.replicas.stop();
      await this.replicas.sample(); // the last window's reading
      for (const m of this.plan.metrics) {
        if (!m.command) continue;
        const per = this.replicas.perWindow(t0, I, n, m.command);
        if (per.some((v) => v !== null)) source.set(m, 'command');
        per.forEach((v, k) => put(k, m, v));
      }
      const warn = this.replicas.warning();
      if (warn) this.warnings.push(warn);
    }

    if (this.sources.length > 0 && this.scraped.length > 0) {
      await this.scrapeAll(); // the last window's reading
      // Readings by time (one pass over them for all windows: a day of 1 s windows stays linear).
      const pts = [...this.points].sort((x, y) => x.t - y.t);
      const spans: { prev: ScrapePoint | undefined; inside: ScrapePoint[] }[] = [];
      let i = 0;
      for (let k = 0; k < n; k++) {
        const a = t0 + k * I;
        const b = k === n - 1 ? Number.POSITIVE_INFINITY : a + I; // the last window takes the final reading
        while (i < pts.length && pts[i].t < a) i++;
        const prev = i > 0 ? pts[i - 1] : undefined;
        let j = i;
        while (j < pts.length && pts[j].t < b) j++;
        spans.push({ prev, inside: pts.slice(i, j) });
      }
      for (const m of this.scraped) {
        source.set(m, 'scrape');
        for (let k = 0; k < n; k++) put(k, m, valueOver(m, spans[k].prev, spans[k].inside));
        if (m.kind === 'histogram') {
          const prev = this.points.filter((p) => p.t < t0).at(-1);
          const v = valueOver(
            m,
            prev,
            this.points.filter((p) => p.t >= t0),
          );
          whole.set(m, isHistogramValue(v) ? v : null);
        }
      }
      if (this.failures > 0)
        this.warnings.push(
          `monitor: ${this.failures} scrape(s) failed mid-run (their windows are gaps): ${this.lastFailure}`,
        );
    }

    const p = this.plan.prometheus;
    if (p && this.prometheusOk && this.queried.length > 0 && this.t0 !== undefined) {
      // Prometheus scrapes on its own clock: give it time to take in the load's last window.
      const settle = Math.min(this.plan.marginMs, Math.max(2 * I, 2000));
      const wait = endEpochMs + settle - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const before = Math.ceil(this.plan.marginMs / I);
      const endAt = Math.min(Date.now(), endEpochMs + this.plan.marginMs);
      const after = Math.max(n, Math.floor((endAt - t0) / I));
      const span = (after + before) * I;
      const step = Math.max(I, Math.ceil(span / 11_000 / I) * I); // Prometheus' limit: 11,000 points a series
      const range = {
        start: String((t0 + (1 - before) * I) / 1000),
        end: String((t0 + after * I) / 1000),
        step: String(step / 1000),
      };
      for (const m of this.queried) {
        source.set(m, 'prometheus');
        const qs = promqlOf(m, p.rateWindowMs);
        const got = new Map<string, Map<number, number | null>>();
        try {
          for (const [fig, q] of Object.entries(qs)) {
            const series = await promQuery(p, this.ctx, 'query_range', { query: q, ...range });
            const byK = new Map<number, number | null>();
            const perT = new Map<number, number[]>();
            for (const s of series)
              for (const [ts, v] of s.values ?? []) {
                const x = promNumber(v);
                if (x === null) continue;
                const k = Math.round((ts * 1000 - t0) / I) - 1; // the point at a window's end is that window's
                perT.set(k, [...(perT.get(k) ?? []), x]);
              }
            for (const [k, xs] of perT) byK.set(k, combine(xs, m.aggregate));
            got.set(fig, byK);
          }
          if (m.kind === 'histogram' && m.selector) {
            const d = `${Math.max(1, Math.ceil((endEpochMs - t0) / 1000))}s`;
            const fig: HistogramFigures = { mean: null, p50: null, p90: null, p99: null };
            for (const [k, q] of H_QUANTILES) {
              const r = await promQuery(p, this.ctx, 'query', {
                query: `histogram_quantile(${q}, sum by (le) (increase(${selectorText(m.selector, '_bucket')}[${d}])))`,
                time: String(endEpochMs / 1000),
              });
              const x = promNumber(r[0]?.value?.[1]);
              fig[k] = x === null ? null : x * m.scale;
            }
            whole.set(m, fig);
          }
        } catch (err) {
          this.warnings.push(`monitor: reading ${m.name} from Prometheus failed: ${(err as Error).message}`);
          continue;
        }
        const ks = new Set([...got.values()].flatMap((x) => [...x.keys()]));
        for (let k = 1 - before; k < after; k++) ks.add(k);
        for (const k of ks) {
          const scaled = (fig: string) => {
            const x = got.get(fig)?.get(k);
            return x === undefined || x === null ? null : m.offset + m.scale * x;
          };
          if (m.kind === 'histogram')
            put(k, m, { mean: scaled('mean'), p50: scaled('p50'), p90: scaled('p90'), p99: scaled('p99') });
          else put(k, m, scaled('value'));
        }
      }
    }

    // Summary over the load's windows only. Of several metrics with one name (presets), the first with data.
    const target_metrics: Record<string, TargetMetricSummary> = {};
    const values = new Map<number, Record<string, WindowValue>>();
    const names = [...new Set(this.plan.metrics.map((m) => m.name))];
    for (const name of names) {
      const candidates = this.plan.metrics.filter((m) => m.name === name && source.has(m));
      const loadValues = (m: MonitorMetric) => {
        const ts: number[] = [];
        const vs: number[] = [];
        for (let k = 0; k < n; k++) {
          const v = perMetric.get(m)?.get(k) ?? null;
          const x = isHistogramValue(v) ? v.mean : v;
          if (x === null || !Number.isFinite(x)) continue;
          ts.push(((k + 0.5) * I) / 1000);
          vs.push(x);
        }
        return { ts, vs };
      };
      const m = candidates.find((c) => loadValues(c).vs.length > 0) ?? candidates.find((c) => c.preset === undefined);
      // A preset names what such servers export; what this one does not is left out, not a gap.
      if (!m) continue;
      const { ts, vs } = loadValues(m);
      if (vs.length === 0)
        this.warnings.push(
          `monitor: target metric ${m.name} had no value in any window (${m.promql ?? (m.selector ? selectorText(m.selector) : '')})`,
        );
      for (const [k, v] of perMetric.get(m) ?? []) {
        let r = values.get(k);
        if (!r) values.set(k, (r = {}));
        r[name] = v;
      }
      const s: TargetMetricSummary = {
        unit: m.unit,
        kind: m.kind,
        source: source.get(m)!,
        windows: vs.length,
        of: n,
        min: vs.length ? Math.min(...vs) : null,
        mean: vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null,
        max: vs.length ? Math.max(...vs) : null,
        last: vs.length ? vs[vs.length - 1] : null,
      };
      const g = slopePerHour(ts, vs);
      if (g !== undefined) s.growth_per_hour = g;
      if (m.kind === 'histogram') {
        const h = whole.get(m);
        s.p50 = h?.p50 ?? null;
        s.p90 = h?.p90 ?? null;
        s.p99 = h?.p99 ?? null;
      } else {
        // Percentiles of the per-window values.
        const sorted = [...vs].sort((a, b) => a - b);
        const at = (q: number) =>
          sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : null;
        s.p50 = at(0.5);
        s.p90 = at(0.9);
        s.p99 = at(0.99);
      }
      target_metrics[name] = s;
    }

    const records: TargetWindowRecord[] = [...values.keys()]
      .sort((a, b) => a - b)
      .map((k) => ({ t: k, start_s: (k * I) / 1000, duration_s: I / 1000, values: values.get(k)! }))
      .filter((r) => Object.keys(r.values).length > 0);
    return { records, target_metrics, warnings: this.warnings };
  }

  /**
   * Alert checks (plan.alerts) after the load — call it after finish(), so the wait reads no more
   * target metrics: polls Prometheus until each is settled or past its deadline (≤ 10 min after the
   * load). Empty without alerts; undefined when Prometheus was unreachable before the load (optional).
   */
  async alerts(o: ReadAlertsOptions): Promise<AlertCheck[] | undefined> {
    const p = this.plan.prometheus;
    if (!p || this.plan.alerts.length === 0) return [];
    if (!this.prometheusOk) {
      await this.am?.stop();
      return undefined;
    }
    const checks = await readAlerts(p, this.ctx, this.plan.alerts, o);
    const am = this.am;
    if (!am) return checks;
    // Prometheus sends a firing alert to Alertmanager at its next evaluation: give a fired one a few
    // more polls to arrive (bounded) before saying it never did.
    for (let i = 0; i < 5 && !o.signal?.aborted && checks.some((c) => c.fired && !am.has(c.name)); i++)
      await new Promise((r) => setTimeout(r, am.pollMs));
    await am.stop();
    await am.poll();
    const warn = am.warning();
    if (warn) o.log?.(warn);
    for (const c of checks) {
      const v = am.view(c.name, o.loadStartMs, c.cause?.start_s ?? null);
      c.alertmanager = v;
      if (c.expect === 'fires' && c.fired && !v.reached) {
        c.ok = false;
        c.reasons.push(
          `${c.name} fired in Prometheus but never reached Alertmanager at ${am.src.url} (check Prometheus' alerting: alertmanagers: and the rule's labels)`,
        );
      }
    }
    return checks;
  }

  /** Stops reading without a result (the run failed before its load). */
  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    void this.replicas?.stop();
    void this.am?.stop();
  }
}
