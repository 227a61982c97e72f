/**
 * Seeded simulations of the A/B statistics: identical arms must not fail more often than alpha
 * (family-wise, over all metrics at once), and a planned effect must be found at about the planned
 * power. The measured rates are in the assertion messages and the test diagnostics.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../core/random.js';
import type { AbPlan } from '../plan/comparison.js';
import type { Binned } from '../stats/binned.js';
import { mcnemarExact, newcombeDifference } from '../stats/exact.js';
import { mcnemarSampleSize, rankTestSampleSize, shiftSuperiority, twoProportionSampleSize } from '../stats/power.js';
import { rankShiftTest } from '../stats/rank-binned.js';
import { abSampleSize, judgeAb, judgeAbSequential, newSequentialState, sequentialLook } from './ab.js';
import type { ComparisonInput, VariantData } from './types.js';

/** Monte-Carlo margin: 3 standard errors of a rate p estimated from n runs. */
function margin(p: number, n: number): number {
  return 3 * Math.sqrt((p * (1 - p)) / n);
}

function binInto(m: Map<number, number>, v: number): void {
  m.set(v, (m.get(v) ?? 0) + 1);
}

function toBinned(m: Map<number, number>): Binned {
  const values = [...m.keys()].sort((a, b) => a - b);
  return { values: Float64Array.from(values), counts: Float64Array.from(values, (v) => m.get(v) ?? 0) };
}

/** Counts on a grid of `step` (index i ↔ value i·step) → Binned of the non-empty cells. */
function gridBinned(counts: Float64Array, step: number): Binned {
  const values: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      values.push(i * step);
      c.push(counts[i]);
    }
  }
  return { values: Float64Array.from(values), counts: Float64Array.from(c) };
}

/** One arm: `windows` × `perWindow` log-normal latencies (median 20 ms) on a 0.5 ms grid, errors and accuracy. */
function arm(rng: Rng, windows: number, perWindow: number, errorRate: number, accuracy: number): VariantData {
  const cells = 400; // 0 … 200 ms
  const whole = new Float64Array(cells);
  const latencyWindows: Binned[] = [];
  let errors = 0;
  let correct = 0;
  for (let w = 0; w < windows; w++) {
    const m = new Float64Array(cells);
    for (let i = 0; i < perWindow; i++) {
      const cell = Math.min(cells - 1, Math.round(rng.logNormal(20, 0.3) * 2));
      m[cell]++;
      whole[cell]++;
      if (rng.float() < errorRate) errors++;
      if (rng.float() < accuracy) correct++;
    }
    latencyWindows.push(gridBinned(m, 0.5));
  }
  const requests = windows * perWindow;
  return {
    name: 'x',
    requests,
    errors,
    latency: gridBinned(whole, 0.5),
    latencyWindows,
    durations: {},
    scored: requests,
    correct,
  };
}

const PLAN: AbPlan = {
  correction: 'holm',
  alpha: 0.05,
  power: 0.8,
  paired: false,
  minimumEffects: {},
  sequential: false,
};

describe('A/B simulations (seeded)', () => {
  it('identical arms, 1,000 comparisons of 5 metrics: family-wise false-positive rate ≤ alpha + MC margin', (t) => {
    const rng = new Rng(20261204);
    const runs = 1000;
    let anySignificant = 0;
    let fails = 0;
    for (let r = 0; r < runs; r++) {
      const j = judgeAb(
        { control: arm(rng, 20, 10, 0.02, 0.9), candidate: arm(rng, 20, 10, 0.02, 0.9), durationS: 20 },
        PLAN,
      );
      if (j.result.tests.some((x) => x.outcome === 'worse' || x.outcome === 'better')) anySignificant++;
      if (j.verdict === 'fail') fails++;
    }
    const fwer = anySignificant / runs;
    const limit = PLAN.alpha + margin(PLAN.alpha, runs);
    t.diagnostic(
      `identical arms: family-wise FP rate ${fwer.toFixed(3)} (fail verdicts ${fails}/${runs}), limit ${limit.toFixed(3)}`,
    );
    assert.ok(fwer <= limit, `family-wise FP rate ${fwer} over ${runs} comparisons > ${limit}`);
  });

  it('the judge: an accuracy drop of the minimum effect, with the requests abSampleSize plans, is found at ≥ ~80%', (t) => {
    const rng = new Rng(15);
    const plan: AbPlan = { ...PLAN, minimumEffects: { accuracy: 0.05 } };
    const [row] = abSampleSize({
      alpha: 0.05,
      power: 0.8,
      correction: 'holm',
      accuracy: { baseline: 0.9, drop: 0.05 },
    });
    const perWindow = Math.ceil(row.perArm / 20);
    const runs = 300;
    let found = 0;
    for (let r = 0; r < runs; r++) {
      const j = judgeAb(
        { control: arm(rng, 20, perWindow, 0.01, 0.9), candidate: arm(rng, 20, perWindow, 0.01, 0.85), durationS: 20 },
        plan,
      );
      if (j.result.tests.find((x) => x.metric === 'accuracy')?.outcome === 'worse') found++;
    }
    const rate = found / runs;
    t.diagnostic(
      `judge, accuracy 0.90 → 0.85 with ${20 * perWindow} requests per arm (planned at alpha/5): found ${rate.toFixed(3)} (planned ≥ 0.80; Holm is a little stronger than alpha/5)`,
    );
    assert.ok(rate >= 0.8 - margin(0.8, runs), `found ${rate}`);
  });

  it('two proportions: a planned 5 pp drop is found at about 80% power', (t) => {
    const rng = new Rng(11);
    const n = Math.ceil(twoProportionSampleSize(0.9, 0.85, 0.8, 0.05));
    const runs = 1000;
    let hits = 0;
    for (let r = 0; r < runs; r++) {
      let a = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        if (rng.float() < 0.9) a++;
        if (rng.float() < 0.85) b++;
      }
      if (newcombeDifference(b, n, a, n).pValue < 0.05) hits++;
    }
    const rate = hits / runs;
    t.diagnostic(`two proportions, n = ${n} per arm: detected ${rate.toFixed(3)} (planned 0.80)`);
    assert.ok(Math.abs(rate - 0.8) <= margin(0.8, runs) + 0.01, `detected ${rate}, planned 0.8, n = ${n}`);
  });

  it('McNemar exact: a planned 4 pp paired drop (10% discordant) is found at about 80% power', (t) => {
    const rng = new Rng(12);
    const psi = 0.1;
    const delta = 0.04;
    const n = Math.ceil(mcnemarSampleSize(psi, delta, 0.8, 0.05));
    const runs = 1000;
    let hits = 0;
    for (let r = 0; r < runs; r++) {
      let b = 0;
      let c = 0;
      for (let i = 0; i < n; i++) {
        const u = rng.float();
        if (u < (psi + delta) / 2) b++;
        else if (u < psi) c++;
      }
      if (mcnemarExact(b, c, n).pValue < 0.05) hits++;
    }
    const rate = hits / runs;
    t.diagnostic(
      `McNemar exact, ${n} pairs: detected ${rate.toFixed(3)} (planned 0.80; the exact test is a little conservative)`,
    );
    assert.ok(rate >= 0.8 - margin(0.8, runs) - 0.03 && rate <= 0.8 + margin(0.8, runs), `detected ${rate}, n = ${n}`);
  });

  it('Mann-Whitney: a planned shift of 0.3 σ is found at about 80% power (Noether, from the spread)', (t) => {
    const rng = new Rng(13);
    const sd = 10;
    const shift = 3;
    const n = Math.ceil(rankTestSampleSize(shiftSuperiority(shift, { sd }), 0.8, 0.05));
    const runs = 600;
    let hits = 0;
    for (let r = 0; r < runs; r++) {
      const a = new Map<number, number>();
      const b = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        binInto(a, Math.round(rng.normal(100, sd) * 100) / 100);
        binInto(b, Math.round(rng.normal(100 + shift, sd) * 100) / 100);
      }
      if (rankShiftTest(toBinned(a), toBinned(b)).pValue < 0.05) hits++;
    }
    const rate = hits / runs;
    t.diagnostic(`Mann-Whitney, n = ${n} per arm: detected ${rate.toFixed(3)} (planned 0.80)`);
    assert.ok(Math.abs(rate - 0.8) <= margin(0.8, runs) + 0.02, `detected ${rate}, n = ${n}`);
  });
});

describe('sequential mode (mSPRT via sequentialLook)', () => {
  /** One stream: both arms grow by `batch` requests per look; returns how it ended. */
  function stream(
    rng: Rng,
    looks: number,
    batch: number,
    accA: number,
    accB: number,
    plan: AbPlan,
    state = newSequentialState(),
    last?: { input?: ComparisonInput },
  ) {
    const cells = [new Float64Array(400), new Float64Array(400)];
    const errors = [0, 0];
    const correct = [0, 0];
    let n = 0;
    for (let l = 0; l < looks; l++) {
      for (let i = 0; i < batch; i++) {
        for (let k = 0; k < 2; k++) {
          cells[k][Math.min(399, Math.round(rng.logNormal(20, 0.3) * 2))]++;
          if (rng.float() < 0.01) errors[k]++;
          if (rng.float() < (k === 0 ? accA : accB)) correct[k]++;
        }
      }
      n += batch;
      const v = (k: number): VariantData => ({
        name: `v${k}`,
        requests: n,
        errors: errors[k],
        latency: gridBinned(cells[k], 0.5),
        latencyWindows: [],
        durations: {},
        scored: n,
        correct: correct[k],
      });
      const input = { control: v(0), candidate: v(1), durationS: l + 1 };
      if (last) last.input = input;
      const look = sequentialLook(input, plan, state);
      if (look.stop) return { ...look, n };
    }
    return { stop: false, harm: false, n, reason: undefined };
  }
  const plan: AbPlan = { ...PLAN, sequential: true };

  it('identical arms, 1,000 streams × 40 looks: stops on false harm at a rate ≤ alpha + MC margin', (t) => {
    const rng = new Rng(41);
    const runs = 1000;
    let harm = 0;
    for (let r = 0; r < runs; r++) if (stream(rng, 40, 50, 0.9, 0.9, plan).harm) harm++;
    const rate = harm / runs;
    t.diagnostic(`sequential, identical arms: false harm stops ${rate.toFixed(3)} (alpha 0.05, 40 looks)`);
    assert.ok(rate <= 0.05 + margin(0.05, runs), `false harm rate ${rate}`);
  });

  it('as the run wires it — looks, then the verdict from judgeAbSequential: identical arms fail at a rate ≤ alpha', (t) => {
    // The run looks after every window and, stopped or not, judges by the always-valid figures at
    // the end (a final look on all the data): the whole procedure's false-fail rate stays ≤ alpha.
    const rng = new Rng(43);
    const runs = 1000;
    let fail = 0;
    let stopped = 0;
    for (let r = 0; r < runs; r++) {
      const state = newSequentialState();
      const last: { input?: ComparisonInput } = {};
      const s = stream(rng, 40, 50, 0.9, 0.9, plan, state, last);
      if (s.stop) stopped++;
      const j = judgeAbSequential(last.input!, plan, state, { looks: 40, stoppedEarly: s.stop });
      if (j.verdict === 'fail') fail++;
    }
    const rate = fail / runs;
    t.diagnostic(
      `sequential as wired, identical arms: verdict fail ${rate.toFixed(3)} (alpha 0.05, 40 looks + final), stopped early ${stopped}`,
    );
    assert.ok(rate <= 0.05 + margin(0.05, runs), `false fail rate ${rate}`);
  });

  it('v2 (92%) against v1 (98.5%): stops on harm early, naming accuracy', () => {
    const r = stream(new Rng(42), 40, 50, 0.985, 0.92, plan);
    assert.ok(r.stop && r.harm && r.n < 2000, JSON.stringify(r));
    assert.match(r.reason ?? '', /accuracy worse/);
    const j = judgeAb(
      { control: arm(new Rng(1), 20, 10, 0, 0.9), candidate: arm(new Rng(2), 20, 10, 0, 0.9), durationS: 20 },
      plan,
    );
    assert.equal(j.result.sequential?.method, 'msprt-normal-mixture');
  });
});
