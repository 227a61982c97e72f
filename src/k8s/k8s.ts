/**
 * The library entry of `preflight k8s`: plan → manifests (objects, YAML, files), and the thin
 * `kubectl apply -f -` the `--apply` flag uses.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { PreflightError } from '../core/errors.js';
import type { Env } from '../plan/index.js';
import { buildManifests, type K8sBundle, type K8sObject } from './manifests.js';
import type { K8sOptions } from './options.js';
import { collectPlanFiles } from './plan-files.js';

/** Reads the plan and its files and builds the run's objects. Throws PlanError / PreflightError (exit 2). */
export async function k8sManifests(planPath: string, options: K8sOptions, env: Env = process.env): Promise<K8sBundle> {
  return buildManifests(await collectPlanFiles(planPath, env), options);
}

/** One multi-document YAML stream, in apply order. */
export function manifestsYaml(objects: readonly K8sObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

/**
 * One file per object in `dir` (`00-configmap-<name>.yaml` …), numbered in apply order, so
 * `kubectl apply -f DIR` applies them in that order. Earlier manifests of the folder are replaced.
 */
export function writeManifests(dir: string, objects: readonly K8sObject[]): string[] {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (/^\d\d-[a-z]+-preflight-.*\.yaml$/.test(f)) rmSync(join(dir, f));
  return objects.map((o, i) => {
    const file = join(dir, `${String(i).padStart(2, '0')}-${o.kind.toLowerCase()}-${o.metadata.name}.yaml`);
    writeFileSync(file, manifestsYaml([o]));
    return file;
  });
}

/** `kubectl apply -f -` with the YAML on stdin; kubectl's output goes to ours. Resolves kubectl's exit code. */
export function kubectlApply(yaml: string, kubectl = 'kubectl'): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(kubectl, ['apply', '-f', '-'], { stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new PreflightError('E_ARGS', `--apply needs ${kubectl}, which is not on PATH`, {
              problems: [
                {
                  file: '<args>',
                  path: '--apply',
                  message: `${kubectl} not found`,
                  hint: 'install kubectl, or write the manifests (--out DIR or -o yaml) and apply them where kubectl is',
                },
              ],
            })
          : e,
      ),
    );
    child.on('close', (code) => resolve(code ?? 1));
    child.stdin.on('error', () => {}); // kubectl exiting early: its exit code says why
    child.stdin.end(yaml);
  });
}
