import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Fault } from '../core/faults.js';
import { faultOfToxic, parseToxic, parseToxicFlag, type ToxicJson, toxicOfFault, updateToxic } from './fault-spec.js';

const ok = (input: unknown): ToxicJson => {
  const r = parseToxic(input);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r.toxic;
};
const problems = (input: unknown) => {
  const r = parseToxic(input, 'toxic');
  assert.ok(!r.ok, 'expected problems');
  return r.problems;
};

test("Toxiproxy's defaults: downstream, toxicity 1, name <type>_<stream>, zero attributes", () => {
  assert.deepEqual(ok({ type: 'latency' }), {
    name: 'latency_downstream',
    type: 'latency',
    stream: 'downstream',
    toxicity: 1,
    attributes: { latency: 0, jitter: 0 },
  });
  assert.deepEqual(ok({ type: 'timeout', stream: 'UPSTREAM', toxicity: 0 }), {
    name: 'timeout_upstream',
    type: 'timeout',
    stream: 'upstream',
    toxicity: 0,
    attributes: { timeout: 0 },
  });
  assert.equal(ok({ type: 'limit_data', name: 'cut', attributes: { bytes: 10 } }).name, 'cut');
});

test('each toxic maps one to one onto a TCP fault, and back', () => {
  const cases: [Record<string, unknown>, Fault['toxicity'], unknown][] = [
    [
      { type: 'latency', attributes: { latency: 200, jitter: 50 }, toxicity: 0.5 },
      { share: 0.5, per: 'connection' },
      { type: 'latency', latencyMs: 200, jitterMs: 50 },
    ],
    [
      { type: 'bandwidth', attributes: { rate: 64 } },
      { share: 1, per: 'connection' },
      { type: 'bandwidth', bytesPerSecond: 64_000 },
    ],
    [
      { type: 'slow_close', attributes: { delay: 300 } },
      { share: 1, per: 'connection' },
      { type: 'slow_close', delayMs: 300 },
    ],
    [
      { type: 'timeout', attributes: { timeout: 1000 } },
      { share: 1, per: 'connection' },
      { type: 'timeout', timeoutMs: 1000 },
    ],
    [
      { type: 'reset_peer', attributes: { timeout: 5 } },
      { share: 1, per: 'connection' },
      { type: 'reset_peer', timeoutMs: 5 },
    ],
    [
      { type: 'slicer', attributes: { average_size: 64, size_variation: 16, delay: 2500 } },
      { share: 1, per: 'connection' },
      { type: 'slicer', averageSize: 64, sizeVariation: 16, delayMs: 2.5 },
    ],
    [
      { type: 'limit_data', attributes: { bytes: 1024 }, toxicity_per: 'request', toxicity: 0.1 },
      { share: 0.1, per: 'request' },
      { type: 'limit_data', bytes: 1024 },
    ],
  ];
  for (const [input, toxicity, tcp] of cases) {
    const toxic = ok({ ...input, stream: 'upstream' });
    const fault = faultOfToxic(toxic);
    assert.deepEqual(
      fault,
      { layer: 'tcp', name: toxic.name, direction: 'upstream', toxicity, fault: tcp },
      toxic.type,
    );
    assert.deepEqual(toxicOfFault(fault!), toxic, `${toxic.type} back`);
  }
});

test('toxicity_per "request" is shown only when asked; a bandwidth rate of 0 (no limit) gives no fault', () => {
  assert.equal('toxicity_per' in ok({ type: 'latency', toxicity_per: 'connection' }), false);
  assert.equal(ok({ type: 'latency', toxicity_per: 'request' }).toxicity_per, 'request');
  assert.equal(faultOfToxic(ok({ type: 'bandwidth' })), null);
  const down: Fault = {
    layer: 'tcp',
    name: 'down',
    direction: 'downstream',
    toxicity: { share: 1, per: 'connection' },
    fault: { type: 'down' },
  };
  assert.equal(toxicOfFault(down), null);
});

test('every problem at once, each with its field path and a hint', () => {
  const ps = problems({
    type: 'latncy',
    stream: 'sideways',
    toxicity: 1.5,
    toxicty: 0.5,
    attributes: { latency: -5 },
  });
  const by = (path: string) => ps.find((p) => p.path === path);
  assert.match(by('toxic.type')!.hint!, /did you mean `latency`/);
  assert.match(by('toxic.stream')!.message, /upstream or downstream/);
  assert.match(by('toxic.toxicity')!.message, /0 to 1/);
  assert.match(by('toxic.toxicty')!.hint!, /did you mean `toxicity`/);
  assert.equal(ps.length, 4, 'attributes are not checked against an unknown type');

  const attrs = problems({
    type: 'latency',
    attributes: { latency: -5, jitter: 'fifty', lateny: 3 },
  });
  assert.deepEqual(attrs.map((p) => p.path).sort(), [
    'toxic.attributes.jitter',
    'toxic.attributes.latency',
    'toxic.attributes.lateny',
  ]);
  assert.match(attrs.find((p) => p.path === 'toxic.attributes.latency')!.hint!, /negative/);
  assert.match(attrs.find((p) => p.path === 'toxic.attributes.lateny')!.hint!, /did you mean `latency`/);
});

test('absurd and non-integer values are refused with their bounds', () => {
  assert.match(
    problems({ type: 'latency', attributes: { latency: 36_000_000 } })[0].message,
    /out of range: 0 to 3,600,000 ms/,
  );
  assert.match(problems({ type: 'bandwidth', attributes: { rate: 1.5 } })[0].message, /whole number/);
  assert.match(problems({ type: 'limit_data', attributes: { bytes: 1e15 } })[0].message, /out of range/);
  // The slicer needs a size (Toxiproxy's zero default would never slice) and a variation below it.
  assert.match(problems({ type: 'slicer' })[0].message, /average_size 0 .*Toxiproxy's default/);
  assert.match(
    problems({ type: 'slicer', attributes: { average_size: 10, size_variation: 10 } })[0].message,
    /less than average_size/,
  );
});

test('down and unknown types get a pointer to what to do', () => {
  assert.match(problems({ type: 'down' })[0].hint!, /enabled": false/);
  assert.match(problems({ type: 'packet_loss' })[0].hint!, /types: `latency`/);
  assert.match(problems(['latency'])[0].message, /JSON object/);
  assert.match(problems({})[0].message, /missing toxic type/);
});

test('an update merges attributes and toxicity; name, type and stream cannot change', () => {
  const t = ok({ type: 'latency', attributes: { latency: 100, jitter: 10 }, toxicity: 0.5 });
  const r = updateToxic(t, { attributes: { latency: 300 } });
  assert.ok(r.ok);
  assert.deepEqual(r.toxic.attributes, { latency: 300, jitter: 10 });
  assert.equal(r.toxic.toxicity, 0.5);
  // A client that sends the whole toxic back (the npm client does) is fine.
  const whole = updateToxic(t, { ...t, toxicity: 1, toxicity_per: 'request' });
  assert.ok(whole.ok);
  assert.equal(whole.toxic.toxicity_per, 'request');
  const bad = updateToxic(t, { type: 'timeout', stream: 'upstream', attributes: { jitter: -1 } });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.problems.map((p) => p.path).sort(), ['attributes.jitter', 'stream', 'type']);
});

test('--toxic flags: type:key=value,… with the same checks and paths', () => {
  const r = parseToxicFlag('latency:latency=200,jitter=50,stream=downstream,toxicity=0.5', '--toxic[1]');
  assert.ok(r.ok);
  assert.deepEqual(r.toxic, {
    name: 'latency_downstream',
    type: 'latency',
    stream: 'downstream',
    toxicity: 0.5,
    attributes: { latency: 200, jitter: 50 },
  });
  const per = parseToxicFlag('bandwidth:rate=10,toxicity_per=request,name=slow', '--toxic[1]');
  assert.ok(per.ok);
  assert.equal(per.toxic.toxicity_per, 'request');
  assert.equal(per.toxic.name, 'slow');
  const bad = parseToxicFlag('latency:latency=200ms,jiter=5,oops', '--toxic[2]');
  assert.ok(!bad.ok);
  assert.deepEqual(bad.problems.map((p) => p.path).sort(), [
    '--toxic[2]',
    '--toxic[2].attributes.jiter',
    '--toxic[2].attributes.latency',
  ]);
  assert.match(bad.problems.find((p) => p.path === '--toxic[2].attributes.latency')!.hint!, /e\.g\. 200/);
});
