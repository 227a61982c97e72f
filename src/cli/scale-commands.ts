/**
 * `preflight coordinator` and `preflight worker`: one plan driven from many processes (docs/scale-out.md).
 * Flags first, then the environment a Kubernetes Indexed Job gives (JOB_COMPLETION_INDEX) and the
 * PREFLIGHT_* variables the manifests set.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { tryParseDuration } from '../core/duration.js';
import { PreflightError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import { loadPlan } from '../plan/index.js';
import type { Plan } from '../plan/types.js';
import { checkOffline, prepareOutDir } from '../run/index.js';
import { checkRunId, runCoordinator, runWorker } from '../scale/index.js';
import { runWithTerminal } from './commands.js';
import { withInterrupt } from './interrupt.js';
import { writeReportsFor } from './reports.js';

const env = (k: string): string | undefined => {
  const v = process.env[k];
  return v === undefined || v === '' ? undefined : v;
};

function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new PreflightError('E_ARGS', (e as Error).message);
  }
}

function count(what: string, v: string | undefined, from: string, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max)
    throw new PreflightError(
      'E_ARGS',
      v === undefined
        ? `${what} is required (${from})`
        : `${what} must be an integer ${min}–${max}, got "${v}" (${from})`,
    );
  return n;
}

function duration(flag: string, v: string | undefined, def: number): number {
  if (v === undefined) return def;
  const d = tryParseDuration(v);
  if (!d.ok || !(d.value > 0)) throw new PreflightError('E_ARGS', `${flag}: ${d.ok ? 'must be positive' : d.message}`);
  return d.value;
}

const HTTP_LATER =
  'the HTTP transport (--listen / --coordinator) is not available in this version: run a NATS server with JetStream (nats-server -js) and pass --nats';

/** What scale-out cannot do yet: said before anything starts. */
async function scaleOutPlan(file: string): Promise<Plan> {
  const plan = await loadPlan(file);
  const unsupported = [
    plan.profile ? '`profile:` (a profile runs its own sequence of runs)' : null,
    plan.faults ? '`faults:` (the fault proxy runs beside one generator)' : null,
  ].filter((x) => x !== null);
  if (unsupported.length > 0)
    throw new PreflightError('E_ARGS', `scale-out runs plain plans; this one has ${unsupported.join(' and ')}`, {
      problems: [{ message: 'run it with `preflight run` on one machine, or drop those sections' }],
    });
  return plan;
}

export async function coordinatorCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    workers: { type: 'string', short: 'w' },
    nats: { type: 'string' },
    listen: { type: 'string' },
    'run-id': { type: 'string' },
    out: { type: 'string', short: 'o' },
    'ready-timeout': { type: 'string' },
    'heartbeat-timeout': { type: 'string' },
    'start-lead': { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    'no-report': { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new PreflightError(
      'E_ARGS',
      'coordinator takes exactly one plan file: preflight coordinator <plan.yaml> --workers N',
    );
  if (values.listen !== undefined) throw new PreflightError('E_ARGS', HTTP_LATER);
  const workers = count(
    '--workers',
    (values.workers as string | undefined) ?? env('PREFLIGHT_WORKERS'),
    'or PREFLIGHT_WORKERS',
    1,
    1000,
  );
  const natsUrl = (values.nats as string | undefined) ?? env('PREFLIGHT_NATS_URL') ?? 'nats://127.0.0.1:4222';
  const runId = checkRunId((values['run-id'] as string | undefined) ?? env('PREFLIGHT_RUN_ID') ?? 'default');
  const plan = await scaleOutPlan(positionals[0]);
  await checkOffline(plan);
  const outDir = values.out as string | undefined;
  if (outDir !== undefined) prepareOutDir(outDir);
  const quiet = Boolean(values.quiet);
  const log = quiet ? undefined : (line: string) => process.stderr.write(`coordinator: ${line}\n`);
  log?.(
    `run ${runId}: ${workers} worker process(es) × ${plan.options.workers} thread(s) each (the line below counts one process's threads), NATS ${natsUrl}`,
  );
  const result = await runCoordinator(
    plan,
    {
      workers,
      natsUrl,
      runId,
      readyTimeoutMs: duration('--ready-timeout', values['ready-timeout'] as string | undefined, 120_000),
      heartbeatTimeoutMs: duration('--heartbeat-timeout', values['heartbeat-timeout'] as string | undefined, 5000),
      startLeadMs: duration('--start-lead', values['start-lead'] as string | undefined, 1500),
      ...(log ? { log } : {}),
    },
    {},
    (p, o) => runWithTerminal(p, { outDir, quiet, shards: o.shards }),
  );
  if (!values['no-report']) await writeReportsFor(result.outDir, quiet);
  return result.exitCode;
}

export async function workerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    index: { type: 'string', short: 'i' },
    workers: { type: 'string', short: 'w' },
    nats: { type: 'string' },
    coordinator: { type: 'string' },
    'run-id': { type: 'string' },
    wait: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (positionals.length !== 1)
    throw new PreflightError(
      'E_ARGS',
      'worker takes exactly one plan file: preflight worker <plan.yaml> --index i --workers N',
    );
  if (
    values.coordinator !== undefined ||
    (env('PREFLIGHT_COORDINATOR_URL') && !values.nats && !env('PREFLIGHT_NATS_URL'))
  )
    throw new PreflightError('E_ARGS', HTTP_LATER);
  const workers = count(
    '--workers',
    (values.workers as string | undefined) ?? env('PREFLIGHT_WORKERS'),
    'or PREFLIGHT_WORKERS',
    1,
    1000,
  );
  const index = count(
    '--index',
    (values.index as string | undefined) ?? env('JOB_COMPLETION_INDEX'),
    'or JOB_COMPLETION_INDEX',
    0,
    workers - 1,
  );
  const natsUrl = (values.nats as string | undefined) ?? env('PREFLIGHT_NATS_URL') ?? 'nats://127.0.0.1:4222';
  const runId = checkRunId((values['run-id'] as string | undefined) ?? env('PREFLIGHT_RUN_ID') ?? 'default');
  const plan = await scaleOutPlan(positionals[0]);
  await checkOffline(plan);
  const quiet = Boolean(values.quiet);
  const log = quiet ? undefined : (line: string) => process.stderr.write(`worker ${index}: ${line}\n`);
  const code = await withInterrupt(
    `worker ${index}`,
    (signal) =>
      runWorker(plan, {
        index,
        workers,
        natsUrl,
        runId,
        waitMs: duration('--wait', values.wait as string | undefined, 600_000),
        signal,
        ...(log ? { log } : {}),
      }),
    'publishing its windows',
  );
  return code ?? ExitCode.InternalError;
}
