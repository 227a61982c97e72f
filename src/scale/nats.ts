/**
 * NATS JetStream plumbing shared by the coordinator and the workers: connecting (retrying until a
 * deadline: in a cluster the server may come up after the pods), the run's stream (created by
 * whichever process comes first), acknowledged publishing with retries, and the clock used for
 * offsets (epoch ms with sub-ms resolution).
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { PreflightError } from '../core/errors.js';
import { subjects } from './protocol.js';

/** Wall-clock time in ms since the epoch, with the resolution of the monotonic clock. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

export interface Nats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** Connects, retrying until `deadlineMs` from now; a clear error (E_SCALE_OUT) when it cannot. */
export async function connectNats(url: string, deadlineMs: number, signal?: AbortSignal): Promise<Nats> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  for (let attempt = 0; Date.now() < until && !signal?.aborted; attempt++) {
    try {
      const nc = await connect({
        servers: url,
        name: `preflight-${process.pid}`,
        timeout: Math.max(500, Math.min(5000, until - Date.now())),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
      });
      return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
    } catch (e) {
      last = e;
      await sleep(Math.min(2000, 200 * 2 ** attempt));
    }
  }
  throw new PreflightError(
    'E_SCALE_OUT',
    `cannot connect to NATS at ${url}: ${(last as Error)?.message ?? 'gave up'}`,
    {
      problems: [
        {
          message: 'scale-out runs exchange windows through a NATS server with JetStream enabled',
          hint: 'start one (nats-server -js), and pass its URL with --nats or PREFLIGHT_NATS_URL',
        },
      ],
    },
  );
}

/** The run's stream (file storage, kept a day): created if missing; another process may race us to it. */
export async function ensureStream(jsm: JetStreamManager, run: string): Promise<void> {
  const s = subjects(run);
  try {
    await jsm.streams.info(s.stream);
    return;
  } catch {
    // not there yet
  }
  try {
    await jsm.streams.add({ name: s.stream, subjects: [s.all], max_age: 24 * 3600 * 1e9 });
  } catch (e) {
    // Created meanwhile by another process: fine.
    try {
      await jsm.streams.info(s.stream);
    } catch {
      throw new PreflightError(
        'E_SCALE_OUT',
        `cannot create the JetStream stream ${s.stream}: ${(e as Error).message}`,
        {
          problems: [{ message: 'is JetStream enabled on the NATS server?', hint: 'run nats-server with -js' }],
        },
      );
    }
  }
}

/**
 * Acknowledged publishes, one after another (in order: a shard's windows before its `done`),
 * each retried until it is stored; `msgID` lets JetStream drop a retry it had stored already.
 * A publish that still fails after `attempts` rejects `failed` (the worker then exits non-zero).
 */
export class Publisher {
  private chain: Promise<void> = Promise.resolve();
  private error: Error | null = null;
  /** Bytes and messages published. */
  bytes = 0;
  messages = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly attempts = 20,
  ) {}

  publish(subject: string, data: Uint8Array, msgID?: string): Promise<void> {
    const p = this.chain.then(async () => {
      if (this.error) throw this.error;
      for (let i = 1; ; i++) {
        try {
          await this.js.publish(subject, data, msgID === undefined ? { timeout: 5000 } : { msgID, timeout: 5000 });
          this.bytes += data.byteLength;
          this.messages++;
          return;
        } catch (e) {
          if (i >= this.attempts) {
            this.error = new Error(`publishing to ${subject} failed ${i} times: ${(e as Error).message}`);
            throw this.error;
          }
          await sleep(Math.min(2000, 100 * 2 ** i));
        }
      }
    });
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Resolves when everything published so far is stored (rejects if any publish failed for good). */
  async drained(): Promise<void> {
    await this.chain;
    if (this.error) throw this.error;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
