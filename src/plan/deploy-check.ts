/**
 * `checks.deploy` (docs/checks.md#deploy): run the user's deploy command (or an HTTP call), poll the
 * target until it is ready (first 2xx) and then until it answers known inputs correctly; the same for
 * an optional rollback. Run by src/checks/deploy.ts.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join as joinPath } from 'node:path';
import type { CheckBuildContext, CheckKindSyntax } from './check-kinds.js';
import { parseCheck } from './checks.js';
import { join } from './spec.js';
import type { FieldSpec, ObjectSpec, Raw, Walker } from './spec.js';

/** How a phase is started: a command (argv; a shell string runs as `/bin/sh -c`) or an HTTP call. */
export type DeployAction =
  | { kind: 'command'; argv: string[]; display: string }
  | { kind: 'http'; method: string; url: string; headers: Record<string, string>; body?: string };

/** A known input and what a correct answer looks like (the response-check grammar). */
export interface DeployInput {
  method: string;
  /** Full URL. */
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** Response checks (the grammar of scenario `checks`, validated here; compiled by src/protocols when run). */
  expect: string[];
}

export interface DeployPhase {
  action: DeployAction;
  /** The whole phase (command, ready, correct) is bounded by this, from the start of the action. */
  timeoutMs: number;
}

export interface DeployCheckPlan {
  deploy: DeployPhase;
  rollback?: DeployPhase;
  /** Full URL polled for readiness (first 2xx). */
  readyUrl: string;
  headers: Record<string, string>;
  inputs: DeployInput[];
  pollMs: number;
}

const commandLine: FieldSpec = {
  t: 'union',
  expected: 'a shell command line (string) or a list of arguments (no shell)',
  description:
    'The command: a string runs with /bin/sh -c (pipes, &&, env vars), a list runs without a shell, e.g. [kubectl, apply, -f, model.yaml].',
  string: { t: 'string', nonEmpty: true, coerce: false },
  seq: { t: 'array', minItems: 1, items: { t: 'string', nonEmpty: true } },
};

const headersSpec: FieldSpec = {
  t: 'map',
  what: 'headers',
  lowerCaseKeys: true,
  values: { t: 'string', headerValue: true },
  description: 'HTTP headers.',
};

const httpCall: FieldSpec = {
  t: 'object',
  what: 'http call',
  description: 'An HTTP call instead of a command (e.g. a deployment API).',
  fields: {
    method: { t: 'string', default: 'POST', pattern: /^[A-Za-z]+$/, description: 'HTTP method.' },
    url: {
      t: 'string',
      required: true,
      pattern: /^https?:\/\/[^\s/?#]+(\/[^\s#]*)?$/,
      patternMessage: 'expected an http:// or https:// URL',
      description: 'Full URL of the call.',
    },
    headers: headersSpec,
    body: { t: 'string', coerce: false, description: 'Literal request body.' },
  },
};

const phaseFields = (what: string): Record<string, FieldSpec> => ({
  command: { ...commandLine, description: `${what}: ${commandLine.description}` },
  http: httpCall,
  timeout: {
    t: 'duration',
    positive: true,
    default: '5m',
    description: 'Bound on the whole phase (command, ready, correct), from its start (at most 1h).',
  },
});

const spec: ObjectSpec = {
  t: 'object',
  what: 'deploy check',
  description:
    'Runs the deploy command (or HTTP call), then polls until the target is ready and answers `inputs` correctly; the same for `rollback`.',
  fields: {
    ...phaseFields('The deploy'),
    ready: {
      t: 'string',
      pattern: /^\//,
      patternMessage: 'expected a path starting with `/`',
      description: 'Path polled until it answers 2xx (default: target.ready, else /).',
    },
    inputs: {
      t: 'array',
      minItems: 1,
      keepHoles: true,
      description: 'Known inputs: a request and the checks a correct answer passes (status, $.path == value, …).',
      items: {
        t: 'object',
        what: 'known input',
        fields: {
          request: {
            t: 'object',
            what: 'request',
            required: true,
            fields: {
              method: { t: 'string', default: 'POST', pattern: /^[A-Za-z]+$/, description: 'HTTP method.' },
              path: {
                t: 'string',
                required: true,
                pattern: /^\//,
                patternMessage: 'expected a path starting with `/`',
                description: 'Path on the target.',
              },
              headers: headersSpec,
              body: { t: 'string', coerce: false, description: 'Literal body.' },
              json: { t: 'any', description: 'Body as JSON (sets content-type: application/json).' },
            },
          },
          expect: {
            t: 'array',
            minItems: 1,
            keepHoles: true,
            description: 'Response checks, e.g. ["status == 200", "$.outputs[0].data[0] == 7"] (default: a 2xx).',
            items: { t: 'string', nonEmpty: true, coerce: false },
          },
        },
      },
    },
    poll: { t: 'duration', positive: true, default: '250ms', description: 'Pause between readiness polls.' },
    rollback: {
      t: 'object',
      what: 'rollback',
      description: 'Run after the deploy phase: time to ready and to correct again.',
      fields: phaseFields('The rollback'),
    },
  },
};

/** Shell words that are not programs on PATH. */
const SHELL_WORDS = new Set(
  'exec cd export set unset eval source . : true false test [ if for while until case { ( ! command trap wait read ulimit umask'.split(
    ' ',
  ),
);

/** Where `program` is found (an absolute or relative path as given, else the first PATH folder holding it). */
export function findProgram(program: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes('/')) return executable(program) ? program : undefined;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = joinPath(dir, program);
    if (executable(p)) return p;
  }
  return undefined;
}

function buildAction(w: Walker, raw: Raw, path: string, ctx: CheckBuildContext): DeployAction | undefined {
  const has = (k: string) => w.has(join(path, k));
  if (has('command') && has('http')) {
    w.problemAt(join(path, 'http'), 'give `command` or `http`, not both', undefined, 'key');
    return undefined;
  }
  if (!has('command') && !has('http')) {
    w.problemAt(
      path,
      `\`${path}\` needs \`command\` (a shell line or a list of arguments) or \`http\` (a call)`,
      'e.g. command: "kubectl apply -f model.yaml && kubectl rollout status deploy/model"',
      'key',
    );
    return undefined;
  }
  const c = raw['command'];
  if (typeof c === 'string') {
    // A shell line: its first word must be a program (unless it is the shell's own word, or a variable).
    // (Not profile.ts's splitCommand: plan/profile imports syntax, which imports this file.)
    const first = /^\s*([^\s;&|<>()'"`$]+)(?=\s|$)/.exec(c)?.[1];
    if (first !== undefined && !SHELL_WORDS.has(first) && /^[A-Za-z0-9_./+-]+$/.test(first) && !/=/.test(first)) {
      if (!findProgram(first))
        w.problemAt(
          join(path, 'command'),
          `program \`${first}\` not found on PATH`,
          isAbsolute(first) || first.includes('/')
            ? 'check the path (it must be an executable file)'
            : 'install it, or give its full path',
        );
    }
    return { kind: 'command', argv: ['/bin/sh', '-c', c], display: c };
  }
  if (Array.isArray(c)) {
    const argv = c.map(String);
    if (!findProgram(argv[0]))
      w.problemAt(
        join(join(path, 'command'), 0),
        `program \`${argv[0]}\` not found on PATH`,
        argv[0].includes('/') ? 'check the path (it must be an executable file)' : 'install it, or give its full path',
      );
    return { kind: 'command', argv, display: argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ') };
  }
  const h = raw['http'] as Raw | undefined;
  if (!h || typeof h['url'] !== 'string') return undefined;
  const headers = { ...((h['headers'] ?? {}) as Record<string, string>) };
  ctx.sensitiveHeaders(join(join(path, 'http'), 'headers'), headers);
  return {
    kind: 'http',
    method: String(h['method'] ?? 'POST').toUpperCase(),
    url: h['url'],
    headers,
    ...(typeof h['body'] === 'string' ? { body: h['body'] } : {}),
  };
}

const MAX_PHASE_MS = 3_600_000;

function buildPhase(w: Walker, raw: Raw, path: string, ctx: CheckBuildContext): DeployPhase | undefined {
  const action = buildAction(w, raw, path, ctx);
  const timeoutMs = (raw['timeout'] as number | undefined) ?? 300_000;
  if (timeoutMs > MAX_PHASE_MS) w.problemAt(join(path, 'timeout'), 'a deploy phase is bounded by at most 1h');
  return action ? { action, timeoutMs } : undefined;
}

function build(w: Walker, raw: Raw, path: string, ctx: CheckBuildContext): DeployCheckPlan | undefined {
  const deploy = buildPhase(w, raw, path, ctx);
  const rr = raw['rollback'] as Raw | undefined;
  const rollback = rr ? buildPhase(w, rr, join(path, 'rollback'), ctx) : undefined;
  const base = ctx.target.url.replace(/\/+$/, '');
  const inputs: DeployInput[] = [];
  ((raw['inputs'] ?? []) as unknown[]).forEach((item, i) => {
    const ip = join(join(path, 'inputs'), i);
    const r = (item as Raw | undefined)?.['request'] as Raw | undefined;
    if (!r || typeof r['path'] !== 'string') return;
    const headers = { ...ctx.target.headers, ...((r['headers'] ?? {}) as Record<string, string>) };
    let body = typeof r['body'] === 'string' ? r['body'] : undefined;
    if (r['json'] !== undefined) {
      if (body !== undefined)
        w.problemAt(join(ip, 'request.json'), 'give `body` or `json`, not both', undefined, 'key');
      body = JSON.stringify(r['json']);
      if (headers['content-type'] === undefined) headers['content-type'] = 'application/json';
    }
    const expect = (((item as Raw)['expect'] ?? []) as unknown[]).filter((e): e is string => typeof e === 'string');
    expect.forEach((e, j) => {
      const p = parseCheck(e);
      if (!p.ok) w.problemAt(join(join(ip, 'expect'), j), `check \`${e}\`: ${p.message}`, p.hint);
    });
    inputs.push({
      method: String(r['method'] ?? 'POST').toUpperCase(),
      url: base + r['path'],
      headers,
      ...(body !== undefined ? { body } : {}),
      expect,
    });
  });
  if (!deploy) return undefined;
  const ready = (raw['ready'] as string | undefined) ?? ctx.target.readyPath ?? '/';
  return {
    deploy,
    ...(rollback ? { rollback } : {}),
    readyUrl: base + ready,
    headers: ctx.target.headers,
    inputs,
    pollMs: raw['poll'] ?? 250,
  };
}

export const deployCheckSyntax: CheckKindSyntax<DeployCheckPlan> = {
  spec,
  figures: {
    'deploy.apply': { ready: 'ms', correct: 'ms', command: 'ms' },
    'deploy.rollback': { ready: 'ms', correct: 'ms', command: 'ms' },
  },
  build,
};
