/** `preflight k8s`: Kubernetes manifests that run a plan on N worker pods and a coordinator (docs/kubernetes.md). */
export { k8sManifests, manifestsYaml, writeManifests, kubectlApply } from './k8s.js';
export {
  buildManifests,
  COORDINATOR_WRAPPER,
  PLAN_MOUNT,
  RESULTS_MOUNT,
  CONFIGMAP_LIMIT_BYTES,
  names,
  runLabels,
} from './manifests.js';
export type { K8sBundle, K8sObject } from './manifests.js';
export { collectPlanFiles, INPUT_FILE_KEYS, NOT_INPUT_FILE_KEYS } from './plan-files.js';
export type { PlanFiles, PlanInputFile, PlanVariable } from './plan-files.js';
export { k8sOptionsFromFlags, defaultRunId, NATS_IMAGE, COORDINATOR_PORT, MAX_WORKERS, MAX_RUN_ID } from './options.js';
export type { K8sOptions, K8sFlags, K8sTransport, AntiAffinity, Resources } from './options.js';
