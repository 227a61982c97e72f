import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mulberry32 } from '../core/random.js';
import {
  ExpositionParser,
  parseExposition,
  renderExposition,
  type ExpositionFormat,
  type MetricFamily,
  type MetricType,
} from './exposition.js';

// The example of the Prometheus text format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats).
const PROM_EXAMPLE = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# Finally a summary, which has a complex representation, too:
# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.05"} 3272
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.9"} 9001
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
`;

test('text format 0.0.4: the spec example (types, escapes, timestamps, +Inf, histogram, summary)', () => {
  const e = parseExposition(PROM_EXAMPLE);
  assert.equal(e.format, 'prometheus');
  assert.deepEqual(e.problems, []);
  const by = new Map(e.families.map((f) => [f.name, f]));
  const c = by.get('http_requests_total')!;
  assert.equal(c.type, 'counter');
  assert.equal(c.help, 'The total number of HTTP requests.');
  assert.deepEqual(c.samples[1], {
    name: 'http_requests_total',
    labels: { method: 'post', code: '400' },
    value: 3,
    timestampMs: 1395066363000,
  });
  const ms = by.get('msdos_file_access_time_seconds')!;
  assert.equal(ms.type, 'untyped');
  assert.deepEqual(ms.samples[0].labels, { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' });
  assert.equal(ms.samples[0].value, 1.458255915e9);
  assert.equal(by.get('metric_without_timestamp_and_labels')!.samples[0].value, 12.47);
  const weird = by.get('something_weird')!.samples[0];
  assert.equal(weird.value, Number.POSITIVE_INFINITY);
  assert.equal(weird.timestampMs, -3982045);
  const h = by.get('http_request_duration_seconds')!;
  assert.equal(h.type, 'histogram');
  assert.equal(h.samples.length, 8);
  assert.deepEqual(
    h.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels['le']),
    ['0.05', '0.1', '0.2', '0.5', '1', '+Inf'],
  );
  const s = by.get('rpc_duration_seconds')!;
  assert.equal(s.type, 'summary');
  assert.equal(s.samples.length, 7);
  assert.equal(s.samples.find((x) => x.name === 'rpc_duration_seconds_sum')!.value, 1.7560473e7);
  assert.equal(e.families.length, 6);
});

// OpenMetrics 1.0 examples (the spec's text: counters with _total/_created, UNIT, exemplars, EOF).
const OM_EXAMPLE = `# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
# TYPE foo histogram
foo_bucket{le="0.0"} 0
foo_bucket{le="1e-05"} 0
foo_bucket{le="0.1"} 8 # {} 0.054
foo_bucket{le="+Inf"} 17
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# TYPE bar counter
# HELP bar A \\"quoted\\" help.
bar_total 17.0 1520879607.789 # {trace_id="KOO5S4vxi0o"} 0.67
bar_created 1520872607.123 1520879607.789
# TYPE buildinfo info
buildinfo_info{name="pkg",version="1.0"} 1
# TYPE door stateset
door{door="front"} 1
# TYPE nan_gauge gauge
nan_gauge NaN
# EOF
`;

test('OpenMetrics 1.0: UNIT, _total/_created, exemplars dropped, seconds timestamps → ms, info, stateset, NaN', () => {
  const e = parseExposition(OM_EXAMPLE);
  assert.equal(e.format, 'openmetrics');
  assert.deepEqual(e.problems, []);
  const by = new Map(e.families.map((f) => [f.name, f]));
  const sum = by.get('acme_http_router_request_seconds')!;
  assert.equal(sum.unit, 'seconds');
  assert.equal(sum.type, 'summary');
  assert.equal(sum.samples.length, 3);
  const foo = by.get('foo')!;
  assert.equal(foo.samples.length, 7);
  assert.equal(foo.samples[2].value, 8); // the exemplar is not the value
  const bar = by.get('bar')!;
  assert.equal(bar.type, 'counter');
  assert.equal(bar.help, 'A "quoted" help.');
  assert.deepEqual(
    bar.samples.map((s) => s.name),
    ['bar_total', 'bar_created'],
  );
  assert.equal(bar.samples[0].timestampMs, 1520879607789);
  assert.equal(by.get('buildinfo')!.samples[0].labels['version'], '1.0');
  assert.equal(by.get('door')!.type, 'stateset');
  assert.ok(Number.isNaN(by.get('nan_gauge')!.samples[0].value));
  assert.equal(e.families.length, 6);
});

test('malformed input: every bad line reported with its line number and skipped; the rest is read; never throws', () => {
  const text = [
    '# TYPE ok gauge', // 1
    'ok 1', // 2
    'bad{le="1" 2', // 3 unterminated labels
    'bad2{a="x",a="y"} 1', // 4 duplicate label
    'bad3 notanumber', // 5
    'bad4{9x="1"} 1', // 6 bad label name
    'bad5{a="\\q"} 1', // 7 bad escape
    '# TYPE weird frobnicator', // 8 unknown type
    'bad6 1 2 3', // 9 too many fields
    '{a="1"} 1', // 10 no name
    'ok2 1 12.5', // 11 a float timestamp in 0.0.4
    '# TYPE h histogram', // 12
    'h_bucket 3', // 13 bucket without le
    'ok3 4', // 14
  ].join('\n');
  const e = parseExposition(text);
  assert.deepEqual(
    e.problems.map((p) => p.line),
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 13],
  );
  for (const p of e.problems) assert.ok(p.message.length > 5, p.message);
  assert.deepEqual(
    e.families.filter((f) => f.samples.length > 0).map((f) => f.name),
    ['ok', 'ok3'],
  );
  // Garbage of every kind never throws.
  const rnd = mulberry32(7);
  const alphabet = 'ab_{}="\\\n #,.+-eIN0123456789\t';
  for (let i = 0; i < 300; i++) {
    let s = '';
    const n = Math.floor(rnd() * 200);
    for (let j = 0; j < n; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    assert.doesNotThrow(() => parseExposition(s));
  }
  // OpenMetrics: missing EOF, text after EOF, a counter sample without _total.
  const om = parseExposition('# TYPE c counter\nc 1\n', 'openmetrics');
  assert.deepEqual(
    om.problems.map((p) => p.line),
    [2, 2],
  );
  const after = parseExposition('# TYPE g gauge\ng 1\n# EOF\ng 2\n');
  assert.deepEqual(after.problems, [{ line: 4, message: 'text after `# EOF`' }]);
});

test('incremental: chunks split anywhere give the same result as the whole text', () => {
  const whole = parseExposition(PROM_EXAMPLE);
  const rnd = mulberry32(11);
  for (let k = 0; k < 20; k++) {
    const p = new ExpositionParser('prometheus');
    let i = 0;
    while (i < PROM_EXAMPLE.length) {
      const n = 1 + Math.floor(rnd() * 40);
      p.push(PROM_EXAMPLE.slice(i, i + n));
      i += n;
    }
    assert.deepEqual(p.end(), whole);
  }
});

/** Random families as an exporter could write them (names, labels with every escape, special values). */
function randomFamilies(rnd: () => number, format: ExpositionFormat): MetricFamily[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const word = (n: number) => {
    let s = pick(['a', 'b', 'x', '_', 'm']);
    for (let i = 0; i < n; i++) s += pick(['a', 'b', 'c', '1', '9', '_', 'z']);
    return s;
  };
  const labelValue = () => {
    let s = '';
    const n = Math.floor(rnd() * 8);
    for (let i = 0; i < n; i++) s += pick(['a', ' ', '"', '\\', '\n', 'é', '{', '}', ',', '=', '#', '0']);
    return s;
  };
  const value = () =>
    pick([
      0,
      1,
      -2.5,
      1e-9,
      1.5e300,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      Math.floor(rnd() * 1e6) / 7,
    ]);
  const types: MetricType[] =
    format === 'openmetrics'
      ? ['counter', 'gauge', 'histogram', 'summary', 'unknown']
      : ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
  const families: MetricFamily[] = [];
  const used = new Set<string>();
  const nf = 1 + Math.floor(rnd() * 6);
  for (let i = 0; i < nf; i++) {
    let name = `${word(4)}_${i}`;
    while (used.has(name)) name += 'q';
    used.add(name);
    const type = pick(types);
    const f: MetricFamily = { name, type, samples: [] };
    // Leading blanks of a HELP text are separators in both formats (Prometheus' own parser drops them too).
    if (rnd() < 0.7) f.help = labelValue().replace(/^[ \t]+/, '');
    if (format === 'openmetrics' && rnd() < 0.3) {
      f.unit = 'seconds';
      f.name = `${name}_seconds`;
    }
    const ns = 1 + Math.floor(rnd() * 3);
    for (let j = 0; j < ns; j++) {
      const labels: Record<string, string> = {};
      const nl = Math.floor(rnd() * 3);
      for (let l = 0; l < nl; l++) labels[`${word(2)}${l}`] = labelValue();
      labels['series'] = String(j);
      const ts =
        rnd() < 0.3
          ? format === 'openmetrics'
            ? Math.floor(rnd() * 1e9) * 1000
            : Math.floor(rnd() * 1e12)
          : undefined;
      const add = (suffix: string, extra: Record<string, string>, v: number) =>
        f.samples.push({
          name: f.name + suffix,
          labels: { ...labels, ...extra },
          value: v,
          ...(ts !== undefined ? { timestampMs: ts } : {}),
        });
      if (type === 'counter') add(format === 'openmetrics' || rnd() < 0.5 ? '_total' : '', {}, Math.abs(value()));
      else if (type === 'histogram') {
        let c = 0;
        for (const le of ['0.1', '1', '+Inf']) add('_bucket', { le }, (c += Math.floor(rnd() * 5)));
        add('_sum', {}, value());
        add('_count', {}, c);
      } else if (type === 'summary') {
        for (const q of ['0.5', '0.99']) add('', { quantile: q }, value());
        add('_sum', {}, value());
        add('_count', {}, Math.floor(rnd() * 100));
      } else add('', {}, value());
    }
    families.push(f);
  }
  return families;
}

test('property: random families → render → parse gives the same families (seeded, both formats)', () => {
  for (const format of ['prometheus', 'openmetrics'] as const) {
    const rnd = mulberry32(format === 'prometheus' ? 1 : 2);
    for (let i = 0; i < 300; i++) {
      const fams = randomFamilies(rnd, format);
      const text = renderExposition(fams, format);
      const e = parseExposition(text, format);
      assert.deepEqual(e.problems, [], text);
      // deepEqual treats NaN as equal to NaN (Object.is), as wanted here.
      assert.deepEqual(e.families, fams, text);
    }
  }
});
