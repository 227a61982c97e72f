/**
 * Subcommands. Each returns an exit code; PreflightErrors propagate to main.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../core/exit-codes.js';
import { formatProblem, PreflightError } from '../core/errors.js';
import { checkPlanFile, loadPlan, planJsonSchema, redact, scalePlan } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import {
  checkOffline,
  LiveMetrics,
  offlineProblems,
  plannedPerVariant,
  plannedSampleSizes,
  prepareOutDir,
  ResultsWriteError,
  run,
  runCheckPlan,
  type RunOptions,
  type RunResult,
} from '../run/index.js';
import { runChecks } from '../checks/index.js';
import type { CheckResult, ChecksSummary } from '../core/checks.js';
import { checkMark } from '../report/index.js';
import type { GateServer } from '../comparison/index.js';
import { finalJudgement, gateArgs, lingerAndClose, openGate } from './gate.js';
import { paint, useColor } from './format.js';
import { ProgressView } from './progress.js';
import { withInterrupt } from './interrupt.js';
import { renderSummary } from './summary-view.js';
import { writeReportsFor, compareCommand, reportCommand, baselineCompare } from './reports.js';
import { runProfileWithTerminal } from './profile-run.js';
import { proxyCommand } from './proxy-command.js';
import { k8sCommand } from './k8s-command.js';
import { costCommand } from './cost-command.js';
import { announceMetrics, finishMetrics, metricsArgs, metricsHooks, type MetricsOut } from './metrics-out.js';
import { scaleProfile } from '../profiles/index.js';
import { httpClientOf } from '../engine/index.js';
import { HTTP_CLIENT_NAME } from '../report/format.js';
import { loadResultsSync } from '../report/index.js';

type Command = (argv: string[]) => Promise<number>;

export function usage(): string {
  return `preflight — test a model-serving endpoint's assumptions before you deploy

Usage:
  preflight run <plan.yaml> [--out DIR] [--workers N] [--baseline DIR] [--quiet] [--no-report] [--time-scale F] [--skip-checks]
                [--gate-port P [--gate-host H] [--gate-linger D]]   canary: serve the verdict to Argo / Flagger
                [--metrics-port N [--metrics-host ADDR] [--metrics-linger DUR]]
                                       serve live figures for Prometheus at http://127.0.0.1:N/metrics
  preflight check <plan.yaml> [--out DIR] [--quiet] [--no-report]
                                       run the plan's assumption checks (checks:): network, deploy, monitoring, …
  preflight validate <plan.yaml>       check a plan; every problem at once, with file:line:column
  preflight schema                     print the plan file's JSON Schema (for editor completion)
  preflight demo [--out DIR] [--short] start the built-in model server, run the demo plan, stop it
  preflight serve [options]            run the built-in reference model server (see serve --help)
  preflight report <results-dir>       (re)render report.html, summary.md, junit.xml, intervals.csv
  preflight compare <baseline-dir> <candidate-dir> [--tolerance metric=10%]...
  preflight cost <results-dir> [<results-dir-2>] (--plan plan.yaml | --prices prices.yaml --instance T --peak 500/s
                [--headroom 30%] [--min-replicas N] [--capacity 120/s]) [--json]
                                       replicas, monthly cost, cost per 1k/1M inferences of runs already made
  preflight proxy --upstream HOST:PORT [--listen 127.0.0.1:0] [--api 127.0.0.1:8474] [--toxic 'latency:latency=200']...
                 [--duration 1h] [--name preflight]
                                       a fault proxy (Toxiproxy's toxics, optionally its API) until Ctrl-C
  preflight k8s <plan.yaml> --workers N [--image I] [--namespace NS] [--run-id ID] [--nats deploy | --nats-url URL]
                [--secret NAME] [--cpu REQ[:LIM]] [--memory REQ[:LIM]] [--node-selector k=v]... [--anti-affinity
                preferred|required|off] [--ttl 1h] [--deadline DUR] [--results-pvc CLAIM] [--out DIR | -o yaml] [--apply]
                                       Kubernetes manifests for a scale-out run (docs/kubernetes.md)
  preflight coordinator <plan.yaml> --workers N [--nats nats://host:4222] [--run-id ID] [--out DIR] [--ready-timeout 120s]
                                       scale-out: wait for N workers, start them together, merge, judge once
  preflight worker <plan.yaml> [--index i] [--workers N] [--nats URL] [--run-id ID]
                                       scale-out: run segment i of N (index also from JOB_COMPLETION_INDEX)

Exit codes: 0 passed · 1 internal error · 2 invalid plan or arguments · 3 thresholds failed ·
            4 run invalid (generator overloaded) · 5 target unreachable · 6 significant regression ·
            7 results could not be written · 130 interrupted (partial results kept)
`;
}

function args(argv: string[], options: ParseArgsOptions, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new PreflightError('E_ARGS', (e as Error).message);
  }
}

const runCmd: Command = async (argv) => {
  const { values, positionals } = args(argv, {
    out: { type: 'string', short: 'o' },
    workers: { type: 'string', short: 'w' },
    baseline: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    'no-report': { type: 'boolean' },
    'time-scale': { type: 'string' },
    'gate-port': { type: 'string' },
    'gate-host': { type: 'string' },
    'gate-linger': { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
    'metrics-linger': { type: 'string' },
    'skip-checks': { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new PreflightError('E_ARGS', 'run takes exactly one plan file: preflight run <plan.yaml>');
  const exporter = metricsArgs(values);
  let plan = await loadPlan(positionals[0]);
  if (plan.scenarios.length === 0 && !plan.profile)
    throw new PreflightError(
      'E_PLAN_INVALID',
      `${positionals[0]} has checks but no load (no \`scenarios:\` or \`profile:\`)`,
      {
        problems: [
          {
            file: positionals[0],
            message: 'a plan with only `target:` and `checks:` is for `preflight check`',
            hint: `preflight check ${positionals[0]}`,
          },
        ],
      },
    );
  if (values['time-scale'] !== undefined) {
    const f = Number(values['time-scale']);
    if (!(f > 0 && f <= 10))
      throw new PreflightError('E_ARGS', `--time-scale must be a number in (0, 10], got "${values['time-scale']}"`);
    plan = plan.profile ? scaleProfile(plan, f) : scalePlan(plan, f);
  }
  if (values.workers !== undefined) {
    const n = Number(values.workers);
    if (!Number.isInteger(n) || n < 1 || n > 64)
      throw new PreflightError('E_ARGS', `--workers must be an integer 1–64, got "${values.workers}"`);
    plan.options.workers = n;
  }
  // Data first: a bad data file is exit 2 before the results folder is touched or the target is
  // (run() checks again for library users; a data setting already checked is not read twice).
  await checkOffline(plan);
  // Started before the results folder is touched and before any request: a port in use is exit 2, nothing
  // changed. (Its server does not hold the process open: an error before the run still ends it.)
  const metrics = exporter
    ? await LiveMetrics.start({ port: exporter.port, host: exporter.host, plan: plan.source })
    : undefined;
  if (values.out !== undefined) {
    if (
      values.baseline !== undefined &&
      path.resolve(values.baseline as string) === path.resolve(values.out as string)
    ) {
      throw new PreflightError(
        'E_ARGS',
        `--baseline and --out are the same folder (${values.out}): the new run would replace the baseline it is compared with`,
      );
    }
    prepareOutDir(values.out as string); // a bad path fails here, before any request; stale results are cleared
  }
  if (values.baseline !== undefined) loadResultsSync(values.baseline as string); // not a Preflight result: exit 2 now, not after the run
  // A canary's verdict over HTTP for Argo Rollouts / Flagger: up before the load, after it for --gate-linger.
  const gateOpts = gateArgs(plan, values as Record<string, string | undefined>);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const gate = gateOpts ? await openGate(plan, gateOpts, log) : undefined;
  let code: number | undefined;
  try {
    const out = metrics && { exporter: metrics, lingerMs: exporter!.lingerMs };
    code = await runAndReport(plan, values as Record<string, string | boolean | undefined>, gate, out);
    return code;
  } finally {
    await metrics?.close();
    // Linger only with an answer to give: not after an error or an interruption (Ctrl-C: the user wants out).
    const linger = code !== undefined && code !== ExitCode.Interrupted ? (gateOpts?.lingerMs ?? 0) : 0;
    if (gate) await lingerAndClose(gate, linger, log);
  }
};

async function runAndReport(
  plan: Plan,
  values: Record<string, string | boolean | undefined>,
  gate: GateServer | undefined,
  metrics: MetricsOut | undefined,
): Promise<number> {
  // A profile plan (stress, soak, …) runs its own sequence and prints its answer.
  const common = {
    outDir: values.out as string | undefined,
    quiet: Boolean(values.quiet),
    metrics,
  };
  // The plan's checks first (unless --skip-checks): a run judges them with its thresholds.
  const checks =
    plan.checks && !values['skip-checks'] ? await checksWithTerminal(plan, Boolean(values.quiet)) : undefined;
  // Ctrl-C during the checks: stop there, no load.
  if (checks === null) return ExitCode.Interrupted;
  const result = plan.profile
    ? await runProfileWithTerminal(plan, common)
    : await runWithTerminal(plan, {
        ...common,
        ...(checks ? { checks } : {}),
        onCanaryStep: gate ? (j) => gate.update(j) : undefined,
      });
  // A profile's summary does not hold the checks (docs/checks.md): a failed one still fails the command.
  if (plan.profile && checks && result.exitCode === ExitCode.Passed && checks.counts.fail + checks.counts.error > 0) {
    process.stderr.write('checks failed (see above): exit code 3\n');
    result.exitCode = ExitCode.ThresholdsFailed;
  }
  const final = gate ? finalJudgement(result.summary) : undefined;
  if (gate && final) gate.update(final);
  let code = result.exitCode;
  if (values.baseline) {
    const regress = await baselineCompare(
      values.baseline as string,
      result.outDir,
      Boolean(values.quiet),
      plan.secrets,
    );
    if (regress && code === ExitCode.Passed) code = ExitCode.Regression;
  }
  if (!values['no-report']) await writeReportsFor(result.outDir, Boolean(values.quiet));
  return code;
}

/** Runs a plan with live progress, Ctrl-C handling and the final summary. Shared by run and demo. */
export async function runWithTerminal(
  plan: Plan,
  opts: {
    outDir?: string;
    quiet?: boolean;
    onCanaryStep?: RunOptions['onCanaryStep'];
    metrics?: MetricsOut;
    checks?: ChecksSummary;
    /** Scale-out: the coordinator's remote shards. */
    shards?: RunOptions['shards'];
  },
): Promise<RunResult> {
  const err = process.stderr;
  const c = paint(useColor(err));
  const view = opts.quiet ? null : new ProgressView(err);
  if (!opts.quiet)
    err.write(
      c.dim(
        `target ${redact(plan.target.url, plan.secrets)} · ${plan.scenarios.length} scenario(s) · ${plan.options.workers} worker(s) · HTTP client ${HTTP_CLIENT_NAME[httpClientOf(plan)]}\n`,
      ),
    );
  if (plan.target.tls.insecure)
    err.write(c.yellow('warning: TLS certificate verification is off (tls.insecure: true)\n'));
  // Alert checks wait after the load (≤ 10 min) while the progress view stands still: say so up front.
  const alerts = plan.monitor?.alerts ?? [];
  if (!opts.quiet && alerts.length > 0)
    err.write(
      c.dim(
        `alert checks: ${alerts.map((a) => a.name).join(', ')} — read from Prometheus after the load${alerts.some((a) => a.resolves) ? ', waiting for them to resolve (at most 10 min; Ctrl-C judges what was read)' : ''}\n`,
      ),
    );
  announceMetrics(opts.metrics, Boolean(opts.quiet), err);
  return withInterrupt('the run', async (signal) => {
    const result = await run(plan, {
      outDir: opts.outDir,
      signal,
      ...metricsHooks(opts.metrics, view ? (p) => view.update(p) : undefined),
      onCanaryStep: opts.onCanaryStep,
      ...(opts.checks ? { checks: opts.checks } : {}),
      ...(opts.shards ? { shards: opts.shards } : {}),
    }).catch((e: unknown) => {
      // The run finished but its results could not all be written: show the verdict, then the error.
      view?.end();
      if (e instanceof ResultsWriteError && e.summary) process.stdout.write(renderSummary(e.summary) + '\n');
      throw e;
    });
    view?.end();
    process.stdout.write(redact(renderSummary(result.summary), plan.secrets) + '\n');
    process.stdout.write(`results: ${result.outDir}\n`);
    await finishMetrics(opts.metrics, result.summary, result.exitCode, signal, Boolean(opts.quiet));
    return result;
  });
}

/** Runs the plan's checks with a line per result on stderr (before a run's load); Ctrl-C stops them. */
async function checksWithTerminal(plan: Plan, quiet: boolean): Promise<ChecksSummary | null> {
  const err = process.stderr;
  const c = paint(useColor(err));
  return withInterrupt('the checks', async (signal) => {
    const checks = await runChecks(plan, {
      signal,
      log: (l) => (quiet ? undefined : err.write(c.dim(`check ${l}\n`))),
      onResult: (r) => (quiet ? undefined : err.write(`${checkLine(r, c)}\n`)),
    });
    if (!signal.aborted) return checks;
    err.write(c.yellow('interrupted during the checks: the load was not started\n'));
    return null;
  });
}

function checkLine(r: CheckResult, c: ReturnType<typeof paint>): string {
  const mark =
    r.status === 'pass'
      ? c.green('✓')
      : r.status === 'warn' || r.status === 'skipped'
        ? c.yellow(checkMark(r.status))
        : c.red('✗');
  // A passing check: its last finding (the summing-up line); otherwise what went wrong.
  const bad = r.findings.filter((f) => f.status !== 'pass');
  const shown = r.status === 'pass' ? r.findings.slice(-1) : bad.slice(0, 8);
  const more = r.status !== 'pass' && bad.length > 8 ? ` (and ${bad.length - 8} more)` : '';
  return `  ${mark} ${r.id} ${c.dim(r.status)}  ${shown.map((f) => f.what).join('; ')}${more}`;
}

const checkCmd: Command = async (argv) => {
  const { values, positionals } = args(argv, {
    out: { type: 'string', short: 'o' },
    quiet: { type: 'boolean', short: 'q' },
    'no-report': { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new PreflightError('E_ARGS', 'check takes exactly one plan file: preflight check <plan.yaml>');
  const plan = await loadPlan(positionals[0]);
  if (!plan.checks)
    throw new PreflightError('E_PLAN_INVALID', `${positionals[0]} has no \`checks:\` section`, {
      problems: [
        {
          file: positionals[0],
          message: 'nothing to check: the plan has no `checks:`',
          hint: 'add e.g. checks: { network: {}, monitoring: { scrape: http://127.0.0.1:8000/metrics, preset: triton } } (docs/checks.md)',
        },
      ],
    });
  const quiet = Boolean(values.quiet);
  const err = process.stderr;
  const c = paint(useColor(err));
  if (!quiet)
    err.write(
      c.dim(`target ${redact(plan.target.url, plan.secrets)} · checks: ${Object.keys(plan.checks).join(', ')}\n`),
    );
  if (plan.target.tls.insecure)
    err.write(c.yellow('warning: TLS certificate verification is off (tls.insecure: true)\n'));
  const result = await withInterrupt('the checks', (signal) =>
    runCheckPlan(plan, {
      ...(values.out !== undefined ? { outDir: values.out as string } : {}),
      signal,
      log: (l) => (quiet ? undefined : err.write(c.dim(`check ${l}\n`))),
      onResult: (r) => (quiet ? undefined : err.write(`${checkLine(r, c)}\n`)),
    }).catch((e: unknown) => {
      if (e instanceof ResultsWriteError && e.summary) process.stdout.write(renderSummary(e.summary) + '\n');
      throw e;
    }),
  );
  process.stdout.write(redact(renderSummary(result.summary), plan.secrets) + '\n');
  process.stdout.write(`results: ${result.outDir}\n`);
  if (!values['no-report']) await writeReportsFor(result.outDir, quiet);
  return result.exitCode;
};

const validateCmd: Command = async (argv) => {
  const { positionals } = args(argv, {});
  if (positionals.length !== 1) throw new PreflightError('E_ARGS', 'validate takes exactly one plan file');
  // The plan, then what run() checks before it sends anything: data files, traces, golden files.
  const checked = await checkPlanFile(positionals[0]);
  const problems = checked.plan ? await offlineProblems(checked.plan) : checked.problems;
  const c = paint(useColor());
  if (problems.length === 0) {
    process.stdout.write(`${c.green('✓')} ${positionals[0]} is valid\n`);
    // A comparison: how many requests each variant will get (the statistics' sample sizes).
    const per = checked.plan ? plannedPerVariant(checked.plan) : null;
    const cmp = checked.plan?.comparison;
    if (cmp && per)
      process.stdout.write(
        c.dim(
          `  ${cmp.kind} on scenario ${cmp.scenario}: planned requests per variant ${per.map((v) => `${v.name} (${v.role}) ≈ ${v.requests.toLocaleString('en-US')}`).join(', ')}\n`,
        ),
      );
    // An A/B: the requests per arm each minimum effect needs at the plan's power; too few is a warning.
    const sizes = checked.plan ? plannedSampleSizes(checked.plan) : null;
    if (cmp && per && sizes) {
      const planned = Math.min(...per.map((v) => v.requests));
      for (const s of sizes) {
        const line = `${s.metric}: ${s.perArm.toLocaleString('en-US')} requests per arm needed for power ${cmp.ab!.power} (assuming ${s.assumed})`;
        process.stdout.write(
          s.perArm > planned
            ? c.yellow(
                `  warning: ${line}; the plan sends ≈ ${planned.toLocaleString('en-US')} to its smaller arm — a real difference of that size may come out inconclusive\n`,
              )
            : c.dim(`  ${line}\n`),
        );
      }
    }
    return ExitCode.Passed;
  }
  process.stderr.write(
    `${c.red('✗')} ${positionals[0]}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`,
  );
  for (const p of problems) process.stderr.write(`  ${formatProblem(p)}\n`);
  return ExitCode.InvalidPlan;
};

const schemaCmd: Command = async () => {
  process.stdout.write(JSON.stringify(planJsonSchema(), null, 2) + '\n');
  return ExitCode.Passed;
};

const serveCmd: Command = async (argv) => {
  const { serve } = await import('../server/index.js');
  return serve(argv);
};

const demoCmd: Command = async (argv) => {
  const { values } = args(
    argv,
    { out: { type: 'string', short: 'o' }, short: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' } },
    false,
  );
  const { startServer } = await import('../server/index.js');
  const c = paint(useColor(process.stderr));
  const server = await startServer({ port: 0 });
  const runtime = server.model.infos[0]?.platform === 'onnxruntime' ? 'ONNX Runtime' : 'the TypeScript runtime';
  process.stderr.write(c.dim(`started the reference model server (digits v1, ${runtime}) at ${server.url}\n`));
  try {
    const planFile = packagePath('examples', values.short ? 'demo-short.yaml' : 'demo.yaml');
    const plan = await loadPlan(planFile);
    plan.target.url = server.url; // the demo server listens on an ephemeral port
    const outDir = (values.out as string | undefined) ?? path.join('results', 'demo');
    prepareOutDir(outDir);
    const result = await runWithTerminal(plan, { outDir, quiet: Boolean(values.quiet) });
    await writeReportsFor(result.outDir, Boolean(values.quiet));
    return result.exitCode;
  } finally {
    await server.close();
    process.stderr.write(c.dim('stopped the reference model server\n'));
  }
};

/** A file shipped with the package (examples/, models/), found from dist/src/cli/. */
export function packagePath(...parts: string[]): string {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const p = path.join(root, ...parts);
  if (!fs.existsSync(p)) throw new PreflightError('E_INTERNAL', `missing packaged file ${p}`);
  return p;
}

export const commands: Record<string, Command> = {
  run: runCmd,
  check: checkCmd,
  validate: validateCmd,
  schema: schemaCmd,
  serve: serveCmd,
  demo: demoCmd,
  report: reportCommand,
  compare: compareCommand,
  proxy: proxyCommand,
  k8s: k8sCommand,
  cost: costCommand,
  coordinator: (argv) => import('./scale-commands.js').then((m) => m.coordinatorCommand(argv)),
  worker: (argv) => import('./scale-commands.js').then((m) => m.workerCommand(argv)),
};
