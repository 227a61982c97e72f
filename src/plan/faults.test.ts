/**
 * `faults:` in a plan: every fault type resolves to the shared Fault (src/core/faults.ts) with its
 * defaults, and every bad input is a located problem with a hint, all reported at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePlan } from './resolve.js';
import { planJsonSchema } from './schema.js';
import { scalePlan } from './time-scale.js';

const plan = (faults: string, duration = '60s') => `
target: { url: http://127.0.0.1:9 }
scenarios:
  steady: { executor: constant-arrival-rate, rate: 10/s, duration: ${duration}, request: { path: /x } }
faults:
${faults}`;

function problems(text: string): string[] {
  const r = validatePlan(text);
  return r.problems.map((p) => `${p.line}:${p.column} ${p.path} ${p.message}${p.hint ? ` | ${p.hint}` : ''}`);
}

test('every fault type resolves to the shared Fault, with toxicity per request and downstream by default', () => {
  const r = validatePlan(
    plan(`  timeline:
    - { at: 1s, for: 2s, name: slow, fault: { latency: 200ms, jitter: 50ms, toxicity: 0.5 } }
    - { at: 1s, for: 2s, fault: { bandwidth: 100KB/s, direction: upstream, per: connection } }
    - { at: 1s, for: 2s, fault: { slowClose: 1s } }
    - { at: 1s, for: 2s, fault: { timeout: 0s } }
    - { at: 1s, for: 2s, fault: { resetPeer: 100ms } }
    - { at: 1s, for: 2s, fault: { slicer: { averageSize: 64B, sizeVariation: 16B, delay: 1ms } } }
    - { at: 1s, for: 2s, fault: { limitData: 10KB } }
    - { at: 4s, for: 2s, fault: { down: true } }
    - { at: 1s, for: 2s, fault: { abort: 503, toxicity: 10%, match: { path: /v2, method: post } } }
    - { at: 3s, for: 2s, fault: { abort: { status: 429, retryAfter: 2s } } }
    - { at: 1s, for: 2s, fault: { delay: 200ms } }
    - { at: 3s, for: 2s, fault: { delay: { distribution: lognormal, median: 100ms, sigma: 0.5 } } }
    - { at: 5s, for: 2s, fault: { delay: { distribution: uniform, min: 10ms, max: 30ms } } }
    - { at: 7s, for: 2s, fault: { delay: { distribution: pareto, scale: 10ms, shape: 1.5 } } }
    - { at: 1s, for: 2s, fault: { sseStall: { after: 3, for: 2s } } }
    - { at: 1s, for: 2s, fault: { sseTruncate: 5 } }
    - { at: 1s, for: 2s, fault: { sseSlow: 50ms } }
    - { at: 1s, for: 2s, fault: { sseMalformed: 2 } }
`),
  );
  assert.deepEqual(r.problems, []);
  const f = r.plan!.faults!;
  assert.equal(f.target, 'http://127.0.0.1:9');
  const faults = f.timeline.map((e) => (e.kind === 'fault' ? e.fault : null));
  assert.deepEqual(faults[0], {
    layer: 'tcp',
    name: 'slow',
    direction: 'downstream',
    toxicity: { share: 0.5, per: 'request' },
    fault: { type: 'latency', latencyMs: 200, jitterMs: 50 },
  });
  const byType = Object.fromEntries(faults.map((x) => [`${x!.fault.type}:${x!.name}`, x]));
  assert.deepEqual(byType['bandwidth:bandwidth at 1s'], {
    layer: 'tcp',
    name: 'bandwidth at 1s',
    direction: 'upstream',
    toxicity: { share: 1, per: 'connection' },
    fault: { type: 'bandwidth', bytesPerSecond: 100_000 },
  });
  assert.deepEqual(byType['slicer:slicer at 1s']!.fault, {
    type: 'slicer',
    averageSize: 64,
    sizeVariation: 16,
    delayMs: 1,
  });
  assert.deepEqual(byType['limit_data:limitData at 1s']!.fault, { type: 'limit_data', bytes: 10_000 });
  assert.deepEqual(byType['abort:abort at 1s'], {
    layer: 'http',
    name: 'abort at 1s',
    toxicity: { share: 0.1, per: 'request' },
    match: { pathPrefix: '/v2', method: 'POST' },
    fault: { type: 'abort', status: 503 },
  });
  assert.deepEqual(byType['abort:abort at 3s']!.fault, { type: 'abort', status: 429, retryAfterS: 2 });
  assert.deepEqual(byType['delay:delay at 3s']!.fault, {
    type: 'delay',
    delay: { kind: 'lognormal', medianMs: 100, sigma: 0.5 },
  });
  assert.deepEqual(byType['sse_stall:sseStall at 1s']!.fault, { type: 'sse_stall', afterEvents: 3, stallMs: 2000 });
  assert.equal(f.timeline.length, 18);
});

test('actions: command (argv, no shell), http, signal by pid or pidFile; timeout 30s by default; undo at at+for', () => {
  const r = validatePlan(
    plan(`  timeline:
    - { at: 5s, for: 10s, name: replica-2 down, action: { signal: { pidFile: r2.pid, signal: SIGKILL } }, undo: { command: "node serve.js --port 1" } }
    - { at: 20s, action: { http: { url: "http://127.0.0.1:9/admin/faults", json: { errorRate: 1 } }, timeout: 2s } }
    - { at: 30s, action: { signal: { pid: 1234 } } }
`),
    { baseDir: '/plans' },
  );
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.plan!.faults!.timeline, [
    {
      kind: 'action',
      name: 'replica-2 down',
      atMs: 5000,
      forMs: 10_000,
      action: { kind: 'signal', signal: 'SIGKILL', pidFile: '/plans/r2.pid', timeoutMs: 30_000 },
      undo: { kind: 'command', argv: ['node', 'serve.js', '--port', '1'], timeoutMs: 30_000 },
    },
    {
      kind: 'action',
      name: 'http at 20s',
      atMs: 20_000,
      action: {
        kind: 'http',
        method: 'POST',
        url: 'http://127.0.0.1:9/admin/faults',
        headers: { 'content-type': 'application/json' },
        body: '{"errorRate":1}',
        timeoutMs: 2000,
      },
    },
    {
      kind: 'action',
      name: 'signal at 30s',
      atMs: 30_000,
      action: { kind: 'signal', signal: 'SIGTERM', pid: 1234, timeoutMs: 30_000 },
    },
  ]);
});

test('bad input: all problems at once, located, with hints', () => {
  const p = problems(
    plan(`  timeline:
    - { at: 1s, for: 2s, fault: { latncy: 200ms } }
    - { at: 1s, for: 2s, fault: { latency: -5ms } }
    - { at: 1s, for: 2s, fault: { latency: 20m, jitter: 1ms } }
    - { at: 50s, for: 20s, fault: { abort: 503 } }
    - { at: 10s, for: 10s, fault: { delay: 100ms } }
    - { at: 15s, for: 10s, fault: { delay: 50ms } }
    - { at: 15s, for: 10s, fault: { latency: 5ms } }
    - { at: 2s, action: { timeout: 5s } }
    - { at: 2s, action: { signal: { signal: SIGKILL } } }
    - { at: 2s, for: 1s, fault: { abort: 200 } }
    - { at: 2s, for: 1s, fault: { bandwidth: 10 } }
    - { at: 2s, for: 1s, fault: { latency: 10ms, abort: 503 } }
    - { at: 2s, fault: { latency: 10ms } }
    - { at: 2s, for: 1s, fault: { delay: 10ms, direction: upstream } }
    - { at: 2s, for: 1s, fault: { latency: 10ms, match: { path: /x } } }
    - { at: 2s, action: { signal: { pid: 5, signal: SIGKIL } } }
`),
  );
  const has = (re: RegExp) =>
    assert.ok(
      p.some((x) => re.test(x)),
      `expected a problem matching ${re}; got:\n${p.join('\n')}`,
    );
  has(/^7:\d+ faults\.timeline\[0\]\.fault\.latncy .*did you mean `latency`/);
  has(/faults\.timeline\[1\]\.fault\.latency .*negative/);
  has(/faults\.timeline\[2\]\.fault\.latency 1200s is beyond any sane fault.*did you mean milliseconds/);
  has(/faults\.timeline\[3\]\.for this entry ends at 70s, after the load \(60s\)/);
  has(/faults\.timeline\[5\]\.at overlaps entry 5 \(`delay at 10s`, 10s–20s\): the same fault \(delay\) twice at once/);
  assert.ok(!p.some((x) => x.includes('timeline[6].at overlaps')), 'different types compose');
  has(/faults\.timeline\[7\]\.action an action needs a way to run/);
  has(/faults\.timeline\[8\]\.action\.signal a signal needs its process/);
  has(/faults\.timeline\[9\]\.fault\.abort/);
  has(/faults\.timeline\[10\]\.fault\.bandwidth .*not a bandwidth/);
  has(/faults\.timeline\[11\]\.fault one fault per entry, got `latency` and `abort`/);
  has(/faults\.timeline\[12\] a fault needs `for`/);
  has(/faults\.timeline\[13\]\.fault\.direction `direction` is for TCP toxics/);
  has(/faults\.timeline\[14\]\.fault\.match `match` picks HTTP requests/);
  has(/faults\.timeline\[15\]\.action\.signal\.signal .*SIGKILL/);
});

test('the target: one of the plan’s; with several, faults.target must say which', () => {
  const two = `
target: { url: http://127.0.0.1:9 }
scenarios:
  a: { executor: constant-arrival-rate, rate: 1/s, duration: 5s, request: { path: /x } }
  b: { executor: constant-arrival-rate, rate: 1/s, duration: 5s, request: { path: /x }, target: { url: "http://127.0.0.1:10" } }
faults:
`;
  const tl = '  timeline: [ { at: 1s, for: 1s, fault: { latency: 10ms } } ]\n';
  assert.match(problems(two + tl).join('\n'), /the plan sends to 2 targets: say which one the fault proxy fronts/);
  assert.equal(validatePlan(`${two}  target: http://127.0.0.1:10/\n${tl}`).plan?.faults?.target, 'http://127.0.0.1:10');
  assert.match(problems(`${two}  target: http://127.0.0.1:11\n${tl}`).join('\n'), /is not a target of this plan/);
});

test('the JSON schema has the faults section', () => {
  const s = planJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown> }> };
  assert.ok(s.properties['faults']?.properties?.['timeline']);
});

test('faults need a plain-HTTP target (the proxy frames HTTP/1.1); actions alone do not', () => {
  const tls = (entry: string) => `
target: { url: https://127.0.0.1:9 }
scenarios:
  steady: { executor: constant-arrival-rate, rate: 10/s, duration: 60s, request: { path: /x } }
faults:
  timeline: [ ${entry} ]
`;
  assert.match(problems(tls('{ at: 1s, for: 1s, fault: { latency: 10ms } }')).join('\n'), /fronts http:\/\/ targets/);
  assert.deepEqual(problems(tls('{ at: 1s, action: { command: [true] } }')), []);
});

test('a resilience profile needs a timeline; sweep and capacity (one run per step) take none', () => {
  const head = `
target: { url: http://127.0.0.1:9 }
scenario: { request: { path: /x } }
`;
  assert.match(
    problems(`${head}profile: { type: resilience, rate: 10/s, duration: 30s }\n`).join('\n'),
    /profile resilience answers per fault window, but the plan has no `faults:` timeline/,
  );
  assert.match(
    problems(
      `${head}profile: { type: sweep, levels: [10/s] }\nfaults: { timeline: [ { at: 1s, action: { command: [true] } } ] }\n`,
    ).join('\n'),
    /a fault timeline runs in one run; profile sweep runs one per step/,
  );
  const ok = validatePlan(
    `${head}profile: { type: resilience, rate: 10/s, duration: 30s }\nfaults: { timeline: [ { at: 40s, for: 1s, fault: { latency: 1ms } } ] }\n`,
  );
  assert.match(ok.problems.map((p) => p.message).join('\n'), /ends at 41s, after the load \(30s\)/);
});

test('--time-scale scales the timeline’s times, not a fault’s attributes or an action’s timeout', () => {
  const p = validatePlan(
    plan(`  timeline:
    - { at: 10s, for: 20s, fault: { latency: 200ms } }
    - { at: 40s, for: 10s, action: { command: [true], timeout: 5s }, undo: { command: [true] } }
`),
  ).plan!;
  const s = scalePlan(p, 0.1).faults!.timeline;
  assert.deepEqual(
    s.map((e) => [e.atMs, e.forMs]),
    [
      [1000, 2000],
      [4000, 1000],
    ],
  );
  assert.deepEqual(s[0].kind === 'fault' && s[0].fault.fault, { type: 'latency', latencyMs: 200, jitterMs: 0 });
  assert.equal(s[1].kind === 'action' && s[1].action.timeoutMs, 5000);
  assert.equal(p.faults!.timeline[0].atMs, 10_000, 'the original is unchanged');
});
