/**
 * Unit syntax of plan files and threshold expressions, parsed strictly:
 *
 *   duration  `500ms`, `30s`, `5m`, `1h`, `1m30s`, `250us` (`µs` too) → milliseconds
 *   rate      `200/s`, `12k/m`, `1.5/s`, `3000/h` (suffix k = ×1000, M = ×1 000 000) → per second
 *   percent   `1%`, `0.5%` → fraction (0.01, 0.005)
 *
 * A bare number is never a duration or a rate: it is an error with a hint to add a unit.
 * The `try…` functions return a result (for validators that collect problems); the plain ones throw a
 * PreflightError (code E_ARGS, one Problem) so command-line parsing can use them directly.
 */
import { PreflightError } from '../core/errors.js';

export type { UnitResult } from '../core/duration.js';
// Durations are parsed in core/ because the reference server's flags use them too.
export { DURATION_PATTERN, tryParseDuration } from '../core/duration.js';
import { isBareNumber, NUMBER, round, tryParseDuration } from '../core/duration.js';
import type { UnitResult } from '../core/duration.js';

/** JSON-Schema pattern of a rate. */
export const RATE_PATTERN = String.raw`^\d+(\.\d+)?[kM]?/(s|m|h)$`;
/** JSON-Schema pattern of a percentage. */
export const PERCENT_PATTERN = String.raw`^\d+(\.\d+)?%$`;

/** Parses a rate into requests (or events) per second. */
export function tryParseRate(input: string | number): UnitResult {
  if (typeof input === 'number') {
    return { ok: false, message: `rate ${input} has no unit`, hint: `add a unit, e.g. ${input}/s` };
  }
  const s = input.trim();
  if (s === '') return { ok: false, message: 'rate is empty', hint: 'write a rate like 200/s, 12k/m or 3000/h' };
  if (isBareNumber(s))
    return { ok: false, message: `rate \`${s}\` has no unit`, hint: `add a unit, e.g. ${s.replace(/^\+/, '')}/s` };
  if (s.startsWith('-'))
    return { ok: false, message: `rate \`${s}\` is negative`, hint: 'rates are 0 or more, e.g. 0/s' };
  const m = new RegExp(`^(${NUMBER})([kM]?)(?:/(s|m|h))?$`).exec(s);
  if (m && m[3]) {
    const n = Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1);
    const per = m[3] === 's' ? 1 : m[3] === 'm' ? 60 : 3600;
    return { ok: true, value: round(n / per) };
  }
  // Diagnose the common near-misses.
  const loose = new RegExp(`^(${NUMBER})\\s*([kKM]?)\\s*(?:/\\s*)?([A-Za-z]*)$`).exec(s);
  if (loose) {
    const num = `${loose[1]}${loose[2] === 'K' ? 'k' : loose[2]}`;
    const unit = loose[3].toLowerCase();
    const map: Record<string, string> = {
      s: 's',
      sec: 's',
      secs: 's',
      second: 's',
      seconds: 's',
      rps: 's',
      qps: 's',
      ps: 's',
      m: 'm',
      min: 'm',
      mins: 'm',
      minute: 'm',
      minutes: 'm',
      rpm: 'm',
      pm: 'm',
      h: 'h',
      hr: 'h',
      hrs: 'h',
      hour: 'h',
      hours: 'h',
      rph: 'h',
    };
    const to = map[unit];
    if (to) return { ok: false, message: `\`${s}\` is not a valid rate`, hint: `write ${num}/${to}` };
    if (unit === 'ms' || unit === 'us' || unit === 'd') {
      return {
        ok: false,
        message: `unknown rate unit \`/${loose[3]}\` in \`${s}\``,
        hint: 'rate units are /s, /m and /h, e.g. 200/s',
      };
    }
    return {
      ok: false,
      message: `unknown rate unit \`${loose[3] || loose[2]}\` in \`${s}\``,
      hint: 'write a number, an optional k or M, and /s, /m or /h, e.g. 200/s or 12k/m',
    };
  }
  return {
    ok: false,
    message: `\`${s}\` is not a rate`,
    hint: 'write a number, an optional k or M, and /s, /m or /h, e.g. 200/s or 12k/m',
  };
}

/** Parses `1%` into 0.01. */
export function tryParsePercent(input: string | number): UnitResult {
  if (typeof input === 'number')
    return { ok: false, message: `percentage ${input} has no % sign`, hint: `write ${input}%` };
  const s = input.trim();
  const m = new RegExp(`^(${NUMBER})%$`).exec(s);
  if (m) return { ok: true, value: round(Number(m[1]) / 100) };
  if (/^\d+(\.\d+)?\s+%$/.test(s))
    return { ok: false, message: `percentage \`${s}\` contains a space`, hint: `write ${s.replace(/\s+/g, '')}` };
  return { ok: false, message: `\`${s}\` is not a percentage`, hint: 'write a number followed by %, e.g. 1% or 0.5%' };
}

function orThrow(r: UnitResult): number {
  if (r.ok) return r.value;
  throw new PreflightError('E_ARGS', r.message, { problems: [{ message: r.message, hint: r.hint }] });
}

/** `1m30s` → 90000 (ms). Throws a PreflightError (E_ARGS) with a hint on bad input. */
export function parseDuration(input: string | number): number {
  return orThrow(tryParseDuration(input));
}

/** `12k/m` → 200 (per second). Throws a PreflightError (E_ARGS) with a hint on bad input. */
export function parseRate(input: string | number): number {
  return orThrow(tryParseRate(input));
}

/** `1%` → 0.01. Throws a PreflightError (E_ARGS) with a hint on bad input. */
export function parsePercent(input: string | number): number {
  return orThrow(tryParsePercent(input));
}

/** Formats milliseconds back into plan syntax (`90000` → `1m30s`), for messages and `plan show`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms * 1000); // µs
  const parts: string[] = [];
  const steps: Array<[string, number]> = [
    ['h', 3_600_000_000],
    ['m', 60_000_000],
    ['s', 1_000_000],
    ['ms', 1000],
    ['us', 1],
  ];
  for (const [u, size] of steps) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n}${u}`);
      rest -= n * size;
    }
  }
  return parts.join('');
}

/** JSON-Schema pattern of a size (`100KB`, `1.5MiB`, `512B`). */
export const SIZE_PATTERN = String.raw`^\d+(\.\d+)?(B|KB|MB|GB|KiB|MiB|GiB)$`;
/** JSON-Schema pattern of a bandwidth (`100KB/s`). */
export const BANDWIDTH_PATTERN = String.raw`^\d+(\.\d+)?(B|KB|MB|GB|KiB|MiB|GiB)/s$`;
/** Decimal units as Toxiproxy counts them (its bandwidth `rate` is in KB/s = 1000 bytes/s), and binary ones. */
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Parses a size (`100KB`, `1MiB`, `512B`; a bare integer is bytes) into bytes. */
export function tryParseSize(input: string | number): UnitResult {
  if (typeof input === 'number') {
    if (Number.isInteger(input) && input >= 0) return { ok: true, value: input };
    return { ok: false, message: `size ${input} is not a whole number of bytes`, hint: 'e.g. 100KB or 512B' };
  }
  const s = input.trim();
  if (s.startsWith('-')) return { ok: false, message: `size \`${s}\` is negative`, hint: 'sizes are 0 or more' };
  if (/^\d+$/.test(s)) return { ok: true, value: Number(s) };
  const m = new RegExp(`^(${NUMBER})\\s*([A-Za-z]+)$`).exec(s);
  const f = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || f === undefined)
    return {
      ok: false,
      message: `\`${s}\` is not a size`,
      hint: 'write a number and B, KB, MB, GB, KiB or MiB, e.g. 100KB',
    };
  return { ok: true, value: Math.round(Number(m[1]) * f) };
}

/** Parses a bandwidth (`100KB/s`, `1MB/s`) into bytes per second. */
export function tryParseBandwidth(input: string | number): UnitResult {
  const s = typeof input === 'number' ? String(input) : input.trim();
  const m = /^(.*)\/s$/.exec(s);
  if (!m)
    return {
      ok: false,
      message: `\`${s}\` is not a bandwidth`,
      hint: 'write a size per second, e.g. 100KB/s (KB = 1000 bytes, as Toxiproxy counts)',
    };
  const r = tryParseSize(m[1]);
  return r.ok ? r : { ok: false, message: `\`${s}\` is not a bandwidth`, hint: 'e.g. 100KB/s or 1MB/s' };
}
