/**
 * Segments for scale-out: N worker processes × T threads are N·T shards of one run (worker w's
 * thread t is shard w·T + t of N·T). Property: the union of what every shard sends is exactly what
 * one process sends — the same intended times, the same data rows and traffic-mix models per
 * request, no request twice, none missing — and it is reproducible from the seed. The real
 * executors and adapters run here against a recording runtime (no network): open-model schedules
 * (uniform, Poisson, bursty, ramping), replay, data orders and batch sizes, traffic mixes, and the
 * closed model's users and iteration budgets.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { WireRequest } from '../../core/types.js';
import { parsePlan } from '../../plan/index.js';
import type { Plan, ScenarioPlan } from '../../plan/types.js';
import { createAdapter } from '../../protocols/index.js';
import { nowNs } from '../clock.js';
import type { RequestOwner, ScenarioRuntime } from '../scenario-runtime.js';
import { shareOf } from './closed-model.js';
import { createExecutor, type Shard } from './index.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-segments-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(
  path.join(dir, 'rows.csv'),
  `id,text\n${Array.from({ length: 37 }, (_, i) => `${i},r${i}`).join('\n')}\n`,
);
// A trace with uneven gaps and a row column that is not in time order.
fs.writeFileSync(
  path.join(dir, 'trace.csv'),
  `timestamp,row\n${Array.from({ length: 150 }, (_, i) => `${(i * 0.013 + (i % 7) * 0.001).toFixed(4)},${(i * 11) % 37}`).join('\n')}\n`,
);

const REQ = 'protocol: http, request: { method: POST, path: "/m/{{id}}", body: "{{text}}" }';
const DATA = (order: string, batch = '1') => `data: { file: rows.csv, order: ${order}, batch: ${batch} }`;

function plan(scenario: string, seed = 7): Plan {
  return parsePlan(
    `target: { url: http://127.0.0.1:9 }\noptions: { seed: ${seed} }\nscenarios:\n  s: { ${scenario} }\n`,
    {
      baseDir: dir,
    },
  );
}

interface Sent {
  /** Intended time relative to the start (ns). */
  t: number;
  seq: number;
  req: WireRequest;
}

/**
 * Runs scenario 0 of `p` as shard `shard` with the real executor and adapter; `send` records. Open
 * models start far in the past, so every arrival is due at once and goes out in one synchronous pass
 * (the schedule, not the clock, decides what is sent). Closed-model requests complete on the next
 * turn of the event loop.
 */
async function drive(p: Plan, shard: Shard): Promise<Sent[]> {
  const sc = p.scenarios[0] as ScenarioPlan;
  const seed = p.options.seed; // shard.ts: plan seed + scenario index · 7919, identical in every shard
  const adapter = await createAdapter(sc, p, { shard, seed });
  const sent: Sent[] = [];
  const closed = sc.executor.endsWith('concurrency') || sc.executor === 'iterations';
  const start = closed ? nowNs() : nowNs() - 1e13;
  const rt = {
    plan: sc,
    inFlight: 0,
    abortAll() {},
    send(intendedNs: number, seq: number, owner: RequestOwner) {
      sent.push({ t: intendedNs - start, seq, req: adapter.request(seq) });
      if (!closed) return;
      rt.inFlight++;
      setImmediate(() => {
        rt.inFlight--;
        owner.onRequestDone();
      });
    },
  };
  const ex = createExecutor(rt as unknown as ScenarioRuntime, shard, seed);
  await ex.run(start);
  return sent;
}

/** Shards of N workers × T threads, as (worker, thread) → global shard. */
function layouts(): Array<{ n: number; t: number; shards: Shard[] }> {
  const out = [];
  for (const n of [1, 2, 3, 4])
    for (const t of [1, 2, 3]) {
      const shards: Shard[] = [];
      for (let w = 0; w < n; w++) for (let k = 0; k < t; k++) shards.push({ index: w * t + k, count: n * t });
      out.push({ n, t, shards });
    }
  return out;
}

const strip = (r: WireRequest) => ({ path: r.path, body: r.body?.toString(), group: r.group });

/** Every shard's sends, put at their global index (shard k's request seq is arrival k + seq·count). */
async function union(p: Plan, shards: Shard[]): Promise<Map<number, Sent>> {
  const all = new Map<number, Sent>();
  for (const s of shards)
    for (const x of await drive(p, s)) {
      const idx = s.index + x.seq * s.count;
      assert.ok(!all.has(idx), `arrival ${idx} sent twice (shard ${s.index}/${s.count})`);
      all.set(idx, x);
    }
  return all;
}

/**
 * Replay with a `row` column: the request for row r is sequence ⌊r / count⌋ of shard r mod count
 * (so the data layer gives it row r), and a row may come back in the trace: compare what is sent,
 * in time order.
 */
async function assertRowKeyedEqualSingle(p: Plan, label: string): Promise<void> {
  const key = (x: Sent) => `${x.t.toFixed(0)} ${JSON.stringify(strip(x.req))}`;
  const single = (await drive(p, { index: 0, count: 1 })).map(key).sort();
  assert.ok(single.length > 20);
  for (const { n, t, shards } of layouts()) {
    const all: string[] = [];
    for (const s of shards) for (const x of await drive(p, s)) all.push(key(x));
    assert.deepEqual(all.sort(), single, `${label}, ${n} workers × ${t} threads`);
  }
}

async function assertSegmentsEqualSingle(p: Plan, label: string): Promise<number> {
  const single = await drive(p, { index: 0, count: 1 });
  assert.ok(single.length > 20, `${label}: a schedule to split (${single.length})`);
  single.forEach((x, i) => assert.equal(x.seq, i));
  for (const { n, t, shards } of layouts()) {
    const u = await union(p, shards);
    const where = `${label}, ${n} workers × ${t} threads`;
    assert.equal(u.size, single.length, `${where}: requests add up`);
    for (let i = 0; i < single.length; i++) {
      const x = u.get(i);
      assert.ok(x, `${where}: arrival ${i} missing`);
      assert.equal(x.t, single[i].t, `${where}: arrival ${i} at its planned time`);
      assert.deepEqual(strip(x.req), strip(single[i].req), `${where}: arrival ${i} carries the same row / model`);
    }
  }
  return single.length;
}

const OPEN: Array<[string, string]> = [
  [
    'uniform arrivals, sequential rows',
    `executor: constant-arrival-rate, rate: 400/s, duration: 1s, ${REQ}, ${DATA('sequential')}`,
  ],
  [
    'Poisson arrivals, shuffled rows',
    `executor: constant-arrival-rate, rate: 300/s, duration: 1s, arrival: poisson, ${REQ}, ${DATA('shuffle')}`,
  ],
  [
    'bursty arrivals, sampled rows',
    `executor: constant-arrival-rate, rate: 300/s, duration: 1s, arrival: gamma, burstiness: 3, ${REQ}, ${DATA('sample')}`,
  ],
  [
    'ramping Poisson, batches 1–4',
    `executor: ramping-arrival-rate, startRate: 10/s, stages: [{ duration: 1s, target: 400/s }, { duration: 0.5s, target: 50/s }], arrival: poisson, ${REQ}, ${DATA('shuffle', '{ min: 1, max: 4 }')}`,
  ],
  [
    'maxRequests cuts the one schedule',
    `executor: constant-arrival-rate, rate: 1000/s, duration: 1s, maxRequests: 101, arrival: poisson, ${REQ}, ${DATA('sequential')}`,
  ],
  [
    'replay with a row column',
    `executor: replay, trace: { file: trace.csv, row: row }, ${REQ}, data: { file: rows.csv }`,
  ],
  [
    'replay, speed 2, duration cut',
    `executor: replay, trace: { file: trace.csv }, speed: 2, duration: 0.8s, ${REQ}, ${DATA('shuffle')}`,
  ],
  [
    'traffic mix of three models',
    `executor: constant-arrival-rate, rate: 300/s, duration: 1s, arrival: poisson, protocol: openai, openai: { endpoint: completions }, mix: { models: [ { name: a, weight: 5 }, { name: b, weight: 3 }, { name: c, weight: 2 } ] }`,
  ],
];

for (const [label, sc] of OPEN)
  test(`segments: ${label} — the union over N workers × T threads is the single-process schedule`, async () => {
    if (sc.includes('row: row')) await assertRowKeyedEqualSingle(plan(sc), label);
    else await assertSegmentsEqualSingle(plan(sc), label);
  });

test('segments are reproducible from the seed, and the seed matters', async () => {
  const sc = OPEN[1][1];
  const shards = layouts().find((l) => l.n === 3 && l.t === 2)!.shards;
  const a = [...(await union(plan(sc, 7), shards))].sort((x, y) => x[0] - y[0]);
  const b = [...(await union(plan(sc, 7), shards))].sort((x, y) => x[0] - y[0]);
  assert.deepEqual(
    a.map(([i, x]) => [i, x.t, strip(x.req)]),
    b.map(([i, x]) => [i, x.t, strip(x.req)]),
  );
  const c = [...(await union(plan(sc, 8), shards))].sort((x, y) => x[0] - y[0]);
  assert.notDeepEqual(
    a.map(([, x]) => x.t),
    c.map(([, x]) => x.t),
  );
});

test('closed model: users and iteration budgets split exactly; no request index twice', async () => {
  // shareOf is the split of users and budgets: over every layout, the shares sum to the total.
  for (const { shards } of layouts())
    for (let total = 0; total <= 50; total++) {
      const shares = shards.map((s) => shareOf(total, s));
      assert.equal(
        shares.reduce((a, b) => a + b, 0),
        total,
      );
      assert.ok(Math.max(...shares) - Math.min(...shares) <= 1, 'even within one');
    }
  // The real executor: 53 iterations by 5 users. With more shards than users (3 workers × 2
  // threads = 6 > 5) the budget of a user-less shard was never sent and the shard never finished:
  // the run hung (a regression test — before the fix `drive` never resolved).
  for (const users of [5, 2, 13])
    for (const { n, t, shards } of layouts()) {
      const p = plan(`executor: iterations, maxRequests: 53, concurrency: ${users}, ${REQ}, ${DATA('sequential')}`);
      const per = await Promise.all(shards.map((s) => drive(p, s)));
      assert.equal(
        per.reduce((a, x) => a + x.length, 0),
        53,
        `${users} users, ${n} workers × ${t} threads: the budget is the plan’s`,
      );
      // Shard k's requests carry rows k, k + count, …: no row twice while the data (37 rows) lasts.
      const seen = new Set<number>();
      per.forEach((xs, k) => {
        for (const x of xs) {
          const idx = shards[k].index + x.seq * shards[k].count;
          assert.ok(!seen.has(idx), `request index ${idx} twice`);
          seen.add(idx);
        }
      });
    }
});
