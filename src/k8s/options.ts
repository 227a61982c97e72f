/**
 * `preflight k8s` options: the typed form the manifest builder takes, and the conversion from the
 * command line's strings with every problem located at its flag (`<args>` `--cpu`).
 */
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { tryParseDuration } from '../core/duration.js';
import { PreflightError, type Problem } from '../core/errors.js';

export type AntiAffinity = 'preferred' | 'required' | 'off';

/** How workers reach the coordinator: its HTTP Service, a NATS this run deploys, or an existing NATS. */
export type K8sTransport = { kind: 'http'; port: number } | { kind: 'nats-deploy' } | { kind: 'nats-url'; url: string };

export interface Resources {
  cpu: { request: string; limit: string };
  memory: { request: string; limit: string };
}

export interface K8sOptions {
  workers: number;
  image: string;
  namespace?: string;
  runId: string;
  transport: K8sTransport;
  /** The Secret the plan's `${VAR}`s are read from (key = variable name). */
  secret?: string;
  resources: Resources;
  nodeSelector: Record<string, string>;
  antiAffinity: AntiAffinity;
  /** Jobs (and their pods, with the coordinator's log) are deleted this long after they finish. */
  ttlSeconds: number;
  /** Passed to the coordinator: how long it waits for every worker to be ready. */
  readyTimeout: string;
  /** `activeDeadlineSeconds` of both Jobs: Kubernetes stops a run that is still going then (none by default). */
  deadlineSeconds?: number;
  /** A PersistentVolumeClaim for the results folder; without it an emptyDir, and summary.json goes to the log. */
  resultsPvc?: string;
}

export const MAX_WORKERS = 1000;
/** Keeps every derived name (`preflight-<id>-coordinator`, a worker pod's hostname) within 63 characters. */
export const MAX_RUN_ID = 40;
export const NATS_IMAGE = 'nats:2.10-alpine';
export const COORDINATOR_PORT = 8080;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kubernetes quantities as people write them: 500m, 2, 1.5, 512Mi, 2G. */
const QUANTITY = /^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const SUFFIX: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A quantity's value (cores, bytes), or NaN when it is not one. */
export function quantityValue(q: string): number {
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(q);
  if (!m || !QUANTITY.test(q)) return Number.NaN;
  return Number(m[1]) * (m[2] ? (SUFFIX[m[2]] ?? Number.NaN) : 1);
}

export function isDnsLabel(s: string, max = 63): boolean {
  return s.length <= max && DNS_LABEL.test(s);
}

/** A label key (`[prefix/]name`) is valid. */
export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (prefix !== undefined && !(prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

export function isLabelValue(v: string): boolean {
  return v === '' || (v.length <= 63 && LABEL_NAME.test(v));
}

/** A run id derived from the plan's file name and a random suffix: `load-test-k3x9q`. */
export function defaultRunId(planPath: string): string {
  const stem = basename(planPath)
    .replace(/\.(ya?ml|json)$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_RUN_ID - 6)
    .replace(/-+$/, '');
  const suffix = randomBytes(4).readUInt32BE(0).toString(36).padStart(5, '0').slice(-5);
  return /^[a-z]/.test(stem) ? `${stem}-${suffix}` : `run-${suffix}`;
}

/** The flags as parseArgs gives them. */
export interface K8sFlags {
  workers?: string;
  image?: string;
  namespace?: string;
  'run-id'?: string;
  'nats-url'?: string;
  nats?: string;
  secret?: string;
  cpu?: string;
  memory?: string;
  'node-selector'?: string[];
  'anti-affinity'?: string;
  ttl?: string;
  'ready-timeout'?: string;
  deadline?: string;
  'results-pvc'?: string;
}

/** `2` → request = limit = 2; `1:2` → request 1, limit 2. */
function requestLimit(flag: string, text: string, problems: Problem[]): { request: string; limit: string } | undefined {
  const [request, limit = request, ...rest] = text.split(':');
  const bad = [request, limit].find((q) => !QUANTITY.test(q));
  if (rest.length > 0 || bad !== undefined) {
    problems.push({
      file: '<args>',
      path: flag,
      message: `${flag} "${text}" is not a Kubernetes quantity (or request:limit)`,
      hint:
        flag === '--cpu' ? 'e.g. --cpu 2 (request = limit) or --cpu 500m:2' : 'e.g. --memory 1Gi or --memory 512Mi:2Gi',
    });
    return undefined;
  }
  if (quantityValue(limit) < quantityValue(request)) {
    problems.push({
      file: '<args>',
      path: flag,
      message: `${flag} limit ${limit} is below the request ${request}`,
      hint: 'the limit must be at least the request',
    });
    return undefined;
  }
  return { request, limit };
}

/**
 * The options from command-line flags; every problem at once (E_ARGS, exit 2). `planPath` gives the
 * default run id; `version` the default image tag.
 */
export function k8sOptionsFromFlags(flags: K8sFlags, planPath: string, version: string): K8sOptions {
  const problems: Problem[] = [];
  const at = (path: string, message: string, hint?: string) =>
    problems.push({ file: '<args>', path, message, ...(hint ? { hint } : {}) });
  let workers = Number.NaN;
  if (flags.workers === undefined) at('--workers', 'missing --workers', 'how many worker pods, e.g. --workers 4');
  else {
    workers = Number(flags.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS)
      at('--workers', `--workers must be an integer 1–${MAX_WORKERS}, got "${flags.workers}"`);
  }
  const image = flags.image ?? `preflight:${version}`;
  if (!/^[^\s]+$/.test(image))
    at('--image', `--image "${image}" is not an image reference`, 'e.g. registry.example.com/preflight:0.1.0');
  if (flags.namespace !== undefined && !isDnsLabel(flags.namespace))
    at(
      '--namespace',
      `--namespace "${flags.namespace}" is not a valid namespace name`,
      'lower-case letters, digits and -, at most 63',
    );
  const runId = flags['run-id'] ?? defaultRunId(planPath);
  if (!isDnsLabel(runId, MAX_RUN_ID) || !/^[a-z]/.test(runId))
    at(
      '--run-id',
      `--run-id "${runId}" is not usable in resource names`,
      `start with a letter; lower-case letters, digits and -; at most ${MAX_RUN_ID} characters`,
    );
  // Default: a NATS JetStream for the run. (The HTTP transport is not built yet: `preflight coordinator
  // --listen` refuses; the generator keeps its manifests for when it is.)
  let transport: K8sTransport = { kind: 'nats-deploy' };
  if (flags.nats !== undefined && flags['nats-url'] !== undefined)
    at('--nats', '--nats deploy and --nats-url are exclusive', 'deploy a NATS for this run, or use an existing one');
  else if (flags.nats !== undefined) {
    if (flags.nats !== 'deploy')
      at('--nats', `--nats takes "deploy", got "${flags.nats}"`, 'for an existing NATS: --nats-url nats://host:4222');
    else transport = { kind: 'nats-deploy' };
  } else if (flags['nats-url'] !== undefined) {
    const u = flags['nats-url'];
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(u) && !/^(nats|tls):\/\/[^\s/]+(,(nats|tls):\/\/[^\s/]+)*$/.test(u))
      at('--nats-url', `--nats-url "${u}" is not a NATS URL`, 'e.g. nats://nats.messaging.svc:4222');
    else transport = { kind: 'nats-url', url: u };
  }
  if (flags.secret !== undefined && !(flags.secret.length <= 253 && DNS_SUBDOMAIN.test(flags.secret)))
    at('--secret', `--secret "${flags.secret}" is not a valid Secret name`, 'lower-case letters, digits, - and .');
  const cpu = requestLimit('--cpu', flags.cpu ?? '1', problems);
  const memory = requestLimit('--memory', flags.memory ?? '1Gi', problems);
  const nodeSelector: Record<string, string> = {};
  for (const [i, s] of (flags['node-selector'] ?? []).entries()) {
    const eq = s.indexOf('=');
    const k = eq >= 0 ? s.slice(0, eq) : s;
    const v = eq >= 0 ? s.slice(eq + 1) : '';
    if (eq < 0 || !isLabelKey(k) || !isLabelValue(v))
      at(`--node-selector[${i + 1}]`, `--node-selector "${s}" is not label=value`, 'e.g. --node-selector pool=loadgen');
    else nodeSelector[k] = v;
  }
  const aa = flags['anti-affinity'] ?? 'preferred';
  if (aa !== 'preferred' && aa !== 'required' && aa !== 'off')
    at('--anti-affinity', `--anti-affinity takes preferred, required or off, got "${aa}"`);
  let ttlSeconds = 3600;
  if (flags.ttl !== undefined) {
    const d = tryParseDuration(flags.ttl);
    if (!d.ok || d.value < 0) at('--ttl', d.ok ? '--ttl must not be negative' : `--ttl: ${d.message}`, 'e.g. --ttl 1h');
    else ttlSeconds = Math.round(d.value / 1000);
  }
  const readyTimeout = flags['ready-timeout'] ?? '120s';
  const rt = tryParseDuration(readyTimeout);
  if (!rt.ok || rt.value <= 0)
    at('--ready-timeout', `--ready-timeout "${readyTimeout}" is not a duration`, 'e.g. 120s');
  let deadlineSeconds: number | undefined;
  if (flags.deadline !== undefined) {
    const d = tryParseDuration(flags.deadline);
    if (!d.ok || d.value < 1000)
      at(
        '--deadline',
        d.ok ? '--deadline must be at least 1s' : `--deadline: ${d.message}`,
        'e.g. --deadline 2h: longer than the plan runs',
      );
    else deadlineSeconds = Math.ceil(d.value / 1000);
  }
  const pvc = flags['results-pvc'];
  if (pvc !== undefined && !(pvc.length <= 253 && DNS_SUBDOMAIN.test(pvc)))
    at('--results-pvc', `--results-pvc "${pvc}" is not a valid claim name`);
  if (problems.length > 0 || !cpu || !memory)
    throw new PreflightError('E_ARGS', `invalid k8s option${problems.length === 1 ? '' : 's'}`, { problems });
  return {
    workers,
    image,
    ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
    runId,
    transport,
    ...(flags.secret !== undefined ? { secret: flags.secret } : {}),
    resources: { cpu, memory },
    nodeSelector,
    antiAffinity: aa as AntiAffinity,
    ttlSeconds,
    readyTimeout,
    ...(deadlineSeconds !== undefined ? { deadlineSeconds } : {}),
    ...(pvc !== undefined ? { resultsPvc: pvc } : {}),
  };
}
