/**
 * Alert checks (plan `monitor.alerts`, docs/monitoring.md#alert-checks): which alert rules fired,
 * how long after their cause (a fault window or the load) they went pending and firing, how long
 * after the cause ended they resolved, and false alarms. Read from Prometheus' `ALERTS` series with
 * query_range; after the load the run polls until every expectation is settled or its deadline
 * passed (at most 10 minutes). All I/O is asynchronous on the main thread.
 */
import type { AlertCheck, AlertEpisode } from '../core/results.js';
import { type AlertExpectation, MAX_ALERT_RESOLVE_MS, type MonitorSource } from '../plan/monitor.js';
import { type HttpContext, type PromSeries, promGet, promQuery } from './sources.js';

/** Prometheus' limit of points per series in one range query. */
const MAX_POINTS = 11_000;

/** A cause's span, s from the load's start (start null: it never started; end null: it lasted to the load's end). */
export interface AlertCause {
  start_s: number | null;
  end_s: number | null;
}

/** Names of the alerting rules Prometheus has loaded (GET /api/v1/rules?type=alert). */
export async function alertRuleNames(src: MonitorSource, ctx: HttpContext): Promise<Set<string>> {
  const data = (await promGet(src, ctx, 'rules', { type: 'alert' })) as {
    groups?: Array<{ rules?: Array<{ name?: string; type?: string }> }>;
  };
  const names = new Set<string>();
  for (const g of data?.groups ?? [])
    for (const r of g.rules ?? []) if (r.name && r.type !== 'recording') names.add(r.name);
  return names;
}

/**
 * Episodes of one alert from the ALERTS samples of every series with its name (several label sets
 * count as one alert: active when any is). `t0S`: the load's start (unix s); `endS`: the query's end.
 */
export function episodesOf(series: readonly PromSeries[], t0S: number, stepS: number, endS: number): AlertEpisode[] {
  const state = new Map<number, 'pending' | 'firing'>();
  for (const s of series) {
    const firing = s.metric['alertstate'] === 'firing';
    for (const [ts, v] of s.values ?? []) {
      if (Number(v) !== 1) continue;
      if (firing) state.set(ts, 'firing');
      else if (!state.has(ts)) state.set(ts, 'pending');
    }
  }
  const times = [...state.keys()].sort((a, b) => a - b);
  const out: AlertEpisode[] = [];
  const rel = (ts: number) => Math.round((ts - t0S) * 1000) / 1000;
  let i = 0;
  while (i < times.length) {
    const first = times[i];
    let firing: number | null = null;
    let last = first;
    // One episode: consecutive samples (a missing step or more is a gap: resolved, then active again).
    while (i < times.length && times[i] - last <= stepS * 1.5) {
      last = times[i];
      if (firing === null && state.get(last) === 'firing') firing = last;
      i++;
    }
    out.push({
      active_s: rel(first),
      firing_s: firing === null ? null : rel(firing),
      resolved_s: last >= endS - stepS * 1.5 ? null : rel(last + stepS),
    });
  }
  return out;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Judges one expectation against its episodes. `loadEndS`: the load's length. A `fires` alert's
 * episodes that start within [cause start − step, cause end + fires.within] are the cause's; every
 * other firing episode is a false alarm. A `never` alert: every episode firing during the load is one.
 */
export function judgeAlert(
  exp: AlertExpectation,
  episodes: AlertEpisode[],
  cause: AlertCause | undefined,
  loadEndS: number,
  stepS: number,
): AlertCheck {
  const base = { name: exp.name, episodes, step_s: stepS };
  if (exp.never || !exp.fires) {
    const alarms = episodes.filter(
      (e) => e.firing_s !== null && e.firing_s <= loadEndS && (e.resolved_s === null || e.resolved_s > 0),
    );
    return {
      ...base,
      expect: 'never',
      fired: alarms.length > 0,
      pending_after_s: null,
      firing_after_s: null,
      resolved_after_s: null,
      false_alarms: alarms.length,
      ok: alarms.length === 0,
      reasons:
        alarms.length > 0
          ? [
              `${exp.name} fired during the run (false alarm${alarms.length > 1 ? `s: ${alarms.length}` : ''}, at ${alarms[0].firing_s} s)`,
            ]
          : [],
    };
  }
  const within = exp.fires.withinMs / 1000;
  const resolvesWithin = exp.resolves ? exp.resolves.withinMs / 1000 : undefined;
  const head = {
    ...base,
    expect: 'fires' as const,
    cause: { name: exp.fires.of, start_s: cause?.start_s ?? null, end_s: cause?.end_s ?? null },
    fires_within_s: within,
    ...(resolvesWithin !== undefined ? { resolves_within_s: resolvesWithin } : {}),
  };
  if (!cause || cause.start_s === null) {
    const alarms = episodes.filter((e) => e.firing_s !== null).length;
    return {
      ...head,
      fired: false,
      pending_after_s: null,
      firing_after_s: null,
      resolved_after_s: null,
      false_alarms: alarms,
      ok: false,
      reasons: [`${exp.name}: its cause \`${exp.fires.of}\` never started, so the expectation could not be checked`],
    };
  }
  const start = cause.start_s;
  const end = cause.end_s ?? loadEndS;
  const caused = episodes.filter((e) => e.active_s >= start - stepS && e.active_s <= end + within);
  const alarms = episodes.filter((e) => e.firing_s !== null && !caused.includes(e)).length;
  const firstFiring = caused.find((e) => e.firing_s !== null);
  const pendingAfter = caused.length > 0 ? r3(Math.max(0, caused[0].active_s - start)) : null;
  const firingAfter = firstFiring ? r3(Math.max(0, firstFiring.firing_s! - start)) : null;
  const last = caused.at(-1);
  const resolvedAfter = firstFiring && last?.resolved_s != null ? r3(last.resolved_s - end) : null;
  const reasons: string[] = [];
  if (firingAfter === null)
    reasons.push(`${exp.name} did not fire within ${within} s of \`${exp.fires.of}\` starting (it never fired)`);
  else if (firingAfter > within)
    reasons.push(`${exp.name} fired ${firingAfter} s after \`${exp.fires.of}\` started (expected within ${within} s)`);
  if (resolvesWithin !== undefined && firingAfter !== null) {
    if (resolvedAfter === null)
      reasons.push(
        `${exp.name} was still active when last read (expected to resolve within ${resolvesWithin} s of \`${exp.fires.of}\` ending)`,
      );
    else if (resolvedAfter > resolvesWithin)
      reasons.push(
        `${exp.name} resolved ${resolvedAfter} s after \`${exp.fires.of}\` ended (expected within ${resolvesWithin} s)`,
      );
  }
  if (alarms > 0) reasons.push(`${exp.name} fired ${alarms} time${alarms > 1 ? 's' : ''} outside \`${exp.fires.of}\``);
  return {
    ...head,
    fired: firingAfter !== null,
    pending_after_s: pendingAfter,
    firing_after_s: firingAfter,
    resolved_after_s: resolvedAfter,
    false_alarms: alarms,
    ok: reasons.length === 0,
    reasons,
  };
}

export interface ReadAlertsOptions {
  loadStartMs: number;
  loadEndMs: number;
  /** Read this long before the load (an alert already active when it started). */
  marginMs: number;
  /** Causes by name (`load` included). */
  causes: ReadonlyMap<string, AlertCause>;
  /** Ends the wait early (Ctrl-C): what has been read so far is judged. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Wait after the load for Prometheus to evaluate its last samples (default 2 s). */
  settleMs?: number;
  /** How often to re-read while waiting (default 1 s). */
  pollMs?: number;
}

/** When an expectation can be judged at the latest (unix ms). */
function deadlineOf(exp: AlertExpectation, o: ReadAlertsOptions, settleMs: number): number {
  const atLeast = o.loadEndMs + settleMs;
  if (exp.never || !exp.fires) return atLeast;
  const c = o.causes.get(exp.fires.of);
  if (!c || c.start_s === null) return atLeast;
  const at = (s: number) => o.loadStartMs + s * 1000;
  const d = exp.resolves
    ? at(c.end_s ?? (o.loadEndMs - o.loadStartMs) / 1000) + exp.resolves.withinMs
    : at(c.start_s) + exp.fires.withinMs;
  return Math.min(o.loadEndMs + MAX_ALERT_RESOLVE_MS, Math.max(atLeast, d + settleMs));
}

/**
 * Reads the ALERTS series of `alerts` after the load and judges them: polls until each is settled
 * (fired and, when expected, resolved; or past its deadline), at most 10 minutes after the load.
 */
export async function readAlerts(
  src: MonitorSource,
  ctx: HttpContext,
  alerts: readonly AlertExpectation[],
  o: ReadAlertsOptions,
): Promise<AlertCheck[]> {
  const settleMs = o.settleMs ?? 2000;
  const pollMs = o.pollMs ?? 1000;
  const t0S = o.loadStartMs / 1000;
  const loadEndS = r3((o.loadEndMs - o.loadStartMs) / 1000);
  const deadlines = alerts.map((a) => deadlineOf(a, o, settleMs));
  const last = Math.max(...deadlines);
  if (last > Date.now() + 5000)
    o.log?.(`alerts: waiting up to ${Math.ceil((last - Date.now()) / 1000)} s for alerts to fire and resolve`);
  const names = alerts.map((a) => a.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const query = `ALERTS{alertname=~"${names.join('|')}"}`;
  const judgeAt = async (nowMs: number): Promise<AlertCheck[]> => {
    const endS = nowMs / 1000;
    const stepS = Math.max(1, Math.ceil((endS - (o.loadStartMs - o.marginMs) / 1000) / MAX_POINTS));
    // Samples on the grid k × step from the load's start, so episode times are offsets on that grid.
    const startS = t0S - Math.ceil(o.marginMs / 1000 / stepS) * stepS;
    const series = await promQuery(src, ctx, 'query_range', {
      query,
      start: startS.toFixed(3),
      end: endS.toFixed(3),
      step: `${stepS}s`,
    });
    return alerts.map((a) => {
      const eps = episodesOf(
        series.filter((s) => s.metric['alertname'] === a.name),
        t0S,
        stepS,
        endS,
      );
      return judgeAlert(a, eps, a.fires ? o.causes.get(a.fires.of) : undefined, loadEndS, stepS);
    });
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        o.signal?.removeEventListener('abort', done);
        resolve();
      }
      o.signal?.addEventListener('abort', done, { once: true });
    });
  // Prometheus gone after the load: the checks could not be made — each fails with the reason (the
  // run's other results stand); a read that fails while waiting keeps the last one that succeeded.
  let lastRead: AlertCheck[] | undefined;
  const read = async (nowMs: number): Promise<AlertCheck[]> => {
    try {
      return (lastRead = await judgeAt(nowMs));
    } catch (e) {
      if (lastRead) return lastRead;
      const why = `could not read Prometheus' ALERTS series: ${e instanceof Error ? e.message : String(e)}`;
      return alerts.map((a) => ({
        ...judgeAlert(a, [], a.fires ? o.causes.get(a.fires.of) : undefined, loadEndS, 1),
        fired: false,
        false_alarms: 0,
        ok: false,
        reasons: [`${a.name}: ${why}`],
      }));
    }
  };
  await sleep(Math.max(0, o.loadEndMs + settleMs - Date.now()));
  // Bounded by the last deadline (≤ 10 min after the load) and a count.
  for (let n = 0; n < 2000; n++) {
    const now = Date.now();
    const checks = await read(now);
    const settled = checks.every(
      (c, i) =>
        now >= deadlines[i] ||
        (c.expect === 'fires' && c.ok) ||
        (c.expect === 'fires' && !!c.cause && c.cause.start_s === null),
    );
    if (settled || o.signal?.aborted || now >= last) return checks;
    if (!lastRead) return checks; // unreadable: no point waiting
    await sleep(Math.min(pollMs, last - now));
  }
  return read(Date.now());
}
