/**
 * Runs a plan's `checks:` kind by kind (in plan order: network, monitoring, deploy, … as the registry
 * lists them), each bounded by its own timeouts and stopped by the signal (Ctrl-C): what ran is kept,
 * the rest is reported `skipped`. A kind that throws (a bug) is one `error` result, not a crash.
 */
import type { CheckResult, CheckStatus, ChecksSummary } from '../core/checks.js';
import type { CheckKindName, CheckPlanOf } from '../plan/check-kinds.js';
import { redact } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import type { CheckContext, CheckKind } from './kind.js';
import { CHECK_KINDS } from './kinds.js';

export interface RunChecksOptions {
  signal?: AbortSignal;
  /** Progress lines (what is about to run, each result's status). */
  log?: (line: string) => void;
  /** Called with each result as it is known. */
  onResult?: (r: CheckResult) => void;
}

export function checksSummary(results: CheckResult[]): ChecksSummary {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, error: 0, skipped: 0 };
  for (const r of results) counts[r.status]++;
  return { results, counts };
}

/** Runs every check kind the plan has; empty when it has none. */
export async function runChecks(plan: Plan, opts: RunChecksOptions = {}): Promise<ChecksSummary> {
  const signal = opts.signal ?? new AbortController().signal;
  const log = opts.log ?? (() => undefined);
  const ctx: CheckContext = { plan, signal, log, redact: (s) => redact(s, plan.secrets) };
  const results: CheckResult[] = [];
  for (const name of Object.keys(CHECK_KINDS) as CheckKindName[]) {
    const section = plan.checks?.[name];
    if (section === undefined) continue;
    const kind = CHECK_KINDS[name] as unknown as CheckKind<CheckKindName>;
    const p = section as CheckPlanOf<CheckKindName>;
    if (signal.aborted) {
      results.push(skipped(name, 'not run: interrupted'));
      continue;
    }
    log(`${name}: ${kind.describe(p)}`);
    const t0 = performance.now();
    let got: CheckResult[];
    try {
      got = await kind.run(p, ctx);
    } catch (e) {
      got = [
        {
          id: `${name}.run`,
          kind: name,
          title: `the ${name} checks`,
          status: 'error',
          figures: {},
          findings: [
            {
              status: 'error',
              what: `the ${name} checks could not run`,
              evidence: ctx.redact(String((e as Error)?.message ?? e)),
            },
          ],
          durationMs: Math.round(performance.now() - t0),
        },
      ];
    }
    for (const r of got) {
      results.push(r);
      opts.onResult?.(r);
    }
  }
  return checksSummary(results);
}

function skipped(kind: string, why: string): CheckResult {
  return {
    id: `${kind}.run`,
    kind,
    title: `the ${kind} checks`,
    status: 'skipped',
    figures: {},
    findings: [{ status: 'skipped', what: why }],
    durationMs: 0,
  };
}
