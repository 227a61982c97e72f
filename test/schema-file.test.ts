/**
 * docs/plan.schema.json (what the examples' `yaml-language-server: $schema=` lines point editors at)
 * must be exactly what `preflight schema` prints. Regenerate: `npx preflight schema > docs/plan.schema.json`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { planJsonSchema } from '../src/plan/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

test('docs/plan.schema.json is up to date with the plan syntax', () => {
  const committed = JSON.parse(fs.readFileSync(path.join(root, 'docs', 'plan.schema.json'), 'utf8'));
  assert.deepEqual(
    committed,
    JSON.parse(JSON.stringify(planJsonSchema())),
    'run: npx preflight schema > docs/plan.schema.json',
  );
});

test('every example plan names the schema and validates', async () => {
  const { checkPlanFile } = await import('../src/plan/index.js');
  const dir = path.join(root, 'examples');
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    assert.match(text, /\$schema=\.\.\/docs\/plan\.schema\.json/, `${f} names the schema`);
    const v = await checkPlanFile(path.join(dir, f));
    assert.deepEqual(v.problems, [], `${f}: ${JSON.stringify(v.problems)}`);
  }
});
