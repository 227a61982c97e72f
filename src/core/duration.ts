/**
 * The one duration parser (plan files, threshold expressions, `preflight serve` flags):
 * `500ms`, `30s`, `5m`, `1h`, `1m30s`, `250us` (`µs` too) → milliseconds, strictly — a bare number is an
 * error with a hint to add a unit (the serve flags read plain numbers as ms before calling it).
 * Also the number syntax plan/units.ts shares for rates and percentages.
 */
export type UnitResult = { ok: true; value: number } | { ok: false; message: string; hint?: string };

const DURATION_UNITS = ['h', 'm', 's', 'ms', 'us', 'µs'] as const;
type DurationUnit = (typeof DURATION_UNITS)[number];
const MS_PER: Record<DurationUnit, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001 };
/** Rank of each unit: components of a compound duration must strictly descend (1h30m, not 30m1h). */
const RANK: Record<DurationUnit, number> = { h: 5, m: 4, s: 3, ms: 2, us: 1, µs: 1 };

/** A non-negative decimal number (plan/units.ts builds rates and percentages on it too). */
export const NUMBER = String.raw`\d+(?:\.\d+)?`;
/** JSON-Schema pattern of a duration (also used in the plan's JSON Schema). */
export const DURATION_PATTERN = String.raw`^(\d+(\.\d+)?(h|m|s|ms|us|µs))+$`;

/** Words people write for units, mapped to the unit Preflight expects. */
const DURATION_WORDS: Record<string, DurationUnit> = {
  sec: 's',
  secs: 's',
  second: 's',
  seconds: 's',
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  msec: 'ms',
  msecs: 'ms',
  millis: 'ms',
  millisecond: 'ms',
  milliseconds: 'ms',
  usec: 'us',
  micros: 'us',
  microsecond: 'us',
  microseconds: 'us',
};

/** Rounds away binary noise (0.1 + 0.2) at a millionth. */
export const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/** A number without a unit (`30`, `-1.5`, `.5`). */
export function isBareNumber(s: string): boolean {
  return /^[+-]?\d+(\.\d+)?$/.test(s) || /^[+-]?\.\d+$/.test(s);
}

/** Parses a duration into milliseconds (fractions allowed for `us`). */
export function tryParseDuration(input: string | number): UnitResult {
  if (typeof input === 'number') {
    return { ok: false, message: `duration ${input} has no unit`, hint: `add a unit, e.g. ${input}s or ${input}ms` };
  }
  const s = input.trim();
  if (s === '') return { ok: false, message: 'duration is empty', hint: 'write a duration like 30s, 500ms or 1m30s' };
  if (isBareNumber(s)) {
    return {
      ok: false,
      message: `duration \`${s}\` has no unit`,
      hint: `add a unit, e.g. ${s.replace(/^\+/, '')}s or ${s.replace(/^\+/, '')}ms`,
    };
  }
  if (s.startsWith('-'))
    return { ok: false, message: `duration \`${s}\` is negative`, hint: 'durations are 0 or more, e.g. 0s' };
  if (/\s/.test(s)) {
    return {
      ok: false,
      message: `duration \`${s}\` contains spaces`,
      hint: `write it without spaces: ${s.replace(/\s+/g, '')}`,
    };
  }
  const re = new RegExp(`^(${NUMBER})([a-zµ]+)`, 'i');
  let rest = s;
  let total = 0;
  let lastRank = Infinity;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m)
      return {
        ok: false,
        message: `\`${s}\` is not a duration`,
        hint: 'write a number and a unit (h, m, s, ms, us), e.g. 30s, 500ms, 1m30s',
      };
    const n = Number(m[1]);
    const unitText = m[2];
    const unit = (DURATION_UNITS as readonly string[]).includes(unitText) ? (unitText as DurationUnit) : undefined;
    if (!unit) {
      const lower = unitText.toLowerCase();
      const word =
        DURATION_WORDS[lower] ??
        ((DURATION_UNITS as readonly string[]).includes(lower) ? (lower as DurationUnit) : undefined);
      let hint: string;
      if (word) hint = `write ${m[1]}${word}`;
      else if (lower === 'd' || lower === 'day' || lower === 'days') hint = `use hours: ${round(n * 24)}h`;
      else hint = 'units are h, m, s, ms and us, e.g. 1m30s';
      return { ok: false, message: `unknown duration unit \`${unitText}\` in \`${s}\``, hint };
    }
    if (RANK[unit] >= lastRank) {
      return {
        ok: false,
        message: `duration \`${s}\` has its units out of order or repeated`,
        hint: 'write larger units first, each once, e.g. 1m30s',
      };
    }
    lastRank = RANK[unit];
    total += n * MS_PER[unit];
    rest = rest.slice(m[0].length);
  }
  return { ok: true, value: round(total) };
}
