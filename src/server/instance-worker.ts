/**
 * One model instance: a worker thread that loads every model version from the model module and runs
 * the batches the batcher sends it, one at a time. Compute happens here, off the HTTP thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadedModel } from '../model/types.js';
import type { WorkerData, ToWorker, FromWorker } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('instance-worker must run in a worker thread');

const data = workerData as WorkerData;
const models = new Map<string, LoadedModel>();

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(m, transfer);
}

async function init(): Promise<void> {
  try {
    const mod = (await import(data.modelModule)) as { loadModel?: (v: string, o?: unknown) => Promise<LoadedModel> };
    if (typeof mod.loadModel !== 'function') throw new Error(`${data.modelModule} does not export loadModel`);
    for (const v of data.versions) models.set(v, await mod.loadModel(v, data.modelOptions));
    post({ type: 'ready', infos: [...models.values()].map((m) => m.info) });
  } catch (e) {
    post({ type: 'fatal', message: e instanceof Error ? e.message : String(e) });
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'run') {
    const model = models.get(m.version);
    if (!model) {
      post({ type: 'fail', id: m.id, message: `version ${m.version} not loaded` });
      return;
    }
    const t0 = performance.now();
    model.predict(m.input, m.batch).then(
      (out) => {
        const reply = () => {
          const computeUs = Math.round((performance.now() - t0) * 1000);
          // Always copy: runtimes may return views of memory they own (or reuse), which must not be transferred.
          const owned = out.slice();
          post({ type: 'done', id: m.id, output: owned, computeUs }, [owned.buffer as ArrayBuffer]);
        };
        // A simulated heavier model: the instance stays busy (takes no other batch) for the configured time.
        const wait = data.computeTimeMs - (performance.now() - t0);
        if (wait > 0) setTimeout(reply, wait);
        else reply();
      },
      (e: unknown) => post({ type: 'fail', id: m.id, message: e instanceof Error ? e.message : String(e) }),
    );
  } else if (m.type === 'close') {
    void Promise.allSettled([...models.values()].map((x) => x.close())).then(() => {
      port.close();
    });
  }
});

void init();
