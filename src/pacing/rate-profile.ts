/**
 * A request rate over time, as stages (k6 semantics: each stage moves linearly from the previous
 * target to its own). Pure: maps elapsed time ↔ expected cumulative arrivals Λ(t), so arrival i of
 * any process is placed at Λ⁻¹(uᵢ), where uᵢ is the process's "operational time" (i for evenly
 * spaced arrivals, a sum of Exp(1) gaps for Poisson).
 */
export interface RateStage {
  durationS: number;
  /** Rate (per second) reached at the end of the stage. */
  target: number;
}

interface Segment {
  start: number;
  duration: number;
  from: number;
  to: number;
  /** Λ at segment start. */
  cum: number;
}

export class RateProfile {
  private readonly segments: Segment[] = [];
  readonly durationS: number;
  /** Λ over the whole profile: expected arrivals. */
  readonly totalArrivals: number;

  constructor(startRate: number, stages: RateStage[]) {
    let t = 0;
    let cum = 0;
    let from = startRate;
    for (const st of stages) {
      if (st.durationS <= 0) {
        from = st.target;
        continue;
      }
      this.segments.push({ start: t, duration: st.durationS, from, to: st.target, cum });
      cum += ((from + st.target) / 2) * st.durationS;
      t += st.durationS;
      from = st.target;
    }
    this.durationS = t;
    this.totalArrivals = cum;
  }

  static constant(rate: number, durationS: number): RateProfile {
    return new RateProfile(rate, [{ durationS, target: rate }]);
  }

  /** Rate at time t (per second). */
  rateAt(t: number): number {
    const s = this.segmentAt(t);
    if (!s) return 0;
    return s.from + ((s.to - s.from) * (t - s.start)) / s.duration;
  }

  /** Λ(t): expected arrivals in [0, t]. */
  cumulativeAt(t: number): number {
    if (t <= 0) return 0;
    if (t >= this.durationS) return this.totalArrivals;
    const s = this.segmentAt(t)!;
    const tau = t - s.start;
    return s.cum + s.from * tau + ((s.to - s.from) * tau * tau) / (2 * s.duration);
  }

  /**
   * Λ⁻¹(u): the time at which the expected count reaches u; Infinity at or past the end of the
   * profile (the window is half-open: 200/s for 1 s is arrivals 0 … 199).
   */
  timeAt(u: number): number {
    if (u < 0) return 0;
    if (u >= this.totalArrivals) return Infinity;
    // Binary search over segments by cumulative count.
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.segments[mid].cum <= u) lo = mid;
      else hi = mid - 1;
    }
    const s = this.segments[lo];
    const n = u - s.cum;
    const a = (s.to - s.from) / (2 * s.duration);
    const b = s.from;
    let tau: number;
    if (Math.abs(a) < 1e-12) {
      tau = b > 0 ? n / b : 0;
    } else {
      // a τ² + b τ − n = 0, root in [0, duration]; the form below is stable when b² ≫ 4an.
      const disc = Math.max(0, b * b + 4 * a * n);
      tau = (2 * n) / (b + Math.sqrt(disc));
      if (!Number.isFinite(tau)) tau = Math.sqrt(n / a);
    }
    return s.start + Math.min(Math.max(tau, 0), s.duration);
  }

  private segmentAt(t: number): Segment | undefined {
    if (t < 0 || t >= this.durationS) return undefined;
    for (let i = this.segments.length - 1; i >= 0; i--) if (this.segments[i].start <= t) return this.segments[i];
    return undefined;
  }
}
