/**
 * JUnit XML for CI test tabs: a testsuite per run, one testcase per threshold (failure with the
 * measured value), one "run validity" testcase (fails when the run is invalid or interrupted), and
 * with a comparison a second testsuite with one testcase per scenario metric (fails on regression).
 */
import { writeFileAtomic } from '../core/results-files.js';
import { join } from 'node:path';
import type { Summary } from '../core/results.js';
import type { Comparison } from './compare.js';
import { fmtChange, fmtComparisonValue, metricLabel } from './compare.js';
import { fmtMetricValue } from './format.js';
import { releaseView } from './release-view.js';
import { loadResults } from './load.js';
import { runWarnings } from './profiles.js';
import { checkFails } from '../core/checks.js';
import { findingLines } from './checks.js';

function x(s: unknown): string {
  return String(s ?? '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string,
    );
}

function timestamp(iso: string | undefined): string {
  const d = new Date(iso ?? '');
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().slice(0, 19);
}

function suiteName(plan: string | undefined): string {
  return `preflight.${(plan || 'run').replace(/[^A-Za-z0-9_.-]+/g, '_')}`;
}

interface Case {
  classname: string;
  name: string;
  failure?: { type: string; message: string; body: string };
}

function renderSuite(
  name: string,
  cases: Case[],
  attrs: string,
  props: Array<[string, string]>,
  systemOut: string,
): string {
  const failures = cases.filter((c) => c.failure).length;
  const lines: string[] = [];
  lines.push(
    `  <testsuite name="${x(name)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0"${attrs}>`,
  );
  if (props.length) {
    lines.push('    <properties>');
    for (const [k, v] of props) lines.push(`      <property name="${x(k)}" value="${x(v)}"/>`);
    lines.push('    </properties>');
  }
  for (const c of cases) {
    if (!c.failure) {
      lines.push(`    <testcase classname="${x(c.classname)}" name="${x(c.name)}" time="0"/>`);
      continue;
    }
    lines.push(`    <testcase classname="${x(c.classname)}" name="${x(c.name)}" time="0">`);
    lines.push(
      `      <failure type="${x(c.failure.type)}" message="${x(c.failure.message)}">${x(c.failure.body)}</failure>`,
    );
    lines.push('    </testcase>');
  }
  if (systemOut) lines.push(`    <system-out>${x(systemOut)}</system-out>`);
  lines.push('  </testsuite>');
  return lines.join('\n');
}

/** JUnit XML for a run (and optionally its comparison with a baseline). Deterministic. */
export function renderJUnit(summary: Summary, comparison?: Comparison): string {
  const s = summary;
  const suite = suiteName(s.plan);
  const cases: Case[] = (s.thresholds ?? []).map((t) => {
    const measured = t.value === null ? (t.note ?? 'no data') : fmtMetricValue(t.expression, t.value);
    const c: Case = { classname: `${suite}.${t.scenario ?? 'all'}`, name: t.expression };
    if (!t.ok) {
      c.failure = {
        type: 'ThresholdFailed',
        message: `${t.expression}: measured ${measured}`,
        body: `threshold: ${t.expression}\nscenario: ${t.scenario ?? 'all scenarios'}\nmeasured: ${measured}${t.value === null ? '' : ` (raw ${t.value})`}${t.note ? `\nnote: ${t.note}` : ''}`,
      };
    }
    return c;
  });
  // Assumption checks (plan `checks:`): one testcase each; the failure message is its failing findings.
  for (const r of s.checks?.results ?? []) {
    const c: Case = { classname: `${suite}.checks.${r.kind}`, name: `${r.id}: ${r.title}` };
    if (checkFails(r.status))
      c.failure = {
        type: r.status === 'error' ? 'CheckError' : 'CheckFailed',
        message: findingLines(r).join('; ') || `${r.id}: ${r.status}`,
        body: findingLines(r, true).join('\n'),
      };
    cases.push(c);
  }
  const validity: Case = { classname: `${suite}.run`, name: 'run is valid (completed, load generator not overloaded)' };
  if (s.verdict === 'invalid' && !s.generator?.overloaded) {
    // Not the generator: a worker died, or no request was served (the warnings say which).
    validity.failure = {
      type: 'RunInvalid',
      message: 'run invalid: see the warnings',
      body: (s.warnings ?? []).join('\n'),
    };
  } else if (s.verdict === 'invalid' || s.generator?.overloaded) {
    validity.failure = {
      type: 'RunInvalid',
      message: `load generator overloaded: ${(s.generator?.reasons ?? []).join('; ') || 'see summary.json'}`,
      body: 'The load generator could not keep up; latency numbers include its own delay. Use more workers or a bigger machine.',
    };
  } else if (s.status !== 'completed') {
    validity.failure = {
      type: 'RunInterrupted',
      message: `run ${s.status}: results are partial`,
      body: `status: ${s.status}`,
    };
  }
  cases.push(validity);
  const warnings = runWarnings(s);
  const props: Array<[string, string]> = [
    ['verdict', s.verdict],
    ['exit_code', String(s.exitCode)],
    ['status', s.status],
    ['tool_version', s.tool?.version ?? ''],
  ];
  const suites: string[] = [
    renderSuite(
      suite,
      cases,
      ` time="${x(s.durationS)}" timestamp="${x(timestamp(s.startedAt))}" hostname="${x(`${s.machine?.platform ?? ''}-${s.machine?.arch ?? ''}`)}"`,
      props,
      warnings.map((w) => `warning: ${w}`).join('\n'),
    ),
  ];
  let total = cases.length;
  let failures = cases.filter((c) => c.failure).length;
  const rv = releaseView(s);
  if (rv && s.comparison) {
    // A release comparison: its verdict, and one case per statistical test (a failure when the candidate is worse).
    const cmp = s.comparison;
    const cls = `${suite}.release.${cmp.scenario}`;
    const verdict: Case = { classname: cls, name: `${cmp.kind} verdict: ${cmp.candidate} against ${cmp.control}` };
    if (cmp.verdict === 'fail' || (cmp.verdict === 'inconclusive' && cmp.inconclusive === 'fail'))
      verdict.failure = {
        type: 'ComparisonFailed',
        message: `${cmp.kind}: ${cmp.verdict}`,
        body: rv.reasons.join('\n'),
      };
    const rc: Case[] = [verdict];
    for (const t of rv.tests) {
      const c: Case = { classname: cls, name: t.name };
      if (t.outcome === 'worse') c.failure = { type: 'CandidateWorse', message: t.text, body: t.text };
      rc.push(c);
    }
    suites.push(
      renderSuite(
        `${suite}.release`,
        rc,
        '',
        [
          ['verdict', cmp.verdict],
          ['kind', cmp.kind],
        ],
        [...rv.reasons, ...rv.facts].join('\n'),
      ),
    );
    total += rc.length;
    failures += rc.filter((c) => c.failure).length;
  }
  if (comparison) {
    const cs: Case[] = [];
    for (const sc of comparison.scenarios) {
      for (const m of sc.metrics) {
        const c: Case = {
          classname: `${suite}.comparison.${sc.scenario}`,
          name: `${metricLabel(m.metric)} vs baseline`,
        };
        if (m.verdict === 'regression') {
          c.failure = {
            type: 'Regression',
            message: `${metricLabel(m.metric)} ${fmtChange(m)}: ${fmtComparisonValue(m, m.baseline)} → ${fmtComparisonValue(m, m.candidate)}`,
            body: `${m.reason}\nbaseline: ${comparison.baseline.dir}`,
          };
        }
        cs.push(c);
      }
    }
    suites.push(
      renderSuite(
        `${suite}.comparison`,
        cs,
        '',
        [
          ['verdict', comparison.verdict],
          ['baseline', comparison.baseline.dir],
        ],
        comparison.warnings.map((w) => `warning: ${w}`).join('\n'),
      ),
    );
    total += cs.length;
    failures += cs.filter((c) => c.failure).length;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="preflight" tests="${total}" failures="${failures}" errors="0" time="${x(s.durationS)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

/** Write DIR/junit.xml (with DIR/comparison.json when present). Returns its path. */
export async function writeJUnit(dir: string): Promise<string> {
  const r = await loadResults(dir);
  const p = join(dir, 'junit.xml');
  await writeFileAtomic(p, renderJUnit(r.summary, r.comparison));
  return p;
}
