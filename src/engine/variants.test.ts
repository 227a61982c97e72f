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
