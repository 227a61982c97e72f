/**
 * `checks.deploy`: runs the deploy command (or HTTP call), polls the target until it is ready (first
 * 2xx on the ready path) and until every known input gets a correct answer; then the same for the
 * rollback. Times are from the start of each phase's action. See docs/checks.md#deploy.
 *
 * A command runs in its own process group with its output captured (the tail, redacted, is evidence).
 * One still running when the check ends is stopped (SIGTERM to the group, SIGKILL 3 s later): a command
 * that *is* the server (a local demo) is cleaned up; deploy tools (kubectl, helm) exit by themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { CheckFinding, CheckResult } from '../core/checks.js';
import type { DeployAction, DeployCheckPlan, DeployInput, DeployPhase } from '../plan/deploy-check.js';
import { compileChecks } from '../protocols/index.js';
import { call, checkAgent } from './http.js';
import { checkResult, type CheckContext, type CheckKind, pause, tail } from './kind.js';
import type { Dispatcher } from 'undici';

/** Output kept of a command (the evidence shows its tail). */
const KEEP_OUTPUT = 16 * 1024;

interface Running {
  child: ChildProcess;
  output: string;
  /** Set when it exited: code (or signal) and ms since the phase started. */
  exit?: { code: number | null; signal: string | null; atMs: number };
  exited: Promise<void>;
}

function startCommand(a: Extract<DeployAction, { kind: 'command' }>, startMs: number): Running | { error: string } {
  let child: ChildProcess;
  try {
    child = spawn(a.argv[0], a.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  } catch (e) {
    return { error: (e as Error).message };
  }
  const r: Running = { child, output: '', exited: Promise.resolve() };
  const keep = (d: Buffer) => {
    r.output = (r.output + d.toString('utf8')).slice(-KEEP_OUTPUT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  r.exited = new Promise((resolve) => {
    child.on('error', (e) => {
      r.output += `\n${e.message}`;
      r.exit ??= { code: 127, signal: null, atMs: performance.now() - startMs };
      resolve();
    });
    child.on('exit', (code, signal) => {
      r.exit ??= { code, signal, atMs: performance.now() - startMs };
      resolve();
    });
  });
  return r;
}

/** Stops a command's process group: SIGTERM, SIGKILL after 3 s; resolves when it exited. */
async function stopCommand(r: Running): Promise<void> {
  if (r.exit || r.child.pid === undefined) return;
  const pid = r.child.pid;
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  };
  kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([
    r.exited.then(() => true),
    new Promise<boolean>((res) => (timer = setTimeout(() => res(false), 3000))),
  ]);
  clearTimeout(timer);
  if (!gone) {
    kill('SIGKILL');
    await Promise.race([r.exited, new Promise((res) => setTimeout(res, 2000))]);
  }
}

/** Why an input's answer is not correct, or null when it is. */
async function judgeInput(
  agent: Dispatcher,
  input: DeployInput,
  ctx: CheckContext,
  timeoutMs: number,
): Promise<string | null> {
  const r = await call(agent, {
    method: input.method,
    url: input.url,
    headers: input.headers,
    ...(input.body !== undefined ? { body: input.body } : {}),
    timeoutMs,
    signal: ctx.signal,
  });
  const what = `${input.method} ${new URL(input.url).pathname}`;
  if (r.status === 0) return `${what} → ${r.error}`;
  const checks = compileChecks(input.expect.map((expression) => ({ expression })));
  if (checks.statusVerdict(r.status) !== null) return `${what} → HTTP ${r.status} ${ctx.redact(r.body.slice(0, 160))}`;
  let json: unknown;
  try {
    json = JSON.parse(r.body);
  } catch {
    json = undefined;
  }
  const failed = checks.evaluateBody(json, () => r.body);
  return failed === null ? null : `${what} → \`${failed}\` does not hold: ${ctx.redact(r.body.slice(0, 160))}`;
}

const secs = (x: number) => `${Math.round(x / 100) / 10} s`;

async function runPhase(
  id: 'deploy.apply' | 'deploy.rollback',
  phase: DeployPhase,
  p: DeployCheckPlan,
  ctx: CheckContext,
  agent: Dispatcher,
  running: Running[],
): Promise<CheckResult> {
  const t0 = performance.now();
  const since = () => performance.now() - t0;
  const deadline = t0 + phase.timeoutMs;
  const findings: CheckFinding[] = [];
  const a = phase.action;
  const display = ctx.redact(a.kind === 'command' ? a.display : `${a.method} ${a.url}`);
  let run: Running | undefined;
  let commandMs: number | null = null;
  if (a.kind === 'command') {
    const r = startCommand(a, t0);
    if ('error' in r) {
      findings.push({ status: 'error', what: `could not start \`${display}\``, evidence: ctx.redact(r.error) });
      return checkResult(
        id,
        `${id === 'deploy.apply' ? 'deploy' : 'rollback'}: ${display}`,
        findings,
        { ready: null, correct: null, command: null },
        t0,
      );
    }
    run = r;
    running.push(r);
  } else {
    const r = await call(agent, {
      method: a.method,
      url: a.url,
      headers: a.headers,
      ...(a.body !== undefined ? { body: a.body } : {}),
      timeoutMs: Math.max(1, deadline - performance.now()),
      signal: ctx.signal,
    });
    commandMs = r.ms;
    const ok = r.status >= 200 && r.status < 300;
    findings.push({
      status: ok ? 'pass' : 'error',
      what: `${display} → ${r.status === 0 ? r.error : `HTTP ${r.status}`} in ${secs(r.ms)}`,
      ...(ok ? {} : { evidence: ctx.redact(r.body.slice(0, 300)) }),
    });
    if (!ok)
      return checkResult(
        id,
        `${id === 'deploy.apply' ? 'deploy' : 'rollback'}: ${display}`,
        findings,
        { ready: null, correct: null, command: commandMs },
        t0,
      );
  }
  let readyMs: number | null = null;
  let correctMs: number | null = null;
  let lastReady = 'not polled yet';
  let lastWrong: string | null = null;
  while (!ctx.signal.aborted && performance.now() < deadline) {
    if (run?.exit && run.exit.code !== 0) break;
    const left = Math.max(1, deadline - performance.now());
    if (readyMs === null) {
      const r = await call(agent, {
        method: 'GET',
        url: p.readyUrl,
        headers: p.headers,
        timeoutMs: Math.min(left, 5000),
        signal: ctx.signal,
      });
      lastReady = r.status === 0 ? (r.error ?? 'no answer') : `HTTP ${r.status}`;
      if (r.status >= 200 && r.status < 300) readyMs = since();
    }
    if (readyMs !== null) {
      lastWrong = null;
      for (const input of p.inputs) {
        lastWrong = await judgeInput(agent, input, ctx, Math.min(left, 10_000));
        if (lastWrong !== null) break;
      }
      if (lastWrong === null) {
        correctMs = since();
        break;
      }
    }
    await pause(Math.min(p.pollMs, Math.max(0, deadline - performance.now())), ctx.signal);
  }
  if (run?.exit) commandMs = run.exit.atMs;
  const stopped = ctx.signal.aborted ? ' (stopped)' : '';
  if (run) {
    const e = run.exit;
    const failedCmd = e !== undefined && e.code !== 0;
    findings.push({
      status: failedCmd ? 'fail' : 'pass',
      what: e
        ? `\`${display}\` exited ${e.code ?? e.signal} after ${secs(e.atMs)}`
        : `\`${display}\` still running after ${secs(since())}`,
      ...(run.output.trim() ? { evidence: ctx.redact(tail(run.output)) } : {}),
    });
  }
  const readyPath = new URL(p.readyUrl).pathname;
  findings.push(
    readyMs !== null
      ? { status: 'pass', what: `ready (GET ${readyPath} → 2xx) after ${secs(readyMs)}` }
      : {
          status: 'fail',
          what: `not ready within ${secs(phase.timeoutMs)}${stopped}: GET ${readyPath} → ${ctx.redact(lastReady)}`,
        },
  );
  if (p.inputs.length > 0 && readyMs !== null)
    findings.push(
      correctMs !== null
        ? { status: 'pass', what: `correct on ${p.inputs.length} known input(s) after ${secs(correctMs)}` }
        : {
            status: 'fail',
            what: `not correct within ${secs(phase.timeoutMs)}${stopped}`,
            evidence: lastWrong ?? undefined,
          },
    );
  if (p.inputs.length === 0) correctMs = readyMs;
  const round = (x: number | null) => (x === null ? null : Math.round(x));
  return checkResult(
    id,
    `${id === 'deploy.apply' ? 'deploy' : 'rollback'}: ${display}`,
    findings,
    { ready: round(readyMs), correct: round(correctMs), command: round(commandMs) },
    t0,
  );
}

export const deployKind: CheckKind<'deploy'> = {
  kind: 'deploy',
  describe: (p) =>
    `deploy${p.rollback ? ' and rollback' : ''}, then poll ${new URL(p.readyUrl).pathname}${p.inputs.length ? ` and ${p.inputs.length} known input(s)` : ''}`,
  async run(p, ctx) {
    const agent = checkAgent(ctx.plan.target.tls);
    const running: Running[] = [];
    try {
      const out = [await runPhase('deploy.apply', p.deploy, p, ctx, agent, running)];
      if (p.rollback && !ctx.signal.aborted)
        out.push(await runPhase('deploy.rollback', p.rollback, p, ctx, agent, running));
      return out;
    } finally {
      await Promise.all(running.map(stopCommand));
      await agent.close();
    }
  },
};
