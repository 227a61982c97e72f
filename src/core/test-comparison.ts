/** Test-only: a judged A/B comparison (v1 against v2, accuracy worse, p99 slower) for the verdict and report tests. */
import type { ComparisonSummary, StatTest } from './comparison.js';

export const ACCURACY_WORSE: StatTest = {
  metric: 'accuracy',
  method: 'mcnemar-exact',
  control: 0.985,
  candidate: 0.92,
  estimate: -0.065,
  scale: 'difference',
  ci: [-0.08, -0.05],
  confidence: 0.95,
  pValue: 0.00001,
  adjustedPValue: 0.00002,
  power: 0.99,
  minimumEffect: 0.01,
  unit: 'fraction',
  outcome: 'worse',
};

export function abComparison(p99: Partial<StatTest> = {}): ComparisonSummary {
  return {
    kind: 'ab',
    scenario: 'steady',
    control: 'v1',
    candidate: 'v2',
    verdict: 'fail',
    reasons: ['accuracy is worse: −6.5 pp'],
    ab: {
      alpha: 0.05,
      correction: 'holm',
      paired: true,
      tests: [
        ACCURACY_WORSE,
        {
          metric: 'latency.p99',
          method: 'block-bootstrap',
          control: 20,
          candidate: 24,
          estimate: 4,
          scale: 'difference',
          ci: [1, 7],
          confidence: 0.95,
          pValue: 0.01,
          unit: 'ms',
          outcome: 'worse',
          ...p99,
        },
      ],
    },
  };
}
