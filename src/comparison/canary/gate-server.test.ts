import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '../../core/exit-codes.js';
import { canaryExitCode, flaggerStatus } from './gate.js';
import { type GateServer, startGateServer } from './gate-server.js';
import { judgeCanary } from './judge.js';
import type { StepRecord } from './rollout.js';
import { canaryPlan, input, latencies, variant } from './test-canary-data.js';

const passing = judgeCanary(
  input(variant('v1', latencies(500, 20, 21)), variant('v2', latencies(500, 20, 22))),
  canaryPlan(),
);
const failing = judgeCanary(
  input(variant('v1', latencies(500, 20, 23)), variant('v2', latencies(500, 30, 24))),
  canaryPlan(),
);

describe('exit codes and Flagger statuses', () => {
  it('pass 0, fail 3, inconclusive 4, marginal 3 unless allowed', () => {
    assert.equal(canaryExitCode('pass'), ExitCode.Passed);
    assert.equal(canaryExitCode('fail'), ExitCode.ThresholdsFailed);
    assert.equal(canaryExitCode('inconclusive'), ExitCode.RunInvalid);
    assert.equal(canaryExitCode('marginal'), ExitCode.ThresholdsFailed);
    assert.equal(canaryExitCode('marginal', { marginalPasses: true }), ExitCode.Passed);
    assert.deepEqual(
      (['pass', 'marginal', 'fail', 'inconclusive'] as const).map((v) => flaggerStatus(v)),
      [200, 409, 412, 503],
    );
  });
});

describe('gate server (real HTTP on loopback)', () => {
  let gate: GateServer;
  before(async () => {
    gate = await startGateServer({ host: '127.0.0.1', port: 0 });
  });
  after(() => gate.close());

  it('answers 503 "pending" before the first judgement', async () => {
    const v = await fetch(`${gate.url}/verdict`);
    assert.equal(v.status, 503);
    assert.equal(((await v.json()) as { verdict: string }).verdict, 'pending');
    const g = await fetch(`${gate.url}/gate`, { method: 'POST', body: '{"name":"podinfo","phase":"Progressing"}' });
    assert.equal(g.status, 503);
    await g.body?.cancel();
  });

  it("serves Argo's Web provider JSON and Flagger's 2xx on pass", async () => {
    gate.update(passing, new Date('2026-12-04T00:00:00Z'));
    const v = await fetch(`${gate.url}/verdict`);
    assert.equal(v.status, 200);
    const a = (await v.json()) as {
      verdict: string;
      proceed: boolean;
      score: number;
      judgedAt: string;
      metrics: unknown[];
    };
    assert.equal(a.verdict, 'pass');
    assert.equal(a.proceed, true);
    assert.equal(a.score, 100);
    assert.equal(a.judgedAt, '2026-12-04T00:00:00.000Z');
    assert.equal(a.metrics.length, 2);
    const g = await fetch(`${gate.url}/gate`, { method: 'POST', body: '{"name":"podinfo"}' });
    assert.equal(g.status, 200);
    await g.body?.cancel();
  });

  it('a failed judgement: Argo reads verdict "fail", Flagger gets 412', async () => {
    gate.update(failing);
    const a = (await (await fetch(`${gate.url}/verdict`)).json()) as { verdict: string; proceed: boolean };
    assert.equal(a.verdict, 'fail');
    assert.equal(a.proceed, false);
    const g = await fetch(`${gate.url}/gate`);
    assert.equal(g.status, 412);
    await g.body?.cancel();
  });

  it("a rollout's steps update the gate: Argo sees the step and share judged last", async () => {
    const seen: number[] = [];
    // As the run does: each step judged, the steps so far in its result.
    const plan = canaryPlan({ steps: [0.1, 0.5].map((share) => ({ share, durationMs: 1000 })) });
    const steps: StepRecord[] = [];
    for (const share of [0.1, 0.5]) {
      const j = judgeCanary(input(variant('v1', latencies(300, 20, 31)), variant('v2', latencies(300, 20, 32))), plan);
      steps.push({ share, score: j.result.score, classification: j.result.classification });
      gate.update({ ...j, result: { ...j.result, steps: [...steps] } });
      seen.push(gate.current()!.step!);
    }
    assert.deepEqual(seen, [1, 2]);
    const a = (await (await fetch(`${gate.url}/verdict`)).json()) as { step: number; share: number; verdict: string };
    assert.deepEqual([a.step, a.share, a.verdict], [2, 0.5, 'pass']);
  });

  it('health and unknown paths', async () => {
    assert.equal((await fetch(`${gate.url}/healthz`)).status, 200);
    const r = await fetch(`${gate.url}/nope`);
    assert.equal(r.status, 404);
    await r.body?.cancel();
  });
});
