/**
 * Assumption checks (`preflight check`, plan `checks:`): quick pass/fail checks of what load does not
 * answer — the network to the target, deployment and rollback time, staging vs production, security,
 * monitoring present. Every check kind produces these results; the one outcome decider judges them, and
 * summary.json, the reports and junit.xml show them as they show thresholds. Figures are in base units
 * (ms, bytes, bytes per second, days, fractions).
 */

/**
 * How a check ended. `warn` passes the gate but is reported (a certificate expiring within the warning
 * time); `error` means the check could not be carried out (target unreachable, command missing) and
 * fails the gate like `fail`; `skipped` means it does not apply (TLS checks on an http:// target).
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'error' | 'skipped';

/** One thing a check looked at, with what it saw (the evidence: already redacted, at most a few hundred characters). */
export interface CheckFinding {
  status: CheckStatus;
  /** One line: what was sent or looked at, and what came back ("POST /v2/models/m/infer without credentials → 401"). */
  what: string;
  evidence?: string;
}

export interface CheckResult {
  /** Stable dotted id, `<kind>.<check>`: `network.connect`, `security.auth`, `deploy.ready`. */
  id: string;
  /** The check kind: network, deploy, consistency, security, monitoring. */
  kind: string;
  /** What was checked, one line for people. */
  title: string;
  /** The worst of the findings' statuses (fail/error > warn > pass; skipped only when all were). */
  status: CheckStatus;
  /**
   * Gate-able figures by name, in base units; a threshold `<id>.<figure>` reads them
   * (`network.connect.p99 < 5ms` reads figures['p99'] of check `network.connect`). Null: not measured.
   */
  figures: Record<string, number | null>;
  findings: CheckFinding[];
  /** Wall time the check took. */
  durationMs: number;
}

/** The checks of one run or `preflight check` in summary.json (`summary.checks`). */
export interface ChecksSummary {
  results: CheckResult[];
  /** Counts by status. */
  counts: Record<CheckStatus, number>;
}

const SEVERITY: Record<CheckStatus, number> = { skipped: 0, pass: 1, warn: 2, error: 3, fail: 3 };

/** A check's status from its findings: the most severe one (`fail` before `error` at equal severity). */
export function worstStatus(statuses: readonly CheckStatus[]): CheckStatus {
  let worst: CheckStatus = 'skipped';
  for (const s of statuses) {
    if (SEVERITY[s] > SEVERITY[worst] || (s === 'fail' && worst === 'error')) worst = s;
  }
  return worst;
}

/** Whether a status fails the gate. */
export function checkFails(status: CheckStatus): boolean {
  return status === 'fail' || status === 'error';
}
