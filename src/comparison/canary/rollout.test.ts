import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ActionPlan } from '../../plan/comparison.js';
import type { ComparisonInput } from '../types.js';
import type { ActionResult } from './actions.js';
import { runRollout } from './rollout.js';
import { canaryPlan, input, latencies, variant } from './test-canary-data.js';

const good = input(variant('v1', latencies(800, 20, 11)), variant('v2', latencies(800, 20, 12)));
const slow = input(variant('v1', latencies(800, 20, 13)), variant('v2', latencies(800, 30, 14)));
const empty = input(variant('v1', []), variant('v2', []));

const cmd = (name: string): ActionPlan => ({ kind: 'command', argv: [name, '${SHARE}'], timeoutMs: 1000 });
const actions = { step: cmd('step'), promote: cmd('promote'), rollback: cmd('rollback') };

/** Records the actions instead of running them; `failing` names the ones that fail. */
function recorder(failing: string[] = []) {
  const calls: string[] = [];
  const act = async (a: ActionPlan, share: number): Promise<ActionResult> => {
    const name = a.kind === 'command' ? a.argv[0] : a.url;
    calls.push(`${name} ${Math.round(share * 100)}`);
    const ok = !failing.includes(name);
    return { ok, detail: `${name} ${ok ? 'ok' : 'broke'}`, durationMs: 1 };
  };
  return { calls, act };
}

const steps = (...shares: number[]) => shares.map((share) => ({ share, durationMs: 1000 }));

describe('progressive rollout driver', () => {
  it('every step passes: step actions with the next share, then promote at 100%', async () => {
    const rec = recorder();
    const seen: number[] = [];
    const progress: number[] = [];
    const j = await runRollout({
      plan: canaryPlan({ steps: steps(0.05, 0.25, 0.5), actions }),
      runStep: async (share) => {
        seen.push(share);
        return good;
      },
      act: rec.act,
      onStep: (_step, judgement) => progress.push(judgement.result.steps!.length),
    });
    assert.deepEqual(progress, [1, 2, 3]);
    assert.deepEqual(seen, [0.05, 0.25, 0.5]);
    assert.deepEqual(rec.calls, ['step 25', 'step 50', 'promote 100']);
    assert.equal(j.verdict, 'pass');
    assert.equal(j.result.steps!.length, 3);
    assert.ok(j.result.steps!.every((s) => s.classification === 'pass' && s.score === 100));
    assert.match(j.reasons[0], /passed all 3 steps \(5 → 25 → 50%\)/);
  });

  it('a failing step rolls back at its share and stops', async () => {
    const rec = recorder();
    const j = await runRollout({
      plan: canaryPlan({ steps: steps(0.05, 0.25, 0.5), actions }),
      runStep: async (share): Promise<ComparisonInput> => (share >= 0.25 ? slow : good),
      act: rec.act,
    });
    assert.deepEqual(rec.calls, ['step 25', 'rollback 25']);
    assert.equal(j.verdict, 'fail');
    assert.deepEqual(
      j.result.steps!.map((s) => s.classification),
      ['pass', 'fail'],
    );
    assert.match(j.result.steps![1].action!, /^rollback: rollback ok/);
    assert.match(j.reasons.join(' '), /Step 2 of 3 \(25%\) failed with score 50/);
  });

  it('a step action that fails stops the rollout as a fail, after a rollback', async () => {
    const rec = recorder(['step']);
    const j = await runRollout({
      plan: canaryPlan({ steps: steps(0.1, 0.5), actions }),
      runStep: async () => good,
      act: rec.act,
    });
    assert.deepEqual(rec.calls, ['step 50', 'rollback 10']);
    assert.equal(j.verdict, 'fail');
    assert.match(j.reasons.join(' '), /The step action to 50% failed/);
  });

  it('a failed rollback is reported loudly', async () => {
    const rec = recorder(['rollback']);
    const j = await runRollout({
      plan: canaryPlan({ steps: steps(0.1), actions }),
      runStep: async () => slow,
      act: rec.act,
    });
    assert.equal(j.verdict, 'fail');
    assert.match(j.reasons.join(' '), /ROLLBACK FAILED/);
  });

  it('no data at a step: inconclusive, rolled back', async () => {
    const rec = recorder();
    const j = await runRollout({
      plan: canaryPlan({ steps: steps(0.1, 0.5), actions }),
      runStep: async () => empty,
      act: rec.act,
    });
    assert.equal(j.verdict, 'inconclusive');
    assert.deepEqual(rec.calls, ['rollback 10']);
  });

  it('marginal: an intermediate step goes on, the last one is neither promoted nor rolled back', async () => {
    const rec = recorder();
    const j = await runRollout({
      plan: canaryPlan({ steps: steps(0.1, 0.5), actions, thresholds: { pass: 95, marginal: 40 } }),
      runStep: async () => slow,
      act: rec.act,
    });
    assert.deepEqual(rec.calls, ['step 50']);
    assert.equal(j.verdict, 'marginal');
    assert.deepEqual(
      j.result.steps!.map((s) => s.classification),
      ['marginal', 'marginal'],
    );
  });

  it('real commands move the (pretend) router: each share is written by the step action, then promote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'preflight-rollout-'));
    try {
      const log = join(dir, 'router.log');
      const write = (what: string): ActionPlan => ({
        kind: 'command',
        argv: [
          process.execPath,
          '-e',
          'require("fs").appendFileSync(process.argv[1], process.argv[2] + "\\n")',
          log,
          `${what} \${SHARE}`,
        ],
        timeoutMs: 20_000,
      });
      const j = await runRollout({
        plan: canaryPlan({
          steps: steps(0.05, 0.5),
          actions: { step: write('step'), promote: write('promote'), rollback: write('rollback') },
        }),
        runStep: async () => good,
      });
      assert.equal(j.verdict, 'pass', j.reasons.join(' '));
      assert.equal(readFileSync(log, 'utf8'), 'step 50\npromote 100\n');
      assert.match(j.result.steps![1].action!, /^promote: Command node exited 0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no steps in the plan: one judgement at the given share, no actions configured', async () => {
    const j = await runRollout({ plan: canaryPlan(), runStep: async () => good, share: 0.2 });
    assert.equal(j.verdict, 'pass');
    assert.deepEqual(j.result.steps, [{ share: 0.2, score: 100, classification: 'pass' }]);
  });
});
