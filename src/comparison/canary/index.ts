/**
 * Canary judge: each configured metric classified (High / Low / Pass / NoData) by a classifier —
 * Preflight's own by default, or Kayenta's NetflixACAJudge — then scored per group into 0–100 and
 * pass / marginal / fail; progressive rollout steps and their actions; an HTTP gate for Argo
 * Rollouts and Flagger. A narrow public surface: src/comparison/index.ts re-exports it beside A/B
 * and shadow.
 */
export { type ActionResult, runAction } from './actions.js';
export { defaultCanaryMetrics } from './defaults.js';
export { canaryExitCode, flaggerStatus, type GateAnswer, type GateOptions, gateAnswer } from './gate.js';
export { type GateServer, type GateServerOptions, startGateServer } from './gate-server.js';
export { canaryClassifierFor, judgeCanary } from './judge.js';
export { KAYENTA_CONFIDENCE, KAYENTA_TOLERANCE, kayentaClassifier } from './kayenta.js';
export { actionFailed, decideStep, type StepDecision, type StepRecord } from './rollout.js';
export { metricData as canaryMetricData } from './score.js';
