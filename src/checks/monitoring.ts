/**
 * `checks.monitoring`: each metrics endpoint answers (HTTP 200, an exposition that parses) and exposes
 * every expected series; the missing ones are listed. See docs/checks.md#monitoring.
 */
import type { CheckFinding, CheckResult } from '../core/checks.js';
import { scrape, type Exposition } from '../monitor/index.js';
import { matches } from '../plan/monitor.js';
import type { ExpectedSeries } from '../plan/monitoring-check.js';
import { checkAgent } from './http.js';
import { checkResult, type CheckKind, ms } from './kind.js';

/** Whether the exposition has a sample of the expected series (by family or sample name, labels matched). */
export function hasSeries(expo: Exposition, e: ExpectedSeries): boolean {
  const name = e.selector.metric;
  return expo.families.some(
    (f) =>
      (f.name === name || f.samples.some((s) => s.name === name)) &&
      f.samples.some((s) => (f.name === name || s.name === name) && matches(e.selector, s.labels)),
  );
}

export const monitoringKind: CheckKind<'monitoring'> = {
  kind: 'monitoring',
  describe: (p) => `${p.sources.length} metrics endpoint(s), ${p.expect.length} expected series`,
  async run(p, ctx) {
    const t0 = performance.now();
    const agent = checkAgent(ctx.plan.monitor?.tls ?? ctx.plan.target.tls);
    const scrapeFindings: CheckFinding[] = [];
    const expositions: Exposition[] = [];
    let slowest: number | null = null;
    let failed = 0;
    try {
      for (const src of p.sources) {
        if (ctx.signal.aborted) break;
        const url = ctx.redact(src.url);
        const s0 = performance.now();
        try {
          const expo = await scrape(src, { timeoutMs: p.timeoutMs, dispatcher: agent });
          const took = performance.now() - s0;
          slowest = Math.max(slowest ?? 0, took);
          expositions.push(expo);
          const samples = expo.families.reduce((a, f) => a + f.samples.length, 0);
          scrapeFindings.push({
            status: 'pass',
            what: `GET ${url} → ${expo.families.length} metric families, ${samples} samples (${expo.format}) in ${ms(took)}`,
            ...(expo.problems.length > 0
              ? {
                  evidence: `${expo.problems.length} malformed line(s) skipped, e.g. line ${expo.problems[0].line}: ${ctx.redact(expo.problems[0].message)}`,
                }
              : {}),
          });
        } catch (e) {
          failed++;
          scrapeFindings.push({ status: 'error', what: `GET ${url} → ${ctx.redact((e as Error).message)}` });
        }
      }
    } finally {
      await agent.close();
    }
    const out: CheckResult[] = [
      checkResult(
        'monitoring.scrape',
        `metrics endpoint(s) answer: ${p.sources.map((s) => ctx.redact(s.url)).join(', ')}`,
        scrapeFindings,
        { time: slowest === null ? null : Math.round(slowest * 1000) / 1000, failed },
        t0,
      ),
    ];
    const t1 = performance.now();
    const seriesFindings: CheckFinding[] = [];
    let present = 0;
    const missing: ExpectedSeries[] = [];
    if (expositions.length === 0) {
      seriesFindings.push({
        status: 'error',
        what: 'no endpoint answered: the expected series could not be looked for',
      });
    } else {
      for (const e of p.expect) {
        if (expositions.some((x) => hasSeries(x, e))) present++;
        else missing.push(e);
      }
      if (present > 0)
        seriesFindings.push({ status: 'pass', what: `${present} of ${p.expect.length} expected series present` });
      // A preset names what a server of that kind *may* export (GPU series on a CPU server): missing ones warn.
      for (const e of missing)
        seriesFindings.push({
          status: e.from.startsWith('preset ') ? 'warn' : 'fail',
          what: `missing: ${e.text} (${e.from})`,
        });
      if (p.expect.length === 0) seriesFindings.push({ status: 'pass', what: 'no series expected' });
    }
    out.push(
      checkResult(
        'monitoring.series',
        `the expected series are exposed (${p.expect.length})`,
        seriesFindings,
        {
          missing: expositions.length === 0 ? null : missing.filter((e) => !e.from.startsWith('preset ')).length,
          missing_preset: expositions.length === 0 ? null : missing.filter((e) => e.from.startsWith('preset ')).length,
          present: expositions.length === 0 ? null : present,
        },
        t1,
      ),
    );
    return out;
  },
};
