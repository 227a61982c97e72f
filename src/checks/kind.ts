/**
 * One interface for every check kind (`checks.<kind>` in a plan): a kind is one module that runs its
 * resolved plan section and returns CheckResults (src/core/checks.ts). Its keys and validation live in
 * src/plan/<kind>-check.ts (plan may not import checks); the registry is kinds.ts.
 */
import type { CheckFinding, CheckResult, CheckStatus } from '../core/checks.js';
import { worstStatus } from '../core/checks.js';
import type { CheckKindName, CheckPlanOf } from '../plan/check-kinds.js';
import type { Plan } from '../plan/types.js';

/** What a running check may use beside its own plan section. */
export interface CheckContext {
  /** The whole plan (target URL, headers and TLS options; other sections a kind reads). */
  plan: Plan;
  /** Aborted on Ctrl-C or when the kind's time is up: a kind stops promptly and returns what it has. */
  signal: AbortSignal;
  /** Progress lines for people (stderr), already safe to print. */
  log(line: string): void;
  /** Removes the plan's secrets from a text (evidence, command output). */
  redact(text: string): string;
}

export interface CheckKind<K extends CheckKindName> {
  kind: K;
  /** One line for the terminal before it starts ("network: 20 connects, 14 payload sizes"). */
  describe(plan: CheckPlanOf<K>): string;
  /** Runs the checks of this kind. Never throws for what it finds: a failure is a finding (status `error`). */
  run(plan: CheckPlanOf<K>, ctx: CheckContext): Promise<CheckResult[]>;
}

/** A CheckResult from its findings; the status is the worst of theirs (skipped when there are none). */
export function checkResult(
  id: string,
  title: string,
  findings: CheckFinding[],
  figures: Record<string, number | null>,
  startedMs: number,
): CheckResult {
  const statuses: CheckStatus[] = findings.map((f) => f.status);
  return {
    id,
    kind: id.slice(0, id.indexOf('.')),
    title,
    status: worstStatus(statuses),
    figures,
    findings,
    durationMs: Math.round((performance.now() - startedMs) * 10) / 10,
  };
}

/** Nearest-rank percentile of ascending values (null when empty). */
export function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The last `max` characters of a text, on a line start where possible (command output as evidence). */
export function tail(text: string, max = 400): string {
  const t = text.trimEnd();
  if (t.length <= max) return t;
  const cut = t.slice(-max);
  const nl = cut.indexOf('\n');
  return `…${nl >= 0 && nl < max / 2 ? cut.slice(nl + 1) : cut}`;
}

/** Milliseconds with one decimal, for evidence lines. */
export function ms(x: number | null): string {
  return x === null ? '–' : `${Math.round(x * 10) / 10} ms`;
}
