/**
 * The plan's `checks:` section (`preflight check`, docs/checks.md): one key per check kind. Each kind's
 * keys, validation and gate-able figures live beside it in `src/plan/<kind>-check.ts` (plan may not
 * import `checks`, where the kinds run); this file is the registry and the section around them.
 *
 * Adding a kind: a `CheckKindSyntax` in its own file and one entry in CHECK_KIND_SYNTAX below; the
 * compiler then asks for its runner in `src/checks/kinds.ts`.
 */
import type { Spec, ObjectSpec, Raw, Walker } from './spec.js';
import { join } from './spec.js';
import type { TargetPlan } from './types.js';
import type { MonitorPlan } from './monitor.js';
import { networkCheckSyntax } from './network-check.js';
import { monitoringCheckSyntax } from './monitoring-check.js';
import { deployCheckSyntax } from './deploy-check.js';
import { securityCheckSyntax } from './security-check.js';
import { consistencyCheckSyntax } from './consistency-check.js';

/**
 * The unit of a check figure (CheckResult.figures, base units), which says how a threshold's value is
 * written: `ms` a duration (`5ms`, `2m`), `bytes` a size (`1MB`), `bytes_per_s` a bandwidth (`100MB/s`),
 * `count` a whole number ≥ 0, `fraction` a share (`1%`, `0.01`), `number` any plain number (`0.5`).
 */
export type FigureUnit = 'ms' | 'bytes' | 'bytes_per_s' | 'count' | 'fraction' | 'number';

/** What a kind's build may use of the rest of the plan. */
export interface CheckBuildContext {
  target: Pick<TargetPlan, 'url' | 'headers' | 'readyPath'>;
  /** The plan's `monitor:` section, when it has one (monitoring checks default to its sources). */
  monitor?: MonitorPlan;
  /** Folder that relative paths are resolved against (the plan file's). */
  resolveFile(p: string): string;
  /** The plan's scenario names (consistency checks build their requests from one). */
  scenarios: readonly string[];
  /** Marks literal credentials in headers as secrets (and warns), as everywhere in a plan. */
  sensitiveHeaders(path: string, headers: Record<string, string>): void;
}

/** A check kind's plan side: its keys (`checks.<kind>`), how they resolve, and the figures thresholds may name. */
export interface CheckKindSyntax<P> {
  /** The `checks.<kind>` mapping (drives validation and the JSON Schema). */
  spec: ObjectSpec;
  /** Check id (`<kind>.<check>`) → figure → unit: what `<id>.<figure> OP value` thresholds may name. */
  figures: Readonly<Record<string, Readonly<Record<string, FigureUnit>>>>;
  /**
   * The resolved `checks.<kind>` from the walked raw value at `path` (`checks.<kind>`); problems go
   * to `w` (located). Undefined when it cannot be built (the problems say why).
   */
  build(w: Walker, raw: Raw, path: string, ctx: CheckBuildContext): P | undefined;
}

/** Every check kind's plan side, by its key under `checks:`. */
export const CHECK_KIND_SYNTAX = {
  network: networkCheckSyntax,
  monitoring: monitoringCheckSyntax,
  deploy: deployCheckSyntax,
  security: securityCheckSyntax,
  consistency: consistencyCheckSyntax,
} as const;

export type CheckKindName = keyof typeof CHECK_KIND_SYNTAX;
export type CheckPlanOf<K extends CheckKindName> = NonNullable<ReturnType<(typeof CHECK_KIND_SYNTAX)[K]['build']>>;

/** The resolved `checks:` section: one resolved plan per kind given. */
export type ChecksPlan = { [K in CheckKindName]?: CheckPlanOf<K> };

export const CHECK_KIND_NAMES = Object.keys(CHECK_KIND_SYNTAX) as CheckKindName[];

/** `checks:` in the plan file. */
export const checksSpec: ObjectSpec = {
  t: 'object',
  what: 'checks',
  description:
    'Assumption checks run by `preflight check` (and by `preflight run` before the load): one key per kind (docs/checks.md).',
  fields: Object.fromEntries(
    CHECK_KIND_NAMES.map((k) => [k, CHECK_KIND_SYNTAX[k].spec as Spec]),
  ) as ObjectSpec['fields'],
};

/** Builds `checks:` (already walked); problems are located in `w`. */
export function buildChecks(w: Walker, raw: Raw, ctx: CheckBuildContext): ChecksPlan {
  const out: Record<string, unknown> = {};
  for (const k of CHECK_KIND_NAMES) {
    const r = raw[k] as Raw | undefined;
    if (r === undefined || r === null) continue;
    const built = (CHECK_KIND_SYNTAX[k] as CheckKindSyntax<unknown>).build(w, r, join('checks', k), ctx);
    if (built !== undefined) out[k] = built;
  }
  if (Object.keys(out).length === 0 && w.has('checks') && !CHECK_KIND_NAMES.some((k) => w.has(join('checks', k))))
    w.problemAt(
      'checks',
      '`checks:` names no check kind',
      `add one of ${CHECK_KIND_NAMES.join(', ')}, e.g. checks: { network: {} }`,
      'key',
    );
  return out as ChecksPlan;
}

/** The figures thresholds may name for the kinds a plan has, as `<id>.<figure>` → unit. */
export function checkFigures(kinds: Iterable<string>): Map<string, FigureUnit> {
  const out = new Map<string, FigureUnit>();
  for (const k of kinds) {
    const syntax = (CHECK_KIND_SYNTAX as Record<string, CheckKindSyntax<unknown>>)[k];
    if (!syntax) continue;
    for (const [id, figs] of Object.entries(syntax.figures))
      for (const [f, unit] of Object.entries(figs)) out.set(`${id}.${f}`, unit);
  }
  return out;
}
