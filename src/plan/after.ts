/**
 * `after: <scenario>`: start a scenario when another ends (plus its `startTime`, then an offset).
 *
 * Resolved here, at plan time, whenever the predecessor's end is planned — it has a duration (or
 * stages) and no `maxRequests` that could end it sooner, and its own start is known: the scenario
 * then gets an ordinary start time (the predecessor's planned end + the offset) and no `after`, so
 * every worker thread starts it at the same moment, exactly as a hand-written `startTime` would.
 * Otherwise (the predecessor is count-bounded: `iterations`, `maxRequests`) the end is only known
 * when it happens: `after` stays in the plan and the engine starts the scenario when the
 * predecessor has finished — in each worker thread, when that thread's share of it has finished
 * (its last request completed) — plus the offset.
 */
import { didYouMean } from './suggest.js';
import { join } from './spec.js';
import type { Walker } from './spec.js';
import type { ScenarioPlan } from './types.js';

/** The planned length of a scenario whose end can be planned; undefined when a count may end it. */
function plannedLengthMs(s: ScenarioPlan): number | undefined {
  // (a ramping executor's duration is the sum of its stages)
  return s.maxRequests !== undefined ? undefined : s.durationMs;
}

/** Checks `after` names (known, not itself, no cycle) and resolves the plannable ones to start times. */
export function resolveAfter(w: Walker, scenarios: ScenarioPlan[]): void {
  const byName = new Map(scenarios.map((s) => [s.name, s] as const));
  const names = [...byName.keys()];
  const bad = new Set<string>();
  for (const s of scenarios) {
    if (s.after === undefined) continue;
    const ap = join(join('scenarios', s.name), 'after');
    if (s.after === s.name) {
      w.problemAt(ap, `scenario \`${s.name}\` cannot start after itself`, 'name the scenario it follows', 'value');
      bad.add(s.name);
    } else if (!byName.has(s.after)) {
      w.problemAt(
        ap,
        `unknown scenario \`${s.after}\` in \`after\``,
        didYouMean(
          s.after,
          names.filter((n) => n !== s.name),
          'scenarios',
        ),
        'value',
      );
      bad.add(s.name);
    }
  }
  // cycles: follow each chain; a chain that comes back to a scenario on it is a cycle
  for (const s of scenarios) {
    const seen: string[] = [];
    let cur: ScenarioPlan | undefined = s;
    while (cur?.after !== undefined && !bad.has(cur.name)) {
      if (seen.includes(cur.name)) {
        if (cur.name === s.name) {
          w.problemAt(
            join(join('scenarios', s.name), 'after'),
            `\`after\` goes round in a circle: ${[...seen, s.name].join(' → ')}`,
            'one scenario of the chain must start by its startTime',
            'value',
          );
          bad.add(s.name);
        }
        break;
      }
      seen.push(cur.name);
      cur = byName.get(cur.after);
    }
  }
  // planned end of each scenario; null when only the run can tell
  const ends = new Map<string, number | null>();
  const endOf = (s: ScenarioPlan, depth = 0): number | null => {
    if (ends.has(s.name)) return ends.get(s.name)!;
    if (depth > scenarios.length) return null; // (a cycle, already reported)
    let start: number | null = s.startTimeMs;
    if (s.after !== undefined) {
      const pred = byName.get(s.after);
      const pe = pred && !bad.has(s.name) ? endOf(pred, depth + 1) : null;
      start = pe === null ? null : pe + s.startTimeMs;
    }
    const len = plannedLengthMs(s);
    const end = start === null || len === undefined ? null : start + len;
    ends.set(s.name, end);
    return end;
  };
  // resolve in dependency order: a scenario's predecessor keeps its `after` until its own turn
  const starts = new Map<string, number>();
  for (const s of scenarios) {
    if (s.after === undefined || bad.has(s.name)) continue;
    const pe = endOf(byName.get(s.after)!);
    if (pe !== null) starts.set(s.name, pe + s.startTimeMs);
  }
  for (const s of scenarios) {
    const t = starts.get(s.name);
    if (t === undefined) continue;
    s.startTimeMs = t;
    delete s.after;
  }
}
