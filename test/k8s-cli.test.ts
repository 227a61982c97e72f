/**
 * `preflight k8s` as a user runs it: the shipped demo plan → YAML on stdout that parses into the
 * run's objects; files with --out; bad flags and a missing kubectl are exit 2 with located messages.
 * (No cluster here: `kubectl apply --dry-run=server` is documented in docs/kubernetes.md.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { preflight, root } from './helpers/cli.js';
import { schemaErrors } from '../src/k8s/test-schema.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preflight-k8s-cli-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const demo = path.join(root, 'examples', 'demo.yaml');

test('k8s -o yaml: the demo plan as manifests on stdout, valid against the API types; hints on stderr', async () => {
  const r = await preflight(['k8s', demo, '--workers', '3', '--run-id', 'demo-1', '-o', 'yaml', '--nats', 'deploy']);
  assert.equal(r.code, 0, r.stderr);
  const objs = parseAllDocuments(r.stdout).map((d) => d.toJSON());
  assert.deepEqual(
    objs.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'ConfigMap/preflight-demo-1-plan',
      'Deployment/preflight-demo-1-nats',
      'Service/preflight-demo-1-nats',
      'Job/preflight-demo-1-coordinator',
      'Job/preflight-demo-1-worker',
    ],
  );
  for (const o of objs) assert.deepEqual(schemaErrors(o), []);
  assert.ok(objs[0].data['demo.yaml'].includes('scenarios:'));
  assert.ok(objs[0].data['data_digits-test.csv'].startsWith('p0,p1'));
  assert.match(r.stderr, /run demo-1: 3 worker\(s\), ConfigMap \d+\.\d KiB/);
  assert.match(r.stderr, /kubectl wait --for=condition=complete job\/preflight-demo-1-coordinator/);
});

test('k8s --out DIR writes one file per object; nothing on stdout', async () => {
  const out = path.join(dir, 'manifests');
  const r = await preflight(['k8s', demo, '-w', '2', '--run-id', 'demo-2', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  // ConfigMap, NATS Deployment and Service (the default transport), coordinator and worker Jobs.
  assert.equal(fs.readdirSync(out).length, 5);
  assert.match(r.stderr, /wrote 5 manifests to /);
});

test('k8s: bad flags are exit 2, every one located; no plan argument is exit 2', async () => {
  const r = await preflight(['k8s', demo, '--workers', 'many', '--cpu', 'lots', '--run-id', 'UPPER']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error \[E_ARGS\] invalid k8s options/);
  assert.match(r.stderr, /<args>: --workers must be an integer 1–1000, got "many" \(--workers\)/);
  assert.match(r.stderr, /--cpu "lots" is not a Kubernetes quantity/);
  assert.match(r.stderr, /--run-id "UPPER" is not usable in resource names/);
  assert.equal((await preflight(['k8s', '--workers', '2'])).code, 2);
  assert.equal((await preflight(['k8s', demo, '--workers', '2', '-o', 'json'])).code, 2);
});

test('k8s --apply without kubectl on PATH: exit 2 and what to do instead', async () => {
  const r = await preflight(['k8s', demo, '--workers', '2', '--run-id', 'demo-3', '--apply'], {
    env: { PATH: path.join(dir, 'no-bin') },
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--apply needs kubectl, which is not on PATH/);
  assert.match(r.stderr, /hint: install kubectl, or write the manifests \(--out DIR or -o yaml\)/);
});
