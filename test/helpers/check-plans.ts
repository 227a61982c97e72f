/**
 * Check sections (security, consistency) built from YAML text through the plan's own walker, as
 * `preflight check` will build them: the tests exercise the same syntax, defaults and located errors.
 */
import { LineCounter, parseDocument } from 'yaml';
import type { Problem } from '../../src/core/errors.js';
import { buildConsistencyCheck, consistencyCheckSpec } from '../../src/plan/consistency-check.js';
import type { ConsistencyBuildHelpers, ConsistencyCheckPlan } from '../../src/plan/consistency-check.js';
import { buildSecurityCheck, securityCheckSpec } from '../../src/plan/security-check.js';
import type { SecurityCheckPlan } from '../../src/plan/security-check.js';
import { Walker } from '../../src/plan/spec.js';
import type { TargetPlan } from '../../src/plan/types.js';

interface Built<T> {
  plan: T | undefined;
  problems: Problem[];
  warnings: Problem[];
  secrets: string[];
}

function walk(text: string, env: Record<string, string | undefined>) {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const w = new Walker(doc, lc, 'plan.yaml', env);
  return w;
}

/** `yaml` is the check's own mapping, placed at `checks.security`. */
export function securityPlan(yaml: string, env: Record<string, string | undefined> = {}): Built<SecurityCheckPlan> {
  const w = walk(`checks:\n  security:\n${indent(yaml)}`, env);
  const raw = w.walk(sectionNode(w, 'security'), securityCheckSpec, 'checks.security');
  const plan = buildSecurityCheck(w, 'checks.security', raw);
  return { plan, problems: w.problems, warnings: w.warnings, secrets: [...w.secrets] };
}

export function consistencyPlan(
  yaml: string,
  env: Record<string, string | undefined> = {},
  h: ConsistencyBuildHelpers = {},
): Built<ConsistencyCheckPlan> {
  const w = walk(`checks:\n  consistency:\n${indent(yaml)}`, env);
  const raw = w.walk(sectionNode(w, 'consistency'), consistencyCheckSpec, 'checks.consistency');
  const plan = buildConsistencyCheck(w, 'checks.consistency', raw, h);
  return { plan, problems: w.problems, warnings: w.warnings, secrets: [...w.secrets] };
}

/** A plan that must build: throws listing its problems otherwise. */
export function must<T>(b: Built<T>): T {
  if (!b.plan) throw new Error(`plan problems: ${b.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return b.plan;
}

export function target(url: string, over: Partial<TargetPlan> = {}): TargetPlan {
  return {
    url,
    headers: {},
    timeoutMs: 10_000,
    connectTimeoutMs: 5_000,
    client: 'auto',
    tls: { insecure: false },
    readyPath: null,
    readyTimeoutMs: 10_000,
    ...over,
  };
}

function sectionNode(w: Walker, key: string): unknown {
  const checks = (w.doc.contents as { get(k: string, keep: true): unknown }).get('checks', true) as {
    get(k: string, keep: true): unknown;
  };
  return checks.get(key, true);
}

function indent(yaml: string): string {
  return yaml
    .split('\n')
    .map((l) => (l.trim() === '' ? l : `    ${l}`))
    .join('\n');
}
