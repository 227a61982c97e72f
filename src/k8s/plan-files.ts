/**
 * What a pod needs to run a plan: the plan file itself, every input file it references (data,
 * prompts, traces, golden files, CA certificates, files named in data rows) and the `${VAR}`s it
 * reads from the environment. Read from the plan *as written* (the YAML document), because the
 * resolved plan no longer says whether a path was written relative or absolute, and drops CA paths.
 *
 * Rule (docs/kubernetes.md): a path written relative to the plan is packed into the ConfigMap and
 * mounted so it resolves in the pod as it does here; a path written absolute is taken to be inside
 * the image (or a volume the user mounts) and is not packed — the way to ship data over 1 MiB.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { PlanError, PreflightError, type Problem } from '../core/errors.js';
import { cellText, loadDataset, resolveDataFile } from '../data/index.js';
import {
  checkPlanFile,
  interpolate,
  type Env,
  type Plan,
  type ScenarioPlan,
  type ScenarioTemplate,
} from '../plan/index.js';

/**
 * Plan keys whose string value is an input file read by a run (every `file:` — data, trace, golden —
 * and `caFile`). The test checks every `*file*` key of the plan's JSON Schema is classified here or
 * in NOT_INPUT_FILE_KEYS, so a new file key cannot be forgotten silently.
 */
export const INPUT_FILE_KEYS: readonly string[] = ['file', 'caFile'];
/** File keys that are not inputs to pack: outputs (`saveGolden`) and files of the local machine (`pidFile`). */
export const NOT_INPUT_FILE_KEYS: readonly string[] = ['saveGolden', 'pidFile'];

/** The value used for an unset `${VAR}` while the plan is checked here (never written anywhere). */
const PLACEHOLDER = 'preflight-k8s-placeholder';

export interface PlanInputFile {
  /** Absolute path here. */
  abs: string;
  /** Where it is referenced: `plan.yaml:12 (scenarios.0.data.file)` or a data row. */
  where: string;
  content: Buffer;
}

export interface PlanVariable {
  name: string;
  /** Every reference has a default (`${VAR:-x}`): the pod may run without it. */
  optional: boolean;
}

export interface PlanFiles {
  /** Absolute path of the plan file here. */
  planFile: string;
  planText: string;
  /** The resolved plan, checked with the environment here (unset variables as placeholders). */
  plan: Plan | undefined;
  /** Files written relative to the plan: packed. */
  files: PlanInputFile[];
  /** Paths written absolute: not packed, expected in the image. */
  external: Array<{ path: string; where: string }>;
  variables: PlanVariable[];
  warnings: Problem[];
}

interface Ref {
  key: string;
  written: string;
  path: string;
  line: number;
}

/** Walks the YAML document: file-valued keys and every `${VAR}` in a scalar. */
function scan(text: string): { refs: Ref[]; others: Ref[]; vars: Map<string, boolean> } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const refs: Ref[] = [];
  const others: Ref[] = [];
  const vars = new Map<string, boolean>(); // name → optional so far
  const noteVars = (s: string) => {
    if (!s.includes('${')) return;
    const seen: string[] = [];
    const recorder = new Proxy({} as Env, {
      get: (_t, k) => {
        if (typeof k === 'string') seen.push(k);
        return undefined;
      },
    });
    const required = new Set(interpolate(s, recorder).missing);
    for (const name of seen) vars.set(name, (vars.get(name) ?? true) && !required.has(name));
  };
  const walk = (node: unknown, path: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const p = path ? `${path}.${key}` : key;
        const v = pair.value;
        if (isScalar(v) && typeof v.value === 'string') {
          const line = v.range ? lc.linePos(v.range[0]).line : 0;
          if (INPUT_FILE_KEYS.includes(key)) refs.push({ key, written: v.value, path: p, line });
          else if (NOT_INPUT_FILE_KEYS.includes(key)) others.push({ key, written: v.value, path: p, line });
        }
        walk(v, p);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, path ? `${path}.${i}` : String(i)));
    } else if (isScalar(node) && typeof node.value === 'string') {
      noteVars(node.value);
    }
  };
  walk(doc.contents as YamlNode | null, '');
  return { refs, others, vars };
}

function readInput(abs: string, where: string): Buffer {
  try {
    return readFileSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new PreflightError('E_PLAN_INVALID', `cannot read ${abs} (${code})`, {
      cause: e,
      problems: [
        { message: `cannot read ${abs} (${code})`, path: where, hint: "paths are relative to the plan file's folder" },
      ],
    });
  }
}

/**
 * Reads a plan and everything a pod needs to run it. Throws PlanError (exit 2) when the plan is
 * invalid; E_PLAN_NOT_FOUND when it is missing.
 */
export async function collectPlanFiles(planPath: string, env: Env = process.env): Promise<PlanFiles> {
  const planFile = resolvePath(planPath);
  const baseDir = dirname(planFile);
  const checked0 = await checkPlanFile(planPath, { env }); // throws E_PLAN_NOT_FOUND for a missing file
  const planText = await readFile(planFile, 'utf8');
  const { refs, others, vars } = scan(planText);
  const variables = [...vars]
    .map(([name, optional]) => ({ name, optional }))
    .sort((a, b) => a.name.localeCompare(b.name));
  // The pod gets the variables from a Secret; here the unset ones are placeholders, so the plan can still be checked.
  const unset = variables.filter((v) => !v.optional && env[v.name] === undefined).map((v) => v.name);
  const checkEnv: Env = { ...env };
  for (const n of unset) checkEnv[n] = PLACEHOLDER;
  const checked = unset.length > 0 ? await checkPlanFile(planPath, { env: checkEnv }) : checked0;
  const warnings: Problem[] = [...checked.warnings];
  const external: PlanFiles['external'] = [];
  const absRefs = new Set<number>();
  for (const r of refs) {
    const value = interpolate(r.written, checkEnv).value;
    if (isAbsolute(value)) {
      absRefs.add(r.line);
      external.push({ path: value, where: `${planPath}:${r.line} (${r.path})` });
    }
  }
  // An absolute path is the image's: it need not exist here, so "not found" there is no problem.
  const problems = checked.problems.filter(
    (p) => !(p.line !== undefined && absRefs.has(p.line) && / not found$/.test(p.message)),
  );
  if (problems.length > 0) {
    if (unset.length > 0)
      problems.push({
        file: planPath,
        message: `${unset.join(', ')} ${unset.length === 1 ? 'is' : 'are'} not set here and was checked with a placeholder value`,
        hint: 'the pods read them from the Secret (--secret); set them here to representative values to check the plan',
      });
    throw new PlanError(problems);
  }
  const plan = checked.ok ? checked.plan : undefined;
  const files = new Map<string, PlanInputFile>();
  const add = (abs: string, where: string) => {
    if (!files.has(abs)) files.set(abs, { abs, where, content: readInput(abs, where) });
  };
  for (const r of refs) {
    const value = interpolate(r.written, checkEnv).value;
    if (!isAbsolute(value)) add(resolvePath(baseDir, value), `${planPath}:${r.line} (${r.path})`);
  }
  // TorchServe raw payloads with `encoding: file`: each data row names a file to send.
  if (plan) {
    const scenarios: Array<ScenarioPlan | ScenarioTemplate> = [
      ...plan.scenarios,
      ...(plan.profile ? [plan.profile.template] : []),
    ];
    for (const sc of scenarios) {
      const ts = sc.torchserve;
      if (!(ts?.payload === 'raw' && ts.encoding === 'file' && ts.column && sc.data)) continue;
      const ds = await loadDataset(sc.data.file, sc.data.format);
      const col = ds.columns.get(ts.column);
      if (!col) continue; // the worker reports the missing column, located
      for (let r = 0; r < ds.rowCount; r++) {
        const text = cellText(col, r);
        const where = `${ds.file}:${ds.line(r) ?? r + 1} (column ${ts.column})`;
        if (isAbsolute(text)) external.push({ path: text, where });
        else add(resolveDataFile(text, plan.source), where);
      }
    }
  }
  for (const o of others)
    warnings.push({
      file: planPath,
      line: o.line,
      path: o.path,
      message:
        o.key === 'saveGolden'
          ? 'saveGolden writes its file inside each pod, where it is lost (and the plan folder is read-only)'
          : 'pidFile names a process of the machine that runs the plan: in Kubernetes, a process in the pod',
      hint:
        o.key === 'saveGolden'
          ? 'record golden outputs with `preflight run` here, then ship them with `golden:`'
          : 'use a fault or monitor source the pods can reach instead',
    });
  for (const e of external)
    warnings.push({
      message: `${e.path} is an absolute path: not packed into the ConfigMap, it must exist in the image (or a mounted volume)`,
      path: e.where,
      hint: 'write it relative to the plan file to ship it with the plan (up to 1 MiB in all)',
    });
  return { planFile, planText, plan, files: [...files.values()], external, variables, warnings };
}
