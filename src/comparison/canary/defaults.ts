/**
 * The canary metrics judged when a plan names none — what a Flagger or Argo Rollouts user expects
 * from their built-in checks: request duration (an increase is harmful), request success (an
 * increase of errors is harmful and critical), and, when the scenario has labels, accuracy (a
 * decrease is harmful and critical).
 */
import type { CanaryMetricConfig } from '../../plan/comparison.js';

const base = {
  mustHaveData: false,
  nanStrategy: 'remove' as const,
  outliers: { strategy: 'keep' as const, factor: 3 },
};

export function defaultCanaryMetrics(hasLabels: boolean): CanaryMetricConfig[] {
  const metrics: CanaryMetricConfig[] = [
    {
      ...base,
      name: 'latency',
      metric: 'latency',
      group: 'latency',
      direction: 'increase',
      critical: false,
      mustHaveData: true,
      // A mean more than 10% higher: below that a shift is tolerated, as Flagger's thresholds do.
      effectSize: { measure: 'meanRatio', allowedIncrease: 1.1, allowedDecrease: 1.0 },
    },
    {
      ...base,
      name: 'error_rate',
      metric: 'error_rate',
      group: 'errors',
      direction: 'increase',
      critical: true,
      effectSize: { measure: 'meanRatio', allowedIncrease: 1.0, allowedDecrease: 1.0 },
    },
  ];
  if (hasLabels) {
    metrics.push({
      ...base,
      name: 'accuracy',
      metric: 'accuracy',
      group: 'quality',
      direction: 'decrease',
      critical: true,
      effectSize: { measure: 'meanRatio', allowedIncrease: 1.0, allowedDecrease: 1.0 },
    });
  }
  return metrics;
}
