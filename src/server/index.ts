/** The reference model server (`preflight serve`, `preflight demo`, integration tests, benchmarks). */
export { startServer, resolveModelModule, SERVER_NAME, OUTPUT_NAME } from './server.js';
export type { ServerHandle } from './server.js';
export { serve } from './serve.js';
export {
  parseServeArgs,
  resolveOptions,
  parseDurationMs,
  SERVE_USAGE,
  DEFAULT_SERVE_PORT,
  NO_FAULTS,
} from './options.js';
export type { ServerOptions, ResolvedServerOptions, FaultOptions } from './options.js';
export { SYSTEM_FINGERPRINT, countTokens, simulatedTokens } from './llm-sim.js';
export { EXPOSITION_CONTENT_TYPE } from './metrics.js';
export type { LinearModelOptions } from './linear-model.js';
