#!/usr/bin/env node
/**
 * Standalone entry of the reference server (what `preflight serve` runs, without the CLI), for tests and
 * benchmarks that want it in its own process:
 *   node dist/src/server/main.js --port 0 [serve flags…]
 * The first stdout line is `listening on http://HOST:PORT`. SIGINT / SIGTERM / SIGHUP stop it cleanly (exit 0).
 * Bad flags: message on stderr, exit 2; failure to start: exit 1.
 */
import { PreflightError, formatProblem } from '../core/errors.js';
import { serve } from './serve.js';

serve(process.argv.slice(2)).then(
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
