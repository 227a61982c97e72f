/** JSON Schema of the plan file syntax, for editors (`preflight schema > preflight.schema.json`). */
import { toJsonSchema } from './spec.js';
import { planSpec } from './syntax.js';

/**
 * A draft-07 JSON Schema describing plan files (YAML or JSON). Durations and rates carry patterns
 * and descriptions; per-executor required keys are `if`/`then` rules. The schema checks shape only:
 * `preflight validate` reports everything else (unit errors with hints, cross references, thresholds).
 */
export function planJsonSchema(): Record<string, unknown> {
  const body = toJsonSchema(planSpec);
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    ...body,
    title: 'Preflight plan',
    description: 'A Preflight load/SLO test plan: target, scenarios, thresholds and options. See docs/plan.md.',
  };
}
