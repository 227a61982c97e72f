/**
 * Upper (and a few lower) bounds on plan values: far beyond what a serious plan asks for, but they
 * stop absurd ones (`999999M/s`, `concurrency: 100000000`, `interval: 1us`) at validation instead
 * of in the middle of a run. Documented in docs/plan.md ("Limits").
 */
import { formatDuration } from './units.js';

export const LIMITS = {
  /** Any rate (scenario, stage, profile), requests per second. */
  ratePerS: 1_000_000,
  /** Any duration, ms (7 days). */
  durationMs: 7 * 24 * 3_600_000,
  /** Requests in flight: concurrency, vus, startConcurrency, stage and level concurrencies, maxInFlight. */
  inFlight: 100_000,
  /** Keep-alive connections of a target or scenario. */
  connections: 10_000,
  /** Worker threads (as `run --workers`). */
  workers: 64,
  /** Shortest metrics window, ms. */
  intervalMinMs: 100,
} as const;

export const LIMIT_HINTS = {
  rate: `Preflight sends at most ${LIMITS.ratePerS.toLocaleString('en-US')} requests/s from one process (one machine reaches far less); split a larger load over several machines`,
  duration: `runs last at most ${formatDuration(LIMITS.durationMs)}; split a longer soak into several runs`,
  inFlight: `each request in flight holds a socket and memory: more than ${LIMITS.inFlight.toLocaleString('en-US')} is beyond one machine; split the load over several machines`,
  connections: `each connection is a socket (open files: ulimit -n; about 28k ephemeral ports per target address)`,
  workers: 'as `run --workers`: 1–64; more threads than cores only adds overhead',
  interval: `windows shorter than ${LIMITS.intervalMinMs} ms are mostly timer jitter; the default is 1s`,
} as const;
