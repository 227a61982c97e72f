#!/usr/bin/env node
/**
 * Standalone entry of the reference server, for tests and benchmarks that want it in its own process:
 *   node dist/src/server/main.js --port 0 [serve flags…]
 * The first stdout line is `listening on http://HOST:PORT`. SIGINT / SIGTERM / SIGHUP stop it cleanly (exit 0).
 * Bad flags: message on stderr, exit 2; failure to start: exit 1.
 */
import { PreflightError, formatProblem } from '../core/errors.js';
import { parseServeArgs, SERVE_USAGE } from './options.js';
import { startServer } from './server.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const opts = parseServeArgs(argv);
  const server = await startServer(opts);
  process.stdout.write(`listening on ${server.url}\n`);
  const m = server.model;
  process.stderr.write(
    `preflight reference server: model ${m.infos[0]?.name ?? 'digits'} versions ${m.infos.map((i) => i.version).join(', ')} ` +
      `(${m.fallback ? 'FALLBACK linear model, accuracy meaningless' : m.infos[0]?.platform ?? 'unknown'}), serving ${server.version}\n`,
  );
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      void server.close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop); // a closed terminal: close cleanly, like Ctrl-C
  });
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof PreflightError) {
      process.stderr.write(`preflight serve: ${e.message}\n`);
      for (const p of e.problems) process.stderr.write(`  ${formatProblem(p)}\n`);
      process.exitCode = e.exitCode;
    } else {
      process.stderr.write(`preflight serve: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    }
  },
);
