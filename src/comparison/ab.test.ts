import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../core/random.js';
import type { AbPlan } from '../plan/comparison.js';
import type { Binned } from '../stats/binned.js';
import { fisherExact } from '../stats/exact.js';
import { abSampleSize, judgeAb } from './ab.js';
import type { ComparisonInput, PairedCounts, VariantData } from './types.js';

const PLAN: AbPlan = {
  correction: 'holm',
  alpha: 0.05,
  power: 0.8,
  paired: false,
  minimumEffects: {},
  sequential: false,
};

/** Bins on a grid of `step` ms (HDR-like coarse buckets). */
function bin(samples: readonly number[], step: number): Binned {
  const m = new Map<number, number>();
  for (const s of samples) {
    const v = Math.max(step, Math.round(s / step) * step);
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  const values = [...m.keys()].sort((a, b) => a - b);
  return { values: Float64Array.from(values), counts: Float64Array.from(values, (v) => m.get(v) ?? 0) };
}

interface ArmSpec {
  windows: number;
  perWindow: number;
  median: number;
  sigma?: number;
  errorRate?: number;
  /** Share of requests in a slow tail, and its factor. */
  tail?: [number, number];
  accuracy?: number;
  step?: number;
}

function variant(name: string, rng: Rng, s: ArmSpec): VariantData {
  const all: number[] = [];
  const latencyWindows: Binned[] = [];
  let errors = 0;
  for (let w = 0; w < s.windows; w++) {
    const xs: number[] = [];
    for (let i = 0; i < s.perWindow; i++) {
      let v = rng.logNormal(s.median, s.sigma ?? 0.3);
      if (s.tail && rng.float() < s.tail[0]) v *= s.tail[1];
      if (rng.float() < (s.errorRate ?? 0)) errors++;
      xs.push(v);
    }
    all.push(...xs);
    latencyWindows.push(bin(xs, s.step ?? 0.1));
  }
  const requests = s.windows * s.perWindow;
  let correct: number | undefined;
  if (s.accuracy !== undefined) {
    correct = 0;
    for (let i = 0; i < requests; i++) if (rng.float() < s.accuracy) correct++;
  }
  return {
    name,
    requests,
    errors,
    latency: bin(all, s.step ?? 0.1),
    latencyWindows,
    durations: {},
    scored: s.accuracy === undefined ? undefined : requests,
    correct,
  };
}

/** Paired correctness of n rows with per-arm accuracies; `agreement` = P(both right | control right). */
function pairedRows(rng: Rng, n: number, pControl: number, pCandidate: number): PairedCounts {
  const out: PairedCounts = { bothCorrect: 0, controlOnly: 0, candidateOnly: 0, neither: 0 };
  // Latent difficulty shared by both arms: most rows are easy for both, so arms agree mostly.
  for (let i = 0; i < n; i++) {
    const u = rng.float();
    const a = u < pControl;
    const b = u < pCandidate;
    if (a && b) out.bothCorrect++;
    else if (a) out.controlOnly++;
    else if (b) out.candidateOnly++;
    else out.neither++;
  }
  return out;
}

function input(control: VariantData, candidate: VariantData, paired?: PairedCounts): ComparisonInput {
  return { control, candidate, paired, durationS: control.latencyWindows.length };
}

describe('judgeAb', () => {
  it('digits v2 (92.0%) against v1 (98.5%) on the same rows: accuracy worse by McNemar, verdict fail', () => {
    const rng = new Rng(1);
    const arm: ArmSpec = { windows: 30, perWindow: 60, median: 20 };
    const paired = pairedRows(rng, 1797, 0.985, 0.92);
    const j = judgeAb(input(variant('v1', rng, arm), variant('v2', rng, arm), paired), { ...PLAN, paired: true });
    const acc = j.result.tests.find((t) => t.metric === 'accuracy');
    assert.ok(acc);
    assert.equal(acc.method, 'mcnemar-exact');
    assert.equal(acc.outcome, 'worse');
    assert.ok(acc.estimate < -0.05 && acc.ci[1] < 0 && (acc.adjustedPValue ?? 1) < 1e-10, JSON.stringify(acc));
    assert.equal(j.verdict, 'fail');
    assert.match(j.reasons[0], /worse on accuracy/);
    assert.ok(
      j.reasons.some((r) => /^accuracy worse: -6\.\d+ pp \(95% CI/.test(r)),
      j.reasons.join('\n'),
    );
  });

  it('unpaired accuracy drop: two-proportion score test with Newcombe interval', () => {
    const rng = new Rng(2);
    const j = judgeAb(
      input(
        variant('v1', rng, { windows: 20, perWindow: 100, median: 20, accuracy: 0.985 }),
        variant('v2', rng, { windows: 20, perWindow: 100, median: 20, accuracy: 0.92 }),
      ),
      PLAN,
    );
    const acc = j.result.tests.find((t) => t.metric === 'accuracy');
    assert.equal(acc?.method, 'two-proportion-score/newcombe');
    assert.equal(acc?.outcome, 'worse');
    assert.equal(j.verdict, 'fail');
  });

  it('v1 against v1 with plenty of data: every test powered, no difference, pass', () => {
    const rng = new Rng(3);
    const arm: ArmSpec = { windows: 60, perWindow: 150, median: 20, accuracy: 0.985 };
    const paired = pairedRows(rng, 9000, 0.985, 0.985);
    const j = judgeAb(input(variant('a', rng, arm), variant('b', rng, arm), paired), { ...PLAN, paired: true });
    for (const t of j.result.tests) {
      assert.equal(t.outcome, 'no-difference', `${t.metric}: ${JSON.stringify(t)}`);
      assert.ok((t.power ?? 0) >= 0.8 && t.adjustedPValue !== undefined && t.minimumEffect !== undefined);
    }
    assert.deepEqual(
      j.result.tests.map((t) => t.metric),
      ['latency.median', 'latency.p90', 'latency.p99', 'error_rate', 'accuracy'],
    );
    assert.equal(j.verdict, 'pass', j.reasons.join('\n'));
  });

  it('too little data is inconclusive, never "no difference", and says how much is needed', () => {
    const rng = new Rng(4);
    const arm: ArmSpec = { windows: 6, perWindow: 10, median: 20, accuracy: 0.9 };
    const j = judgeAb(input(variant('a', rng, arm), variant('b', rng, arm)), PLAN);
    assert.equal(j.verdict, 'inconclusive');
    assert.ok(j.result.tests.some((t) => t.outcome === 'inconclusive'));
    assert.ok(!j.result.tests.some((t) => t.outcome === 'no-difference' && (t.power ?? 0) < 0.8));
    assert.ok(
      j.reasons.some((r) => /requests per arm needed \(≈ \d+ s at this rate\)/.test(r)),
      j.reasons.join('\n'),
    );
  });

  it('same median, 10× worse tail: latency.p99 worse by the block bootstrap, median not', () => {
    const rng = new Rng(5);
    const j = judgeAb(
      input(
        variant('a', rng, { windows: 60, perWindow: 100, median: 20 }),
        variant('b', rng, { windows: 60, perWindow: 100, median: 20, tail: [0.02, 10] }),
      ),
      PLAN,
    );
    const p99 = j.result.tests.find((t) => t.metric === 'latency.p99');
    const med = j.result.tests.find((t) => t.metric === 'latency.median');
    assert.equal(p99?.outcome, 'worse', JSON.stringify(p99));
    assert.equal(p99?.method, 'block-bootstrap');
    assert.notEqual(med?.outcome, 'worse');
    assert.equal(j.verdict, 'fail');
  });

  it('3 of 1,000 errors against 0: Fisher exact (p ≈ 0.25), not a false alarm', () => {
    const a = variant('a', new Rng(6), { windows: 10, perWindow: 100, median: 20 });
    const b = variant('b', new Rng(7), { windows: 10, perWindow: 100, median: 20 });
    const j = judgeAb(input({ ...a, errors: 0 }, { ...b, errors: 3 }), PLAN);
    const e = j.result.tests.find((t) => t.metric === 'error_rate');
    assert.equal(e?.method, 'fisher-exact/newcombe');
    assert.equal(e?.pValue, fisherExact(3, 997, 0, 1000).pValue);
    assert.ok((e?.pValue ?? 0) > 0.24 && e?.outcome !== 'worse' && (e?.ci[0] ?? 0) < 0 && (e?.ci[1] ?? 0) > 0.003);
  });

  it('BH correction is applied and stated', () => {
    const rng = new Rng(8);
    const arm: ArmSpec = { windows: 10, perWindow: 50, median: 20 };
    const j = judgeAb(input(variant('a', rng, arm), variant('b', rng, arm)), { ...PLAN, correction: 'bh' });
    assert.equal(j.result.correction, 'bh');
    for (const t of j.result.tests) if (Number.isFinite(t.pValue)) assert.ok((t.adjustedPValue ?? 0) >= t.pValue);
  });
});

describe('abSampleSize (before a run)', () => {
  it('a 1 pp accuracy drop at 80% power: requests per arm and seconds at the planned rate', () => {
    const rows = abSampleSize({
      alpha: 0.05,
      power: 0.8,
      correction: 'none',
      accuracy: { baseline: 0.985, drop: 0.01 },
      errorRate: { baseline: 0.001, increase: 0.005 },
      latencyShift: { shiftMs: 2, spread: { sd: 10 } },
      ratePerS: 100,
    });
    const acc = rows.find((r) => r.metric === 'accuracy');
    // R: power.prop.test(p1 = 0.985, p2 = 0.975, power = 0.8)$n = 3075.58 (fixtures/reference.json).
    assert.equal(acc?.perArm, 3076);
    assert.equal(acc?.seconds, Math.ceil(3076 / 50));
    assert.deepEqual(
      rows.map((r) => r.metric),
      ['accuracy', 'error_rate', 'latency.median'],
    );
    const paired = abSampleSize({
      alpha: 0.05,
      power: 0.8,
      correction: 'none',
      accuracy: { baseline: 0.985, drop: 0.01, discordance: 0.03 },
    });
    assert.ok(paired[0].perArm < (acc?.perArm ?? 0), 'pairing needs fewer rows');
    const holm = abSampleSize({
      alpha: 0.05,
      power: 0.8,
      correction: 'holm',
      accuracy: { baseline: 0.985, drop: 0.01 },
    });
    assert.ok(holm[0].perArm > (acc?.perArm ?? Infinity), 'alpha/k for a family of 5');
  });
});
