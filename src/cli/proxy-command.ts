/**
 * `preflight proxy --upstream host:port [--listen 127.0.0.1:0] [--api 127.0.0.1:8474] [--toxic …]…
 * [--duration 1h] [--name preflight]`: a fault proxy in front of a target, with the toxics given and,
 * if asked, the Toxiproxy-compatible API to change them while it runs. Runs until Ctrl-C / SIGTERM
 * or the duration (at most 24 h), then removes every fault and closes every port.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { tryParseDuration } from '../core/duration.js';
import { PreflightError, type Problem } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import {
  faultProxyFactory,
  parseHostPort,
  parseToxicFlag,
  startToxiproxyApi,
  type ToxicJson,
  ToxiproxyApiError,
  type ToxiproxyApiServer,
  ToxiproxyRegistry,
} from '../faults/index.js';
import { toolVersion } from '../run/summary.js';
import { paint, useColor } from './format.js';
import { withInterrupt } from './interrupt.js';

const MAX_DURATION_MS = 24 * 3_600_000;

export async function proxyCommand(argv: string[]): Promise<number> {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        upstream: { type: 'string' },
        listen: { type: 'string', default: '127.0.0.1:0' },
        api: { type: 'string' },
        toxic: { type: 'string', multiple: true, default: [] },
        duration: { type: 'string', default: '1h' },
        name: { type: 'string', default: 'preflight' },
      },
    }));
  } catch (e) {
    throw new PreflightError('E_ARGS', `${(e as Error).message}. See preflight --help.`);
  }
  const problems: Problem[] = [];
  const upstream = values.upstream as string | undefined;
  if (upstream === undefined)
    problems.push({
      file: '<args>',
      path: '--upstream',
      message: 'missing --upstream',
      hint: 'the target as host:port, e.g. --upstream 127.0.0.1:8000',
    });
  else if (!parseHostPort(upstream)?.host)
    problems.push({
      file: '<args>',
      path: '--upstream',
      message: `"${upstream}" is not host:port`,
      hint: 'e.g. 127.0.0.1:8000 or [::1]:8000',
    });
  const d = tryParseDuration(values.duration as string);
  if (!d.ok) problems.push({ file: '<args>', path: '--duration', message: d.message, hint: d.hint });
  else if (d.value <= 0 || d.value > MAX_DURATION_MS)
    problems.push({
      file: '<args>',
      path: '--duration',
      message: `--duration must be more than 0 and at most 24h, got ${values.duration}`,
    });
  const toxics: ToxicJson[] = [];
  (values.toxic as string[]).forEach((text, i) => {
    const r = parseToxicFlag(text, `--toxic[${i + 1}]`);
    if (r.ok && toxics.some((t) => t.name === r.toxic.name))
      problems.push({
        file: '<args>',
        path: `--toxic[${i + 1}].name`,
        message: `two toxics named ${r.toxic.name}`,
        hint: `give each its own name, e.g. --toxic '${text},name=${r.toxic.type}_2'`,
      });
    else if (r.ok) toxics.push(r.toxic);
    else problems.push(...r.problems.map((p) => ({ file: '<args>', ...p })));
  });
  if (problems.length)
    throw new PreflightError(
      'E_ARGS',
      `proxy: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the arguments`,
      { problems },
    );

  const name = values.name as string;
  const out = process.stdout;
  const c = paint(useColor(process.stderr));
  const registry = new ToxiproxyRegistry(faultProxyFactory());
  const opened: { api?: ToxiproxyApiServer } = {};
  try {
    // Signals are handled from the start: a Ctrl-C while the ports open still closes them.
    const interrupted = await withInterrupt(
      'the proxy',
      async (signal) => {
        const proxy = await asArgs(() => registry.create({ name, listen: values.listen, upstream }), '--listen');
        for (const t of toxics) await asArgs(() => registry.addToxic(name, t), '--toxic');
        if (values.api !== undefined)
          opened.api = await startToxiproxyApi({
            registry,
            listen: values.api as string,
            preflightVersion: toolVersion(),
          });
        out.write(`proxy ${name} listening on ${proxy.listen} → ${proxy.upstream}\n`);
        if (opened.api) out.write(`toxiproxy api on ${opened.api.url}\n`);
        for (const t of toxics)
          out.write(
            `toxic ${t.name}: ${t.type} ${Object.entries(t.attributes)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')} ${t.stream} toxicity ${t.toxicity}${t.toxicity_per === 'request' ? ' per request' : ''}\n`,
          );
        if (!(await reachable(upstream!)))
          process.stderr.write(c.yellow(`warning: the upstream ${upstream} does not accept connections (yet)\n`));
        process.stderr.write(c.dim(`Ctrl-C to stop (stops by itself after ${values.duration})\n`));
        return new Promise<boolean>((resolve) => {
          if (signal.aborted) return resolve(true);
          const timer = setTimeout(() => resolve(false), (d as { value: number }).value);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve(true);
          });
        });
      },
      'removing every fault',
    );
    return interrupted ? ExitCode.Interrupted : ExitCode.Passed;
  } finally {
    await opened.api?.close();
    const closed = await registry.close();
    if (closed.proxies > 0)
      process.stderr.write(
        c.dim(
          `removed ${closed.toxics} toxic${closed.toxics === 1 ? '' : 's'}, closed ${closed.proxies} prox${closed.proxies === 1 ? 'y' : 'ies'}\n`,
        ),
      );
  }
}

/** An API refusal (bad listen address, port in use) as an argument error with its problems. */
async function asArgs<T>(fn: () => Promise<T>, flag: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof ToxiproxyApiError)) throw e;
    const problems = e.problems.length
      ? e.problems.map((p) => ({ file: '<args>', ...p, path: p.path ? `--${p.path}` : flag })) // listen, upstream, name
      : [{ file: '<args>', path: flag, message: e.message }];
    throw new PreflightError('E_ARGS', `proxy: cannot start: ${problems[0].message}`, { problems });
  }
}

/** Whether host:port accepts a TCP connection within a second (a warning only: it may start later). */
function reachable(address: string): Promise<boolean> {
  const a = parseHostPort(address)!;
  return new Promise((resolve) => {
    const s = net.connect({ host: a.host, port: a.port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
