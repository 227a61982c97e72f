/**
 * Test support: a proxy factory whose proxies are real TCP pipes (the plain pipe) that record the
 * faults they are given, so tests drive the Toxiproxy API with a real client over real sockets and
 * check what the proxy was asked to apply.
 */
import type { Fault, FaultInjector } from '../core/faults.js';
import { type FaultProxyFactory, startPipeProxy } from './toxiproxy-api-pipe.js';

export interface RecordingInjector extends FaultInjector {
  /** The faults applied now, in the order they were added. */
  active(): Fault[];
  /** Every call, in order: `add <name>`, `remove <name>`, `reset`, `close`. */
  readonly calls: string[];
}

export function recordingFactory(): { factory: FaultProxyFactory; proxies: RecordingInjector[] } {
  const proxies: RecordingInjector[] = [];
  const factory: FaultProxyFactory = async (listen, upstream) => {
    const inner = await startPipeProxy(listen, upstream);
    const faults = new Map<string, Fault>();
    const calls: string[] = [];
    const rec: RecordingInjector = {
      url: inner.url,
      add(f) {
        const id = inner.add(f);
        faults.set(id, f);
        calls.push(`add ${f.name}`);
        return id;
      },
      remove(id) {
        calls.push(`remove ${faults.get(id)?.name ?? id}`);
        faults.delete(id);
        inner.remove(id);
      },
      reset() {
        calls.push('reset');
        faults.clear();
        inner.reset();
      },
      counts: () => inner.counts(),
      close() {
        calls.push('close');
        faults.clear();
        return inner.close();
      },
      active: () => [...faults.values()],
      calls,
    };
    proxies.push(rec);
    return rec;
  };
  return { factory, proxies };
}
