/**
 * `preflight serve` and `node dist/src/server/main.js`: one implementation. Parses the flags, starts the
 * server, prints `listening on URL` as the first stdout line (scripts and tests wait for it) and a
 * description on stderr, and stops cleanly on SIGINT / SIGTERM / SIGHUP.
 */
import { parseServeArgs, SERVE_USAGE } from './options.js';
import { startServer } from './server.js';

/** Runs the server until a signal; resolves to the exit code (0). Bad flags throw PreflightError E_ARGS. */
export async function serve(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  const server = await startServer(parseServeArgs([...argv]));
  process.stdout.write(`listening on ${server.url}\n`);
  const m = server.model;
  process.stderr.write(
    `preflight reference server: model ${m.infos[0]?.name ?? 'digits'} versions ${m.infos.map((i) => i.version).join(', ')} ` +
      `(${m.fallback ? 'FALLBACK linear model, accuracy meaningless' : (m.infos[0]?.platform ?? 'unknown')}), serving ${server.version}\n`,
  );
  const sc = server.scaling().options;
  if (sc)
    process.stderr.write(
      `scaling mode: ${sc.min}–${sc.max} instances, target queue ${sc.targetQueue} per instance, up after ${sc.upAfterMs / 1000} s, ` +
        `start-up delay ${sc.startDelayMs / 1000} s, cooldown ${sc.cooldownMs / 1000} s, every ${sc.tickMs / 1000} s` +
        ` (decisions: GET /admin/scaling with --admin; preflight_server_instances on /metrics)\n`,
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
