/**
 * ML-aware shadow figures of one request, computed without allocating per call where it matters
 * (the sending thread calls them): score vectors as probabilities, top-k overlap, absolute
 * differences, Jensen–Shannon divergence; token-level edit distance of generated text.
 *
 * Scores are taken as probabilities when every score is in [0, 1] and they sum to 1 ± 0.01;
 * otherwise as logits, turned into probabilities by softmax. The Jensen–Shannon divergence uses
 * log base 2, so it lies in [0, 1].
 */

/** Tokens per side (after dropping the common prefix and suffix) the edit distance works on exactly. */
export const TEXT_TOKEN_LIMIT = 128;

/** Index of the largest score (the first of equals); -1 for an empty vector. */
export function argmax(s: readonly number[]): number {
  let best = -1;
  for (let i = 0; i < s.length; i++) if (best < 0 || s[i] > s[best]) best = i;
  return best;
}

/** How to read a score vector as probabilities: p_i = exp(s_i − shift) / z (softmax) or s_i / z. */
interface Norm {
  softmax: boolean;
  shift: number;
  z: number;
}

function norm(s: readonly number[]): Norm {
  let sum = 0;
  let max = Number.NEGATIVE_INFINITY;
  let probs = true;
  for (const v of s) {
    if (!(v >= 0 && v <= 1)) probs = false;
    sum += v;
    if (v > max) max = v;
  }
  if (probs && Math.abs(sum - 1) <= 0.01) return { softmax: false, shift: 0, z: sum };
  let z = 0;
  for (const v of s) z += Math.exp(v - max);
  return { softmax: true, shift: max, z };
}

const prob = (v: number, n: Norm) => (n.softmax ? Math.exp(v - n.shift) / n.z : v / n.z);

export interface ScoreComparison {
  /** |top-k(a) ∩ top-k(b)| / k. */
  topKOverlap: number;
  maxAbsDiff: number;
  meanAbsDiff: number;
  jsDivergence: number;
  /** Whether either side was read as logits (softmax applied). */
  softmax: boolean;
}

/** Indices of the k largest scores (ties: lower index first), into `out` (length k). */
function topK(s: readonly number[], k: number, out: number[]): void {
  out.length = 0;
  for (let i = 0; i < s.length; i++) {
    let pos = out.length;
    while (pos > 0 && s[out[pos - 1]] < s[i]) pos--;
    if (pos >= k) continue;
    out.splice(pos, 0, i);
    if (out.length > k) out.length = k;
  }
}

const topA: number[] = [];
const topB: number[] = [];

/** Compares two score vectors of the same length (> 0). */
export function compareScores(a: readonly number[], b: readonly number[], k: number): ScoreComparison {
  const na = norm(a);
  const nb = norm(b);
  let maxAbs = 0;
  let sumAbs = 0;
  let js = 0;
  for (let i = 0; i < a.length; i++) {
    const p = prob(a[i], na);
    const q = prob(b[i], nb);
    const d = Math.abs(p - q);
    if (d > maxAbs) maxAbs = d;
    sumAbs += d;
    const m = (p + q) / 2;
    if (p > 0) js += p * Math.log2(p / m);
    if (q > 0) js += q * Math.log2(q / m);
  }
  const kk = Math.max(1, Math.min(k, a.length));
  topK(a, kk, topA);
  topK(b, kk, topB);
  let common = 0;
  for (const i of topA) if (topB.includes(i)) common++;
  return {
    topKOverlap: common / kk,
    maxAbsDiff: maxAbs,
    meanAbsDiff: sumAbs / a.length,
    // Rounding can leave a tiny negative for identical vectors.
    jsDivergence: Math.max(0, js / 2),
    softmax: na.softmax || nb.softmax,
  };
}

export function tokens(text: string): string[] {
  const t = text.split(/\s+/);
  // split leaves '' at either end when the text starts or ends with whitespace
  if (t.length > 0 && t[0] === '') t.shift();
  if (t.length > 0 && t[t.length - 1] === '') t.pop();
  return t;
}

let row = new Int32Array(TEXT_TOKEN_LIMIT + 1);

/** Levenshtein distance of x[xs, xs + n) and y[ys, ys + m) (n, m ≤ TEXT_TOKEN_LIMIT). */
function levenshtein(x: string[], xs: number, n: number, y: string[], ys: number, m: number): number {
  if (n === 0) return m;
  if (m === 0) return n;
  if (row.length < m + 1) row = new Int32Array(m + 1);
  for (let j = 0; j <= m; j++) row[j] = j;
  for (let i = 1; i <= n; i++) {
    let diag = row[0];
    row[0] = i;
    const xi = x[xs + i - 1];
    for (let j = 1; j <= m; j++) {
      const up = row[j];
      const cost = xi === y[ys + j - 1] ? 0 : 1;
      let v = diag + cost;
      if (up + 1 < v) v = up + 1;
      if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
      row[j] = v;
      diag = up;
    }
  }
  return row[m];
}

export interface TextComparison {
  /** Token-level Levenshtein distance (an upper bound when `truncated`). */
  distance: number;
  /** distance / max(token counts), 0 for two empty texts. */
  normalised: number;
  exact: boolean;
  /** More than TEXT_TOKEN_LIMIT differing tokens on a side: the distance is the exact distance of the
   * first TEXT_TOKEN_LIMIT plus the longer remainder (an upper bound). */
  truncated: boolean;
}

export function compareText(a: string, b: string): TextComparison {
  if (a === b) return { distance: 0, normalised: 0, exact: true, truncated: false };
  const x = tokens(a);
  const y = tokens(b);
  let s = 0;
  while (s < x.length && s < y.length && x[s] === y[s]) s++;
  let e = 0;
  while (e < x.length - s && e < y.length - s && x[x.length - 1 - e] === y[y.length - 1 - e]) e++;
  const n = x.length - s - e;
  const m = y.length - s - e;
  const cn = Math.min(n, TEXT_TOKEN_LIMIT);
  const cm = Math.min(m, TEXT_TOKEN_LIMIT);
  const truncated = cn < n || cm < m;
  const distance = levenshtein(x, s, cn, y, s, cm) + Math.max(n - cn, m - cm);
  const longest = Math.max(x.length, y.length);
  // Equal token sequences with different whitespace: distance 0, not an exact match.
  return { distance, normalised: longest === 0 ? 0 : distance / longest, exact: false, truncated };
}
