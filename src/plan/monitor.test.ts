import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan } from './resolve.js';
import { matches, parseSelector, parseTargetValue, tryParseSize } from './monitor.js';
import { redactPlan } from './secrets.js';
import { scalePlan } from './time-scale.js';
import { tryParseDuration } from './units.js';

const base = (monitor: string, thresholds = '') => `
target: { url: http://127.0.0.1:9 }
scenarios:
  s: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, request: { path: / } }
monitor:
${monitor}
${thresholds}
`;

const problems = (text: string, env: Record<string, string> = {}) =>
  validatePlan(text, { env }).problems.map(
    (p) => `${p.line}:${p.path ?? ''}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`,
  );

test('monitor: presets resolve to named metrics; a plan metric replaces a preset’s; defaults', () => {
  const r = validatePlan(
    base(`  scrape: [ http://127.0.0.1:8002/metrics ]
  preset: [ triton, process ]
  metrics:
    queue_time: { metric: 'my_queue_seconds{model="a"}', kind: histogram, unit: ms, scale: 1000 }
    gpu0: nv_gpu_utilization{gpu_uuid="GPU-0"}`),
    { env: {} },
  );
  assert.deepEqual(r.problems, []);
  const m = r.plan!.monitor!;
  assert.equal(m.intervalMs, 1000);
  assert.equal(m.optional, false);
  assert.deepEqual(
    m.metrics.filter((x) => x.name === 'cpu').map((x) => x.preset),
    ['triton', 'process'],
    'both presets’ cpu kept, in order',
  );
  const q = m.metrics.filter((x) => x.name === 'queue_time');
  assert.equal(q.length, 1);
  assert.equal(q[0].kind, 'histogram');
  assert.deepEqual(q[0].selector, { metric: 'my_queue_seconds', matchers: [{ name: 'model', op: '=', value: 'a' }] });
  assert.equal(m.metrics.find((x) => x.name === 'gpu0')!.kind, 'gauge');
});

test('monitor: bad input located, all at once, with hints (unknown preset, promql without Prometheus, bad selector, no source)', () => {
  const ps = problems(
    base(`  scrape: [ http://127.0.0.1:8002/metrics ]
  preset: [ trition, vllm ]
  metrics:
    a: { promql: 'up' }
    b: { metric: 'x{y=1}' }
    c: { kind: counter }`),
  );
  assert.equal(ps.length, 4, ps.join('\n'));
  assert.match(ps[0], /^7:.*unknown preset `trition` \(did you mean `triton`\?\)/);
  assert.match(ps[1], /^9:monitor\.metrics\.a\.promql: `promql` needs a Prometheus server/);
  assert.match(ps[2], /^10:monitor\.metrics\.b\.metric: bad selector/);
  assert.match(ps[3], /^11:.*needs `promql` or `metric`/);
  assert.match(problems(base('  preset: triton')).join('\n'), /monitor needs a source/);
  assert.match(
    problems(base('  prometheus: http://p:9090/api/v1\n  preset: node')).join('\n'),
    /base URL, without \/api\/v1/,
  );
});

test('monitor auth: from ${VAR}, registered as secrets and redacted; literal credentials warned about', () => {
  const text = base(`  prometheus: { url: http://p:9090, auth: { bearer: "\${PROM_TOKEN}" } }
  scrape: [ { url: http://e:1/metrics, auth: { username: reader, password: "\${PW}" } } ]
  preset: node`);
  const r = validatePlan(text, { env: { PROM_TOKEN: 'tok-secret-123', PW: 'pw-secret-456' } });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.warnings, []);
  const m = r.plan!.monitor!;
  assert.equal(m.prometheus!.headers['authorization'], 'Bearer tok-secret-123');
  assert.match(m.scrape[0].headers['authorization'], /^Basic /);
  const shown = JSON.stringify(redactPlan(r.plan!));
  assert.ok(!shown.includes('tok-secret-123') && !shown.includes('pw-secret-456'), shown);
  assert.ok(!shown.includes(m.scrape[0].headers['authorization'].slice(6)), 'the basic token is redacted too');
  const literal = validatePlan(
    base('  prometheus: { url: http://p:9090, auth: { bearer: abcdefgh } }\n  preset: node'),
    {
      env: {},
    },
  );
  assert.match(literal.warnings.map((w) => w.message).join('\n'), /literal credential/);
  assert.ok(!JSON.stringify(redactPlan(literal.plan!)).includes('abcdefgh'));
});

test('target.* thresholds: metric names checked against the monitor, values in the metric’s unit', () => {
  const ok = validatePlan(
    base(
      '  scrape: [ http://e:1/metrics ]\n  preset: [ triton, process, dcgm ]',
      'thresholds: [ target.cpu.max < 90%, target.memory.growth < 50MB/h, target.queue_time.p99 < 20ms, target.gpu_memory.max < 70GB, target.inference_rate.min >= 10/s ]',
    ),
    { env: {} },
  );
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(
    ok.plan!.thresholds.map((t) => [t.target, t.value]),
    [
      [{ name: 'cpu', stat: 'max' }, 90],
      [{ name: 'memory', stat: 'growth' }, 50e6],
      [{ name: 'queue_time', stat: 'p99' }, 20],
      [{ name: 'gpu_memory', stat: 'max' }, 70e9],
      [{ name: 'inference_rate', stat: 'min' }, 10],
    ],
  );
  const bad = problems(
    base(
      '  scrape: [ http://e:1/metrics ]\n  preset: triton',
      'thresholds: [ target.cpuu.max < 90%, target.cpu.maxx < 90%, target.cpu.max < 90, target.memory.growth < 50MB ]',
    ),
  );
  assert.equal(bad.length, 4, bad.join('\n'));
  assert.match(bad[0], /unknown target metric `cpuu` \(did you mean `target.cpu`\?\)/);
  assert.match(bad[1], /unknown statistic `maxx`/);
  assert.match(bad[2], /a percentage/);
  assert.match(bad[3], /per hour/);
  assert.match(
    problems(
      base(
        '  scrape: [ http://e:1/metrics ]\n  preset: triton',
        'thresholds: [ { threshold: target.cpu.max < 90%, abortOnFail: true } ]',
      ),
    ).join('\n'),
    /summarised after the load, so it cannot abort/,
  );
  assert.match(
    problems(
      base('  scrape: [ http://e:1/metrics ]\n  preset: triton').replace(
        /monitor:[\s\S]*/,
        'thresholds: [ target.cpu.max < 90% ]',
      ),
    ).join('\n'),
    /the plan has no `monitor:`/,
  );
});

test('selectors and values: PromQL matchers, sizes, durations, growth', () => {
  const s = parseSelector('node_cpu_seconds_total{mode!="idle",cpu=~"1|2", dev!~"lo.*"}');
  assert.ok(s.ok);
  if (!s.ok) return;
  assert.equal(matches(s.selector, { mode: 'user', cpu: '1', dev: 'eth0' }), true);
  assert.equal(matches(s.selector, { mode: 'idle', cpu: '1' }), false);
  assert.equal(matches(s.selector, { mode: 'user', cpu: '12' }), false, 'regexes are anchored');
  assert.equal(matches(s.selector, { mode: 'user', cpu: '2', dev: 'lo0' }), false);
  assert.equal(parseSelector('x{a="1"').ok, false);
  assert.equal(parseSelector('1x').ok, false);
  assert.equal(parseSelector('x{a=~"("}').ok, false);
  assert.deepEqual(tryParseSize('512MiB'), { ok: true, value: 512 * 1024 * 1024 });
  assert.deepEqual(tryParseSize('1.5e9'), { ok: true, value: 1.5e9 });
  assert.equal(tryParseSize('5 parsecs').ok, false);
  assert.deepEqual(parseTargetValue('ms', 'p99', '1.5s', tryParseDuration), { ok: true, value: 1500 });
  assert.deepEqual(parseTargetValue('bytes', 'growth', '-1GB/h', tryParseDuration), { ok: true, value: -1e9 });
});

test('monitor.alerts: fires/resolves/never resolved with causes; bad input located with hints', () => {
  const faults = `faults:
  timeline:
    - { at: 200ms, for: 500ms, name: outage, action: { http: { url: http://127.0.0.1:9/admin/faults, json: { errorRate: 1 } } } }`;
  const ok = validatePlan(
    base(
      `  prometheus: http://127.0.0.1:9090
  alerts:
    - { name: HighErrorRate, fires: { within: 2m }, resolves: { within: 5m } }
    - { name: AnyAlert, never: true }
    - { name: Busy, fires: { within: 30s, of: load } }`,
      faults,
    ),
    { env: {} },
  );
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.plan!.monitor!.alerts, [
    // `of` defaults to the plan's only fault window
    {
      name: 'HighErrorRate',
      never: false,
      fires: { withinMs: 120_000, of: 'outage' },
      resolves: { withinMs: 300_000 },
    },
    { name: 'AnyAlert', never: true },
    { name: 'Busy', never: false, fires: { withinMs: 30_000, of: 'load' } },
  ]);
  const ps = problems(
    base(
      `  scrape: [ http://127.0.0.1:8002/metrics ]
  preset: triton
  alerts:
    - { name: A, fires: { within: 1m, of: outgae } }
    - { name: B, never: true, resolves: { within: 1m } }
    - { name: C }
    - { name: D, fires: { within: 1m, of: load }, resolves: { within: 11m } }
    - { name: A, never: true }
    - { name: 'bad-name', never: true }`,
      faults,
    ),
  );
  assert.equal(ps.length, 7, ps.join('\n'));
  assert.match(
    ps[0],
    /^8:monitor\.alerts: alert checks read Prometheus’ ALERTS series: they need `monitor\.prometheus`/,
  );
  assert.match(
    ps[1],
    /^9:monitor\.alerts\[0\]\.fires\.of: `outgae` is not a fault window of this plan \(did you mean `outage`\?\)/,
  );
  assert.match(ps[2], /^10:monitor\.alerts\[1\]: `never: true` cannot be combined/);
  assert.match(ps[3], /^11:monitor\.alerts\[2\]: alert `C` needs an expectation/);
  assert.match(ps[4], /^12:monitor\.alerts\[3\]\.resolves\.within: the run waits at most 10m/);
  assert.match(ps[5], /^13:monitor\.alerts\[4\]\.name: alert `A` is checked twice/);
  assert.match(ps[6], /^14:monitor\.alerts\[5\]\.name: expected an alert rule name/);
  // Without faults, `of` other than load has nothing to name.
  assert.match(
    problems(base('  prometheus: http://127.0.0.1:9090\n  alerts: [ { name: A, fires: { within: 1m, of: x } } ]')).join(
      '\n',
    ),
    /`x` is not a fault window of this plan \(the plan has no faults\.timeline: use `of: load`\)/,
  );
});

test('monitor.alerts: an action without `for` is no cause (it has no window), and does not count as one', () => {
  // Regression: `of: kill` validated, then failed every run with "its cause `kill` never started".
  const faults = `faults:
  timeline:
    - { at: 200ms, for: 500ms, name: outage, action: { http: { url: http://127.0.0.1:9/admin/faults, json: { errorRate: 1 } } } }
    - { at: 800ms, name: kill, action: { http: { url: http://127.0.0.1:9/admin/kill } } }`;
  const alerts = (of: string) =>
    base(`  prometheus: http://127.0.0.1:9090\n  alerts: [ { name: A, fires: { within: 1m${of} } } ]`, faults);
  const ok = validatePlan(alerts(''), { env: {} });
  assert.deepEqual(ok.problems, [], 'the one window is the default cause');
  assert.equal(ok.plan!.monitor!.alerts![0].fires!.of, 'outage');
  assert.match(problems(alerts(', of: kill')).join('\n'), /`kill` is not a fault window of this plan/);
});

test('monitor.alerts: not in multi-run profiles (each step is its own run)', () => {
  const ps = problems(`
target: { url: http://127.0.0.1:9 }
profile:
  type: sweep
  levels: { from: 50/s, to: 200/s, factor: 2 }
scenario: { request: { path: / } }
monitor:
  prometheus: http://127.0.0.1:9090
  alerts: [ { name: A, never: true } ]
`);
  assert.equal(ps.length, 1, ps.join('\n'));
  assert.match(ps[0], /^9:monitor\.alerts: alert checks judge one run; profile sweep runs one per step/);
});

test('--time-scale scales the scrape interval with the metrics interval (at least 100 ms)', () => {
  // Regression: windows of 100 ms were read every 1 s — nine in ten scaled windows had no reading.
  const plan = validatePlan(base('  scrape: [ http://127.0.0.1:8002/metrics ]\n  preset: triton'), { env: {} }).plan!;
  assert.equal(plan.monitor!.intervalMs, 1000);
  const s = scalePlan(plan, 0.1);
  assert.deepEqual([s.options.intervalMs, s.monitor!.intervalMs], [100, 100]);
  assert.equal(scalePlan(plan, 0.01).monitor!.intervalMs, 100);
  assert.equal(plan.monitor!.intervalMs, 1000, 'the original is unchanged');
});

test('resilience amplification: the target request counter is checked (located), plus: resolves', () => {
  const plan = (monitor: string, extra = '', th = 'resilience.amplification < 1.5') => `
target: { url: http://127.0.0.1:9 }
profile: { type: resilience, rate: 10/s, duration: 10s${extra} }
scenario: { request: { path: / } }
faults: { timeline: [ { at: 2s, for: 2s, fault: { latency: 100ms } } ] }
${monitor}
thresholds: [ ${th} ]
`;
  const ok = validatePlan(plan('monitor: { scrape: [ http://127.0.0.1:8002/metrics ], preset: triton }'), { env: {} });
  assert.deepEqual(ok.problems, []);
  const req = ok.plan!.monitor!.metrics.find((m) => m.name === 'requests')!;
  assert.equal(req.selector?.metric, 'nv_inference_request_success');
  assert.equal(req.plus?.metric, 'nv_inference_request_failure');
  assert.deepEqual(
    problems(plan('')).filter((p) => p.includes('amplification')),
    [
      "7:thresholds[0]: `resilience.amplification < 1.5` needs the target's request count: a monitor metric `requests` (a counter) (e.g. monitor: { scrape: [http://127.0.0.1:8000/metrics], preset: triton }, or name one with profile.targetRequests)",
    ],
  );
  const named = problems(
    plan('monitor: { scrape: [ http://127.0.0.1:8002/metrics ], preset: triton }', ', targetRequests: reqests'),
  );
  assert.ok(
    named.some((p) => /^3:profile\.targetRequests: monitor metric `reqests`.*did you mean `requests`/.test(p)),
    named.join('\n'),
  );
  const gauge = problems(
    plan('monitor: { scrape: [ http://127.0.0.1:8002/metrics ], metrics: { requests: http_requests_total } }'),
  );
  assert.ok(
    gauge.some((p) => p.includes('monitor.metrics.requests: retry amplification') && p.includes('must be a counter')),
    gauge.join('\n'),
  );
});

test('monitor.alertmanager: a source for the alert checks; without alerts or with /api/v2 it is located', () => {
  const ok = validatePlan(
    base(`  prometheus: http://127.0.0.1:9090
  alertmanager: { url: 'http://127.0.0.1:9093/', auth: { bearer: '\${AM_TOKEN}' } }
  alerts: [ { name: X, never: true } ]`),
    { env: { AM_TOKEN: 'sekret-am-token' } },
  );
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.plan!.monitor!.alertmanager, {
    url: 'http://127.0.0.1:9093',
    headers: { authorization: 'Bearer sekret-am-token' },
  });
  assert.ok(!JSON.stringify(redactPlan(ok.plan!)).includes('sekret-am-token'), 'the token is redacted');
  assert.deepEqual(
    problems(
      base(`  prometheus: http://127.0.0.1:9090
  alertmanager: http://127.0.0.1:9093/api/v2/alerts`),
    ).filter((p) => p.includes('monitor.alertmanager')),
    [
      '7:monitor.alertmanager: Alertmanager is read for the alert checks, but the monitor has no `alerts:` (add monitor.alerts: [ { name: HighErrorRate, fires: { within: 2m } } ])',
      '7:monitor.alertmanager: monitor.alertmanager is the Alertmanager’s base URL, without /api/v2 (e.g. http://127.0.0.1:9093)',
    ],
  );
});

test('monitor.replicas: a command giving replicas and replicas_desired; a program not on PATH is located', () => {
  const ok = validatePlan(base(`  replicas: { command: "node -e 'console.log(1)'", every: 2s }`), { env: {} });
  assert.deepEqual(ok.problems, []);
  const m = ok.plan!.monitor!;
  assert.deepEqual(m.replicas, { argv: ['node', '-e', 'console.log(1)'], everyMs: 2000, timeoutMs: 5000 });
  assert.deepEqual(
    m.metrics.map((x) => [x.name, x.command, x.kind, x.unit]),
    [
      ['replicas', 'ready', 'gauge', 'count'],
      ['replicas_desired', 'desired', 'gauge', 'count'],
    ],
  );
  assert.deepEqual(problems(base('  replicas: { command: [ kubectl-not-installed-here, get, deploy ] }')), [
    '6:monitor.replicas.command[0]: `kubectl-not-installed-here` is not a program on PATH (install it, or give its full path)',
  ]);
  assert.deepEqual(
    problems(
      base('  replicas: { command: [ node ] }\n  metrics: { replicas: kube_deployment_status_replicas_available }'),
    ),
    [
      "7:monitor.metrics.replicas: `replicas` comes from monitor.replicas' command: define it once (remove it from metrics:, or monitor.replicas)",
    ],
  );
});
