/**
 * The import rule of docs/ARCHITECTURE.md, checked on every src/**\/*.ts: which folder may import
 * which (the table is ALLOWED_IMPORTS in test/helpers/source-rules.ts), nothing under src/ reaches
 * into test/, bench/ or scripts/, no shipped module imports a test-only one (the published
 * package leaves those out, so such an import would break it), and every shipped module is
 * reachable from an entry point (else it is dead code or test support that would be published).
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
  assert.deepEqual(
    missing,
    [],
    'new src/ folders need a row in ALLOWED_IMPORTS (test/helpers/source-rules.ts) and a line in docs/ARCHITECTURE.md',
  );
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
    .map(
      (e) =>
        `${where(e)}: ${folderOf(e.file)} may import only [${(ALLOWED_IMPORTS[folderOf(e.file)] ?? []).join(', ')}]`,
    );
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

test('every shipped module is reachable from an entry point', () => {
  // Entries: the CLI, the library root, the standalone server, the training script, and each
  // folder's index.ts (its public API). A module no entry reaches is dead code, or test support
  // whose name does not say so (and so would be published).
  const entries = ['src/index.ts', 'src/cli/main.ts', 'src/server/main.ts', 'scripts/train-model.ts'];
  entries.push(
    ...sourceFiles()
      .filter((f) => /^[^/]+\/index\.ts$/.test(f))
      .map((f) => `src/${f}`),
  );
  const reached = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (reached.has(file)) continue;
    reached.add(file);
    for (const ref of scanImports(fs.readFileSync(path.join(root, file), 'utf8'))) {
      if (!ref.specifier.startsWith('.')) continue;
      const target = path.posix
        .normalize(path.posix.join(path.posix.dirname(file), ref.specifier))
        .replace(/\.js$/, '.ts');
      if (fs.existsSync(path.join(root, target))) queue.push(target);
    }
  }
  const unreached = sourceFiles()
    .filter((f) => !isTestOnly(f) && !reached.has(`src/${f}`))
    .map((f) => `src/${f}`);
  assert.deepEqual(
    unreached,
    [],
    'no entry point reaches these: if only tests use one, name it test-*.ts or testing.ts (or move it into a testing/ folder) so it is not published; if nothing does, delete it',
  );
});

test('the test-only patterns match test support and nothing the package needs', () => {
  for (const p of [
    'report/html.test.ts',
    'report/html.browser.test.js',
    'protocols/testing/helpers.ts',
    'server/testing.js',
    'report/test-support.d.ts',
    'profiles/test-servers.js.map',
    'report/fixtures/generate-fixtures.js',
    'report/synth-run.js',
  ]) {
    assert.ok(isTestOnly(p), p);
  }
  for (const p of [
    'cli/main.js',
    'server/linear-model.js',
    'run/target-check.js',
    'report/html.js',
    'engine/worker.js',
    'index.d.ts',
  ]) {
    assert.ok(!isTestOnly(p), p);
  }
});
