/**
 * Generic rendering of `summary.profiles` (stress, soak, spike, … answers). The shape a profile
 * should use so the reports show it well (every field optional; see docs/reports.md):
 *
 *   profiles.<name> = {
 *     answer: string,                                  // the headline, one sentence
 *     numbers: { <key>: number | string | boolean },   // headline figures (…_ms, …_rate, … formatted by name)
 *     curves: [{ title, x_label, y_label,
 *                points: [[x, y], …]                    // or {x: [], y: []}
 *                | series: [{ name, points: [[x, y], …] }] }],
 *     marks: [{ t_s, label, scenario? }],              // vertical markers on the time charts (of one scenario)
 *     steps: [{ …, stable: false }]                    // any object with stable/stabilised === false
 *   }                                                  //   is reported as a warning
 *
 * Anything else is still rendered: scalars as numbers, {x:[],y:[]} objects and arrays of [x, y]
 * pairs as curves, and the raw JSON in a collapsible block.
 */
import type { Summary } from '../core/results.js';
import type { ChartMark } from './chart-spec.js';

export interface CurveView {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Array<{ name: string; points: Array<[number, number]> }>;
}

export interface ProfileView {
  name: string;
  answer?: string;
  numbers: Array<[string, number | string | boolean]>;
  curves: CurveView[];
  raw: unknown;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** [[x,y],…] or [{x,y},…] → points; null if it is not a list of points. */
function toPoints(v: unknown): Array<[number, number]> | null {
  if (!Array.isArray(v) || v.length === 0) return null;
  const out: Array<[number, number]> = [];
  for (const p of v) {
    if (Array.isArray(p) && p.length >= 2 && num(p[0]) !== null && (num(p[1]) !== null || p[1] === null)) {
      if (p[1] !== null) out.push([p[0] as number, p[1] as number]);
    } else if (isObj(p) && num(p.x) !== null && num(p.y) !== null) out.push([p.x as number, p.y as number]);
    else return null;
  }
  return out.sort((a, b) => a[0] - b[0]);
}

function xyPoints(v: Record<string, unknown>): Array<[number, number]> | null {
  if (!Array.isArray(v.x) || !Array.isArray(v.y) || v.x.length !== v.y.length || v.x.length === 0) return null;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < v.x.length; i++) {
    const x = num(v.x[i]);
    const y = num(v.y[i]);
    if (x === null) return null;
    if (y !== null) out.push([x, y]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Interpret one value as a curve (or null). */
export function toCurve(v: unknown, fallbackTitle: string): CurveView | null {
  const str = (x: unknown, d: string): string => (typeof x === 'string' && x ? x : d);
  const direct = toPoints(v);
  if (direct)
    return { title: fallbackTitle, xLabel: 'x', yLabel: 'y', series: [{ name: fallbackTitle, points: direct }] };
  if (!isObj(v)) return null;
  const title = str(v.title, fallbackTitle);
  const xLabel = str(v.x_label ?? v.xLabel, 'x');
  const yLabel = str(v.y_label ?? v.yLabel, 'y');
  if (Array.isArray(v.series)) {
    const series = v.series
      .map((s, i) => {
        if (!isObj(s)) return null;
        const pts = toPoints(s.points) ?? xyPoints(s);
        return pts ? { name: str(s.name ?? s.label, `series ${i + 1}`), points: pts } : null;
      })
      .filter((s): s is { name: string; points: Array<[number, number]> } => s !== null);
    return series.length ? { title, xLabel, yLabel, series } : null;
  }
  const pts = toPoints(v.points) ?? xyPoints(v);
  return pts ? { title, xLabel, yLabel, series: [{ name: str(v.name ?? v.label, yLabel), points: pts }] } : null;
}

function flatten(prefix: string, v: unknown, out: Array<[string, number | string | boolean]>, depth: number): void {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') {
    out.push([prefix, v]);
    return;
  }
  if (isObj(v) && depth < 2)
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out, depth + 1);
}

const RESERVED = new Set(['answer', 'numbers', 'curves', 'marks']);

export function describeProfiles(profiles: Summary['profiles']): ProfileView[] {
  if (!isObj(profiles)) return [];
  const views: ProfileView[] = [];
  for (const [name, raw] of Object.entries(profiles)) {
    const view: ProfileView = { name, numbers: [], curves: [], raw };
    if (typeof raw === 'string') {
      view.answer = raw;
      views.push(view);
      continue;
    }
    if (!isObj(raw)) {
      views.push(view);
      continue;
    }
    if (typeof raw.answer === 'string') view.answer = raw.answer;
    if (isObj(raw.numbers)) flatten('', raw.numbers, view.numbers, 0);
    if (Array.isArray(raw.curves))
      raw.curves.forEach((c, i) => {
        const cv = toCurve(c, `${name} curve ${i + 1}`);
        if (cv) view.curves.push(cv);
      });
    for (const [k, v] of Object.entries(raw)) {
      if (RESERVED.has(k)) continue;
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') view.numbers.push([k, v]);
      else {
        const cv = toCurve(v, k.replace(/_/g, ' '));
        if (cv) view.curves.push(cv);
      }
    }
    views.push(view);
  }
  return views;
}

/** A vertical marker, optionally only for one scenario's charts. */
export interface ProfileMark extends ChartMark {
  scenario?: string;
}

/** `profiles.*.marks` ([{t_s, label, scenario?}]) → vertical markers for the time charts. */
export function collectMarks(profiles: Summary['profiles']): ProfileMark[] {
  const marks: ProfileMark[] = [];
  if (!isObj(profiles)) return marks;
  for (const p of Object.values(profiles)) {
    if (!isObj(p) || !Array.isArray(p.marks)) continue;
    for (const m of p.marks) {
      if (!isObj(m) || num(m.t_s) === null) continue;
      const mark: ProfileMark = { x: m.t_s as number, label: typeof m.label === 'string' ? m.label : '' };
      if (typeof m.scenario === 'string') mark.scenario = m.scenario;
      marks.push(mark);
    }
  }
  return marks.sort((a, b) => a.x - b.x);
}

/** Steps (anywhere in profiles) that say they never stabilised: `stable|stabilised|stabilized|converged: false`. */
export function unstableSteps(profiles: Summary['profiles']): string[] {
  const out: string[] = [];
  if (!isObj(profiles)) return out;
  const visit = (profile: string, v: unknown, path: string, depth: number): void => {
    if (depth > 5) return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => visit(profile, x, `${path}[${i}]`, depth + 1));
      return;
    }
    if (!isObj(v)) return;
    const flag = ['stable', 'stabilised', 'stabilized', 'converged'].find((k) => v[k] === false);
    if (flag) {
      const label = ['label', 'name', 'step', 'target', 'rate', 'concurrency']
        .map((k) => (v[k] !== undefined ? `${k} ${String(v[k])}` : ''))
        .find(Boolean);
      out.push(`profile ${profile}: ${label ? `${label} (${path})` : path} never stabilised`);
    }
    for (const [k, x] of Object.entries(v))
      if (typeof x === 'object') visit(profile, x, path ? `${path}.${k}` : k, depth + 1);
  };
  for (const [name, p] of Object.entries(profiles)) visit(name, p, '', 0);
  return out;
}

/** Everything worth a warning box: summary warnings, overload, interruption, unsent arrivals, unstable steps. */
export function runWarnings(s: Summary, skippedIntervalLines = 0): string[] {
  const out: string[] = [...(s.warnings ?? [])];
  const has = (needle: RegExp): boolean => out.some((w) => needle.test(w));
  if (s.generator?.overloaded && !has(/overload/i)) {
    out.push(
      `The load generator was overloaded${s.generator.reasons?.length ? `: ${s.generator.reasons.join('; ')}` : ''}. Latency numbers include the generator's own delay and cannot be trusted.`,
    );
  }
  if (s.status === 'interrupted' && !has(/interrupt/i))
    out.push('The run was interrupted (Ctrl-C / SIGTERM): results cover only the part that ran.');
  if (s.status === 'aborted' && !has(/abort/i)) out.push('The run was aborted: results cover only the part that ran.');
  for (const [name, sc] of Object.entries(s.scenarios ?? {})) {
    if (sc.unsent > 0 && !has(new RegExp(`unsent|never sent`, 'i')))
      out.push(`scenario ${name}: ${sc.unsent} arrivals were due but never sent (the run ended first).`);
  }
  out.push(...unstableSteps(s.profiles));
  if (skippedIntervalLines > 0)
    out.push(`${skippedIntervalLines} line(s) of intervals.ndjson could not be read (cut off?) and were skipped.`);
  return out;
}
