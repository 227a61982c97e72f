/**
 * Test support: checks a Kubernetes object against the API's own types, as generated from the
 * OpenAPI spec into @kubernetes/client-node (devDependency): every field known to its model's
 * `attributeTypeMap` (an unknown field is what `kubectl apply` rejects, or silently drops), of the
 * right JSON type (int32/int64 integers, IntOrString, maps, arrays), and every field the model's
 * declaration marks required present. The same package's ObjectSerializer must give the object
 * back unchanged (it drops what it does not know). No cluster needed.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';

interface Attr {
  name: string;
  baseName: string;
  type: string;
  format: string;
}
type Model = { getAttributeTypeMap(): Attr[] };

/** The model of each (apiVersion, kind) Preflight generates. */
export const KIND_MODELS: Readonly<Record<string, string>> = {
  'v1/ConfigMap': 'V1ConfigMap',
  'v1/Service': 'V1Service',
  'v1/Secret': 'V1Secret',
  'v1/PersistentVolumeClaim': 'V1PersistentVolumeClaim',
  'v1/Pod': 'V1Pod',
  'batch/v1/Job': 'V1Job',
  'apps/v1/Deployment': 'V1Deployment',
};

const modelsDir = join(dirname(fileURLToPath(import.meta.resolve('@kubernetes/client-node'))), 'gen', 'models');
const requiredCache = new Map<string, Set<string>>();

/** Fields the generated declaration does not mark optional (`'template': V1PodTemplateSpec;`). */
function requiredFields(model: string): Set<string> {
  let r = requiredCache.get(model);
  if (!r) {
    const dts = readFileSync(join(modelsDir, `${model}.d.ts`), 'utf8');
    r = new Set([...dts.matchAll(/^\s+'([^']+)':\s/gm)].map((m) => m[1]));
    requiredCache.set(model, r);
  }
  return r;
}

function modelOf(type: string): Model | undefined {
  const m = (k8s as unknown as Record<string, unknown>)[type];
  return typeof m === 'function' && 'getAttributeTypeMap' in m ? (m as unknown as Model) : undefined;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function check(value: unknown, type: string, format: string, path: string, errors: string[]): void {
  const bad = (what: string) => errors.push(`${path}: ${what}`);
  if (type === 'any' || type === 'object') return;
  if (type === 'string') {
    if (typeof value !== 'string') bad(`expected a string, got ${JSON.stringify(value)}`);
    return;
  }
  if (type === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) bad(`expected a number, got ${JSON.stringify(value)}`);
    else if ((format === 'int32' || format === 'int64') && !Number.isInteger(value))
      bad(`expected an integer, got ${value}`);
    else if (format === 'int32' && Math.abs(value) > 2 ** 31 - 1) bad(`${value} does not fit int32`);
    return;
  }
  if (type === 'boolean') {
    if (typeof value !== 'boolean') bad(`expected a boolean, got ${JSON.stringify(value)}`);
    return;
  }
  if (type === 'Date') {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) bad('expected a date-time string');
    return;
  }
  if (type === 'IntOrString') {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))))
      bad(`expected an integer or a string, got ${JSON.stringify(value)}`);
    return;
  }
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (!Array.isArray(value)) return void bad('expected an array');
    value.forEach((v, i) => check(v, arr[1], '', `${path}[${i}]`, errors));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (!isPlain(value)) return void bad('expected a map');
    for (const [k, v] of Object.entries(value)) check(v, map[1], '', `${path}.${k}`, errors);
    return;
  }
  const model = modelOf(type);
  if (!model) return void bad(`no model for type ${type} (validator incomplete)`);
  if (!isPlain(value)) return void bad(`expected an object (${type})`);
  const attrs = model.getAttributeTypeMap();
  const byBase = new Map(attrs.map((a) => [a.baseName, a]));
  for (const [k, v] of Object.entries(value)) {
    const a = byBase.get(k);
    if (!a) bad(`unknown field "${k}" in ${type}`);
    else if (v === undefined || v === null) bad(`field "${k}" is ${v}`);
    else check(v, a.type, a.format, `${path}.${k}`, errors);
  }
  for (const r of requiredFields(type)) {
    const a = attrs.find((x) => x.name === r);
    if (a && !(a.baseName in value)) bad(`missing required field "${a.baseName}" of ${type}`);
  }
}

/** Every problem of one object against its kind's model; [] when valid. */
export function schemaErrors(obj: Record<string, unknown>): string[] {
  const kind = `${String(obj['apiVersion'])}/${String(obj['kind'])}`;
  const type = KIND_MODELS[kind];
  if (!type) return [`${kind}: not a kind this validator knows`];
  const errors: string[] = [];
  check(obj, type, '', String((obj['metadata'] as { name?: string } | undefined)?.name ?? kind), errors);
  return errors;
}

/** The object deserialised into the client's classes and serialised again (unknown fields dropped). */
export function roundTrip(obj: Record<string, unknown>): unknown {
  const type = KIND_MODELS[`${String(obj['apiVersion'])}/${String(obj['kind'])}`];
  return JSON.parse(JSON.stringify(ObjectSerializer.serialize(ObjectSerializer.deserialize(obj, type), type)));
}

export function roundTrips(obj: Record<string, unknown>): boolean {
  return isDeepStrictEqual(roundTrip(obj), JSON.parse(JSON.stringify(obj)));
}
