/**
 * The checks that need no target: every scenario's adapter is built as a run builds it (data files
 * streamed and checked against the columns the scenario uses, labels, prompts, templates, golden
 * files), replay traces are read and a shadow comparison's settings checked (ignore patterns). `preflight validate` and `run()` both call it, `run()` before
 * it touches the target or creates a results folder, so a bad data file is exit 2 even when the
 * target is down. Nothing is sent.
 */
import { DataError, PreflightError } from '../core/errors.js';
import type { Problem } from '../core/errors.js';
import { loadTrace } from '../data/trace.js';
import type { Plan, ScenarioPlan, ScenarioTemplate, TracePlan } from '../plan/types.js';
import { createAdapter } from '../protocols/index.js';
import { shadowPlanProblems } from '../comparison/index.js';

/**
 * Data settings and traces already checked in this process (by identity): the steps of a profile
 * share their template's objects, so a sweep does not re-read its data file for every step.
 */
const checked = new WeakSet<object>();

/** Every problem found without the target, [] when none. Throws only when interrupted or for a bug. */
export async function offlineProblems(plan: Plan, signal?: AbortSignal): Promise<Problem[]> {
  // A shadow's ignore patterns and limits: the engine would throw them from a worker, after the target check.
  const problems: Problem[] = plan.comparison?.shadow ? shadowPlanProblems(plan.comparison.shadow) : [];
  const scenarios: Array<ScenarioPlan | ScenarioTemplate> = [
    ...plan.scenarios,
    ...(plan.profile ? [plan.profile.template] : []),
  ];
  const traces: TracePlan[] = [];
  for (let i = 0; i < scenarios.length; i++) {
    const sc = scenarios[i];
    if (sc.executor === 'replay') traces.push(sc.trace);
    const key = sc.data ?? null;
    if (key && checked.has(key)) continue;
    try {
      const seed = plan.options.seed + i * 7919;
      await createAdapter(sc, plan, { shard: { index: 0, count: 1 }, seed, signal });
      if (key) checked.add(key);
    } catch (e) {
      if (!(e instanceof PreflightError) || e.exitCode !== 2) throw e;
      problems.push(...(e.problems.length > 0 ? e.problems : [{ path: `scenarios.${sc.name}`, message: e.message }]));
    }
  }
  if (plan.profile?.type === 'replay') traces.push(plan.profile.trace);
  for (const t of traces) {
    if (checked.has(t) || !t.file) continue;
    try {
      loadTrace(t);
      checked.add(t);
    } catch (e) {
      if (!(e instanceof PreflightError) || e.exitCode !== 2) throw e;
      problems.push(...e.problems);
    }
  }
  return dedupe(problems);
}

/** Throws a DataError (exit 2) listing every problem found without the target. */
export async function checkOffline(plan: Plan, signal?: AbortSignal): Promise<void> {
  const problems = await offlineProblems(plan, signal);
  if (problems.length > 0)
    throw new DataError(
      problems,
      `the plan's data has ${problems.length === 1 ? 'a problem' : 'problems'}: nothing was sent`,
    );
}

/** Scenarios sharing a data file report its problems once. */
function dedupe(ps: Problem[]): Problem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.file}:${p.line}:${p.column}:${p.path}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
