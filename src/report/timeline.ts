/**
 * The fault timeline (summary.faults, plan `faults:`) in report.html: every time chart shades the
 * fault windows (their names in the band and in the timeline table below) and marks each action
 * with a vertical line and its name, on the same time axis as the load.
 */
import type { FaultsSummary } from '../core/results.js';
import type { ChartBand, ChartMark, ChartSpec } from './chart-spec.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Windows that happened, as bands (a window still on at the end of the run ends with it). */
export function faultBands(faults: FaultsSummary | undefined): ChartBand[] {
  if (!isObj(faults) || !Array.isArray(faults.windows)) return [];
  return faults.windows
    .filter((w) => isObj(w) && typeof w.started_s === 'number')
    .map((w) => ({
      from: w.started_s!,
      to: typeof w.ended_s === 'number' ? w.ended_s : w.end_s,
      label: `${w.name} (${w.type})`,
    }));
}

/** Each action (and undo) as a vertical mark at its start. */
export function actionMarks(faults: FaultsSummary | undefined): ChartMark[] {
  if (!isObj(faults) || !Array.isArray(faults.events)) return [];
  return faults.events
    .filter((e) => isObj(e) && e.event === 'action_start' && typeof e.t_s === 'number')
    .map((e) => ({ x: e.t_s, label: `${e.undo ? 'undo: ' : ''}${e.name}`.slice(0, 60) }));
}

/** Adds the timeline to every time chart (the scenario charts and the profiles' time curves). */
export function addTimeline(specs: ChartSpec[], faults: FaultsSummary | undefined): void {
  const bands = faultBands(faults);
  const marks = actionMarks(faults);
  if (bands.length === 0 && marks.length === 0) return;
  for (const s of specs) {
    if (s.x.kind !== 'time') continue;
    if (bands.length) s.bands = bands;
    if (marks.length) {
      // A profile may mark the same action (same time and name): keep one.
      const have = new Set((s.marks ?? []).map((m) => `${m.x}|${m.label}`));
      s.marks = [...(s.marks ?? []), ...marks.filter((m) => !have.has(`${m.x}|${m.label}`))];
    }
  }
}

/** The timeline as a table (the charts' legend for the bands): windows, then actions with their outcome. */
export function timelineSection(faults: FaultsSummary | undefined, esc: (s: unknown) => string): string {
  if (!isObj(faults) || !Array.isArray(faults.events)) return '';
  const n = (x: unknown) => (typeof x === 'number' ? `${Math.round(x * 1000) / 1000} s` : '–');
  const rows = (faults.windows ?? []).map(
    (w) =>
      `<tr><td><span class="band-key"></span> ${esc(w.name)}</td><td>${esc(w.kind)}: ${esc(w.type)}</td><td>${n(w.started_s)}</td><td>${w.started_s === null ? 'never started' : n(w.ended_s)}</td><td></td></tr>`,
  );
  const acts = faults.events
    .filter((e) => e.event === 'action_end')
    .map(
      (e) =>
        `<tr class="${e.ok ? 'ok' : 'bad'}"><td>${e.undo ? 'undo: ' : ''}${esc(e.name)}</td><td>action: ${esc(e.type)}</td><td>${n(e.t_s - (e.duration_ms ?? 0) / 1000)}</td><td>${n(e.t_s)}</td><td>${e.ok ? 'ok' : 'FAILED'}: ${esc(e.detail ?? '')}</td></tr>`,
    );
  const proxy = faults.proxy
    ? ` The proxy saw ${faults.proxy.connections} connections and ${faults.proxy.requests} requests.`
    : '';
  return `<section id="fault-timeline">
<h2>Fault timeline</h2>
<p>Faults and actions against <code>${esc(faults.target)}</code> (faults through a proxy in front of it): windows shaded on the time charts, actions marked.${proxy}</p>
<table class="data timeline"><thead><tr><th>Name</th><th>What</th><th>Start</th><th>End</th><th>Outcome</th></tr></thead>
<tbody>${[...rows, ...acts].join('\n')}</tbody></table>
</section>`;
}

/** summary.md: the timeline as a list (windows as they happened, actions with their outcome). */
export function timelineMarkdown(faults: FaultsSummary | undefined): string[] {
  if (!isObj(faults) || !Array.isArray(faults.events)) return [];
  const n = (x: number | null | undefined) => (typeof x === 'number' ? `${Math.round(x * 1000) / 1000} s` : '–');
  const out = [`**Fault timeline** (against \`${faults.target}\`)`, ''];
  for (const w of faults.windows ?? [])
    out.push(
      `- ${w.kind} \`${w.name}\` (${w.type}): ${w.started_s === null ? 'never started (the run ended first)' : `${n(w.started_s)} – ${n(w.ended_s)}`}`,
    );
  for (const e of faults.events.filter((x) => x.event === 'action_end'))
    out.push(
      `- ${e.ok ? '✅' : '❌'} action \`${e.name}\`${e.undo ? ' (undo)' : ''} at ${n(e.t_s)}: ${(e.detail ?? '').replace(/\n/g, ' ')}`,
    );
  out.push('');
  return out;
}
