/**
 * Mann-Whitney U (Wilcoxon rank-sum) test and the Hodges–Lehmann shift estimate with its
 * confidence interval, on binned samples (decoded HDR histograms: ascending values with counts),
 * exactly as R's `wilcox.test(candidate, control, conf.int = TRUE)` defines them — without ever
 * expanding the bins into samples or materialising the n·m pairwise differences:
 * - U and the tie term Σ(t³ − t) come from one merge of the two sorted bin lists;
 * - the k-th smallest pairwise difference (candidate − control) is found by bisection on the shift
 *   with a merge-count of pairs ≤ the shift, then snapped to the exact difference;
 * - the large-sample interval inverts the tie- and continuity-corrected normal test at each shift
 *   (R's `wdiff`), root-found by bisection and snapped to the pairwise difference where the
 *   statistic jumps (R's uniroot stops within 1e-4 of it).
 * Exact (no ties, both samples < 50, R's rule): the exact null distribution of U (Gaussian binomial
 * coefficients) and R's order-statistic interval c(d[qu], d[nm − qu + 1]).
 * Estimate: the median of the pairwise differences (Hodges & Lehmann 1963). In the large-sample
 * case R reports the shift where the corrected statistic crosses 0 instead, which lies between the
 * two middle differences (equal to ours for odd n·m and continuous data).
 */
import type { Binned } from './binned.js';
import { binnedTotal } from './binned.js';
import { normCdf, normQuantile } from './distributions.js';

export interface RankShiftOptions {
  /** Two-sided confidence level of the shift's interval (default 0.95). */
  confidence?: number;
  /** 'auto' (default): exact when there are no ties and both samples have < 50 values (R's rule). */
  method?: 'auto' | 'exact' | 'normal';
}

export interface RankShiftResult {
  nControl: number;
  nCandidate: number;
  /** Mann-Whitney U of the candidate: pairs with candidate > control, ties counting ½ (R's W). */
  u: number;
  /** Standardised U (tie- and continuity-corrected); positive when the candidate tends to be larger. */
  z: number;
  /** Two-sided p-value. */
  pValue: number;
  method: 'exact' | 'normal';
  ties: boolean;
  /** U / (n·m): P(candidate > control) + ½ P(tie); 0.5 means no shift. */
  probabilityCandidateGreater: number;
  /** Hodges–Lehmann estimate: median of candidate − control over all pairs. */
  estimate: number;
  /** Interval of the shift from inverting the test. */
  ci: [number, number];
  confidence: number;
}

interface MergeStats {
  u: number;
  tieTerm: number;
}

/** U of (candidate − shift) against control and Σ(t³ − t) over tie groups of the combined sample. */
function mergeStats(control: Binned, candidate: Binned, shift: number): MergeStats {
  const xv = control.values;
  const xc = control.counts;
  const yv = candidate.values;
  const yc = candidate.counts;
  let i = 0;
  let j = 0;
  let below = 0; // control values strictly below the current group
  let u = 0;
  let tieTerm = 0;
  while (i < xv.length || j < yv.length) {
    const xNext = i < xv.length ? xv[i] : Infinity;
    const yNext = j < yv.length ? yv[j] - shift : Infinity;
    const v = Math.min(xNext, yNext);
    let cx = 0;
    let cy = 0;
    while (i < xv.length && xv[i] === v) cx += xc[i++];
    while (j < yv.length && yv[j] - shift === v) cy += yc[j++];
    u += cy * (below + 0.5 * cx);
    const t = cx + cy;
    if (t > 1) tieTerm += t * t * t - t;
    below += cx;
  }
  return { u, tieTerm };
}

/**
 * P(candidate − shift > control) + ½ P(candidate − shift = control) over all pairs: the probability
 * of superiority at a shift (0.5 = no effect). With candidate = control and shift = −δ it is the
 * chance that a copy of the control shifted by δ beats the control — the effect Noether's
 * sample-size formula needs, from the observed spread.
 */
export function probabilityAbove(control: Binned, candidate: Binned, shift = 0): number {
  const nm = binnedTotal(control) * binnedTotal(candidate);
  return nm > 0 ? mergeStats(control, candidate, shift).u / nm : NaN;
}

/** The merge-based algorithms need strictly ascending values and finite, non-negative counts. */
export function assertAscending(b: Binned, what: string): void {
  for (let i = 0; i < b.values.length; i++) {
    if (!Number.isFinite(b.values[i]) || (i > 0 && !(b.values[i] > b.values[i - 1]))) {
      throw new RangeError(`${what}: binned values must be finite and strictly ascending (index ${i}: ${b.values[i]})`);
    }
    if (!(b.counts[i] >= 0)) throw new RangeError(`${what}: count at index ${i} is ${b.counts[i]}`);
  }
}

/** Pairs (i, j) with candidate_j − control_i ≤ d, counting multiplicities. */
export function countPairsAtMost(control: Binned, candidate: Binned, d: number): number {
  // candidate_j − control_i ≤ d ⇔ control_i ≥ candidate_j − d; thresholds rise with j.
  const xv = control.values;
  const xc = control.counts;
  const nx = binnedTotal(control);
  let i = 0;
  let less = 0; // control values < threshold
  let count = 0;
  for (let j = 0; j < candidate.values.length; j++) {
    const threshold = candidate.values[j] - d;
    while (i < xv.length && xv[i] < threshold) less += xc[i++];
    count += candidate.counts[j] * (nx - less);
  }
  return count;
}

/** Smallest pairwise difference candidate_j − control_i strictly greater than `d` (Infinity if none). */
function smallestDifferenceAbove(control: Binned, candidate: Binned, d: number): number {
  // For each j the largest control_i with candidate_j − control_i > d, i.e. control_i < candidate_j − d.
  const xv = control.values;
  let i = -1;
  let best = Infinity;
  for (let j = 0; j < candidate.values.length; j++) {
    const threshold = candidate.values[j] - d;
    while (i + 1 < xv.length && xv[i + 1] < threshold) i++;
    if (i >= 0) {
      const diff = candidate.values[j] - xv[i];
      if (diff > d && diff < best) best = diff;
    }
  }
  return best;
}

/** Largest pairwise difference candidate_j − control_i that is ≤ `d` (−Infinity if none). */
function largestDifferenceAtMost(control: Binned, candidate: Binned, d: number): number {
  // For each j the smallest control_i with control_i ≥ candidate_j − d; thresholds rise with j.
  const xv = control.values;
  let i = 0;
  let best = -Infinity;
  for (let j = 0; j < candidate.values.length; j++) {
    const threshold = candidate.values[j] - d;
    while (i < xv.length && xv[i] < threshold) i++;
    if (i < xv.length) {
      const diff = candidate.values[j] - xv[i];
      if (diff <= d && diff > best) best = diff;
    }
  }
  return best;
}

/** The k-th smallest (1-based) of the n·m pairwise differences candidate − control. */
export function kthPairwiseDifference(control: Binned, candidate: Binned, k: number): number {
  const xv = control.values;
  const yv = candidate.values;
  if (xv.length === 0 || yv.length === 0) return NaN;
  const total = binnedTotal(control) * binnedTotal(candidate);
  const kk = Math.min(Math.max(1, Math.round(k)), total);
  let hi = yv[yv.length - 1] - xv[0];
  let lo = yv[0] - xv[xv.length - 1];
  // Invariant: count(lo) < k ≤ count(hi). The minimum difference itself may be the answer.
  if (countPairsAtMost(control, candidate, lo) >= kk) return lo;
  for (let it = 0; it < 200; it++) {
    const next = smallestDifferenceAbove(control, candidate, lo);
    if (countPairsAtMost(control, candidate, next) >= kk) return next;
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) return hi;
    if (countPairsAtMost(control, candidate, mid) >= kk) hi = mid;
    else lo = Math.max(mid, next);
  }
  return hi;
}

/** Median of the pairwise differences (the Hodges–Lehmann shift estimate). */
export function hodgesLehmann(control: Binned, candidate: Binned): number {
  const total = binnedTotal(control) * binnedTotal(candidate);
  if (total <= 0) return NaN;
  if (total % 2 === 1) return kthPairwiseDifference(control, candidate, (total + 1) / 2);
  const a = kthPairwiseDifference(control, candidate, total / 2);
  const b = kthPairwiseDifference(control, candidate, total / 2 + 1);
  return (a + b) / 2;
}

/** Null distribution of U for samples of m and n without ties: counts of U = 0 … m·n (Gaussian binomial). */
export function wilcoxonCounts(m: number, n: number): Float64Array {
  const size = m * n + 1;
  const c = new Float64Array(size);
  c[0] = 1;
  // Π_{i=1..m} (1 − q^{n+i}) / (1 − q^i)
  for (let i = 1; i <= m; i++) {
    const k = n + i;
    for (let u = size - 1; u >= k; u--) c[u] -= c[u - k];
    for (let u = i; u < size; u++) c[u] += c[u - i];
  }
  return c;
}

function hasTies(control: Binned, candidate: Binned): boolean {
  for (let i = 0; i < control.counts.length; i++) if (control.counts[i] > 1) return true;
  for (let j = 0; j < candidate.counts.length; j++) if (candidate.counts[j] > 1) return true;
  return mergeStats(control, candidate, 0).tieTerm > 0;
}

/**
 * Mann-Whitney test and Hodges–Lehmann shift of `candidate` against `control` (two-sided), on
 * ascending binned samples. Either sample empty: NaN statistics.
 */
export function rankShiftTest(control: Binned, candidate: Binned, opts: RankShiftOptions = {}): RankShiftResult {
  assertAscending(control, 'control');
  assertAscending(candidate, 'candidate');
  const confidence = opts.confidence ?? 0.95;
  const nx = binnedTotal(control);
  const ny = binnedTotal(candidate);
  const nm = nx * ny;
  const base = { nControl: nx, nCandidate: ny, confidence };
  if (nx === 0 || ny === 0) {
    return {
      ...base,
      u: NaN,
      z: NaN,
      pValue: NaN,
      method: 'normal',
      ties: false,
      probabilityCandidateGreater: NaN,
      estimate: NaN,
      ci: [NaN, NaN],
    };
  }
  const { u, tieTerm } = mergeStats(control, candidate, 0);
  const ties = hasTies(control, candidate);
  const alpha = 1 - confidence;
  const estimate = hodgesLehmann(control, candidate);
  const method = opts.method ?? 'auto';
  const exact = method === 'exact' || (method === 'auto' && !ties && nx < 50 && ny < 50);
  const n = nx + ny;
  const sigmaOf = (tt: number): number => Math.sqrt((nm / 12) * (n + 1 - tt / (n * (n - 1))));
  const sigma = sigmaOf(tieTerm);
  const dz = u - nm / 2;
  const z = sigma > 0 ? (dz - Math.sign(dz) * 0.5) / sigma : 0;
  if (exact) {
    const counts = wilcoxonCounts(ny, nx);
    let total = 0;
    for (const c of counts) total += c;
    // R: P(U ≥ u) above the centre, P(U ≤ u) below; summed directly so small tails keep precision.
    const w0 = Math.round(u);
    let tail = 0;
    if (u > nm / 2) for (let k = w0; k <= nm; k++) tail += counts[k];
    else for (let k = 0; k <= w0; k++) tail += counts[k];
    const p = tail / total;
    // qwilcox(α/2): smallest q with P(U ≤ q) ≥ α/2.
    let qu = 0;
    let cum = 0;
    while (qu <= nm) {
      cum += counts[qu] / total;
      if (cum >= alpha / 2) break;
      qu++;
    }
    if (qu === 0) qu = 1;
    const ql = nm - qu;
    return {
      ...base,
      u,
      z,
      pValue: Math.min(1, 2 * p),
      method: 'exact',
      ties,
      probabilityCandidateGreater: u / nm,
      estimate,
      ci: [kthPairwiseDifference(control, candidate, qu), kthPairwiseDifference(control, candidate, ql + 1)],
    };
  }
  const pValue = sigma > 0 ? Math.min(1, 2 * Math.min(normCdf(z), normCdf(-z))) : 1;
  // R's wdiff: the corrected statistic of (candidate − d) against control; falls as d rises.
  const w = (d: number): number => {
    const s = mergeStats(control, candidate, d);
    const dd = s.u - nm / 2;
    const sg = sigmaOf(s.tieTerm);
    if (sg === 0) return dd > 0 ? Infinity : dd < 0 ? -Infinity : 0;
    return (dd - Math.sign(dd) * 0.5) / sg;
  };
  const mumin = candidate.values[0] - control.values[control.values.length - 1];
  const mumax = candidate.values[candidate.values.length - 1] - control.values[0];
  const wMin = w(mumin);
  const wMax = w(mumax);
  const root = (zq: number): number => {
    if (wMin - zq <= 0) return mumin;
    if (wMax - zq >= 0) return mumax;
    let lo = mumin;
    let hi = mumax;
    for (let it = 0; it < 300; it++) {
      const mid = lo + (hi - lo) / 2;
      if (mid <= lo || mid >= hi) break;
      if (w(mid) - zq > 0) lo = mid;
      else hi = mid;
      if (hi - lo <= 1e-12 * Math.max(1, Math.abs(lo), Math.abs(hi))) break;
    }
    // The statistic only jumps at pairwise differences: report that difference (a closed interval,
    // as the exact order-statistic one), not a point a rounding error away from it.
    const jump = largestDifferenceAtMost(control, candidate, hi);
    return jump >= lo ? jump : lo + (hi - lo) / 2;
  };
  const zq = normQuantile(1 - alpha / 2);
  return {
    ...base,
    u,
    z,
    pValue,
    method: 'normal',
    ties,
    probabilityCandidateGreater: u / nm,
    estimate,
    ci: [root(zq), root(-zq)],
  };
}
