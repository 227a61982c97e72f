import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreflightError } from '../core/errors.js';
import {
  formatDuration,
  parseDuration,
  parsePercent,
  parseRate,
  tryParseDuration,
  tryParsePercent,
  tryParseRate,
} from './units.js';

test('durations: valid', () => {
  const table: Array<[string, number]> = [
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['250us', 0.25],
    ['250µs', 0.25],
    ['1.5s', 1500],
    ['0.1h', 360_000],
    ['0s', 0],
    [' 30s ', 30_000],
  ];
  for (const [input, ms] of table) assert.equal(parseDuration(input), ms, input);
});

test('durations: invalid, with hints', () => {
  const table: Array<[string | number, RegExp, RegExp | undefined]> = [
    ['30', /has no unit/, /add a unit, e\.g\. 30s/],
    [30, /has no unit/, /add a unit, e\.g\. 30s/],
    ['', /empty/, /30s/],
    ['30sec', /unknown duration unit `sec`/, /write 30s/],
    ['5min', /unknown duration unit `min`/, /write 5m/],
    ['2d', /unknown duration unit `d`/, /48h/],
    ['30S', /unknown duration unit `S`/, /write 30s/],
    ['30x', /unknown duration unit `x`/, /units are h, m, s, ms and us/],
    ['30s1m', /out of order/, /larger units first/],
    ['1s1s', /out of order or repeated/, undefined],
    ['30 s', /contains spaces/, /30s/],
    ['-5s', /negative/, undefined],
    ['s', /not a duration/, undefined],
    ['1m30', /not a duration/, undefined],
    ['.5s', /not a duration/, undefined],
  ];
  for (const [input, message, hint] of table) {
    const r = tryParseDuration(input);
    assert.equal(r.ok, false, String(input));
    if (r.ok) continue;
    assert.match(r.message, message, String(input));
    if (hint) assert.match(r.hint ?? '', hint, String(input));
  }
});

test('parseDuration throws a PreflightError with a problem', () => {
  assert.throws(
    () => parseDuration('30'),
    (e: unknown) => e instanceof PreflightError && e.code === 'E_ARGS' && /add a unit/.test(e.problems[0].hint ?? ''),
  );
});

test('rates: valid', () => {
  const table: Array<[string, number]> = [
    ['200/s', 200],
    ['12k/m', 200],
    ['1.5/s', 1.5],
    ['3000/h', 0.833333],
    ['60/m', 1],
    ['1M/h', 277.777778],
    ['0/s', 0],
  ];
  for (const [input, perS] of table) assert.equal(parseRate(input), perS, input);
});

test('rates: invalid, with hints', () => {
  const table: Array<[string | number, RegExp, RegExp | undefined]> = [
    ['200', /has no unit/, /200\/s/],
    [200, /has no unit/, /200\/s/],
    ['200/sec', /not a valid rate/, /write 200\/s/],
    ['200/min', /not a valid rate/, /write 200\/m/],
    ['200rps', /not a valid rate/, /write 200\/s/],
    ['12K/m', /not a valid rate/, /write 12k\/m/],
    ['200/ms', /unknown rate unit/, /\/s, \/m and \/h/],
    ['200/d', /unknown rate unit/, undefined],
    ['200/x', /unknown rate unit/, undefined],
    ['-5/s', /negative/, undefined],
    ['fast', /not a rate/, undefined],
    ['', /empty/, undefined],
  ];
  for (const [input, message, hint] of table) {
    const r = tryParseRate(input);
    assert.equal(r.ok, false, String(input));
    if (r.ok) continue;
    assert.match(r.message, message, String(input));
    if (hint) assert.match(r.hint ?? '', hint, String(input));
  }
});

test('percentages', () => {
  assert.equal(parsePercent('1%'), 0.01);
  assert.equal(parsePercent('0.5%'), 0.005);
  assert.equal(parsePercent('100%'), 1);
  for (const bad of ['1', '%', '1 %', 'x%']) assert.equal(tryParsePercent(bad).ok, false, bad);
});

test('formatDuration round-trips', () => {
  for (const s of ['1m30s', '500ms', '1h', '250us', '2h3m4s5ms']) assert.equal(formatDuration(parseDuration(s)), s);
  assert.equal(formatDuration(0), '0s');
});
