/**
 * `preflight k8s plan.yaml --workers N [...]`: writes (or applies) the Kubernetes manifests of a
 * scale-out run. All the work is in src/k8s; this parses flags and prints.
 */
import { parseArgs } from 'node:util';
import { formatProblem, PreflightError } from '../core/errors.js';
import { ExitCode } from '../core/exit-codes.js';
import {
  type K8sFlags,
  k8sManifests,
  k8sOptionsFromFlags,
  kubectlApply,
  manifestsYaml,
  names,
  writeManifests,
} from '../k8s/index.js';
import { toolVersion } from '../run/summary.js';
import { paint, useColor } from './format.js';

export async function k8sCommand(argv: string[]): Promise<number> {
  let parsed: { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        workers: { type: 'string', short: 'w' },
        image: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        'run-id': { type: 'string' },
        'nats-url': { type: 'string' },
        nats: { type: 'string' },
        secret: { type: 'string' },
        cpu: { type: 'string' },
        memory: { type: 'string' },
        'node-selector': { type: 'string', multiple: true },
        'anti-affinity': { type: 'string' },
        ttl: { type: 'string' },
        'ready-timeout': { type: 'string' },
        deadline: { type: 'string' },
        'results-pvc': { type: 'string' },
        out: { type: 'string' },
        output: { type: 'string', short: 'o' },
        apply: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new PreflightError('E_ARGS', `${(e as Error).message}. See preflight --help.`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    throw new PreflightError('E_ARGS', 'k8s takes exactly one plan file: preflight k8s <plan.yaml> --workers N');
  if (values.output !== undefined && values.output !== 'yaml')
    throw new PreflightError('E_ARGS', `-o takes yaml, got "${values.output}"`, {
      problems: [
        {
          file: '<args>',
          path: '-o',
          message: 'the manifests are YAML',
          hint: 'use --out DIR for one file per object',
        },
      ],
    });
  const options = k8sOptionsFromFlags(values as K8sFlags, positionals[0], toolVersion());
  const bundle = await k8sManifests(positionals[0], options);
  const err = process.stderr;
  const c = paint(useColor(err));
  for (const w of bundle.warnings) err.write(`${c.yellow('warning')}: ${formatProblem(w)}\n`);
  const yaml = manifestsYaml(bundle.objects);
  const toStdout = values.output === 'yaml' || (values.out === undefined && !values.apply);
  if (toStdout) process.stdout.write(yaml);
  if (values.out !== undefined) {
    const files = writeManifests(values.out as string, bundle.objects);
    err.write(`wrote ${files.length} manifests to ${values.out}\n`);
  }
  const n = names(bundle.runId);
  const nsFlag = options.namespace !== undefined ? ` -n ${options.namespace}` : '';
  err.write(
    c.dim(
      `run ${bundle.runId}: ${options.workers} worker(s), ConfigMap ${(bundle.configMapBytes / 1024).toFixed(1)} KiB, plan at ${bundle.planPathInPod}\n` +
        `  watch:    kubectl wait${nsFlag} --for=condition=complete job/${n.coordinator} --timeout=-1s   (a failed verdict: condition=failed; docs/kubernetes.md)\n` +
        `  verdict:  kubectl logs${nsFlag} job/${n.coordinator}\n` +
        `  clean up: kubectl delete${nsFlag} job,deployment,service,configmap -l preflight/run-id=${bundle.runId}\n`,
    ),
  );
  if (values.apply) {
    const code = await kubectlApply(yaml);
    if (code !== 0)
      throw new PreflightError('E_ARGS', `kubectl apply failed (exit ${code})`, {
        problems: [
          {
            message: 'see kubectl’s message above',
            hint: 'check the context and namespace (kubectl config current-context)',
          },
        ],
      });
  }
  return ExitCode.Passed;
}
