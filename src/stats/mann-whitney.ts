/**
 * Mann-Whitney U (Wilcoxon rank-sum) test: do values of sample b tend to be larger (or smaller)
 * than values of sample a? No assumption of normality — per-window latency percentiles are skewed.
 */
import { normalCdf } from './proportion.js';

export interface MannWhitneyOptions {
  /**
   * 'asymptotic': normal approximation with tie correction; 'exact': exact null distribution
   * (only valid without ties); 'auto' (default): exact when there are no ties and one sample has
   * at most 8 values, otherwise asymptotic (the rule SciPy uses).
   */
  method?: 'auto' | 'exact' | 'asymptotic';
  /** Continuity correction of ±0.5 in the normal approximation (default true, as SciPy). */
  continuity?: boolean;
}

export interface MannWhitneyResult {
  /** min(uA, uB): the classic reported statistic. */
  u: number;
  /** U of sample a: pairs (a_i, b_j) with a_i > b_j, ties counting ½. */
  uA: number;
  /** U of sample b: pairs with b_j > a_i, ties counting ½. uA + uB = nA·nB. */
  uB: number;
  nA: number;
  nB: number;
  /** Standardised uB (tie-corrected, continuity-corrected): positive when b tends to be larger. */
  z: number;
  /** Two-sided p-value. */
  pValue: number;
  /** P(random b > random a) + ½ P(tie) = uB / (nA·nB): 0.5 means no shift. */
  probabilityBGreater: number;
  method: 'exact' | 'asymptotic';
  /** Whether any values were tied. */
  ties: boolean;
}

/** Average ranks (1-based) of `values`, ties sharing the mean of their positions; plus Σ(t³ − t). */
export function rankWithTies(values: readonly number[]): { ranks: number[]; tieTerm: number } {
  const order = values.map((_, i) => i).sort((i, j) => values[i] - values[j]);
  const ranks = new Array<number>(values.length);
  let tieTerm = 0;
  let k = 0;
  while (k < order.length) {
    let end = k + 1;
    while (end < order.length && values[order[end]] === values[order[k]]) end++;
    const t = end - k;
    const avg = (k + 1 + end) / 2; // mean of ranks k+1 .. end
    for (let m = k; m < end; m++) ranks[order[m]] = avg;
    if (t > 1) tieTerm += t * t * t - t;
    k = end;
  }
  return { ranks, tieTerm };
}

/**
 * Mann-Whitney U test of a vs b (two-sided). NaN values are dropped. With fewer than one value in
 * either sample the result has pValue NaN.
 */
export function mannWhitneyU(
  a: readonly number[],
  b: readonly number[],
  opts: MannWhitneyOptions = {},
): MannWhitneyResult {
  const xa = a.filter((v) => Number.isFinite(v));
  const xb = b.filter((v) => Number.isFinite(v));
  const nA = xa.length;
  const nB = xb.length;
  if (nA === 0 || nB === 0) {
    return {
      u: NaN,
      uA: NaN,
      uB: NaN,
      nA,
      nB,
      z: NaN,
      pValue: NaN,
      probabilityBGreater: NaN,
      method: 'asymptotic',
      ties: false,
    };
  }
  const { ranks, tieTerm } = rankWithTies([...xa, ...xb]);
  let rankSumA = 0;
  for (let i = 0; i < nA; i++) rankSumA += ranks[i];
  const uA = rankSumA - (nA * (nA + 1)) / 2;
  const uB = nA * nB - uA;
  const n = nA + nB;
  const mean = (nA * nB) / 2;
  const variance = ((nA * nB) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const continuity = opts.continuity ?? true;
  const ties = tieTerm > 0;
  let z = 0;
  if (variance > 0) {
    const d = uB - mean;
    const cc = continuity ? Math.sign(d) * Math.min(0.5, Math.abs(d)) : 0;
    z = (d - cc) / Math.sqrt(variance);
  }
  const method = opts.method ?? 'auto';
  const useExact = method === 'exact' || (method === 'auto' && !ties && Math.min(nA, nB) <= 8);
  let pValue: number;
  if (useExact) {
    pValue = exactTwoSidedP(Math.max(uA, uB), nA, nB);
  } else {
    pValue = variance > 0 && z !== 0 ? Math.min(1, 2 * (1 - normalCdf(Math.abs(z)))) : 1;
  }
  return {
    u: Math.min(uA, uB),
    uA,
    uB,
    nA,
    nB,
    z,
    pValue,
    probabilityBGreater: uB / (nA * nB),
    method: useExact ? 'exact' : 'asymptotic',
    ties,
  };
}

/**
 * Exact two-sided p-value 2·P(U ≥ uMax) under H0 without ties, by counting rank arrangements
 * (f(m, n, k) = f(m−1, n, k−n) + f(m, n−1, k)). Fine for the small samples it is meant for.
 */
function exactTwoSidedP(uMax: number, nA: number, nB: number): number {
  const maxU = nA * nB;
  // dp[j][k]: number of arrangements of i a's and j b's with U_a = k, iterating i.
  let prev: Float64Array[] = [];
  for (let j = 0; j <= nB; j++) {
    const row = new Float64Array(maxU + 1);
    row[0] = 1; // i = 0: U = 0 in one way
    prev.push(row);
  }
  for (let i = 1; i <= nA; i++) {
    const cur: Float64Array[] = [];
    for (let j = 0; j <= nB; j++) {
      const row = new Float64Array(maxU + 1);
      for (let k = 0; k <= maxU; k++) {
        // Largest value is an a (beats all j b's): contributes j to U_a; or it is a b.
        let c = k - j >= 0 ? prev[j][k - j] : 0;
        if (j > 0) c += cur[j - 1][k];
        row[k] = c;
      }
      cur.push(row);
    }
    prev = cur;
  }
  const dist = prev[nB];
  let total = 0;
  let tail = 0;
  const threshold = Math.ceil(uMax - 1e-9);
  for (let k = 0; k <= maxU; k++) {
    total += dist[k];
    if (k >= threshold) tail += dist[k];
  }
  return Math.min(1, (2 * tail) / total);
}
