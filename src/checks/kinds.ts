/**
 * The registry of check kinds, keyed as under `checks:` in a plan. The compiler checks that every kind
 * the plan side knows (src/plan/check-kinds.ts CHECK_KIND_SYNTAX) has its runner here.
 */
import type { CheckKindName } from '../plan/check-kinds.js';
import { deployKind } from './deploy.js';
import type { CheckKind } from './kind.js';
import { monitoringKind } from './monitoring.js';
import { networkKind } from './network.js';
import { securityKind } from './security.js';
import { consistencyKind } from './consistency.js';

export const CHECK_KINDS: { readonly [K in CheckKindName]: CheckKind<K> } = {
  network: networkKind,
  monitoring: monitoringKind,
  deploy: deployKind,
  security: securityKind,
  consistency: consistencyKind,
};
