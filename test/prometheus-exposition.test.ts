/**
 * The exposition parser on real scrapes of a real Prometheus' own /metrics (Debian's `prometheus`),
 * in both formats it serves: the text format 0.0.4 and OpenMetrics 1.0 (by content negotiation).
 * Without the binary the tests skip and say so — except on CI (`CI` set), where that is a failure.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import client from 'prom-client';
import { formatOfContentType, histogramQuantile, parseExposition } from '../src/monitor/index.js';
import { prometheusBinary, prometheusSkip, startPrometheus, type Prometheus } from './helpers/prometheus.js';

const skip = prometheusSkip();
let prom: Prometheus | undefined;
/** An exporter of fixed histograms, for Prometheus' own histogram_quantile to compare with. */
let exporter: http.Server | undefined;
const BUCKETS: Record<string, [string, number][]> = {
  a: [
    ['0.005', 3],
    ['0.01', 17],
    ['0.05', 90],
    ['0.1', 130],
    ['0.5', 171],
    ['1', 177],
    ['+Inf', 180],
  ],
  b: [
    ['1', 0],
    ['2', 0],
    ['4', 7],
    ['+Inf', 9],
  ],
  c: [
    ['-1', 2],
    ['0', 4],
    ['10', 5],
    ['+Inf', 5],
  ],
};

before(async () => {
  if (skip) return;
  assert.ok(
    prometheusBinary(),
    'prometheus is required in CI (apt-get install -y prometheus; scripts/test.sh does it)',
  );
  exporter = http.createServer((_req, res) => {
    const lines = ['# TYPE fixed histogram'];
    for (const [k, bs] of Object.entries(BUCKETS))
      for (const [le, c] of bs) lines.push(`fixed_bucket{h="${k}",le="${le}"} ${c}`);
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(`${lines.join('\n')}\n`);
  });
  await new Promise<void>((r) => exporter!.listen(0, '127.0.0.1', r));
  prom = await startPrometheus({
    scrapeInterval: '1s',
    targets: [`127.0.0.1:${(exporter.address() as AddressInfo).port}`],
  });
});
after(async () => {
  await prom?.stop();
  await new Promise<void>((r) => (exporter ? exporter.close(() => r()) : r()));
});

async function scrape(accept: string) {
  const r = await fetch(`${prom!.url}/metrics`, { headers: { accept }, signal: AbortSignal.timeout(10_000) });
  assert.equal(r.status, 200);
  const format = formatOfContentType(r.headers.get('content-type'));
  return { format, exposition: parseExposition(await r.text(), format) };
}

test("a real Prometheus' own /metrics, text format 0.0.4: no problems, histograms and summaries whole", {
  skip,
}, async () => {
  const { format, exposition: e } = await scrape('text/plain;version=0.0.4');
  assert.equal(format, 'prometheus');
  assert.deepEqual(e.problems, []);
  assert.ok(e.families.length > 50, `${e.families.length} families`);
  const by = new Map(e.families.map((f) => [f.name, f]));
  assert.equal(by.get('prometheus_build_info')?.type, 'gauge');
  assert.match(by.get('prometheus_build_info')!.samples[0].labels['version'] ?? '', /^\d+\.\d+/);
  assert.equal(by.get('go_gc_duration_seconds')?.type, 'summary');
  // Every histogram: buckets per series rising to le="+Inf", which equals _count.
  let histograms = 0;
  for (const f of e.families.filter((x) => x.type === 'histogram')) {
    histograms++;
    const series = new Map<string, { inf?: number; count?: number; last: number }>();
    for (const s of f.samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      const st = series.get(key) ?? { last: -1 };
      if (s.name === `${f.name}_bucket`) {
        assert.ok(s.value >= st.last, `${f.name} buckets rise`);
        st.last = s.value;
        if (le === '+Inf') st.inf = s.value;
      } else if (s.name === `${f.name}_count`) st.count = s.value;
      series.set(key, st);
    }
    for (const st of series.values()) assert.equal(st.inf, st.count, `${f.name}: +Inf bucket = _count`);
  }
  assert.ok(histograms >= 3, `${histograms} histograms`);
  assert.ok(e.families.some((f) => f.type === 'counter' && f.samples.some((s) => s.name.endsWith('_total'))));
});

test('Content negotiation: asked for OpenMetrics, Prometheus 2.42 answers in the format its Content-Type names', {
  skip,
}, async () => {
  const { format, exposition: e } = await scrape('application/openmetrics-text;version=1.0.0');
  // Prometheus' own handler serves OpenMetrics only when built to; the parser follows the Content-Type.
  assert.deepEqual(e.problems, [], format);
  assert.ok(e.families.some((f) => f.name.startsWith('prometheus_build_info')));
});

test('a real exporter in OpenMetrics 1.0 (prom-client served over loopback HTTP): same values as its text format', async (t) => {
  // One registry per format, the same metrics and observations in each (prom-client renames a
  // counter when one registry switches format).
  const fill = (registry: client.Registry) => {
    const registers = [registry];
    const c = new client.Counter({
      name: 'jobs_total',
      help: 'Jobs "done"\\ so far.',
      labelNames: ['kind'],
      registers,
    });
    const g = new client.Gauge({ name: 'queue_depth', help: 'Queue depth.', registers });
    const h = new client.Histogram({ name: 'job_seconds', help: 'Job time.', buckets: [0.1, 1], registers });
    const s = new client.Summary({ name: 'size_bytes', help: 'Sizes.', percentiles: [0.5, 0.9], registers });
    c.inc({ kind: 'a"b\\c\nd' }, 3);
    g.set(-2.5);
    for (const v of [0.05, 0.5, 2, 3]) h.observe(v);
    for (const v of [1, 2, 3]) s.observe(v);
    return registry;
  };
  const textRegistry = fill(new client.Registry());
  const omRegistry = new client.Registry<client.OpenMetricsContentType>();
  omRegistry.setContentType(client.openMetricsContentType);
  fill(omRegistry as unknown as client.Registry);
  const server = http.createServer((req, res) => {
    const registry = /openmetrics/.test(req.headers.accept ?? '') ? omRegistry : textRegistry;
    void registry.metrics().then((body) => {
      res.setHeader('content-type', registry.contentType);
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  const get = async (accept: string) => {
    const r = await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(10_000) });
    const format = formatOfContentType(r.headers.get('content-type'));
    return { format, e: parseExposition(await r.text(), format) };
  };
  const om = await get('application/openmetrics-text;version=1.0.0');
  const text = await get('text/plain');
  assert.equal(om.format, 'openmetrics');
  assert.equal(text.format, 'prometheus');
  assert.deepEqual(om.e.problems, []);
  assert.deepEqual(text.e.problems, []);
  const values = (e: typeof om.e, family: string) =>
    new Map(
      e.families
        .filter((f) => f.name === family || f.name === family.replace(/_total$/, ''))
        .flatMap((f) => f.samples)
        .filter((x) => !x.name.endsWith('_created'))
        .map((x) => [`${x.name}${JSON.stringify(x.labels)}`, x.value]),
    );
  for (const f of ['jobs_total', 'queue_depth', 'job_seconds', 'size_bytes']) {
    const a = values(om.e, f);
    assert.ok(a.size > 0, f);
    // prom-client writes le="0.1" the same way in both; compare sample by sample.
    assert.deepEqual(a, values(text.e, f), f);
  }
  const jobs = om.e.families.find((f) => f.name === 'jobs')!;
  assert.equal(jobs.type, 'counter');
  assert.equal(jobs.samples[0].labels['kind'], 'a"b\\c\nd');
  assert.equal(jobs.samples[0].value, 3);
  assert.equal(
    om.e.families.find((f) => f.name === 'job_seconds')!.samples.find((x) => x.labels['le'] === '+Inf')!.value,
    4,
  );
});

test("histogram_quantile: ours equals a real Prometheus' on the same buckets (independent implementation)", {
  skip,
}, async (t) => {
  const query = async (q: string) => {
    const r = await fetch(`${prom!.url}/api/v1/query?query=${encodeURIComponent(q)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    return ((await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } })
      .data.result;
  };
  // Until Prometheus has scraped the exporter (bounded: 30 s).
  for (let i = 0; i < 60 && (await query('fixed_bucket')).length === 0; i++)
    await new Promise((r) => setTimeout(r, 500));
  let compared = 0;
  for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999]) {
    for (const r of await query(`histogram_quantile(${q}, fixed_bucket)`)) {
      const bs = new Map(
        BUCKETS[r.metric['h']].map(([le, c]) => [le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), c]),
      );
      const theirs = Number(r.value[1]);
      const ours = histogramQuantile(q, bs);
      assert.ok(ours !== null, `${r.metric['h']} q=${q}`);
      assert.ok(
        Math.abs(ours - theirs) <= 1e-9 * Math.max(1, Math.abs(theirs)),
        `${r.metric['h']} q=${q}: ours ${ours}, Prometheus ${theirs}`,
      );
      compared++;
    }
  }
  t.diagnostic(`${compared} quantiles equal to Prometheus' histogram_quantile`);
  assert.equal(compared, 27);
});
