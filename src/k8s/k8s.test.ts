import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { PreflightError } from '../core/errors.js';
import { checkPlanFile, planJsonSchema } from '../plan/index.js';
import {
  buildManifests,
  CONFIGMAP_LIMIT_BYTES,
  COORDINATOR_WRAPPER,
  collectPlanFiles,
  INPUT_FILE_KEYS,
  type K8sFlags,
  type K8sObject,
  type K8sOptions,
  k8sManifests,
  k8sOptionsFromFlags,
  manifestsYaml,
  NOT_INPUT_FILE_KEYS,
  writeManifests,
} from './index.js';
import { roundTrips, schemaErrors } from './test-schema.js';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-k8s-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let dirs = 0;
function tmp(): string {
  const d = path.join(tmpRoot, String(dirs++));
  fs.mkdirSync(d, { recursive: true });
  return d;
}
function write(file: string, content: string | Buffer): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

const SECRET_VALUE = 'sk-live-0123456789abcdef';
const CSV = 'x,label,path\n1,0,img/a.bin\n2,1,img/b.bin\n';

/**
 * A project laid out as people do: the plan in plans/, shared data one level up, a CA in certs/,
 * binary payload files named in data rows, a secret header and a variable with a default.
 */
function project(): { dir: string; plan: string } {
  const dir = tmp();
  write(path.join(dir, 'shared', 'rows.csv'), CSV);
  write(path.join(dir, 'shared', 'golden.jsonl'), '{"row":0,"outputs":[0.1,0.9]}\n');
  write(path.join(dir, 'certs', 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  write(path.join(dir, 'plans', 'img', 'a.bin'), Buffer.from([0xff, 0x00, 0xfe, 0x80]));
  write(path.join(dir, 'plans', 'img', 'b.bin'), Buffer.from([0xc3, 0x28, 0x01]));
  write(path.join(dir, 'plans', 'raw.csv'), 'path\nimg/a.bin\nimg/b.bin\n');
  write(path.join(dir, 'plans', 'trace.csv'), 'timestamp\n0\n0.5\n1\n');
  const plan = write(
    path.join(dir, 'plans', 'main.yaml'),
    `target:
  url: https://model.internal:8443
  headers: { Authorization: "Bearer \${API_TOKEN}" }
  tls: { caFile: ../certs/ca.pem }
scenarios:
  tensors:
    executor: constant-arrival-rate
    protocol: kserve-v2
    model: "\${MODEL:-digits}"
    rate: 10/s
    duration: 5s
    data: { file: ../shared/rows.csv, inputs: [ { name: input, columns: [x], datatype: FP32 } ], label: label }
    quality: { task: classification, golden: { file: ../shared/golden.jsonl, tolerance: 0.001 } }
  images:
    executor: constant-concurrency
    protocol: torchserve
    model: digits
    concurrency: 2
    duration: 5s
    torchserve: { payload: raw, column: path, encoding: file }
    data: { file: raw.csv }
  replayed:
    executor: replay
    trace: { file: trace.csv }
    request: { path: /x }
`,
  );
  return { dir, plan };
}

const ENV = { API_TOKEN: SECRET_VALUE };

function options(over: Partial<K8sOptions> = {}): K8sOptions {
  return {
    ...k8sOptionsFromFlags({ workers: '4', 'run-id': 'smoke-1', secret: 'model-creds' }, 'p.yaml', '0.1.0'),
    ...over,
  };
}

const byKind = (objs: K8sObject[], kind: string, component?: string) =>
  objs.filter(
    (o) =>
      o.kind === kind &&
      (component === undefined ||
        (o.metadata['labels'] as Record<string, string>)['app.kubernetes.io/component'] === component),
  );

// biome-ignore lint/suspicious/noExplicitAny: walking generated JSON by hand in assertions
type J = any;
const podSpec = (job: K8sObject): J => (job as J).spec.template.spec;

/** Writes the ConfigMap's items into `dir` as the kubelet would mount them. */
function materialise(objs: K8sObject[], dir: string): void {
  const cm = byKind(objs, 'ConfigMap')[0] as J;
  const items: Array<{ key: string; path: string }> = podSpec(byKind(objs, 'Job', 'worker')[0]).volumes.find(
    (v: J) => v.name === 'plan',
  ).configMap.items;
  for (const it of items) {
    const text = cm.data?.[it.key];
    const bin = cm.binaryData?.[it.key];
    assert.ok(text !== undefined || bin !== undefined, `item ${it.key} has no data`);
    write(path.join(dir, it.path), text !== undefined ? text : Buffer.from(bin, 'base64'));
  }
}

const TRANSPORTS: Array<[string, Partial<K8sOptions>]> = [
  ['http (the transport to come)', { transport: { kind: 'http', port: 8080 } }],
  ['default (nats deploy)', {}],
  ['nats deploy', { transport: { kind: 'nats-deploy' } }],
  ['nats url', { transport: { kind: 'nats-url', url: 'nats://nats.messaging.svc:4222' } }],
  [
    'required anti-affinity, node selector, PVC, namespace',
    {
      antiAffinity: 'required',
      nodeSelector: { 'cloud.google.com/gke-nodepool': 'loadgen' },
      resultsPvc: 'preflight-results',
      namespace: 'loadtest',
    },
  ],
  ['no anti-affinity, a deadline', { antiAffinity: 'off', deadlineSeconds: 7200 }],
];

for (const [name, over] of TRANSPORTS) {
  test(`every generated object matches the Kubernetes API types and round-trips (${name})`, async () => {
    const { plan } = project();
    const b = await k8sManifests(plan, options(over), ENV);
    assert.ok(b.objects.length >= 3);
    for (const o of b.objects) {
      assert.deepEqual(schemaErrors(o), [], `${o.kind} ${o.metadata.name}`);
      assert.ok(roundTrips(o), `${o.kind} ${o.metadata.name} changes through ObjectSerializer`);
    }
    // The YAML stream parses back into the same objects.
    const docs = parseAllDocuments(manifestsYaml(b.objects)).map((d) => d.toJSON());
    assert.deepEqual(docs, JSON.parse(JSON.stringify(b.objects)));
  });
}

test('the schema check rejects what the API server would: unknown fields, wrong types, missing required fields', async () => {
  const { plan } = project();
  const job = (await k8sManifests(plan, options(), ENV)).objects.find((o) => o.kind === 'Job')! as J;
  const clone = () => JSON.parse(JSON.stringify(job));
  const a = clone();
  a.spec.completionsMode = 'Indexed'; // a typo
  assert.match(schemaErrors(a).join('\n'), /unknown field "completionsMode" in V1JobSpec/);
  const b = clone();
  b.spec.parallelism = '4';
  assert.match(schemaErrors(b).join('\n'), /spec\.parallelism: expected a number/);
  const c = clone();
  c.spec.backoffLimit = 1.5;
  assert.match(schemaErrors(c).join('\n'), /expected an integer/);
  const d = clone();
  delete d.spec.template.spec.containers[0].name;
  assert.match(schemaErrors(d).join('\n'), /missing required field "name" of V1Container/);
  const e = clone();
  e.spec.template.spec.containers[0].env[0].valueFrom = { secretKeyRef: { key: 'X', optional: 'yes' } };
  assert.match(schemaErrors(e).join('\n'), /optional: expected a boolean/);
  assert.equal(roundTrips(a), false, 'ObjectSerializer drops the unknown field');
});

const names63 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

test('what the API server checks beyond types: names, labels, keys, mounts, selectors, Job rules', async () => {
  const { plan } = project();
  for (const [, over] of TRANSPORTS) {
    const objs = (await k8sManifests(plan, options(over), ENV)).objects;
    for (const o of objs as J[]) {
      assert.ok(o.metadata.name.length <= 63 && names63.test(o.metadata.name), o.metadata.name);
      for (const [k, v] of Object.entries(o.metadata.labels as Record<string, string>)) {
        assert.match(k, /^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
        assert.ok(v.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v), v);
      }
      assert.equal(o.metadata.labels['preflight/run-id'], 'smoke-1', 'every object carries the run id');
      if (over.namespace) assert.equal(o.metadata.namespace, over.namespace);
    }
    const cm = byKind(objs, 'ConfigMap')[0] as J;
    const keys = [...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})];
    assert.equal(new Set(keys).size, keys.length, 'data and binaryData keys are disjoint');
    for (const k of keys) assert.match(k, /^[-._a-zA-Z0-9]{1,253}$/);
    for (const job of [...byKind(objs, 'Job'), ...byKind(objs, 'Deployment')]) {
      const spec = podSpec(job);
      const vols = new Set(spec.volumes.map((v: J) => v.name));
      for (const c of spec.containers) {
        assert.match(c.name, names63);
        for (const m of c.volumeMounts) assert.ok(vols.has(m.name), `${c.name} mounts ${m.name}`);
        for (const e of c.env ?? []) assert.match(e.name, /^[A-Za-z_][A-Za-z0-9_]*$/);
      }
      for (const v of spec.volumes)
        for (const it of v.configMap?.items ?? []) {
          assert.ok(keys.includes(it.key), `item ${it.key} is in the ConfigMap`);
          assert.ok(!path.posix.isAbsolute(it.path) && !it.path.split('/').includes('..'), it.path);
        }
      // The restricted Pod Security Standard.
      assert.equal(spec.securityContext.runAsNonRoot, true);
      assert.equal(spec.securityContext.seccompProfile.type, 'RuntimeDefault');
      for (const c of spec.containers) {
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      }
      for (const v of spec.volumes) assert.ok(v.configMap || v.emptyDir || v.persistentVolumeClaim, v.name);
      if (job.kind === 'Job') {
        // Indexed pods are named <job>-<index>: the hostname must stay a DNS label.
        assert.ok(`${job.metadata.name}-999`.length <= 63);
        if ((job as J).spec.podFailurePolicy) assert.equal(spec.restartPolicy, 'Never');
        if ((job as J).spec.backoffLimitPerIndex !== undefined) assert.equal((job as J).spec.completionMode, 'Indexed');
        assert.equal(spec.automountServiceAccountToken, false, 'no pod needs the Kubernetes API');
      }
    }
    // Every Service selects the pods it is for.
    for (const svc of byKind(objs, 'Service') as J[]) {
      const target = [...byKind(objs, 'Job'), ...byKind(objs, 'Deployment')].find((w) =>
        Object.entries(svc.spec.selector).every(([k, v]) => (w as J).spec.template.metadata.labels[k] === v),
      ) as J;
      assert.ok(target, `${svc.metadata.name} selects a pod template`);
      const ports = target.spec.template.spec.containers.flatMap((c: J) => c.ports.map((p: J) => p.name));
      for (const p of svc.spec.ports) assert.ok(ports.includes(p.targetPort), `${p.targetPort} is a named port`);
    }
  }
});

// The worker/coordinator command lines, exactly as the scale-out commands define them.
const WORKER_FLAGS = {
  index: { type: 'string' },
  workers: { type: 'string' },
  nats: { type: 'string' },
  coordinator: { type: 'string' },
  'run-id': { type: 'string' },
} as const;
const COORDINATOR_FLAGS = {
  workers: { type: 'string' },
  nats: { type: 'string' },
  listen: { type: 'string' },
  'run-id': { type: 'string' },
  out: { type: 'string' },
  'ready-timeout': { type: 'string' },
} as const;
const CONTRACT_ENV = ['PREFLIGHT_WORKERS', 'PREFLIGHT_NATS_URL', 'PREFLIGHT_COORDINATOR_URL', 'PREFLIGHT_RUN_ID'];

test('worker and coordinator pods run the scale-out contract: Indexed Job, index from Kubernetes, flags and env agree', async () => {
  const { plan } = project();
  for (const [name, over] of TRANSPORTS) {
    const b = await k8sManifests(plan, options(over), ENV);
    const worker = byKind(b.objects, 'Job', 'worker')[0] as J;
    assert.equal(worker.spec.completionMode, 'Indexed', name);
    assert.equal(worker.spec.completions, 4);
    assert.equal(worker.spec.parallelism, 4);
    assert.equal(worker.spec.backoffLimitPerIndex, 0, 'a dead worker is not restarted mid-run');
    const wc = podSpec(worker).containers[0];
    const w = parseArgs({ args: wc.args, options: WORKER_FLAGS, allowPositionals: true, strict: true });
    assert.deepEqual(w.positionals, ['worker', b.planPathInPod]);
    assert.equal(w.values.index, undefined, 'the index comes from JOB_COMPLETION_INDEX, set by Kubernetes');
    assert.ok(!wc.env.some((e: J) => e.name === 'JOB_COMPLETION_INDEX'), 'not overridden');
    assert.equal(w.values.workers, '4');
    assert.equal(w.values['run-id'], 'smoke-1');
    assert.ok((w.values.nats === undefined) !== (w.values.coordinator === undefined), 'exactly one transport');
    const env = Object.fromEntries(wc.env.filter((e: J) => 'value' in e).map((e: J) => [e.name, e.value]));
    for (const k of Object.keys(env)) assert.ok(CONTRACT_ENV.includes(k), `${k} is a contract variable`);
    assert.equal(env['PREFLIGHT_WORKERS'], '4');
    assert.equal(env['PREFLIGHT_RUN_ID'], 'smoke-1');
    assert.equal(env['PREFLIGHT_NATS_URL'], w.values.nats);
    assert.equal(env['PREFLIGHT_COORDINATOR_URL'], w.values.coordinator);
    const coord = byKind(b.objects, 'Job', 'coordinator')[0] as J;
    const cc = podSpec(coord).containers[0];
    assert.deepEqual(cc.command.slice(0, 2), ['/bin/sh', '-c']);
    const c = parseArgs({ args: cc.args, options: COORDINATOR_FLAGS, allowPositionals: true, strict: true });
    assert.deepEqual(c.positionals, ['coordinator', b.planPathInPod]);
    assert.equal(c.values.workers, '4');
    assert.equal(c.values['run-id'], 'smoke-1');
    assert.equal(c.values['ready-timeout'], '120s');
    assert.equal(c.values.out, '/preflight/results/smoke-1');
    if (over.transport?.kind === 'nats-url') assert.equal(c.values.nats, 'nats://nats.messaging.svc:4222');
    if (over.transport?.kind === 'nats-deploy') {
      assert.equal(c.values.nats, 'nats://preflight-smoke-1-nats:4222');
      const nats = byKind(b.objects, 'Deployment', 'nats')[0] as J;
      assert.deepEqual(podSpec(nats).containers[0].image, 'nats:2.10-alpine');
      assert.ok(podSpec(nats).containers[0].args.includes('-js'));
    }
    if (over.transport?.kind === 'http') {
      assert.equal(c.values.listen, '0.0.0.0:8080');
      assert.equal(w.values.coordinator, 'http://preflight-smoke-1-coordinator:8080');
      assert.equal(byKind(b.objects, 'Service', 'coordinator').length, 1);
    } else assert.equal(byKind(b.objects, 'Service', 'coordinator').length, 0, 'NATS: no coordinator Service');
    // Verdicts fail the coordinator Job at once (never re-run); only NATS allows a restart after a crash.
    assert.deepEqual(coord.spec.podFailurePolicy.rules[1].onExitCodes.values, [1, 2, 3, 4, 5, 6, 7, 130]);
    assert.equal(coord.spec.backoffLimit, over.transport?.kind === 'http' ? 0 : 2);
    for (const job of [worker, coord]) {
      assert.equal(job.spec.ttlSecondsAfterFinished, 3600);
      assert.equal(job.spec.activeDeadlineSeconds, over.deadlineSeconds);
    }
  }
});

test('anti-affinity: preferred by default (one worker per node when there are nodes enough), required on request', async () => {
  const { plan } = project();
  const aff = async (o: Partial<K8sOptions>) =>
    podSpec(byKind((await k8sManifests(plan, options(o), ENV)).objects, 'Job', 'worker')[0]).affinity;
  const pref = (await aff({})).podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0];
  assert.equal(pref.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
  assert.deepEqual(pref.podAffinityTerm.labelSelector.matchLabels, {
    'preflight/run-id': 'smoke-1',
    'app.kubernetes.io/component': 'worker',
  });
  assert.ok((await aff({ antiAffinity: 'required' })).podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution);
  assert.equal(await aff({ antiAffinity: 'off' }), undefined);
});

test('the ConfigMap carries the plan and every file it references; mounted, the plan resolves as it does here', async () => {
  const { dir, plan } = project();
  const pf = await collectPlanFiles(plan, ENV);
  const packed = pf.files.map((f) => path.relative(dir, f.abs)).sort();
  assert.deepEqual(packed, [
    'certs/ca.pem',
    'plans/img/a.bin',
    'plans/img/b.bin',
    'plans/raw.csv',
    'plans/trace.csv',
    'shared/golden.jsonl',
    'shared/rows.csv',
  ]);
  const b = buildManifests(pf, options());
  assert.equal(
    b.planPathInPod,
    '/preflight/plan/plans/main.yaml',
    'the common folder of the plan and its files is the mount',
  );
  // Mount it as the kubelet would, and load the plan there with the real loader.
  const pod = tmp();
  materialise(b.objects, pod);
  const inPod = path.join(pod, path.relative('/preflight/plan', b.planPathInPod));
  const checked = await checkPlanFile(inPod, { env: ENV });
  assert.deepEqual(checked.problems, []);
  const sc = checked.plan!.scenarios;
  assert.equal(fs.readFileSync(sc[0].data!.file, 'utf8'), CSV);
  assert.ok(sc[0].data!.file.startsWith(pod), 'resolved inside the mount');
  assert.deepEqual(fs.readFileSync(path.join(pod, 'plans', 'img', 'a.bin')), Buffer.from([0xff, 0x00, 0xfe, 0x80]));
  const cm = byKind(b.objects, 'ConfigMap')[0] as J;
  assert.equal(Object.keys(cm.binaryData).length, 2, 'non-UTF-8 files go to binaryData');
  assert.ok(b.configMapBytes < CONFIGMAP_LIMIT_BYTES);
});

test('secrets: ${VAR}s are secretKeyRefs of the named Secret (optional with a default), never values', async () => {
  const { plan } = project();
  const b = await k8sManifests(plan, options(), ENV);
  const yaml = manifestsYaml(b.objects);
  assert.ok(!yaml.includes(SECRET_VALUE), 'the secret value is nowhere in the manifests');
  for (const job of byKind(b.objects, 'Job')) {
    const env = podSpec(job).containers[0].env.filter((e: J) => e.valueFrom);
    assert.deepEqual(env, [
      { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'model-creds', key: 'API_TOKEN' } } },
      { name: 'MODEL', valueFrom: { secretKeyRef: { name: 'model-creds', key: 'MODEL', optional: true } } },
    ]);
  }
  // Without --secret: a located error with the command that makes the Secret; nothing is printed of the value.
  const err = await k8sManifests(plan, { ...options(), secret: undefined }, ENV).catch((e: unknown) => e);
  assert.ok(err instanceof PreflightError && err.code === 'E_ARGS');
  assert.equal(err.problems[0].path, '--secret');
  assert.match(
    err.problems[0].hint!,
    /kubectl create secret generic .* --from-literal=API_TOKEN=… --from-literal=MODEL=…/,
  );
  assert.ok(!JSON.stringify(err.problems).includes(SECRET_VALUE));
  // An unset variable here is not a problem: the pods get it from the Secret.
  const unset = await k8sManifests(plan, options(), {});
  assert.ok(!manifestsYaml(unset.objects).includes('placeholder'));
});

test('over 1 MiB: a clear error naming the biggest files, with the hint to build data into the image', async () => {
  const { dir, plan } = project();
  write(path.join(dir, 'shared', 'rows.csv'), `x,label,path\n${'1,0,img/a.bin\n'.repeat(80_000)}`);
  const err = await k8sManifests(plan, options(), ENV).catch((e: unknown) => e);
  assert.ok(err instanceof PreflightError, String(err));
  assert.equal(err.code, 'E_DATA_INVALID');
  assert.equal(err.exitCode, 2);
  assert.match(err.message, /take 1\.\d\d MiB in a ConfigMap; Kubernetes allows 1 MiB/);
  assert.match(err.problems[0].message, /KiB: .*shared\/rows\.csv/);
  assert.match(err.problems[0].hint!, /build big data into the image .* absolute/);
});

test('an absolute path is the image’s: not packed, not required here, and said so', async () => {
  const dir = tmp();
  const plan = write(
    path.join(dir, 'plan.yaml'),
    `target: { url: http://127.0.0.1:9 }
scenarios:
  a: { executor: constant-arrival-rate, rate: 1/s, duration: 1s, protocol: http, request: { path: /x },
       data: { file: /data/in-the-image/rows.csv } }
`,
  );
  const b = await k8sManifests(plan, options({ secret: undefined }), {});
  const cm = byKind(b.objects, 'ConfigMap')[0] as J;
  assert.deepEqual(Object.keys(cm.data), ['plan.yaml']);
  assert.match(
    b.warnings.map((w) => w.message).join('\n'),
    /\/data\/in-the-image\/rows\.csv is an absolute path: not packed/,
  );
});

test('every file key of the plan schema is classified: packed input, or not an input (a new key cannot be forgotten)', () => {
  const seen = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const props = (node as { properties?: Record<string, unknown> }).properties;
    if (props) for (const k of Object.keys(props)) if (/(^file|File)$/.test(k) || /golden/i.test(k)) seen.add(k);
    for (const v of Object.values(node)) walk(v);
  };
  walk(planJsonSchema());
  assert.ok(seen.has('file') && seen.has('caFile'), 'the walk finds the known keys');
  for (const k of seen)
    if (k !== 'golden')
      assert.ok([...INPUT_FILE_KEYS, ...NOT_INPUT_FILE_KEYS].includes(k), `plan key ${k} is not classified`);
});

test('flags: every problem at once, each located at its flag', () => {
  const bad: K8sFlags = {
    workers: '0',
    namespace: 'Load_Test',
    'run-id': 'Run_1',
    nats: 'yes',
    cpu: '2cores',
    memory: '2Gi:1Gi',
    'node-selector': ['pool'],
    'anti-affinity': 'sometimes',
    ttl: '10',
    deadline: '500ms',
    secret: 'Bad Name',
  };
  const err = (() => {
    try {
      k8sOptionsFromFlags(bad, 'p.yaml', '0.1.0');
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof PreflightError && err.code === 'E_ARGS' && err.exitCode === 2);
  const paths = err.problems.map((p) => p.path);
  assert.deepEqual(paths, [
    '--workers',
    '--namespace',
    '--run-id',
    '--nats',
    '--secret',
    '--cpu',
    '--memory',
    '--node-selector[1]',
    '--anti-affinity',
    '--ttl',
    '--deadline',
  ]);
  assert.ok(err.problems.every((p) => p.file === '<args>'));
  assert.throws(() => k8sOptionsFromFlags({}, 'p.yaml', '0.1.0'), /invalid k8s option/);
  assert.throws(
    () => k8sOptionsFromFlags({ workers: '2', nats: 'deploy', 'nats-url': 'nats://x:4222' }, 'p.yaml', '0.1.0'),
    (e: PreflightError) => e.problems[0].message === '--nats deploy and --nats-url are exclusive',
  );
  const ok = k8sOptionsFromFlags(
    { workers: '3', cpu: '500m:2', memory: '512Mi', deadline: '1h30m' },
    'My Plan.yaml',
    '0.1.0',
  );
  assert.equal(ok.deadlineSeconds, 5400);
  assert.deepEqual(ok.resources, {
    cpu: { request: '500m', limit: '2' },
    memory: { request: '512Mi', limit: '512Mi' },
  });
  assert.match(ok.runId, /^my-plan-[0-9a-z]{5}$/);
  assert.equal(ok.image, 'preflight:0.1.0');
});

test('--out DIR: one file per object in apply order; rewriting replaces the previous run’s files', async () => {
  const { plan } = project();
  const out = tmp();
  const first = writeManifests(
    out,
    (await k8sManifests(plan, options({ transport: { kind: 'nats-deploy' } }), ENV)).objects,
  );
  assert.deepEqual(
    first.map((f) => path.basename(f)),
    [
      '00-configmap-preflight-smoke-1-plan.yaml',
      '01-deployment-preflight-smoke-1-nats.yaml',
      '02-service-preflight-smoke-1-nats.yaml',
      '03-job-preflight-smoke-1-coordinator.yaml',
      '04-job-preflight-smoke-1-worker.yaml',
    ],
  );
  writeManifests(
    out,
    (await k8sManifests(plan, options({ transport: { kind: 'nats-url', url: 'nats://n:4222' } }), ENV)).objects,
  );
  assert.equal(
    fs.readdirSync(out).filter((f) => f.includes('nats')).length,
    0,
    'no stale NATS manifest is left to apply',
  );
});

/** Runs the coordinator's wrapper with a stand-in `preflight` on PATH (a real /bin/sh). */
function wrapper(fake: string, signalAfterMs?: number): Promise<{ code: number | null; stdout: string }> {
  const bin = tmp();
  const results = tmp();
  write(path.join(bin, 'preflight'), `#!/bin/sh\n${fake}\n`);
  fs.chmodSync(path.join(bin, 'preflight'), 0o755);
  return new Promise((resolve) => {
    const child = spawn(
      '/bin/sh',
      ['-c', COORDINATOR_WRAPPER, 'preflight', 'coordinator', 'plan.yaml', '--out', results],
      {
        env: { PATH: `${bin}:/usr/bin:/bin`, PREFLIGHT_RESULTS_DIR: results },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const sig = signalAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGTERM'), signalAfterMs);
    child.on('close', (code) => {
      clearTimeout(kill);
      clearTimeout(sig);
      resolve({ code, stdout });
    });
  });
}

test('coordinator wrapper: the exit code is preflight’s, summary.json is printed to the log, SIGTERM reaches preflight', {
  skip: fs.existsSync('/bin/sh') ? false : 'no /bin/sh',
}, async () => {
  // Arguments pass through unchanged; exit 3 (thresholds failed) stays 3.
  const failed = await wrapper('echo "args: $*"; printf \'{"verdict":"fail"}\' > "$4/summary.json"; exit 3');
  assert.equal(failed.code, 3);
  assert.match(failed.stdout, /args: coordinator plan\.yaml --out \//);
  assert.match(failed.stdout, /BEGIN preflight summary\.json -----\n\{"verdict":"fail"\}\n----- END/);
  const crashed = await wrapper('exit 1');
  assert.equal(crashed.code, 1);
  assert.ok(!crashed.stdout.includes('BEGIN'), 'no summary, no markers');
  // Kubernetes stops a pod with SIGTERM to PID 1 (the shell): preflight must get it and its exit code stands.
  const stopped = await wrapper(
    "trap 'echo got-term; exit 130' TERM; echo started; i=0; while [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done; exit 0",
    1500,
  );
  assert.match(stopped.stdout, /got-term/);
  assert.equal(stopped.code, 130);
});
