/**
 * `preflight k8s`: the Kubernetes objects that run one plan on N worker pods and one coordinator.
 *
 * - ConfigMap: the plan and every file it references by a relative path, mounted read-only at
 *   /preflight/plan so that relative paths resolve as on the machine that generated it.
 * - Worker Indexed Job: `completionMode: Indexed`, completions = parallelism = N; each pod's index
 *   is JOB_COMPLETION_INDEX (set by Kubernetes). `backoffLimitPerIndex: 0`: a dead worker is not
 *   restarted (its segment would start again mid-run and double the load) and does not fail the
 *   other indexes — the coordinator names it and the plan decides (plain `backoffLimit: 0` would
 *   fail the Job and kill every other worker).
 * - Coordinator Job (not a Deployment): its exit code is the run's verdict, so `kubectl wait` and
 *   a pod failure policy see it. Verdict exit codes fail the Job at once; an eviction or a crash is
 *   retried only with NATS (JetStream keeps the windows; over HTTP they would be lost).
 * - A Service for the coordinator (HTTP transport), or a NATS JetStream Deployment + Service
 *   (`--nats deploy`), or nothing (`--nats-url`).
 * - No RBAC: no pod talks to the Kubernetes API (workers find the coordinator by its Service's DNS
 *   name or through NATS), so pods run without a service account token.
 */
import { posix, relative, sep } from 'node:path';
import { PreflightError, type Problem } from '../core/errors.js';
import type { PlanFiles } from './plan-files.js';
import { COORDINATOR_PORT, type K8sOptions, NATS_IMAGE } from './options.js';

/** A Kubernetes object as plain JSON. */
export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string } & Record<string, unknown>;
} & Record<string, unknown>;

/** Where the ConfigMap is mounted in every Preflight pod. */
export const PLAN_MOUNT = '/preflight/plan';
/** Where the coordinator writes its results folder (an emptyDir, or the --results-pvc claim). */
export const RESULTS_MOUNT = '/preflight/results';
/** Kubernetes' limit on a ConfigMap (the whole object, as stored). */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024;
/** The uid of the `node` user in the official node images (the Dockerfile runs as it). */
const RUN_AS = 1000;

/** Exit codes that are the run's answer (docs: README "Exit codes"): never retried. */
const VERDICT_EXIT_CODES = [1, 2, 3, 4, 5, 6, 7, 130];

/**
 * The coordinator's entry: runs `preflight "$@"`, forwards SIGTERM/SIGINT to it (a shell as PID 1
 * would not), then prints summary.json to the log between markers (so the verdict can be read with
 * `kubectl logs` even without a volume) and exits with preflight's exit code.
 */
export const COORDINATOR_WRAPPER = [
  'preflight "$@" &',
  'pid=$!',
  `trap 'kill -TERM "$pid" 2>/dev/null' TERM INT`,
  'while :; do wait "$pid"; code=$?; kill -0 "$pid" 2>/dev/null || break; done',
  'if [ -f "$PREFLIGHT_RESULTS_DIR/summary.json" ]; then',
  '  echo "----- BEGIN preflight summary.json -----"',
  '  cat "$PREFLIGHT_RESULTS_DIR/summary.json"',
  '  echo',
  '  echo "----- END preflight summary.json -----"',
  'fi',
  'exit "$code"',
].join('\n');

export interface K8sBundle {
  runId: string;
  objects: K8sObject[];
  /** The worker pods' plan path and arguments (for the report and the tests). */
  planPathInPod: string;
  /** Bytes of the ConfigMap as stored (JSON). */
  configMapBytes: number;
  warnings: Problem[];
}

export const names = (runId: string) => ({
  configMap: `preflight-${runId}-plan`,
  workers: `preflight-${runId}-worker`,
  coordinator: `preflight-${runId}-coordinator`,
  nats: `preflight-${runId}-nats`,
});

/** Labels on every object and pod of a run: `kubectl get all -l preflight/run-id=<id>`. */
export function runLabels(runId: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'preflight',
    'app.kubernetes.io/instance': runId,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': 'preflight',
    'preflight/run-id': runId,
  };
}

function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

/** The deepest folder containing all of `dirs` (absolute). */
function commonDir(dirs: string[]): string {
  let parts = dirs[0].split(sep);
  for (const d of dirs.slice(1)) {
    const q = d.split(sep);
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(sep) || sep;
}

/** A ConfigMap key for a relative path: `[-._a-zA-Z0-9]`, unique, at most 253 characters. */
function safeKey(rel: string, used: Set<string>): string {
  let base = rel.replace(/[^-._a-zA-Z0-9]/g, '_').replace(/^\.+/, '_');
  if (base.length > 240) base = base.slice(-240);
  let key = base;
  for (let n = 2; used.has(key); n++) key = `${base}-${n}`;
  used.add(key);
  return key;
}

function isUtf8(b: Buffer): boolean {
  return Buffer.from(b.toString('utf8'), 'utf8').equals(b);
}

function podSecurity() {
  return {
    pod: {
      runAsNonRoot: true,
      runAsUser: RUN_AS,
      runAsGroup: RUN_AS,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    container: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
  };
}

/** Builds every object of a run from what `collectPlanFiles` read. Throws when the ConfigMap would exceed 1 MiB. */
export function buildManifests(pf: PlanFiles, o: K8sOptions): K8sBundle {
  const n = names(o.runId);
  const ns = o.namespace !== undefined ? { namespace: o.namespace } : {};
  const meta = (name: string, component: string) => ({ name, ...ns, labels: runLabels(o.runId, component) });
  const warnings: Problem[] = [...pf.warnings];

  // ---- the plan and its files
  const root = commonDir(
    [pf.planFile, ...pf.files.map((f) => f.abs)].map((f) => f.slice(0, f.lastIndexOf(sep)) || sep),
  );
  const used = new Set<string>();
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  const items: Array<{ key: string; path: string }> = [];
  const sizes: Array<{ where: string; bytes: number }> = [];
  const entries = [
    { abs: pf.planFile, where: pf.planFile, content: Buffer.from(pf.planText, 'utf8') },
    ...pf.files.filter((f) => f.abs !== pf.planFile),
  ];
  for (const f of entries) {
    const rel = toPosix(relative(root, f.abs));
    const key = safeKey(rel, used);
    if (isUtf8(f.content)) data[key] = f.content.toString('utf8');
    else binaryData[key] = f.content.toString('base64');
    items.push({ key, path: rel });
    sizes.push({ where: `${f.abs} (${f.where})`, bytes: f.content.length });
  }
  const configMap: K8sObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(n.configMap, 'plan'),
    data,
    ...(Object.keys(binaryData).length > 0 ? { binaryData } : {}),
  };
  const configMapBytes = Buffer.byteLength(JSON.stringify(configMap), 'utf8');
  if (configMapBytes > CONFIGMAP_LIMIT_BYTES) {
    const biggest = sizes.sort((a, b) => b.bytes - a.bytes).slice(0, 5);
    throw new PreflightError(
      'E_DATA_INVALID',
      `the plan and its files take ${(configMapBytes / 2 ** 20).toFixed(2)} MiB in a ConfigMap; Kubernetes allows 1 MiB`,
      {
        problems: biggest.map((b, i) => ({
          message: `${(b.bytes / 1024).toFixed(1)} KiB: ${b.where}`,
          ...(i === 0
            ? {
                hint: 'build big data into the image (FROM preflight, COPY data/ /data/) and write its path absolute in the plan: absolute paths are not packed (docs/kubernetes.md)',
              }
            : {}),
        })),
      },
    );
  }
  const planPathInPod = posix.join(PLAN_MOUNT, toPosix(relative(root, pf.planFile)));

  // ---- what every Preflight pod shares
  if (pf.variables.length > 0 && o.secret === undefined)
    throw new PreflightError(
      'E_ARGS',
      'the plan reads variables from the environment: name the Secret that holds them',
      {
        problems: [
          {
            file: '<args>',
            path: '--secret',
            message: `the plan uses ${pf.variables.map((v) => `\${${v.name}}`).join(', ')}`,
            hint: `kubectl create secret generic preflight-secrets ${pf.variables.map((v) => `--from-literal=${v.name}=…`).join(' ')}, then --secret preflight-secrets`,
          },
        ],
      },
    );
  if (pf.variables.length === 0 && o.secret !== undefined)
    warnings.push({
      file: '<args>',
      path: '--secret',
      message: `the plan uses no \${VAR}: Secret ${o.secret} is not used`,
    });
  const secretEnv = pf.variables.map((v) => ({
    name: v.name,
    valueFrom: { secretKeyRef: { name: o.secret!, key: v.name, ...(v.optional ? { optional: true } : {}) } },
  }));
  const transportUrl =
    o.transport.kind === 'nats-url'
      ? o.transport.url
      : o.transport.kind === 'nats-deploy'
        ? `nats://${n.nats}:4222`
        : `http://${n.coordinator}:${o.transport.port}`;
  const nats = o.transport.kind !== 'http';
  const commonEnv = [
    { name: 'PREFLIGHT_RUN_ID', value: o.runId },
    { name: 'PREFLIGHT_WORKERS', value: String(o.workers) },
    nats
      ? { name: 'PREFLIGHT_NATS_URL', value: transportUrl }
      : { name: 'PREFLIGHT_COORDINATOR_URL', value: transportUrl },
  ];
  const transportArgs = nats ? ['--nats', transportUrl] : ['--coordinator', transportUrl];
  const sec = podSecurity();
  const volumes = (results: boolean) => [
    { name: 'plan', configMap: { name: n.configMap, items } },
    { name: 'tmp', emptyDir: {} },
    ...(results
      ? [
          o.resultsPvc !== undefined
            ? { name: 'results', persistentVolumeClaim: { claimName: o.resultsPvc } }
            : { name: 'results', emptyDir: {} },
        ]
      : []),
  ];
  const mounts = (results: boolean) => [
    { name: 'plan', mountPath: PLAN_MOUNT, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    ...(results ? [{ name: 'results', mountPath: RESULTS_MOUNT }] : []),
  ];
  const podBase = {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: sec.pod,
    ...(Object.keys(o.nodeSelector).length > 0 ? { nodeSelector: o.nodeSelector } : {}),
  };

  // ---- workers: one Indexed Job
  const workerSelector = { matchLabels: { 'preflight/run-id': o.runId, 'app.kubernetes.io/component': 'worker' } };
  const term = { labelSelector: workerSelector, topologyKey: 'kubernetes.io/hostname' };
  const affinity =
    o.antiAffinity === 'off'
      ? {}
      : {
          affinity: {
            podAntiAffinity:
              o.antiAffinity === 'required'
                ? { requiredDuringSchedulingIgnoredDuringExecution: [term] }
                : { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term }] },
          },
        };
  const resources = {
    requests: { cpu: o.resources.cpu.request, memory: o.resources.memory.request },
    limits: { cpu: o.resources.cpu.limit, memory: o.resources.memory.limit },
  };
  const workerJob: K8sObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(n.workers, 'worker'),
    spec: {
      completionMode: 'Indexed',
      completions: o.workers,
      parallelism: o.workers,
      backoffLimitPerIndex: 0,
      ttlSecondsAfterFinished: o.ttlSeconds,
      ...(o.deadlineSeconds !== undefined ? { activeDeadlineSeconds: o.deadlineSeconds } : {}),
      template: {
        metadata: { labels: runLabels(o.runId, 'worker') },
        spec: {
          ...podBase,
          restartPolicy: 'Never',
          ...affinity,
          containers: [
            {
              name: 'worker',
              image: o.image,
              imagePullPolicy: 'IfNotPresent',
              args: ['worker', planPathInPod, '--workers', String(o.workers), '--run-id', o.runId, ...transportArgs],
              workingDir: '/tmp',
              env: [...commonEnv, ...secretEnv],
              resources,
              securityContext: sec.container,
              volumeMounts: mounts(false),
            },
          ],
          volumes: volumes(false),
        },
      },
    },
  };

  // ---- the coordinator: a Job whose exit code is the verdict
  const resultsDir = posix.join(RESULTS_MOUNT, o.runId);
  const coordArgs = [
    'coordinator',
    planPathInPod,
    '--workers',
    String(o.workers),
    '--run-id',
    o.runId,
    '--out',
    resultsDir,
    '--ready-timeout',
    o.readyTimeout,
    ...(nats ? ['--nats', transportUrl] : ['--listen', `0.0.0.0:${COORDINATOR_PORT}`]),
  ];
  const coordinatorJob: K8sObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta(n.coordinator, 'coordinator'),
    spec: {
      backoffLimit: nats ? 2 : 0,
      ttlSecondsAfterFinished: o.ttlSeconds,
      ...(o.deadlineSeconds !== undefined ? { activeDeadlineSeconds: o.deadlineSeconds } : {}),
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
          {
            action: 'FailJob',
            onExitCodes: { containerName: 'coordinator', operator: 'In', values: VERDICT_EXIT_CODES },
          },
        ],
      },
      template: {
        metadata: { labels: runLabels(o.runId, 'coordinator') },
        spec: {
          ...podBase,
          restartPolicy: 'Never',
          containers: [
            {
              name: 'coordinator',
              image: o.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['/bin/sh', '-c', COORDINATOR_WRAPPER, 'preflight'],
              args: coordArgs,
              workingDir: '/tmp',
              env: [...commonEnv, { name: 'PREFLIGHT_RESULTS_DIR', value: resultsDir }, ...secretEnv],
              ...(nats
                ? {}
                : {
                    ports: [{ name: 'coordinator', containerPort: COORDINATOR_PORT }],
                    // The Service sends workers here only once the coordinator listens.
                    readinessProbe: { tcpSocket: { port: 'coordinator' }, periodSeconds: 2 },
                  }),
              resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
              securityContext: sec.container,
              volumeMounts: mounts(true),
            },
          ],
          volumes: volumes(true),
        },
      },
    },
  };

  const objects: K8sObject[] = [configMap];
  if (o.transport.kind === 'nats-deploy') objects.push(...natsObjects(o, meta));
  if (!nats)
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(n.coordinator, 'coordinator'),
      spec: {
        selector: { 'preflight/run-id': o.runId, 'app.kubernetes.io/component': 'coordinator' },
        ports: [{ name: 'coordinator', port: COORDINATOR_PORT, targetPort: 'coordinator' }],
      },
    });
  objects.push(coordinatorJob, workerJob);
  return { runId: o.runId, objects, planPathInPod, configMapBytes, warnings };
}

/** A one-replica NATS with JetStream for this run (storage in an emptyDir: it lives as long as the pod). */
function natsObjects(
  o: K8sOptions,
  meta: (name: string, component: string) => { name: string; labels: Record<string, string> },
): K8sObject[] {
  const name = names(o.runId).nats;
  const sec = podSecurity();
  const selector = { 'preflight/run-id': o.runId, 'app.kubernetes.io/component': 'nats' };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name, 'nats'),
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: runLabels(o.runId, 'nats') },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            // nats-server needs no root (ports above 1024, storage in the emptyDir): restricted like the rest.
            securityContext: sec.pod,
            ...(Object.keys(o.nodeSelector).length > 0 ? { nodeSelector: o.nodeSelector } : {}),
            containers: [
              {
                name: 'nats',
                securityContext: sec.container,
                image: NATS_IMAGE,
                args: ['-js', '-sd', '/data', '-m', '8222'],
                ports: [
                  { name: 'client', containerPort: 4222 },
                  { name: 'monitor', containerPort: 8222 },
                ],
                readinessProbe: {
                  httpGet: { path: '/healthz?js-enabled-only=true', port: 'monitor' },
                  periodSeconds: 2,
                },
                resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name, 'nats'),
      spec: { selector, ports: [{ name: 'client', port: 4222, targetPort: 'client' }] },
    },
  ];
}
