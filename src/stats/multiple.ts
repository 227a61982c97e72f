/**
 * Adjusted p-values for several metrics compared at once, with R's p.adjust semantics: Holm's
 * step-down (controls the family-wise error rate) and Benjamini–Hochberg's step-up (controls the
 * false discovery rate). NaN p-values are left out of the family and stay NaN.
 */

export type Correction = 'holm' | 'bh' | 'none';

export function adjustPValues(pValues: readonly number[], method: Correction): number[] {
  const out = pValues.map(() => NaN);
  const idx = pValues.map((_, i) => i).filter((i) => Number.isFinite(pValues[i]));
  const m = idx.length;
  if (method === 'none') {
    for (const i of idx) out[i] = pValues[i];
    return out;
  }
  if (method === 'holm') {
    // p_(k) · (m − k + 1), cumulative maximum upwards, capped at 1.
    const order = [...idx].sort((a, b) => pValues[a] - pValues[b]);
    let running = 0;
    order.forEach((i, k) => {
      running = Math.max(running, Math.min(1, (m - k) * pValues[i]));
      out[i] = running;
    });
    return out;
  }
  // BH: p_(k) · m / k, cumulative minimum downwards, capped at 1.
  const order = [...idx].sort((a, b) => pValues[b] - pValues[a]);
  let running = 1;
  order.forEach((i, j) => {
    const rank = m - j;
    running = Math.min(running, (m / rank) * pValues[i]);
    out[i] = Math.min(1, running);
  });
  return out;
}
