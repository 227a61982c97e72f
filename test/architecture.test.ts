/**
 * The import rule of docs/ARCHITECTURE.md, checked on every src/**\/*.ts: which folder may import
 * which (the table is ALLOWED_IMPORTS in test/helpers/source-rules.ts), nothing under src/ reaches
 * into test/, bench/ or scripts/, and no shipped module imports a test-only one (the published
 * package leaves those out, so such an import would break it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALLOWED_IMPORTS, blankComments, isTestOnly, scanImports } from './helpers/source-rules.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const srcDir = path.join(root, 'src');

/** Paths relative to src/, with '/' separators. */
function sourceFiles(dir = srcDir, found: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, found);
    else if (e.name.endsWith('.ts')) found.push(path.relative(srcDir, p).split(path.sep).join('/'));
  }
  return found.sort();
}

/** src/x/… → 'x'; src/index.ts → 'index'. */
function folderOf(pathUnderSrc: string): string {
  const [first, ...rest] = pathUnderSrc.split('/');
  return rest.length === 0 ? first.replace(/\.ts$/, '') : first;
}

interface Edge {
  file: string;
  line: number;
  specifier: string;
  /** The target relative to src/ (may start with '../' when it leaves src/). */
  target: string;
}

function relativeImports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles()) {
    const text = fs.readFileSync(path.join(srcDir, file), 'utf8');
    for (const ref of scanImports(text)) {
      if (!ref.specifier.startsWith('.')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), ref.specifier));
      edges.push({ file, line: ref.line, specifier: ref.specifier, target });
    }
  }
  return edges;
}

const where = (e: Edge) => `src/${e.file}:${e.line} imports '${e.specifier}'`;

test('the scanner sees every kind of import and ignores comments', () => {
  const source = [
    "import { a } from './a.js';",
    "import type { B } from '../b/index.js';",
    'import {',
    '  c,',
    '  type D,',
    "} from '../c/c.js';",
    "export { e } from './e.js';",
    "export * from './f.js';",
    "import './side-effect.js';",
    "const g = await import('../g/index.js');",
    "type H = typeof import('../h/index.js');",
    "new Worker(new URL('./worker.js', import.meta.url));",
    "// import { x } from '../commented/out.js';",
    "/* import('../block/comment.js') */",
    "const url = 'http://example.test/'; const re = /\\/\\/ not a comment/; const t = `${'//'}` + `x${1}`;",
    "const s = '/*';",
    "import { last } from '../last/index.js';",
  ].join('\n');
  assert.deepEqual(
    scanImports(source).map((r) => `${r.line} ${r.kind} ${r.specifier}`),
    [
      '1 static ./a.js',
      '2 static ../b/index.js',
      '6 static ../c/c.js',
      '7 static ./e.js',
      '8 static ./f.js',
      '9 static ./side-effect.js',
      '10 dynamic ../g/index.js',
      '11 dynamic ../h/index.js',
      '12 url ./worker.js',
      '17 static ../last/index.js',
    ],
  );
  assert.equal(blankComments(source).split('\n').length, source.split('\n').length, 'lines are kept');
});

test('the allowed-imports table covers every src/ folder and is acyclic', () => {
  const folders = new Set(sourceFiles().map(folderOf));
  const missing = [...folders].filter((f) => !(f in ALLOWED_IMPORTS));
  assert.deepEqual(missing, [], 'new src/ folders need a row in ALLOWED_IMPORTS (test/helpers/source-rules.ts) and a line in docs/ARCHITECTURE.md');
  for (const [from, tos] of Object.entries(ALLOWED_IMPORTS)) {
    for (const to of tos) {
      assert.ok(to in ALLOWED_IMPORTS, `${from} → ${to}: unknown folder`);
      assert.ok(to !== 'cli' && to !== 'index', `${from} → ${to}: nothing imports the CLI or the package root`);
    }
  }
  // Depth-first search for a cycle.
  const state = new Map<string, 'open' | 'done'>();
  const visit = (f: string, trail: string[]) => {
    if (state.get(f) === 'done') return;
    assert.notEqual(state.get(f), 'open', `cycle: ${[...trail, f].join(' → ')}`);
    state.set(f, 'open');
    for (const to of ALLOWED_IMPORTS[f]) visit(to, [...trail, f]);
    state.set(f, 'done');
  };
  for (const f of Object.keys(ALLOWED_IMPORTS)) visit(f, []);
});

test('src/ imports follow the allowed directions', () => {
  const edges = relativeImports();
  // Guards against a scanner that silently finds nothing.
  assert.ok(edges.length > 300, `only ${edges.length} relative imports found`);
  const forbidden = edges
    .filter((e) => !e.target.startsWith('../'))
    .filter((e) => {
      const from = folderOf(e.file);
      const to = folderOf(e.target);
      return from !== to && !(ALLOWED_IMPORTS[from] ?? []).includes(to);
    })
    .map((e) => `${where(e)}: ${folderOf(e.file)} may import only [${(ALLOWED_IMPORTS[folderOf(e.file)] ?? []).join(', ')}]`);
  assert.deepEqual(forbidden, [], `forbidden imports (docs/ARCHITECTURE.md):\n${forbidden.join('\n')}`);
});

test('nothing under src/ imports test/, bench/ or scripts/', () => {
  const outside = relativeImports()
    .filter((e) => e.target.startsWith('../'))
    .map(where);
  assert.deepEqual(outside, []);
});

test('shipped modules do not import test-only ones', () => {
  const bad = relativeImports()
    .filter((e) => !isTestOnly(e.file) && isTestOnly(e.target))
    .map((e) => `${where(e)}: a test-only module, left out of the published package`);
  assert.deepEqual(bad, []);
});

test('the test-only patterns match test support and nothing the package needs', () => {
  for (const p of ['report/html.test.ts', 'report/html.browser.test.js', 'protocols/testing/helpers.ts', 'server/testing.js', 'report/test-support.d.ts', 'profiles/test-servers.js.map', 'report/fixtures/generate-fixtures.js', 'report/synth-run.js']) {
    assert.ok(isTestOnly(p), p);
  }
  for (const p of ['cli/main.js', 'server/linear-model.js', 'run/target-check.js', 'report/html.js', 'engine/worker.js', 'index.d.ts']) {
    assert.ok(!isTestOnly(p), p);
  }
});
