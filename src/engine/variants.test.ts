/**
 * The variants' scheduling and joins on the sending thread: the weighted split interleaves (drift
 * cancels), the paired order alternates ABBA, the paired join counts each row once and stays bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exchangeBody, MAX_OPEN_PAIRS, PairedJoin, pairedArm, WeightedSplit } from './variants.js';

test('the weighted split gives each variant its share in every short stretch, not in runs', () => {
  const even = new WeightedSplit([1, 1]);
  assert.deepEqual(
    Array.from({ length: 6 }, () => even.next()),
    [0, 1, 0, 1, 0, 1],
  );
  const canary = new WeightedSplit([0.9, 0.1]);
  const picks = Array.from({ length: 1000 }, () => canary.next());
  assert.equal(picks.filter((p) => p === 1).length, 100, 'exactly the share');
  // every window of 10 consecutive arrivals holds exactly one canary request
  for (let i = 0; i + 10 <= picks.length; i += 10)
    assert.equal(picks.slice(i, i + 10).filter((p) => p === 1).length, 1, `window ${i}`);
});

test('paired slots alternate the order of the arms (ABBA), each slot holding both', () => {
  const arms = Array.from({ length: 8 }, (_, n) => pairedArm(n));
  assert.deepEqual(arms, [0, 1, 1, 0, 0, 1, 1, 0]);
});

test('the paired join counts each row once by both arms’ correctness; failed arms and strays are unpaired; bounded', () => {
  const j = new PairedJoin();
  j.add(0, 0, 1);
  j.add(0, 1, 1); // both right
  j.add(1, 1, 0);
  j.add(1, 0, 1); // control only (arrival order does not matter)
  j.add(2, 0, 0);
  j.add(2, 1, 1); // candidate only
  j.add(3, 0, 0);
  j.add(3, 1, 0); // neither
  j.add(4, 0, -1);
  j.add(4, 1, 1); // control failed: not joined
  assert.deepEqual(j.take(), { bothCorrect: 1, controlOnly: 1, candidateOnly: 1, neither: 1, unpaired: 1 });
  assert.deepEqual(
    j.take(),
    { bothCorrect: 0, controlOnly: 0, candidateOnly: 0, neither: 0, unpaired: 0 },
    'take resets',
  );
  for (let s = 0; s < MAX_OPEN_PAIRS + 10; s++) j.add(s, 0, 1); // the other arm never answers
  assert.equal(j.take().unpaired, 10, 'the oldest open slots are dropped beyond the bound');
});

test('shadow bodies: JSON parsed when JSON and small, else text', () => {
  assert.deepEqual(exchangeBody(Buffer.from('{"a":[1,2]}')), { a: [1, 2] });
  assert.equal(exchangeBody(Buffer.from('plain')), 'plain');
  assert.equal(exchangeBody(Buffer.from('{broken')), '{broken');
  assert.equal(exchangeBody(null), null);
  const big = `[${'1,'.repeat(40_000)}1]`;
  assert.equal(typeof exchangeBody(Buffer.from(big)), 'string', 'too large to parse on the sending thread');
});

test('shadow predictions: each protocol’s outputs read as the quality scoring reads them; one row only', async () => {
  const { shadowPredictor } = await import('./variants.js');
  const sc = (protocol: string, extra: object = {}) =>
    ({
      name: 's',
      protocol,
      quality: { task: 'classification', prediction: { kind: 'argmax' } },
      data: { batch: { min: 1, max: 1 } },
      ...extra,
    }) as never;
  const kserve = shadowPredictor(sc('kserve-v2'))!;
  assert.deepEqual(kserve({ outputs: [{ name: 'probabilities', shape: [1, 3], data: [0.1, 0.7, 0.2] }] }), {
    label: 1,
    scores: [0.1, 0.7, 0.2],
  });
  assert.equal(kserve({ error: 'x' }), undefined);
  assert.deepEqual(shadowPredictor(sc('tfserving'))!({ predictions: [[0.9, 0.1]] }), { label: 0, scores: [0.9, 0.1] });
  assert.deepEqual(shadowPredictor(sc('torchserve'))!([[0.2, 0.8]]), { label: 1, scores: [0.2, 0.8] });
  assert.deepEqual(shadowPredictor(sc('http'))!('cat'), { label: 'cat' });
  assert.deepEqual(
    shadowPredictor(sc('openai', { quality: undefined }))!({ choices: [{ message: { content: 'hi' } }] }),
    {
      text: 'hi',
    },
  );
  assert.equal(shadowPredictor(sc('kserve-v2', { data: { batch: { min: 1, max: 4 } } })), null, 'batches: no one row');
  assert.equal(shadowPredictor(sc('kserve-v2', { quality: undefined })), null);
});

test('the shadow label: a right variant’s prediction, or a value none predicted when all scored wrong', async () => {
  const { shadowLabel, NO_CORRECT_LABEL } = await import('./variants.js');
  const ex = (label: number) => ({ status: 200, body: null, prediction: { label } });
  assert.equal(shadowLabel([ex(3), ex(3), ex(5)], [1, 1, 0]), 3);
  assert.equal(shadowLabel([ex(3), ex(3), ex(5)], [0, 0, 1]), 5);
  assert.equal(shadowLabel([ex(3), ex(4), ex(5)], [0, 0, 0]), NO_CORRECT_LABEL);
  assert.equal(shadowLabel([ex(3), ex(4), ex(5)], [-1, -1, -1]), undefined, 'not scored: no label');
});
